//! The server's own work, queued in the same durable queue as webhook deliveries (events
//! named `pfo.*`, which are refused from outside): a run to complete (a local job ended, a
//! timeout), a run to submit (a re-run), a run to cancel. Going through the queue gives them
//! the same guarantees as webhooks: nothing is lost on a crash, nothing is done twice (each
//! task has a GUID that says what it is about), failures that may pass are retried.

use crate::db::enums::{DeliveryState, RunConclusion};
use crate::db::{Database, DbError, NewDelivery, Recorded};
use serde::{Deserialize, Serialize};

/// A run's end, from wherever it was learnt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub recipe_run_id: i32,
    pub conclusion: RunConclusion,
    /// The bakery's job id, when known.
    pub job_id: Option<String>,
    /// A note to append to the run's logs (the monitor's message, why it timed out).
    pub message: Option<String>,
    /// The job's own output (a local job), masked already.
    pub logs: Option<String>,
    /// What failed.
    pub trace: Option<String>,
}

/// A piece of the server's own work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// Record a run's end and report it.
    Complete(Completion),
    /// Submit a queued run (a re-run).
    Submit { recipe_run_id: i32 },
    /// Run the bakery's cancel command for a cancelled run and report it.
    Cancel { recipe_run_id: i32 },
}

#[derive(Serialize, Deserialize)]
struct RunRef {
    recipe_run_id: i32,
}

const COMPLETE: &str = "pfo.complete";
const SUBMIT: &str = "pfo.submit";
const CANCEL: &str = "pfo.cancel";

impl Task {
    fn event(&self) -> &'static str {
        match self {
            Task::Complete(_) => COMPLETE,
            Task::Submit { .. } => SUBMIT,
            Task::Cancel { .. } => CANCEL,
        }
    }

    fn payload(&self) -> Result<String, serde_json::Error> {
        match self {
            Task::Complete(completion) => serde_json::to_string(completion),
            Task::Submit { recipe_run_id } | Task::Cancel { recipe_run_id } => {
                serde_json::to_string(&RunRef {
                    recipe_run_id: *recipe_run_id,
                })
            }
        }
    }

    /// Reads a queued task back; `Ok(None)` when `event` is not a task.
    pub fn parse(event: &str, payload: &str) -> Result<Option<Task>, String> {
        let bad = |e: serde_json::Error| format!("the {event} task cannot be read: {e}");
        Ok(Some(match event {
            COMPLETE => Task::Complete(serde_json::from_str(payload).map_err(bad)?),
            SUBMIT => Task::Submit {
                recipe_run_id: serde_json::from_str::<RunRef>(payload)
                    .map_err(bad)?
                    .recipe_run_id,
            },
            CANCEL => Task::Cancel {
                recipe_run_id: serde_json::from_str::<RunRef>(payload)
                    .map_err(bad)?
                    .recipe_run_id,
            },
            _ => return Ok(None),
        }))
    }
}

/// Queues `task` under `guid` (a second task with the same GUID is the same task: not
/// queued twice). `repository` files it under its feedstock in `webhookDeliveries`.
pub async fn enqueue(
    db: &Database,
    guid: String,
    repository: Option<String>,
    task: &Task,
) -> Result<Recorded, DbError> {
    let payload = task
        .payload()
        .map_err(|e| DbError::Invalid(format!("task cannot be written: {e}")))?;
    db.record_delivery(NewDelivery {
        guid,
        event: task.event().to_owned(),
        action: None,
        repository,
        installation_id: None,
        payload,
        state: DeliveryState::Queued,
        last_error: None,
        note: None,
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_read_back_as_written() {
        let tasks = [
            Task::Complete(Completion {
                recipe_run_id: 3,
                conclusion: RunConclusion::TimedOut,
                job_id: None,
                message: Some("no report within 24 h".into()),
                logs: None,
                trace: None,
            }),
            Task::Submit { recipe_run_id: 4 },
            Task::Cancel { recipe_run_id: 5 },
        ];
        for task in tasks {
            let payload = task.payload().expect("payload");
            assert_eq!(Task::parse(task.event(), &payload), Ok(Some(task.clone())));
        }
        assert_eq!(Task::parse("pull_request", "{}"), Ok(None));
        assert!(Task::parse(COMPLETE, "{}").is_err());
    }
}
