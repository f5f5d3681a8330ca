//! pangeo-forge-orchestrator: the Pangeo Forge backend as one Rust server.
//!
//! It records feedstocks, bakeries, recipe runs and datasets in a database (SQLite by
//! default, PostgreSQL in production) and serves them to pangeo-forge.org through GraphQL
//! and the original REST read routes.
//!
//! # Layout
//! The modules are layers: each imports only those listed before it (a test,
//! `module_layers`, fails on any loop).
//! - [`config`]: the one configuration struct, from flags, environment and a TOML file,
//!   with its secrets and admin API keys; [`telemetry`]: logging.
//! - [`db`]: entities, migrations (crate `migration`), the [`db::Database`] facade whose
//!   verbs every other module calls, and [`db::changes`], committed changes to every
//!   subscriber of every replica.
//! - [`meta`]: a feedstock's `meta.yaml`, parsed and checked.
//! - [`metrics`]: this process's counters and the database counts `/metrics` shows.
//! - [`webhooks`]: verifying and storing deliveries; [`webhooks::payload`], the typed GitHub
//!   payloads flows read.
//! - [`repr`]: the dataset preview: a Zarr store's metadata read (bounded, allowed URLs
//!   only) into a summary and xarray's HTML repr, cached until the dataset changes.
//! - [`queue`]: the durable queue's workers, retry, and the server's own queued tasks.
//! - [`github`]: the GitHub App client: installation tokens and the REST calls flows make.
//! - [`bakery`]: bakery configuration files, job names and paths, job submission through
//!   `pangeo-forge-runner`, local jobs and the timeout sweep.
//! - [`flows`]: what each delivery does, one module per flow (the queue's handler).
//! - [`graphql`]: the schema; one module per area, one batching loader.
//! - [`server`]: axum routes (GraphQL over HTTP and WebSocket, GraphiQL, dashboard, REST,
//!   health, metrics, webhooks).
//! - [`app`]: the one place the app is assembled and run (server, workers, sweep).
//! - [`cli`]: the command line (`serve`, `migrate`, `schema`, `seed`).
//!
//! docs/architecture.md draws the modules and the invariants.

pub mod app;
pub mod bakery;
pub mod cli;
pub mod config;
pub mod db;
pub mod flows;
pub mod github;
pub mod graphql;
pub mod meta;
pub mod metrics;
pub mod queue;
pub mod repr;
pub mod server;
pub mod telemetry;
pub mod webhooks;
