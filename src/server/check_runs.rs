//! `GET /feedstocks/{id}/commits/{sha}/check-runs`: the check runs GitHub holds for a commit
//! of a feedstock, asked as the App's installation on that repository and passed through as
//! GitHub sends them, as the original did. Answers are kept for [`CACHE_TTL`] per commit in
//! this process (a page view asks again and again; a stale answer is at most that old).

use super::AppState;
use super::rest::{RestError, path_id};
use crate::github::{GithubApp, GithubError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an answer is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
/// Past this many commits the cache is emptied (it only saves GitHub calls).
pub const CACHE_CAPACITY: usize = 1024;

/// A commit: (repository, sha).
type CommitKey = (String, String);
/// An answer and when it came.
type Answer = (Instant, Value);

/// Recent answers, by commit.
#[derive(Clone, Default)]
pub struct CheckRunCache(Arc<Mutex<HashMap<CommitKey, Answer>>>);

impl CheckRunCache {
    fn get(&self, key: &CommitKey) -> Option<Value> {
        let entries = self.0.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, value)| value.clone())
    }

    fn put(&self, key: CommitKey, value: Value) {
        if let Ok(mut entries) = self.0.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
                if entries.len() >= CACHE_CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), value));
        }
    }
}

fn detail(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "detail": text.into() }))).into_response()
}

/// A commit sha as GitHub names one: 7 to 40 hexadecimal digits.
fn is_sha(text: &str) -> bool {
    (7..=40).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// The route.
pub async fn for_commit(
    State(state): State<AppState>,
    Path((id, sha)): Path<(String, String)>,
) -> Response {
    let id = match path_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    if !is_sha(&sha) {
        return RestError::Unprocessable(
            vec!["path", "commit_sha"],
            "not a commit sha (7 to 40 hexadecimal digits)".into(),
        )
        .into_response();
    }
    let feedstock = match state.db.feedstock(id).await {
        Ok(Some(feedstock)) => feedstock,
        Ok(None) => return detail(StatusCode::NOT_FOUND, format!("feedstock {id} not found")),
        Err(err) => return RestError::from(err).into_response(),
    };
    let Some(github) = state.github.as_ref() else {
        return detail(
            StatusCode::SERVICE_UNAVAILABLE,
            "the GitHub App is not configured (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY_PATH)",
        );
    };
    let key = (feedstock.spec.clone(), sha.to_lowercase());
    if let Some(cached) = state.check_runs.get(&key) {
        return Json(cached).into_response();
    }
    match ask_github(github, &feedstock.spec, &sha).await {
        Ok(value) => {
            state.check_runs.put(key, value.clone());
            Json(value).into_response()
        }
        Err(err) => {
            tracing::warn!(feedstock = %feedstock.spec, error = %err, "reading check runs failed");
            match err {
                GithubError::Refused { status: 404, .. } => detail(
                    StatusCode::NOT_FOUND,
                    format!("GitHub knows no commit {sha} in {}", feedstock.spec),
                ),
                GithubError::Refused { .. } | GithubError::Invalid(_) => detail(
                    StatusCode::NOT_FOUND,
                    format!("the GitHub App cannot read {}: {err}", feedstock.spec),
                ),
                GithubError::Network { .. } => detail(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("GitHub did not answer: {err}"),
                ),
                _ => detail(StatusCode::BAD_GATEWAY, format!("GitHub failed: {err}")),
            }
        }
    }
}

async fn ask_github(github: &GithubApp, spec: &str, sha: &str) -> Result<Value, GithubError> {
    github
        .installation_for_repo(spec)
        .await?
        .check_runs_for_commit(spec, sha)
        .await
}
