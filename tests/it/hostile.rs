//! Hostile input: SQL-looking strings in every filter, unicode names, wide queries, broken
//! bodies — each handled or refused with a clear error; nothing leaks internals.

use crate::both_engines;
use crate::support::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

const INJECTION: &str = "x'; DROP TABLE recipe_run; --";

async fn sql_looking_filters_are_just_strings(app: TestApp) {
    let data = app
        .data(
            "query($s: String!) {
                recipeRuns(filter: {headSha: $s, recipeId: $s}) { totalCount }
                feedstockBySpec(spec: $s) { id }
                bakeryByName(name: $s) { id }
                webhookDeliveries(event: $s) { totalCount }
                webhookDelivery(guid: $s) { id }
            }",
            json!({"s": INJECTION}),
        )
        .await;
    assert_eq!(data["recipeRuns"]["totalCount"], 0);
    assert!(data["feedstockBySpec"].is_null());
    // The table is still there.
    let stats = app.data("{ stats { recipeRuns } }", json!({})).await;
    assert_eq!(stats["stats"]["recipeRuns"], 0);

    let encoded = INJECTION
        .replace(' ', "%20")
        .replace('\'', "%27")
        .replace(';', "%3B");
    for path in [
        format!("/recipe_runs/?order_by={encoded}"),
        format!("/feedstocks/?order_by={encoded}"),
        format!("/feedstocks/1/datasets?type={encoded}"),
    ] {
        let reply = app.get(&path).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            reply.text()
        );
    }
}

async fn unicode_is_kept_where_github_allows_it_and_refused_where_not(app: TestApp) {
    // GitHub repository names are ASCII: a unicode spec is refused, saying why.
    let refused = app
        .gql_admin(
            "mutation($s: String!) { createFeedstock(input: {spec: $s}) { id } }",
            json!({"s": "pangeo-forge/ünïcødé-数据-feedstock"}),
        )
        .await;
    assert_eq!(crate::support::error_code(&refused), "BAD_USER_INPUT");
    assert!(crate::support::error_message(&refused).contains("owner/repository"));
    // Free text keeps every character.
    let description = "Données de précipitation — 降水 🌧";
    let created = app
        .admin_data(
            "mutation($d: String!) { createBakery(input: {name: \"b\", region: \"r\", description: $d}) { description } }",
            json!({"d": description}),
        )
        .await;
    assert_eq!(created["createBakery"]["description"], description);
}

async fn very_wide_queries_are_refused_with_a_reason(app: TestApp) {
    let fields: String = (0..2000)
        .map(|i| format!("a{i}: stats {{ feedstocks }} "))
        .collect();
    let response = app.gql(&format!("{{ {fields} }}"), json!({})).await;
    let message = crate::support::error_message(&response);
    assert!(message.to_lowercase().contains("complex"), "{message}");
}

async fn broken_bodies_get_clear_errors_without_internals(app: TestApp) {
    for (content_type, body) in [
        ("application/json", "{\"query\": "),
        ("application/json", "{\"query\": 5}"),
        ("application/json", "\u{0}\u{1}\u{2}"),
        ("text/plain", "{ stats { feedstocks } }"),
    ] {
        let reply = app
            .send(
                Request::post("/graphql")
                    .header("content-type", content_type)
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await;
        assert!(
            reply.status.is_client_error(),
            "{content_type} {body:?}: {}",
            reply.status
        );
        let text = reply.text();
        for leak in ["panicked", "src/", ".rs:", "sqlx", "stack backtrace"] {
            assert!(!text.contains(leak), "`{leak}` leaked: {text}");
        }
    }
}

both_engines!(
    sql_looking_filters_are_just_strings,
    unicode_is_kept_where_github_allows_it_and_refused_where_not,
    very_wide_queries_are_refused_with_a_reason,
    broken_bodies_get_clear_errors_without_internals,
);
