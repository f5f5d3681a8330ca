//! Group commit on `/github/hooks/` (`db::delivery_batch`): deliveries that arrive while
//! another is being written are stored together, and each is still answered only once its
//! row is committed, with the same answer as alone.
//!
//! To make a batch for certain, a test holds a transaction that has written the row of one
//! GUID; the delivery of that GUID then waits for it (on PostgreSQL for the row, on SQLite
//! for the write lock), every delivery sent meanwhile waits in this process, and letting
//! go (rolling back) writes them all in the next statement.

use crate::both_engines;
use crate::support::TestApp;
use crate::support::webhooks::{Delivery, fixture};
use crate::support::ws::{WsClient, wait_for_subscribers};
use axum::http::StatusCode;
use pangeo_forge_orchestrator::db::entities::webhook_delivery;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::db::{DeliveryFilter, IngestStats};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, Set, TransactionTrait};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A transaction holding the row of one GUID, and that GUID's delivery, sent and waiting.
struct Held {
    txn: DatabaseTransaction,
    delivery: JoinHandle<u16>,
}

/// Holds `held`'s row and sends its delivery; returns once the delivery is being written
/// (and so blocked), so that everything sent next waits in the process.
async fn hold(app: &TestApp, held: &str) -> Held {
    let txn = app.db().connection().begin().await.expect("begin");
    let now = pangeo_forge_orchestrator::db::now();
    webhook_delivery::ActiveModel {
        guid: Set(held.into()),
        event: Set("ping".into()),
        payload: Set("{}".into()),
        received_at: Set(now),
        state: Set(DeliveryState::Done),
        attempts: Set(0),
        next_attempt_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .expect("the held row");
    let delivery = post(app, held, pull_request());
    wait_for(app, "the held delivery is being written", |s| {
        s.writing == 1
    })
    .await;
    Held { txn, delivery }
}

impl Held {
    /// Lets go once `waiting` deliveries wait; the held delivery is then stored (202).
    async fn release_when_waiting(self, app: &TestApp, waiting: usize) {
        wait_for(app, &format!("{waiting} deliveries waiting"), |s| {
            s.waiting == waiting
        })
        .await;
        self.txn.rollback().await.expect("rollback");
        assert_eq!(self.delivery.await.expect("the held delivery"), 202);
    }
}

/// Waits (at most 10 s) until this process's ingest figures satisfy `ready`.
async fn wait_for(app: &TestApp, what: &str, ready: impl Fn(&IngestStats) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats = app.db().ingest_stats();
        if ready(&stats) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 10 s for {what}: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn pull_request() -> Value {
    fixture("pull_request/opened.payload.json")
}

/// Sends a delivery in the background; its status once answered, checking that a 2xx
/// answer's row can already be read.
fn post(app: &TestApp, guid: &str, payload: Value) -> JoinHandle<u16> {
    let (app, guid) = (app.clone(), guid.to_owned());
    tokio::spawn(async move {
        let reply = app.deliver("pull_request", &guid, &payload).await;
        if reply.status.is_success() {
            let row = app.db().delivery_by_guid(&guid).await.expect("read");
            assert!(
                row.is_some(),
                "{guid} answered {} before it was stored",
                reply.status
            );
        }
        reply.status.as_u16()
    })
}

async fn statuses(posts: Vec<JoinHandle<u16>>) -> Vec<u16> {
    let mut statuses = Vec::new();
    for post in posts {
        statuses.push(post.await.expect("a post"));
    }
    statuses.sort_unstable();
    statuses
}

async fn stored(app: &TestApp) -> u64 {
    app.db()
        .count_deliveries(&DeliveryFilter::default())
        .await
        .expect("count")
}

async fn deliveries_sent_during_a_write_are_stored_together_each_once(app: TestApp) {
    let before = app.db().ingest_stats();
    let held = hold(&app, "guid-held").await;
    let guids: Vec<String> = (0..20).map(|i| format!("guid-batch-{i}")).collect();
    let posts = guids
        .iter()
        .map(|g| post(&app, g, pull_request()))
        .collect();
    held.release_when_waiting(&app, guids.len()).await;
    assert_eq!(statuses(posts).await, [202; 20]);
    assert_eq!(stored(&app).await, 21);
    for guid in &guids {
        assert_eq!(app.delivery(guid).await.state, DeliveryState::Queued);
    }
    // Two statements: the held delivery's, then the twenty at once.
    let after = app.db().ingest_stats();
    assert_eq!(after.batches - before.batches, 2, "{after:?}");
    assert_eq!(after.rows - before.rows, 21, "{after:?}");
    assert_eq!((after.waiting, after.writing), (0, 0));

    // Without holding anything: many at once, each answered once it can be read.
    let posts = (0..48)
        .map(|i| post(&app, &format!("guid-free-{i}"), pull_request()))
        .collect();
    assert_eq!(statuses(posts).await, [202; 48]);
    assert_eq!(stored(&app).await, 69);
}

async fn the_same_guid_in_one_batch_is_stored_once_and_a_failed_one_requeued_once(app: TestApp) {
    let held = hold(&app, "guid-held").await;
    let posts = (0..8)
        .map(|_| post(&app, "guid-twin", pull_request()))
        .collect();
    held.release_when_waiting(&app, 8).await;
    assert_eq!(
        statuses(posts).await,
        [[200; 7].as_slice(), &[202]].concat()
    );
    assert_eq!(stored(&app).await, 2);
    assert_eq!(app.delivery("guid-twin").await.attempts, 0);

    // A delivery stored as failed (a body that is not JSON), then redelivered 8 times at
    // once: queued again exactly once.
    let broken = || {
        let mut delivery = Delivery::signed("pull_request", "guid-broken", &json!(null));
        delivery.body = b"{\"action\": ".to_vec();
        delivery
    };
    assert_eq!(
        app.post_hook(broken()).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.delivery("guid-broken").await.state,
        DeliveryState::Failed
    );
    let held = hold(&app, "guid-held-again").await;
    let redeliveries: Vec<JoinHandle<u16>> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.post_hook(broken()).await.status.as_u16() })
        })
        .collect();
    held.release_when_waiting(&app, 8).await;
    assert_eq!(
        statuses(redeliveries).await,
        [[200; 7].as_slice(), &[202]].concat()
    );
    let row = app.delivery("guid-broken").await;
    assert_eq!(row.state, DeliveryState::Queued);
}

