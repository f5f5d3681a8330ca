//! `GET /repr/xarray/?url=<store>`: the dataset preview pangeo-forge.org embeds, answered as
//! the original did, `{"html": "<xarray's HTML repr>", "dataset": "<url>"}`; errors are
//! `{"detail": "…"}` with 422 (no URL, not a URL), 403 (not a dataset of this server, or the
//! storage denied reading), 404 (no store there), 502 (the storage failed or its metadata is
//! not a dataset) or 504 (the storage timed out). The site does not encode the URL, so the
//! query is read as it comes.

use super::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The route.
pub async fn xarray(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let Some(url) = url_parameter(query.as_deref().unwrap_or("")) else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the query parameter `url` is required: /repr/xarray/?url=https://…/store.zarr",
        );
    };
    match state.previews.preview(&url).await {
        Ok(preview) => Json(json!({ "html": preview.html, "dataset": url })).into_response(),
        Err(err) => detail(
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &err.to_string(),
        ),
    }
}

/// The `url` parameter, percent-decoded as FastAPI does (a first `url=` wins).
fn url_parameter(query: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == "url")
        .map(|(_, value)| value)
}

fn detail(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_parameter_is_read_unencoded_or_encoded() {
        assert_eq!(
            url_parameter("url=https://ncsa.osn.xsede.org/Pangeo/gpcp.zarr").as_deref(),
            Some("https://ncsa.osn.xsede.org/Pangeo/gpcp.zarr")
        );
        assert_eq!(
            url_parameter("url=https%3A%2F%2Fx%2Fy.zarr&other=1").as_deref(),
            Some("https://x/y.zarr")
        );
        assert_eq!(url_parameter("other=1"), None);
        assert_eq!(url_parameter("").as_deref(), None);
    }
}
