//! GraphQL over WebSocket: `GET /graphql/ws`, for the subscriptions (and any query or
//! mutation a client prefers to send there).
//!
//! Two subprotocols are negotiated from `Sec-WebSocket-Protocol`:
//!
//! - `graphql-transport-ws` (the `graphql-ws` library): served by [`transport`], which
//!   follows the protocol's close codes to the letter (4400, 4401, 4403, 4408, 4409, 4429).
//! - `graphql-ws` (the legacy subscriptions-transport-ws): served by async-graphql's own
//!   implementation.
//!
//! The admin key may come in the `connection_init` payload (`{"authorization": "Bearer
//! <key>"}` or `{"x-api-key": "<key>"}`) or, for clients that can set them, in the upgrade
//! request's headers, exactly as over HTTP. A valid key makes the whole connection
//! [`Caller::Admin`]; a wrong key in `connection_init` is refused.

mod goodbye;
mod transport;

pub use goodbye::{GOING_AWAY, Goodbyes};

use super::AppState;
use super::graphql_http::caller;
use crate::config::AdminKeys;
use crate::graphql::auth::Caller;
use async_graphql::futures_util::{SinkExt, StreamExt, future};
use async_graphql::http::{WebSocket as GraphQLWebSocket, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Error};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
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
            upgrade.on_upgrade(move |socket| legacy(socket, state, caller, open))
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

/// The legacy `graphql-ws` protocol, through async-graphql (a wrong key is answered with
/// `connection_error`, as that protocol has no close codes). The connection ends with a
/// close frame: 1000 after `connection_terminate` or the client's own close, 1001 when the
/// server stops.
async fn legacy(socket: WebSocket, state: AppState, caller: Caller, mut open: goodbye::Open) {
    let keys = state.admin_keys.clone();
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });
    let mut output = GraphQLWebSocket::new(
        state.schema.clone(),
        input,
        WebSocketProtocols::SubscriptionsTransportWS,
    )
    .on_connection_init(move |payload: Value| async move {
        let caller = match init_caller(&keys, Some(&payload), caller) {
            Ok(caller) => caller,
            Err(InitRefusal::Forbidden) => {
                tracing::info!("websocket connection refused: wrong admin key");
                return Err(Error::new("Forbidden"));
            }
            Err(InitRefusal::Invalid(message)) => return Err(Error::new(message)),
        };
        tracing::debug!(
            admin = caller == Caller::Admin,
            "legacy websocket initialised"
        );
        let mut data = Data::default();
        data.insert(caller);
        Ok(data)
    })
    .map(|message| match message {
        WsMessage::Text(text) => Message::Text(text.into()),
        WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })),
    });
    let mut close = CloseFrame {
        code: goodbye::NORMAL,
        reason: "".into(),
    };
    loop {
        tokio::select! {
            message = output.next() => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
            () = open.stopping() => {
                close = CloseFrame { code: GOING_AWAY, reason: "Server shutting down".into() };
                break;
            }
        }
    }
    // Answers a client's close, or closes after `connection_terminate` / at shutdown.
    let _ = sink.send(Message::Close(Some(close))).await;
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
