//! pangeo-forge.org calls this server from another origin: CORS on every read route,
//! `/graphql` and preflights, as the original's `CORSMiddleware(allow_origins=["*"])`;
//! `PFO_CORS_ORIGINS` restricts it; webhooks stay outside. Unknown paths and wrong methods
//! answer JSON, and item routes also take a trailing slash, as the site asks.

use crate::both_engines;
use crate::support::{TestApp, test_config};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use pangeo_forge_orchestrator::app::App;
use pangeo_forge_orchestrator::bakery::BakeryRegistry;
use pangeo_forge_orchestrator::config::CorsOrigins;
use pangeo_forge_orchestrator::db::NewFeedstock;
use pangeo_forge_orchestrator::db::entities::feedstock;
use serde_json::json;

const SITE: &str = "https://pangeo-forge.org";

fn from_site(method: &str, path: &str, origin: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("origin", origin)
        .body(Body::empty())
        .expect("request")
}

fn preflight(path: &str, origin: &str, headers: &str) -> Request<Body> {
    Request::builder()
        .method("OPTIONS")
        .uri(path)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", headers)
        .body(Body::empty())
        .expect("request")
}

async fn gpcp(app: &TestApp) -> feedstock::Model {
    app.db()
        .create_feedstock(NewFeedstock {
            spec: "pangeo-forge/gpcp-feedstock".into(),
            provider: None,
        })
        .await
        .expect("feedstock")
}

async fn any_origin_may_read_and_preflight(app: TestApp) {
    let feedstock = gpcp(&app).await;
    for path in [
        "/feedstocks/".to_owned(),
        format!("/feedstocks/{}", feedstock.id),
        "/recipe_runs/".to_owned(),
        "/stats/feedstocks".to_owned(),
        "/graphql?query=%7B__typename%7D".to_owned(),
        "/feedstocks/99999".to_owned(),
    ] {
        let reply = app.send(from_site("GET", &path, SITE)).await;
        assert_eq!(reply.header("access-control-allow-origin"), "*", "{path}");
        assert_eq!(
            reply.header("access-control-allow-credentials"),
            "",
            "{path}"
        );
    }
    let reply = app
        .send(preflight(
            "/graphql",
            SITE,
            "authorization, content-type, x-api-key",
        ))
        .await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    let allowed = reply.header("access-control-allow-headers").to_lowercase();
    for header in ["authorization", "content-type", "x-api-key", "accept"] {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
    assert!(
        reply
            .header("access-control-allow-methods")
            .contains("POST")
    );
    assert_eq!(reply.header("access-control-allow-credentials"), "");

    // Webhooks are not for browsers.
    let hook = app.send(from_site("POST", "/github/hooks/", SITE)).await;
    assert_eq!(hook.header("access-control-allow-origin"), "");
}

async fn a_configured_list_admits_only_its_origins(app: TestApp) {
    let mut config = test_config(&app.test_db.url);
    config.cors_origins = CorsOrigins::List(vec![SITE.into()]);
    let restricted = App::assemble(&config, app.db().clone(), BakeryRegistry::default())
        .expect("assembling the app");
    let restricted = TestApp {
        router: restricted.router(),
        ..app.clone()
    };
    let reply = restricted
        .send(from_site("GET", "/feedstocks/", SITE))
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), SITE);
    let other = restricted
        .send(from_site("GET", "/feedstocks/", "https://evil.example"))
        .await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "CORS is for browsers; the data is public"
    );
    assert_eq!(other.header("access-control-allow-origin"), "");
    let refused = restricted
        .send(preflight(
            "/graphql",
            "https://evil.example",
            "authorization",
        ))
        .await;
    assert_eq!(refused.header("access-control-allow-origin"), "");
}

async fn unknown_paths_and_methods_answer_json_and_items_take_a_slash(app: TestApp) {
    let feedstock = gpcp(&app).await;
    let without = app.get(&format!("/feedstocks/{}", feedstock.id)).await;
    let with = app.get(&format!("/feedstocks/{}/", feedstock.id)).await;
    assert_eq!(with.status, StatusCode::OK);
    assert_eq!(with.json(), without.json());
    assert_eq!(
        app.get("/feedstocks/99999/").await.status,
        StatusCode::NOT_FOUND
    );

    let missing = app.get("/no/such/path").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json(), json!({"detail": "Not Found"}));
    let wrong = app.send(from_site("DELETE", "/recipe_runs/", SITE)).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.json(), json!({"detail": "Method Not Allowed"}));
}

both_engines!(
    any_origin_may_read_and_preflight,
    a_configured_list_admits_only_its_origins,
    unknown_paths_and_methods_answer_json_and_items_take_a_slash,
);
