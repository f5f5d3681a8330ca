//! The dataset preview end to end: `GET /repr/xarray/?url=` and `Dataset.summary` /
//! `Dataset.reprHtml` over real stores on this machine (Zarr v2 and v3, consolidated or not,
//! as `file://` directories and over HTTP), hostile metadata, the refused-URL rule, the cache
//! and its invalidation by the change bus, and the test-run comment's list of variables.

mod cache;
mod comment;
mod graphql;
mod hostile;
mod route;

use crate::sample;
use crate::support::http::Reply;
use crate::support::{Engine, TestApp};
use pangeo_forge_orchestrator::db::entities::recipe_run;
use pangeo_forge_orchestrator::db::enums::{DatasetType, RunConclusion, RunStatus};
use pangeo_forge_orchestrator::db::{NewBakery, NewFeedstock, NewRecipeRun};
use std::time::Duration;

/// A test app whose preview is on and reads under `prefixes`, with a timeout of `timeout`.
pub async fn app_reading(engine: Engine, prefixes: &[String], timeout: Duration) -> TestApp {
    let prefixes = prefixes.to_vec();
    TestApp::start_with(engine, move |config| {
        config.repr.enabled = true;
        config.repr.allowed_prefixes = Some(prefixes);
        config.repr.timeout = timeout;
    })
    .await
}

/// `GET /repr/xarray/?url=<url>`, the URL not encoded, as pangeo-forge.org sends it.
pub async fn repr(app: &TestApp, url: &str) -> Reply {
    app.get(&format!("/repr/xarray/?url={url}")).await
}

/// A completed successful test run whose dataset is at `url` (a feedstock and a bakery of
/// its own).
pub async fn record_dataset(app: &TestApp, name: &str, url: &str) -> recipe_run::Model {
    let db = app.db();
    let bakery = db
        .create_bakery(NewBakery {
            name: format!("bakery-{name}"),
            region: "local".into(),
            description: "test".into(),
        })
        .await
        .expect("bakery");
    let feedstock = db
        .create_feedstock(NewFeedstock {
            spec: format!("pangeo-forge/{name}-feedstock"),
            provider: None,
        })
        .await
        .expect("feedstock");
    db.create_recipe_run(NewRecipeRun {
        status: RunStatus::Completed,
        conclusion: Some(RunConclusion::Success),
        completed_at: Some(chrono::Utc::now()),
        dataset_type: Some(DatasetType::Zarr),
        dataset_public_url: Some(url.to_owned()),
        ..sample::run(name, bakery.id, feedstock.id, sample::SHA_A)
    })
    .await
    .expect("run")
}

/// Runs an `async fn(Engine)` once on SQLite and once on PostgreSQL (the preview's tests
/// build their own apps): `on_both_engines!(my_test);`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Engine::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Engine::Postgres).await;
                }
            }
        )+
    };
}

/// The variable names a preview's HTML shows, in order.
pub fn names_in(html: &str) -> Vec<String> {
    html.split("<div class='xr-var-name'><span")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find('>')? + 1;
            let end = rest.find("</span>")?;
            Some(rest[start..end].to_owned())
        })
        .collect()
}
