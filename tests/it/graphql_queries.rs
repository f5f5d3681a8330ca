//! Every query field, against rows written through the database verbs.

use crate::both_engines;
use crate::sample::{SHA_A, SHA_B, Sample};
use crate::support::TestApp;
use pangeo_forge_orchestrator::db::NewFeedstock;
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect()
}

async fn single_lookups(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let data = app
        .data(
            r#"query($f: Int!, $b: Int!, $r: Int!) {
                feedstock(id: $f) { id spec provider }
                feedstockBySpec(spec: "pangeo-forge/staged-recipes") { id }
                bakery(id: $b) { id name region description }
                bakeryByName(name: "pangeo-forge-local") { id }
                recipeRun(id: $r) {
                    id recipeId headSha version status conclusion isTest datasetType
                    datasetPublicUrl startedAt completedAt
                    job { jobName jobId deploymentId environmentUrl errorTrace }
                    bakery { name } feedstock { spec } dataset { url type isTest recipeRunId }
                }
                missingFeedstock: feedstock(id: 999) { id }
                missingBakery: bakeryByName(name: "nope") { id }
                missingRun: recipeRun(id: 999) { id }
            }"#,
            json!({"f": s.gpcp.id, "b": s.dataflow.id, "r": s.prod_success.id}),
        )
        .await;
    assert_eq!(
        data["feedstock"],
        json!({"id": s.gpcp.id, "spec": "pangeo-forge/gpcp-feedstock", "provider": "github"})
    );
    assert_eq!(data["feedstockBySpec"]["id"], json!(s.staged.id));
    assert_eq!(
        data["bakery"],
        json!({"id": s.dataflow.id, "name": "pangeo-ldeo-nsf-earthcube", "region": "us-central1",
               "description": "Dataflow on GCP, output to OSN"})
    );
    assert_eq!(data["bakeryByName"]["id"], json!(s.local.id));
    assert_eq!(
        data["recipeRun"],
        json!({
            "id": s.prod_success.id, "recipeId": "gpcp-daily", "headSha": SHA_B, "version": "1.0",
            "status": "COMPLETED", "conclusion": "SUCCESS", "isTest": false, "datasetType": "ZARR",
            "datasetPublicUrl": "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp-daily.zarr",
            "startedAt": "2022-09-07T20:37:49+00:00", "completedAt": "2022-09-08T01:02:03+00:00",
            "job": {"jobName": null, "jobId": null, "deploymentId": "3000000001", "environmentUrl": null, "errorTrace": null},
            "bakery": {"name": "pangeo-ldeo-nsf-earthcube"},
            "feedstock": {"spec": "pangeo-forge/gpcp-feedstock"},
            "dataset": {"url": "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp-daily.zarr",
                        "type": "ZARR", "isTest": false, "recipeRunId": s.prod_success.id},
        })
    );
    assert_eq!(data["missingFeedstock"], Value::Null);
    assert_eq!(data["missingBakery"], Value::Null);
    assert_eq!(data["missingRun"], Value::Null);
}

async fn connections_page_with_cursors(app: TestApp) {
    for name in ["e", "c", "a", "d", "b"] {
        app.db()
            .create_feedstock(NewFeedstock {
                spec: format!("org/{name}-feedstock"),
                provider: None,
            })
            .await
            .unwrap();
    }
    let query = r#"query($after: String) {
        feedstocks(first: 2, after: $after, orderBy: {field: SPEC, direction: DESC}) {
            totalCount
            edges { cursor node { spec } }
            nodes { spec }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
    }"#;
    let first = app.data(query, json!({})).await["feedstocks"].clone();
    assert_eq!(first["totalCount"], 5);
    assert_eq!(
        first["nodes"],
        json!([{"spec": "org/e-feedstock"}, {"spec": "org/d-feedstock"}])
    );
    assert_eq!(first["edges"][0]["node"], first["nodes"][0]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(first["pageInfo"]["endCursor"], first["edges"][1]["cursor"]);

    let second = app
        .data(query, json!({"after": first["pageInfo"]["endCursor"]}))
        .await["feedstocks"]
        .clone();
    assert_eq!(
        second["nodes"],
        json!([{"spec": "org/c-feedstock"}, {"spec": "org/b-feedstock"}])
    );
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);

    let last = app
        .data(query, json!({"after": second["pageInfo"]["endCursor"]}))
        .await["feedstocks"]
        .clone();
    assert_eq!(last["nodes"], json!([{"spec": "org/a-feedstock"}]));
    assert_eq!(last["pageInfo"]["hasNextPage"], false);

    // Without orderBy: by id, i.e. in creation order; without `first`: the whole first page.
    let all = app
        .data("{ feedstocks { nodes { spec } } }", json!({}))
        .await;
    let specs: Vec<&str> = all["feedstocks"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["spec"].as_str().unwrap())
        .collect();
    assert_eq!(
        specs,
        [
            "org/e-feedstock",
            "org/c-feedstock",
            "org/a-feedstock",
            "org/d-feedstock",
            "org/b-feedstock"
        ]
    );
}

