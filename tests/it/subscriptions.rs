//! GraphQL subscriptions over `/graphql/ws`, on a real port: both subprotocols, the
//! graphql-transport-ws close codes, resuming with `since`, the admin key in
//! `connection_init`, and (on PostgreSQL) a change made on one replica reaching a
//! subscriber of another.
//!
//! Nothing here sleeps to synchronise: a subscription is known to be live once its
//! `since` replay arrives (the resolver has subscribed to the event bus — and on
//! PostgreSQL the listener is LISTENing — before it replays), or once the process counts
//! its subscribers.

mod close_codes;
mod goodbye;
mod sharing;

use crate::both_engines;
use crate::sample::SHA_A;
use crate::support::process::{command, http_with, parse, serve};
use crate::support::webhooks::{fixture, with_repository};
use crate::support::ws::{WsClient, wait_for_subscribers};
use crate::support::{ADMIN_KEY, Engine, TestApp, error_code};
use pangeo_forge_orchestrator::db::{NewBakery, NewFeedstock};
use pangeo_forge_orchestrator::server::ws::{GRAPHQL_TRANSPORT_WS, GRAPHQL_WS};
use serde_json::{Value, json};

/// Before anything a test makes.
const EPOCH: &str = "1970-01-01T00:00:00Z";

pub(crate) const RUNS: &str = r#"subscription($id: Int, $feedstockId: Int, $since: DateTime) {
    recipeRunUpdated(id: $id, feedstockId: $feedstockId, since: $since) { id status feedstock { id } updatedAt }
}"#;

const CREATE_RUN: &str = r#"mutation($input: CreateRecipeRunInput!) {
    createRecipeRun(input: $input) { id updatedAt }
}"#;

pub(crate) const SET_STATUS: &str = r#"mutation($id: Int!, $status: RecipeRunStatus!, $conclusion: RecipeRunConclusion) {
    updateRecipeRun(id: $id, input: {status: $status, conclusion: $conclusion}) { id updatedAt }
}"#;

/// A bakery and two feedstocks.
pub struct World {
    pub bakery: i32,
    pub feedstocks: [i32; 2],
}

impl World {
    pub async fn new(app: &TestApp) -> World {
        let db = app.db();
        let bakery = db
            .create_bakery(NewBakery {
                name: "osn-flink".into(),
                region: "us-west-2".into(),
                description: "test".into(),
            })
            .await
            .expect("bakery");
        let mut feedstocks = [0; 2];
        for (slot, spec) in feedstocks
            .iter_mut()
            .zip(["pangeo-forge/gpcp-feedstock", "pangeo-forge/eobs-feedstock"])
        {
            *slot = db
                .create_feedstock(NewFeedstock {
                    spec: spec.into(),
                    provider: None,
                })
                .await
                .expect("feedstock")
                .id;
        }
        World {
            bakery: bakery.id,
            feedstocks,
        }
    }

    fn run_input(&self, feedstock: i32) -> Value {
        json!({"input": {"recipeId": "gpcp", "bakeryId": self.bakery,
                         "feedstockId": feedstock, "headSha": SHA_A}})
    }

    /// Creates a run of `feedstock` through the GraphQL API; returns its id and `updatedAt`.
    pub async fn create_run(&self, app: &TestApp, feedstock: i32) -> (i64, String) {
        let run =
            app.admin_data(CREATE_RUN, self.run_input(feedstock)).await["createRecipeRun"].clone();
        id_and_time(&run)
    }
}

fn id_and_time(run: &Value) -> (i64, String) {
    let id = run["id"].as_i64().unwrap_or_else(|| panic!("no id: {run}"));
    let at = run["updatedAt"].as_str().expect("updatedAt").to_owned();
    (id, at)
}

/// The variables of [`SET_STATUS`] (a completed run succeeded).
pub(crate) fn status_variables(id: i64, status: &str) -> Value {
    let conclusion = (status == "COMPLETED").then_some("SUCCESS");
    json!({"id": id, "status": status, "conclusion": conclusion})
}

/// Sets a run's status through the GraphQL API.
pub async fn set_status(app: &TestApp, id: i64, status: &str) {
    app.admin_data(SET_STATUS, status_variables(id, status))
        .await;
}

/// The run a `recipeRunUpdated` result carries: (id, status).
pub(crate) fn run_of(data: &Value) -> (i64, String) {
    let run = &data["recipeRunUpdated"];
    let id = run["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no run: {data}"));
    (id, run["status"].as_str().expect("status").to_owned())
}

