//! *synchronize*: on `pull_request` opened / reopened / synchronize in a feedstock or
//! staged-recipes repository, read the PR's `meta.yaml` at its head commit, and queue one
//! test recipe run per recipe (per key of a `dict_object`, expanded by the runner),
//! reporting through a `synchronize` check run. The head commit
//! is read where it lives: the contributor's fork for a PR from a fork. A contributor's
//! mistake (no or broken meta.yaml, an unknown bakery) ends the check run as `failure` with
//! a summary saying what to fix; the delivery itself is then `done`.

use super::messages::{self, CheckOutput, meta_problems};
use super::recipe_source;
use super::{Doing, FlowContext, FlowError, Outcome, journal::Journal};
use crate::db::NewRecipeRun;
use crate::github::{Annotation, Installation, MAX_ANNOTATIONS_PER_REQUEST, NewCheckRun};
use crate::meta::lint::{self, Problem, ProblemKind};
use crate::meta::tree::Pos;
use crate::webhooks::payload::{PullRequestEvent, RepoKind};

/// Runs the flow for one pull request event.
pub async fn synchronize(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    delivery_guid: &str,
    pr: &PullRequestEvent,
    kind: RepoKind,
) -> Result<Outcome, FlowError> {
    let repo = pr.repository.full_name.as_str();
    // "Details" opens the feedstock's dashboard page (the dashboard itself before the
    // feedstock is registered), as the original's check runs did.
    let details_url = match ctx.db.feedstock_by_spec(repo).await? {
        Some(feedstock) => messages::feedstock_page(&ctx.app.dashboard_url, feedstock.id),
        None => ctx.app.dashboard_url.clone(),
    };
    let check_run_id: u64 = journal
        .once("check_run", || async {
            let started = messages::check_started(&pr.head_sha);
            gh.create_check_run(
                repo,
                &NewCheckRun {
                    name: messages::CHECK_RUN_NAME.into(),
                    head_sha: pr.head_sha.clone(),
                    status: "in_progress".into(),
                    title: started.title,
                    summary: started.summary,
                    details_url: Some(details_url.clone()),
                },
            )
            .await
            .doing("creating the check run")
        })
        .await?;

    let result = queue_runs(ctx, gh, journal, pr, kind).await;
    let (conclusion, output, outcome) = match result {
        Ok(Ok((output, note))) => ("success", output, Ok(Outcome::Done(note))),
        Ok(Err(user_error)) => (
            "failure",
            user_error.clone(),
            Ok(Outcome::Done(format!(
                "check run failed: {}",
                user_error.title
            ))),
        ),
        // Try again later; the check run stays in progress meanwhile.
        Err(err @ FlowError::Retry { .. }) => return Err(err),
        Err(err @ FlowError::Fail(_)) => (
            "failure",
            messages::check_internal_error(delivery_guid, &err.to_string()),
            Err(err),
        ),
    };
    complete(gh, journal, repo, check_run_id, conclusion, &output).await?;
    outcome
}

/// Completes the check run with `output`, its annotations [`MAX_ANNOTATIONS_PER_REQUEST`] at
/// a time: the earlier batches as updates (each journaled, so a retry does not repeat
/// them), the last with the completion.
async fn complete(
    gh: &Installation,
    journal: &mut Journal,
    repo: &str,
    check_run_id: u64,
    conclusion: &str,
    output: &CheckOutput,
) -> Result<(), FlowError> {
    let batches: Vec<&[Annotation]> = output
        .annotations
        .chunks(MAX_ANNOTATIONS_PER_REQUEST)
        .collect();
    let (last, earlier) = match batches.split_last() {
        Some((last, earlier)) => (*last, earlier),
        None => (&[][..], &[][..]),
    };
    for (index, batch) in earlier.iter().enumerate() {
        journal
            .once(&format!("annotations:{index}"), || async {
                gh.annotate_check_run(repo, check_run_id, &output.title, &output.summary, batch)
                    .await
                    .doing("annotating the check run")
                    .map(|()| true)
            })
            .await?;
    }
    gh.complete_check_run(
        repo,
        check_run_id,
        conclusion,
        &output.title,
        &output.summary,
        last,
    )
    .await
    .doing("completing the check run")
}

