//! The HTTP surface: GraphQL (+ GraphiQL), the dashboard at `/`, the original REST read
//! routes, the dataset preview (`/repr/xarray/`), `/healthz`.
//! Routes only translate HTTP to calls on the [`Database`] and the GraphQL schema.

mod check_runs;
mod conditional;
mod cors;
mod dashboard;
mod deliveries;
mod fallback;
mod graphql_http;
mod health;
mod metrics;
mod playground;
mod repr;
mod rest;
mod rest_run_writes;
mod rest_writes;
mod webhook;
pub mod ws;

use crate::config::{AdminKeys, CorsOrigins, Secret};
use crate::db::Database;
use crate::github::GithubApp;
use crate::graphql::live::Live;
use crate::graphql::run_control::QueueSignal;
use crate::graphql::{
    AppSchema, build_introspection_schema, build_schema_per_field, build_schema_with,
};
use crate::repr::Previews;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// The largest request body accepted (GraphQL documents are small).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach: one allocation shared by every request. axum clones the
/// state for each extractor and middleware of each request, and a profile of the read path
/// found cloning and dropping the fields one by one (a dozen `Arc`s, the CORS list, the
/// GitHub client) at 5 % of the process's time.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct AppStateInner {
    pub db: Database,
    pub schema: AppSchema,
    /// Answers operations of only introspection fields, with a deeper depth limit.
    pub introspection_schema: AppSchema,
    pub admin_keys: Arc<AdminKeys>,
    /// The secret deliveries are signed with; `None` refuses every delivery.
    pub webhook_secret: Option<Arc<Secret>>,
    /// Woken when a delivery is queued, so this process's workers start at once.
    pub queue: Arc<Notify>,
    /// How long a `graphql-transport-ws` client has to send `connection_init`.
    pub ws_init_timeout: Duration,
    /// The open websockets, told to close (1001) when the server stops.
    pub goodbyes: ws::Goodbyes,
    /// The browser origins that may call the API (CORS).
    pub cors_origins: CorsOrigins,
    /// The GitHub App, for the routes that ask GitHub (`None`: they answer 503).
    pub github: Option<GithubApp>,
    /// Recent answers of the check-runs route.
    pub check_runs: check_runs::CheckRunCache,
    /// The dataset preview (`/repr/xarray/`, `Dataset.summary`).
    pub previews: Previews,
    /// GraphQL documents already parsed, by their text.
    pub documents: crate::graphql::documents::Documents,
    /// The subscriptions' executions, shared by subscribers of the same selection.
    pub live: Live,
}

impl AppState {
    /// State over `db`, with mutations open to holders of `admin_keys`.
    pub fn new(db: Database, admin_keys: AdminKeys) -> Self {
        let queue = Arc::new(Notify::new());
        let previews = Previews::new(db.clone(), &Default::default(), &[]);
        AppState(Arc::new(AppStateInner {
            schema: build_schema_with(
                Some(db.clone()),
                QueueSignal(queue.clone()),
                Some(previews.clone()),
            ),
            previews,
            introspection_schema: build_introspection_schema(),
            db,
            admin_keys: Arc::new(admin_keys),
            webhook_secret: None,
            queue,
            ws_init_timeout: ws::INIT_TIMEOUT,
            goodbyes: ws::Goodbyes::default(),
            cors_origins: CorsOrigins::Any,
            github: None,
            check_runs: Default::default(),
            documents: Default::default(),
            live: Live::new(true),
        }))
    }

    /// The fields to change while the state is being built (copied if already shared).
    fn parts(&mut self) -> &mut AppStateInner {
        Arc::make_mut(&mut self.0)
    }

    /// Shares subscriptions' executions when `shared` (the default), else runs each
    /// subscriber's own (`PFO_SUBSCRIPTIONS_SHARED=false`).
    pub fn with_subscriptions_shared(mut self, shared: bool) -> Self {
        self.parts().live = Live::new(shared);
        self
    }

    /// Closes websockets that send no `connection_init` within `timeout` (default
    /// [`ws::INIT_TIMEOUT`]).
    pub fn with_ws_init_timeout(mut self, timeout: Duration) -> Self {
        self.parts().ws_init_timeout = timeout;
        self
    }

    /// Lets only `origins` call the API from a browser (default: any origin).
    pub fn with_cors_origins(mut self, origins: CorsOrigins) -> Self {
        self.parts().cors_origins = origins;
        self
    }

    /// Makes previews with `previews` (default: recorded datasets only, default limits).
    pub fn with_previews(mut self, previews: Previews) -> Self {
        let schema = build_schema_with(
            Some(self.db.clone()),
            QueueSignal(self.queue.clone()),
            Some(previews.clone()),
        );
        let parts = self.parts();
        parts.schema = schema;
        parts.previews = previews;
        self
    }

    /// The same state with every GraphQL field resolved by async-graphql, one future each
    /// (the benchmark's baseline; see [`crate::graphql::plain`]).
    pub fn resolving_every_field(mut self) -> Self {
        let schema = build_schema_per_field(
            Some(self.db.clone()),
            QueueSignal(self.queue.clone()),
            Some(self.previews.clone()),
        );
        self.parts().schema = schema;
        self
    }

    /// Lets the routes that ask GitHub use `github`.
    pub fn with_github(mut self, github: Option<GithubApp>) -> Self {
        self.parts().github = github;
        self
    }

    /// Accepts webhook deliveries signed with `secret`.
    pub fn with_webhook_secret(mut self, secret: Option<Secret>) -> Self {
        self.parts().webhook_secret = secret.map(Arc::new);
        self
    }
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let hooks = Router::new()
        .route("/github/hooks/", post(webhook::receive))
        .route("/github/hooks", post(webhook::receive))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(webhook::MAX_WEBHOOK_BYTES))
        .layer(RequestBodyLimitLayer::new(webhook::MAX_WEBHOOK_BYTES));
    // What the database answers: conditional GETs (ETag, 304 without a query).
    let reads = Router::new()
        .route(
            "/graphql",
            get(graphql_http::get_graphql).post(graphql_http::post_graphql),
        )
        .merge(rest::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            conditional::respond,
        ));
    let api = Router::new()
        .merge(reads)
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/graphql/assets/{file}", get(playground::asset))
        .route("/", get(dashboard::page))
        .route("/dashboard/assets/{file}", get(dashboard::asset))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .merge(rest::outside_routes())
        .merge(rest_writes::routes())
        .merge(rest_run_writes::routes())
        .route_layer(axum::middleware::from_fn(metrics::track))
        // Unknown paths and wrong methods answer as FastAPI did: JSON the site can read.
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(cors::layer(&state.cors_origins));
    Router::new()
        .merge(api)
        .merge(hooks)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
