//! The live-updates benchmark (`cargo bench --bench live`): how many GraphQL subscribers
//! one server holds, how fast a committed change reaches all of them, and what an idle
//! subscriber costs.
//!
//! It spawns the built binary (`CARGO_BIN_EXE_pangeo-forge-orchestrator`, `serve`) — one
//! replica, or two on one PostgreSQL — opens N
//! websocket clients (graphql-transport-ws) subscribed to `recipeRunUpdated`, then changes a
//! run K times through the admin API and measures, for every client and change, the time
//! from the run's `updatedAt` (set in the committing transaction, same machine clock) to the
//! client's receipt. Memory per idle subscriber is the server's RSS growth divided by N.
//! Figures are printed, never asserted.
//!
//! With `--distinct D` the N clients subscribe to D different selections (client i to
//! `subscription { s<i mod D>: recipeRunUpdated { id updatedAt } }`: an alias apart, so every
//! selection receives every change), which the server executes once each. Each row also
//! shows the baseline, measured in the same run: a server started with
//! `PFO_SUBSCRIPTIONS_SHARED=false`, where each of the N subscribers runs its own execution.
//!
//! `main.rs` runs [`run`]; `tests/it/benches.rs` includes this file with `#[path]` and runs
//! it with a handful of subscribers.

use anyhow::{Context, Result, bail};
use async_graphql::futures_util::{SinkExt, StreamExt};
use pangeo_forge_orchestrator::telemetry::LogFormat;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::ClientRequestBuilder;

/// Benchmark live updates: subscribers held, fan-out latency, memory per subscriber.
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "live")]
pub struct Args {
    /// A fresh, empty database (`sqlite://FILE?mode=rwc` or `postgres://…`); default: a
    /// temporary SQLite file.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Subscriber counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub subscribers: Vec<usize>,
    /// Distinct selections the subscribers are spread over, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub distinct: Vec<usize>,
    /// Changes made per measurement.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Two replicas on one PostgreSQL: subscribers on the second, changes through the first.
    #[arg(long)]
    pub two_replicas: bool,
    /// Log format.
    #[arg(long, env = "PFO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// The server binary cargo built beside this bench (or test).
const BINARY: &str = env!("CARGO_BIN_EXE_pangeo-forge-orchestrator");

const ADMIN_KEY: &str = "bench-admin-key-0123456789";

struct Replica {
    child: Child,
    address: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_replica(url: &str, dir: &Path, shared: bool) -> Result<Replica> {
    let mut child = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("PFO_SUBSCRIPTIONS_SHARED", shared.to_string())
        .env("PFO_ADMIN_API_KEYS", ADMIN_KEY)
        // Only the "listening on http://…" line of `App::run` above warn.
        .env("RUST_LOG", "warn,pangeo_forge_orchestrator::app=info")
        .env_remove("PFO_CONFIG")
        .env_remove("PFO_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    // Killed on drop from here on, also when it never says where it listens.
    let mut replica = Replica {
        child,
        address: String::new(),
    };
    // A thread reads the log (and keeps draining it, so the server never blocks on a full
    // pipe); the address comes back over a channel, with a deadline.
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let address = rest.split_whitespace().next().unwrap_or_default();
                let _ = address_tx.send(address.to_owned());
            }
        }
    });
    replica.address = match address_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => address,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            bail!("the server exited before listening")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            bail!("the server did not log \"listening on http://…\" within 60 s")
        }
    };
    Ok(replica)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time `pid` has used (user + system), in milliseconds (`/proc/<pid>/stat`, 100 ticks/s).
fn cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) end with ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 * 10.0)
}

async fn graphql(address: &str, query: &str, variables: Value) -> Result<Value> {
    let body = json!({"query": query, "variables": variables}).to_string();
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nAuthorization: Bearer {ADMIN_KEY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await?;
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response).await?;
    let json_body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    let value: Value = serde_json::from_str(json_body).context("GraphQL answer")?;
    if value.get("errors").is_some() {
        bail!("GraphQL errors: {value}");
    }
    Ok(value["data"].clone())
}

