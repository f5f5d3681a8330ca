//! PostgreSQL going away under a running server: deliveries answered meanwhile get a 5xx
//! (so GitHub redelivers them) and are never acknowledged unstored; the server reconnects by
//! itself when the database is back. Graceful shutdown finishes the flow in progress.

use crate::support::process::{Server, command, http, http_with, serve};
use crate::support::proxy::Proxy;
use crate::support::webhooks::fixture;
use crate::support::{Engine, TestApp, WEBHOOK_SECRET};
use pangeo_forge_orchestrator::webhooks::signature::sign;
use std::time::Duration;

fn post_ping(address: String, guid: &'static str) -> (u16, String) {
    let body = fixture("ping/payload.json").to_string();
    let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    http_with(
        &address,
        "POST",
        "/github/hooks/",
        &body,
        "application/json",
        &[
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", guid),
            ("X-Hub-Signature-256", &signature),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_is_answered_5xx_and_survived() {
    let app = TestApp::start(Engine::Postgres).await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().expect("address")).await;
    let url = app
        .test_db
        .url
        .replace("127.0.0.1:5432", &proxy.address.to_string());
    assert_ne!(
        url, app.test_db.url,
        "the test database is on 127.0.0.1:5432"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = command(dir.path());
    cmd.env("DATABASE_URL", &url)
        .env("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET);
    let server: Server = serve(cmd).0;
    let address = server.address.clone();

    let before = {
        let address = address.clone();
        tokio::task::spawn_blocking(move || post_ping(address, "guid-before"))
            .await
            .expect("post")
    };
    assert_eq!(before.0, 200, "{}", before.1);

    proxy.cut().await;
    let (during, health) = {
        let address = address.clone();
        tokio::task::spawn_blocking(move || {
            (
                post_ping(address.clone(), "guid-during"),
                http(&address, "GET", "/healthz", "", "application/json"),
            )
        })
        .await
        .expect("post")
    };
    assert_eq!(during.0, 503, "{}", during.1);
    assert!(during.1.contains("send it again later"), "{}", during.1);
    assert!(!during.1.contains("sqlx"), "no internals: {}", during.1);
    assert_eq!(health.0, 503, "{}", health.1);

    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let after = loop {
        let address = address.clone();
        let reply = tokio::task::spawn_blocking(move || post_ping(address, "guid-during"))
            .await
            .expect("post");
        if reply.0 != 503 || tokio::time::Instant::now() > deadline {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        after.0, 200,
        "GitHub's redelivery is stored once the database is back: {}",
        after.1
    );
    drop(server);
    assert!(
        app.db()
            .delivery_by_guid("guid-before")
            .await
            .expect("q")
            .is_some()
    );
    let redelivered = app.db().delivery_by_guid("guid-during").await.expect("q");
    assert!(redelivered.is_some(), "the redelivery was stored");
    app.finish().await;
}
