//! `cargo bench --bench bench`: reproducible performance figures, each printed beside a
//! baseline measured in the same run (machines are noisy; the ratio travels better than
//! the number).
//!
//! - [`read`]: the website's pages through GraphQL and REST against a large data set,
//!   beside hand-written SQL through the same pool (the floor).
//! - [`ingest`]: signed webhook deliveries stored per second, beside the same number of
//!   `record_delivery` calls without HTTP.
//! - [`paging`]: page 1 beside page 1,000 of `recipeRuns` through GraphQL's keyset
//!   cursors, and the same pages through REST's `offset` (the baseline).
//! - [`footprint`]: the release binary's start-up time and memory.
//!
//! Every part works on a fresh database (a temporary SQLite file, or a new PostgreSQL
//! database `pfo_bench_<pid>_<part>` dropped afterwards). docs/performance.md has figures.
//!
//! This module is the bench's whole logic; `main.rs` only parses the options and sets up
//! logging, and `tests/it/benches.rs` includes this file with `#[path]` to run [`run`] with
//! tiny sizes. It needs the integration-test support at `crate::support`.

pub mod footprint;
pub mod ingest;
pub mod load;
pub mod paging;
pub mod read;

use axum::body::Bytes;
use http_body_util::Full;
use pangeo_forge_orchestrator::app::App;
use pangeo_forge_orchestrator::bakery::BakeryRegistry;
use pangeo_forge_orchestrator::db::Database;
use pangeo_forge_orchestrator::telemetry::LogFormat;
use sea_orm::ConnectionTrait;
use std::io::Write;
use std::time::Duration;

/// Which part of the benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Read,
    Paging,
    Ingest,
    Footprint,
}

/// Measure the read path, deep pages, webhook ingest and footprint on a fresh database, each figure
/// beside a baseline from the same run (docs/performance.md).
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "bench")]
pub struct Args {
    /// Picks the engine: `sqlite://…` (a temporary file is used) or `postgres://…/DB` (a
    /// scratch database is created next to DB and dropped afterwards).
    #[arg(long, default_value = "sqlite:")]
    pub database_url: String,
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 5)]
    pub duration_secs: u64,
    /// How many times the read path measures each page's paths, taking turns (the median
    /// round is shown).
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Requests (or queries) in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Run one part only.
    #[arg(long, value_enum)]
    pub only: Option<Part>,
    /// Feedstocks in the read data set.
    #[arg(long, default_value_t = 1000)]
    pub feedstocks: usize,
    /// Recipe runs in the read data set (one in ten has a dataset).
    #[arg(long, default_value_t = 100_000)]
    pub runs: usize,
    /// Log format (logs are at `warn` unless `RUST_LOG` says otherwise).
    #[arg(long, env = "PFO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
}

impl Args {
    /// How long each measurement runs.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs.max(1))
    }

    /// Whether `part` is to run.
    pub fn wants(&self, part: Part) -> bool {
        self.only.is_none_or(|only| only == part)
    }
}

/// Where the tables go (stdout for the bench, a buffer for the tests).
pub type Out<'a> = &'a mut (dyn Write + Send);

/// Runs the selected parts and writes their tables to `out`.
pub async fn run(args: &Args, out: Out<'_>) -> anyhow::Result<()> {
    let engine = if args.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    writeln!(
        out,
        "# pangeo-forge-orchestrator bench: {engine}, concurrency {}, {} s per measurement, {} cores",
        args.concurrency,
        args.duration().as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    )?;
    if args.wants(Part::Read) {
        let scratch = Scratch::create(&args.database_url, "read").await?;
        let outcome = read::run(args, &scratch.url, out).await;
        scratch.remove().await?;
        outcome?;
    }
    if args.wants(Part::Paging) {
        let scratch = Scratch::create(&args.database_url, "paging").await?;
        let outcome = paging::run(args, &scratch.url, out).await;
        scratch.remove().await?;
        outcome?;
    }
    if args.wants(Part::Ingest) {
        let scratch = Scratch::create(&args.database_url, "ingest").await?;
        let outcome = ingest::run(args, &scratch.url, out).await;
        scratch.remove().await?;
        outcome?;
    }
    if args.wants(Part::Footprint) {
        let scratch = Scratch::create(&args.database_url, "footprint").await?;
        let outcome = footprint::run(args, &scratch.url, out).await;
        scratch.remove().await?;
        outcome?;
    }
    Ok(())
}

