//! `bench`: reproducible performance figures, each printed beside a baseline measured in
//! the same run (machines are noisy; the ratio travels better than the number).
//!
//! - [`read`]: the website's pages through GraphQL and REST against a large data set,
//!   beside hand-written SQL through the same pool (the floor).
//! - [`ingest`]: signed webhook deliveries stored per second, beside the same number of
//!   `record_delivery` calls without HTTP.
//! - [`footprint`]: the release binary's start-up time and memory.
//!
//! Every part works on a fresh database (a temporary SQLite file, or a new PostgreSQL
//! database `pfo_bench_<pid>_<part>` dropped afterwards). docs/performance.md has figures.

pub mod data;
pub mod footprint;
pub mod ingest;
pub mod load;
pub mod read;

use crate::db::Database;
use axum::body::Bytes;
use http_body_util::Full;
use sea_orm::ConnectionTrait;
use std::time::Duration;

/// Which part of the benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Read,
    Ingest,
    Footprint,
}

/// Options of `bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Picks the engine: `sqlite://…` (a temporary file is used) or `postgres://…/DB` (a
    /// scratch database is created next to DB and dropped afterwards).
    #[arg(long, default_value = "sqlite:")]
    pub database_url: String,
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 5)]
    pub duration_secs: u64,
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
}

impl BenchArgs {
    /// How long each measurement runs.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs.max(1))
    }

    /// Whether `part` is to run.
    pub fn wants(&self, part: Part) -> bool {
        self.only.is_none_or(|only| only == part)
    }
}

/// Runs the selected parts and prints their tables.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let engine = if args.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "# pangeo-forge-orchestrator bench: {engine}, concurrency {}, {} s per measurement, {} cores",
        args.concurrency,
        args.duration().as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    if args.wants(Part::Read) {
        with_scratch(&args.database_url, "read", |url| read::run(&args, url)).await?;
    }
    if args.wants(Part::Ingest) {
        with_scratch(&args.database_url, "ingest", |url| ingest::run(&args, url)).await?;
    }
    if args.wants(Part::Footprint) {
        with_scratch(&args.database_url, "footprint", |url| {
            footprint::run(&args, url)
        })
        .await?;
    }
    Ok(())
}

/// Runs `part` on a fresh database and removes the database afterwards, even on error.
async fn with_scratch<F, Fut>(base_url: &str, name: &str, part: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let scratch = Scratch::create(base_url, name).await?;
    let outcome = part(scratch.url.clone()).await;
    scratch.remove().await?;
    outcome
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

/// Starts the real router on 127.0.0.1:0 in this process; returns its address.
pub async fn serve_in_process(
    state: crate::server::AppState,
) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = crate::server::router(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "bench server stopped");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
