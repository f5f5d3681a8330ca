//! The original's REST writes for feedstocks, bakeries and recipe runs: the admin key as the
//! original checked it, FastAPI's error shapes, and the same refusals as the GraphQL
//! mutations.

use crate::both_engines;
use crate::support::{ADMIN_KEY, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

fn write(method: &str, path: &str, key: Option<&str>, body: Value) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.body(Body::from(body.to_string())).expect("request")
}

async fn feedstocks_and_bakeries_are_written_with_the_admin_key(app: TestApp) {
    let new = json!({"spec": "pangeo-forge/gpcp-feedstock"});
    let no_key = app
        .send(write("POST", "/feedstocks/", None, new.clone()))
        .await;
    assert_eq!(no_key.status, StatusCode::FORBIDDEN);
    assert_eq!(no_key.json(), json!({"detail": "Not authenticated"}));
    let wrong = app
        .send(write(
            "POST",
            "/feedstocks/",
            Some("not-the-key-0123456789"),
            new.clone(),
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json(), json!({"detail": "Invalid API Key"}));
    assert_eq!(
        app.get("/feedstocks/").await.json(),
        json!([]),
        "nothing written"
    );

    let created = app
        .send(write("POST", "/feedstocks/", Some(ADMIN_KEY), new.clone()))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let feedstock = created.json();
    assert_eq!(feedstock["spec"], "pangeo-forge/gpcp-feedstock");
    let id = feedstock["id"].as_i64().expect("id");
    let again = app
        .send(write("POST", "/feedstocks", Some(ADMIN_KEY), new))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    let bad = app
        .send(write(
            "POST",
            "/feedstocks/",
            Some(ADMIN_KEY),
            json!({"spec": "no slash"}),
        ))
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let not_json = app
        .send(write("POST", "/feedstocks/", Some(ADMIN_KEY), json!([1])))
        .await;
    assert_eq!(not_json.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_json.json()["detail"][0]["loc"], json!(["body"]));

    let patched = app
        .send(write(
            "PATCH",
            &format!("/feedstocks/{id}"),
            Some(ADMIN_KEY),
            json!({"provider": "github"}),
        ))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json()["provider"], "github");
    assert_eq!(patched.json()["spec"], "pangeo-forge/gpcp-feedstock");
    assert_eq!(
        app.get(&format!("/feedstocks/{id}")).await.json()["provider"],
        "github"
    );

    let bakery = app
        .send(write(
            "POST",
            "/bakeries/",
            Some(ADMIN_KEY),
            json!({"name": "b", "region": "local", "description": "d"}),
        ))
        .await;
    assert_eq!(bakery.status, StatusCode::OK, "{}", bakery.text());
    let bakery_id = bakery.json()["id"].as_i64().expect("id");
    let renamed = app
        .send(write(
            "PATCH",
            &format!("/bakeries/{bakery_id}/"),
            Some(ADMIN_KEY),
            json!({"description": "a local bakery"}),
        ))
        .await;
    assert_eq!(renamed.json()["description"], "a local bakery");

    for path in [
        format!("/feedstocks/{id}"),
        format!("/bakeries/{bakery_id}"),
    ] {
        let deleted = app
            .send(write("DELETE", &path, Some(ADMIN_KEY), json!({})))
            .await;
        assert_eq!(deleted.json(), json!({"ok": true}), "{path}");
        assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
        let twice = app
            .send(write("DELETE", &path, Some(ADMIN_KEY), json!({})))
            .await;
        assert_eq!(twice.status, StatusCode::NOT_FOUND, "{path}");
    }
}

async fn recipe_runs_are_written_as_the_original_wrote_them(app: TestApp) {
    let admin = Some(ADMIN_KEY);
    let feedstock = app
        .send(write(
            "POST",
            "/feedstocks/",
            admin,
            json!({"spec": "pangeo-forge/gpcp-feedstock"}),
        ))
        .await
        .json();
    let bakery = app
        .send(write(
            "POST",
            "/bakeries/",
            admin,
            json!({"name": "b", "region": "local", "description": "d"}),
        ))
        .await
        .json();
    let new = json!({
        "recipe_id": "gpcp",
        "bakery_id": bakery["id"],
        "feedstock_id": feedstock["id"],
        "head_sha": "a".repeat(40),
        "version": "1.0",
        "started_at": "2022-09-07T20:37:49",
        "status": "in_progress",
        "is_test": true,
        "message": "{\"job_name\": \"a6170\", \"job_id\": \"2022-09-07_1\"}",
    });
    let no_key = app
        .send(write("POST", "/recipe_runs/", None, new.clone()))
        .await;
    assert_eq!(no_key.status, StatusCode::FORBIDDEN);
    let created = app.send(write("POST", "/recipe_runs/", admin, new)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let run = created.json();
    assert_eq!(run["status"], "in_progress");
    assert_eq!(run["started_at"], "2022-09-07T20:37:49", "naive UTC kept");
    let message: Value =
        serde_json::from_str(run["message"].as_str().expect("message")).expect("json");
    assert_eq!(
        message,
        json!({"job_name": "a6170", "job_id": "2022-09-07_1"})
    );
    let id = run["id"].as_i64().expect("id");

    let done = app
        .send(write(
            "PATCH",
            &format!("/recipe_runs/{id}"),
            admin,
            json!({"status": "completed", "conclusion": "success",
                   "completed_at": "2022-09-07T21:00:00+00:00",
                   "dataset_public_url": "https://example.org/gpcp.zarr", "dataset_type": "zarr"}),
        ))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let done = done.json();
    assert_eq!(done["conclusion"], "success");
    assert_eq!(done["completed_at"], "2022-09-07T21:00:00");
    assert_eq!(done["version"], "1.0", "omitted fields stay");
    assert_eq!(done["message"], run["message"], "an omitted message stays");
    let datasets = app
        .get(&format!("/feedstocks/{}/datasets", feedstock["id"]))
        .await
        .json();
    assert_eq!(
        datasets.as_array().map(Vec::len),
        Some(1),
        "the dataset followed: {datasets}"
    );

    let cleared = app
        .send(write(
            "PATCH",
            &format!("/recipe_runs/{id}/"),
            admin,
            json!({"message": null, "dataset_public_url": null}),
        ))
        .await
        .json();
    assert_eq!(cleared["message"], Value::Null, "{cleared}");
    assert_eq!(cleared["dataset_public_url"], Value::Null);
    let bad = app
        .send(write(
            "PATCH",
            &format!("/recipe_runs/{id}"),
            admin,
            json!({"status": "exploded"}),
        ))
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let deleted = app
        .send(write(
            "DELETE",
            &format!("/recipe_runs/{id}"),
            admin,
            json!({}),
        ))
        .await;
    assert_eq!(deleted.json(), json!({"ok": true}));
    assert_eq!(
        app.get(&format!("/recipe_runs/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

both_engines!(
    feedstocks_and_bakeries_are_written_with_the_admin_key,
    recipe_runs_are_written_as_the_original_wrote_them,
);