async fn recipe_runs_filters(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let query = r#"query($filter: RecipeRunFilter) {
        recipeRuns(filter: $filter) { totalCount nodes { id } }
    }"#;
    let cases = [
        (json!({"status": "QUEUED"}), vec![s.queued.id]),
        (json!({"status": "IN_PROGRESS"}), vec![s.running.id]),
        (
            json!({"status": "COMPLETED"}),
            vec![s.test_success.id, s.prod_success.id],
        ),
        (
            json!({"conclusion": "SUCCESS"}),
            vec![s.test_success.id, s.prod_success.id],
        ),
        (json!({"conclusion": "FAILURE"}), vec![]),
        (json!({"isTest": false}), vec![s.prod_success.id]),
        (
            json!({"feedstockId": s.staged.id}),
            vec![s.queued.id, s.running.id],
        ),
        (json!({"bakeryId": s.local.id}), vec![s.test_success.id]),
        (json!({"headSha": SHA_A}), vec![s.queued.id, s.running.id]),
        (json!({"recipeId": "gpcp-monthly"}), vec![s.running.id]),
        (
            json!({"recipeId": "gpcp-daily", "headSha": SHA_B, "isTest": true}),
            vec![s.test_success.id],
        ),
        (
            json!({}),
            vec![
                s.queued.id,
                s.running.id,
                s.test_success.id,
                s.prod_success.id,
            ],
        ),
    ];
    for (filter, expected) in cases {
        let data = app.data(query, json!({"filter": filter})).await;
        let got = ids(&data["recipeRuns"]["nodes"]);
        let expected: Vec<i64> = expected.into_iter().map(i64::from).collect();
        assert_eq!(got, expected, "filter {filter}");
        assert_eq!(
            data["recipeRuns"]["totalCount"],
            json!(expected.len()),
            "filter {filter}"
        );
    }

    let recent = app
        .data(
            "{ recipeRuns(first: 2, orderBy: {field: ID, direction: DESC}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ids(&recent["recipeRuns"]["nodes"]),
        vec![i64::from(s.prod_success.id), i64::from(s.test_success.id)]
    );
}

async fn datasets_and_stats(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let query = r#"query($f: Int, $t: DatasetScope!) {
        datasets(feedstockId: $f, type: $t) { totalCount nodes { recipeRunId url isTest feedstock { spec } recipeRun { id } } }
    }"#;
    let all = app.data(query, json!({"f": s.gpcp.id, "t": "ALL"})).await;
    assert_eq!(all["datasets"]["totalCount"], 2);
    let prod = app
        .data(query, json!({"f": s.gpcp.id, "t": "PRODUCTION"}))
        .await;
    assert_eq!(
        prod["datasets"]["nodes"],
        json!([{"recipeRunId": s.prod_success.id, "isTest": false,
                "url": "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp-daily.zarr",
                "feedstock": {"spec": "pangeo-forge/gpcp-feedstock"}, "recipeRun": {"id": s.prod_success.id}}])
    );
    let test = app.data(query, json!({"f": s.gpcp.id, "t": "TEST"})).await;
    assert_eq!(
        test["datasets"]["nodes"][0]["recipeRunId"],
        json!(s.test_success.id)
    );
    let staged = app.data(query, json!({"f": s.staged.id, "t": "ALL"})).await;
    assert_eq!(staged["datasets"]["totalCount"], 0);

    let stats = app
        .data(
            "{ stats { recipeRuns bakeries feedstocks datasets prod: datasets(excludeTestRuns: true) } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stats["stats"],
        json!({"recipeRuns": 4, "bakeries": 2, "feedstocks": 2, "datasets": 2, "prod": 1})
    );
}

async fn nested_lists(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let data = app
        .data(
            r#"query($f: Int!, $b: Int!) {
                feedstock(id: $f) {
                    recipeRuns { id }
                    newest: recipeRuns(first: 1) { id }
                    datasets { recipeRunId }
                    prod: datasets(type: PRODUCTION) { recipeRunId }
                }
                bakery(id: $b) { recipeRuns { id feedstock { spec } } }
            }"#,
            json!({"f": s.gpcp.id, "b": s.dataflow.id}),
        )
        .await;
    let f = &data["feedstock"];
    assert_eq!(
        ids(&f["recipeRuns"]),
        vec![i64::from(s.prod_success.id), i64::from(s.test_success.id)]
    );
    assert_eq!(ids(&f["newest"]), vec![i64::from(s.prod_success.id)]);
    assert_eq!(
        f["datasets"],
        json!([{"recipeRunId": s.prod_success.id}, {"recipeRunId": s.test_success.id}])
    );
    assert_eq!(f["prod"], json!([{"recipeRunId": s.prod_success.id}]));
    assert_eq!(
        ids(&data["bakery"]["recipeRuns"]),
        vec![
            i64::from(s.prod_success.id),
            i64::from(s.running.id),
            i64::from(s.queued.id)
        ]
    );
    assert_eq!(
        data["bakery"]["recipeRuns"][1]["feedstock"]["spec"],
        "pangeo-forge/staged-recipes"
    );
}

both_engines!(
    single_lookups,
    connections_page_with_cursors,
    recipe_runs_filters,
    datasets_and_stats,
    nested_lists,
);
