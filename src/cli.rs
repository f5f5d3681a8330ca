//! The command line: `serve`, `migrate`, `schema`, `seed`, `bench`.

use crate::config::{Config, Settings};
use crate::db::Database;
use crate::db::seed::{SeedOutcome, seed};
use crate::{graphql, server, telemetry};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// pangeo-forge-orchestrator: the Pangeo Forge backend (GitHub App + GraphQL API).
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Cli {
    /// Log format.
    #[arg(long, env = "PFO_LOG_FORMAT", value_enum, default_value_t = telemetry::LogFormat::Text, global = true)]
    pub log_format: telemetry::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Migrate the database and serve the API (GraphiQL at /graphql).
    Serve(Settings),
    /// Apply pending database migrations and exit.
    Migrate(Settings),
    /// Print the GraphQL schema (SDL), as kept in schema/schema.graphql.
    Schema,
    /// Load a demo data set (bakeries, feedstocks, runs in every state) into the database.
    Seed(Settings),
    /// Measure the read path, webhook ingest and footprint on a fresh database, each figure
    /// beside a baseline from the same run (docs/performance.md).
    Bench(crate::bench::BenchArgs),
    /// Benchmark live updates: subscribers held, fan-out latency, memory per subscriber.
    BenchLive(BenchLiveArgs),
}

/// Options of `bench-live`.
#[derive(clap::Args, Debug)]
pub struct BenchLiveArgs {
    /// A fresh, empty database (`sqlite://FILE?mode=rwc` or `postgres://…`); default: a
    /// temporary SQLite file.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Subscriber counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub subscribers: Vec<usize>,
    /// Changes made per measurement.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Two replicas on one PostgreSQL: subscribers on the second, changes through the first.
    #[arg(long)]
    pub two_replicas: bool,
}

/// Parses the command line and runs the command.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(_) => telemetry::init_with_default(cli.log_format, "warn"),
        _ => telemetry::init(cli.log_format),
    }
    match execute(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::BenchLive(args) => {
            let dir = tempfile::tempdir()?;
            let database_url = args
                .database_url
                .unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
            if args.two_replicas && !database_url.starts_with("postgres") {
                anyhow::bail!("--two-replicas needs a PostgreSQL --database-url");
            }
            let report = crate::bench_live::run(crate::bench_live::LiveBench {
                database_url,
                subscribers: args.subscribers,
                changes: args.changes,
                two_replicas: args.two_replicas,
            })
            .await?;
            print!("{report}");
            Ok(())
        }
        Command::Serve(settings) => {
            let config = Config::load(&settings)?;
            server::serve(config).await
        }
        Command::Migrate(settings) => {
            let config = Config::load(&settings)?;
            let db = open(&config).await?;
            db.close().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Seed(settings) => {
            let config = Config::load(&settings)?;
            let db = open(&config).await?;
            match seed(&db).await.context("seeding the database")? {
                SeedOutcome::Seeded {
                    bakeries,
                    feedstocks,
                    recipe_runs,
                } => println!(
                    "seeded {bakeries} bakeries, {feedstocks} feedstocks and {recipe_runs} recipe runs"
                ),
                SeedOutcome::AlreadySeeded => println!("already seeded; nothing written"),
            }
            db.close().await?;
            Ok(())
        }
    }
}

/// Connects to the configured database and migrates it.
pub async fn open(config: &Config) -> anyhow::Result<Database> {
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
