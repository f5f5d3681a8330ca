//! The original REST read routes: the JSON below is written from SPEC §3 and the original
//! response models (BakeryRead, FeedstockRead, RecipeRunRead and their extended forms),
//! not copied from our output.

use crate::both_engines;
use crate::sample::{SHA_A, SHA_B, Sample};
use crate::support::TestApp;
use axum::http::StatusCode;
use serde_json::{Value, json};

fn bakery_json(s: &Sample, local: bool) -> Value {
    if local {
        json!({"region": "local", "name": "pangeo-forge-local", "description": "LocalDirectBakery", "id": s.local.id})
    } else {
        json!({"region": "us-central1", "name": "pangeo-ldeo-nsf-earthcube",
               "description": "Dataflow on GCP, output to OSN", "id": s.dataflow.id})
    }
}

fn queued_json(s: &Sample) -> Value {
    json!({
        "recipe_id": "gpcp-daily", "bakery_id": s.dataflow.id, "feedstock_id": s.staged.id,
        "head_sha": SHA_A, "version": "", "started_at": "2022-09-07T20:37:49",
        "completed_at": null, "conclusion": null, "status": "queued", "is_test": true,
        "dataset_type": null, "dataset_public_url": null, "message": null, "id": s.queued.id,
    })
}

fn running_json(s: &Sample) -> Value {
    json!({
        "recipe_id": "gpcp-monthly", "bakery_id": s.dataflow.id, "feedstock_id": s.staged.id,
        "head_sha": SHA_A, "version": "", "started_at": "2022-09-07T20:37:49",
        "completed_at": null, "conclusion": null, "status": "in_progress", "is_test": true,
        "dataset_type": null, "dataset_public_url": null,
        "message": "{\"job_id\":\"2022-09-07_13_37_49-123\",\"job_name\":\"a6170692e7465737425\"}",
        "id": s.running.id,
    })
}

fn prod_json(s: &Sample) -> Value {
    json!({
        "recipe_id": "gpcp-daily", "bakery_id": s.dataflow.id, "feedstock_id": s.gpcp.id,
        "head_sha": SHA_B, "version": "1.0", "started_at": "2022-09-07T20:37:49",
        "completed_at": "2022-09-08T01:02:03", "conclusion": "success", "status": "completed",
        "is_test": false, "dataset_type": "zarr",
        "dataset_public_url": "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp-daily.zarr",
        "message": "{\"deployment_id\":3000000001}", "id": s.prod_success.id,
    })
}

/// `message` is a JSON string in the original; compare it as JSON, key order aside.
fn normalise(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(m)) = map.get("message") {
                    let parsed: Value = serde_json::from_str(m).expect("message is JSON");
                    map.insert("message".into(), parsed);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

async fn detail_routes_match_the_original_shapes(app: TestApp) {
    let s = Sample::load(app.db()).await;

    let reply = app
        .get(&format!("/recipe_runs/{}", s.prod_success.id))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut expected = prod_json(&s);
    expected["bakery"] = bakery_json(&s, false);
    expected["feedstock"] =
        json!({"spec": "pangeo-forge/gpcp-feedstock", "provider": "github", "id": s.gpcp.id});
    assert_eq!(normalise(reply.json()), normalise(expected));

    let reply = app.get(&format!("/feedstocks/{}", s.staged.id)).await;
    assert_eq!(
        normalise(reply.json()),
        normalise(json!({
            "spec": "pangeo-forge/staged-recipes", "provider": "github", "id": s.staged.id,
            "recipe_runs": [queued_json(&s), running_json(&s)],
        }))
    );

    let reply = app.get(&format!("/bakeries/{}", s.local.id)).await;
    let body = reply.json();
    let mut expected = bakery_json(&s, true);
    expected["recipe_runs"] = json!([body["recipe_runs"][0].clone()]);
    assert_eq!(body, expected);
    assert_eq!(body["recipe_runs"][0]["id"], json!(s.test_success.id));
    assert_eq!(
        body["recipe_runs"][0]["completed_at"],
        "2022-09-07T21:00:00"
    );

    for missing in ["/recipe_runs/999", "/feedstocks/999", "/bakeries/999"] {
        let reply = app.get(missing).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(
            reply.json()["detail"]
                .as_str()
                .unwrap()
                .ends_with("not found")
        );
    }
    let reply = app.get("/feedstocks/abc").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["detail"][0]["loc"], json!(["path", "id"]));
}

