//! Integration tests: the real router and a real database (SQLite and PostgreSQL).

mod support;

mod bakery_runner;
mod benches;
mod browser;
mod cli;
mod cors;
mod crash;
mod crash_flows;
mod dashboard;
mod flows;
mod fuzz;
mod github_client;
mod graphql_errors;
mod graphql_http;
mod graphql_mutations;
mod graphql_queries;
mod hostile;
mod logs;
mod meta_corpus;
mod metrics;
mod module_layers;
mod outage;
mod queue;
mod real_runner;
mod replicas;
mod rest_api;
mod rest_deliveries;
mod rest_writes;
mod row_counts;
mod sample;
mod schema_sync;
mod seed;
mod statement_count;
mod subscriptions;
mod webhook_ingest;
