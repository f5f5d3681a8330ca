//! Stopping the server in the middle of a flow. `kill -9`, then a restart: the accepted
//! delivery is processed exactly once and nothing GitHub already created is created again.
//! SIGTERM: the flow in progress is finished before the process exits.

use crate::both_engines;
use crate::support::TestApp;
use crate::support::fake_github::{FakeGithub, Fault};
use crate::support::github_app::{meta_yaml, post_to, register_feedstock_and_bakery, serve_binary};
use crate::support::webhooks::{fixture, with_repository};
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::db::listing::{Page, RecipeRunFilter};
use serde_json::Value;
use std::time::Duration;

const FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
const LEASE: [(&str, &str); 1] = [("PFO_CLAIM_LEASE_SECS", "3")];

/// A registered feedstock and bakery, meta.yaml in the fake, and completing the check run
/// held up for `delay`; returns the feedstock's run filter and the PR payload.
async fn prepared(app: &TestApp, github: &FakeGithub, delay: Duration) -> (RecipeRunFilter, Value) {
    let (feedstock, _) = register_feedstock_and_bakery(app, FEEDSTOCK).await;
    let payload = with_repository(fixture("pull_request/opened.payload.json"), FEEDSTOCK);
    let sha = payload["pull_request"]["head"]["sha"]
        .as_str()
        .expect("sha");
    github.set_recipe(FEEDSTOCK, "feedstock/meta.yaml", sha, meta_yaml(&["gpcp"]));
    github.fail_next(
        "PATCH",
        &format!("/repos/{FEEDSTOCK}/check-runs"),
        1,
        Fault::Delay(delay),
    );
    let filter = RecipeRunFilter {
        feedstock_id: Some(feedstock.id),
        ..Default::default()
    };
    (filter, payload)
}

const PAGE: Page = Page {
    offset: 0,
    limit: 10,
};

/// Waits until the flow has created its runs (the check run exists by then).
async fn runs_created(app: &TestApp, filter: &RecipeRunFilter) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app
        .db()
        .list_recipe_runs(filter, Default::default(), PAGE)
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
}

async fn killed_mid_flow_then_restarted_finishes_once(app: TestApp) {
    let github = FakeGithub::start().await;
    // Completing the check run hangs: the process is killed while it waits.
    let (filter, payload) = prepared(&app, &github, Duration::from_secs(30)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.test_db.url.clone();
    let mut first = serve_binary(&url, &github, dir.path(), &LEASE);
    let (status, reply) = post_to(&first.address, "pull_request", "guid-crash", &payload).await;
    assert_eq!(status, 202, "{reply}");

    runs_created(&app, &filter).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reaped");
    assert_eq!(
        app.delivery("guid-crash").await.state,
        DeliveryState::Processing,
        "the dead process still holds the claim"
    );

    // The restarted server takes the delivery over once the dead claim's lease runs out.
    let second = serve_binary(&url, &github, dir.path(), &LEASE);
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
    assert_eq!(
        github.check_runs()[0].conclusion.as_deref(),
        Some("success")
    );
    let runs = app
        .db()
        .list_recipe_runs(&filter, Default::default(), PAGE)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 1, "the runs were created once");
}

async fn sigterm_finishes_the_flow_in_progress_then_exits(app: TestApp) {
    let github = FakeGithub::start().await;
    let (filter, payload) = prepared(&app, &github, Duration::from_secs(2)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve_binary(&app.test_db.url, &github, dir.path(), &LEASE);
    let (status, _) = post_to(&server.address, "pull_request", "guid-term", &payload).await;
    assert_eq!(status, 202);
    runs_created(&app, &filter).await;

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

both_engines!(
    killed_mid_flow_then_restarted_finishes_once,
    sigterm_finishes_the_flow_in_progress_then_exits
);
