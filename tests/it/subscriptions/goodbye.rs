//! Closing handshakes (RFC 6455 §5.5.1): a client's close frame is answered with one, on
//! both protocols; `connection_terminate` ends a legacy connection with 1000; a stopping
//! server (`App::run`'s shutdown) sends 1001 to every subscriber before it goes.

use super::RUNS;
use crate::both_engines;
use crate::support::TestApp;
use crate::support::ws::WsClient;
use pangeo_forge_orchestrator::server::ws::{GRAPHQL_TRANSPORT_WS, GRAPHQL_WS};
use serde_json::json;

async fn a_clients_close_frame_is_answered(app: TestApp) {
    let server = app.serve().await;
    let mut modern = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    modern.init(None).await;
    modern.subscribe("a", RUNS, json!({})).await;
    modern.close(1000).await;
    assert_eq!(modern.closed().await.0, 1000, "graphql-transport-ws");

    let mut legacy = WsClient::connect(server.address, GRAPHQL_WS).await;
    legacy.send(json!({"type": "connection_init"})).await;
    assert_eq!(legacy.json().await["type"], "connection_ack");
    legacy.close(1000).await;
    assert_eq!(legacy.closed().await.0, 1000, "graphql-ws (legacy)");
}

async fn connection_terminate_closes_1000(app: TestApp) {
    let server = app.serve().await;
    let mut legacy = WsClient::connect(server.address, GRAPHQL_WS).await;
    legacy.send(json!({"type": "connection_init"})).await;
    assert_eq!(legacy.json().await["type"], "connection_ack");
    legacy.send(json!({"type": "connection_terminate"})).await;
    assert_eq!(legacy.closed().await.0, 1000);
}

async fn a_stopping_server_sends_1001_to_every_subscriber(app: TestApp) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        app.orchestrator
            .clone()
            .with_workers(1)
            .run(listener, async move {
                let _ = stopped.await;
            }),
    );
    let mut modern = WsClient::connect(address, GRAPHQL_TRANSPORT_WS).await;
    modern.init(None).await;
    modern.subscribe("a", RUNS, json!({})).await;
    let mut legacy = WsClient::connect(address, GRAPHQL_WS).await;
    legacy.send(json!({"type": "connection_init"})).await;
    assert_eq!(legacy.json().await["type"], "connection_ack");
    legacy
        .send(json!({"type": "start", "id": "b", "payload": {"query": RUNS}}))
        .await;
    assert!(modern.round_trip().await.is_empty());

    stop.send(()).expect("the server is running");
    assert_eq!(
        modern.closed().await,
        (1001, "Server shutting down".to_owned())
    );
    assert_eq!(
        legacy.closed().await,
        (1001, "Server shutting down".to_owned())
    );
    server
        .await
        .expect("the server task")
        .expect("the server stopped cleanly");
}

both_engines!(
    a_clients_close_frame_is_answered,
    connection_terminate_closes_1000,
    a_stopping_server_sends_1001_to_every_subscriber,
);
