//! Deep pages: page 1 beside page 1,000 of `recipeRuns(first: 100)` through GraphQL
//! (keyset cursors), and the same two pages through REST's `offset` (the offset paging
//! GraphQL used before, still REST's) as the baseline, in the same run on the same data.
//!
//! The cursor that starts the deep page is not made up: the bench walks there page by
//! page through GraphQL and checks on the way that every row came once.

use super::load::{self, MakeRequest, Sample, Until};
use super::{Args, Out, ms};
use crate::support::bench_data;
use http::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Rows per page, as the website asks.
const PAGE: usize = 100;
/// The deep page (1-based), when the data set has that many.
const DEEP: usize = 1000;

/// The orderings measured: GraphQL field, direction, REST `order_by`.
const ORDERINGS: &[(&str, &str, &str)] = &[
    ("STARTED_AT", "DESC", "started_at"),
    // Nullable: in the bench data the deep page lies among the NULLs (runs not completed).
    ("COMPLETED_AT", "DESC", "completed_at"),
];

/// The GraphQL document of one page in `field` `direction`.
fn document(field: &str, direction: &str) -> String {
    format!(
        "query($after: String) {{ recipeRuns(first: {PAGE}, after: $after, \
         orderBy: {{field: {field}, direction: {direction}}}) {{ \
         nodes {{ id recipeId status conclusion startedAt completedAt isTest datasetType }} \
         pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

fn graphql(addr: SocketAddr, document: String, after: Value) -> MakeRequest {
    let body = json!({ "query": document, "variables": { "after": after } }).to_string();
    Arc::new(move |_| super::post_json(addr, "/graphql", body.clone(), &[]))
}

fn rest(addr: SocketAddr, order_by: &str, direction: &str, page: usize) -> MakeRequest {
    let path = format!(
        "/recipe_runs/?limit={PAGE}&offset={}&order_by={order_by}&sort={}",
        (page - 1) * PAGE,
        direction.to_lowercase()
    );
    Arc::new(move |_| super::get(addr, &path))
}

/// Walks `document`'s pages up to the one before `page`; returns the cursor that starts
/// `page` (null for page 1). Fails if a row came twice or a page came short.
async fn walk_to(addr: SocketAddr, document: &str, page: usize) -> anyhow::Result<Value> {
    let mut after = Value::Null;
    let mut seen = HashSet::new();
    for n in 1..page {
        let request = graphql(addr, document.to_owned(), after.clone())(0);
        let (status, body) = load::once(addr, request).await?;
        let reply: Value = serde_json::from_slice(&body)?;
        let connection = &reply["data"]["recipeRuns"];
        let nodes = connection["nodes"].as_array().cloned().unwrap_or_default();
        if status != StatusCode::OK || nodes.len() != PAGE {
            anyhow::bail!(
                "page {n} answered {status} with {} rows: {reply}",
                nodes.len()
            );
        }
        for node in &nodes {
            if !seen.insert(node["id"].as_i64()) {
                anyhow::bail!("page {n} repeats run {}", node["id"]);
            }
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    Ok(after)
}

/// Writes the table header.
fn header(out: Out<'_>) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<22} {:>5} {:<16} {:>9} {:>10} {:>10} {:>11} {:>6}",
        "ordering", "page", "path", "req/s", "p50", "p99", "vs page 1", "errors"
    )
}

/// Writes one row; `first` is the same path's page 1, the row's baseline.
fn row(
    out: Out<'_>,
    ordering: &str,
    page: usize,
    path: &str,
    sample: &Sample,
    first: Option<&Sample>,
) -> std::io::Result<()> {
    let versus = first.map_or_else(String::new, |first| {
        format!("{:.2}x", first.rate() / sample.rate().max(1e-9))
    });
    writeln!(
        out,
        "{:<22} {:>5} {:<16} {:>9.0} {:>10} {:>10} {:>11} {:>6}",
        ordering,
        page,
        path,
        sample.rate(),
        ms(sample.quantile(0.5)),
        ms(sample.quantile(0.99)),
        versus,
        sample.errors,
    )?;
    if let Some(e) = &sample.first_error {
        writeln!(out, "    first error: {e}")?;
    }
    Ok(())
}

/// Loads the data set into `url`, serves it in this process and measures both pages of
/// every ordering through GraphQL and REST.
pub async fn run(args: &Args, url: &str, out: Out<'_>) -> anyhow::Result<()> {
    let db = super::open(url).await?;
    let loaded = bench_data::load(&db, args.feedstocks, args.runs).await?;
    let deep = (loaded.runs / PAGE).clamp(1, DEEP);
    writeln!(
        out,
        "\n## deep pages: recipeRuns(first: {PAGE}), {} runs; page {deep} starts after row {} \
         (loaded in {:.1} s)",
        loaded.runs,
        (deep - 1) * PAGE,
        loaded.seconds
    )?;
    let addr = super::serve_in_process(url, &db).await?;
    let until = Until::Elapsed(args.duration());
    let c = args.concurrency;
    let mut walks = Vec::new();
    header(out)?;
    for &(field, direction, order_by) in ORDERINGS {
        let ordering = format!("{field} {direction}");
        let document = document(field, direction);
        let started = Instant::now();
        let cursor = walk_to(addr, &document, deep).await?;
        walks.push((ordering.clone(), started.elapsed()));

        let pages = [
            (
                "graphql keyset",
                graphql(addr, document.clone(), Value::Null),
                graphql(addr, document, cursor),
            ),
            (
                "rest offset",
                rest(addr, order_by, direction, 1),
                rest(addr, order_by, direction, deep),
            ),
        ];
        for (path, first_page, deep_page) in pages {
            super::read::probe(addr, &first_page, path).await?;
            super::read::probe(addr, &deep_page, path).await?;
            let first = load::http(addr, c, until, first_page, StatusCode::OK).await?;
            let last = load::http(addr, c, until, deep_page, StatusCode::OK).await?;
            row(out, &ordering, 1, path, &first, None)?;
            row(out, "", deep, path, &last, Some(&first))?;
        }
    }
    for (ordering, took) in walks {
        writeln!(
            out,
            "walked {ordering} to page {deep} one page at a time, every run once: {:.1} s",
            took.as_secs_f64()
        )?;
    }
    db.close().await?;
    Ok(())
}
