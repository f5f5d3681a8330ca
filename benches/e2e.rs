//! End-to-end throughput (issue 6): signed pull_request deliveries posted to real `serve`
//! processes (1, then 2 replicas on one PostgreSQL database), each worked through the fake
//! GitHub (create check run, read meta.yaml, complete the check run) until it is `done`.
//!
//! `cargo bench --bench e2e`. Settings (environment): `PFO_E2E_DELIVERIES` (500),
//! `PFO_E2E_POSTERS` (16 concurrent posters; with 4, the 202s, one PostgreSQL commit each,
//! cap the rate at about 85/s and the processing is never the limit), `PFO_E2E_WORKERS`
//! (4 workers per replica, the `serve` default), `PFO_TEST_POSTGRES_URL` (as the tests).
//! Each replica count gets a fresh database, dropped at the end even when the run fails.
//!
//! Baseline in the same run: the fake GitHub alone, the same 3 calls per delivery made with
//! the real `GithubApp` client at the servers' total worker concurrency.

#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code, unused_imports, unused_macros)]
mod support;

use pangeo_forge_orchestrator::db::entities::webhook_delivery;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::db::{Database, NewBakery, NewFeedstock};
use pangeo_forge_orchestrator::github::NewCheckRun;
use pangeo_forge_orchestrator::webhooks::signature::sign;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::fake_github::FakeGithub;
use support::github_app::{BAKERY, meta_yaml, serve_binary};
use support::process::http_with;
use support::webhooks::{fixture, with_repository};
use support::{Engine, TestDb, WEBHOOK_SECRET};

const FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
const META: &str = "feedstock/meta.yaml";
/// The installation the webhook fixtures carry.
const INSTALLATION: u64 = 1;
/// How long one replica count may take before the run is called failed.
const TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Clone, Copy)]
struct Settings {
    deliveries: usize,
    posters: usize,
    workers: usize,
}

struct Measurement {
    label: String,
    concurrency: usize,
    seconds: f64,
    /// When the last 202 came back (the posters' share of the wall time).
    posted_seconds: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    share: String,
}

impl Measurement {
    fn rate(&self, n: usize) -> f64 {
        n as f64 / self.seconds
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{name} must be a positive whole number, not {text:?}")),
        Err(_) => default,
    }
}

fn sha(n: usize) -> String {
    format!("{n:040x}")
}

fn main() {
    let settings = Settings {
        deliveries: env_usize("PFO_E2E_DELIVERIES", 500),
        posters: env_usize("PFO_E2E_POSTERS", 16),
        workers: env_usize("PFO_E2E_WORKERS", 4),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(settings));
}

async fn run(settings: Settings) {
    let n = settings.deliveries;
    println!(
        "e2e: {n} pull_request deliveries, {} posters, {} workers per replica, PostgreSQL at {}",
        settings.posters,
        settings.workers,
        support::db::postgres_admin_url()
    );
    let github = FakeGithub::start().await;
    for i in 0..n {
        github.set_file(FEEDSTOCK, META, &sha(i), meta_yaml(&["gpcp"]));
    }
    let mut rows = Vec::new();
    for replicas in [1, 2] {
        // The server processes first (the figures that matter), then the fake alone.
        let server = on_fresh_database(replicas, settings, github.clone()).await;
        println!(
            "  {} replica(s): {:.2} s, {:.1} deliveries/s",
            replicas,
            server.seconds,
            server.rate(n)
        );
        let floor = baseline(&github, n, settings.workers * replicas).await;
        println!(
            "  fake GitHub alone at {}: {:.2} s, {:.1} deliveries/s",
            floor.concurrency,
            floor.seconds,
            floor.rate(n)
        );
        rows.push(server);
        rows.push(floor);
    }

    println!();
    println!(
        "| setup | concurrency | wall (s) | last 202 at (s) | deliveries/s | 202 p50 (ms) | 202 p99 (ms) | share (claimed_by) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ms = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.1}"));
    for row in &rows {
        println!(
            "| {} | {} | {:.2} | {} | {:.1} | {} | {} | {} |",
            row.label,
            row.concurrency,
            row.seconds,
            row.posted_seconds
                .map_or("–".to_owned(), |v| format!("{v:.2}")),
            row.rate(n),
            ms(row.p50_ms),
            ms(row.p99_ms),
            row.share
        );
    }
}

/// Runs [`measure`] on a new database and drops the database whatever happens.
async fn on_fresh_database(replicas: usize, settings: Settings, github: FakeGithub) -> Measurement {
    let test_db = TestDb::new(Engine::Postgres).await;
    let (url, db) = (test_db.url.clone(), test_db.db.clone());
    let name = url.rsplit_once('/').map_or(url.as_str(), |(_, name)| name);
    println!("  database {name} ({replicas} replica(s); dropped at the end)");
    let result = tokio::spawn(measure(replicas, settings, github, url, db)).await;
    test_db.finish().await;
    match result {
        Ok(measurement) => measurement,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => panic!("{err}"),
    }
}

