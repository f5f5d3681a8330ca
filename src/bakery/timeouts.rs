//! The timeout sweep: a run `in_progress` for longer than its bakery allows
//! (`Orchestrator.timeout_hours`, default [`DEFAULT_RUN_TIMEOUT`]) is completed as
//! `TIMED_OUT` and reported like a failure. The sweep reads only the database, so it
//! survives restarts; each timed-out run becomes one completion task (GUID
//! `timeout-<run id>`), so several replicas sweeping at once still time a run out once.

use crate::bakery::BakeryRegistry;
use crate::db::Database;
use crate::db::Recorded;
use crate::db::enums::RunConclusion;
use crate::db::listing::{Page, Sort};
use crate::db::{DbError, now};
use crate::queue::tasks::{Completion, Task, enqueue};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How long a run may be in progress when its bakery sets no limit.
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// How often each process sweeps.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Queues a timeout for every overdue run; returns how many were newly queued.
pub async fn sweep(db: &Database, registry: &BakeryRegistry) -> Result<usize, DbError> {
    let bakeries = db
        .list_bakeries(
            Sort::default(),
            Page {
                offset: 0,
                limit: 10_000,
            },
        )
        .await?;
    let mut queued = 0;
    for bakery in bakeries {
        let limit = registry
            .get(&bakery.name)
            .and_then(|config| config.timeout)
            .unwrap_or(DEFAULT_RUN_TIMEOUT);
        let Ok(limit_chrono) = chrono::Duration::from_std(limit) else {
            continue;
        };
        for run in db
            .runs_in_progress_since(bakery.id, now() - limit_chrono)
            .await?
        {
            let spec = db.feedstock(run.feedstock_id).await?.map(|f| f.spec);
            let hours = limit.as_secs_f64() / 3600.0;
            let task = Task::Complete(Completion {
                recipe_run_id: run.id,
                conclusion: RunConclusion::TimedOut,
                job_id: None,
                message: Some(format!(
                    "no completion was reported within {hours:.1} h of the start ({}): timed out",
                    run.started_at.to_rfc3339()
                )),
                logs: None,
                trace: Some(format!(
                    "The job did not report its end within {hours:.1} h (bakery `{}`).",
                    bakery.name
                )),
            });
            if let Recorded::Stored(_) =
                enqueue(db, format!("timeout-{}", run.id), spec, &task).await?
            {
                tracing::warn!(run = run.id, bakery = %bakery.name, "run timed out");
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Sweeps every [`SWEEP_INTERVAL`] until `stopped` turns true, waking the workers when a
/// sweep queued something.
pub async fn sweep_until_stopped(
    db: Database,
    registry: BakeryRegistry,
    wakeup: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    while !*stopped.borrow() {
        match sweep(&db, &registry).await {
            Ok(0) => {}
            Ok(_) => wakeup.notify_waiters(),
            Err(e) => tracing::warn!(error = %e, "the timeout sweep failed; trying again later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
            _ = stopped.changed() => {}
        }
    }
}
