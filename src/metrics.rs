//! `GET /metrics` in the Prometheus text format. Counters that only this process can know
//! (HTTP latency, GitHub calls and the rate limit GitHub reports) live here in one registry;
//! what is shared by every replica (deliveries by event and state, the queue's depth and
//! age, runs by status) is counted in the database at scrape time, so any replica answers
//! for all of them.

use crate::db::Database;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::fmt::Write;
use std::sync::LazyLock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GithubLabels {
    status: String,
}

struct ProcessMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram>,
    github_calls: Family<GithubLabels, Counter>,
    github_remaining: Gauge,
}

static METRICS: LazyLock<ProcessMetrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("pfo");
    let requests = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
        Histogram::new([
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ])
    });
    registry.register(
        "http_request_duration_seconds",
        "Time to answer an HTTP request, by method, route and status",
        requests.clone(),
    );
    let github_calls = Family::<GithubLabels, Counter>::default();
    registry.register(
        "github_calls",
        "Calls to the GitHub API by answer status (`network` when none came)",
        github_calls.clone(),
    );
    let github_remaining = Gauge::default();
    github_remaining.set(-1);
    registry.register(
        "github_rate_limit_remaining",
        "The x-ratelimit-remaining GitHub last reported (-1: none seen yet)",
        github_remaining.clone(),
    );
    ProcessMetrics {
        registry,
        requests,
        github_calls,
        github_remaining,
    }
});

/// Records one answered HTTP request.
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    METRICS
        .requests
        .get_or_create(&RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        })
        .observe(seconds);
}

/// Records one GitHub call: its status (`None`: no answer) and the rate limit left.
pub fn github_call(status: Option<u16>, remaining: Option<i64>) {
    let status = status.map_or_else(|| "network".to_owned(), |s| s.to_string());
    METRICS
        .github_calls
        .get_or_create(&GithubLabels { status })
        .inc();
    if let Some(remaining) = remaining {
        METRICS.github_remaining.set(remaining);
    }
}

fn gauge_header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// Escapes a label value for the text format.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// This process's subscriptions and the executions serving them (`graphql::live` counts
/// them; they are shown at scrape time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionCounts {
    /// Subscriptions whose execution listens to the change bus, shared or private.
    pub subscribers: usize,
    /// Shared executions running (one per distinct selection with subscribers).
    pub shared: usize,
    /// Private executions running (`since` subscriptions, resyncs, one-off operations).
    pub private: usize,
}

/// This process's group commit of webhook deliveries (`db::delivery_batch`).
fn ingest(out: &mut String, stats: crate::db::IngestStats) {
    gauge_header(
        out,
        "pfo_ingest_waiting",
        "Webhook deliveries this process holds until the statement in flight ends",
    );
    let _ = writeln!(out, "pfo_ingest_waiting {}", stats.waiting);
    for (name, help, n) in [
        (
            "pfo_ingest_statements",
            "Statements that stored webhook deliveries (group commit)",
            stats.batches,
        ),
        (
            "pfo_ingest_statement_deliveries",
            "Webhook deliveries those statements carried",
            stats.rows,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name}_total {n}");
    }
}

/// The whole scrape: the database's counts, this process's subscriptions and its registry.
pub async fn render(db: &Database, subscriptions: SubscriptionCounts) -> String {
    let mut out = String::new();
    let up = db.ping().await.is_ok();
    gauge_header(&mut out, "pfo_database_up", "1 when the database answers");
    let _ = writeln!(out, "pfo_database_up {}", u8::from(up));
    if up {
        if let Ok(counts) = db.delivery_counts().await {
            gauge_header(
                &mut out,
                "pfo_deliveries",
                "Webhook deliveries and queued tasks, by event and state",
            );
            for (event, state, n) in counts {
                let _ = writeln!(
                    out,
                    "pfo_deliveries{{event=\"{}\",state=\"{}\"}} {n}",
                    label(&event),
                    label(&state)
                );
            }
        }
        if let Ok(queue) = db.queue_stats().await {
            gauge_header(
                &mut out,
                "pfo_queue_depth",
                "Deliveries queued or being processed",
            );
            let _ = writeln!(out, "pfo_queue_depth {}", queue.depth);
            gauge_header(
                &mut out,
                "pfo_queue_oldest_age_seconds",
                "Age of the oldest delivery still waiting (0 when none)",
            );
            let age = queue
                .oldest
                .map(|t| (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0)
                .unwrap_or(0.0);
            let _ = writeln!(out, "pfo_queue_oldest_age_seconds {age}");
        }
        if let Ok(runs) = db.run_counts().await {
            gauge_header(&mut out, "pfo_recipe_runs", "Recipe runs by status");
            for (status, n) in runs {
                let _ = writeln!(out, "pfo_recipe_runs{{status=\"{}\"}} {n}", label(&status));
            }
        }
    }
    gauge_header(
        &mut out,
        "pfo_subscriptions",
        "Live GraphQL subscriptions held by this process",
    );
    let _ = writeln!(out, "pfo_subscriptions {}", subscriptions.subscribers);
    gauge_header(
        &mut out,
        "pfo_subscription_executions",
        "Executions serving them: shared (one per distinct selection) or private",
    );
    let _ = writeln!(
        out,
        "pfo_subscription_executions{{kind=\"shared\"}} {}",
        subscriptions.shared
    );
    let _ = writeln!(
        out,
        "pfo_subscription_executions{{kind=\"private\"}} {}",
        subscriptions.private
    );
    ingest(&mut out, db.ingest_stats());
    let mut registry_text = String::new();
    if encode(&mut registry_text, &METRICS.registry).is_ok() {
        out.push_str(&registry_text);
    } else {
        out.push_str("# EOF\n");
    }
    out
}
