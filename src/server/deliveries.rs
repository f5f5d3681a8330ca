//! The original's delivery routes, answered from the deliveries this server stored (the
//! original proxied GitHub's `GET /app/hook/deliveries`): `GET /github/hooks/deliveries`,
//! `GET /github/hooks/deliveries/{id}` and `GET /feedstocks/{id}/deliveries`, newest first,
//! with GitHub's field names (`id`, `guid`, `delivered_at`, `event`, `action`,
//! `installation_id`) plus what only we know: the repository, the feedstock, the state, the
//! attempts, the note and the error. A delivery's payload, like in GraphQL, needs an admin
//! key (`?response_only=false` with `X-API-Key`).

use super::AppState;
use super::graphql_http::caller;
use super::rest::{Params, RestError, RestResult, page_of, path_id, py_isoformat, unprocessable};
use crate::db::DeliveryFilter;
use crate::db::entities::webhook_delivery;
use crate::db::enums::DeliveryState;
use crate::graphql::auth::Caller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;

/// One stored delivery, as the REST routes show it.
#[derive(Serialize)]
pub struct DeliveryJson {
    id: i32,
    guid: String,
    delivered_at: String,
    event: String,
    action: Option<String>,
    installation_id: Option<i64>,
    repository: Option<String>,
    feedstock_id: Option<i32>,
    state: DeliveryState,
    attempts: i32,
    note: Option<String>,
    error: Option<String>,
    completed_at: Option<String>,
}

impl From<&webhook_delivery::Model> for DeliveryJson {
    fn from(d: &webhook_delivery::Model) -> Self {
        DeliveryJson {
            id: d.id,
            guid: d.guid.clone(),
            delivered_at: py_isoformat(&d.received_at),
            event: d.event.clone(),
            action: d.action.clone(),
            installation_id: d.installation_id,
            repository: d.repository.clone(),
            feedstock_id: d.feedstock_id,
            state: d.state,
            attempts: d.attempts,
            note: d.note.clone(),
            error: d.last_error.clone(),
            completed_at: d.completed_at.as_ref().map(py_isoformat),
        }
    }
}

/// `GET /github/hooks/deliveries` (`offset`, `limit`).
pub async fn list(State(state): State<AppState>, query: Params) -> RestResult<Vec<DeliveryJson>> {
    listed(&state, &query.0, DeliveryFilter::default()).await
}

/// `GET /feedstocks/{id}/deliveries`: the deliveries of that feedstock's repository.
pub async fn of_feedstock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Params,
) -> RestResult<Vec<DeliveryJson>> {
    let id = path_id(&id)?;
    if state.db.feedstock(id).await?.is_none() {
        return Err(RestError::NotFound(format!("feedstock {id} not found")));
    }
    let filter = DeliveryFilter {
        feedstock_id: Some(id),
        ..Default::default()
    };
    listed(&state, &query.0, filter).await
}

async fn listed(
    state: &AppState,
    params: &std::collections::HashMap<String, String>,
    filter: DeliveryFilter,
) -> RestResult<Vec<DeliveryJson>> {
    let page = page_of(params)?;
    let rows = state.db.list_deliveries(&filter, page).await?;
    Ok(Json(rows.iter().map(DeliveryJson::from).collect()))
}

/// `GET /github/hooks/deliveries/{id}`: as the original, only the outcome unless
/// `response_only=false`, which adds the request payload (admin key needed).
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Params,
) -> RestResult<Value> {
    let id = path_id(&id)?;
    let response_only = match query.0.get("response_only").map(String::as_str) {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => {
            return Err(unprocessable(
                "response_only",
                "value could not be parsed to a boolean",
            ));
        }
    };
    let Some(delivery) = state.db.delivery(id).await? else {
        return Err(RestError::NotFound(format!("delivery {id} not found")));
    };
    let shown = DeliveryJson::from(&delivery);
    if response_only {
        return Ok(Json(serde_json::json!({
            "state": shown.state,
            "note": shown.note,
            "error": shown.error,
            "completed_at": shown.completed_at,
        })));
    }
    if caller(&state, &headers) != Caller::Admin {
        return Err(RestError::Unauthorized(
            "the request payload needs an admin API key: send `X-API-Key: <key>`".into(),
        ));
    }
    let mut body = serde_json::to_value(&shown).map_err(|_| RestError::Internal)?;
    let payload: Value =
        serde_json::from_str(&delivery.payload).unwrap_or(Value::String(delivery.payload.clone()));
    body["request"] = serde_json::json!({ "payload": payload });
    Ok(Json(body))
}