/// A fresh, empty database.
pub struct Scratch {
    /// Its URL.
    pub url: String,
    kind: ScratchKind,
}

enum ScratchKind {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Scratch {
    /// A temporary SQLite file, or database `pfo_bench_<pid>_<name>` on the server of the
    /// PostgreSQL URL `base_url`.
    pub async fn create(base_url: &str, name: &str) -> anyhow::Result<Scratch> {
        if !base_url.starts_with("postgres") {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
            return Ok(Scratch {
                url,
                kind: ScratchKind::Sqlite(dir),
            });
        }
        let db_name = format!("pfo_bench_{}_{name}", std::process::id());
        let admin = admin(base_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name}"))
            .await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db_name}"))
            .await?;
        admin.close().await?;
        Ok(Scratch {
            url: with_database(base_url, &db_name),
            kind: ScratchKind::Postgres {
                admin_url: base_url.to_owned(),
                name: db_name,
            },
        })
    }

    /// Deletes the database.
    pub async fn remove(self) -> anyhow::Result<()> {
        match self.kind {
            ScratchKind::Sqlite(dir) => Ok(dir.close()?),
            ScratchKind::Postgres { admin_url, name } => {
                let admin = admin(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await?;
                Ok(())
            }
        }
    }
}

/// One connection to the server's maintenance database, without statement logging
/// (dropping a database in use may take a second: no "slow statement" warning).
async fn admin(url: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Ok(sea_orm::Database::connect(options).await?)
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let (head, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let base = match head[authority..].find('/') {
        Some(slash) => &head[..authority + slash],
        None => head,
    };
    format!("{base}/{name}{query}")
}

/// Connects to `url` and migrates it.
pub async fn open(url: &str) -> anyhow::Result<Database> {
    let db = Database::connect(url).await?;
    db.migrate().await?;
    Ok(db)
}

/// A duration in milliseconds, for tables.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `GET path` for the server at `addr`.
pub fn get(addr: std::net::SocketAddr, path: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(path)
        .header(http::header::HOST, addr.to_string())
        .body(Full::new(Bytes::new()))
        .expect("a valid request")
}

/// `POST path` with a JSON `body` and extra `headers` for the server at `addr`.
pub fn post_json(
    addr: std::net::SocketAddr,
    path: &str,
    body: impl Into<Bytes>,
    headers: &[(&str, &str)],
) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::post(path)
        .header(http::header::HOST, addr.to_string())
        .header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .body(Full::new(body.into()))
        .expect("a valid request")
}

/// The app over `db` assembled as `serve` assembles it (the tests' configuration: webhooks
/// signed with `support::WEBHOOK_SECRET`, no GitHub App, no bakeries), its router served on
/// 127.0.0.1:0 in this process with no workers running; returns the address.
pub async fn serve_in_process(url: &str, db: &Database) -> anyhow::Result<std::net::SocketAddr> {
    Ok(serve_both_in_process(url, db).await?.0)
}

/// [`serve_in_process`], and beside it (second address) the same app with every GraphQL
/// field resolved by async-graphql, one future each (`AppState::resolving_every_field`).
pub async fn serve_both_in_process(
    url: &str,
    db: &Database,
) -> anyhow::Result<(std::net::SocketAddr, std::net::SocketAddr)> {
    let config = crate::support::test_config(url);
    let app = App::assemble(&config, db.clone(), BakeryRegistry::default())?;
    let per_field =
        pangeo_forge_orchestrator::server::router(app.state().clone().resolving_every_field());
    Ok((serve(app.router()).await?, serve(per_field).await?))
}

async fn serve(router: axum::Router) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "bench server stopped");
        }
    });
    Ok(addr)
}
