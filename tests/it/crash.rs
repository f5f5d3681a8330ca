//! `kill -9` in the middle of a flow, then a restart: the accepted delivery is processed
//! exactly once, and nothing GitHub already created is created again.

use crate::both_engines;
use crate::support::fake_github::{FakeGithub, Fault, TEST_APP_ID};
use crate::support::github_app::{BAKERY, meta_yaml};
use crate::support::process::{Server, command, http_with, serve};
use crate::support::webhooks::{fixture, with_repository};
use crate::support::{TestApp, WEBHOOK_SECRET};
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::db::listing::{Page, RecipeRunFilter};
use pangeo_forge_orchestrator::db::{NewBakery, NewFeedstock};
use pangeo_forge_orchestrator::webhooks::signature::sign;
use std::path::Path;
use std::time::Duration;

const FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";

fn server(url: &str, github: &FakeGithub, dir: &Path) -> Server {
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github-app-test-key.pem");
    let mut cmd = command(dir);
    cmd.env("DATABASE_URL", url)
        .env("GITHUB_APP_ID", TEST_APP_ID.to_string())
        .env("GITHUB_APP_PRIVATE_KEY_PATH", key)
        .env("GITHUB_API_URL", github.url())
        .env("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("PFO_CLAIM_LEASE_SECS", "3");
    serve(cmd).0
}

async fn killed_mid_flow_then_restarted_finishes_once(app: TestApp) {
    let github = FakeGithub::start().await;
    let feedstock = app
        .db()
        .create_feedstock(NewFeedstock {
            spec: FEEDSTOCK.into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    app.db()
        .create_bakery(NewBakery {
            name: BAKERY.into(),
            region: "r".into(),
            description: "d".into(),
        })
        .await
        .expect("bakery");
    let payload = with_repository(fixture("pull_request/opened.payload.json"), FEEDSTOCK);
    let sha = payload["pull_request"]["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_owned();
    github.set_file(FEEDSTOCK, "feedstock/meta.yaml", &sha, meta_yaml(&["gpcp"]));
    // Completing the check run hangs: the process is killed while it waits.
    github.fail_next(
        "PATCH",
        &format!("/repos/{FEEDSTOCK}/check-runs"),
        1,
        Fault::Delay(Duration::from_secs(30)),
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.test_db.url.clone();
    let mut first = server(&url, &github, dir.path());
    let body = serde_json::to_string(&payload).expect("json");
    let address = first.address.clone();
    let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    let (status, reply) = tokio::task::spawn_blocking(move || {
        http_with(
            &address,
            "POST",
            "/github/hooks/",
            &body,
            "application/json",
            &[
                ("X-GitHub-Event", "pull_request"),
                ("X-GitHub-Delivery", "guid-crash"),
                ("X-Hub-Signature-256", &signature),
            ],
        )
    })
    .await
    .expect("post");
    assert_eq!(status, 202, "{reply}");

    // Wait until the flow has created the check run and the runs, then kill -9.
    let filter = RecipeRunFilter {
        feedstock_id: Some(feedstock.id),
        ..Default::default()
    };
    let page = Page {
        offset: 0,
        limit: 10,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app
        .db()
        .list_recipe_runs(&filter, Default::default(), page)
        .await
        .expect("runs")
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flow never got going"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reaped");
    assert_eq!(
        app.delivery("guid-crash").await.state,
        DeliveryState::Processing,
        "the dead process still holds the claim"
    );

    // The restarted server takes the delivery over once the dead claim's lease runs out.
    let second = server(&url, &github, dir.path());
    let row = app
        .wait_for_delivery("guid-crash", DeliveryState::Done, Duration::from_secs(30))
        .await;
    drop(second);
    assert_eq!(
        row.attempts, 2,
        "claimed by the killed process, then once more"
    );
    let created: Vec<_> = github
        .calls_to("POST", &format!("/repos/{FEEDSTOCK}/check-runs"))
        .into_iter()
        .filter(|c| c.status < 400)
        .collect();
    assert_eq!(created.len(), 1, "the check run was created once");
    let checks = github.check_runs();
    assert_eq!(checks[0].conclusion.as_deref(), Some("success"));
    let runs = app
        .db()
        .list_recipe_runs(&filter, Default::default(), page)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 1, "the runs were created once");
}

both_engines!(killed_mid_flow_then_restarted_finishes_once);

/// SIGTERM while a flow runs: the server stops taking work, finishes the flow, exits 0.
async fn sigterm_finishes_the_flow_in_progress_then_exits(app: TestApp) {
    let github = FakeGithub::start().await;
    let feedstock = app
        .db()
        .create_feedstock(NewFeedstock {
            spec: FEEDSTOCK.into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    app.db()
        .create_bakery(NewBakery {
            name: BAKERY.into(),
            region: "r".into(),
            description: "d".into(),
        })
        .await
        .expect("bakery");
    let payload = with_repository(fixture("pull_request/opened.payload.json"), FEEDSTOCK);
    let sha = payload["pull_request"]["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_owned();
    github.set_file(FEEDSTOCK, "feedstock/meta.yaml", &sha, meta_yaml(&["gpcp"]));
    github.fail_next(
        "PATCH",
        &format!("/repos/{FEEDSTOCK}/check-runs"),
        1,
        Fault::Delay(Duration::from_secs(2)),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = server(&app.test_db.url, &github, dir.path());
    let body = serde_json::to_string(&payload).expect("json");
    let address = server.address.clone();
    let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    let (status, _) = tokio::task::spawn_blocking(move || {
        http_with(
            &address,
            "POST",
            "/github/hooks/",
            &body,
            "application/json",
            &[
                ("X-GitHub-Event", "pull_request"),
                ("X-GitHub-Delivery", "guid-term"),
                ("X-Hub-Signature-256", &signature),
            ],
        )
    })
    .await
    .expect("post");
    assert_eq!(status, 202);
    let filter = RecipeRunFilter {
        feedstock_id: Some(feedstock.id),
        ..Default::default()
    };
    let page = Page {
        offset: 0,
        limit: 10,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app
        .db()
        .list_recipe_runs(&filter, Default::default(), page)
        .await
        .expect("runs")
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flow never got going"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(sent.success());
    let exit = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = server.child.try_wait().expect("wait") {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .expect("wait");
    let exit = exit.expect("the server exits after SIGTERM");
    assert!(exit.success(), "{exit:?}");
    let row = app.delivery("guid-term").await;
    assert_eq!(
        row.state,
        DeliveryState::Done,
        "the flow in progress was finished"
    );
    assert_eq!(row.attempts, 1);
    assert_eq!(
        github.check_runs()[0].conclusion.as_deref(),
        Some("success")
    );
}

both_engines!(sigterm_finishes_the_flow_in_progress_then_exits);
