//! The benches work end to end: `benches/bench/mod.rs` and `benches/live/mod.rs`, included
//! here as `cargo bench` builds them, run in this process with tiny sizes and one-second
//! measurements from the same options a user passes. They prove the tables print, a
//! PostgreSQL scratch database is dropped and every live subscriber is held; no timing is
//! asserted (the figures are for people, docs/performance.md has them).

#[path = "../../benches/bench/mod.rs"]
mod bench;

#[path = "../../benches/live/mod.rs"]
mod live;

use crate::support::{Engine, TestDb};
use clap::Parser;

/// Runs `cargo bench --bench bench -- <options>` in this process; returns its tables.
async fn bench_with(options: &[&str]) -> String {
    let args = bench::Args::try_parse_from(std::iter::once("bench").chain(options.iter().copied()))
        .expect("the options parse");
    let mut out = Vec::new();
    let outcome = bench::run(&args, &mut out).await;
    let text = String::from_utf8(out).expect("UTF-8 tables");
    if let Err(e) = outcome {
        panic!("the bench failed: {e:#}\n{text}");
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_prints_its_tables() {
    // `--bench` is what `cargo bench` adds: accepted and ignored.
    let stdout = bench_with(&[
        "--bench",
        "--duration-secs",
        "1",
        "--concurrency",
        "2",
        "--feedstocks",
        "10",
        "--runs",
        "200",
    ])
    .await;
    for header in [
        "## read path: 10 feedstocks, 3 bakeries, 200 runs, 20 datasets",
        "floor q/s",
        "p99",
        "(e) production datasets",
        "per-field",
        "a GraphQL request costs",
        "## deep pages: recipeRuns(first: 100), 200 runs; page 2 starts after row 100",
        "graphql keyset",
        "rest offset",
        "vs page 1",
        "walked STARTED_AT DESC to page 2",
        "## webhook ingest",
        "stored/s",
        "baseline: record_delivery",
        "## footprint",
        "spawn -> /healthz 200",
        "idle RSS",
    ] {
        assert!(
            stdout.contains(header),
            "`{header}` missing from:\n{stdout}"
        );
    }
    assert!(!stdout.contains("first error"), "{stdout}");
}

/// The PostgreSQL path: a scratch database is created, used and dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_on_postgres_drops_its_scratch_database() {
    let test_db = TestDb::new(Engine::Postgres).await;
    let stdout = bench_with(&[
        "--only",
        "ingest",
        "--duration-secs",
        "1",
        "--concurrency",
        "2",
        "--database-url",
        &test_db.url,
    ])
    .await;
    assert!(
        stdout.contains("# pangeo-forge-orchestrator bench: PostgreSQL"),
        "{stdout}"
    );
    assert!(stdout.contains("POST /github/hooks/ -> 202"), "{stdout}");
    assert!(!stdout.contains("## read path"), "--only ingest: {stdout}");
    assert!(!stdout.contains("first error"), "{stdout}");
    let left = sea_orm::ConnectionTrait::query_all_raw(
        test_db.db.connection(),
        sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT datname FROM pg_database WHERE datname LIKE 'pfo_bench_{}_%'",
                std::process::id()
            ),
        ),
    )
    .await
    .unwrap();
    assert!(left.is_empty(), "the scratch database was not dropped");
    test_db.finish().await;
}

#[test]
fn scratch_database_name_is_replaced() {
    use bench::with_database;
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

/// `cargo bench --bench live -- --subscribers 5 --distinct 1,2 --changes 2` on a temporary
/// SQLite file: a row per distinct count, each with the unshared baseline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_prints_its_table() {
    let args = live::Args::try_parse_from([
        "live",
        "--bench",
        "--subscribers",
        "5",
        "--distinct",
        "1,2",
        "--changes",
        "2",
    ])
    .expect("the options parse");
    let stdout = live::run(args).await.expect("the live bench runs");
    assert!(stdout.contains("subscribers"), "{stdout}");
    assert!(
        stdout.contains("PFO_SUBSCRIPTIONS_SHARED=false"),
        "{stdout}"
    );
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("5 "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(
        (rows[0][2], rows[1][2]),
        ("1", "2"),
        "distinct column: {stdout}"
    );
    for row in &rows {
        assert!(
            row.last().is_some_and(|base| *base != "-"),
            "a baseline: {stdout}"
        );
    }
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("5 "))
        .unwrap_or_else(|| panic!("no row for 5 subscribers: {stdout}"));
    let held: usize = row
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("held column");
    assert_eq!(held, 5, "every subscriber was held: {stdout}");
}

#[tokio::test]
async fn live_refuses_two_replicas_on_sqlite() {
    let args = live::Args::try_parse_from(["live", "--two-replicas"]).expect("the options parse");
    let err = live::run(args).await.expect_err("SQLite has one replica");
    assert!(err.to_string().contains("needs a PostgreSQL"), "{err:#}");
}
