//! `GET /metrics`: what an operator scrapes, counted from the database and this process.

use crate::both_engines;
use crate::support::TestApp;
use crate::support::webhooks::fixture;
use axum::http::StatusCode;
use serde_json::json;

async fn metrics_count_deliveries_queue_runs_and_requests(app: TestApp) {
    app.deliver(
        "pull_request",
        "guid-m1",
        &fixture("pull_request/opened.payload.json"),
    )
    .await;
    app.deliver("ping", "guid-m2", &fixture("ping/payload.json"))
        .await;
    app.admin_data(
        r#"mutation { createBakery(input: {name: "b", region: "r", description: "d"}) { id } }"#,
        json!({}),
    )
    .await;

    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .starts_with("application/openmetrics-text")
    );
    let text = reply.text();
    for line in [
        "pfo_database_up 1",
        r#"pfo_deliveries{event="pull_request",state="queued"} 1"#,
        r#"pfo_deliveries{event="ping",state="done"} 1"#,
        "pfo_queue_depth 1",
        "pfo_subscriptions 0",
        // Each delivery came alone: a statement of its own, nothing held.
        "pfo_ingest_waiting 0",
        "pfo_ingest_statements_total 2",
        "pfo_ingest_statement_deliveries_total 2",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    assert!(text.contains("pfo_queue_oldest_age_seconds "), "{text}");
    assert!(
        text.contains(r#"pfo_http_request_duration_seconds_count{method="POST",route="/github/hooks/",status="202"}"#),
        "{text}"
    );
    assert!(text.contains(r#"route="/graphql""#), "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}

both_engines!(metrics_count_deliveries_queue_runs_and_requests);
