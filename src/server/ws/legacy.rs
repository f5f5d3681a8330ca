//! The legacy `graphql-ws` protocol (subscriptions-transport-ws,
//! <https://github.com/apollographql/subscriptions-transport-ws/blob/master/PROTOCOL.md>),
//! over the multiplexer ([`crate::graphql::live`]), as async-graphql's own implementation
//! (which served it before) answers: `connection_ack` or `connection_error` (a wrong key:
//! this protocol has no close codes), `data` per result and `complete` when an operation
//! ends or is stopped, `pong` to `ping`; `start` before the ack closes 1011, an unreadable
//! message 1002. The connection ends with a close frame: 1000 after `connection_terminate`,
//! a `connection_error` or the client's own close, 1001 when the server stops.

use super::envelope::envelope;
use super::goodbye::{self, GOING_AWAY, Open};
use super::{InitRefusal, init_caller};
use crate::graphql::auth::Caller;
use crate::graphql::live::Output;
use crate::server::AppState;
use async_graphql::Request;
use async_graphql::futures_util::stream::{self, AbortHandle, BoxStream, SelectAll, abortable};
use async_graphql::futures_util::{SinkExt, StreamExt};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Close code: a message that is not one of this protocol's.
const PROTOCOL_ERROR: u16 = 1002;
/// Close code: `start` before `connection_init` was accepted.
const NOT_INITIALISED: u16 = 1011;

/// A message from the client (`subscribe` and `complete` are accepted for `start` and `stop`).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    #[serde(alias = "subscribe")]
    Start {
        id: String,
        payload: Box<Request>,
    },
    #[serde(alias = "complete")]
    Stop {
        id: String,
    },
    ConnectionTerminate,
    /// Its payload is ignored.
    Ping {},
    /// Its payload is ignored.
    Pong {},
}

/// An operation's result (`None`: it ended by itself), tagged with its id.
struct Outcome {
    id: String,
    output: Option<Arc<Output>>,
}

/// What to do after a client message.
enum Step {
    Reply(String),
    Nothing,
    /// Send this (if anything), then close with this code and reason.
    End(Option<String>, u16, String),
}

struct Connection {
    state: AppState,
    caller: Caller,
    /// `connection_init` was received (a second one is refused).
    init_seen: bool,
    /// `connection_init` was accepted.
    acknowledged: bool,
    active: HashMap<String, AbortHandle>,
    results: SelectAll<BoxStream<'static, Outcome>>,
}

/// Serves one legacy `graphql-ws` connection until either side ends it.
pub async fn serve(mut socket: WebSocket, state: AppState, caller: Caller, mut open: Open) {
    let mut connection = Connection {
        state,
        caller,
        init_seen: false,
        acknowledged: false,
        active: HashMap::new(),
        results: SelectAll::new(),
    };
    let close = connection.run(&mut socket, &mut open).await;
    for handle in connection.active.values() {
        handle.abort();
    }
    match close {
        End::Gone => {}
        // tungstenite queued the echo of the client's frame; closing the sink sends it.
        End::ClosedByClient => {
            let _ = SinkExt::close(&mut socket).await;
        }
        // After `connection_terminate` or `connection_error`, or at shutdown.
        End::Close(frame) => {
            let _ = socket.send(Message::Close(Some(frame))).await;
        }
    }
}

/// How the connection ends.
enum End {
    /// The socket failed or vanished.
    Gone,
    /// The client sent a close frame: answer it.
    ClosedByClient,
    /// We close it with this frame.
    Close(CloseFrame),
}

