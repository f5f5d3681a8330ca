//! Submitting a recipe run to its bakery through the runner, and recording the result on
//! the run: `submitted` → in progress with the job's name and id; `failed` → completed as a
//! failure with the trace. A local bakery's job runs in the background
//! ([`crate::bakery::local`]): the run is in progress until its exit is queued as a completion.
//! The runner's output (secrets masked) becomes the run's logs.

use super::recipe_source::{MetaSource, runner_repo};
use super::{FlowContext, FlowError};
use crate::bakery::config::BakeryConfig;
use crate::bakery::local::LocalJob;
use crate::bakery::naming::{encode_job_name, hooks_url, storage_subpath};
use crate::bakery::runner::{RunnerOutcome, RunnerRequest, submit};
use crate::db::entities::recipe_run;
use crate::db::enums::{RunConclusion, RunStatus};
use crate::db::{RecipeRunPatch, log_tail, now};
use crate::github::Installation;
use std::sync::Arc;

/// One run to submit.
pub struct Submission<'a> {
    pub run: &'a recipe_run::Model,
    /// `owner/name` of the run's feedstock (names its storage path).
    pub feedstock_spec: &'a str,
    /// Reads the recipe's meta.yaml (and copies the recipe when the runner needs it
    /// rewritten, see [`runner_repo`]).
    pub gh: &'a Installation,
    /// The repository that holds the run's commit, `owner/name`: a fork, for a test run of
    /// a PR from a fork.
    pub repo: &'a str,
    /// Its URL, which the runner clones (`--repo`).
    pub repo_url: &'a str,
    /// Where the recipe is in it (`--feedstock-subdir`: `recipes/<name>` on staged-recipes).
    pub source: MetaSource,
    pub bakery: &'a Arc<BakeryConfig>,
}

/// How a submission ended, as the flows report it.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Running: remotely (`job_id` from the bakery), or locally in the background.
    Running { job_id: String },
    /// Nothing runs; `message` says why.
    Failed { message: String },
}

/// Runs the runner for `sub` and records the outcome on the run. A test run is pruned.
pub async fn submit_run(
    ctx: &FlowContext,
    sub: Submission<'_>,
) -> Result<(recipe_run::Model, Submitted), FlowError> {
    let run = sub.run;
    tracing::Span::current().record("run", run.id);
    let app = &ctx.app;
    let job_name = encode_job_name(&hooks_url(&app.public_url), run.id)
        .map_err(|e| FlowError::fail(format!("cannot name the job: {e}")))?;
    let subpath = storage_subpath(
        &app.app_name,
        sub.feedstock_spec,
        run.id,
        &run.recipe_id,
        run.is_test,
    );
    let local = sub.bakery.is_local();
    let repo = match runner_repo(sub.gh, sub.repo, sub.repo_url, &sub.source, &run.head_sha).await?
    {
        Ok(repo) => repo,
        Err(output) => {
            let message = output.summary;
            tracing::warn!(run = run.id, %message, "the recipe could not be copied for the runner");
            let patch = failed_patch(now(), message.clone(), None);
            let updated = ctx.db.update_recipe_run(run.id, patch).await?;
            return Ok((updated, Submitted::Failed { message }));
        }
    };
    let request = RunnerRequest {
        command: app.runner_command.clone(),
        repo_url: repo.url,
        checkout: repo
            .checkout
            .map(|copy| copy as Arc<dyn std::any::Any + Send + Sync>),
        git_ref: run.head_sha.clone(),
        recipe_id: run.recipe_id.clone(),
        feedstock_subdir: sub.source.feedstock_subdir,
        prune: run.is_test,
        job_name: Some(job_name.clone()),
        subpath: Some(subpath),
        config: sub.bakery.clone(),
        // A local bake runs to the end (the bakery may allow longer); a remote runner only
        // submits.
        timeout: if local {
            sub.bakery.timeout.unwrap_or(app.runner_timeout)
        } else {
            app.runner_timeout
        },
    };
    let started = now();
    if local {
        let job = LocalJob {
            run_id: run.id,
            feedstock_spec: sub.feedstock_spec.to_owned(),
            attempt_key: started.timestamp_micros().to_string(),
            request,
        };
        let updated = ctx
            .db
            .update_recipe_run(
                run.id,
                RecipeRunPatch {
                    status: Some(RunStatus::InProgress),
                    started_at: Some(started),
                    job_name: Some(Some(job_name)),
                    ..Default::default()
                },
            )
            .await?;
        ctx.local_jobs.spawn(ctx.db.clone(), job);
        let job_id = format!("local-{}", run.id);
        return Ok((updated, Submitted::Running { job_id }));
    }

    tracing::info!(run = run.id, recipe = %run.recipe_id, bakery = %sub.bakery.name, "submitting");
    let outcome = submit(&request).await;
    let at = now();
    let logs = Some(Some(log_tail(outcome.log())));
    let (patch, submitted) = match outcome {
        RunnerOutcome::Submitted {
            job_name, job_id, ..
        } => (
            RecipeRunPatch {
                status: Some(RunStatus::InProgress),
                started_at: Some(at),
                job_name: Some(Some(job_name)),
                job_id: Some(Some(job_id.clone())),
                logs,
                ..Default::default()
            },
            Submitted::Running { job_id },
        ),
        RunnerOutcome::Finished { success, .. } => {
            // Only a local bakery runs jobs to the end; a remote one exiting without
            // `submitted` has submitted nothing.
            let message = format!(
                "the runner exited ({}) without reporting a submitted job",
                if success {
                    "successfully"
                } else {
                    "unsuccessfully"
                }
            );
            (
                failed_patch(at, message.clone(), logs),
                Submitted::Failed { message },
            )
        }
        RunnerOutcome::Failed { message, trace, .. } => {
            tracing::warn!(run = run.id, %message, "submission failed");
            let mut patch = failed_patch(at, message.clone(), logs);
            if let Some(trace) = trace {
                patch.error_trace = Some(Some(trace));
            }
            (patch, Submitted::Failed { message })
        }
    };
    let updated = ctx.db.update_recipe_run(run.id, patch).await?;
    Ok((updated, submitted))
}

fn failed_patch(
    at: chrono::DateTime<chrono::Utc>,
    message: String,
    logs: Option<Option<String>>,
) -> RecipeRunPatch {
    RecipeRunPatch {
        status: Some(RunStatus::Completed),
        completed_at: Some(Some(at)),
        conclusion: Some(Some(RunConclusion::Failure)),
        error_trace: Some(Some(message)),
        logs,
        ..Default::default()
    }
}
