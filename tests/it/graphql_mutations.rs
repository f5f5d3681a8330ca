//! Admin mutations: what they write, and that nobody without the key writes anything.

use crate::both_engines;
use crate::sample::{SHA_A, Sample};
use crate::support::{ADMIN_KEY, TestApp, error_code};
use pangeo_forge_orchestrator::db::Stats;
use serde_json::json;

const CREATE_BAKERY: &str = r#"mutation($input: CreateBakeryInput!) {
    createBakery(input: $input) { id name region description }
}"#;

async fn create_update_delete_each_entity(app: TestApp) {
    let bakery = app
        .admin_data(
            CREATE_BAKERY,
            json!({"input": {"name": "osn-flink", "region": "us-west-2", "description": "Flink"}}),
        )
        .await["createBakery"]
        .clone();
    assert_eq!(bakery["name"], "osn-flink");
    let bakery_id = bakery["id"].as_i64().unwrap();

    let feedstock = app
        .admin_data(
            r#"mutation { createFeedstock(input: {spec: "pangeo-forge/eobs-feedstock"}) { id spec provider } }"#,
            json!({}),
        )
        .await["createFeedstock"]
        .clone();
    assert_eq!(feedstock["provider"], "github");
    let feedstock_id = feedstock["id"].as_i64().unwrap();

    let run = app
        .admin_data(
            r#"mutation($input: CreateRecipeRunInput!) {
                createRecipeRun(input: $input) { id status conclusion isTest version bakery { name } dataset { url } }
            }"#,
            json!({"input": {"recipeId": "eobs", "bakeryId": bakery_id, "feedstockId": feedstock_id, "headSha": SHA_A}}),
        )
        .await["createRecipeRun"]
        .clone();
    assert_eq!(run["status"], "QUEUED");
    assert_eq!(run["isTest"], false);
    assert_eq!(run["bakery"]["name"], "osn-flink");
    assert_eq!(run["dataset"], json!(null));
    let run_id = run["id"].as_i64().unwrap();

    // Completing with success and a URL records the dataset; a stats count sees it.
    let done = app
        .admin_data(
            r#"mutation($id: Int!) {
                updateRecipeRun(id: $id, input: {status: COMPLETED, conclusion: SUCCESS,
                    datasetType: ZARR, datasetPublicUrl: "https://data.example/eobs.zarr",
                    jobName: "a1b2", deploymentId: "4000000000"}) {
                    status conclusion job { jobName deploymentId } dataset { url type }
                }
            }"#,
            json!({"id": run_id}),
        )
        .await["updateRecipeRun"]
        .clone();
    assert_eq!(
        done,
        json!({"status": "COMPLETED", "conclusion": "SUCCESS",
               "job": {"jobName": "a1b2", "deploymentId": "4000000000"},
               "dataset": {"url": "https://data.example/eobs.zarr", "type": "ZARR"}})
    );
    assert_eq!(
        app.db()
            .count(Stats::Datasets {
                exclude_test_runs: true
            })
            .await
            .unwrap(),
        1
    );

    // null clears a nullable field; clearing the URL removes the dataset.
    let cleared = app
        .admin_data(
            r#"mutation($id: Int!) { updateRecipeRun(id: $id, input: {datasetPublicUrl: null}) { datasetPublicUrl dataset { url } job { jobName } } }"#,
            json!({"id": run_id}),
        )
        .await["updateRecipeRun"]
        .clone();
    assert_eq!(
        cleared,
        json!({"datasetPublicUrl": null, "dataset": null, "job": {"jobName": "a1b2"}})
    );
    assert_eq!(
        app.db()
            .count(Stats::Datasets {
                exclude_test_runs: false
            })
            .await
            .unwrap(),
        0
    );

    let renamed = app
        .admin_data(
            r#"mutation($id: Int!) { updateBakery(id: $id, input: {description: "Flink on k8s"}) { name description } }"#,
            json!({"id": bakery_id}),
        )
        .await["updateBakery"]
        .clone();
    assert_eq!(
        renamed,
        json!({"name": "osn-flink", "description": "Flink on k8s"})
    );
    let respecced = app
        .admin_data(
            r#"mutation($id: Int!) { updateFeedstock(id: $id, input: {spec: "pangeo-forge/e-obs-feedstock"}) { spec } }"#,
            json!({"id": feedstock_id}),
        )
        .await["updateFeedstock"]
        .clone();
    assert_eq!(respecced["spec"], "pangeo-forge/e-obs-feedstock");

    app.admin_data(
        "mutation($id: Int!) { deleteRecipeRun(id: $id) { id } }",
        json!({"id": run_id}),
    )
    .await;
    app.admin_data(
        "mutation($id: Int!) { deleteBakery(id: $id) { id } }",
        json!({"id": bakery_id}),
    )
    .await;
    app.admin_data(
        "mutation($id: Int!) { deleteFeedstock(id: $id) { id } }",
        json!({"id": feedstock_id}),
    )
    .await;
    let stats = app
        .data("{ stats { bakeries feedstocks recipeRuns } }", json!({}))
        .await;
    assert_eq!(
        stats["stats"],
        json!({"bakeries": 0, "feedstocks": 0, "recipeRuns": 0})
    );
}

async fn mutations_without_a_valid_key_write_nothing(app: TestApp) {
    let input = json!({"input": {"name": "intruder", "region": "x", "description": "y"}});
    let attempts: [&[(&str, &str)]; 4] = [
        &[],
        &[("authorization", "Bearer wrong-key-wrong-key-wrong")],
        &[("x-api-key", "wrong-key-wrong-key-wrong")],
        &[("authorization", ADMIN_KEY)], // not a Bearer credential
    ];
    for headers in attempts {
        let reply = app
            .graphql_with(CREATE_BAKERY, input.clone(), headers)
            .await;
        let response = reply.json();
        assert_eq!(
            error_code(&response),
            "UNAUTHENTICATED",
            "headers {headers:?}"
        );
        assert_eq!(response["data"], json!(null));
    }
    let s = Sample::load(app.db()).await;
    let reply = app
        .graphql_with(
            "mutation($id: Int!) { deleteRecipeRun(id: $id) { id } }",
            json!({"id": s.queued.id}),
            &[],
        )
        .await;
    assert_eq!(error_code(&reply.json()), "UNAUTHENTICATED");
    assert_eq!(app.db().count(Stats::Bakeries).await.unwrap(), 2);
    assert!(app.db().bakery_by_name("intruder").await.unwrap().is_none());
    assert!(app.db().recipe_run(s.queued.id).await.unwrap().is_some());

    // The X-API-Key header works as well as the bearer token.
    let reply = app
        .graphql_with(CREATE_BAKERY, input, &[("x-api-key", ADMIN_KEY)])
        .await;
    assert!(reply.json().get("errors").is_none(), "{}", reply.text());
    assert_eq!(app.db().count(Stats::Bakeries).await.unwrap(), 3);
}

both_engines!(
    create_update_delete_each_entity,
    mutations_without_a_valid_key_write_nothing
);
