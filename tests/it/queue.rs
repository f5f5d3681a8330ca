//! The durable queue: work survives restarts, replicas share it without doing an item
//! twice, and final failures keep their reason.

use crate::both_engines;
use crate::support::webhooks::fixture;
use crate::support::{TestApp, test_config};
use axum::http::StatusCode;
use chrono::Utc;
use pangeo_forge_orchestrator::app::App;
use pangeo_forge_orchestrator::bakery::BakeryRegistry;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::queue::Workers;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Starts `count` workers in this test's server process, woken by its webhook route.
fn workers(app: &TestApp, count: usize) -> Workers {
    app.orchestrator.clone().with_workers(count).start_workers()
}

/// Starts `count` workers as another server process over the same database would: its own
/// app, not woken by this process's webhook route.
fn other_process_workers(app: &TestApp, count: usize) -> Workers {
    App::assemble(
        &test_config(&app.test_db.url),
        app.db().clone(),
        BakeryRegistry::default(),
    )
    .expect("assembling the app")
    .with_workers(count)
    .start_workers()
}

/// The installation fixture, giving the App these repositories.
fn installation_with(repositories: &[&str]) -> Value {
    let mut payload = fixture("installation/created.payload.json");
    payload["repositories"] = repositories
        .iter()
        .map(|full_name| json!({"full_name": full_name, "name": full_name.split('/').nth(1)}))
        .collect();
    payload
}

async fn specs(app: &TestApp) -> Vec<String> {
    let rows = app
        .db()
        .list_feedstocks(
            Default::default(),
            pangeo_forge_orchestrator::db::listing::Page {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .expect("list");
    let mut specs: Vec<String> = rows.into_iter().map(|f| f.spec).collect();
    specs.sort();
    specs
}

async fn installing_the_app_registers_its_feedstock_repositories(app: TestApp) {
    let pool = workers(&app, 2);
    let payload = installation_with(&[
        "pangeo-forge/gpcp-feedstock",
        "pangeo-forge/staged-recipes",
        "pangeo-forge/pangeo-forge-recipes",
    ]);
    let reply = app.deliver("installation", "guid-install", &payload).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let row = app
        .wait_for_delivery("guid-install", DeliveryState::Done, WAIT)
        .await;
    assert!(
        row.note
            .unwrap_or_default()
            .contains("registered 2 feedstock")
    );

    let mut added = fixture("installation_repositories/added.payload.json");
    added["repositories_added"] = json!([
        {"full_name": "pangeo-forge/gpcp-feedstock"},
        {"full_name": "pangeo-forge/noaa-oisst-feedstock"}
    ]);
    app.deliver("installation_repositories", "guid-added", &added)
        .await;
    app.wait_for_delivery("guid-added", DeliveryState::Done, WAIT)
        .await;
    pool.shutdown().await;
    assert_eq!(
        specs(&app).await,
        [
            "pangeo-forge/gpcp-feedstock",
            "pangeo-forge/noaa-oisst-feedstock",
            "pangeo-forge/staged-recipes"
        ]
    );
}

async fn work_queued_before_a_restart_is_done_after_it(app: TestApp) {
    // No worker runs: the server "died" right after answering 202.
    app.deliver(
        "installation",
        "guid-before-restart",
        &installation_with(&["o/a-feedstock"]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.delivery("guid-before-restart").await.state,
        DeliveryState::Queued
    );

    // A process that claimed work and died: its lease has run out.
    app.deliver(
        "installation",
        "guid-claimed-by-dead",
        &installation_with(&["o/b-feedstock"]),
    )
    .await;
    let dead_claim = app
        .db()
        .claim_next_delivery("dead-process", Utc::now() - chrono::Duration::seconds(1))
        .await
        .expect("claim")
        .expect("a queued delivery");
    assert_eq!(dead_claim.guid, "guid-before-restart");

    // The restarted server picks both up.
    let pool = other_process_workers(&app, 1);
    let taken_over = app
        .wait_for_delivery("guid-before-restart", DeliveryState::Done, WAIT)
        .await;
    assert_eq!(
        taken_over.attempts, 2,
        "claimed by the dead process, then again"
    );
    app.wait_for_delivery("guid-claimed-by-dead", DeliveryState::Done, WAIT)
        .await;
    pool.shutdown().await;
    assert_eq!(specs(&app).await, ["o/a-feedstock", "o/b-feedstock"]);
}

async fn two_processes_share_a_burst_and_do_each_delivery_once(app: TestApp) {
    const BURST: usize = 40;
    // Two "processes": separate worker pools with their own wake-up signals, one database.
    let first = workers(&app, 3);
    let second = other_process_workers(&app, 3);
    for n in 0..BURST {
        let payload = installation_with(&[&format!("o/r{n}-feedstock")]);
        let reply = app
            .deliver("installation", &format!("guid-burst-{n}"), &payload)
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    let mut processes = std::collections::BTreeSet::new();
    for n in 0..BURST {
        let row = app
            .wait_for_delivery(&format!("guid-burst-{n}"), DeliveryState::Done, WAIT)
            .await;
        assert_eq!(row.attempts, 1, "delivery {n} was claimed more than once");
        let worker = row.claimed_by.expect("claimed");
        processes.insert(worker.rsplit_once('-').expect("worker name").0.to_owned());
    }
    first.shutdown().await;
    second.shutdown().await;
    assert_eq!(specs(&app).await.len(), BURST);
    assert!(!processes.is_empty());
}

async fn a_payload_missing_what_its_flow_needs_fails_with_the_reason(app: TestApp) {
    let pool = workers(&app, 1);
    let mut payload = fixture("pull_request/opened.payload.json");
    payload
        .as_object_mut()
        .expect("object")
        .remove("pull_request");
    app.deliver("pull_request", "guid-incomplete", &payload)
        .await;
    let row = app
        .wait_for_delivery("guid-incomplete", DeliveryState::Failed, WAIT)
        .await;
    pool.shutdown().await;
    assert_eq!(row.attempts, 1, "a permanent failure is not retried");
    let error = row.last_error.expect("error kept");
    assert!(error.contains("missing field `pull_request`"), "{error}");
}

both_engines!(
    installing_the_app_registers_its_feedstock_repositories,
    work_queued_before_a_restart_is_done_after_it,
    two_processes_share_a_burst_and_do_each_delivery_once,
    a_payload_missing_what_its_flow_needs_fails_with_the_reason,
);
