//! GraphiQL, served offline: the page and its scripts (vendored from npm into
//! `web-playground/graphiql/`, see web-playground/README.md) are embedded in the binary.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The GraphiQL page.
pub const INDEX_HTML: &str = include_str!("../../web-playground/graphiql/index.html");

/// (file name, content type, bytes) of each asset under `/graphql/assets/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web-playground/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web-playground/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web-playground/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web-playground/graphiql/graphiql.min.css"),
    ),
];

/// The GraphiQL page.
pub fn page() -> Response {
    Html(INDEX_HTML).into_response()
}

/// One embedded asset, cacheable for a day.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
