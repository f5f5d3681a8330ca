//! `POST /github/hooks/`: translates HTTP to [`crate::webhooks::ingest`] and its result
//! back to a status GitHub understands (2xx = delivered; 5xx = try again later).

use super::AppState;
use crate::db::entities::webhook_delivery;
use crate::webhooks::{self, Incoming, IngestError, Ingested, StatusRefusal};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// GitHub caps webhook payloads at 25 MB; larger bodies are refused with 413.
pub const MAX_WEBHOOK_BYTES: usize = 25 * 1024 * 1024;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Receives one delivery.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let incoming = Incoming {
        event: header(&headers, "x-github-event"),
        guid: header(&headers, "x-github-delivery"),
        signature: header(&headers, "x-hub-signature-256"),
        body: &body,
    };
    match webhooks::ingest(&state.db, state.webhook_secret.as_deref(), incoming).await {
        Ok(ingested) => {
            if matches!(ingested, Ingested::Queued(_) | Ingested::Requeued(_)) {
                state.queue.notify_waiters();
            }
            accepted(ingested)
        }
        Err(err) => refused(err, incoming.guid),
    }
}

fn described(row: &webhook_delivery::Model) -> serde_json::Value {
    json!({ "delivery": row.guid, "id": row.id, "state": row.state })
}

fn accepted(ingested: Ingested) -> Response {
    let (status, row, message) = match &ingested {
        Ingested::Pong(row) => (StatusCode::OK, row, "pong"),
        Ingested::Queued(row) => (StatusCode::ACCEPTED, row, "queued"),
        Ingested::Requeued(row) => (
            StatusCode::ACCEPTED,
            row,
            "redelivery of a failed delivery: queued again",
        ),
        Ingested::Ignored(row) => (StatusCode::OK, row, "not acted on"),
        Ingested::Duplicate(row) => (StatusCode::OK, row, "already received: not processed again"),
    };
    tracing::info!(delivery = %row.guid, event = %row.event, state = ?row.state, message, "webhook");
    let mut body = described(row);
    body["message"] = json!(message);
    (status, Json(body)).into_response()
}

fn refused(err: IngestError, guid: Option<&str>) -> Response {
    let status = match &err {
        IngestError::NotConfigured | IngestError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
        IngestError::Signature(_) => StatusCode::UNAUTHORIZED,
        IngestError::MissingHeader(_)
        | IngestError::Malformed { .. }
        | IngestError::ReservedEvent(_) => StatusCode::BAD_REQUEST,
        IngestError::StatusRefused { refusal, .. } => match refusal {
            StatusRefusal::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            StatusRefusal::UnknownRun => StatusCode::NOT_FOUND,
            StatusRefusal::NotRunning => StatusCode::CONFLICT,
        },
    };
    if let IngestError::Storage(cause) = &err {
        // The cause stays in the log; the sender learns only that it should retry.
        tracing::error!(delivery = guid.unwrap_or("-"), error = %cause, "webhook not stored");
    } else if status.is_server_error() {
        tracing::error!(delivery = guid.unwrap_or("-"), error = %err, "webhook refused");
    } else {
        tracing::warn!(delivery = guid.unwrap_or("-"), error = %err, "webhook refused");
    }
    (status, Json(json!({ "error": err.to_string() }))).into_response()
}
