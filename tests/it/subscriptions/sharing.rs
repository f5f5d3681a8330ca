//! Subscribers of the same subscription share one execution (`graphql::live`): what each
//! receives is byte for byte what its own execution would send, different variables or
//! callers are never merged, `since` still replays, a slow subscriber is resynchronised on
//! its own, and the last one to leave stops the execution — on both protocols. `/metrics`
//! shows the executions (`pfo_subscription_executions`).

use super::{DELIVERIES, RUNS, SET_STATUS, World, run_of, set_status, status_variables};
use crate::both_engines;
use crate::support::webhooks::{fixture, with_repository};
use crate::support::ws::{WAIT, WsClient, serve, wait_for_subscribers};
use crate::support::{ADMIN_KEY, TestApp, error_code};
use async_graphql::futures_util::StreamExt;
use pangeo_forge_orchestrator::config::AdminKeys;
use pangeo_forge_orchestrator::server::ws::{GRAPHQL_TRANSPORT_WS, GRAPHQL_WS};
use pangeo_forge_orchestrator::server::{AppState, router};
use serde_json::{Value, json};
use std::time::Duration;

/// `(shared, private)` executions, as `/metrics` shows them.
async fn executions(app: &TestApp) -> (usize, usize) {
    let text = app.get("/metrics").await.text();
    let count = |kind: &str| {
        let prefix = format!("pfo_subscription_executions{{kind=\"{kind}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
    };
    (count("shared"), count("private"))
}

/// Waits until `/metrics` shows `expected` (shared, private) executions.
async fn wait_for_executions(app: &TestApp, expected: (usize, usize)) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = executions(app).await;
        if now == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{now:?} executions, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The payload of a `next` / `data` message exactly as written: the text after its
/// envelope's `"payload":`.
fn payload_text<'a>(message: &'a str, kind: &str, id: &str) -> &'a str {
    let prefix = format!(r#"{{"type":"{kind}","id":{},"payload":"#, json!(id));
    message
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not a {kind} message for {id}: {message}"))
}

