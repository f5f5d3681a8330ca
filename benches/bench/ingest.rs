//! Webhook ingest: a real `pull_request.opened` payload, signed as GitHub signs it, with a
//! fresh `X-GitHub-Delivery` GUID per request, posted to `/github/hooks/` with no worker
//! running; beside it the same number of `Database::record_delivery` calls without HTTP
//! (group commit), and of `Database::record_delivery_alone` (one statement and commit per
//! delivery, the path before group commit). Then the same three at concurrency 1: a lone
//! delivery, which group commit must not slow down.

use super::load::{self, Call, MakeRequest, Sample, Until};
use super::{Args, Out, ms};
use crate::support::WEBHOOK_SECRET;
use axum::body::Bytes;
use http::StatusCode;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::db::{Database, NewDelivery};
use pangeo_forge_orchestrator::webhooks::signature::sign;
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;

/// The payload posted: GitHub's documented `pull_request.opened` example.
pub const PAYLOAD: &str =
    include_str!("../../tests/fixtures/github-webhooks/pull_request/opened.payload.json");

/// A unique GUID in GitHub's format (a UUID) for delivery `i` of the run tagged `tag`.
pub fn guid(tag: u32, i: u64) -> String {
    format!(
        "{tag:08x}-{:04x}-4{:03x}-8000-{:012x}",
        (i >> 48) & 0xffff,
        (i >> 36) & 0xfff,
        i & 0xffff_ffff_ffff
    )
}

/// A tag no earlier run used (GUIDs must be fresh even on a reused database).
fn fresh_tag(salt: u32) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16) ^ salt
}

async fn stored(db: &Database) -> anyhow::Result<i64> {
    let statement =
        Statement::from_string(db.backend(), "SELECT COUNT(*) AS n FROM webhook_delivery");
    let row = db
        .connection()
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| anyhow::anyhow!("COUNT(*) returned no row"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

fn deliveries(addr: std::net::SocketAddr, salt: u32) -> MakeRequest {
    let body = Bytes::from_static(PAYLOAD.as_bytes());
    let signature = sign(WEBHOOK_SECRET.as_bytes(), PAYLOAD.as_bytes());
    let tag = fresh_tag(salt);
    Arc::new(move |i| {
        let id = guid(tag, i);
        super::post_json(
            addr,
            "/github/hooks/",
            body.clone(),
            &[
                ("x-github-event", "pull_request"),
                ("x-github-delivery", &id),
                ("x-hub-signature-256", &signature),
                ("user-agent", "GitHub-Hookshot/bench"),
            ],
        )
    })
}

/// Which database verb a baseline calls.
#[derive(Clone, Copy)]
enum Verb {
    /// `record_delivery`: group commit.
    Batched,
    /// `record_delivery_alone`: a statement and a commit per delivery.
    Alone,
}

fn record_calls(db: &Database, verb: Verb, salt: u32) -> Call {
    let db = db.clone();
    let tag = fresh_tag(salt);
    Arc::new(move |i| {
        let db = db.clone();
        Box::pin(async move {
            let new = NewDelivery {
                guid: guid(tag, i),
                event: "pull_request".into(),
                action: Some("opened".into()),
                repository: Some("Codertocat/Hello-World".into()),
                installation_id: None,
                payload: PAYLOAD.to_owned(),
                state: DeliveryState::Queued,
                last_error: None,
                note: None,
            };
            match verb {
                Verb::Batched => db.record_delivery(new).await?,
                Verb::Alone => db.record_delivery_alone(new).await?,
            };
            Ok(())
        })
    })
}

fn line(out: Out<'_>, what: &str, sample: &Sample, stored: i64) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<34} {:>7} {:>9.0} {:>10.0} {:>10} {:>10} {:>6}",
        what,
        sample.count(),
        sample.rate(),
        stored as f64 / sample.elapsed.as_secs_f64().max(1e-9),
        ms(sample.quantile(0.5)),
        ms(sample.quantile(0.99)),
        sample.errors,
    )?;
    if let Some(e) = &sample.first_error {
        writeln!(out, "    first error: {e}")?;
    }
    Ok(())
}

/// Measures ingest on a fresh database at `url`.
pub async fn run(args: &Args, url: &str, out: Out<'_>) -> anyhow::Result<()> {
    let db = super::open(url).await?;
    let addr = super::serve_in_process(url, &db).await?;
    let (status, body) = load::once(addr, deliveries(addr, 0)(u64::MAX >> 16)).await?;
    if status != StatusCode::ACCEPTED {
        anyhow::bail!(
            "a signed delivery answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    writeln!(
        out,
        "\n## webhook ingest: pull_request.opened ({} KB), signed, fresh GUID each, no workers",
        PAYLOAD.len() / 1024
    )?;
    writeln!(
        out,
        "{:<34} {:>7} {:>9} {:>10} {:>10} {:>10} {:>6}",
        "path", "ops", "ops/s", "stored/s", "p50", "p99", "errors"
    )?;
    let mut concurrencies = vec![args.concurrency];
    if args.concurrency > 1 {
        concurrencies.push(1);
    }
    for (round, c) in concurrencies.into_iter().enumerate() {
        let salt = 16 * round as u32;
        let before = stored(&db).await?;
        let http = load::http(
            addr,
            c,
            Until::Elapsed(args.duration()),
            deliveries(addr, salt + 1),
            StatusCode::ACCEPTED,
        )
        .await?;
        let after_http = stored(&db).await?;
        let what = format!("POST /github/hooks/ -> 202, c={c}");
        line(out, &what, &http, after_http - before)?;
        let n = http.count() as u64;
        let mut baselines = Vec::new();
        for (verb, what) in [
            (Verb::Batched, "baseline: record_delivery, no HTTP"),
            (Verb::Alone, "one statement each, no HTTP"),
        ] {
            let before = stored(&db).await?;
            let calls = record_calls(&db, verb, salt + 2 + baselines.len() as u32);
            let sample = load::calls(c, Until::Count(n), calls).await?;
            let after = stored(&db).await?;
            line(out, what, &sample, after - before)?;
            baselines.push(sample.rate());
        }
        writeln!(
            out,
            "ratio HTTP / baseline: {:.0}%; group commit / one statement each: {:.0}%",
            100.0 * http.rate() / baselines[0].max(1e-9),
            100.0 * baselines[0] / baselines[1].max(1e-9)
        )?;
    }
    let stats = db.ingest_stats();
    writeln!(
        out,
        "group commit in this process: {} deliveries in {} statements ({:.1} per statement)",
        stats.rows,
        stats.batches,
        stats.rows as f64 / (stats.batches as f64).max(1.0)
    )?;
    db.close().await?;
    Ok(())
}
