//! Conditional GETs answered without touching the database: every read the database backs
//! (REST routes, `GET /graphql`) carries an `ETag` made of this process's data version
//! ([`crate::db::changes::ChangeBus::version`]), which every committed change advances. A
//! request whose `If-None-Match` holds the current tag gets `304 Not Modified` before its
//! handler runs, so no query is made. The tag is taken before the handler reads and checked
//! again after: a response that may have seen a change it does not name goes without one.
//!
//! Responses vary with who asks (`Authorization`, `X-API-Key`: an admin sees more) and what
//! they accept, so those headers are hashed into the tag and named in `Vary`; the hash is
//! salted with the process's epoch and never reveals a key. `Cache-Control: no-cache` lets a
//! browser or a CDN keep the response and revalidate it each time (`private` when a key was
//! sent).

use super::AppState;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH, VARY,
};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The admin key header the REST routes read.
const API_KEY: &str = "x-api-key";
/// The headers a response varies with.
const VARY_ON: &str = "Authorization, X-API-Key, Accept";

/// The middleware: 304 for a current tag, the tag on a fresh 200.
pub async fn respond(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let bus = state.db.changes().clone();
    let Some(before) = bus.version() else {
        return next.run(request).await;
    };
    let headers = request.headers();
    let private = headers.contains_key(AUTHORIZATION) || headers.contains_key(API_KEY);
    let tag = entity_tag(before.epoch, before.counter, headers);
    if matches_current(headers, &tag) {
        return not_modified(&tag, private);
    }
    let mut response = next.run(request).await;
    if response.status() != StatusCode::OK || bus.version() != Some(before) {
        return response;
    }
    if let Ok(value) = HeaderValue::from_str(&tag) {
        let headers = response.headers_mut();
        headers.insert(ETAG, value);
        headers.insert(CACHE_CONTROL, cache_control(private));
        headers.insert(VARY, HeaderValue::from_static(VARY_ON));
    }
    response
}

/// `W/"<epoch>-<version>-<who>"`: weak, as the body is the same data, not the same bytes
/// (compression may differ).
fn entity_tag(epoch: u64, counter: u64, headers: &HeaderMap) -> String {
    let mut hash = Sha256::new();
    hash.update(epoch.to_be_bytes());
    for name in [AUTHORIZATION.as_str(), API_KEY, ACCEPT.as_str()] {
        hash.update(name.as_bytes());
        for value in headers.get_all(name) {
            hash.update(b"=");
            hash.update(value.as_bytes());
        }
        hash.update(b"\n");
    }
    let who = hash.finalize();
    format!("W/\"{epoch:016x}-{counter:x}-{}\"", hex::encode(&who[..6]))
}

/// Whether `If-None-Match` names `tag` (weak comparison, as RFC 9110 asks for it), or is
/// `*`.
fn matches_current(headers: &HeaderMap, tag: &str) -> bool {
    let opaque = tag.trim_start_matches("W/");
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == opaque)
}

fn cache_control(private: bool) -> HeaderValue {
    HeaderValue::from_static(if private {
        "private, no-cache"
    } else {
        "public, no-cache"
    })
}

fn not_modified(tag: &str, private: bool) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(tag) {
        let headers = response.headers_mut();
        headers.insert(ETAG, value);
        headers.insert(CACHE_CONTROL, cache_control(private));
        headers.insert(VARY, HeaderValue::from_static(VARY_ON));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_tag_changes_with_the_version_and_with_who_asks() {
        let anonymous = entity_tag(7, 1, &headers(&[]));
        assert!(anonymous.starts_with("W/\"0000000000000007-1-"));
        assert_ne!(anonymous, entity_tag(7, 2, &headers(&[])));
        assert_ne!(anonymous, entity_tag(8, 1, &headers(&[])));
        let admin = entity_tag(7, 1, &headers(&[("x-api-key", "secret-key")]));
        assert_ne!(anonymous, admin);
        assert!(!admin.contains("secret"));
        assert_ne!(
            anonymous,
            entity_tag(
                7,
                1,
                &headers(&[("accept", "application/graphql-response+json")])
            )
        );
    }

    #[test]
    fn if_none_match_is_compared_weakly_in_lists() {
        let tag = entity_tag(7, 1, &headers(&[]));
        let strong = tag.trim_start_matches("W/").to_owned();
        assert!(matches_current(&headers(&[("if-none-match", &tag)]), &tag));
        assert!(matches_current(
            &headers(&[("if-none-match", &strong)]),
            &tag
        ));
        let list = format!("\"other\", {tag}");
        assert!(matches_current(&headers(&[("if-none-match", &list)]), &tag));
        assert!(matches_current(&headers(&[("if-none-match", "*")]), &tag));
        assert!(!matches_current(
            &headers(&[("if-none-match", "\"other\"")]),
            &tag
        ));
        assert!(!matches_current(&headers(&[]), &tag));
    }
}
