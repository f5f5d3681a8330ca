//! Re-running and cancelling runs (admin key required). The mutations change the database
//! and queue the rest — submission, the bakery's cancel command, reporting on GitHub — as
//! tasks for the workers, so they answer at once and nothing is lost if the server stops.

use super::auth::AdminGuard;
use super::error::{ApiError, OrGql, db};
use super::recipe_run::RecipeRun;
use crate::db::enums::{RunConclusion, RunStatus};
use crate::db::{Completed, RunCompletion};
use crate::flows::rerun::fresh_run;
use crate::queue::tasks::{Task, enqueue};
use async_graphql::{Context, ErrorExtensions, Object, Result};
use std::sync::Arc;
use tokio::sync::Notify;

/// The workers' wake-up signal, in the schema's data.
#[derive(Clone, Default)]
pub struct QueueSignal(pub Arc<Notify>);

/// Re-run and cancel.
#[derive(Default)]
pub struct RunControlMutation;

fn wake(ctx: &Context<'_>) {
    if let Some(QueueSignal(notify)) = ctx.data_opt::<QueueSignal>() {
        notify.notify_waiters();
    }
}

#[Object]
impl RunControlMutation {
    /// Creates a fresh run of the same recipe, commit and bakery as run `id` and queues its
    /// submission; returns the new run (`QUEUED` until a worker submits it).
    #[graphql(guard = "AdminGuard")]
    async fn rerun_recipe_run(&self, ctx: &Context<'_>, id: i32) -> Result<RecipeRun> {
        let db = db(ctx)?;
        let original = db
            .recipe_run(id)
            .await
            .or_gql()?
            .ok_or_else(|| ApiError::NotFound(format!("recipe run {id} not found")).extend())?;
        let run = fresh_run(db, &original).await.or_gql()?;
        let spec = db
            .feedstock(run.feedstock_id)
            .await
            .or_gql()?
            .map(|f| f.spec);
        let task = Task::Submit {
            recipe_run_id: run.id,
        };
        enqueue(db, format!("submit-{}", run.id), spec, &task)
            .await
            .or_gql()?;
        wake(ctx);
        Ok(RecipeRun::one(run))
    }

    /// Cancels a queued or running run: it is completed at once as `CANCELLED`; the
    /// bakery's cancel command (if it has one) and the report on GitHub follow from the
    /// queue. `CONFLICT` when the run has already completed.
    #[graphql(guard = "AdminGuard")]
    async fn cancel_recipe_run(&self, ctx: &Context<'_>, id: i32) -> Result<RecipeRun> {
        let db = db(ctx)?;
        let completion = RunCompletion {
            conclusion: RunConclusion::Cancelled,
            dataset_public_url: None,
            error_trace: Some("cancelled by an admin".into()),
            logs: None,
            job_id: None,
        };
        let run = match db.complete_recipe_run(id, completion).await.or_gql()? {
            Completed::Now(run) => run,
            Completed::Already(run) => {
                let conclusion = run
                    .conclusion
                    .and_then(|c| serde_json::to_value(c).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                return Err(ApiError::Conflict(format!(
                    "recipe run {id} has already completed ({conclusion}): there is nothing to cancel"
                ))
                .extend());
            }
        };
        debug_assert_eq!(run.status, RunStatus::Completed);
        let spec = db
            .feedstock(run.feedstock_id)
            .await
            .or_gql()?
            .map(|f| f.spec);
        enqueue(
            db,
            format!("cancel-{id}"),
            spec,
            &Task::Cancel { recipe_run_id: id },
        )
        .await
        .or_gql()?;
        wake(ctx);
        Ok(RecipeRun::one(run))
    }
}