/// Reads meta.yaml and creates the runs. `Ok(Err(output))` is the contributor's mistake,
/// to be shown in the check run.
async fn queue_runs(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    pr: &PullRequestEvent,
    kind: RepoKind,
) -> Result<Result<(CheckOutput, String), CheckOutput>, FlowError> {
    let repo = &pr.repository;
    let source = match recipe_source::locate(gh, repo, pr.number, kind).await? {
        Ok(source) => source,
        Err(output) => return Ok(Err(output)),
    };
    // The head commit lives in the head repository: a contributor's fork, usually.
    let Some(head) = &pr.head_repository else {
        return Ok(Err(messages::head_repository_gone(pr.number)));
    };
    let text = match recipe_source::meta_text(gh, &head.full_name, &source, &pr.head_sha).await? {
        Ok(text) => text,
        Err(output) => return Ok(Err(output)),
    };
    // Every problem on its line: the schema's first, then the module files the recipes name.
    let mut checked = lint::check(&text);
    if !checked.fails() {
        recipe_source::check_module_files(gh, &head.full_name, &source, &pr.head_sha, &mut checked)
            .await?;
    }
    let path = source.meta_path.as_str();
    let Some(meta) = checked.meta.clone() else {
        return Ok(Err(meta_problems::meta_problems(path, &checked.problems)));
    };
    let feedstock = ctx.db.feedstock_by_spec(&repo.full_name).await?;
    let bakery = ctx.db.bakery_by_name(&meta.bakery_id).await?;
    if bakery.is_none() {
        let known = ctx.bakeries.names();
        let at = checked.bakery_id_at.unwrap_or(Pos::START);
        checked.add(Problem::new(
            ProblemKind::UnknownBakery {
                id: meta.bakery_id.clone(),
                known,
            },
            at,
        ));
    }
    let (Some(feedstock), Some(bakery)) = (feedstock.as_ref(), bakery.as_ref()) else {
        if feedstock.is_some() {
            return Ok(Err(meta_problems::meta_problems(path, &checked.problems)));
        }
        let mut output = messages::not_registered(
            &repo.full_name,
            feedstock.is_some(),
            &meta.bakery_id,
            bakery.is_some(),
            &ctx.bakeries.names(),
        );
        output.annotations = checked
            .problems
            .iter()
            .map(|p| meta_problems::annotation(path, p))
            .collect();
        return Ok(Err(output));
    };

    let run_ids: Vec<i32> = match journal.get("runs") {
        Some(ids) => ids,
        None => {
            let recipes = match recipe_source::recipe_entries(
                ctx,
                gh,
                &head.full_name,
                &source,
                &pr.head_sha,
                &meta,
                &checked.objects,
            )
            .await?
            {
                Ok(recipes) => recipes,
                Err(output) => return Ok(Err(output)),
            };
            let mut ids = Vec::new();
            for recipe in &recipes {
                let run = ctx
                    .db
                    .create_recipe_run(NewRecipeRun::queued(
                        recipe.id.clone(),
                        bakery.id,
                        feedstock.id,
                        pr.head_sha.clone(),
                        true,
                    ))
                    .await?;
                ids.push(run.id);
            }
            journal.record("runs", &ids).await?;
            ids
        }
    };
    let links: Vec<String> = run_ids
        .iter()
        .map(|id| messages::run_page(&ctx.app.dashboard_url, *id, feedstock.id))
        .collect();
    let succeeded = messages::check_succeeded(&pr.head_sha, &links);
    Ok(Ok((
        meta_problems::with_warnings(succeeded, path, &checked.problems),
        format!("queued {} recipe run(s): {:?}", run_ids.len(), run_ids),
    )))
}