/// One subscribed client (to selection `selection`): sends (updatedAt, received) pairs.
async fn subscriber(
    address: String,
    selection: usize,
    received: tokio::sync::mpsc::UnboundedSender<(String, Instant)>,
    ready: tokio::sync::mpsc::UnboundedSender<()>,
) -> Result<()> {
    let uri = format!("ws://{address}/graphql/ws").parse()?;
    let request = ClientRequestBuilder::new(uri).with_sub_protocol("graphql-transport-ws");
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    ws.send(Message::text(
        json!({"type": "connection_init"}).to_string(),
    ))
    .await?;
    let _ack = ws.next().await;
    let query = format!("subscription {{ s{selection}: recipeRunUpdated {{ id updatedAt }} }}");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    ws.send(Message::text(subscribe.to_string())).await?;
    let _ = ready.send(());
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            let at = Instant::now();
            if let Ok(value) = serde_json::from_str::<Value>(&text)
                && let Some(run) = value["payload"]["data"]
                    .as_object()
                    .and_then(|data| data.values().next())
                && let Some(updated) = run["updatedAt"].as_str()
            {
                let _ = received.send((updated.to_owned(), at));
            }
        }
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What one measurement found.
#[derive(Clone, Copy)]
struct Figures {
    held: usize,
    connect_secs: f64,
    p50: f64,
    p99: f64,
    kib_per_subscriber: f64,
    /// The serving replica's CPU time per change, while the changes were made and received.
    cpu_ms_per_change: f64,
}

/// The replicas of one setup and the run they change.
struct Setup {
    writer: Replica,
    reader: Option<Replica>,
    run_id: Value,
}

impl Setup {
    /// Spawns the replicas (sharing subscriptions or not) and makes a bakery, a feedstock and
    /// a run named after `label` (the database may hold another setup's).
    async fn start(
        bench: &Args,
        url: &str,
        dir: &Path,
        shared: bool,
        label: &str,
    ) -> Result<Setup> {
        let writer = spawn_replica(url, dir, shared)?;
        let reader = if bench.two_replicas {
            Some(spawn_replica(url, dir, shared)?)
        } else {
            None
        };
        let bakery = graphql(
            &writer.address,
            "mutation($n: String!) { createBakery(input: {name: $n, region: \"local\", description: \"bench\"}) { id } }",
            json!({"n": format!("bench-{label}")}),
        )
        .await?;
        let feedstock = graphql(
            &writer.address,
            "mutation($s: String!) { createFeedstock(input: {spec: $s}) { id } }",
            json!({"s": format!("bench/{label}-feedstock")}),
        )
        .await?;
        let run = graphql(
            &writer.address,
            "mutation($b: Int!, $f: Int!) { createRecipeRun(input: {recipeId: \"r\", bakeryId: $b, feedstockId: $f, headSha: \"0000000000000000000000000000000000000000\", version: \"\"}) { id } }",
            json!({"b": bakery["createBakery"]["id"], "f": feedstock["createFeedstock"]["id"]}),
        )
        .await?;
        Ok(Setup {
            writer,
            reader,
            run_id: run["createRecipeRun"]["id"].clone(),
        })
    }

    /// `n` subscribers over `distinct` selections, then `changes` changes.
    async fn measure(&self, n: usize, distinct: usize, changes: usize) -> Result<Figures> {
        let listen = self.reader.as_ref().unwrap_or(&self.writer);
        let pid = listen.child.id();
        let rss_before = rss_kib(pid).unwrap_or(0);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
        let started = Instant::now();
        let mut clients = tokio::task::JoinSet::new();
        for i in 0..n {
            clients.spawn(subscriber(
                listen.address.clone(),
                i % distinct.max(1),
                tx.clone(),
                ready_tx.clone(),
            ));
        }
        let mut held = 0;
        while held < n {
            match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
                Ok(Some(())) => held += 1,
                _ => break,
            }
        }
        let connect_secs = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss_idle = rss_kib(pid).unwrap_or(0);
        let kib_per_subscriber = rss_idle.saturating_sub(rss_before) as f64 / held.max(1) as f64;

