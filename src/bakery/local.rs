//! Local bakery jobs (`LocalDirectBakery`): the runner runs the whole job inside its
//! process, so it runs in the background here — at most `max_concurrent_jobs` per bakery
//! (default [`DEFAULT_LOCAL_CONCURRENCY`]) — and its exit is queued as a completion task,
//! which the workers then record and report like any other. A job lost with its process
//! (a crash) leaves its run in progress until the timeout sweep ends it.

use crate::bakery::runner::{RunnerOutcome, RunnerRequest, submit};
use crate::db::Database;
use crate::db::enums::RunConclusion;
use crate::queue::tasks::{Completion, Task, enqueue};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// Local jobs one bakery runs at once unless its file says otherwise.
pub const DEFAULT_LOCAL_CONCURRENCY: usize = 2;

/// The local jobs of this process. Cheap to clone.
#[derive(Clone, Default)]
pub struct LocalJobs {
    slots: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    /// Woken when a job's completion is queued.
    wakeup: Arc<Notify>,
}

/// One job to run in the background.
pub struct LocalJob {
    pub run_id: i32,
    /// `owner/name` of the feedstock (files the completion under it).
    pub feedstock_spec: String,
    /// Tells this job's completion apart from an earlier run of the same run id.
    pub attempt_key: String,
    pub request: RunnerRequest,
}

impl LocalJobs {
    /// Local jobs whose completions wake `wakeup` (the workers' signal).
    pub fn new(wakeup: Arc<Notify>) -> Self {
        LocalJobs {
            slots: Arc::default(),
            wakeup,
        }
    }

    fn slots_for(&self, bakery: &str, limit: usize) -> Arc<Semaphore> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slots
            .entry(bakery.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(limit.max(1))))
            .clone()
    }

    /// Starts `job` in the background and returns at once.
    pub fn spawn(&self, db: Database, job: LocalJob) {
        let limit = job
            .request
            .config
            .max_concurrent_jobs
            .map(|n| n as usize)
            .unwrap_or(DEFAULT_LOCAL_CONCURRENCY);
        let slots = self.slots_for(&job.request.config.name, limit);
        let wakeup = self.wakeup.clone();
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            tracing::info!(run = job.run_id, bakery = %job.request.config.name, "local job started");
            let outcome = submit(&job.request).await;
            let completion = completion_of(job.run_id, outcome);
            queue_completion(&db, &job, completion, &wakeup).await;
        });
    }
}

fn completion_of(run_id: i32, outcome: RunnerOutcome) -> Completion {
    let (conclusion, trace, logs, message) = match outcome {
        RunnerOutcome::Finished { success: true, log } => (RunConclusion::Success, None, log, None),
        RunnerOutcome::Finished {
            success: false,
            log,
        } => (
            RunConclusion::Failure,
            None,
            log,
            Some("the local job exited unsuccessfully".to_owned()),
        ),
        RunnerOutcome::Submitted { log, job_id, .. } => (
            RunConclusion::Failure,
            None,
            log,
            Some(format!(
                "a local bakery reported job {job_id} as submitted elsewhere; nothing will report its end"
            )),
        ),
        RunnerOutcome::Failed {
            message,
            trace,
            log,
            ..
        } => (
            RunConclusion::Failure,
            Some(trace.unwrap_or_else(|| message.clone())),
            log,
            Some(message),
        ),
    };
    Completion {
        recipe_run_id: run_id,
        conclusion,
        job_id: None,
        message,
        logs: Some(logs),
        trace,
    }
}

/// Queues the completion, trying for a while if the database is away.
async fn queue_completion(db: &Database, job: &LocalJob, completion: Completion, wakeup: &Notify) {
    let guid = format!("local-{}-{}", job.run_id, job.attempt_key);
    let task = Task::Complete(completion);
    for attempt in 1..=10u32 {
        match enqueue(db, guid.clone(), Some(job.feedstock_spec.clone()), &task).await {
            Ok(_) => {
                wakeup.notify_waiters();
                return;
            }
            Err(e) => {
                tracing::warn!(run = job.run_id, attempt, error = %e, "cannot queue the local job's completion");
                tokio::time::sleep(Duration::from_secs(u64::from(attempt) * 2)).await;
            }
        }
    }
    tracing::error!(
        run = job.run_id,
        "the local job's completion was lost; the timeout sweep will end the run"
    );
}
