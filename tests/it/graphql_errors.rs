//! Every error code, with a message that says what was wrong.

use crate::both_engines;
use crate::sample::{SHA_A, Sample};
use crate::support::{TestApp, error_code, error_message};
use serde_json::json;

async fn conflict_on_taken_names(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let response = app
        .gql_admin(
            r#"mutation { createBakery(input: {name: "pangeo-forge-local", region: "r", description: "d"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), "CONFLICT");
    assert!(
        error_message(&response).contains("pangeo-forge-local"),
        "{response}"
    );

    let response = app
        .gql_admin(
            r#"mutation { createFeedstock(input: {spec: "pangeo-forge/gpcp-feedstock"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), "CONFLICT");

    let response = app
        .gql_admin(
            r#"mutation($id: Int!) { updateBakery(id: $id, input: {name: "pangeo-forge-local"}) { id } }"#,
            json!({"id": s.dataflow.id}),
        )
        .await;
    assert_eq!(error_code(&response), "CONFLICT");

    let response = app
        .gql_admin(
            "mutation($id: Int!) { deleteBakery(id: $id) { id } }",
            json!({"id": s.dataflow.id}),
        )
        .await;
    assert_eq!(error_code(&response), "CONFLICT");
    assert!(
        error_message(&response).contains("recipe run"),
        "{response}"
    );
}

async fn not_found_on_missing_rows(app: TestApp) {
    for mutation in [
        r#"mutation { updateBakery(id: 404, input: {region: "x"}) { id } }"#,
        r#"mutation { updateFeedstock(id: 404, input: {provider: "github"}) { id } }"#,
        r#"mutation { updateRecipeRun(id: 404, input: {version: "2.0"}) { id } }"#,
        "mutation { deleteBakery(id: 404) { id } }",
        "mutation { deleteFeedstock(id: 404) { id } }",
        "mutation { deleteRecipeRun(id: 404) { id } }",
    ] {
        let response = app.gql_admin(mutation, json!({})).await;
        assert_eq!(error_code(&response), "NOT_FOUND", "{mutation}");
        assert!(error_message(&response).contains("404"), "{response}");
    }
}

async fn bad_user_input_says_what_is_wrong(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let run = |overrides: serde_json::Value| {
        let mut input = json!({"recipeId": "r", "bakeryId": s.dataflow.id, "feedstockId": s.gpcp.id, "headSha": SHA_A});
        for (k, v) in overrides.as_object().unwrap() {
            input[k] = v.clone();
        }
        json!({"input": input})
    };
    let create =
        "mutation($input: CreateRecipeRunInput!) { createRecipeRun(input: $input) { id } }";
    let cases = [
        (run(json!({"bakeryId": 9999})), "bakery 9999 does not exist"),
        (
            run(json!({"feedstockId": 9999})),
            "feedstock 9999 does not exist",
        ),
        (run(json!({"headSha": "not-a-sha"})), "not a commit sha"),
        (run(json!({"status": "COMPLETED"})), "needs a conclusion"),
        (
            run(json!({"conclusion": "FAILURE"})),
            "only allowed when the status is COMPLETED",
        ),
        (
            run(json!({"recipeId": "  "})),
            "recipe id must not be empty",
        ),
        (
            run(json!({"deploymentId": "12ab"})),
            "not a GitHub deployment id",
        ),
    ];
    for (variables, expected) in cases {
        let response = app.gql_admin(create, variables.clone()).await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{variables}");
        assert!(
            error_message(&response).contains(expected),
            "{expected}: {response}"
        );
    }
    let response = app
        .gql_admin(
            r#"mutation { createFeedstock(input: {spec: "no slash"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert!(error_message(&response).contains("owner/repository"));

    for (query, expected) in [
        (
            "{ feedstocks(first: 101) { totalCount } }",
            "between 0 and 100",
        ),
        (
            "{ recipeRuns(first: -1) { totalCount } }",
            "between 0 and 100",
        ),
        (
            r#"{ bakeries(after: "bogus") { totalCount } }"#,
            "not a cursor",
        ),
        (
            "{ feedstocks { nodes { recipeRuns(first: 500) { id } } } }",
            "between 0 and 100",
        ),
    ] {
        // The nested case only errors when a feedstock exists to resolve it.
        let response = app.gql(query, json!({})).await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{query}");
        assert!(
            error_message(&response).contains(expected),
            "{query}: {response}"
        );
    }
    // Nothing was written by any refused mutation.
    let stats = app
        .data("{ stats { recipeRuns feedstocks } }", json!({}))
        .await;
    assert_eq!(stats["stats"], json!({"recipeRuns": 4, "feedstocks": 2}));
}

async fn depth_and_complexity_limits(app: TestApp) {
    // recipeRuns > nodes > (feedstock > recipeRuns) × 6 > id: 15 levels.
    let mut deep = "id".to_owned();
    for _ in 0..6 {
        deep = format!("feedstock {{ recipeRuns {{ {deep} }} }}");
    }
    let deep = format!("{{ recipeRuns {{ nodes {{ {deep} }} }} }}");
    let response = app.gql(&deep, json!({})).await;
    assert!(
        error_message(&response).contains("nested too deep"),
        "{response}"
    );
    assert_eq!(response["data"], json!(null));

    let wide: String = (0..1100)
        .map(|i| format!("s{i}: stats {{ feedstocks }} "))
        .collect();
    let response = app.gql(&format!("{{ {wide} }}"), json!({})).await;
    assert!(
        error_message(&response).contains("too complex"),
        "{response}"
    );
}

both_engines!(
    conflict_on_taken_names,
    not_found_on_missing_rows,
    bad_user_input_says_what_is_wrong,
    depth_and_complexity_limits,
);
