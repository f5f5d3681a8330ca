//! The preview cache: a store read once is answered from memory (a changed store does not
//! show until its dataset's rows change), and a change of the dataset's run drops it — in
//! this process, and on every replica sharing the PostgreSQL database.

use super::{app_reading, record_dataset, repr};
use crate::on_both_engines;
use crate::support::process::{command, http, serve};
use crate::support::stores::Stores;
use crate::support::{Engine, TestApp};
use pangeo_forge_orchestrator::db::RecipeRunPatch;
use std::time::{Duration, Instant};

const OLD: &str = "Daily Precipitation";
const NEW: &str = "Daily Rain";

/// Rewrites the store's consolidated metadata: `long_name` becomes [`NEW`].
fn change_store(stores: &Stores, name: &str) {
    let path = stores.path(name).join(".zmetadata");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace(OLD, NEW)).expect("write");
}

/// A change of the run's row, as a re-run or an admin's PATCH makes one.
async fn touch_run(app: &TestApp, id: i32) {
    app.db()
        .update_recipe_run(
            id,
            RecipeRunPatch {
                version: Some("2".into()),
                ..Default::default()
            },
        )
        .await
        .expect("update");
}

/// Asks `ask` until its answer holds `wanted` or 10 s passed (the change travels through
/// the bus, and on PostgreSQL through LISTEN/NOTIFY).
async fn eventually<F, Fut>(wanted: &str, mut ask: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = ask().await;
        if answer.contains(wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "still no {wanted:?}: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_cached_preview_is_dropped_when_its_dataset_changes(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[], Duration::from_secs(5)).await;
    let url = stores.copy("gpcp-v2.zarr", "gpcp.zarr");
    let run = record_dataset(&app, "gpcp", &url).await;
    assert!(repr(&app, &url).await.text().contains(OLD));
    // On PostgreSQL the notices of recording the dataset may still be on their way (the
    // server LISTENs from its start) and rightly drop the first cached preview: let them
    // land, then cache it again before the store changes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(repr(&app, &url).await.text().contains(OLD));
    change_store(&stores, "gpcp.zarr");
    // Cached: the same answer without reading the store again.
    for _ in 0..3 {
        assert!(repr(&app, &url).await.text().contains(OLD));
    }
    touch_run(&app, run.id).await;
    eventually(NEW, || async { repr(&app, &url).await.text() }).await;
    app.finish().await;
}

async fn http_get(address: String, path: String) -> String {
    tokio::task::spawn_blocking(move || {
        let (status, body) = http(&address, "GET", &path, "", "application/json");
        format!("{status} {body}")
    })
    .await
    .expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_drop_a_preview_when_the_dataset_changes() {
    let app = TestApp::start(Engine::Postgres).await;
    let stores = Stores::new();
    let url = stores.copy("gpcp-v2.zarr", "gpcp.zarr");
    let run = record_dataset(&app, "gpcp", &url).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = || {
        let mut cmd = command(dir.path());
        cmd.env("DATABASE_URL", &app.test_db.url)
            .env("PFO_REPR_ENABLED", "true")
            .env("PFO_REPR_ALLOWED_PREFIXES", "");
        serve(cmd).0
    };
    let replicas = [replica(), replica()];
    let path = format!("/repr/xarray/?url={url}");
    for replica in &replicas {
        let answer = http_get(replica.address.clone(), path.clone()).await;
        assert!(
            answer.starts_with("200 ") && answer.contains(OLD),
            "{answer}"
        );
    }
    change_store(&stores, "gpcp.zarr");
    for replica in &replicas {
        let answer = http_get(replica.address.clone(), path.clone()).await;
        assert!(answer.contains(OLD), "cached on each replica: {answer}");
    }
    touch_run(&app, run.id).await;
    for replica in &replicas {
        eventually(NEW, || http_get(replica.address.clone(), path.clone())).await;
    }
    drop(replicas);
    app.finish().await;
}

on_both_engines!(a_cached_preview_is_dropped_when_its_dataset_changes);
