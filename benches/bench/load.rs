//! A small closed-loop load generator: `C` workers, each with one keep-alive HTTP/1.1
//! connection (or one in-process call at a time), send the next request as soon as the
//! previous answer is read, until a deadline or a fixed number of operations.
//! Every latency is kept; percentiles come from the sorted list.

use anyhow::{Context, anyhow};
use axum::body::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// Stop starting operations after this long.
    Elapsed(Duration),
    /// Stop after this many operations in all.
    Count(u64),
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Wall time from the first operation started to the last one answered.
    pub elapsed: Duration,
    /// Every operation's latency, sorted ascending (failed ones included).
    pub latencies: Vec<Duration>,
    /// Operations that failed or answered an unexpected status.
    pub errors: u64,
    /// The first failure, to print.
    pub first_error: Option<String>,
}

impl Sample {
    /// Operations completed.
    pub fn count(&self) -> usize {
        self.latencies.len()
    }

    /// Operations per second of wall time.
    pub fn rate(&self) -> f64 {
        self.count() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile latency (0.5 = median), zero when nothing ran.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }
}

/// Builds request number `i` (the index lets a request vary ids or GUIDs).
pub type MakeRequest = Arc<dyn Fn(u64) -> Request<Full<Bytes>> + Send + Sync>;

/// A boxed operation future.
pub type BoxFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// Operation number `i` without HTTP (the floors and baselines).
pub type Call = Arc<dyn Fn(u64) -> BoxFuture + Send + Sync>;

/// Shared between the workers of one run.
struct Plan {
    next: AtomicU64,
    until: Until,
    deadline: Instant,
}

impl Plan {
    fn new(until: Until) -> Arc<Plan> {
        let length = match until {
            Until::Elapsed(d) => d,
            Until::Count(_) => Duration::from_secs(24 * 3600),
        };
        Arc::new(Plan {
            next: AtomicU64::new(0),
            until,
            deadline: Instant::now() + length,
        })
    }

    /// The next operation's index, or `None` when the run is over.
    fn take(&self) -> Option<u64> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match self.until {
            Until::Count(n) if i >= n => None,
            _ => Some(i),
        }
    }
}

/// One worker's record.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn fail(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }
}

async fn gather(
    started: Instant,
    workers: Vec<tokio::task::JoinHandle<anyhow::Result<Tally>>>,
) -> anyhow::Result<Sample> {
    let mut sample = Sample {
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
    };
    for worker in workers {
        let tally = worker.await.context("a load worker panicked")??;
        sample.latencies.extend(tally.latencies);
        sample.errors += tally.errors;
        if sample.first_error.is_none() {
            sample.first_error = tally.first_error;
        }
    }
    sample.elapsed = started.elapsed();
    sample.latencies.sort_unstable();
    Ok(sample)
}

/// Opens one HTTP/1.1 connection to `addr`; the connection task runs in the background.
pub async fn connect(
    addr: SocketAddr,
) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one request on a fresh connection; returns the status and body.
pub async fn once(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let mut sender = connect(addr).await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Drives `concurrency` keep-alive connections to `addr` until `until`; an answer other
/// than `expect` counts as an error.
pub async fn http(
    addr: SocketAddr,
    concurrency: usize,
    until: Until,
    make: MakeRequest,
    expect: StatusCode,
) -> anyhow::Result<Sample> {
    let mut senders = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        senders.push(connect(addr).await?);
    }
    let plan = Plan::new(until);
    let started = Instant::now();
    let workers = senders
        .into_iter()
        .map(|mut sender| {
            let (plan, make) = (plan.clone(), make.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while let Some(i) = plan.take() {
                    let request = make(i);
                    let t0 = Instant::now();
                    sender
                        .ready()
                        .await
                        .map_err(|e| anyhow!("connection lost: {e}"))?;
                    let response = sender.send_request(request).await?;
                    let status = response.status();
                    let body = response.into_body().collect().await?.to_bytes();
                    tally.latencies.push(t0.elapsed());
                    if status != expect {
                        let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
                        tally.fail(format!("{status}: {text}"));
                    }
                }
                Ok(tally)
            })
        })
        .collect();
    gather(started, workers).await
}

/// Runs `call` from `concurrency` tasks at once until `until`.
pub async fn calls(concurrency: usize, until: Until, call: Call) -> anyhow::Result<Sample> {
    let plan = Plan::new(until);
    let started = Instant::now();
    let workers = (0..concurrency.max(1))
        .map(|_| {
            let (plan, call) = (plan.clone(), call.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while let Some(i) = plan.take() {
                    let t0 = Instant::now();
                    let outcome = call(i).await;
                    tally.latencies.push(t0.elapsed());
                    if let Err(e) = outcome {
                        tally.fail(format!("{e:#}"));
                    }
                }
                Ok(tally)
            })
        })
        .collect();
    gather(started, workers).await
}
