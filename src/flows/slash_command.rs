//! *slash commands*: on `issue_comment` created on a PR of a feedstock or staged-recipes
//! repository, a comment starting with `/` is a command. The bot reacts `eyes` to
//! acknowledge it; `/run <recipe_id>` from someone with write access submits a test job of
//! that recipe at the PR's head commit (`rocket`, or `confused` when submission fails), with
//! a check run of its own ([`test_check`]);
//! `/rerun <recipe_id>` submits a fresh copy of the recipe's newest run there. Everything
//! else gets a reply saying why nothing ran.

use super::commands::{self, Command};
use super::recipe_source;
use super::submission::{Submission, Submitted, submit_run};
use super::test_check;
use super::{Doing, FlowContext, FlowError, Outcome, journal::Journal, messages};
use crate::db::enums::RunStatus;
use crate::db::listing::{Page, RecipeRunFilter, Sort, SortDirection};
use crate::github::Installation;
use crate::webhooks::payload::{IssueCommentEvent, RepoKind};

/// Runs the flow for one comment.
pub async fn on_comment(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    comment: &IssueCommentEvent,
    kind: RepoKind,
) -> Result<Outcome, FlowError> {
    let Some(parsed) = commands::parse(&comment.body) else {
        return Ok(Outcome::Ignored("the comment holds no command".into()));
    };
    let repo = comment.repository.full_name.as_str();
    journal
        .once("eyes", || async {
            gh.react_to_comment(repo, comment.comment_id, "eyes")
                .await
                .doing("reacting to the comment")
        })
        .await?;

    let command = match parsed {
        Ok(command) => command,
        Err(e) => {
            reply(
                gh,
                journal,
                comment,
                &messages::command_not_understood(&e.to_string()),
            )
            .await?;
            return Ok(Outcome::Done(format!("answered: {e}")));
        }
    };
    if !comment.author_can_write() {
        let text = messages::command_not_allowed(&comment.author, &comment.author_association);
        reply(gh, journal, comment, &text).await?;
        return Ok(Outcome::Done(format!(
            "refused a command from {} ({})",
            comment.author, comment.author_association
        )));
    }
    match command {
        Command::Run { recipe_id } => run(ctx, gh, journal, comment, kind, &recipe_id, false).await,
        Command::Rerun { recipe_id } => {
            run(ctx, gh, journal, comment, kind, &recipe_id, true).await
        }
    }
}

