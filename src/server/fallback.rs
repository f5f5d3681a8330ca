//! What an unknown path or a wrong method gets: FastAPI's JSON (`{"detail": "Not Found"}`,
//! `{"detail": "Method Not Allowed"}`), never an empty body, since the site reads every
//! error answer with `response.json()`.

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// 404 for a path no route serves.
pub async fn not_found() -> (StatusCode, Json<Value>) {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not Found"})))
}

/// 405 for a path served with other methods.
pub async fn method_not_allowed() -> (StatusCode, Json<Value>) {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"detail": "Method Not Allowed"})),
    )
}
