//! CORS for the browser-facing routes (tower-http's `CorsLayer`): pangeo-forge.org calls this
//! server from another origin. Any origin by default, as the original; never with
//! credentials (the admin key travels in a header the browser does not add by itself).
//! Preflight `OPTIONS` is answered by the layer. Webhook routes are outside it.

use crate::config::CorsOrigins;
use axum::http::{HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// How long a browser may cache a preflight answer.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// The layer for `origins`.
pub fn layer(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::Any => AllowOrigin::from(Any),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            HeaderName::from_static("x-api-key"),
        ])
        .max_age(PREFLIGHT_MAX_AGE)
}
