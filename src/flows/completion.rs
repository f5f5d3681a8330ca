//! *completion*: a run ended (a bakery monitor's status report, a local job's exit, a
//! timeout). The first report to arrive completes the run — conclusion, `completedAt`, the
//! dataset on success, the logs — and is reported on GitHub; any later report for the same
//! run changes nothing and posts nothing.

use super::report::report_completion;
use super::{FlowContext, FlowError, Outcome, journal::Journal};
use crate::bakery::naming::{dataset_public_url, storage_subpath};
use crate::db::enums::RunConclusion;
use crate::db::{Completed, RunCompletion};
use crate::queue::tasks::Completion;

/// Completes and reports one run.
pub async fn complete(
    ctx: &FlowContext,
    journal: &mut Journal,
    completion: &Completion,
) -> Result<Outcome, FlowError> {
    let id = completion.recipe_run_id;
    let run = ctx.recipe_run(id).await?;
    let feedstock = ctx
        .db
        .feedstock(run.feedstock_id)
        .await?
        .ok_or_else(|| FlowError::fail(format!("run {id} names a missing feedstock")))?;

    let completed_here: bool = match journal.get("completed") {
        Some(done) => done,
        None => {
            let success = completion.conclusion == RunConclusion::Success;
            let config = match ctx.db.bakery(run.bakery_id).await? {
                Some(bakery) => ctx.bakeries.get(&bakery.name),
                None => None,
            };
            let dataset_url = config.as_ref().filter(|_| success).and_then(|config| {
                let subpath = storage_subpath(
                    &ctx.app.app_name,
                    &feedstock.spec,
                    run.id,
                    &run.recipe_id,
                    run.is_test,
                );
                dataset_public_url(config, &subpath)
            });
            // What the monitor says is masked like the runner's own output.
            let mask = |text: String| match &config {
                Some(config) => config.secrets.mask(&text),
                None => ctx.secrets.mask(&text),
            };
            let logs = merged_logs(run.logs.as_deref(), completion).map(mask);
            let result = ctx
                .db
                .complete_recipe_run(
                    id,
                    RunCompletion {
                        conclusion: completion.conclusion,
                        dataset_public_url: dataset_url,
                        error_trace: completion.trace.clone().map(mask),
                        logs,
                        job_id: completion.job_id.clone(),
                    },
                )
                .await?;
            let now = matches!(result, Completed::Now(_));
            journal.record("completed", &now).await?;
            now
        }
    };
    if !completed_here {
        return Ok(Outcome::Ignored(format!(
            "run {id} was already completed: nothing changed, nothing reported"
        )));
    }
    let run = ctx.recipe_run(id).await?;
    let reported = report_completion(ctx, journal, &run, &feedstock).await?;
    Ok(Outcome::Done(format!(
        "run {id} completed ({}); {reported}",
        super::messages::ended_how(completion.conclusion)
    )))
}

/// The run's logs with what this completion adds: the job's output, then its note.
fn merged_logs(existing: Option<&str>, completion: &Completion) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(existing) = existing.filter(|l| !l.is_empty()) {
        parts.push(existing);
    }
    if let Some(logs) = completion.logs.as_deref().filter(|l| !l.is_empty()) {
        parts.push(logs);
    }
    let note;
    if let Some(message) = completion.message.as_deref() {
        note = format!("[status] {message}");
        parts.push(&note);
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}
