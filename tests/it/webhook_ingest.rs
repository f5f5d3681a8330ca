//! `/github/hooks/`: verified before anything is read, stored before it is answered,
//! never processed twice.

use crate::both_engines;
use crate::support::TestApp;
use crate::support::webhooks::{Delivery, fixture, with_repository};
use axum::http::StatusCode;
use pangeo_forge_orchestrator::db::DeliveryFilter;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use serde_json::json;

async fn stored(app: &TestApp) -> u64 {
    app.db()
        .count_deliveries(&DeliveryFilter::default())
        .await
        .expect("count")
}

async fn a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(app: TestApp) {
    let payload = fixture("pull_request/opened.payload.json");
    let mut forged = Delivery::signed("pull_request", "guid-forged", &payload);
    forged.signature = Some(format!("sha256={}", "0".repeat(64)));
    let reply = app.post_hook(forged).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.text().contains("does not match"), "{}", reply.text());

    let mut unsigned = Delivery::signed("pull_request", "guid-unsigned", &payload);
    unsigned.signature = Some(String::new());
    let reply = app.post_hook(unsigned).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // A body changed after signing.
    let mut tampered = Delivery::signed("pull_request", "guid-tampered", &payload);
    let signature = pangeo_forge_orchestrator::webhooks::signature::sign(
        crate::support::WEBHOOK_SECRET.as_bytes(),
        &tampered.body,
    );
    tampered.signature = Some(signature);
    tampered.body.extend_from_slice(b" ");
    assert_eq!(
        app.post_hook(tampered).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(stored(&app).await, 0);
}

async fn a_verified_delivery_is_stored_queued_and_answered_202(app: TestApp) {
    let payload = with_repository(
        fixture("pull_request/opened.payload.json"),
        "pangeo-forge/staged-recipes",
    );
    let reply = app.deliver("pull_request", "guid-1", &payload).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(reply.json()["state"], "queued");

    let row = app.delivery("guid-1").await;
    assert_eq!(row.event, "pull_request");
    assert_eq!(row.action.as_deref(), Some("opened"));
    assert_eq!(
        row.repository.as_deref(),
        Some("pangeo-forge/staged-recipes")
    );
    assert_eq!(row.installation_id, Some(1));
    assert_eq!(row.state, DeliveryState::Queued);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&row.payload).expect("json"),
        payload,
        "the payload is kept as received"
    );
}

async fn a_redelivered_guid_is_acknowledged_and_not_queued_again(app: TestApp) {
    let payload = fixture("pull_request/synchronize.payload.json");
    let first = app.deliver("pull_request", "guid-again", &payload).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let again = app.deliver("pull_request", "guid-again", &payload).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(
        again.json()["message"],
        "already received: not processed again"
    );
    assert_eq!(stored(&app).await, 1);
    assert_eq!(app.delivery("guid-again").await.attempts, 0);
}

async fn the_same_guid_posted_many_times_at_once_is_stored_once(app: TestApp) {
    // GitHub's redelivery racing the original: every post is answered, one is stored.
    let payload = fixture("pull_request/synchronize.payload.json");
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (app, payload) = (app.clone(), payload.clone());
        posts.spawn(async move { app.deliver("pull_request", "guid-race", &payload).await });
    }
    let mut statuses: Vec<u16> = posts
        .join_all()
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [[200; 11].as_slice(), &[202]].concat());
    assert_eq!(stored(&app).await, 1);
    assert_eq!(app.delivery("guid-race").await.state, DeliveryState::Queued);
}

async fn ping_is_answered_and_recorded(app: TestApp) {
    let reply = app
        .deliver("ping", "guid-ping", &fixture("ping/payload.json"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["message"], "pong");
    let row = app.delivery("guid-ping").await;
    assert_eq!(row.state, DeliveryState::Done);
    assert!(row.completed_at.is_some());
}

async fn events_we_do_not_act_on_are_recorded_as_ignored(app: TestApp) {
    for (event, file, guid) in [
        (
            "check_suite",
            "check_suite/requested.payload.json",
            "guid-suite",
        ),
        (
            "pull_request",
            "pull_request/labeled.payload.json",
            "guid-labeled",
        ),
    ] {
        let reply = app.deliver(event, guid, &fixture(file)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let row = app.delivery(guid).await;
        assert_eq!(row.state, DeliveryState::Ignored, "{event}");
        assert!(row.note.as_deref().unwrap_or("").contains("not acted on"));
    }
}

async fn missing_headers_are_a_400_naming_the_header(app: TestApp) {
    let payload = fixture("ping/payload.json");
    let mut no_event = Delivery::signed("ping", "guid-x", &payload);
    no_event.event = None;
    let reply = app.post_hook(no_event).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("X-GitHub-Event"), "{}", reply.text());

    let mut no_guid = Delivery::signed("ping", "guid-x", &payload);
    no_guid.guid = None;
    let reply = app.post_hook(no_guid).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.text().contains("X-GitHub-Delivery"),
        "{}",
        reply.text()
    );
    assert_eq!(stored(&app).await, 0);
}

