//! Structured logs: with `PFO_LOG_FORMAT=json`, every line of a flow carries the delivery
//! GUID and, once known, the run id; no secret is ever written.

use crate::support::fake_github::{FakeGithub, TEST_APP_ID};
use crate::support::github_app::{post_status_to, register_feedstock_and_bakery, run_in_progress};
use crate::support::process::{command, serve_logging};
use crate::support::{ADMIN_KEY, Engine, TestApp, WEBHOOK_SECRET};
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_log_lines_carry_the_delivery_and_the_run_and_no_secret() {
    let app = TestApp::start(Engine::Sqlite).await;
    let github = FakeGithub::start().await;
    let (feedstock, bakery) =
        register_feedstock_and_bakery(&app, "pangeo-forge/gpcp-feedstock").await;
    let run = run_in_progress(&app, &feedstock, &bakery, &"0".repeat(40)).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github-app-test-key.pem");
    let mut cmd = command(dir.path());
    cmd.env("DATABASE_URL", &app.test_db.url)
        .env("PFO_LOG_FORMAT", "json")
        .env("GITHUB_APP_ID", TEST_APP_ID.to_string())
        .env("GITHUB_APP_PRIVATE_KEY_PATH", key)
        .env("GITHUB_API_URL", github.url())
        .env("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("PFO_ADMIN_API_KEYS", ADMIN_KEY);
    let (server, log) = serve_logging(cmd);
    let (status, reply) = post_status_to(&server.address, run.id, "failure").await;
    assert_eq!(status, 202, "{reply}");
    let guid = format!("dataflow-{}-failure", run.id);
    app.wait_for_delivery(&guid, DeliveryState::Done, Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(server);

    let lines = log.lock().expect("log").clone();
    let flow_lines: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["name"] == "delivery")
        .collect();
    assert!(
        !flow_lines.is_empty(),
        "no flow log lines in:\n{}",
        lines.join("\n")
    );
    for line in &flow_lines {
        assert_eq!(line["span"]["delivery"], guid.as_str(), "{line}");
    }
    let done = flow_lines
        .iter()
        .find(|v| v["fields"]["message"] == "delivery done")
        .unwrap_or_else(|| panic!("no `delivery done` line in:\n{}", lines.join("\n")));
    assert_eq!(done["span"]["run"], run.id, "{done}\n{}", lines.join("\n"));
    for secret in [WEBHOOK_SECRET, ADMIN_KEY] {
        assert!(
            lines.iter().all(|l| !l.contains(secret)),
            "a secret was logged"
        );
    }
    app.finish().await;
}
