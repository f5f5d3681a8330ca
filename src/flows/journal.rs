//! A flow's journal: the results of the steps already done for one delivery, kept in the
//! database, so that a retry after a failure half-way resumes where it stopped instead of
//! repeating a GitHub call that created something (a check run, a repository, a PR, a
//! deployment, a comment).

use super::FlowError;
use crate::db::Database;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::future::Future;

/// The journal of the delivery being processed.
pub struct Journal {
    db: Database,
    delivery_id: i32,
    entries: Map<String, Value>,
}

impl Journal {
    /// Opens the journal saved in `progress` (the delivery's column), or an empty one.
    pub fn open(db: Database, delivery_id: i32, progress: Option<&str>) -> Self {
        let entries = progress
            .and_then(|text| serde_json::from_str::<Map<String, Value>>(text).ok())
            .unwrap_or_default();
        Journal {
            db,
            delivery_id,
            entries,
        }
    }

    /// The recorded result of `step`, if it was done.
    pub fn get<T: DeserializeOwned>(&self, step: &str) -> Option<T> {
        self.entries
            .get(step)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Records `value` as the result of `step` (saved at once).
    pub async fn record<T: Serialize>(&mut self, step: &str, value: &T) -> Result<(), FlowError> {
        let value = serde_json::to_value(value)
            .map_err(|e| FlowError::fail(format!("journal entry {step}: {e}")))?;
        self.entries.insert(step.to_owned(), value);
        let text = Value::Object(self.entries.clone()).to_string();
        self.db
            .save_delivery_progress(self.delivery_id, &text)
            .await?;
        Ok(())
    }

    /// Runs `step` once: returns its recorded result when it was done before, otherwise
    /// runs it and records the result.
    pub async fn once<T, F, Fut>(&mut self, step: &str, run: F) -> Result<T, FlowError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, FlowError>>,
    {
        if let Some(done) = self.get::<T>(step) {
            return Ok(done);
        }
        let value = run().await?;
        self.record(step, &value).await?;
        Ok(value)
    }
}