async fn measure(
    replicas: usize,
    settings: Settings,
    github: FakeGithub,
    url: String,
    db: Database,
) -> Measurement {
    let n = settings.deliveries;
    db.create_feedstock(NewFeedstock {
        spec: FEEDSTOCK.into(),
        provider: None,
    })
    .await
    .expect("feedstock");
    db.create_bakery(NewBakery {
        name: BAKERY.into(),
        region: "us-central1".into(),
        description: "e2e bench".into(),
    })
    .await
    .expect("bakery");

    let dir = tempfile::tempdir().expect("tempdir");
    let workers = settings.workers.to_string();
    let servers: Vec<_> = tokio::task::block_in_place(|| {
        (0..replicas)
            .map(|_| serve_binary(&url, &github, dir.path(), &[("PFO_WORKERS", &workers)]))
            .collect()
    });
    let addresses: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.address.clone()).collect());

    // Bodies and signatures are made before the clock starts.
    let template = with_repository(fixture("pull_request/opened.payload.json"), FEEDSTOCK);
    let deliveries: Arc<Vec<(String, String, String)>> = Arc::new(
        (0..n)
            .map(|i| {
                let mut payload = template.clone();
                payload["pull_request"]["head"]["sha"] = sha(i).into();
                let body = payload.to_string();
                let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
                (format!("guid-e2e-{replicas}-{i}"), body, signature)
            })
            .collect(),
    );

    let start = Instant::now();
    let posters: Vec<_> = (0..settings.posters)
        .map(|p| {
            let (deliveries, addresses) = (deliveries.clone(), addresses.clone());
            let posters = settings.posters;
            tokio::task::spawn_blocking(move || {
                let mut latencies = Vec::new();
                for i in (p..deliveries.len()).step_by(posters) {
                    let (guid, body, signature) = &deliveries[i];
                    let sent = Instant::now();
                    let (status, reply) = http_with(
                        &addresses[i % addresses.len()],
                        "POST",
                        "/github/hooks/",
                        body,
                        "application/json",
                        &[
                            ("X-GitHub-Event", "pull_request"),
                            ("X-GitHub-Delivery", guid),
                            ("X-Hub-Signature-256", signature),
                        ],
                    );
                    latencies.push(sent.elapsed());
                    assert_eq!(status, 202, "delivery {guid}: {reply}");
                }
                (latencies, start.elapsed())
            })
        })
        .collect();

    let conn = db.connection();
    loop {
        let done = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::State.eq(DeliveryState::Done))
            .count(conn)
            .await
            .expect("count done");
        if done as usize >= n {
            break;
        }
        if start.elapsed() > TIMEOUT {
            let states: Vec<(DeliveryState, i64)> = webhook_delivery::Entity::find()
                .select_only()
                .column(webhook_delivery::Column::State)
                .column_as(webhook_delivery::Column::Id.count(), "n")
                .group_by(webhook_delivery::Column::State)
                .into_tuple()
                .all(conn)
                .await
                .unwrap_or_default();
            panic!("only {done} of {n} deliveries done after {TIMEOUT:?}: {states:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seconds = start.elapsed().as_secs_f64();

    let mut latencies = Vec::with_capacity(n);
    let mut posted = Duration::ZERO;
    for poster in posters {
        let (times, finished) = poster.await.expect("poster");
        latencies.extend(times);
        posted = posted.max(finished);
    }
    latencies.sort();
    let quantile = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1e3
    };

    // Which process did each delivery: `pfo-<pid>-<nonce>-<worker>` without the worker.
    let claimed: Vec<(Option<String>, i32)> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::ClaimedBy)
        .column(webhook_delivery::Column::Attempts)
        .into_tuple()
        .all(conn)
        .await
        .expect("claimed_by");
    let mut by_process: BTreeMap<String, usize> = BTreeMap::new();
    for (worker, attempts) in &claimed {
        assert_eq!(*attempts, 1, "a delivery was claimed twice ({worker:?})");
        let worker = worker.as_deref().unwrap_or("none");
        let process = worker.rsplit_once('-').map_or(worker, |(p, _)| p);
        *by_process.entry(process.to_owned()).or_default() += 1;
    }
    let share = by_process
        .values()
        .map(|count| format!("{:.0} %", 100.0 * *count as f64 / claimed.len() as f64))
        .collect::<Vec<_>>()
        .join(" / ");
    drop(servers);
    Measurement {
        label: format!(
            "{replicas} replica{} (serve, PostgreSQL)",
            if replicas == 1 { "" } else { "s" }
        ),
        concurrency: settings.workers * replicas,
        seconds,
        posted_seconds: Some(posted.as_secs_f64()),
        p50_ms: Some(quantile(0.50)),
        p99_ms: Some(quantile(0.99)),
        share,
    }
}

/// The fake GitHub's own throughput: the flow's 3 calls per delivery, made directly with the
/// real client by `concurrency` tasks (one installation token, minted before the clock starts).
async fn baseline(github: &FakeGithub, n: usize, concurrency: usize) -> Measurement {
    let gh = github
        .app()
        .installation(INSTALLATION)
        .expect("installation");
    gh.file_contents(FEEDSTOCK, META, &sha(0))
        .await
        .expect("warm-up");
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (gh, next) = (gh.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let head_sha = sha(i);
                    let id = gh
                        .create_check_run(
                            FEEDSTOCK,
                            &NewCheckRun {
                                name: "synchronize".into(),
                                head_sha: head_sha.clone(),
                                status: "in_progress".into(),
                                title: "Synchronizing".into(),
                                summary: "baseline".into(),
                                details_url: None,
                            },
                        )
                        .await
                        .expect("create check run");
                    gh.file_contents(FEEDSTOCK, META, &head_sha)
                        .await
                        .expect("meta.yaml")
                        .expect("meta.yaml exists");
                    gh.complete_check_run(FEEDSTOCK, id, "success", "Done", "baseline", &[])
                        .await
                        .expect("complete check run");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("baseline task");
    }
    Measurement {
        label: "fake GitHub alone (3 calls, GithubApp)".into(),
        concurrency,
        seconds: start.elapsed().as_secs_f64(),
        posted_seconds: None,
        p50_ms: None,
        p99_ms: None,
        share: "–".into(),
    }
}
