//! *merged feedstock PR* → production runs. When every file the merged PR changed is under
//! `feedstock/`, read meta.yaml at the merge commit (expanding `dict_object`s with the
//! runner) and, for each recipe: create a GitHub
//! deployment (ref = base branch, environment = recipe id), a recipe run (`is_test = false`)
//! and submit the job (no prune); then post the deployment status `in_progress` with the
//! run's dashboard page, or `failure` when submission failed. Each step is journaled per
//! recipe, so a retry never creates a second deployment or run.

use super::recipe_source::{MetaSource, read_meta, recipe_entries};
use super::submission::{Submission, Submitted, submit_run};
use super::{Doing, FlowContext, FlowError, Outcome, journal::Journal, messages};
use crate::db::entities::recipe_run;
use crate::db::enums::RunStatus;
use crate::db::{NewRecipeRun, RecipeRunPatch};
use crate::github::Installation;
use crate::meta::RecipeEntry;
use crate::webhooks::payload::PullRequestEvent;

/// Runs the flow for a merged feedstock PR.
pub async fn production_runs(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    pr: &PullRequestEvent,
) -> Result<Outcome, FlowError> {
    let repo = &pr.repository;
    let files = gh
        .pull_request_files(&repo.full_name, pr.number)
        .await
        .doing("listing the merged PR's files")?;
    if files.is_empty() || !files.iter().all(|f| f.starts_with("feedstock/")) {
        return Ok(Outcome::Ignored(
            "the merged PR changes files outside feedstock/: no production run".into(),
        ));
    }
    let sha = pr
        .merge_commit_sha
        .clone()
        .ok_or_else(|| FlowError::fail("the merged PR has no merge_commit_sha"))?;
    let source = MetaSource::feedstock();
    let meta = match read_meta(gh, &repo.full_name, &source, &sha).await? {
        Ok(meta) => meta,
        Err(problem) => return tell(gh, journal, pr, &problem.summary).await,
    };
    let feedstock = ctx.db.feedstock_by_spec(&repo.full_name).await?;
    let bakery_row = ctx.db.bakery_by_name(&meta.bakery_id).await?;
    let bakery = ctx.bakeries.get(&meta.bakery_id);
    let (Some(feedstock), Some(bakery_row), Some(bakery)) = (feedstock, bakery_row, bakery) else {
        let problem = format!(
            "feedstock `{}` and bakery `{}` must both be registered, and the bakery configured \
             in PFO_BAKERIES_DIR",
            repo.full_name, meta.bakery_id
        );
        return tell(gh, journal, pr, &problem).await;
    };

    // The expansion of `dict_object`s runs the recipe module: once per delivery.
    let recipes: Vec<RecipeEntry> = match journal.get("recipes") {
        Some(recipes) => recipes,
        None => match recipe_entries(ctx, gh, &repo.full_name, &source, &sha, &meta, &[]).await? {
            Ok(recipes) => {
                journal.record("recipes", &recipes).await?;
                recipes
            }
            Err(problem) => return tell(gh, journal, pr, &problem.summary).await,
        },
    };
    let mut notes = Vec::new();
    for recipe in &recipes {
        let step = |what: &str| format!("{what}:{}", recipe.id);
        let deployment_id: i64 = journal
            .once(&step("deployment"), || async {
                gh.create_deployment(
                    &repo.full_name,
                    &pr.base_ref,
                    &recipe.id,
                    &messages::deployment_description(&recipe.id),
                )
                .await
                .doing(format!("creating the deployment of {}", recipe.id))
            })
            .await?;
        let run_id: i32 = journal
            .once(&step("run"), || async {
                let run = ctx
                    .db
                    .create_recipe_run(NewRecipeRun {
                        deployment_id: Some(deployment_id),
                        ..NewRecipeRun::queued(
                            recipe.id.clone(),
                            bakery_row.id,
                            feedstock.id,
                            sha.clone(),
                            false,
                        )
                    })
                    .await?;
                Ok(run.id)
            })
            .await?;
        let link = messages::run_page(&ctx.app.dashboard_url, run_id, feedstock.id);
        let run = ctx
            .db
            .update_recipe_run(
                run_id,
                RecipeRunPatch {
                    environment_url: Some(Some(link.clone())),
                    ..Default::default()
                },
            )
            .await?;
        let state: String = match journal.get::<String>(&step("submitted")) {
            Some(state) => state,
            // Submitted before a crash that came before the journal entry: not again.
            None if run.status != RunStatus::Queued => {
                super::report::deployment_state(run.conclusion).to_owned()
            }
            None => {
                let state = submit(ctx, gh, &run, &feedstock.spec, repo, &bakery).await?;
                journal.record(&step("submitted"), &state).await?;
                state
            }
        };
        journal
            .once(&step("status"), || async {
                gh.create_deployment_status(
                    &repo.full_name,
                    deployment_id,
                    &state,
                    Some(&link),
                    &messages::deployment_description(&recipe.id),
                )
                .await
                .doing(format!("posting the deployment status of {}", recipe.id))
            })
            .await?;
        notes.push(format!("{} → run {run_id} ({state})", recipe.id));
    }
    Ok(Outcome::Done(format!(
        "production runs: {}",
        notes.join(", ")
    )))
}

/// Submits a production run; the deployment state it leads to.
async fn submit(
    ctx: &FlowContext,
    gh: &Installation,
    run: &recipe_run::Model,
    spec: &str,
    repo: &crate::webhooks::payload::Repository,
    bakery: &std::sync::Arc<crate::bakery::config::BakeryConfig>,
) -> Result<String, FlowError> {
    let (_, submitted) = submit_run(
        ctx,
        Submission {
            run,
            feedstock_spec: spec,
            gh,
            repo: &repo.full_name,
            repo_url: &repo.html_url,
            source: MetaSource::feedstock(),
            bakery,
        },
    )
    .await?;
    Ok(match submitted {
        Submitted::Running { .. } => "in_progress",
        Submitted::Failed { .. } => "failure",
    }
    .to_owned())
}

/// Tells the PR why production runs could not start.
async fn tell(
    gh: &Installation,
    journal: &mut Journal,
    pr: &PullRequestEvent,
    problem: &str,
) -> Result<Outcome, FlowError> {
    journal
        .once("comment", || async {
            gh.comment_on_issue(
                &pr.repository.full_name,
                pr.number,
                &messages::production_meta_problem(problem),
            )
            .await
            .doing("commenting on the merged PR")
        })
        .await
        .map(|_: u64| ())?;
    Ok(Outcome::Done(format!("no production run: {problem}")))
}
