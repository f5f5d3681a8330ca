//! Structured logs: with `PFO_LOG_FORMAT=json`, every line of a flow carries the delivery
//! GUID and, once known, the run id; no secret is ever written.

use crate::support::fake_github::{FakeGithub, TEST_APP_ID};
use crate::support::github_app::BAKERY;
use crate::support::process::{command, http_with, serve_logging};
use crate::support::webhooks::signature_of;
use crate::support::{ADMIN_KEY, Engine, TestApp, WEBHOOK_SECRET};
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunStatus};
use pangeo_forge_orchestrator::db::{NewBakery, NewFeedstock, NewRecipeRun};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_log_lines_carry_the_delivery_and_the_run_and_no_secret() {
    let app = TestApp::start(Engine::Sqlite).await;
    let github = FakeGithub::start().await;
    let feedstock = app
        .db()
        .create_feedstock(NewFeedstock {
            spec: "pangeo-forge/gpcp-feedstock".into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    let bakery = app
        .db()
        .create_bakery(NewBakery {
            name: BAKERY.into(),
            region: "r".into(),
            description: "d".into(),
        })
        .await
        .expect("bakery");
    let run = app
        .db()
        .create_recipe_run(NewRecipeRun {
            recipe_id: "gpcp".into(),
            bakery_id: bakery.id,
            feedstock_id: feedstock.id,
            head_sha: "0".repeat(40),
            version: String::new(),
            started_at: None,
            completed_at: None,
            conclusion: None,
            status: RunStatus::InProgress,
            is_test: true,
            dataset_type: None,
            dataset_public_url: None,
            job_name: None,
            job_id: None,
            deployment_id: None,
            environment_url: None,
            error_trace: None,
        })
        .await
        .expect("run");

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
    let body = format!(
        "action=completed&recipe_run_id={}&conclusion=failure",
        run.id
    );
    let address = server.address.clone();
    let signature = signature_of(body.as_bytes());
    let (status, reply) = tokio::task::spawn_blocking(move || {
        http_with(
            &address,
            "POST",
            "/github/hooks/",
            &body,
            "application/x-www-form-urlencoded",
            &[
                ("X-GitHub-Event", "dataflow"),
                ("X-Hub-Signature-256", &signature),
            ],
        )
    })
    .await
    .expect("post");
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
