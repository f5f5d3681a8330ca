//! `graphql-transport-ws` (<https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>),
//! implemented directly over the multiplexer ([`crate::graphql::live`]), which runs
//! `Schema::execute_stream` once per distinct subscription.
//!
//! Written here rather than wrapped around async-graphql's own `WebSocket` stream because
//! the parts that one gets wrong (the connection-init timeout, 4401 before the ack, 4409 on
//! a duplicate id, `error` for a request that fails validation, no `complete` echoed after
//! the client's) are the protocol's whole state machine: tracking that state outside the
//! library would mean parsing every message twice and second-guessing its replies. What is
//! left is one loop over three sources — the socket, the operations' results, the init
//! deadline — and a map of active ids, each with the handle that stops its stream.

use crate::graphql::auth::Caller;
use crate::graphql::live::Output;
use crate::server::AppState;
use async_graphql::Request;
use async_graphql::futures_util::stream::{self, AbortHandle, BoxStream, SelectAll};
use async_graphql::futures_util::{SinkExt, StreamExt, stream::abortable};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use super::envelope::envelope;
use super::goodbye::{GOING_AWAY, Open};
use super::{InitRefusal, init_caller};

/// The close codes this protocol defines.
pub mod close {
    /// An invalid message.
    pub const BAD_REQUEST: u16 = 4400;
    /// `subscribe` before `connection_ack`.
    pub const UNAUTHORIZED: u16 = 4401;
    /// `connection_init` carried a wrong key.
    pub const FORBIDDEN: u16 = 4403;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// `subscribe` with an id already in use.
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    /// A second `connection_init`.
    pub const TOO_MANY_INITS: u16 = 4429;
}

/// A close frame's reason may hold at most this many bytes.
const MAX_REASON_BYTES: usize = 123;

/// A message from the client.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    /// Its optional payload is ignored.
    Pong {},
    Subscribe {
        id: String,
        payload: Box<Request>,
    },
    Complete {
        id: String,
    },
}

/// What an operation's stream yields, tagged with its id.
struct Outcome {
    id: String,
    /// Whether this is the first result (a refused request is an `error`, not a `next`).
    first: bool,
    /// A result, or `None` when the stream ended by itself.
    output: Option<Arc<Output>>,
}

/// How the connection ends.
enum End {
    /// The socket failed or vanished: nothing more to send.
    Gone,
    /// The client sent a close frame: answer it (RFC 6455 §5.5.1).
    ClosedByClient,
    /// We close it with this code and reason.
    Close(u16, String),
}

struct Connection {
    state: AppState,
    caller: Caller,
    /// `connection_init` was accepted and acknowledged.
    acknowledged: bool,
    /// The operations in progress, by id.
    active: HashMap<String, AbortHandle>,
    results: SelectAll<BoxStream<'static, Outcome>>,
}