/// `/run <recipe_id>` (the queued run at the head commit), or `/rerun <recipe_id>` (a fresh
/// copy of the newest run of the recipe at the head commit, whatever its state).
async fn run(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    comment: &IssueCommentEvent,
    kind: RepoKind,
    recipe_id: &str,
    fresh: bool,
) -> Result<Outcome, FlowError> {
    let repo = &comment.repository;
    let pr = gh
        .pull_request(&repo.full_name, comment.number)
        .await
        .doing("reading the pull request")?;
    let feedstock = ctx.db.feedstock_by_spec(&repo.full_name).await?;
    let runs_at_head = match &feedstock {
        Some(f) => {
            let filter = RecipeRunFilter {
                feedstock_id: Some(f.id),
                head_sha: Some(pr.head_sha.clone()),
                ..Default::default()
            };
            let newest_first = Sort {
                direction: SortDirection::Desc,
                ..Default::default()
            };
            let page = Page {
                offset: 0,
                limit: 100,
            };
            ctx.db.list_recipe_runs(&filter, newest_first, page).await?
        }
        None => Vec::new(),
    };
    let (Some(feedstock), Some(target)) = (
        feedstock,
        runs_at_head.iter().find(|r| r.recipe_id == recipe_id),
    ) else {
        let mut known: Vec<String> = runs_at_head.iter().map(|r| r.recipe_id.clone()).collect();
        known.sort();
        known.dedup();
        let text = messages::unknown_recipe(recipe_id, &pr.head_sha, &known);
        reply(gh, journal, comment, &text).await?;
        return Ok(Outcome::Done(format!(
            "no run of `{recipe_id}` at {}",
            pr.head_sha
        )));
    };
    let rerun;
    let target = if fresh {
        let id: i32 = journal
            .once("rerun_run", || async {
                Ok(super::rerun::fresh_run(&ctx.db, target).await?.id)
            })
            .await?;
        rerun = ctx
            .db
            .recipe_run(id)
            .await?
            .ok_or_else(|| FlowError::fail(format!("recipe run {id} vanished")))?;
        &rerun
    } else {
        target
    };
    let link = messages::run_page(&ctx.app.dashboard_url, target.id, feedstock.id);
    if target.status != RunStatus::Queued && journal.get::<()>("rocket").is_some() {
        // This command submitted it before a restart cut the flow short.
        return Ok(Outcome::Done(format!(
            "run {} was submitted by this command before a restart",
            target.id
        )));
    }
    if target.status != RunStatus::Queued {
        let status = format!("{:?}", target.status).to_lowercase();
        let text = messages::already_running(recipe_id, &status, &link);
        reply(gh, journal, comment, &text).await?;
        return Ok(Outcome::Done(format!(
            "run {} is already {status}",
            target.id
        )));
    }

    let Some(bakery_row) = ctx.db.bakery(target.bakery_id).await? else {
        return Err(FlowError::fail(format!(
            "run {} names a missing bakery",
            target.id
        )));
    };
    let Some(bakery) = ctx.bakeries.get(&bakery_row.name) else {
        let message = format!(
            "bakery `{}` has no configuration file in PFO_BAKERIES_DIR",
            bakery_row.name
        );
        return submission_failed(
            ctx, gh, journal, comment, target.id, recipe_id, &message, &link,
        )
        .await;
    };
    let source = match recipe_source::locate(gh, repo, comment.number, kind).await? {
        Ok(source) => source,
        Err(output) => {
            return submission_failed(
                ctx,
                gh,
                journal,
                comment,
                target.id,
                recipe_id,
                &output.summary,
                &link,
            )
            .await;
        }
    };
    // The runner clones the repository that holds the head commit: the fork, for a PR
    // from a fork (the base repository does not serve a fork's commits to a clone).
    let Some(head) = &pr.head_repository else {
        let gone = messages::head_repository_gone(pr.number);
        return submission_failed(
            ctx,
            gh,
            journal,
            comment,
            target.id,
            recipe_id,
            &gone.summary,
            &link,
        )
        .await;
    };
    journal
        .once("rocket", || async {
            gh.react_to_comment(&repo.full_name, comment.comment_id, "rocket")
                .await
                .doing("reacting to the comment")
        })
        .await?;
    // Its own check run on the head commit, completed when the run ends.
    let check_run = test_check::start(gh, journal, &repo.full_name, target, &link).await?;
    let (run, submitted) = submit_run(
        ctx,
        Submission {
            run: target,
            feedstock_spec: &feedstock.spec,
            gh,
            repo: &head.full_name,
            repo_url: &head.html_url,
            source,
            bakery: &bakery,
        },
    )
    .await?;
    match submitted {
        Submitted::Running { job_id } => Ok(Outcome::Done(format!(
            "submitted run {} as job {job_id}",
            run.id
        ))),
        Submitted::Failed { message } => {
            test_check::finish(gh, journal, &repo.full_name, check_run, &run, None, &link).await?;
            confused(gh, journal, comment).await?;
            reply(
                gh,
                journal,
                comment,
                &messages::submission_failed(recipe_id, &message, &link),
            )
            .await?;
            Ok(Outcome::Done(format!(
                "submission of run {} failed: {message}",
                run.id
            )))
        }
    }
}

/// A run that cannot be submitted: completed as a failure, and the contributor told.
#[allow(clippy::too_many_arguments)]
async fn submission_failed(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    comment: &IssueCommentEvent,
    run_id: i32,
    recipe_id: &str,
    message: &str,
    link: &str,
) -> Result<Outcome, FlowError> {
    use crate::db::RecipeRunPatch;
    use crate::db::enums::RunConclusion;
    ctx.db
        .update_recipe_run(
            run_id,
            RecipeRunPatch {
                status: Some(RunStatus::Completed),
                conclusion: Some(Some(RunConclusion::Failure)),
                completed_at: Some(Some(crate::db::now())),
                error_trace: Some(Some(message.to_owned())),
                ..Default::default()
            },
        )
        .await?;
    confused(gh, journal, comment).await?;
    reply(
        gh,
        journal,
        comment,
        &messages::submission_failed(recipe_id, message, link),
    )
    .await?;
    Ok(Outcome::Done(format!(
        "run {run_id} could not be submitted: {message}"
    )))
}

async fn confused(
    gh: &Installation,
    journal: &mut Journal,
    comment: &IssueCommentEvent,
) -> Result<(), FlowError> {
    journal
        .once("confused", || async {
            gh.react_to_comment(
                &comment.repository.full_name,
                comment.comment_id,
                "confused",
            )
            .await
            .doing("reacting to the comment")
        })
        .await
}

/// Replies on the PR (once per delivery).
async fn reply(
    gh: &Installation,
    journal: &mut Journal,
    comment: &IssueCommentEvent,
    text: &str,
) -> Result<(), FlowError> {
    journal
        .once("reply", || async {
            gh.comment_on_issue(&comment.repository.full_name, comment.number, text)
                .await
                .doing("replying on the pull request")
        })
        .await
        .map(|_: u64| ())
}
