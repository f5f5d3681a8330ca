//! The GitHub App's flows end to end: signed fixture payloads through the real router,
//! workers running the real flows, the fake GitHub over HTTP, the stand-in runner.

mod annotations;
mod check_runs_route;
mod completion;
mod dict_object;
mod faults;
mod forks;
mod life_cycle;
mod merges;
mod slash_commands;
mod synchronize;

use crate::support::TestApp;
use crate::support::github_app::GithubAppHarness;
use crate::support::webhooks::{fixture, with_repository};
use pangeo_forge_orchestrator::db::NewFeedstock;
use pangeo_forge_orchestrator::db::entities::{feedstock, recipe_run};
use pangeo_forge_orchestrator::db::listing::{Page, RecipeRunFilter};
use serde_json::Value;
use std::time::Duration;

/// How long a flow may take in a test.
pub const WAIT: Duration = Duration::from_secs(30);
/// A feedstock repository.
pub const FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
/// The staged-recipes repository.
pub const STAGED: &str = "pangeo-forge/staged-recipes";

/// Registers `spec` as a feedstock.
pub async fn register(app: &TestApp, spec: &str) -> feedstock::Model {
    app.db()
        .create_feedstock(NewFeedstock {
            spec: spec.into(),
            provider: None,
        })
        .await
        .expect("feedstock")
}

/// The `pull_request` fixture `file`, moved to repository `spec`.
pub fn pull_request(file: &str, spec: &str) -> Value {
    with_repository(fixture(&format!("pull_request/{file}")), spec)
}

/// The closed fixture as a merge (the fixtures have no merged example).
pub fn merged_pull_request(spec: &str, merge_sha: &str) -> Value {
    let mut payload = pull_request("closed.payload.json", spec);
    payload["pull_request"]["merged"] = true.into();
    payload["pull_request"]["merge_commit_sha"] = merge_sha.into();
    payload["pull_request"]["merged_at"] = "2026-11-25T12:00:00Z".into();
    payload["pull_request"]["base"]["ref"] = "main".into();
    payload
}

/// The head sha of a `pull_request` payload.
pub fn head_sha(payload: &Value) -> String {
    payload["pull_request"]["head"]["sha"]
        .as_str()
        .expect("head sha")
        .to_owned()
}

/// The runs of a feedstock, oldest first.
pub async fn runs_of(app: &TestApp, feedstock_id: i32) -> Vec<recipe_run::Model> {
    let filter = RecipeRunFilter {
        feedstock_id: Some(feedstock_id),
        ..Default::default()
    };
    app.db()
        .list_recipe_runs(
            &filter,
            Default::default(),
            Page {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .expect("runs")
}

/// The calls that change something on GitHub (every method but GET), as `METHOD /path`.
pub fn writes(h: &GithubAppHarness) -> Vec<String> {
    h.github
        .calls()
        .iter()
        .filter(|c| c.method != "GET" && !c.is_token_mint() && c.status < 400)
        .map(|c| c.line())
        .collect()
}
