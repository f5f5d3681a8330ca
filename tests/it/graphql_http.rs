//! GraphQL over HTTP: methods, media types, GraphiQL, limits, health.

use crate::both_engines;
use crate::support::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

fn post(body: &str, content_type: &str, accept: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/graphql").header("content-type", content_type);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

async fn queries_over_get_and_post(app: TestApp) {
    let reply = app
        .get("/graphql?query=%7B%20stats%20%7B%20feedstocks%20%7D%20%7D")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"data": {"stats": {"feedstocks": 0}}}));
    assert!(reply.header("content-type").starts_with("application/json"));

    let reply = app
        .get("/graphql?query=query%20Q(%24id%3A%20Int!)%20%7B%20bakery(id%3A%20%24id)%20%7B%20id%20%7D%20%7D&variables=%7B%22id%22%3A1%7D&operationName=Q")
        .await;
    assert_eq!(reply.json(), json!({"data": {"bakery": null}}));

    let mutation = "/graphql?query=mutation%20%7B%20deleteBakery(id%3A%201)%20%7B%20id%20%7D%20%7D";
    let reply = app.get(mutation).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), "POST");
    assert!(reply.text().contains("mutations must be sent with POST"));

    let reply = app
        .get("/graphql?query=%7B%20stats&variables=%7Bnot-json")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("variables"));

    // A batch of two operations in one POST.
    let reply = app
        .send(post(
            r#"[{"query": "{ stats { bakeries } }"}, {"query": "{ stats { feedstocks } }"}]"#,
            "application/json",
            None,
        ))
        .await;
    assert_eq!(
        reply.json(),
        json!([{"data": {"stats": {"bakeries": 0}}}, {"data": {"stats": {"feedstocks": 0}}}])
    );
}

async fn media_types(app: TestApp) {
    let ok = r#"{"query": "{ stats { bakeries } }"}"#;
    let broken = r#"{"query": "{ stats { bakeries "}"#;

    let reply = app
        .send(post(
            ok,
            "application/json; charset=utf-8",
            Some("application/graphql-response+json"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        "application/graphql-response+json"
    );

    // A syntax error: 400 with the new media type, 200 with application/json (legacy).
    let reply = app
        .send(post(
            broken,
            "application/json",
            Some("application/graphql-response+json"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expected")
    );
    // Nothing executed, so no `data` at all (not `"data": null`): graphql-http D586.
    assert_eq!(reply.json().get("data"), None, "{}", reply.text());
    // The same for a document that parses but does not validate (5E5B).
    let invalid = r#"{"query": "{ noSuchField }"}"#;
    let reply = app
        .send(post(
            invalid,
            "application/json",
            Some("application/graphql-response+json"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json().get("data"), None, "{}", reply.text());
    assert!(reply.json()["errors"].is_array());
    let reply = app
        .send(post(broken, "application/json", Some("application/json")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.json()["errors"].is_array());

    let reply = app.send(post(ok, "text/plain", None)).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(reply.text().contains("application/json"));

    // A misspelt `query` (graphql-http audits 8764, 3E3A): a bad request, saying so.
    let reply = app
        .send(post(
            r#"{"qeury": "{ __typename }"}"#,
            "application/json",
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("no `query`"), "{}", reply.text());

    let reply = app.send(post("{not json", "application/json", None)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("not a GraphQL request"));

    let huge = format!(
        r#"{{"query": "{{ stats {{ bakeries }} }}", "x": "{}"}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    let reply = app.send(post(&huge, "application/json", None)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// `{ __type(name: "Feedstock") { fields { type { ofType { … } } } } }`, `levels` of `ofType`.
fn type_ref_chain(levels: usize) -> String {
    let mut inner = "name".to_owned();
    for _ in 0..levels {
        inner = format!("name ofType {{ {inner} }}");
    }
    format!("{{ __type(name: \"Feedstock\") {{ fields {{ type {{ {inner} }} }} }} }}")
}

async fn introspection_has_its_own_finite_depth_limit(app: TestApp) {
    let ask = |query: String| {
        let body = json!({ "query": query }).to_string();
        let app = app.clone();
        async move { app.send(post(&body, "application/json", None)).await.json() }
    };
    // 14 deep: past the data limit (12), inside the introspection limit (20).
    let deep = ask(type_ref_chain(11)).await;
    assert!(deep.get("errors").is_none(), "{deep}");
    assert!(deep["data"]["__type"]["fields"].is_array(), "{deep}");
    // Nested abuse is still refused.
    let abuse = ask(type_ref_chain(20)).await;
    assert_eq!(
        abuse["errors"][0]["message"], "Query is nested too deep.",
        "{abuse}"
    );
    // Data queries keep their limit, even beside an introspection field.
    let mut data = "id".to_owned();
    for _ in 0..6 {
        data = format!("feedstock {{ recipeRuns {{ {data} }} }}");
    }
    let query = format!("{{ __typename recipeRuns {{ nodes {{ {data} }} }} }}");
    let refused = ask(query).await;
    assert_eq!(
        refused["errors"][0]["message"], "Query is nested too deep.",
        "{refused}"
    );
}

async fn graphiql_is_served_offline(app: TestApp) {
    let reply = app
        .send(
            Request::get("/graphql")
                .header("accept", "text/html,application/xhtml+xml")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = reply.text();
    assert!(html.contains("GraphiQL"));
    // Every script and stylesheet comes from this server, none from a CDN.
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(
                url.starts_with("/graphql/assets/") || url.starts_with("data:"),
                "external resource {url}"
            );
        }
    }
    for (asset, kind) in [
        ("react.production.min.js", "text/javascript"),
        ("react-dom.production.min.js", "text/javascript"),
        ("graphiql.min.js", "text/javascript"),
        ("graphiql.min.css", "text/css"),
    ] {
        assert!(
            html.contains(&format!("/graphql/assets/{asset}")),
            "{asset} not referenced"
        );
        let reply = app.get(&format!("/graphql/assets/{asset}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
        assert!(reply.header("content-type").starts_with(kind), "{asset}");
        assert!(reply.body.len() > 1000, "{asset} is empty");
    }
    assert_eq!(
        app.get("/graphql/assets/nope.js").await.status,
        StatusCode::NOT_FOUND
    );

    // A non-browser GET without a query gets a GraphQL error, not HTML.
    let reply = app.get("/graphql").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("query"));
}

async fn health_answers_when_the_database_does(app: TestApp) {
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"status": "ok"}));
}

both_engines!(
    introspection_has_its_own_finite_depth_limit,
    queries_over_get_and_post,
    media_types,
    graphiql_is_served_offline,
    health_answers_when_the_database_does,
);