async fn a_signed_body_that_is_not_json_is_kept_as_failed_and_rerun_on_redelivery(app: TestApp) {
    let mut broken = Delivery::signed("pull_request", "guid-broken", &json!(null));
    broken.body = b"{\"action\": \"opened\", ".to_vec();
    let reply = app.post_hook(broken).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.text().contains("not a JSON object"),
        "{}",
        reply.text()
    );
    let row = app.delivery("guid-broken").await;
    assert_eq!(row.state, DeliveryState::Failed);
    assert_eq!(row.payload, "{\"action\": \"opened\", ");
    assert!(
        row.last_error
            .unwrap_or_default()
            .contains("not a JSON object")
    );

    // GitHub's "Redeliver" of a delivery that failed for good runs it again.
    let mut redelivered = Delivery::signed("pull_request", "guid-broken", &json!(null));
    redelivered.body = b"{\"action\": \"opened\", ".to_vec();
    let reply = app.post_hook(redelivered).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(
        app.delivery("guid-broken").await.state,
        DeliveryState::Queued
    );
}

/// PostgreSQL text cannot hold NUL: such a body used to be refused by the database (503)
/// on every redelivery, so it was never kept. It is stored, failed, with U+FFFD for NUL.
async fn a_signed_body_with_a_nul_byte_is_kept_as_failed(app: TestApp) {
    let mut broken = Delivery::signed("pull_request", "guid-nul", &json!(null));
    broken.body = b"{\"action\": \"opened\"\0}".to_vec();
    let reply = app.post_hook(broken).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(
        reply.text().contains("not a JSON object"),
        "{}",
        reply.text()
    );
    let row = app.delivery("guid-nul").await;
    assert_eq!(row.state, DeliveryState::Failed);
    assert_eq!(row.payload, "{\"action\": \"opened\"\u{FFFD}}");
}

