//! The end of a run's life: completing it exactly once (whoever reports first wins), its
//! logs, and the runs a timeout sweep must end.

use super::entities::recipe_run;
use super::enums::{DatasetType, RunConclusion, RunStatus};
use super::recipe_runs::sync_dataset;
use super::{Database, DbError, now};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunCompletion {
    pub conclusion: RunConclusion,
    /// The dataset's public URL (a successful run whose bakery has public storage).
    pub dataset_public_url: Option<String>,
    /// What failed, when it failed.
    pub error_trace: Option<String>,
    /// Replaces the run's logs when given.
    pub logs: Option<String>,
    /// The bakery's job id, when the completion names it.
    pub job_id: Option<String>,
}

/// Which runs a subscriber follows (all when every field is `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunScope {
    pub id: Option<i32>,
    pub feedstock_id: Option<i32>,
    pub bakery_id: Option<i32>,
}

impl RunScope {
    /// Whether `run` is one of them.
    pub fn contains(&self, run: &recipe_run::Model) -> bool {
        self.id.is_none_or(|id| id == run.id)
            && self.feedstock_id.is_none_or(|id| id == run.feedstock_id)
            && self.bakery_id.is_none_or(|id| id == run.bakery_id)
    }
}

/// What completing a run did.
#[derive(Debug, Clone)]
pub enum Completed {
    /// This call completed it.
    Now(recipe_run::Model),
    /// It was already completed (by an earlier report, a timeout or a cancel): unchanged.
    Already(recipe_run::Model),
}

/// The most logs kept per run; older output is dropped first.
pub const MAX_LOG_BYTES: usize = 64 * 1024;

/// The end of `text`, at most [`MAX_LOG_BYTES`] long, cut at a character boundary.
pub fn log_tail(text: &str) -> String {
    if text.len() <= MAX_LOG_BYTES {
        return text.to_owned();
    }
    let mut start = text.len() - MAX_LOG_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[… earlier output dropped]\n{}", &text[start..])
}

impl Database {
    /// Completes run `id` unless it is completed already. One conditional UPDATE decides,
    /// so of two concurrent completions (two replicas, a report racing a timeout) exactly
    /// one wins; the dataset row follows in the same transaction.
    pub async fn complete_recipe_run(
        &self,
        id: i32,
        completion: RunCompletion,
    ) -> Result<Completed, DbError> {
        use recipe_run::Column as C;
        let txn = self.conn.begin().await?;
        let at = now();
        let success = completion.conclusion == RunConclusion::Success;
        let mut update = recipe_run::Entity::update_many()
            .col_expr(C::Status, Expr::value(RunStatus::Completed))
            .col_expr(C::Conclusion, Expr::value(Some(completion.conclusion)))
            .col_expr(C::CompletedAt, Expr::value(Some(at)))
            .col_expr(C::UpdatedAt, Expr::value(at));
        if success && completion.dataset_public_url.is_some() {
            update = update
                .col_expr(C::DatasetType, Expr::value(Some(DatasetType::Zarr)))
                .col_expr(
                    C::DatasetPublicUrl,
                    Expr::value(completion.dataset_public_url),
                );
        }
        if let Some(trace) = completion.error_trace {
            update = update.col_expr(C::ErrorTrace, Expr::value(Some(trace)));
        }
        if let Some(logs) = completion.logs {
            update = update.col_expr(C::Logs, Expr::value(Some(log_tail(&logs))));
        }
        if let Some(job_id) = completion.job_id {
            update = update.col_expr(C::JobId, Expr::value(Some(job_id)));
        }
        let result = update
            .filter(C::Id.eq(id))
            .filter(C::Status.ne(RunStatus::Completed))
            .exec(&txn)
            .await?;
        let run = recipe_run::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("recipe run {id} not found")))?;
        if result.rows_affected == 0 {
            txn.commit().await?;
            return Ok(Completed::Already(run));
        }
        let dataset_created = sync_dataset(&txn, &run).await?;
        txn.commit().await?;
        self.changes.run_changed(self, &run, dataset_created).await;
        Ok(Completed::Now(run))
    }

    /// Runs changed at or after `since` (oldest change first, at most `limit`), optionally only
    /// run `id` or the runs of a feedstock or bakery: what a subscriber missed.
    pub async fn runs_changed_since(
        &self,
        scope: RunScope,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<recipe_run::Model>, DbError> {
        use recipe_run::Column as C;
        use sea_orm::{QueryOrder, QuerySelect};
        let mut query = recipe_run::Entity::find().filter(C::UpdatedAt.gte(since));
        if let Some(id) = scope.id {
            query = query.filter(C::Id.eq(id));
        }
        if let Some(id) = scope.feedstock_id {
            query = query.filter(C::FeedstockId.eq(id));
        }
        if let Some(id) = scope.bakery_id {
            query = query.filter(C::BakeryId.eq(id));
        }
        Ok(query
            .order_by_asc(C::UpdatedAt)
            .order_by_asc(C::Id)
            .limit(limit)
            .all(&self.conn)
            .await?)
    }

    /// Runs `in_progress` since before `started_before` on bakery `bakery_id`.
    pub async fn runs_in_progress_since(
        &self,
        bakery_id: i32,
        started_before: DateTime<Utc>,
    ) -> Result<Vec<recipe_run::Model>, DbError> {
        use recipe_run::Column as C;
        Ok(recipe_run::Entity::find()
            .filter(C::BakeryId.eq(bakery_id))
            .filter(C::Status.eq(RunStatus::InProgress))
            .filter(C::StartedAt.lt(started_before))
            .all(&self.conn)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_keep_their_end() {
        assert_eq!(log_tail("short"), "short");
        let long = format!("{}END", "é".repeat(MAX_LOG_BYTES));
        let tail = log_tail(&long);
        assert!(tail.ends_with("END"));
        assert!(tail.starts_with("[… earlier output dropped]"));
        assert!(tail.len() <= MAX_LOG_BYTES + 40);
    }
}
