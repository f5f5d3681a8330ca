//! The command line: `serve`, `migrate`, `schema`, `seed`.

use crate::app::{App, open_database};
use crate::config::{Config, Settings};
use crate::db::seed::{SeedOutcome, seed};
use crate::{graphql, telemetry};
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
}

/// Parses the command line and runs the command.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
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
        Command::Serve(settings) => {
            let config = Config::load(&settings)?;
            let db = open_database(&config).await?;
            let app = App::build(&config, &db).await?;
            let listener = tokio::net::TcpListener::bind(config.bind)
                .await
                .with_context(|| format!("binding {}", config.bind))?;
            app.run(listener, shutdown_signal()).await
        }
        Command::Migrate(settings) => {
            let config = Config::load(&settings)?;
            let db = open_database(&config).await?;
            db.close().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Seed(settings) => {
            let config = Config::load(&settings)?;
            let db = open_database(&config).await?;
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

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
