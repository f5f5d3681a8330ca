//! Re-runs and cancels: a fresh run of the same recipe, commit and bakery, submitted like
//! the first (the `rerunRecipeRun` mutation and `/rerun`), and the bakery's cancel command
//! for a run an admin cancelled (`cancelRecipeRun`), each reported on GitHub.

use super::recipe_source::{MetaSource, recipe_dirs};
use super::report::report_completion;
use super::submission::{Submission, Submitted, submit_run};
use super::{Doing, FlowContext, FlowError, Outcome, journal::Journal, messages};
use crate::db::entities::{feedstock, recipe_run};
use crate::db::enums::{RunConclusion, RunStatus};
use crate::db::{Database, DbError, NewRecipeRun, RecipeRunPatch, RunCompletion, log_tail};
use crate::github::Installation;
use crate::webhooks::payload::{RepoKind, repo_kind};
use std::time::Duration;

/// How long a bakery's cancel command may run.
pub const CANCEL_COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// A new queued run of the same recipe, commit, bakery and feedstock as `of`.
pub async fn fresh_run(
    db: &Database,
    of: &recipe_run::Model,
) -> Result<recipe_run::Model, DbError> {
    db.create_recipe_run(NewRecipeRun {
        version: of.version.clone(),
        ..NewRecipeRun::queued(
            of.recipe_id.clone(),
            of.bakery_id,
            of.feedstock_id,
            of.head_sha.clone(),
            of.is_test,
        )
    })
    .await
}

/// Where a run's recipe is: `source` (on staged-recipes, the recipe directory of the open
/// PR whose head is the run's commit) and the repository holding the commit (a test run's:
/// that PR's head repository, a fork for a PR from a fork; a production run's, or a
/// feedstock test run without an open PR: the feedstock itself).
struct RunSource {
    source: MetaSource,
    repo: String,
    url: String,
}

async fn run_source(
    gh: &Installation,
    spec: &str,
    run: &recipe_run::Model,
) -> Result<Result<RunSource, String>, FlowError> {
    let base = (spec.to_owned(), format!("https://github.com/{spec}"));
    let staged = repo_kind(spec) == Some(RepoKind::StagedRecipes);
    let at = |source: MetaSource, (repo, url): (String, String)| RunSource { source, repo, url };
    if !staged && !run.is_test {
        return Ok(Ok(at(MetaSource::feedstock(), base)));
    }
    let open = gh
        .open_pull_requests(spec)
        .await
        .doing("listing open pull requests")?;
    let pr = open.into_iter().find(|pr| pr.head_sha == run.head_sha);
    let holder = match &pr {
        Some(pr) if run.is_test => match &pr.head_repository {
            Some(head) => (head.full_name.clone(), head.html_url.clone()),
            None => {
                return Ok(Err(format!(
                    "the head repository of PR #{} was deleted",
                    pr.number
                )));
            }
        },
        _ => base,
    };
    if !staged {
        return Ok(Ok(at(MetaSource::feedstock(), holder)));
    }
    let Some(pr) = pr else {
        return Ok(Err(format!(
            "no open pull request of {spec} has head {}",
            run.head_sha
        )));
    };
    let files = gh
        .pull_request_files(spec, pr.number)
        .await
        .doing("listing the PR's files")?;
    Ok(match recipe_dirs(&files).as_slice() {
        [dir] => Ok(at(MetaSource::staged(dir), holder)),
        dirs => Err(format!(
            "PR #{} has {} recipe directories",
            pr.number,
            dirs.len()
        )),
    })
}

/// The `pfo.submit` task: submits queued run `id`, with a deployment for a production run.
pub async fn submit_queued(
    ctx: &FlowContext,
    journal: &mut Journal,
    id: i32,
) -> Result<Outcome, FlowError> {
    let run = ctx.recipe_run(id).await?;
    if run.status != RunStatus::Queued {
        return Ok(Outcome::Ignored(format!("run {id} is no longer queued")));
    }
    let feedstock = feedstock_of(&ctx.db, &run).await?;
    let github = ctx
        .github
        .as_ref()
        .ok_or_else(|| FlowError::fail("the GitHub App is not configured"))?;
    let gh = github
        .installation_for_repo(&feedstock.spec)
        .await
        .doing(format!("finding the installation of {}", feedstock.spec))?;
    let bakery_name = ctx
        .db
        .bakery(run.bakery_id)
        .await?
        .map(|b| b.name)
        .unwrap_or_default();
    let problem = match (
        ctx.bakeries.get(&bakery_name),
        run_source(&gh, &feedstock.spec, &run).await?,
    ) {
        (Some(bakery), Ok(at)) => {
            let run = with_deployment(ctx, &gh, journal, &feedstock, run).await?;
            let (run, submitted) = submit_run(
                ctx,
                Submission {
                    run: &run,
                    feedstock_spec: &feedstock.spec,
                    gh: &gh,
                    repo: &at.repo,
                    repo_url: &at.url,
                    source: at.source,
                    bakery: &bakery,
                },
            )
            .await?;
            return match submitted {
                Submitted::Running { job_id } => {
                    if !run.is_test {
                        report_completion(ctx, journal, &run, &feedstock).await?;
                    }
                    Ok(Outcome::Done(format!("submitted run {id} as job {job_id}")))
                }
                Submitted::Failed { message } => {
                    let reported = report_completion(ctx, journal, &run, &feedstock).await?;
                    Ok(Outcome::Done(format!(
                        "run {id} could not be submitted: {message}; {reported}"
                    )))
                }
            };
        }
        (None, _) => {
            format!("bakery `{bakery_name}` has no configuration file in PFO_BAKERIES_DIR")
        }
        (_, Err(problem)) => problem,
    };
    ctx.db
        .complete_recipe_run(
            id,
            RunCompletion {
                conclusion: RunConclusion::Failure,
                dataset_public_url: None,
                error_trace: Some(problem.clone()),
                logs: None,
                job_id: None,
            },
        )
        .await?;
    let run = ctx.db.recipe_run(id).await?.unwrap_or(run);
    let reported = report_completion(ctx, journal, &run, &feedstock).await?;
    Ok(Outcome::Done(format!(
        "run {id} could not be submitted: {problem}; {reported}"
    )))
}

