//! The original's delivery routes, from the deliveries this server stored: the list, one
//! feedstock's, and one delivery (its payload only with the admin key).

use crate::both_engines;
use crate::support::webhooks::{fixture, with_repository};
use crate::support::{ADMIN_KEY, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use pangeo_forge_orchestrator::db::NewFeedstock;
use serde_json::json;

const FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";

async fn stored_deliveries_are_listed_with_githubs_names_and_ours(app: TestApp) {
    let feedstock = app
        .db()
        .create_feedstock(NewFeedstock {
            spec: FEEDSTOCK.into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    app.deliver("ping", "guid-ping", &fixture("ping/payload.json"))
        .await;
    let opened = with_repository(fixture("pull_request/opened.payload.json"), FEEDSTOCK);
    app.deliver("pull_request", "guid-pr", &opened).await;

    let all = app.get("/github/hooks/deliveries").await;
    assert_eq!(all.status, StatusCode::OK);
    let all = all.json();
    let guids: Vec<&str> = all
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["guid"].as_str())
        .collect();
    assert_eq!(guids, ["guid-pr", "guid-ping"], "newest first");
    let pr = &all[0];
    assert_eq!(pr["event"], "pull_request");
    assert_eq!(pr["action"], "opened");
    assert_eq!(pr["repository"], FEEDSTOCK);
    assert_eq!(pr["feedstock_id"], feedstock.id);
    assert_eq!(pr["state"], "queued");
    assert!(
        pr["delivered_at"]
            .as_str()
            .is_some_and(|t| !t.ends_with('Z')),
        "{pr}"
    );
    assert_eq!(all[1]["state"], "done");

    let mine = app
        .get(&format!("/feedstocks/{}/deliveries/", feedstock.id))
        .await
        .json();
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine[0]["guid"], "guid-pr");
    let missing = app.get("/feedstocks/99999/deliveries").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["detail"].is_string());
    let too_many = app.get("/github/hooks/deliveries?limit=101").await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);

    let id = pr["id"].as_i64().expect("id");
    let outcome = app
        .get(&format!("/github/hooks/deliveries/{id}"))
        .await
        .json();
    assert_eq!(outcome["state"], "queued", "{outcome}");
    assert!(outcome.get("request").is_none());
    let whole = format!("/github/hooks/deliveries/{id}?response_only=false");
    let refused = app.get(&whole).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("admin API key")
    );
    let admin = app
        .send(
            Request::get(&whole)
                .header("x-api-key", ADMIN_KEY)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .json();
    assert_eq!(
        admin["request"]["payload"], opened,
        "the payload as received"
    );
    assert_eq!(admin["guid"], "guid-pr");
    assert_eq!(
        app.get("/github/hooks/deliveries/99999").await.json(),
        json!({"detail": "delivery 99999 not found"})
    );
}

both_engines!(stored_deliveries_are_listed_with_githubs_names_and_ours);
