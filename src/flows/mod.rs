//! The flows: what each webhook delivery does, one module per flow (SPEC §4). A flow reads
//! a typed event ([`crate::webhooks::event`]), calls the database facade and GitHub, and
//! ends with an [`Outcome`] or a [`FlowError`] that says whether trying again may help.
//!
//! Flows run from the durable queue ([`crate::jobs`]), never inside the webhook request.

mod error;
pub mod installation;
pub mod journal;

pub use error::{Doing, FlowError};

use crate::config::AppSettings;
use crate::db::Database;
use crate::db::entities::webhook_delivery;
use crate::webhooks::event::{self, GithubEvent};
use journal::Journal;

/// What a flow needs: the database, GitHub, the bakeries and this deployment's settings.
#[derive(Clone)]
pub struct FlowContext {
    pub db: Database,
    pub app: AppSettings,
}

/// How a delivery's processing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Work was done; the note says what.
    Done(String),
    /// Nothing to do; the note says why.
    Ignored(String),
}

/// Processes one claimed delivery.
pub async fn handle(
    ctx: &FlowContext,
    delivery: &webhook_delivery::Model,
) -> Result<Outcome, FlowError> {
    let parsed = event::parse(&delivery.event, &delivery.payload)
        .map_err(|e| FlowError::fail(e.to_string()))?;
    let Some(event) = parsed else {
        return Ok(Outcome::Ignored(format!(
            "`{}` with action `{}` is not acted on",
            delivery.event,
            delivery.action.as_deref().unwrap_or("-")
        )));
    };
    let _journal = Journal::open(ctx.db.clone(), delivery.id, delivery.progress.as_deref());
    match event {
        GithubEvent::RepositoriesAdded(added) => installation::register_feedstocks(&ctx.db, &added)
            .await
            .map(Outcome::Done),
        GithubEvent::PullRequest(_) | GithubEvent::IssueComment(_) => Err(FlowError::fail(
            "pull request and comment flows are not available in this build",
        )),
    }
}
