//! Submitting a recipe run to its bakery through the runner, and recording the result on
//! the run: `submitted` → in progress with the job's name and id; `failed` → completed as a
//! failure with the trace; a local bakery's exit → completed with its exit status.

use super::FlowError;
use crate::bakery::config::BakeryConfig;
use crate::bakery::naming::{dataset_public_url, encode_job_name, hooks_url, storage_subpath};
use crate::bakery::runner::{RunnerOutcome, RunnerRequest, submit};
use crate::config::AppSettings;
use crate::db::entities::recipe_run;
use crate::db::enums::{DatasetType, RunConclusion, RunStatus};
use crate::db::{Database, RecipeRunPatch, now};

/// One run to submit.
pub struct Submission<'a> {
    pub run: &'a recipe_run::Model,
    /// `owner/name` of the run's feedstock (names its storage path).
    pub feedstock_spec: &'a str,
    /// The repository the runner clones (`--repo`).
    pub repo_url: &'a str,
    /// `--feedstock-subdir`: `recipes/<name>` on staged-recipes.
    pub feedstock_subdir: Option<String>,
    pub bakery: &'a BakeryConfig,
}

/// How a submission ended, as the flows report it.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Running remotely.
    Running { job_id: String },
    /// A local bakery ran it to the end.
    Finished { success: bool },
    /// Nothing runs; `message` says why.
    Failed { message: String },
}

/// Runs the runner for `sub` and records the outcome on the run. A test run is pruned.
pub async fn submit_run(
    db: &Database,
    app: &AppSettings,
    sub: Submission<'_>,
) -> Result<(recipe_run::Model, Submitted), FlowError> {
    let run = sub.run;
    let job_name = encode_job_name(&hooks_url(&app.public_url), run.id)
        .map_err(|e| FlowError::fail(format!("cannot name the job: {e}")))?;
    let subpath = storage_subpath(
        &app.app_name,
        sub.feedstock_spec,
        run.id,
        &run.recipe_id,
        run.is_test,
    );
    let request = RunnerRequest {
        command: app.runner_command.clone(),
        repo_url: sub.repo_url.to_owned(),
        git_ref: run.head_sha.clone(),
        recipe_id: run.recipe_id.clone(),
        feedstock_subdir: sub.feedstock_subdir,
        prune: run.is_test,
        job_name: Some(job_name),
        subpath: Some(subpath.clone()),
        config: sub.bakery,
        timeout: app.runner_timeout,
    };
    tracing::info!(run = run.id, recipe = %run.recipe_id, bakery = %sub.bakery.name, "submitting");
    let outcome = submit(&request).await;
    let at = now();
    let (patch, submitted) = match outcome {
        RunnerOutcome::Submitted {
            job_name, job_id, ..
        } => (
            RecipeRunPatch {
                status: Some(RunStatus::InProgress),
                started_at: Some(at),
                job_name: Some(Some(job_name)),
                job_id: Some(Some(job_id.clone())),
                ..Default::default()
            },
            Submitted::Running { job_id },
        ),
        RunnerOutcome::Finished { success, .. } => (
            RecipeRunPatch {
                status: Some(RunStatus::Completed),
                completed_at: Some(Some(at)),
                conclusion: Some(Some(if success {
                    RunConclusion::Success
                } else {
                    RunConclusion::Failure
                })),
                dataset_type: success.then_some(Some(DatasetType::Zarr)),
                dataset_public_url: success
                    .then(|| dataset_public_url(sub.bakery, &subpath))
                    .flatten()
                    .map(Some),
                ..Default::default()
            },
            Submitted::Finished { success },
        ),
        RunnerOutcome::Failed { message, trace, .. } => {
            tracing::warn!(run = run.id, %message, "submission failed");
            (
                RecipeRunPatch {
                    status: Some(RunStatus::Completed),
                    completed_at: Some(Some(at)),
                    conclusion: Some(Some(RunConclusion::Failure)),
                    error_trace: Some(Some(trace.unwrap_or_else(|| message.clone()))),
                    ..Default::default()
                },
                Submitted::Failed { message },
            )
        }
    };
    let updated = db.update_recipe_run(run.id, patch).await?;
    Ok((updated, submitted))
}