async fn transport_ws_delivers_a_feedstocks_runs(app: TestApp) {
    let world = World::new(&app).await;
    let [mine, other] = world.feedstocks;
    let (run, _) = world.create_run(&app, mine).await;
    let server = app.serve().await;
    let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    ws.init(None).await;
    ws.subscribe("runs", RUNS, json!({"feedstockId": mine, "since": EPOCH}))
        .await;
    // The replay: from here on the subscription is live.
    assert_eq!(run_of(&ws.next("runs").await), (run, "QUEUED".into()));

    set_status(&app, run, "IN_PROGRESS").await;
    let data = ws.next("runs").await;
    assert_eq!(run_of(&data), (run, "IN_PROGRESS".into()));
    assert_eq!(data["recipeRunUpdated"]["feedstock"]["id"], mine);

    // Another feedstock's run changes first; only ours arrives.
    let (theirs, _) = world.create_run(&app, other).await;
    set_status(&app, theirs, "IN_PROGRESS").await;
    set_status(&app, run, "COMPLETED").await;
    assert_eq!(run_of(&ws.next("runs").await), (run, "COMPLETED".into()));

    // The client completes it: the server sends nothing more for it (not even `complete`).
    ws.send(json!({"type": "complete", "id": "runs"})).await;
    assert_eq!(ws.round_trip().await, Vec::<Value>::new());
    wait_for_subscribers(&app, 0).await;
    ws.subscribe("check", RUNS, json!({"id": run})).await;
    wait_for_subscribers(&app, 1).await;
    set_status(&app, run, "QUEUED").await;
    assert_eq!(run_of(&ws.next("check").await), (run, "QUEUED".into()));

    // A query sent as `subscribe` gives one `next`, then `complete`.
    ws.subscribe("q", "{ stats { recipeRuns } }", json!({}))
        .await;
    assert_eq!(ws.next("q").await, json!({"stats": {"recipeRuns": 2}}));
    assert_eq!(ws.json().await, json!({"type": "complete", "id": "q"}));
    // A request that fails validation gets `error` (and no `complete`).
    ws.subscribe("bad", "subscription { noSuchField }", json!({}))
        .await;
    let error = ws.json().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], "bad");
    assert!(error["payload"][0]["message"].is_string(), "{error}");
    assert_eq!(ws.round_trip().await, Vec::<Value>::new());
}

async fn legacy_graphql_ws_protocol(app: TestApp) {
    let world = World::new(&app).await;
    let (run, _) = world.create_run(&app, world.feedstocks[0]).await;
    let server = app.serve().await;
    let mut ws = WsClient::connect(server.address, GRAPHQL_WS).await;
    ws.send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(ws.json().await, json!({"type": "connection_ack"}));
    ws.send(json!({"type": "start", "id": "1",
                   "payload": {"query": RUNS, "variables": {"id": run, "since": EPOCH}}}))
        .await;
    let data = ws.json().await;
    assert_eq!(data["type"], "data", "{data}");
    assert_eq!(data["id"], "1");
    assert_eq!(run_of(&data["payload"]["data"]), (run, "QUEUED".into()));
    set_status(&app, run, "IN_PROGRESS").await;
    let data = ws.json().await;
    assert_eq!(
        run_of(&data["payload"]["data"]),
        (run, "IN_PROGRESS".into())
    );
    ws.send(json!({"type": "stop", "id": "1"})).await;
    assert_eq!(ws.json().await, json!({"type": "complete", "id": "1"}));
}

async fn since_replays_changes_made_before_subscribing(app: TestApp) {
    let world = World::new(&app).await;
    let feedstock = world.feedstocks[0];
    let (early, since) = world.create_run(&app, feedstock).await;
    let (late, _) = world.create_run(&app, feedstock).await;
    set_status(&app, late, "IN_PROGRESS").await;
    set_status(&app, early, "COMPLETED").await;
    // Another feedstock's change is not replayed.
    let (other, _) = world.create_run(&app, world.feedstocks[1]).await;
    set_status(&app, other, "IN_PROGRESS").await;

    let server = app.serve().await;
    let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
    ws.init(None).await;
    ws.subscribe("r", RUNS, json!({"feedstockId": feedstock, "since": since}))
        .await;
    // Each run once, in the order they last changed, as they are now.
    assert_eq!(run_of(&ws.next("r").await), (late, "IN_PROGRESS".into()));
    assert_eq!(run_of(&ws.next("r").await), (early, "COMPLETED".into()));
    // Then live changes.
    set_status(&app, late, "COMPLETED").await;
    assert_eq!(run_of(&ws.next("r").await), (late, "COMPLETED".into()));
    assert_eq!(ws.round_trip().await, Vec::<Value>::new());
}