async fn list_routes_page_and_sort(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let reply = app.get("/bakeries/").await;
    assert_eq!(
        reply.json(),
        json!([bakery_json(&s, false), bakery_json(&s, true)])
    );
    let reply = app.get("/bakeries?order_by=name&sort=asc").await;
    assert_eq!(
        reply.json(),
        json!([bakery_json(&s, true), bakery_json(&s, false)])
    );

    let reply = app
        .get("/feedstocks/?order_by=spec&sort=desc&limit=1")
        .await;
    assert_eq!(
        reply.json(),
        json!([{"spec": "pangeo-forge/staged-recipes", "provider": "github", "id": s.staged.id}])
    );
    let reply = app.get("/feedstocks/?offset=1").await;
    assert_eq!(reply.json()[0]["id"], json!(s.gpcp.id));

    let reply = app.get("/recipe_runs/?limit=2").await;
    assert_eq!(
        normalise(reply.json()),
        normalise(json!([queued_json(&s), running_json(&s)]))
    );
    let reply = app
        .get("/recipe_runs/?order_by=started_at&sort=desc&offset=3&limit=5")
        .await;
    assert_eq!(reply.json().as_array().unwrap().len(), 1);

    for (path, param) in [
        ("/recipe_runs/?limit=101", "limit"),
        ("/recipe_runs/?offset=-1", "offset"),
        ("/recipe_runs/?order_by=password", "order_by"),
        ("/bakeries/?sort=sideways", "sort"),
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(
            reply.json()["detail"][0]["loc"],
            json!(["query", param]),
            "{path}"
        );
    }
    let reply = app.get("/recipe_runs/?order_by=password").await;
    assert!(
        reply.text().contains("head_sha"),
        "lists the columns: {}",
        reply.text()
    );
}

async fn datasets_and_stats_routes(app: TestApp) {
    let s = Sample::load(app.db()).await;
    let prod = json!({
        "recipe_id": "gpcp-daily", "feedstock_id": s.gpcp.id, "dataset_type": "zarr",
        "dataset_public_url": "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp-daily.zarr",
        "is_test": false, "id": s.prod_success.id,
    });
    let test = json!({
        "recipe_id": "gpcp-daily", "feedstock_id": s.gpcp.id, "dataset_type": "zarr",
        "dataset_public_url": "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/test/pangeo-forge/staged-recipes/recipe-run-3/gpcp-daily.zarr",
        "is_test": true, "id": s.test_success.id,
    });
    let path = format!("/feedstocks/{}/datasets", s.gpcp.id);
    assert_eq!(
        app.get(&path).await.json(),
        json!([test.clone(), prod.clone()])
    );
    assert_eq!(
        app.get(&format!("{path}?type=all")).await.json(),
        json!([test.clone(), prod.clone()])
    );
    assert_eq!(
        app.get(&format!("{path}?type=production")).await.json(),
        json!([prod])
    );
    assert_eq!(
        app.get(&format!("{path}?type=test")).await.json(),
        json!([test])
    );
    assert_eq!(
        app.get(&format!("/feedstocks/{}/datasets", s.staged.id))
            .await
            .json(),
        json!([])
    );
    let reply = app.get(&format!("{path}?type=staging")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    for (path, count) in [
        ("/stats/recipe_runs", 4),
        ("/stats/bakeries", 2),
        ("/stats/feedstocks", 2),
        ("/stats/datasets", 2),
        ("/stats/datasets?exclude_test_runs=true", 1),
        ("/stats/datasets?exclude_test_runs=false", 2),
    ] {
        assert_eq!(
            app.get(path).await.json(),
            json!({"count": count}),
            "{path}"
        );
    }
    assert_eq!(app.get("/stats/users").await.status, StatusCode::NOT_FOUND);
    let reply = app.get("/stats/datasets?exclude_test_runs=maybe").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

both_engines!(
    detail_routes_match_the_original_shapes,
    list_routes_page_and_sort,
    datasets_and_stats_routes,
);