async fn an_oversized_body_is_refused_with_413(app: TestApp) {
    let mut huge = Delivery::signed("ping", "guid-huge", &json!(null));
    huge.body = vec![b' '; 26 * 1024 * 1024];
    let reply = app.post_hook(huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(stored(&app).await, 0);

    // A large but legal payload (GitHub allows up to 25 MB) is accepted.
    let mut payload = fixture("pull_request/opened.payload.json");
    payload["pull_request"]["body"] = "x".repeat(3 * 1024 * 1024).into();
    let reply = app.deliver("pull_request", "guid-large", &payload).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
}

async fn when_the_delivery_cannot_be_stored_the_answer_is_503(app: TestApp) {
    use sea_orm::ConnectionTrait;
    app.db()
        .connection()
        .execute_unprepared("DROP TABLE webhook_delivery")
        .await
        .expect("drop");
    let reply = app
        .deliver(
            "pull_request",
            "guid-lost",
            &fixture("pull_request/opened.payload.json"),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert!(
        reply.text().contains("could not be stored"),
        "{}",
        reply.text()
    );
}

async fn without_a_webhook_secret_every_delivery_is_refused(app: TestApp) {
    use pangeo_forge_orchestrator::app::App;
    use pangeo_forge_orchestrator::bakery::BakeryRegistry;
    let mut config = crate::support::test_config(&app.test_db.url);
    config.webhook_secret = None;
    let unconfigured = App::assemble(&config, app.db().clone(), BakeryRegistry::default())
        .expect("assembling the app");
    let unconfigured = TestApp {
        router: unconfigured.router(),
        ..app.clone()
    };
    let reply = unconfigured
        .deliver("ping", "guid-p", &fixture("ping/payload.json"))
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        reply.text().contains("GITHUB_WEBHOOK_SECRET"),
        "{}",
        reply.text()
    );
    assert_eq!(stored(&app).await, 0);
}

async fn deliveries_are_listed_in_graphql_with_their_state(app: TestApp) {
    let feedstock = app
        .db()
        .create_feedstock(pangeo_forge_orchestrator::db::NewFeedstock {
            spec: "pangeo-forge/gpcp-feedstock".into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    let on_feedstock = with_repository(
        fixture("pull_request/opened.payload.json"),
        "pangeo-forge/gpcp-feedstock",
    );
    app.deliver("pull_request", "guid-a", &on_feedstock).await;
    app.deliver("ping", "guid-b", &fixture("ping/payload.json"))
        .await;
    app.deliver(
        "check_suite",
        "guid-c",
        &fixture("check_suite/requested.payload.json"),
    )
    .await;

    let query = "query($f: Int, $s: WebhookDeliveryState) {
        webhookDeliveries(feedstockId: $f, state: $s) {
            totalCount nodes { guid event action repository feedstockId state attempts note }
        } }";
    let all = app.data(query, json!({})).await;
    assert_eq!(all["webhookDeliveries"]["totalCount"], 3);
    let guids: Vec<&str> = all["webhookDeliveries"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["guid"].as_str().expect("guid"))
        .collect();
    assert_eq!(guids, ["guid-c", "guid-b", "guid-a"], "newest first");

    let of_feedstock = app.data(query, json!({"f": feedstock.id})).await;
    assert_eq!(
        of_feedstock["webhookDeliveries"]["nodes"],
        json!([{
            "guid": "guid-a", "event": "pull_request", "action": "opened",
            "repository": "pangeo-forge/gpcp-feedstock", "feedstockId": feedstock.id,
            "state": "QUEUED", "attempts": 0, "note": null
        }])
    );
    let ignored = app.data(query, json!({"s": "IGNORED"})).await;
    assert_eq!(ignored["webhookDeliveries"]["nodes"][0]["guid"], "guid-c");

    let payload_query = r#"{ webhookDelivery(guid: "guid-b") { payload } }"#;
    let anonymous = app.gql(payload_query, json!({})).await;
    assert_eq!(crate::support::error_code(&anonymous), "UNAUTHENTICATED");
    let admin = app.admin_data(payload_query, json!({})).await;
    assert!(
        admin["webhookDelivery"]["payload"]
            .as_str()
            .expect("payload")
            .contains("zen")
    );
}

async fn a_stored_payload_reads_back_exactly_and_postgres_compresses_it_with_lz4(app: TestApp) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let payload = fixture("pull_request/opened.payload.json");
    let reply = app.deliver("pull_request", "guid-lz4", &payload).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let row = app.delivery("guid-lz4").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&row.payload).expect("json"),
        payload
    );
    let db = app.db().connection();
    if db.get_database_backend() == DbBackend::Postgres {
        // pglz cost ingest more than anything else (docs/performance.md, "Profile of ingest").
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_column_compression(payload) AS method FROM webhook_delivery \
                 WHERE guid = 'guid-lz4'",
            ))
            .await
            .expect("query")
            .expect("a row");
        let method: Option<String> = row.try_get("", "method").expect("method");
        assert_eq!(method.as_deref(), Some("lz4"));
    }
}

both_engines!(
    a_stored_payload_reads_back_exactly_and_postgres_compresses_it_with_lz4,
    a_wrong_or_missing_signature_is_refused_and_nothing_is_stored,
    a_verified_delivery_is_stored_queued_and_answered_202,
    a_redelivered_guid_is_acknowledged_and_not_queued_again,
    the_same_guid_posted_many_times_at_once_is_stored_once,
    ping_is_answered_and_recorded,
    events_we_do_not_act_on_are_recorded_as_ignored,
    missing_headers_are_a_400_naming_the_header,
    a_signed_body_that_is_not_json_is_kept_as_failed_and_rerun_on_redelivery,
    a_signed_body_with_a_nul_byte_is_kept_as_failed,
    an_oversized_body_is_refused_with_413,
    when_the_delivery_cannot_be_stored_the_answer_is_503,
    without_a_webhook_secret_every_delivery_is_refused,
    deliveries_are_listed_in_graphql_with_their_state,
);
