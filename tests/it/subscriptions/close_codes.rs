//! The graphql-transport-ws close codes async-graphql's own implementation gets wrong or
//! lacks: 4408, 4409, 4401, 4429, 4400 (4403 is with the admin key tests).

use super::RUNS;
use crate::both_engines;
use crate::support::ws::{WsClient, serve};
use crate::support::{ADMIN_KEY, TestApp};
use pangeo_forge_orchestrator::config::AdminKeys;
use pangeo_forge_orchestrator::server::ws::GRAPHQL_TRANSPORT_WS;
use pangeo_forge_orchestrator::server::{AppState, router};
use serde_json::{Value, json};
use std::time::Duration;

const INIT_TIMEOUT: Duration = Duration::from_millis(300);

async fn no_connection_init_in_time_closes_4408(app: TestApp) {
    let keys = AdminKeys::new([ADMIN_KEY.to_owned()]).expect("keys");
    let state = AppState::new(app.db().clone(), keys).with_ws_init_timeout(INIT_TIMEOUT);
    let server = serve(router(state)).await;

    let started = std::time::Instant::now();
    let mut silent = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    assert_eq!(
        silent.closed().await,
        (4408, "Connection initialisation timeout".into())
    );
    assert!(started.elapsed() >= INIT_TIMEOUT);

    // Once initialised, the deadline no longer applies. (Letting time pass is the point
    // here, not synchronisation.)
    let mut prompt = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    prompt.init(None).await;
    tokio::time::sleep(INIT_TIMEOUT * 2).await;
    assert_eq!(prompt.round_trip().await, Vec::<Value>::new());
}

async fn a_duplicate_subscription_id_closes_4409(app: TestApp) {
    let server = app.serve().await;
    let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    ws.init(None).await;
    // An id may be reused once its operation is over: completed by the client, or ended.
    ws.subscribe("a", RUNS, json!({})).await;
    ws.send(json!({"type": "complete", "id": "a"})).await;
    ws.subscribe("a", RUNS, json!({})).await;
    ws.subscribe("q", "{ stats { bakeries } }", json!({})).await;
    assert_eq!(ws.next("q").await, json!({"stats": {"bakeries": 0}}));
    assert_eq!(ws.json().await, json!({"type": "complete", "id": "q"}));
    ws.subscribe("q", "{ stats { bakeries } }", json!({})).await;
    assert_eq!(ws.next("q").await, json!({"stats": {"bakeries": 0}}));
    assert_eq!(ws.json().await, json!({"type": "complete", "id": "q"}));
    // Not while it is active.
    ws.subscribe("a", RUNS, json!({})).await;
    assert_eq!(
        ws.closed().await,
        (4409, "Subscriber for a already exists".into())
    );
}

async fn subscribe_before_the_ack_closes_4401(app: TestApp) {
    let server = app.serve().await;
    let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    ws.subscribe("a", RUNS, json!({})).await;
    assert_eq!(ws.closed().await, (4401, "Unauthorized".into()));
}

async fn a_second_connection_init_closes_4429(app: TestApp) {
    let server = app.serve().await;
    let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    ws.init(None).await;
    ws.send(json!({"type": "connection_init"})).await;
    assert_eq!(
        ws.closed().await,
        (4429, "Too many initialisation requests".into())
    );
}

async fn an_invalid_message_closes_4400(app: TestApp) {
    let server = app.serve().await;
    let invalid = [
        "not json".to_owned(),
        json!({"type": "connection_ack"}).to_string(),
        json!({"type": "subscribe", "payload": {"query": "{ stats { bakeries } }"}}).to_string(),
        json!({"id": "1"}).to_string(),
    ];
    for text in invalid {
        let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
        ws.init(None).await;
        ws.send_text(&text).await;
        let (code, reason) = ws.closed().await;
        assert_eq!(code, 4400, "{text}: {reason}");
        assert!(reason.starts_with("Invalid message received"), "{reason}");
    }
    let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    ws.send(json!({"type": "connection_init", "payload": "a string"}))
        .await;
    assert_eq!(ws.closed().await.0, 4400);
}

both_engines!(
    no_connection_init_in_time_closes_4408,
    a_duplicate_subscription_id_closes_4409,
    subscribe_before_the_ack_closes_4401,
    a_second_connection_init_closes_4429,
    an_invalid_message_closes_4400,
);
