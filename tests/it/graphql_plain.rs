//! Reading a row's own columns directly (`graphql::plain`) answers exactly what
//! async-graphql's per-field resolvers answer: the same documents are sent to the server and
//! to the same server with every field resolved by async-graphql
//! (`AppState::resolving_every_field`), over the same database, and the responses — data
//! and errors — must be equal. The documents select every field of every type (found by
//! introspection, so a field added later is covered), through every list and relation,
//! with aliases, a key selected twice, fragments, directives, `__typename` and fields that
//! fail.

use crate::both_engines;
use crate::sample::Sample;
use crate::support::{ADMIN_KEY, TestApp};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pangeo_forge_orchestrator::db::NewDelivery;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::server::router;
use serde_json::{Value, json};
use std::collections::HashMap;
use tower::ServiceExt;

/// The fields of one object type, as introspection gives them.
struct Field {
    name: String,
    /// The named type under any list / non-null wrappers, and whether that is an object.
    of: String,
    object: bool,
    /// Whether it takes arguments (none is required in this schema's node types).
    args: bool,
}

async fn post(router: &Router, query: &str, variables: Value, admin: bool) -> Value {
    let mut request = Request::post("/graphql").header("content-type", "application/json");
    if admin {
        request = request.header("authorization", format!("Bearer {ADMIN_KEY}"));
    }
    let body = json!({"query": query, "variables": variables}).to_string();
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).expect("request"))
        .await
        .expect("router is infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Every object type's fields, by type name.
async fn types(app: &TestApp) -> HashMap<String, Vec<Field>> {
    let schema = app
        .data(
            "{ __schema { types { name kind fields { name args { name } type { ...T } } } } }
             fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }",
            json!({}),
        )
        .await;
    let mut types = HashMap::new();
    for ty in schema["__schema"]["types"].as_array().expect("types") {
        let name = ty["name"].as_str().unwrap_or_default();
        if ty["kind"] != "OBJECT" || name.starts_with("__") {
            continue;
        }
        let fields = ty["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| {
                        let mut t = &f["type"];
                        while t["name"].is_null() {
                            t = &t["ofType"];
                        }
                        Field {
                            name: f["name"].as_str().unwrap_or_default().to_owned(),
                            of: t["name"].as_str().unwrap_or_default().to_owned(),
                            object: t["kind"] == "OBJECT",
                            args: f["args"].as_array().is_some_and(|a| !a.is_empty()),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        types.insert(name.to_owned(), fields);
    }
    types
}

/// Every field of `ty`, relations `depth` levels down (each with every field again).
fn everything(types: &HashMap<String, Vec<Field>>, ty: &str, depth: usize) -> String {
    let mut out = vec!["__typename".to_owned()];
    for field in types.get(ty).map(Vec::as_slice).unwrap_or_default() {
        if !field.object {
            out.push(field.name.clone());
        } else if depth > 0 {
            let first = if field.args && field.name == "recipeRuns" {
                "(first: 3)"
            } else {
                ""
            };
            out.push(format!(
                "{}{first} {{ {} }}",
                field.name,
                everything(types, &field.of, depth - 1)
            ));
        }
    }
    out.join(" ")
}

/// `response` with its errors in a stable order (fields resolved concurrently may fail in
/// any order).
fn settled(mut response: Value) -> Value {
    if let Some(errors) = response.get_mut("errors").and_then(Value::as_array_mut) {
        errors.sort_by_key(|e| format!("{}{}", e["path"], e["message"]));
    }
    response
}

async fn load(app: &TestApp) {
    Sample::load(app.db()).await;
    for i in 0..3 {
        app.db()
            .record_delivery(NewDelivery {
                guid: format!("guid-{i}"),
                event: "pull_request".into(),
                action: (i != 1).then(|| "opened".into()),
                repository: Some("pangeo-forge/gpcp-feedstock".into()),
                installation_id: Some(1),
                payload: format!("{{\"n\": {i}}}"),
                state: DeliveryState::Ignored,
                last_error: None,
                note: Some(format!("note {i}")),
            })
            .await
            .expect("recording a delivery");
    }
}

/// The documents: every list and relation with every field, and the selection shapes the
/// direct reading must leave to async-graphql or handle as it does.
fn documents(types: &HashMap<String, Vec<Field>>) -> Vec<(String, Value)> {
    let all = |ty: &str, depth| everything(types, ty, depth);
    let mut docs: Vec<(String, Value)> = Vec::new();
    for (list, ty) in [
        ("recipeRuns", "RecipeRun"),
        ("feedstocks", "Feedstock"),
        ("bakeries", "Bakery"),
        ("datasets", "Dataset"),
        ("webhookDeliveries", "WebhookDelivery"),
    ] {
        docs.push((
            format!(
                "{{ {list}(first: 50) {{ nodes {{ {} }} edges {{ cursor node {{ {} }} }} }} }}",
                all(ty, 2),
                all(ty, 1)
            ),
            json!({}),
        ));
    }
    docs.push((
        format!(
            "query($id: Int!) {{ feedstock(id: $id) {{ recipeRuns {{ {} }} datasets {{ {} }} }} }}",
            all("RecipeRun", 2),
            all("Dataset", 2)
        ),
        json!({"id": 2}),
    ));
    docs.push((
        "{ recipeRuns { nodes { a: id id b: status id x: bakery { id } x: bakery { name } \
         y: feedstock { spec } job { jobName } t: __typename } } }"
            .to_owned(),
        json!({}),
    ));
    docs.push((
        "query($yes: Boolean!) { feedstocks { nodes { ...F ... on Feedstock { provider } } } \
         recipeRuns { nodes { id @include(if: $yes) status @skip(if: $yes) \
         headSha @include(if: false) ... { recipeId } bakery { ...B } } } } \
         fragment F on Feedstock { id spec recipeRuns(first: 1) { id } } \
         fragment B on Bakery { name region }"
            .to_owned(),
        json!({"yes": true}),
    ));
    docs
}

async fn direct_reading_answers_what_async_graphql_answers(app: TestApp) {
    load(&app).await;
    let types = types(&app).await;
    assert!(
        types.get("RecipeRun").is_some_and(|f| f.len() > 10),
        "introspection found the types"
    );
    let per_field = router(app.orchestrator.state().clone().resolving_every_field());
    let docs = documents(&types);
    for (query, variables) in &docs {
        for admin in [false, true] {
            let direct = settled(post(&app.router, query, variables.clone(), admin).await);
            let baseline = settled(post(&per_field, query, variables.clone(), admin).await);
            assert_eq!(
                direct, baseline,
                "direct reading differs from async-graphql for {query} (admin: {admin})"
            );
            assert!(
                direct["data"].is_object(),
                "the document executed: {direct}"
            );
        }
    }
    // The documents really reached rows, errors and the guarded field.
    let (runs, _) = &docs[0];
    let answered = post(&app.router, runs, json!({}), false).await;
    let nodes = answered["data"]["recipeRuns"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(nodes.len(), 4, "{answered}");
    assert_eq!(nodes[0]["__typename"], "RecipeRun");
    assert!(
        nodes
            .iter()
            .any(|n| n["bakery"]["name"] == "pangeo-forge-local")
    );
    let (deliveries, _) = &docs[4];
    let anonymous = post(&app.router, deliveries, json!({}), false).await;
    let admin = post(&app.router, deliveries, json!({}), true).await;
    assert!(
        anonymous["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["path"].to_string().contains("payload"))),
        "an anonymous caller's payload is an error on its field: {anonymous}"
    );
    let payloads: Vec<&Value> = admin["data"]["webhookDeliveries"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| &n["payload"])
        .collect();
    assert!(payloads.contains(&&json!("{\"n\": 1}")), "{admin}");
}

/// The keys come in the order the selection gives them (as the GraphQL spec asks), relations
/// included.
async fn keys_come_in_selection_order(app: TestApp) {
    load(&app).await;
    let answer = app
        .data(
            "{ recipeRuns(first: 1) { nodes { status bakery { name id } id feedstock { spec } recipeId } } }",
            json!({}),
        )
        .await;
    let node = &answer["recipeRuns"]["nodes"][0];
    let keys: Vec<&String> = node.as_object().expect("node").keys().collect();
    assert_eq!(keys, ["status", "bakery", "id", "feedstock", "recipeId"]);
    let bakery: Vec<&String> = node["bakery"].as_object().expect("bakery").keys().collect();
    assert_eq!(bakery, ["name", "id"]);
}

both_engines!(
    direct_reading_answers_what_async_graphql_answers,
    keys_come_in_selection_order
);