        let mut latencies = Vec::new();
        let cpu_before = cpu_ms(pid).unwrap_or(0.0);
        for change in 0..changes {
            let status = if change % 2 == 0 {
                "IN_PROGRESS"
            } else {
                "QUEUED"
            };
            let changed = graphql(
                &self.writer.address,
                "mutation($id: Int!, $s: RecipeRunStatus!) { updateRecipeRun(id: $id, input: {status: $s}) { updatedAt } }",
                json!({"id": self.run_id, "s": status}),
            )
            .await?;
            let updated = changed["updateRecipeRun"]["updatedAt"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let committed =
                chrono::DateTime::parse_from_rfc3339(&updated)?.with_timezone(&chrono::Utc);
            let mut got = 0;
            while got < held {
                match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                    Ok(Some((at_text, at))) if at_text == updated => {
                        let lag = chrono::Utc::now()
                            - committed
                            - chrono::Duration::from_std(at.elapsed()).unwrap_or_default();
                        latencies.push(lag.num_microseconds().unwrap_or(0) as f64 / 1000.0);
                        got += 1;
                    }
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
        let cpu_ms_per_change = (cpu_ms(pid).unwrap_or(0.0) - cpu_before) / changes.max(1) as f64;
        latencies.sort_by(|a, b| a.total_cmp(b));
        clients.abort_all();
        while clients.join_next().await.is_some() {}
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(Figures {
            held,
            connect_secs,
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            kib_per_subscriber,
            cpu_ms_per_change,
        })
    }
}

/// Runs the benchmark and returns the report to print.
pub async fn run(bench: Args) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let database_url = bench
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
    if bench.two_replicas && !database_url.starts_with("postgres") {
        bail!("--two-replicas needs a PostgreSQL --database-url");
    }
    // One setup (fresh server processes) per measurement, one at a time: each has the
    // machine, and its RSS growth is its own (a process keeps memory it once used).
    let mut rows = Vec::new();
    let mut baseline = std::collections::HashMap::new();
    for &n in &bench.subscribers {
        for &distinct in &bench.distinct {
            let label = format!("shared-{n}-{distinct}");
            let shared = Setup::start(&bench, &database_url, dir.path(), true, &label).await?;
            rows.push((
                n,
                distinct,
                shared.measure(n, distinct, bench.changes).await?,
            ));
        }
        let label = format!("unshared-{n}");
        let unshared = Setup::start(&bench, &database_url, dir.path(), false, &label).await?;
        baseline.insert(n, unshared.measure(n, 1, bench.changes).await?);
    }

    let mut report = format!(
        "live updates — {} replica(s), database {}; baseline: PFO_SUBSCRIPTIONS_SHARED=false (one execution per subscriber)\n{:>12} {:>10} {:>9} {:>10} {:>9} {:>9} {:>10} {:>12} | {:>11} {:>11} {:>12} {:>13}\n",
        if bench.two_replicas { 2 } else { 1 },
        database_url.split(':').next().unwrap_or("?"),
        "subscribers",
        "held",
        "distinct",
        "connect s",
        "p50 ms",
        "p99 ms",
        "KiB/sub",
        "CPU ms/chg",
        "base p50",
        "base p99",
        "base KiB/sub",
        "base CPU ms"
    );
    for (n, distinct, figures) in rows {
        let base = baseline.get(&n).copied();
        let show = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.1}"));
        report.push_str(&format!(
            "{:>12} {:>10} {:>9} {:>10.2} {:>9.1} {:>9.1} {:>10.1} {:>12.1} | {:>11} {:>11} {:>12} {:>13}\n",
            n,
            figures.held,
            distinct,
            figures.connect_secs,
            figures.p50,
            figures.p99,
            figures.kib_per_subscriber,
            figures.cpu_ms_per_change,
            show(base.map(|b| b.p50)),
            show(base.map(|b| b.p99)),
            show(base.map(|b| b.kib_per_subscriber)),
            show(base.map(|b| b.cpu_ms_per_change)),
        ));
    }
    Ok(report)
}