/// A production run gets its GitHub deployment first (once).
async fn with_deployment(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    feedstock: &feedstock::Model,
    run: recipe_run::Model,
) -> Result<recipe_run::Model, FlowError> {
    if run.is_test || run.deployment_id.is_some() {
        return Ok(run);
    }
    let deployment_id: i64 = journal
        .once("deployment", || async {
            gh.create_deployment(
                &feedstock.spec,
                &run.head_sha,
                &run.recipe_id,
                &messages::deployment_description(&run.recipe_id),
            )
            .await
            .doing("creating the deployment")
        })
        .await?;
    let link = messages::run_page(&ctx.app.dashboard_url, run.id, feedstock.id);
    Ok(ctx
        .db
        .update_recipe_run(
            run.id,
            RecipeRunPatch {
                deployment_id: Some(Some(deployment_id)),
                environment_url: Some(Some(link)),
                ..Default::default()
            },
        )
        .await?)
}

/// The `pfo.cancel` task: runs the bakery's cancel command for cancelled run `id` (when it
/// has one and the run a job id), then reports the cancellation.
pub async fn cancel(
    ctx: &FlowContext,
    journal: &mut Journal,
    id: i32,
) -> Result<Outcome, FlowError> {
    let run = ctx.recipe_run(id).await?;
    let feedstock = feedstock_of(&ctx.db, &run).await?;
    let bakery = match ctx.db.bakery(run.bakery_id).await? {
        Some(row) => ctx.bakeries.get(&row.name),
        None => None,
    };
    let command_note: String = match (bakery, &run.job_id) {
        (Some(bakery), Some(job_id)) => match bakery.cancel_command() {
            Some(command) => {
                journal
                    .once("cancel_command", || async {
                        let note = run_cancel_command(&command, job_id, &bakery).await;
                        let logs = format!(
                            "{}\n[cancel] {note}",
                            run.logs.as_deref().unwrap_or_default()
                        );
                        ctx.db
                            .update_recipe_run(
                                id,
                                RecipeRunPatch {
                                    logs: Some(Some(log_tail(logs.trim_start()))),
                                    ..Default::default()
                                },
                            )
                            .await?;
                        Ok(note)
                    })
                    .await?
            }
            None => "the bakery has no cancel command".into(),
        },
        (None, _) => "the bakery has no configuration file".into(),
        (_, None) => "the run had no job to cancel".into(),
    };
    let run = ctx.db.recipe_run(id).await?.unwrap_or(run);
    let reported = report_completion(ctx, journal, &run, &feedstock).await?;
    Ok(Outcome::Done(format!(
        "run {id} cancelled: {command_note}; {reported}"
    )))
}

async fn feedstock_of(
    db: &Database,
    run: &recipe_run::Model,
) -> Result<feedstock::Model, FlowError> {
    db.feedstock(run.feedstock_id)
        .await?
        .ok_or_else(|| FlowError::fail(format!("run {} names a missing feedstock", run.id)))
}

/// Runs `command job_id`; what happened, in one line (secrets masked).
async fn run_cancel_command(
    command: &[String],
    job_id: &str,
    bakery: &crate::bakery::config::BakeryConfig,
) -> String {
    let Some((program, args)) = command.split_first() else {
        return "the cancel command is empty".into();
    };
    let mut child = tokio::process::Command::new(program);
    child.args(args).arg(job_id).kill_on_drop(true);
    let outcome = tokio::time::timeout(CANCEL_COMMAND_TIMEOUT, child.output()).await;
    let note = match outcome {
        Err(_) => format!("`{program}` did not finish within {CANCEL_COMMAND_TIMEOUT:?}"),
        Ok(Err(e)) => format!("`{program}` could not be started: {e}"),
        Ok(Ok(output)) => {
            let text = String::from_utf8_lossy(&output.stdout).trim().to_owned()
                + &String::from_utf8_lossy(&output.stderr);
            format!(
                "`{program}` for job {job_id} exited with {}: {}",
                output.status,
                text.trim().chars().take(500).collect::<String>()
            )
        }
    };
    bakery.secrets.mask(&note)
}