/// A trigger that makes the database refuse to store `guid` (as it would refuse a row
/// breaking a constraint).
async fn refuse_in_the_database(app: &TestApp, guid: &str) {
    let db = app.db().connection();
    let statements = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => vec![
            "CREATE FUNCTION refuse_delivery() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'this delivery is refused'; END $$"
                .to_owned(),
            format!(
                "CREATE TRIGGER refuse_delivery BEFORE INSERT ON webhook_delivery FOR EACH ROW \
                 WHEN (NEW.guid = '{guid}') EXECUTE FUNCTION refuse_delivery()"
            ),
        ],
        _ => vec![format!(
            "CREATE TRIGGER refuse_delivery BEFORE INSERT ON webhook_delivery \
             WHEN NEW.guid = '{guid}' BEGIN SELECT RAISE(ABORT, 'this delivery is refused'); END"
        )],
    };
    for statement in statements {
        db.execute_unprepared(&statement).await.expect("trigger");
    }
}

async fn a_delivery_the_database_refuses_fails_alone_and_its_batch_is_stored(app: TestApp) {
    refuse_in_the_database(&app, "guid-poison").await;
    let held = hold(&app, "guid-held").await;
    let mut posts: Vec<JoinHandle<u16>> = (0..5)
        .map(|i| post(&app, &format!("guid-good-{i}"), pull_request()))
        .collect();
    let poison = {
        let app = app.clone();
        tokio::spawn(async move {
            app.deliver("pull_request", "guid-poison", &pull_request())
                .await
        })
    };
    posts.extend((5..10).map(|i| post(&app, &format!("guid-good-{i}"), pull_request())));
    held.release_when_waiting(&app, 11).await;
    assert_eq!(statuses(posts).await, [202; 10]);
    let refused = poison.await.expect("the poisoned post");
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        refused.text().contains("could not be stored"),
        "{}",
        refused.text()
    );
    assert_eq!(stored(&app).await, 11);
    assert!(
        app.db()
            .delivery_by_guid("guid-poison")
            .await
            .expect("read")
            .is_none()
    );
    // Alone, it is refused the same way, and the next deliveries are not held up.
    let again = app
        .deliver("pull_request", "guid-poison", &pull_request())
        .await;
    assert_eq!(again.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        statuses(vec![post(&app, "guid-after", pull_request())]).await,
        [202]
    );
}

const DELIVERIES: &str = "subscription { webhookDeliveryUpdated { guid state } }";

async fn subscribers_hear_of_each_delivery_of_a_batch_once(app: TestApp) {
    let server = app.serve().await;
    let mut ws = WsClient::connect(
        server.address,
        pangeo_forge_orchestrator::server::ws::GRAPHQL_TRANSPORT_WS,
    )
    .await;
    ws.init(None).await;
    ws.subscribe("d", DELIVERIES, json!({})).await;
    wait_for_subscribers(&app, 1).await;

    let held = hold(&app, "guid-held").await;
    let guids: BTreeSet<String> = (0..12).map(|i| format!("guid-heard-{i}")).collect();
    let posts = guids
        .iter()
        .map(|g| post(&app, g, pull_request()))
        .collect();
    held.release_when_waiting(&app, guids.len()).await;
    assert_eq!(statuses(posts).await, [202; 12]);

    let mut heard = Vec::new();
    for _ in 0..=guids.len() {
        let data = ws.next("d").await;
        let delivery = &data["webhookDeliveryUpdated"];
        assert_eq!(delivery["state"], "QUEUED", "{data}");
        heard.push(delivery["guid"].as_str().expect("guid").to_owned());
    }
    heard.sort();
    let mut expected: Vec<String> = guids.into_iter().collect();
    expected.push("guid-held".into());
    expected.sort();
    assert_eq!(heard, expected, "each stored delivery once");
    assert_eq!(
        ws.round_trip().await,
        Vec::<Value>::new(),
        "and nothing more"
    );
}

async fn a_lone_delivery_is_written_at_once(app: TestApp) {
    // Nothing else is ever sent: it is stored and answered all the same.
    let reply = app
        .deliver("pull_request", "guid-lone", &pull_request())
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(app.delivery("guid-lone").await.state, DeliveryState::Queued);
    let stats = app.db().ingest_stats();
    assert_eq!((stats.batches, stats.rows, stats.waiting), (1, 1, 0));
}

both_engines!(
    deliveries_sent_during_a_write_are_stored_together_each_once,
    the_same_guid_in_one_batch_is_stored_once_and_a_failed_one_requeued_once,
    a_delivery_the_database_refuses_fails_alone_and_its_batch_is_stored,
    subscribers_hear_of_each_delivery_of_a_batch_once,
    a_lone_delivery_is_written_at_once,
);