async fn subscribers_of_one_document_share_its_results(app: TestApp) {
    let world = World::new(&app).await;
    let feedstock = world.feedstocks[0];
    let server = app.serve().await;
    // The same subscription executed privately, for comparison: a server over the same
    // database that shares nothing.
    let keys = AdminKeys::new([ADMIN_KEY.to_owned()]).expect("keys");
    let private_state = AppState::new(app.db().clone(), keys).with_subscriptions_shared(false);
    let private_live = private_state.live.clone();
    let private_server = serve(router(private_state)).await;

    let variables = json!({"feedstockId": feedstock});
    // Ids that need escaping, to show each connection writes its own envelope.
    let ids = ["a", "b\"quoted\"", "c\\back"];
    let mut modern = Vec::new();
    for id in ids {
        let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
        ws.init(None).await;
        ws.subscribe(id, RUNS, variables.clone()).await;
        modern.push((id, ws));
    }
    let mut legacy = WsClient::connect(server.address, GRAPHQL_WS).await;
    legacy.send(json!({"type": "connection_init"})).await;
    assert_eq!(legacy.json().await["type"], "connection_ack");
    legacy
        .send(
            json!({"type": "start", "id": "l", "payload": {"query": RUNS, "variables": variables}}),
        )
        .await;
    let mut reference = WsClient::connect(private_server.address, GRAPHQL_TRANSPORT_WS).await;
    reference.init(None).await;
    reference.subscribe("a", RUNS, variables.clone()).await;
    wait_for_subscribers(&app, 4).await;
    tokio::time::timeout(WAIT, async {
        while private_live.counts().subscribers != 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the reference subscription listens");
    // Four subscribers, one execution.
    assert_eq!(executions(&app).await, (1, 0));

    // Runs made from here on (on PostgreSQL a notice can arrive after its commit).
    let (run, _) = world.create_run(&app, feedstock).await;
    for status in ["QUEUED", "IN_PROGRESS", "COMPLETED"] {
        if status != "QUEUED" {
            set_status(&app, run, status).await;
        }
        let expected = reference.text().await;
        let expected = payload_text(&expected, "next", "a");
        assert_eq!(
            run_of(&serde_json::from_str::<Value>(expected).expect("JSON")["data"]).1,
            status
        );
        for (id, ws) in &mut modern {
            let message = ws.text().await;
            assert_eq!(
                payload_text(&message, "next", id),
                expected,
                "graphql-transport-ws {id}"
            );
        }
        let message = legacy.text().await;
        assert_eq!(
            payload_text(&message, "data", "l"),
            expected,
            "graphql-ws (legacy)"
        );
    }

    // Leaving: `complete` stops only that subscriber; the last one stops the execution.
    let (_, first) = &mut modern[0];
    first.send(json!({"type": "complete", "id": "a"})).await;
    assert_eq!(first.round_trip().await, Vec::<Value>::new());
    wait_for_subscribers(&app, 3).await;
    set_status(&app, run, "QUEUED").await;
    for (id, ws) in &mut modern[1..] {
        assert_eq!(run_of(&ws.next(id).await), (run, "QUEUED".into()));
    }
    assert_eq!(
        run_of(&legacy.json().await["payload"]["data"]),
        (run, "QUEUED".into())
    );
    assert_eq!(
        modern[0].1.round_trip().await,
        Vec::<Value>::new(),
        "nothing after complete"
    );
    for (id, ws) in &mut modern[1..] {
        ws.send(json!({"type": "complete", "id": id})).await;
    }
    wait_for_subscribers(&app, 1).await;
    assert_eq!(
        executions(&app).await,
        (1, 0),
        "the legacy subscriber still holds it"
    );
    legacy.send(json!({"type": "stop", "id": "l"})).await;
    assert_eq!(legacy.json().await, json!({"type": "complete", "id": "l"}));
    wait_for_executions(&app, (0, 0)).await;
    wait_for_subscribers(&app, 0).await;
    let metrics = app.get("/metrics").await.text();
    assert!(
        metrics.lines().any(|l| l == "pfo_subscriptions 0"),
        "{metrics}"
    );

    // A new subscriber starts a new execution, which delivers only what comes after it.
    let (_, ws) = &mut modern[0];
    ws.subscribe("again", RUNS, variables.clone()).await;
    wait_for_subscribers(&app, 1).await;
    assert_eq!(executions(&app).await, (1, 0));
    set_status(&app, run, "IN_PROGRESS").await;
    assert_eq!(run_of(&ws.next("again").await), (run, "IN_PROGRESS".into()));
}

async fn different_variables_and_callers_are_not_merged(app: TestApp) {
    let world = World::new(&app).await;
    let [mine, other] = world.feedstocks;
    let server = app.serve().await;
    let bearer = format!("Bearer {ADMIN_KEY}");
    let mut deliveries = Vec::new();
    for key in [
        Some(json!({"authorization": bearer})),
        None,
        Some(json!({"authorization": bearer})),
        None,
    ] {
        let admin = key.is_some();
        let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
        ws.init(key).await;
        ws.subscribe("d", DELIVERIES, json!({})).await;
        deliveries.push((admin, ws));
    }
    let mut runs = Vec::new();
    for feedstock in [mine, other] {
        let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
        ws.init(None).await;
        ws.subscribe("r", RUNS, json!({"feedstockId": feedstock}))
            .await;
        runs.push(ws);
    }
    wait_for_subscribers(&app, 6).await;
    // Admin and anonymous deliveries, and each feedstock's runs: four executions.
    assert_eq!(executions(&app).await, (4, 0));

    let body = with_repository(fixture("pull_request/opened.payload.json"), "a/b-feedstock");
    let reply = app.deliver("pull_request", "guid-share-1", &body).await;
    assert!(reply.status.is_success(), "{}", reply.text());
    for (admin, ws) in &mut deliveries {
        let message = ws.json().await;
        assert_eq!(message["type"], "next", "{message}");
        if *admin {
            let delivery = &message["payload"]["data"]["webhookDeliveryUpdated"];
            assert_eq!(delivery["guid"], "guid-share-1", "{message}");
            assert!(delivery["payload"].is_string(), "{message}");
        } else {
            assert_eq!(
                error_code(&message["payload"]),
                "UNAUTHENTICATED",
                "{message}"
            );
        }
    }

    let (my_run, _) = world.create_run(&app, mine).await;
    assert_eq!(run_of(&runs[0].next("r").await), (my_run, "QUEUED".into()));
    set_status(&app, my_run, "IN_PROGRESS").await;
    assert_eq!(
        run_of(&runs[0].next("r").await),
        (my_run, "IN_PROGRESS".into())
    );
    assert_eq!(
        runs[1].round_trip().await,
        Vec::<Value>::new(),
        "another feedstock's subscriber"
    );
}

async fn since_runs_privately_beside_a_shared_execution(app: TestApp) {
    let world = World::new(&app).await;
    let feedstock = world.feedstocks[0];
    let server = app.serve().await;
    let mut live = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    live.init(None).await;
    live.subscribe("live", RUNS, json!({"feedstockId": feedstock}))
        .await;
    wait_for_subscribers(&app, 1).await;
    let (early, since) = world.create_run(&app, feedstock).await;
    assert_eq!(run_of(&live.next("live").await), (early, "QUEUED".into()));
    set_status(&app, early, "IN_PROGRESS").await;
    assert_eq!(
        run_of(&live.next("live").await),
        (early, "IN_PROGRESS".into())
    );

    // The same document with `since`: its own execution, which replays first.
    let mut resuming = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    resuming.init(None).await;
    resuming
        .subscribe("r", RUNS, json!({"feedstockId": feedstock, "since": since}))
        .await;
    assert_eq!(
        run_of(&resuming.next("r").await),
        (early, "IN_PROGRESS".into())
    );
    assert_eq!(executions(&app).await, (1, 1));
    // Then both live, once each.
    set_status(&app, early, "COMPLETED").await;
    assert_eq!(
        run_of(&resuming.next("r").await),
        (early, "COMPLETED".into())
    );
    assert_eq!(
        run_of(&live.next("live").await),
        (early, "COMPLETED".into())
    );
    assert_eq!(resuming.round_trip().await, Vec::<Value>::new());
    assert_eq!(live.round_trip().await, Vec::<Value>::new());
    // `since: null` is no resume: it shares.
    let mut null_since = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    null_since.init(None).await;
    null_since
        .subscribe("n", RUNS, json!({"feedstockId": feedstock, "since": null}))
        .await;
    wait_for_subscribers(&app, 3).await;
    assert_eq!(
        executions(&app).await,
        (2, 1),
        "different variables text, its own group"
    );
}

/// One subscriber reads nothing while a run changes more often than its group buffers: it
/// is told it fell behind, then gets each changed run once, as it is now, then live changes;
/// the subscriber that kept up received every change, in order, without an error.
async fn a_slow_subscriber_is_resynchronised_alone(app: TestApp) {
    let world = World::new(&app).await;
    let feedstock = world.feedstocks[0];
    let state = app.orchestrator.state().clone();
    let request = || {
        async_graphql::Request::new(RUNS).variables(async_graphql::Variables::from_json(
            json!({"feedstockId": feedstock}),
        ))
    };
    let caller = Default::default();
    let fast = state.live.stream(&state.schema, request(), caller);
    let mut slow = state.live.stream(&state.schema, request(), caller);
    // The fast subscriber reads as results come.
    let (tx, mut fast_results) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(fast.for_each(move |output| {
        let _ = tx.send(output);
        async {}
    }));
    wait_for_subscribers(&app, 2).await;
    assert_eq!(executions(&app).await, (1, 0));

    // Made now: on PostgreSQL a notice may arrive after its commit.
    let (busy, _) = world.create_run(&app, feedstock).await;
    let (quiet, _) = world.create_run(&app, feedstock).await;
    let changes = 400; // more than the group buffers (graphql::live's CAPACITY, 256)
    let change = async |run: i64, status: &str| -> String {
        let changed = app
            .admin_data(SET_STATUS, status_variables(run, status))
            .await;
        changed["updateRecipeRun"]["updatedAt"]
            .as_str()
            .expect("updatedAt")
            .to_owned()
    };
    let mut last = std::collections::HashMap::new();
    let mut busy_status = String::new();
    for n in 0..changes {
        busy_status = if n % 2 == 0 { "IN_PROGRESS" } else { "QUEUED" }.to_owned();
        last.insert(busy, change(busy, &busy_status).await);
        if n == changes / 2 {
            last.insert(quiet, change(quiet, "IN_PROGRESS").await);
        }
    }
    let data = |payload: &str| -> Value { serde_json::from_str(payload).expect("JSON") };
    // Every change (on PostgreSQL a notice loads the row as it is by then, so changes that
    // follow closely may arrive as one), each once, in order, ending with the last.
    let mut seen: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    while seen.get(&busy) != last.get(&busy) {
        let output = tokio::time::timeout(WAIT, fast_results.recv())
            .await
            .expect("in time")
            .expect("a result");
        let response = data(&output.payload);
        assert!(response.get("errors").is_none(), "{response}");
        let run = &response["data"]["recipeRunUpdated"];
        let id = run["id"].as_i64().expect("id");
        let at = run["updatedAt"].as_str().expect("updatedAt").to_owned();
        if let Some(before) = seen.get(&id) {
            assert!(
                chrono::DateTime::parse_from_rfc3339(&at).expect("time")
                    > chrono::DateTime::parse_from_rfc3339(before).expect("time"),
                "run {id}: {at} after {before}"
            );
        }
        seen.insert(id, at);
    }
    assert_eq!(
        seen.get(&quiet),
        last.get(&quiet),
        "the quiet run's change arrived"
    );

    let mut next_slow = async || {
        let output = tokio::time::timeout(WAIT, slow.next())
            .await
            .expect("in time")
            .expect("a result");
        data(&output.payload)
    };
    let lag = next_slow().await;
    let message = lag["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("changes behind; resynchronising from"),
        "{lag}"
    );
    // Each changed run once, as it is now, in the order they last changed.
    assert_eq!(
        run_of(&next_slow().await["data"]),
        (quiet, "IN_PROGRESS".into())
    );
    assert_eq!(run_of(&next_slow().await["data"]), (busy, busy_status));
    // Then live again, each change once.
    set_status(&app, quiet, "COMPLETED").await;
    assert_eq!(
        run_of(&next_slow().await["data"]),
        (quiet, "COMPLETED".into())
    );
    let fast_next = fast_results.recv().await.expect("a result");
    assert_eq!(
        run_of(&data(&fast_next.payload)["data"]),
        (quiet, "COMPLETED".into())
    );
    // The slow one now runs on its own; the fast one still shares the group.
    assert_eq!(executions(&app).await, (1, 1));
    drop(slow);
    reader.abort();
    wait_for_executions(&app, (0, 0)).await;
}

both_engines!(
    subscribers_of_one_document_share_its_results,
    different_variables_and_callers_are_not_merged,
    since_runs_privately_beside_a_shared_execution,
    a_slow_subscriber_is_resynchronised_alone,
);