impl Connection {
    /// Runs until the end.
    async fn run(&mut self, socket: &mut WebSocket, open: &mut Open) -> End {
        loop {
            let step = tokio::select! {
                () = open.stopping() => {
                    return End::Close(CloseFrame { code: GOING_AWAY, reason: "Server shutting down".into() });
                }
                message = socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => self.on_message(text.as_bytes()),
                    Some(Ok(Message::Binary(bytes))) => self.on_message(&bytes),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Step::Nothing,
                    Some(Ok(Message::Close(_))) => return End::ClosedByClient,
                    None => return End::Gone,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket failed");
                        return End::Gone;
                    }
                },
                Some(outcome) = self.results.next(), if !self.results.is_empty() => {
                    match self.on_outcome(outcome) {
                        Some(text) => Step::Reply(text),
                        None => Step::Nothing,
                    }
                }
            };
            match step {
                Step::Nothing => {}
                Step::Reply(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return End::Gone;
                    }
                }
                Step::End(last, code, reason) => {
                    if let Some(text) = last
                        && socket.send(Message::Text(text.into())).await.is_err()
                    {
                        return End::Gone;
                    }
                    return End::Close(CloseFrame {
                        code,
                        reason: reason.into(),
                    });
                }
            }
        }
    }

    fn on_message(&mut self, bytes: &[u8]) -> Step {
        let message: ClientMessage = match serde_json::from_slice(bytes) {
            Ok(message) => message,
            // The reason names the kind of error, never the client's values.
            Err(e) if e.is_data() => {
                return Step::End(
                    None,
                    PROTOCOL_ERROR,
                    "Invalid message received: not a graphql-ws client message".into(),
                );
            }
            Err(_) => {
                return Step::End(
                    None,
                    PROTOCOL_ERROR,
                    "Invalid message received: not JSON".into(),
                );
            }
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.on_init(payload),
            ClientMessage::Start { id, payload } => {
                if !self.acknowledged {
                    return Step::End(
                        None,
                        NOT_INITIALISED,
                        "The handshake is not completed.".into(),
                    );
                }
                // A second `start` with an id in use replaces that operation.
                if let Some(handle) = self.active.remove(&id) {
                    handle.abort();
                }
                self.start(id, *payload);
                Step::Nothing
            }
            ClientMessage::Stop { id } => match self.active.remove(&id) {
                Some(handle) => {
                    handle.abort();
                    Step::Reply(json!({"type": "complete", "id": id}).to_string())
                }
                None => Step::Nothing,
            },
            ClientMessage::ConnectionTerminate => Step::End(None, goodbye::NORMAL, String::new()),
            ClientMessage::Ping {} => Step::Reply(json!({"type": "pong"}).to_string()),
            ClientMessage::Pong {} => Step::Nothing,
        }
    }

    fn on_init(&mut self, payload: Option<Value>) -> Step {
        let refuse = |message: &str| {
            let error = json!({"type": "connection_error", "payload": {"message": message}});
            Step::End(Some(error.to_string()), goodbye::NORMAL, String::new())
        };
        if std::mem::replace(&mut self.init_seen, true) {
            return refuse("Too many initialisation requests.");
        }
        let payload = payload.unwrap_or_default();
        match init_caller(&self.state.admin_keys, Some(&payload), self.caller) {
            Ok(caller) => {
                self.caller = caller;
                self.acknowledged = true;
                tracing::debug!(
                    admin = caller == Caller::Admin,
                    "legacy websocket initialised"
                );
                Step::Reply(json!({"type": "connection_ack"}).to_string())
            }
            Err(InitRefusal::Forbidden) => {
                tracing::info!("websocket connection refused: wrong admin key");
                refuse("Forbidden")
            }
            Err(InitRefusal::Invalid(message)) => refuse(&message),
        }
    }

    /// Starts operation `id`; its results arrive through `self.results`.
    fn start(&mut self, id: String, request: Request) {
        tracing::debug!(%id, operation = ?request.operation_name, "operation started");
        let outputs = self
            .state
            .live
            .stream(&self.state.schema, request, self.caller);
        let tagged = {
            let id = id.clone();
            outputs.map(move |output| Outcome {
                id: id.clone(),
                output: Some(output),
            })
        }
        .chain(stream::once({
            let id = id.clone();
            async move { Outcome { id, output: None } }
        }));
        let (results, handle) = abortable(tagged);
        self.active.insert(id, handle);
        self.results.push(results.boxed());
    }

    /// The message for an operation's result or end (nothing for a stopped operation).
    fn on_outcome(&mut self, Outcome { id, output }: Outcome) -> Option<String> {
        match output {
            Some(output) => self
                .active
                .contains_key(&id)
                .then(|| envelope("data", &id, &output.payload)),
            None => self
                .active
                .remove(&id)
                .map(|_| json!({"type": "complete", "id": id}).to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse() {
        let parse = |text: &str| serde_json::from_str::<ClientMessage>(text).is_ok();
        assert!(parse(r#"{"type":"connection_init","payload":{}}"#));
        assert!(parse(r#"{"type":"connection_init"}"#));
        assert!(parse(
            r#"{"type":"start","id":"1","payload":{"query":"{ a }"}}"#
        ));
        assert!(parse(
            r#"{"type":"subscribe","id":"1","payload":{"query":"{ a }"}}"#
        ));
        assert!(parse(r#"{"type":"stop","id":"1"}"#));
        assert!(parse(r#"{"type":"complete","id":"1"}"#));
        assert!(parse(r#"{"type":"connection_terminate"}"#));
        assert!(parse(r#"{"type":"ping","payload":{"a":1}}"#));
        assert!(!parse(r#"{"type":"data","id":"1"}"#));
        assert!(!parse("not json"));
    }
}
