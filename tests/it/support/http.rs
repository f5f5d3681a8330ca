//! A test app: the real router over a fresh database, called without a network.

use super::{ADMIN_KEY, Engine, TestDb};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use pangeo_forge_orchestrator::app::App;
use pangeo_forge_orchestrator::bakery::BakeryRegistry;
use pangeo_forge_orchestrator::db::Database;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::Notify;
use tower::ServiceExt;

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, or "".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

/// The server under test.
#[derive(Clone)]
pub struct TestApp {
    pub test_db: Arc<TestDb>,
    pub router: Router,
    /// The assembled app the router came from (its workers are started on demand).
    pub orchestrator: App,
    /// The signal the webhook route wakes workers with.
    pub queue: Arc<Notify>,
}

impl TestApp {
    /// A fresh database and the router over it, with [`ADMIN_KEY`] as the admin key.
    pub async fn start(engine: Engine) -> TestApp {
        TestApp::start_with(engine, |_| {}).await
    }

    /// [`TestApp::start`] with the test configuration changed by `configure`.
    pub async fn start_with(
        engine: Engine,
        configure: impl FnOnce(&mut pangeo_forge_orchestrator::config::Config),
    ) -> TestApp {
        let test_db = TestDb::new(engine).await;
        let mut config = super::test_config(&test_db.url);
        configure(&mut config);
        let app = App::assemble(&config, test_db.db.clone(), BakeryRegistry::default())
            .expect("assembling the app");
        TestApp {
            test_db: Arc::new(test_db),
            router: app.router(),
            queue: app.wakeup(),
            orchestrator: app,
        }
    }

    /// Drops the database (call once, at the end of the test).
    pub async fn finish(self) {
        let TestApp {
            test_db, router, ..
        } = self;
        drop(router);
        if let Ok(db) = Arc::try_unwrap(test_db) {
            db.finish().await;
        }
    }

    /// The database facade.
    pub fn db(&self) -> &Database {
        &self.test_db.db
    }

    /// Sends one request through the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    /// POSTs a GraphQL request with the given extra headers.
    pub async fn graphql_with(
        &self,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/graphql")
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = json!({"query": query, "variables": variables}).to_string();
        self.send(request.body(Body::from(body)).expect("request"))
            .await
    }

    /// An anonymous GraphQL request; returns the JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let reply = self.graphql_with(query, variables, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()
    }

    /// A GraphQL request with the admin key; returns the JSON response.
    pub async fn gql_admin(&self, query: &str, variables: Value) -> Value {
        let bearer = format!("Bearer {ADMIN_KEY}");
        let reply = self
            .graphql_with(query, variables, &[("authorization", &bearer)])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()
    }

    /// An anonymous query that must succeed; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.gql(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response}"
        );
        response["data"].clone()
    }

    /// An admin request that must succeed; returns `data`.
    pub async fn admin_data(&self, query: &str, variables: Value) -> Value {
        let response = self.gql_admin(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response}"
        );
        response["data"].clone()
    }
}

/// The `extensions.code` of the first error of a GraphQL response.
pub fn error_code(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response}"))
        .to_owned()
}

/// The message of the first error of a GraphQL response.
pub fn error_message(response: &Value) -> String {
    response["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {response}"))
        .to_owned()
}
