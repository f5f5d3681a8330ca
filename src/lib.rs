//! pangeo-forge-orchestrator: the Pangeo Forge backend as one Rust server.
//!
//! It records feedstocks, bakeries, recipe runs and datasets in a database (SQLite by
//! default, PostgreSQL in production) and serves them to pangeo-forge.org through GraphQL
//! and the original REST read routes.
//!
//! # Layout
//! - [`config`]: the one configuration struct, from flags, environment and a TOML file.
//! - [`auth`]: secrets and the admin API keys.
//! - [`db`]: entities, migrations (crate `migration`) and the [`db::Database`] facade whose
//!   verbs every other module calls.
//! - [`bakery`]: bakery configuration files, job names and paths, and job submission
//!   through `pangeo-forge-runner`.
//! - [`meta`]: a feedstock's `meta.yaml`, parsed and checked.
//! - [`github`]: the GitHub App client: installation tokens and the REST calls the flows make.
//! - [`events`]: committed changes, to every subscriber of every replica.
//! - [`flows`]: what each delivery does, one module per flow; [`jobs`]: the queue's workers.
//! - [`graphql`]: the schema; one module per area, one batching loader.
//! - [`server`]: axum routes (GraphQL over HTTP, GraphiQL, REST, health, webhooks).
//! - [`webhooks`]: verifying and storing deliveries; the typed events flows read.
//! - [`cli`] and [`telemetry`]: the command line and logging; [`bench`]: the `bench`
//!   command's load generator and figures.
//!
//! docs/architecture.md draws the modules and the invariants.

pub mod app;
pub mod bakery;
pub mod bench;
pub mod bench_live;
pub mod cli;
pub mod config;
pub mod db;
pub mod flows;
pub mod github;
pub mod graphql;
pub mod meta;
pub mod metrics;
pub mod queue;
pub mod server;
pub mod telemetry;
pub mod webhooks;
