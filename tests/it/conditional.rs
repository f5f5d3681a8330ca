//! Conditional requests: a read carries an `ETag`; asked again with it while nothing
//! changed, the answer is `304 Not Modified` and no SQL statement runs; after any committed
//! change the same tag gets the new data.

use crate::both_engines;
use crate::support::{ADMIN_KEY, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use pangeo_forge_orchestrator::db::{NewBakery, NewFeedstock};
use serde_json::json;

/// `GET path` with `If-None-Match: tag` (and extra headers).
async fn get_if(
    app: &TestApp,
    path: &str,
    tag: &str,
    headers: &[(&str, &str)],
) -> crate::support::http::Reply {
    let mut request = Request::get(path).header("if-none-match", tag);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).expect("request"))
        .await
}

/// The tag of `path` once the data version has settled: on PostgreSQL the notices of
/// earlier writes (the tables' triggers) arrive a moment after the commit, and each one
/// rightly makes the tags before it stale.
async fn settled(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> String {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut tag = app
        .send(request.body(Body::empty()).expect("request"))
        .await
        .header("etag");
    for _ in 0..100 {
        let again = get_if(app, path, &tag, headers).await;
        if again.status == StatusCode::NOT_MODIFIED {
            return tag;
        }
        tag = again.header("etag");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{path}: the data version never settled")
}

async fn seeded(app: &TestApp) -> i32 {
    app.db()
        .create_bakery(NewBakery {
            name: "osn".into(),
            region: "us-central1".into(),
            description: "d".into(),
        })
        .await
        .expect("bakery");
    app.db()
        .create_feedstock(NewFeedstock {
            spec: "pangeo-forge/gpcp-feedstock".into(),
            provider: None,
        })
        .await
        .expect("feedstock")
        .id
}

async fn an_unchanged_read_is_answered_304_without_a_statement(app: TestApp) {
    seeded(&app).await;
    for path in [
        "/feedstocks/",
        "/bakeries/",
        "/recipe_runs/",
        "/stats/feedstocks",
        "/graphql?query=%7Bfeedstocks%7Bnodes%7Bspec%7D%7D%7D",
    ] {
        // (On PostgreSQL the first answers carry no tag until the listener is LISTENing.)
        let tag = settled(&app, path, &[]).await;
        let first = app.get(path).await;
        assert_eq!(first.status, StatusCode::OK, "{path}: {}", first.text());
        assert_eq!(first.header("etag"), tag, "{path}");
        assert!(tag.starts_with("W/\""), "{path}: {tag:?}");
        assert_eq!(first.header("cache-control"), "public, no-cache", "{path}");
        assert_eq!(
            first.header("vary"),
            "Authorization, X-API-Key, Accept",
            "{path}"
        );

        let before = app.test_db.statement_count();
        let again = get_if(&app, path, &tag, &[]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty(), "{path}: a 304 has no body");
        assert_eq!(again.header("etag"), tag, "{path}");
        assert_eq!(
            app.test_db.statement_count(),
            before,
            "{path}: no statement for a 304"
        );

        // Another tag, or none, is answered in full.
        let other = get_if(&app, path, "W/\"something-else\"", &[]).await;
        assert_eq!(other.status, StatusCode::OK, "{path}");
    }
    app.finish().await;
}

async fn every_kind_of_change_makes_the_next_answer_full(app: TestApp) {
    let feedstock = seeded(&app).await;
    let path = "/feedstocks/";
    let tag = settled(&app, path, &[]).await;

    // A mutation (GraphQL, admin).
    app.gql_admin(
        "mutation { createFeedstock(input: {spec: \"pangeo-forge/noaa-oisst-feedstock\"}) { id } }",
        json!({}),
    )
    .await;
    let fresh = get_if(&app, path, &tag, &[]).await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert!(
        fresh.text().contains("noaa-oisst-feedstock"),
        "{}",
        fresh.text()
    );
    let tag = settled(&app, path, &[]).await;
    assert_eq!(
        get_if(&app, path, &tag, &[]).await.status,
        StatusCode::NOT_MODIFIED
    );

    // A run written by the flows' verbs shows in its list.
    let runs = settled(&app, "/recipe_runs/", &[]).await;
    let bakery = app
        .db()
        .bakery_by_name("osn")
        .await
        .expect("q")
        .expect("bakery");
    app.db()
        .create_recipe_run(crate::sample::run(
            "gpcp",
            bakery.id,
            feedstock,
            &"a".repeat(40),
        ))
        .await
        .expect("run");
    let fresh = get_if(&app, "/recipe_runs/", &runs, &[]).await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert!(fresh.text().contains("\"gpcp\""), "{}", fresh.text());

    // A bakery renamed, a feedstock deleted: every table counts.
    for change in 0..2 {
        let tag = settled(&app, "/bakeries/", &[]).await;
        if change == 0 {
            app.db()
                .update_bakery(
                    bakery.id,
                    pangeo_forge_orchestrator::db::BakeryPatch {
                        description: Some("renamed".into()),
                        ..Default::default()
                    },
                )
                .await
                .expect("update");
        } else {
            let spare = app
                .db()
                .create_feedstock(NewFeedstock {
                    spec: "pangeo-forge/spare-feedstock".into(),
                    provider: None,
                })
                .await
                .expect("feedstock");
            let tag = settled(&app, "/feedstocks/", &[]).await;
            app.db().delete_feedstock(spare.id).await.expect("delete");
            let fresh = get_if(&app, "/feedstocks/", &tag, &[]).await;
            assert_eq!(fresh.status, StatusCode::OK);
            assert!(!fresh.text().contains("spare-feedstock"));
            continue;
        }
        let fresh = get_if(&app, "/bakeries/", &tag, &[]).await;
        assert_eq!(fresh.status, StatusCode::OK);
        assert!(fresh.text().contains("renamed"), "{}", fresh.text());
    }
    app.finish().await;
}

async fn who_asks_is_part_of_the_tag_and_writes_are_never_tagged(app: TestApp) {
    seeded(&app).await;
    let path = "/graphql?query=%7Bfeedstocks%7Bnodes%7Bspec%7D%7D%7D";
    let anonymous = settled(&app, path, &[]).await;
    let bearer = format!("Bearer {ADMIN_KEY}");
    let admin_tag = settled(&app, path, &[("authorization", &bearer)]).await;
    assert_ne!(admin_tag, anonymous);
    assert!(!admin_tag.contains(ADMIN_KEY));
    // The anonymous tag does not stand for the admin's answer.
    let admin = get_if(&app, path, &anonymous, &[("authorization", &bearer)]).await;
    assert_eq!(admin.status, StatusCode::OK);
    let again = get_if(&app, path, &admin_tag, &[("authorization", &bearer)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("cache-control"), "private, no-cache");

    // POST /graphql is never conditional; an error is never tagged.
    let post = app
        .graphql_with(
            "{ feedstocks { nodes { spec } } }",
            json!({}),
            &[("if-none-match", "*")],
        )
        .await;
    assert_eq!(post.status, StatusCode::OK);
    assert_eq!(post.header("etag"), "");
    let missing = app.get("/feedstocks/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("etag"), "");
    app.finish().await;
}

both_engines!(
    an_unchanged_read_is_answered_304_without_a_statement,
    every_kind_of_change_makes_the_next_answer_full,
    who_asks_is_part_of_the_tag_and_writes_are_never_tagged,
);