/// Serves one `graphql-transport-ws` connection until either side ends it.
pub async fn serve(mut socket: WebSocket, state: AppState, caller: Caller, mut open: Open) {
    let init_timeout = state.ws_init_timeout;
    let mut connection = Connection {
        state,
        caller,
        acknowledged: false,
        active: HashMap::new(),
        results: SelectAll::new(),
    };
    tracing::debug!("websocket connected");
    let end = connection.run(&mut socket, init_timeout, &mut open).await;
    for handle in connection.active.values() {
        handle.abort();
    }
    match end {
        End::Gone => tracing::debug!("websocket disconnected"),
        End::ClosedByClient => {
            tracing::debug!("websocket closed by the client");
            // tungstenite queued the echo of the client's frame; closing the sink sends it
            // (a `send` of a close frame would be refused as sent after closing).
            let _ = SinkExt::close(&mut socket).await;
        }
        End::Close(code, reason) => {
            tracing::info!(code, %reason, "closing the websocket");
            let frame = CloseFrame {
                code,
                reason: truncate(reason).into(),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
        }
    }
}

impl Connection {
    async fn run(
        &mut self,
        socket: &mut WebSocket,
        init_timeout: std::time::Duration,
        open: &mut Open,
    ) -> End {
        let deadline = tokio::time::sleep(init_timeout);
        tokio::pin!(deadline);
        let mut initialised = false;
        loop {
            let reply = tokio::select! {
                () = &mut deadline, if !initialised => {
                    return End::Close(close::INIT_TIMEOUT, "Connection initialisation timeout".into());
                }
                () = open.stopping() => {
                    return End::Close(GOING_AWAY, "Server shutting down".into());
                }
                message = socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => {
                        let outcome = self.on_message(text.as_str());
                        initialised = self.acknowledged;
                        outcome.map(|reply| reply.map(|message| message.to_string()))
                    }
                    Some(Ok(Message::Binary(_))) => Err(End::Close(
                        close::BAD_REQUEST,
                        "Invalid message received: binary frames are not part of this protocol".into(),
                    )),
                    // Pings are answered by the websocket layer.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(None),
                    Some(Ok(Message::Close(_))) => return End::ClosedByClient,
                    None => return End::Gone,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket failed");
                        return End::Gone;
                    }
                },
                Some(outcome) = self.results.next(), if !self.results.is_empty() => {
                    Ok(self.on_outcome(outcome))
                }
            };
            match reply {
                Ok(None) => {}
                Ok(Some(message)) => {
                    if socket.send(Message::Text(message.into())).await.is_err() {
                        return End::Gone;
                    }
                }
                Err(end) => return end,
            }
        }
    }

    /// Handles one client message: a message to send back, nothing, or the end.
    fn on_message(&mut self, text: &str) -> Result<Option<Value>, End> {
        // The reason (which is logged) names the kind of error, never the client's values:
        // serde's messages can quote them, and a confused client may send its key anywhere.
        let message: ClientMessage = serde_json::from_str(text).map_err(|e| {
            let what = match e.classify() {
                Category::Syntax | Category::Eof | Category::Io => "not JSON",
                Category::Data => "not a graphql-transport-ws client message",
            };
            End::Close(
                close::BAD_REQUEST,
                format!("Invalid message received: {what}"),
            )
        })?;
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.acknowledged {
                    return Err(End::Close(
                        close::TOO_MANY_INITS,
                        "Too many initialisation requests".into(),
                    ));
                }
                self.caller =
                    match init_caller(&self.state.admin_keys, payload.as_ref(), self.caller) {
                        Ok(caller) => caller,
                        Err(InitRefusal::Forbidden) => {
                            return Err(End::Close(close::FORBIDDEN, "Forbidden".into()));
                        }
                        Err(InitRefusal::Invalid(reason)) => {
                            return Err(End::Close(close::BAD_REQUEST, reason));
                        }
                    };
                self.acknowledged = true;
                tracing::debug!(
                    admin = self.caller == Caller::Admin,
                    "websocket initialised"
                );
                Ok(Some(json!({"type": "connection_ack"})))
            }
            ClientMessage::Ping { payload } => Ok(Some(match payload {
                Some(payload) => json!({"type": "pong", "payload": payload}),
                None => json!({"type": "pong"}),
            })),
            ClientMessage::Pong { .. } => Ok(None),
            ClientMessage::Subscribe { id, payload } => {
                if !self.acknowledged {
                    return Err(End::Close(close::UNAUTHORIZED, "Unauthorized".into()));
                }
                if self.active.contains_key(&id) {
                    return Err(End::Close(
                        close::SUBSCRIBER_EXISTS,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
                self.start(id, *payload);
                Ok(None)
            }
            ClientMessage::Complete { id } => {
                if let Some(handle) = self.active.remove(&id) {
                    tracing::debug!(%id, "operation completed by the client");
                    handle.abort();
                }
                Ok(None)
            }
        }
    }

    /// Starts operation `id`; its results arrive through `self.results`.
    fn start(&mut self, id: String, request: Request) {
        tracing::debug!(%id, operation = ?request.operation_name, "operation started");
        let outputs = self
            .state
            .live
            .stream(&self.state.schema, request, self.caller)
            .enumerate();
        let tagged = {
            let id = id.clone();
            outputs.map(move |(n, output)| Outcome {
                id: id.clone(),
                first: n == 0,
                output: Some(output),
            })
        }
        .chain(stream::once({
            let id = id.clone();
            async move {
                Outcome {
                    id,
                    first: false,
                    output: None,
                }
            }
        }));
        let (results, handle) = abortable(tagged);
        self.active.insert(id, handle);
        self.results.push(results.boxed());
    }

    /// The message for an operation's result or end (nothing for a stopped operation).
    fn on_outcome(&mut self, outcome: Outcome) -> Option<String> {
        let Outcome { id, first, output } = outcome;
        let Some(output) = output else {
            return self
                .active
                .remove(&id)
                .map(|_| json!({"type": "complete", "id": id}).to_string());
        };
        if !self.active.contains_key(&id) {
            return None;
        }
        if first && let Some(errors) = &output.refusal {
            // `error` ends the operation: no `complete` follows.
            if let Some(handle) = self.active.remove(&id) {
                handle.abort();
            }
            return Some(envelope("error", &id, errors));
        }
        Some(envelope("next", &id, &output.payload))
    }
}

/// `reason`, cut at a character boundary to fit a close frame.
fn truncate(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fit_a_close_frame() {
        assert_eq!(truncate("short".into()), "short");
        let long = "é".repeat(100);
        let cut = truncate(long);
        assert!(cut.len() <= MAX_REASON_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn client_messages_parse() {
        let parse = |text: &str| serde_json::from_str::<ClientMessage>(text).is_ok();
        assert!(parse(r#"{"type":"connection_init"}"#));
        assert!(parse(r#"{"type":"connection_init","payload":null}"#));
        assert!(parse(
            r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }"}}"#
        ));
        assert!(parse(r#"{"type":"complete","id":"1"}"#));
        assert!(parse(r#"{"type":"ping"}"#));
        assert!(!parse(r#"{"type":"connection_ack"}"#));
        assert!(!parse(
            r#"{"type":"subscribe","payload":{"query":"{ a }"}}"#
        ));
        assert!(!parse(r#"{"id":"1"}"#));
        assert!(!parse("not json"));
    }
}
