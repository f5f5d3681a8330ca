//! The recipe-runs dashboard at `GET /`: a static page and its built script and stylesheet
//! (sources and build in `web-playground/dashboard/`), embedded in the binary so it works
//! offline. The page reads `/graphql` and follows `recipeRunUpdated` over `/graphql/ws`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The dashboard page.
pub const INDEX_HTML: &str = include_str!("../../web-playground/dashboard/index.html");

/// (file name, content type, bytes) of each asset under `/dashboard/assets/`.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web-playground/dashboard/assets/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web-playground/dashboard/assets/dashboard.css"),
    ),
];

/// `GET /`: the dashboard page (never cached, so a new binary's assets are picked up).
pub async fn page() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(INDEX_HTML)).into_response()
}

/// `GET /dashboard/assets/{file}`: one embedded asset, or 404.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
