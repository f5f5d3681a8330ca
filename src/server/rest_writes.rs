//! The original's REST writes for feedstocks and bakeries, for admin scripts: `POST` on the
//! collection, `PATCH` and `DELETE` on an item, with `X-API-Key`. They call the same
//! database verbs as the GraphQL mutations, so they check and refuse the same things. Errors
//! keep FastAPI's shapes: no key 403 `Not authenticated`, a wrong key 401 `Invalid API Key`,
//! a bad body 422, a missing row 404, a conflict (a name taken, runs still naming the row) 409.

use super::AppState;
use super::graphql_http::presented_key;
use super::rest::{BakeryJson, FeedstockJson, RestError, RestResult, RouteSlashed, path_id};
use crate::db::{BakeryPatch, FeedstockPatch, NewBakery, NewFeedstock};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{patch, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The write routes, each with and without a trailing slash.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route_slashed("/feedstocks", post(create_feedstock))
        .route_slashed(
            "/feedstocks/{id}",
            patch(update_feedstock).delete(delete_feedstock),
        )
        .route_slashed("/bakeries", post(create_bakery))
        .route_slashed("/bakeries/{id}", patch(update_bakery).delete(delete_bakery))
}

/// The admin key (`X-API-Key`, or `Authorization: Bearer`, read as every route reads it).
pub(super) fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), RestError> {
    match presented_key(headers) {
        None => Err(RestError::Forbidden("Not authenticated".into())),
        Some(key) if state.admin_keys.accepts(key.trim()) => Ok(()),
        Some(_) => Err(RestError::Unauthorized("Invalid API Key".into())),
    }
}

/// The JSON body, or FastAPI's 422 naming what is wrong with it.
pub(super) fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, RestError> {
    serde_json::from_slice(bytes)
        .map_err(|e| RestError::Unprocessable(vec!["body"], format!("invalid body: {e}")))
}

#[derive(Deserialize)]
struct FeedstockCreate {
    spec: String,
    #[serde(default)]
    provider: Option<String>,
}

#[derive(Deserialize)]
struct FeedstockUpdate {
    spec: Option<String>,
    provider: Option<String>,
}

#[derive(Deserialize)]
struct BakeryCreate {
    region: String,
    name: String,
    description: String,
}

#[derive(Deserialize)]
struct BakeryUpdate {
    region: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

async fn create_feedstock(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> RestResult<FeedstockJson> {
    require_admin(&state, &headers)?;
    let new: FeedstockCreate = body(&bytes)?;
    let row = state
        .db
        .create_feedstock(NewFeedstock {
            spec: new.spec,
            provider: new.provider,
        })
        .await?;
    Ok(Json(row.into()))
}

async fn update_feedstock(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> RestResult<FeedstockJson> {
    require_admin(&state, &headers)?;
    let id = path_id(&id)?;
    let change: FeedstockUpdate = body(&bytes)?;
    let patch = FeedstockPatch {
        spec: change.spec,
        provider: change.provider,
    };
    Ok(Json(state.db.update_feedstock(id, patch).await?.into()))
}

async fn delete_feedstock(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> RestResult<Value> {
    require_admin(&state, &headers)?;
    state.db.delete_feedstock(path_id(&id)?).await?;
    Ok(Json(json!({"ok": true})))
}

async fn create_bakery(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> RestResult<BakeryJson> {
    require_admin(&state, &headers)?;
    let new: BakeryCreate = body(&bytes)?;
    let row = state
        .db
        .create_bakery(NewBakery {
            name: new.name,
            region: new.region,
            description: new.description,
        })
        .await?;
    Ok(Json(row.into()))
}

async fn update_bakery(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> RestResult<BakeryJson> {
    require_admin(&state, &headers)?;
    let id = path_id(&id)?;
    let change: BakeryUpdate = body(&bytes)?;
    let patch = BakeryPatch {
        name: change.name,
        region: change.region,
        description: change.description,
    };
    Ok(Json(state.db.update_bakery(id, patch).await?.into()))
}

async fn delete_bakery(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> RestResult<Value> {
    require_admin(&state, &headers)?;
    state.db.delete_bakery(path_id(&id)?).await?;
    Ok(Json(json!({"ok": true})))
}
