//! A websocket client for the GraphQL subscriptions, and the real router served on a real
//! port (`oneshot` cannot upgrade). Every wait has a timeout.

use super::TestApp;
use async_graphql::futures_util::{SinkExt, StreamExt};
use axum::Router;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::ClientRequestBuilder;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any one expected message may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// A router served on 127.0.0.1 until dropped.
pub struct Served {
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on a free local port.
pub async fn serve(router: Router) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    Served { address, task }
}

impl TestApp {
    /// This app's router on a real port.
    pub async fn serve(&self) -> Served {
        serve(self.router.clone()).await
    }
}

/// Waits until `app` holds exactly `n` live subscriptions: their executions listen to the
/// change bus (so later changes reach them), and stopped ones were dropped (`/metrics`
/// shows the same count as `pfo_subscriptions`).
pub async fn wait_for_subscribers(app: &TestApp, n: usize) {
    let live = &app.orchestrator.state().live;
    tokio::time::timeout(WAIT, async {
        while live.counts().subscribers != n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "{:?} after {WAIT:?}, expected {n} subscribers",
            live.counts()
        )
    });
}

/// What the server sent.
#[derive(Debug)]
pub enum Received {
    /// A text message, as JSON.
    Json(Value),
    /// A close frame: code and reason.
    Closed(u16, String),
}

/// One websocket connection to `/graphql/ws`.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects to `address` offering `protocol`.
    pub async fn connect(address: impl std::fmt::Display, protocol: &str) -> WsClient {
        let uri = format!("ws://{address}/graphql/ws").parse().expect("uri");
        let request = ClientRequestBuilder::new(uri).with_sub_protocol(protocol);
        let (stream, response) =
            tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
                .await
                .expect("connect in time")
                .expect("connect");
        let chosen = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok());
        assert_eq!(chosen, Some(protocol));
        WsClient { stream }
    }

    /// Sends one JSON message.
    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// Sends one text message as it is.
    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// The next text message or close frame (panics after [`WAIT`]).
    pub async fn receive(&mut self) -> Received {
        loop {
            let message = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("nothing received in {WAIT:?}"));
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
                    return Received::Json(value);
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(frame) => {
                            Received::Closed(frame.code.into(), frame.reason.to_string())
                        }
                        None => Received::Closed(1005, String::new()),
                    };
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("websocket error: {e}"),
                None => panic!("the connection ended without a close frame"),
            }
        }
    }

    /// The next message as the server wrote it, which must be a text message.
    pub async fn text(&mut self) -> String {
        loop {
            let message = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("nothing received in {WAIT:?}"));
            match message {
                Some(Ok(Message::Text(text))) => return text.as_str().to_owned(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// The next message, which must be JSON.
    pub async fn json(&mut self) -> Value {
        match self.receive().await {
            Received::Json(value) => value,
            Received::Closed(code, reason) => panic!("closed {code} {reason:?}"),
        }
    }

    /// The next message must be a close frame; returns its code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        match self.receive().await {
            Received::Closed(code, reason) => (code, reason),
            Received::Json(value) => panic!("expected a close frame, got {value}"),
        }
    }

    /// Sends a close frame with `code`; the server's answer is read with [`WsClient::closed`].
    pub async fn close(&mut self, code: u16) {
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: "".into(),
        };
        self.stream
            .send(Message::Close(Some(frame)))
            .await
            .expect("send the close frame");
    }

    /// `connection_init` with `payload`; the answer must be `connection_ack`.
    pub async fn init(&mut self, payload: Option<Value>) {
        let mut message = json!({"type": "connection_init"});
        if let Some(payload) = payload {
            message["payload"] = payload;
        }
        self.send(message).await;
        let ack = self.json().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
    }

    /// `subscribe` (graphql-transport-ws) operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"type": "subscribe", "id": id,
                         "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next message must be a `next` for `id` without errors; returns its `data`.
    pub async fn next(&mut self, id: &str) -> Value {
        let message = self.json().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], id, "{message}");
        assert!(
            message["payload"].get("errors").is_none(),
            "unexpected errors: {message}"
        );
        message["payload"]["data"].clone()
    }

    /// Sends a ping and waits for its pong, so every message sent before has been handled;
    /// returns what arrived in between.
    pub async fn round_trip(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping", "payload": {"probe": true}}))
            .await;
        let mut before = Vec::new();
        loop {
            let message = self.json().await;
            if message["type"] == "pong" {
                assert_eq!(message["payload"], json!({"probe": true}), "{message}");
                return before;
            }
            before.push(message);
        }
    }
}
