//! `GET /metrics` and the middleware that times every routed request; the registry and
//! the scrape-time database counts are [`crate::metrics`].

use super::AppState;
use axum::extract::State;

/// `GET /metrics`: Prometheus text format (see [`crate::metrics`]).
pub async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::render(&state.db, state.live.counts()).await,
    )
        .into_response()
}

/// Times every routed request for `pfo_http_request_duration_seconds`.
pub async fn track(
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = request.method().to_string();
    let route = matched
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    crate::metrics::http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
