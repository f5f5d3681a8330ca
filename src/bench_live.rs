//! The live-updates benchmark (`bench-live`): how many GraphQL subscribers one server holds,
//! how fast a committed change reaches all of them, and what an idle subscriber costs.
//!
//! It spawns the real binary (`serve`) — one replica, or two on one PostgreSQL — opens N
//! websocket clients (graphql-transport-ws) subscribed to `recipeRunUpdated`, then changes a
//! run K times through the admin API and measures, for every client and change, the time
//! from the run's `updatedAt` (set in the committing transaction, same machine clock) to the
//! client's receipt. Memory per idle subscriber is the server's RSS growth divided by N.
//! Figures are printed, never asserted.

use anyhow::{Context, Result, bail};
use async_graphql::futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::ClientRequestBuilder;

/// What to measure.
#[derive(Debug, Clone)]
pub struct LiveBench {
    /// `sqlite://…` or `postgres://…` (a fresh, empty database).
    pub database_url: String,
    /// Subscriber counts to measure, e.g. `[1000, 10000]`.
    pub subscribers: Vec<usize>,
    /// Changes per measurement.
    pub changes: usize,
    /// Two replicas (PostgreSQL only): clients on the second, changes through the first.
    pub two_replicas: bool,
}

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

fn spawn_replica(url: &str, dir: &Path) -> Result<Replica> {
    // This very binary, even if its file is replaced meanwhile (a rebuild).
    let mut child = Command::new("/proc/self/exe")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("PFO_ADMIN_API_KEYS", ADMIN_KEY)
        .env("RUST_LOG", "warn,pangeo_forge_orchestrator::server=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let address = loop {
        let Some(Ok(line)) = lines.next() else {
            bail!("the server exited before listening");
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(Replica { child, address })
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

/// One subscribed client: returns a channel of receipt (updatedAt, received) pairs.
async fn subscriber(
    address: String,
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
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription { recipeRunUpdated { id updatedAt } }"}});
    ws.send(Message::text(subscribe.to_string())).await?;
    let _ = ready.send(());
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            let at = Instant::now();
            if let Ok(value) = serde_json::from_str::<Value>(&text)
                && let Some(updated) =
                    value["payload"]["data"]["recipeRunUpdated"]["updatedAt"].as_str()
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

/// Runs the benchmark and returns the printed report.
pub async fn run(bench: LiveBench) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let writer = spawn_replica(&bench.database_url, dir.path())?;
    let reader = if bench.two_replicas {
        Some(spawn_replica(&bench.database_url, dir.path())?)
    } else {
        None
    };
    let listen = reader.as_ref().unwrap_or(&writer);
    // A bakery, a feedstock and one run to change.
    let bakery = graphql(&writer.address, r#"mutation { createBakery(input: {name: "bench", region: "local", description: "bench"}) { id } }"#, json!({})).await?;
    let feedstock = graphql(
        &writer.address,
        r#"mutation { createFeedstock(input: {spec: "bench/bench-feedstock"}) { id } }"#,
        json!({}),
    )
    .await?;
    let run = graphql(
        &writer.address,
        "mutation($b: Int!, $f: Int!) { createRecipeRun(input: {recipeId: \"r\", bakeryId: $b, feedstockId: $f, headSha: \"0000000000000000000000000000000000000000\", version: \"\"}) { id } }",
        json!({"b": bakery["createBakery"]["id"], "f": feedstock["createFeedstock"]["id"]}),
    )
    .await?;
    let run_id = run["createRecipeRun"]["id"].clone();

    let mut report = format!(
        "live updates — {} replica(s), database {}\n{:>12} {:>10} {:>12} {:>10} {:>10} {:>14}\n",
        if bench.two_replicas { 2 } else { 1 },
        bench.database_url.split(':').next().unwrap_or("?"),
        "subscribers",
        "held",
        "connect s",
        "p50 ms",
        "p99 ms",
        "KiB/idle sub"
    );
    for &n in &bench.subscribers {
        let pid = listen.child.id();
        let rss_before = rss_kib(pid).unwrap_or(0);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
        let started = Instant::now();
        let mut clients = tokio::task::JoinSet::new();
        for _ in 0..n {
            clients.spawn(subscriber(
                listen.address.clone(),
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
        let per_sub = rss_idle.saturating_sub(rss_before) as f64 / held.max(1) as f64;

        let mut latencies = Vec::new();
        for change in 0..bench.changes {
            let status = if change % 2 == 0 {
                "IN_PROGRESS"
            } else {
                "QUEUED"
            };
            let changed = graphql(
                &writer.address,
                "mutation($id: Int!, $s: RecipeRunStatus!) { updateRecipeRun(id: $id, input: {status: $s}) { updatedAt } }",
                json!({"id": run_id, "s": status}),
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
        latencies.sort_by(|a, b| a.total_cmp(b));
        report.push_str(&format!(
            "{:>12} {:>10} {:>12.2} {:>10.1} {:>10.1} {:>14.1}\n",
            n,
            held,
            connect_secs,
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            per_sub
        ));
        clients.abort_all();
        while clients.join_next().await.is_some() {}
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(reader);
    drop(writer);
    Ok(report)
}
