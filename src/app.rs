//! The one place the application is assembled: from a [`Config`] and a migrated
//! [`Database`] to the router, the queue's workers and the timeout sweep, then run on a
//! listener until a shutdown future resolves. `serve`, every test harness and the
//! benchmarks build the app here, so what they run is what production runs.

use crate::bakery::BakeryRegistry;
use crate::bakery::local::LocalJobs;
use crate::bakery::timeouts;
use crate::config::Config;
use crate::db::Database;
use crate::flows::FlowContext;
use crate::github::GithubApp;
use crate::queue::Workers;
use crate::repr::Previews;
use crate::server::{AppState, router};
use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// How long a stopping server waits for its websockets to send their close frames.
pub const WEBSOCKET_GRACE: Duration = Duration::from_secs(5);

/// Connects to the configured database and migrates it.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    let db = Database::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "connecting to the database ({})",
                redact_url(&config.database_url)
            )
        })?;
    db.migrate().await.context("migrating the database")?;
    Ok(db)
}

/// The database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The assembled application: the HTTP state and what the workers run.
#[derive(Clone)]
pub struct App {
    state: AppState,
    flows: FlowContext,
    workers: usize,
}

impl App {
    /// Loads and registers the configured bakeries, then [`App::assemble`]s the app.
    pub async fn build(config: &Config, db: &Database) -> anyhow::Result<App> {
        let bakeries = BakeryRegistry::load_configured(
            config.app.bakeries_dir.as_deref(),
            &config.app.app_name,
        )
        .context("loading the bakeries directory")?;
        let registered = bakeries
            .register(db)
            .await
            .context("registering bakeries")?;
        tracing::info!(
            bakeries = bakeries.len(),
            created = registered.created.len(),
            updated = registered.updated.len(),
            "bakeries registered"
        );
        if config.github.is_none() {
            tracing::info!(
                "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_PATH are not set: GitHub features are off; runs complete without being reported to GitHub"
            );
        }
        if config.webhook_secret.is_none() {
            tracing::info!(
                "GITHUB_WEBHOOK_SECRET is not set: /github/hooks/ refuses every delivery"
            );
        }
        if config.admin_keys.is_empty() {
            tracing::info!("PFO_ADMIN_API_KEYS is not set: mutations are refused");
        }
        App::assemble(config, db.clone(), bakeries)
    }

    /// Wires the app over `db` with the given bakeries, doing no I/O.
    pub fn assemble(
        config: &Config,
        db: Database,
        bakeries: BakeryRegistry,
    ) -> anyhow::Result<App> {
        let github = match &config.github {
            Some(app) => Some(GithubApp::new(app).context("setting up the GitHub App")?),
            None => None,
        };
        let secrets = config.server_secrets();
        let bakeries = bakeries.with_server_secrets(&secrets);
        let prefixes = match &config.repr.allowed_prefixes {
            Some(listed) => listed.clone(),
            None => bakeries.public_url_prefixes(),
        };
        let previews = Previews::new(db.clone(), &config.repr, &prefixes);
        tracing::info!(
            enabled = config.repr.enabled,
            prefixes = ?previews.prefixes(),
            "the dataset preview reads recorded datasets and URLs under these prefixes"
        );
        let state = AppState::new(db.clone(), config.admin_keys.clone())
            .with_webhook_secret(config.webhook_secret.clone())
            .with_cors_origins(config.cors_origins.clone())
            .with_github(github.clone())
            .with_previews(previews.clone())
            .with_subscriptions_shared(config.subscriptions_shared);
        let flows = FlowContext {
            db,
            app: config.app.clone(),
            github,
            bakeries,
            local_jobs: LocalJobs::new(state.queue.clone()),
            secrets,
            previews,
        };
        Ok(App {
            state,
            flows,
            workers: config.workers,
        })
    }

    /// Every route, over this app's state.
    pub fn router(&self) -> axum::Router {
        // With PostgreSQL the data version counts other replicas' changes only while this
        // one LISTENs: start listening now, not with the first subscriber.
        self.state.db.changes().listen(&self.state.db);
        router(self.state.clone())
    }

    /// The HTTP state (database, schema, keys).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What the workers run on each delivery.
    pub fn flows(&self) -> &FlowContext {
        &self.flows
    }

    /// The signal that wakes this process's workers when work is queued.
    pub fn wakeup(&self) -> Arc<Notify> {
        self.state.queue.clone()
    }

    /// The same app with `count` workers instead of the configured number.
    pub fn with_workers(mut self, count: usize) -> App {
        self.workers = count;
        self
    }

    /// Starts the queue's workers and, beside them, the sweep that times out stale runs.
    pub fn start_workers(&self) -> Workers {
        let mut workers = Workers::start(
            self.flows.db.clone(),
            self.flows.clone(),
            self.workers,
            self.flows.app.claim_lease,
            self.wakeup(),
        );
        let (db, bakeries, wakeup) = (
            self.flows.db.clone(),
            self.flows.bakeries.clone(),
            self.wakeup(),
        );
        workers.run_beside(move |stopped| {
            timeouts::sweep_until_stopped(db, bakeries, wakeup, stopped)
        });
        workers
    }

    /// Serves on `listener` with the workers running until `shutdown` resolves, then
    /// stops taking requests and waits for the flows in progress.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let workers = self.start_workers();
        let address = listener
            .local_addr()
            .context("reading the listening address")?;
        tracing::info!(%address, "listening on http://{address} (GraphiQL at http://{address}/graphql)");
        let goodbyes = self.state.goodbyes.clone();
        let stopping = async move {
            shutdown.await;
            // Websockets have left hyper: tell them before the process goes.
            let left = goodbyes.say_goodbye(WEBSOCKET_GRACE).await;
            if left > 0 {
                tracing::warn!(left, "websockets still open after the goodbye");
            }
        };
        let served = axum::serve(listener, self.router())
            .with_graceful_shutdown(stopping)
            .await
            .context("serving HTTP");
        tracing::info!("HTTP stopped; waiting for the flows in progress");
        workers.shutdown().await;
        tracing::info!("shut down");
        served
    }
}