pub(crate) const DELIVERIES: &str = "subscription { webhookDeliveryUpdated { guid payload } }";

async fn admin_key_in_connection_init(app: TestApp) {
    let server = app.serve().await;
    let bearer = format!("Bearer {ADMIN_KEY}");
    let payloads = [
        Some(json!({"authorization": bearer})),
        Some(json!({"X-API-Key": ADMIN_KEY})),
        None,
    ];
    let mut clients = Vec::new();
    for payload in payloads {
        let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
        ws.init(payload).await;
        ws.subscribe("d", DELIVERIES, json!({})).await;
        clients.push(ws);
    }
    wait_for_subscribers(&app, clients.len()).await;

    let body = with_repository(fixture("pull_request/opened.payload.json"), "a/b-feedstock");
    let reply = app.deliver("pull_request", "guid-ws-1", &body).await;
    assert!(reply.status.is_success(), "{}", reply.text());
    for ws in &mut clients[..2] {
        let data = ws.next("d").await;
        let delivery = &data["webhookDeliveryUpdated"];
        assert_eq!(delivery["guid"], "guid-ws-1");
        let payload: Value =
            serde_json::from_str(delivery["payload"].as_str().expect("payload")).expect("json");
        assert_eq!(payload, body);
    }
    // Without a key, the payload is refused (and the rest of the connection works).
    let anonymous = clients[2].json().await;
    assert_eq!(anonymous["type"], "next", "{anonymous}");
    assert_eq!(error_code(&anonymous["payload"]), "UNAUTHENTICATED");
    assert_eq!(clients[2].round_trip().await, Vec::<Value>::new());

    // A wrong key is refused outright.
    for payload in [
        json!({"authorization": "Bearer wrong-key-wrong-key-wrong"}),
        json!({"x-api-key": "wrong-key-wrong-key-wrong"}),
        json!({"Authorization": ADMIN_KEY}),
    ] {
        let mut ws = WsClient::connect(server.address, GRAPHQL_TRANSPORT_WS).await;
        ws.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        assert_eq!(ws.closed().await, (4403, "Forbidden".into()), "{payload}");
    }
}

both_engines!(
    transport_ws_delivers_a_feedstocks_runs,
    legacy_graphql_ws_protocol,
    since_replays_changes_made_before_subscribing,
    admin_key_in_connection_init,
);

/// A change made through one server process reaches a subscriber of another (PostgreSQL
/// LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_replica_reaches_a_subscriber_of_another() {
    let app = TestApp::start(Engine::Postgres).await;
    let world = World::new(&app).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = || {
        let mut cmd = command(dir.path());
        cmd.env("DATABASE_URL", &app.test_db.url)
            .env("PFO_ADMIN_API_KEYS", ADMIN_KEY)
            .env("PFO_WORKERS", "1");
        serve(cmd).0
    };
    let (first, second) = (replica(), replica());
    let admin = {
        let address = first.address.clone();
        move |query: &'static str, variables: Value| {
            let address = address.clone();
            async move {
                let body = json!({"query": query, "variables": variables}).to_string();
                let bearer = format!("Bearer {ADMIN_KEY}");
                let (status, reply) = tokio::task::spawn_blocking(move || {
                    http_with(
                        &address,
                        "POST",
                        "/graphql",
                        &body,
                        "application/json",
                        &[("Authorization", &bearer)],
                    )
                })
                .await
                .expect("request");
                assert_eq!(status, 200, "{reply}");
                let reply = parse(&reply);
                assert!(reply.get("errors").is_none(), "{reply}");
                reply["data"].clone()
            }
        }
    };
    let created = admin(CREATE_RUN, world.run_input(world.feedstocks[0])).await;
    let (run, _) = id_and_time(&created["createRecipeRun"]);

    let mut ws = WsClient::connect(&second.address, GRAPHQL_TRANSPORT_WS).await;
    ws.init(None).await;
    ws.subscribe("r", RUNS, json!({"id": run, "since": EPOCH}))
        .await;
    // The replay arrives after the second replica's listener is LISTENing.
    assert_eq!(run_of(&ws.next("r").await), (run, "QUEUED".into()));

    admin(SET_STATUS, status_variables(run, "IN_PROGRESS")).await;
    assert_eq!(run_of(&ws.next("r").await), (run, "IN_PROGRESS".into()));
    drop(ws);
    drop((first, second));
    app.finish().await;
}
