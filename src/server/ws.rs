//! GraphQL over WebSocket: `GET /graphql/ws`, for the subscriptions (and any query or
//! mutation a client prefers to send there).
//!
//! Two subprotocols are negotiated from `Sec-WebSocket-Protocol`:
//!
//! - `graphql-transport-ws` (the `graphql-ws` library): served by [`transport`], which
//!   follows the protocol's close codes to the letter (4400, 4401, 4403, 4408, 4409, 4429).
//! - `graphql-ws` (the legacy subscriptions-transport-ws): served by [`legacy`], which
//!   answers as async-graphql's own implementation did.
//!
//! Both execute through the multiplexer ([`crate::graphql::live`]): subscribers of the same
//! subscription share one execution, and each writes its own envelope ([`envelope`])
//! around the result text they share.
//!
//! The admin key may come in the `connection_init` payload (`{"authorization": "Bearer
//! <key>"}` or `{"x-api-key": "<key>"}`) or, for clients that can set them, in the upgrade
//! request's headers, exactly as over HTTP. A valid key makes the whole connection
//! [`Caller::Admin`]; a wrong key in `connection_init` is refused.

mod envelope;
mod goodbye;
mod legacy;
mod transport;

pub use goodbye::{GOING_AWAY, Goodbyes};

use super::AppState;
use super::graphql_http::caller;
use crate::config::AdminKeys;
use crate::graphql::auth::Caller;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::time::Duration;

/// Each connection's read buffer: enough for any subscribe message, small when idle.
pub const SOCKET_BUFFER_BYTES: usize = 1024;
/// The largest message a client may send (a GraphQL document and its variables).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The `graphql-ws` library's subprotocol.
pub const GRAPHQL_TRANSPORT_WS: &str = "graphql-transport-ws";
/// The legacy subscriptions-transport-ws subprotocol.
pub const GRAPHQL_WS: &str = "graphql-ws";
/// How long a `graphql-transport-ws` client has to send `connection_init` (see
/// [`AppState::with_ws_init_timeout`]).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// `GET /graphql/ws`: upgrades to one of the two subprotocols, or answers 400.
pub async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let upgrade = upgrade
        .protocols([GRAPHQL_TRANSPORT_WS, GRAPHQL_WS])
        // tungstenite's defaults (128 KiB read buffer, 128 KiB write buffer) would cost an
        // idle subscriber far more than its messages ever need.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE_BYTES);
    let protocol = upgrade
        .selected_protocol()
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let caller = caller(&state, &headers);
    match protocol.as_deref() {
        Some(GRAPHQL_TRANSPORT_WS) => {
            let open = state.goodbyes.open();
            upgrade.on_upgrade(move |socket| transport::serve(socket, state, caller, open))
        }
        Some(GRAPHQL_WS) => {
            let open = state.goodbyes.open();
            upgrade.on_upgrade(move |socket| legacy::serve(socket, state, caller, open))
        }
        _ => (
            StatusCode::BAD_REQUEST,
            format!(
                "send `Sec-WebSocket-Protocol: {GRAPHQL_TRANSPORT_WS}` (or the legacy `{GRAPHQL_WS}`)"
            ),
        )
            .into_response(),
    }
}

/// Why a `connection_init` payload is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InitRefusal {
    /// A key was presented and it is not an admin key (close 4403).
    Forbidden,
    /// The payload is not a JSON object (close 4400).
    Invalid(String),
}

/// The caller a `connection_init` payload makes of a connection that started as
/// `default` (what the upgrade request's headers said). Keys are matched
/// case-insensitively: `authorization` (`Bearer <key>`) first, then `x-api-key`.
pub(crate) fn init_caller(
    keys: &AdminKeys,
    payload: Option<&Value>,
    default: Caller,
) -> Result<Caller, InitRefusal> {
    let object = match payload {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Object(object)) => object,
        Some(_) => {
            return Err(InitRefusal::Invalid(
                "the connection_init payload must be an object".into(),
            ));
        }
    };
    let field = |name: &str| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    };
    let presented = if let Some(value) = field("authorization") {
        value
            .as_str()
            .and_then(|v| v.trim().strip_prefix("Bearer "))
            .unwrap_or("")
    } else if let Some(value) = field("x-api-key") {
        value.as_str().unwrap_or("")
    } else {
        return Ok(default);
    };
    if !presented.is_empty() && keys.accepts(presented.trim()) {
        Ok(Caller::Admin)
    } else {
        Err(InitRefusal::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "a-long-enough-admin-key";

    fn keys() -> AdminKeys {
        AdminKeys::new([KEY.to_owned()]).expect("keys")
    }

    #[test]
    fn init_payload_keys() {
        let keys = keys();
        let anon = Caller::Anonymous;
        let check = |payload: Value| init_caller(&keys, Some(&payload), anon);
        assert_eq!(init_caller(&keys, None, anon), Ok(anon));
        assert_eq!(check(json!(null)), Ok(anon));
        assert_eq!(check(json!({})), Ok(anon));
        assert_eq!(check(json!({"other": 1})), Ok(anon));
        let bearer = format!("Bearer {KEY}");
        assert_eq!(check(json!({"authorization": bearer})), Ok(Caller::Admin));
        assert_eq!(check(json!({"Authorization": bearer})), Ok(Caller::Admin));
        assert_eq!(check(json!({"x-api-key": KEY})), Ok(Caller::Admin));
        assert_eq!(check(json!({"X-API-Key": KEY})), Ok(Caller::Admin));
        assert_eq!(
            check(json!({"authorization": KEY})),
            Err(InitRefusal::Forbidden)
        );
        assert_eq!(
            check(json!({"x-api-key": "wrong"})),
            Err(InitRefusal::Forbidden)
        );
        assert_eq!(check(json!({"x-api-key": 7})), Err(InitRefusal::Forbidden));
        assert!(matches!(check(json!("key")), Err(InitRefusal::Invalid(_))));
        // Headers made the connection admin; a payload without a key leaves it so.
        assert_eq!(
            init_caller(&keys, Some(&json!({})), Caller::Admin),
            Ok(Caller::Admin)
        );
    }
}
