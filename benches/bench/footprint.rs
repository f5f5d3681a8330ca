//! Footprint: the built binary (`CARGO_BIN_EXE_pangeo-forge-orchestrator`; the release one
//! under `cargo bench`) started as `serve` on a fresh database — time from spawn to the
//! first `/healthz` 200 (migrations included) beside the time to spawn it and see it exit
//! (`--version`), then its resident memory idle and after a read load.

use super::load::{self, Until};
use super::read::{CASES, graphql_request};
use super::{Args, Out, ms};
use crate::support::bench_data;
use http::StatusCode;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `/proc/<pid>/status` field in MB (`VmRSS`, `VmHWM`); `None` off Linux.
pub fn memory_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn mb(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1} MB"))
}

/// The fastest of three spawns of `exe --version` until it exits: the floor of start-up.
async fn spawn_floor(exe: &Path) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t0 = Instant::now();
        let status = tokio::process::Command::new(exe)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .await?;
        anyhow::ensure!(status.success(), "`--version` failed");
        best = best.min(t0.elapsed());
    }
    Ok(best)
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// The server binary cargo built beside this bench (or test).
const BINARY: &str = env!("CARGO_BIN_EXE_pangeo-forge-orchestrator");

/// Measures start-up and memory of `serve` on the fresh database at `url`.
pub async fn run(args: &Args, url: &str, out: Out<'_>) -> anyhow::Result<()> {
    let exe = Path::new(BINARY);
    let floor = spawn_floor(exe).await?;
    let addr = free_port()?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("PFO_BIND", addr.to_string())
        .env("RUST_LOG", "warn")
        .env("PFO_WORKERS", "1")
        .env_remove("PFO_CONFIG")
        .env_remove("GITHUB_APP_ID")
        .env_remove("GITHUB_APP_PRIVATE_KEY_PATH")
        .env_remove("PFO_BAKERIES_DIR")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("the server exited at once"))?;
    loop {
        if let Ok((StatusCode::OK, _)) = load::once(addr, super::get(addr, "/healthz")).await {
            break;
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("`serve` exited before answering /healthz: {status}");
        }
        if started.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("`serve` did not answer /healthz within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ready = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = memory_mb(pid, "VmRSS:");

    let db = super::open(url).await?;
    let loaded = bench_data::load(&db, args.feedstocks, args.runs).await?;
    db.close().await?;
    let ids = Arc::new(loaded.feedstock_ids);
    let per_page = Duration::from_secs(args.duration().as_secs().div_ceil(3).max(1));
    let mut requests = 0;
    for case in &CASES[..3] {
        let make = graphql_request(addr, case, ids.clone());
        let sample = load::http(
            addr,
            args.concurrency,
            Until::Elapsed(per_page),
            make,
            StatusCode::OK,
        )
        .await?;
        requests += sample.count();
    }
    let loaded_rss = memory_mb(pid, "VmRSS:");
    let peak = memory_mb(pid, "VmHWM:");
    child.kill().await?;

    writeln!(
        out,
        "\n## footprint: `{} serve` on a fresh database",
        exe.display()
    )?;
    writeln!(out, "{:<30} {:>12}   baseline / target", "what", "value")?;
    writeln!(
        out,
        "{:<30} {:>12}   spawn -> exit of `--version`: {}; target < 250 ms",
        "spawn -> /healthz 200",
        ms(ready),
        ms(floor)
    )?;
    writeln!(out, "{:<30} {:>12}   target < 30 MB", "idle RSS", mb(idle))?;
    writeln!(
        out,
        "{:<30} {:>12}   peak {}; after {requests} GraphQL requests (pages a-c, {} connections)",
        "RSS after read load",
        mb(loaded_rss),
        mb(peak),
        args.concurrency
    )?;
    Ok(())
}
