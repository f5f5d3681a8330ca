//! The original's REST writes for recipe runs (`POST /recipe_runs/`, `PATCH` and `DELETE`
//! `/recipe_runs/{id}`), for admin scripts, over the same database verbs as the GraphQL
//! mutations. Bodies use the original's snake_case names and values; timestamps may be naive
//! (UTC, as the original wrote them) or carry an offset. In a `PATCH`, an omitted field stays
//! as it is and `null` clears a nullable one.

use super::AppState;
use super::rest::{RecipeRunJson, RestError, RestResult, RouteSlashed, path_id};
use super::rest_writes::{body, require_admin};
use crate::db::enums::{DatasetType, RunConclusion, RunStatus};
use crate::db::{NewRecipeRun, RecipeRunPatch};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{patch, post};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

/// The write routes, with and without the trailing slash.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route_slashed("/recipe_runs", post(create))
        .route_slashed("/recipe_runs/{id}", patch(update).delete(delete))
}

/// A timestamp as the original wrote it (`2022-09-07T20:37:49`, naive UTC) or RFC 3339.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a datetime")))
}

fn some_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    timestamp(d).map(Some)
}

/// `null` → `Some(None)` (clear it), a value → `Some(Some(v))`; an omitted field stays `None`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn nullable_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<DateTime<Utc>>>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "timestamp")] DateTime<Utc>);
    Option::<Wrapped>::deserialize(d).map(|t| Some(t.map(|Wrapped(t)| t)))
}

/// What the original's `message` held: a JSON object of the job's name, id, deployment,
/// environment URL and trace (as the read routes write it), or plain text (a trace).
#[derive(Default)]
struct Message {
    job_name: Option<String>,
    job_id: Option<String>,
    deployment_id: Option<i64>,
    environment_url: Option<String>,
    trace: Option<String>,
}

impl Message {
    fn parse(text: &str) -> Message {
        match serde_json::from_str::<serde_json::Map<String, Value>>(text) {
            Ok(fields) => {
                let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
                Message {
                    job_name: text("job_name"),
                    job_id: text("job_id"),
                    deployment_id: fields.get("deployment_id").and_then(Value::as_i64),
                    environment_url: text("environment_url"),
                    trace: text("trace"),
                }
            }
            Err(_) => Message {
                trace: Some(text.to_owned()),
                ..Default::default()
            },
        }
    }
}

#[derive(Deserialize)]
struct RecipeRunCreate {
    recipe_id: String,
    bakery_id: i32,
    feedstock_id: i32,
    head_sha: String,
    #[serde(default)]
    version: String,
    #[serde(default, deserialize_with = "some_timestamp")]
    started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "some_timestamp")]
    completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    conclusion: Option<RunConclusion>,
    #[serde(default = "queued")]
    status: RunStatus,
    #[serde(default)]
    is_test: bool,
    #[serde(default)]
    dataset_type: Option<DatasetType>,
    #[serde(default)]
    dataset_public_url: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn queued() -> RunStatus {
    RunStatus::Queued
}

#[derive(Deserialize)]
struct RecipeRunUpdate {
    recipe_id: Option<String>,
    bakery_id: Option<i32>,
    feedstock_id: Option<i32>,
    head_sha: Option<String>,
    version: Option<String>,
    #[serde(default, deserialize_with = "some_timestamp")]
    started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "nullable_timestamp")]
    completed_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    conclusion: Option<Option<RunConclusion>>,
    status: Option<RunStatus>,
    is_test: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    dataset_type: Option<Option<DatasetType>>,
    #[serde(default, deserialize_with = "nullable")]
    dataset_public_url: Option<Option<String>>,
    /// The original's `message` (see [`Message`]); it replaces the five fields it holds.
    #[serde(default, deserialize_with = "nullable")]
    message: Option<Option<String>>,
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> RestResult<RecipeRunJson> {
    require_admin(&state, &headers)?;
    let new: RecipeRunCreate = body(&bytes)?;
    let message = new
        .message
        .as_deref()
        .map(Message::parse)
        .unwrap_or_default();
    let run = NewRecipeRun {
        version: new.version,
        started_at: new.started_at,
        completed_at: new.completed_at,
        conclusion: new.conclusion,
        status: new.status,
        dataset_type: new.dataset_type,
        dataset_public_url: new.dataset_public_url,
        job_name: message.job_name,
        job_id: message.job_id,
        deployment_id: message.deployment_id,
        environment_url: message.environment_url,
        error_trace: message.trace,
        ..NewRecipeRun::queued(
            new.recipe_id,
            new.bakery_id,
            new.feedstock_id,
            new.head_sha,
            new.is_test,
        )
    };
    Ok(Json(state.db.create_recipe_run(run).await?.into()))
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> RestResult<RecipeRunJson> {
    require_admin(&state, &headers)?;
    let id = path_id(&id)?;
    let change: RecipeRunUpdate = body(&bytes)?;
    let message = change
        .message
        .map(|m| m.as_deref().map(Message::parse).unwrap_or_default());
    let patch = RecipeRunPatch {
        recipe_id: change.recipe_id,
        bakery_id: change.bakery_id,
        feedstock_id: change.feedstock_id,
        head_sha: change.head_sha,
        version: change.version,
        started_at: change.started_at,
        completed_at: change.completed_at,
        conclusion: change.conclusion,
        status: change.status,
        is_test: change.is_test,
        dataset_type: change.dataset_type,
        dataset_public_url: change.dataset_public_url,
        job_name: message.as_ref().map(|m| m.job_name.clone()),
        job_id: message.as_ref().map(|m| m.job_id.clone()),
        deployment_id: message.as_ref().map(|m| m.deployment_id),
        environment_url: message.as_ref().map(|m| m.environment_url.clone()),
        error_trace: message.map(|m| m.trace),
        ..Default::default()
    };
    Ok(Json(state.db.update_recipe_run(id, patch).await?.into()))
}

async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, RestError> {
    require_admin(&state, &headers)?;
    state.db.delete_recipe_run(path_id(&id)?).await?;
    Ok(Json(json!({"ok": true})))
}
