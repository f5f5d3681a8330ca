//! Two server processes (the real binary) on one PostgreSQL: they share the durable queue,
//! take up work queued before they started, and do each delivery exactly once.

use crate::support::fake_github::FakeGithub;
use crate::support::github_app::{meta_yaml, register_feedstock_and_bakery, serve_binary};
use crate::support::process::{Server, http_with};
use crate::support::webhooks::{fixture, with_repository};
use crate::support::{Engine, TestApp, WEBHOOK_SECRET};
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::webhooks::signature::sign;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
const QUEUED_BEFORE_START: usize = 8;
const BURST: usize = 16;

fn replica(url: &str, github: &FakeGithub, dir: &Path) -> Server {
    serve_binary(url, github, dir, &[("PFO_WORKERS", "3")])
}

/// A pull_request delivery for a commit of its own, with its meta.yaml in the fake.
fn delivery(github: &FakeGithub, n: usize) -> (String, Vec<u8>) {
    let sha = format!("{n:040x}");
    github.set_recipe(FEEDSTOCK, "feedstock/meta.yaml", &sha, meta_yaml(&["gpcp"]));
    let mut payload = with_repository(fixture("pull_request/opened.payload.json"), FEEDSTOCK);
    payload["pull_request"]["head"]["sha"] = sha.into();
    (
        format!("guid-replica-{n}"),
        serde_json::to_vec(&payload).expect("json"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_the_queue_and_do_each_delivery_once() {
    let app = TestApp::start(Engine::Postgres).await;
    let github = FakeGithub::start().await;
    register_feedstock_and_bakery(&app, FEEDSTOCK).await;

    // Accepted while no worker ran (the server died right after answering).
    for n in 0..QUEUED_BEFORE_START {
        let (guid, body) = delivery(&github, n);
        let payload: serde_json::Value = serde_json::from_slice(&body).expect("json");
        app.deliver("pull_request", &guid, &payload).await;
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.test_db.url.clone();
    let replicas = [
        replica(&url, &github, dir.path()),
        replica(&url, &github, dir.path()),
    ];
    let addresses: Vec<String> = replicas.iter().map(|r| r.address.clone()).collect();
    let burst: Vec<(String, Vec<u8>)> = (QUEUED_BEFORE_START..QUEUED_BEFORE_START + BURST)
        .map(|n| delivery(&github, n))
        .collect();
    tokio::task::spawn_blocking(move || {
        for (i, (guid, body)) in burst.iter().enumerate() {
            let signature = sign(WEBHOOK_SECRET.as_bytes(), body);
            let text = String::from_utf8(body.clone()).expect("utf-8");
            let (status, reply) = http_with(
                &addresses[i % 2],
                "POST",
                "/github/hooks/",
                &text,
                "application/json",
                &[
                    ("X-GitHub-Event", "pull_request"),
                    ("X-GitHub-Delivery", guid),
                    ("X-Hub-Signature-256", &signature),
                ],
            );
            assert_eq!(status, 202, "{reply}");
        }
    })
    .await
    .expect("burst");

    let mut workers = BTreeSet::new();
    for n in 0..QUEUED_BEFORE_START + BURST {
        let row = app
            .wait_for_delivery(
                &format!("guid-replica-{n}"),
                DeliveryState::Done,
                Duration::from_secs(60),
            )
            .await;
        assert_eq!(row.attempts, 1, "delivery {n} was claimed twice");
        let worker = row.claimed_by.expect("claimed");
        // `pfo-<pid>-<nonce>-<n>`: the process is all but the worker number.
        workers.insert(worker.rsplit_once('-').expect("worker name").0.to_owned());
    }
    drop(replicas);
    let checks = github.check_runs();
    assert_eq!(
        checks.len(),
        QUEUED_BEFORE_START + BURST,
        "one check run per delivery"
    );
    let shas: BTreeSet<&str> = checks.iter().map(|c| c.head_sha.as_str()).collect();
    assert_eq!(shas.len(), QUEUED_BEFORE_START + BURST, "no commit twice");
    assert!(
        checks
            .iter()
            .all(|c| c.conclusion.as_deref() == Some("success")),
        "{checks:?}"
    );
    assert_eq!(workers.len(), 2, "both replicas took work: {workers:?}");
    app.finish().await;
}
