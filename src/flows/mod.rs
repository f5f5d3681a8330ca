//! The flows: what each webhook delivery does, one module per flow. A flow reads
//! a typed event ([`crate::webhooks::payload`]), calls the database facade, GitHub and the
//! bakeries, and ends with an [`Outcome`] or a [`FlowError`] that says whether trying again
//! may help. Flows run from the durable queue ([`crate::queue`]), never inside the webhook
//! request; steps that create something on GitHub are journaled ([`journal`]) so a retry
//! resumes instead of repeating them.

pub(crate) mod checkout;
pub mod commands;
pub(crate) mod completion;
mod context;
pub(crate) mod create_feedstock;
pub(crate) mod installation;
pub(crate) mod journal;
pub(crate) mod messages;
pub(crate) mod production;
pub(crate) mod recipe_source;
pub(crate) mod report;
pub(crate) mod rerun;
pub(crate) mod slash_command;
pub(crate) mod submission;
pub(crate) mod synchronize;
pub(crate) mod test_check;

pub use crate::queue::{Doing, FlowError, Outcome};
pub use context::FlowContext;

use crate::db::entities::webhook_delivery;
use crate::db::enums::RunConclusion;
use crate::queue::tasks::{Completion, Task};
use crate::webhooks::payload::{self, GithubEvent, PullRequestAction};
use crate::webhooks::status;
use journal::Journal;

impl crate::queue::Handler for FlowContext {
    async fn handle(&self, delivery: &webhook_delivery::Model) -> Result<Outcome, FlowError> {
        handle(self, delivery).await
    }
}

fn ignored(why: impl Into<String>) -> Result<Outcome, FlowError> {
    Ok(Outcome::Ignored(why.into()))
}

/// Processes one claimed delivery.
pub async fn handle(
    ctx: &FlowContext,
    delivery: &webhook_delivery::Model,
) -> Result<Outcome, FlowError> {
    let mut journal = Journal::open(ctx.db.clone(), delivery.id, delivery.progress.as_deref());
    if delivery.event == status::STATUS_EVENT {
        let report = status::parse_status(delivery.payload.as_bytes()).map_err(FlowError::Fail)?;
        let completion = Completion {
            recipe_run_id: report.recipe_run_id,
            conclusion: report.conclusion,
            trace: (report.conclusion != RunConclusion::Success)
                .then(|| report.message.clone())
                .flatten(),
            job_id: report.job_id,
            message: report.message,
            logs: None,
        };
        return completion::complete(ctx, &mut journal, &completion).await;
    }
    if let Some(task) = Task::parse(&delivery.event, &delivery.payload).map_err(FlowError::Fail)? {
        return match task {
            Task::Complete(completion) => {
                completion::complete(ctx, &mut journal, &completion).await
            }
            Task::Submit { recipe_run_id } => {
                rerun::submit_queued(ctx, &mut journal, recipe_run_id).await
            }
            Task::Cancel { recipe_run_id } => rerun::cancel(ctx, &mut journal, recipe_run_id).await,
        };
    }
    let parsed = payload::parse(&delivery.event, &delivery.payload)
        .map_err(|e| FlowError::fail(e.to_string()))?;
    let Some(event) = parsed else {
        return ignored(format!(
            "`{}` with action `{}` is not acted on",
            delivery.event,
            delivery.action.as_deref().unwrap_or("-")
        ));
    };
    match event {
        GithubEvent::RepositoriesAdded(added) => installation::register_feedstocks(&ctx.db, &added)
            .await
            .map(Outcome::Done),
        GithubEvent::PullRequest(pr) => {
            let Some(kind) = pr.repository.kind() else {
                return ignored("not a feedstock or staged-recipes repository");
            };
            if pr.title.to_lowercase().starts_with("cleanup") {
                return ignored("a cleanup PR (the orchestrator's own)");
            }
            let gh = ctx.installation_for(delivery)?;
            match (pr.action, pr.merged, kind) {
                (PullRequestAction::Closed, false, _) => ignored("closed without merging"),
                (PullRequestAction::Closed, true, payload::RepoKind::StagedRecipes) => {
                    create_feedstock::create_feedstock(ctx, &gh, &mut journal, &pr).await
                }
                (PullRequestAction::Closed, true, payload::RepoKind::Feedstock) => {
                    production::production_runs(ctx, &gh, &mut journal, &pr).await
                }
                _ => {
                    synchronize::synchronize(ctx, &gh, &mut journal, &delivery.guid, &pr, kind)
                        .await
                }
            }
        }
        GithubEvent::IssueComment(comment) => {
            let Some(kind) = comment.repository.kind() else {
                return ignored("not a feedstock or staged-recipes repository");
            };
            if !comment.on_pull_request {
                return ignored("a comment on an issue, not a pull request");
            }
            if !comment.body.trim_start().starts_with('/')
                && commands::parse(&comment.body).is_none()
            {
                return ignored("the comment holds no command");
            }
            let gh = ctx.installation_for(delivery)?;
            slash_command::on_comment(ctx, &gh, &mut journal, &comment, kind).await
        }
    }
}
