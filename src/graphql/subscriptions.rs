//! Live updates. Every committed change reaches subscribers through [`crate::db::changes`]; a
//! subscriber can resume without missing one (`since`: the last `updatedAt` it saw), and a
//! subscriber too slow to keep up is told so and resynchronised from the database instead of
//! silently skipping changes.

use super::dataset::Dataset;
use super::error::{OrGql, db};
use super::recipe_run::RecipeRun;
use super::webhook_delivery::WebhookDelivery;
use crate::db::changes::Change;
use crate::db::entities::recipe_run;
use crate::db::{Database, RunScope};
use async_graphql::futures_util::Stream;
use async_graphql::{Context, Error, Result, Subscription};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tokio::sync::broadcast::error::RecvError;

/// At most this many missed runs are replayed at once (on resume or after lagging).
pub const MAX_REPLAY: u64 = 1000;

/// Every subscription field.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Where a subscriber is in the stream of run changes: the newest `updatedAt` sent (where a
/// resync resumes) and, per run, the last change sent — so a change reaching it twice (by
/// replay and live, or again after a resync) is sent once, without trusting that replicas'
/// clocks agree on the order of changes to different runs.
struct Cursor {
    at: DateTime<Utc>,
    sent: HashMap<i32, DateTime<Utc>>,
}

/// Past this many remembered runs, those older than [`FORGET_AFTER`] behind the cursor are
/// forgotten (a repeat of such an old change is then possible, never a loss).
const MAX_REMEMBERED: usize = 10_000;
const FORGET_AFTER: chrono::Duration = chrono::Duration::minutes(10);

impl Cursor {
    fn new(at: DateTime<Utc>) -> Self {
        Cursor {
            at,
            sent: HashMap::new(),
        }
    }

    /// Whether `run`'s change is new to this subscriber (and records it).
    fn admit(&mut self, run: &recipe_run::Model) -> bool {
        if self
            .sent
            .get(&run.id)
            .is_some_and(|last| run.updated_at <= *last)
        {
            return false;
        }
        self.sent.insert(run.id, run.updated_at);
        self.at = self.at.max(run.updated_at);
        if self.sent.len() > MAX_REMEMBERED {
            let horizon = self.at - FORGET_AFTER;
            self.sent.retain(|_, at| *at >= horizon);
        }
        true
    }
}

/// The runs of `scope` changed at or after the cursor that it has not sent yet.
async fn replay(db: &Database, scope: RunScope, cursor: &mut Cursor) -> Result<Vec<RecipeRun>> {
    let rows = db
        .runs_changed_since(scope, cursor.at, MAX_REPLAY)
        .await
        .or_gql()?;
    Ok(rows
        .into_iter()
        .filter(|run| cursor.admit(run))
        .map(RecipeRun::one)
        .collect())
}

#[Subscription]
impl SubscriptionRoot {
    /// A run after every change (created, status, conclusion, dataset, logs), optionally
    /// only run `id` or the runs of a feedstock or bakery. With `since` (the last `updatedAt`
    /// seen), the runs changed since then come first, so a reconnecting client misses nothing.
    async fn recipe_run_updated(
        &self,
        ctx: &Context<'_>,
        id: Option<i32>,
        feedstock_id: Option<i32>,
        bakery_id: Option<i32>,
        since: Option<DateTime<Utc>>,
    ) -> Result<impl Stream<Item = Result<RecipeRun>> + use<>> {
        let db = db(ctx)?.clone();
        let scope = RunScope {
            id,
            feedstock_id,
            bakery_id,
        };
        let mut events = db.changes().subscribe(&db).await;
        Ok(async_stream::stream! {
            let mut cursor = Cursor::new(since.unwrap_or_else(Utc::now));
            if since.is_some() {
                match replay(&db, scope, &mut cursor).await {
                    Ok(runs) => for run in runs { yield Ok(run); },
                    Err(e) => yield Err(e),
                }
            }
            loop {
                match events.recv().await {
                    Ok(Change::Run(run)) => {
                        // A replay may already have sent this change.
                        if scope.contains(&run) && cursor.admit(&run) {
                            yield Ok(RecipeRun::one(run));
                        }
                    }
                    Ok(Change::Resync) => match replay(&db, scope, &mut cursor).await {
                        Ok(runs) => for run in runs { yield Ok(run); },
                        Err(e) => yield Err(e),
                    },
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        yield Err(Error::new(format!(
                            "this subscription fell {missed} changes behind; resynchronising from {}",
                            cursor.at.to_rfc3339()
                        )));
                        match replay(&db, scope, &mut cursor).await {
                            Ok(runs) => for run in runs { yield Ok(run); },
                            Err(e) => yield Err(e),
                        }
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    /// Each dataset as it is recorded, optionally only a feedstock's.
    async fn dataset_created(
        &self,
        ctx: &Context<'_>,
        feedstock_id: Option<i32>,
    ) -> Result<impl Stream<Item = Result<Dataset>> + use<>> {
        let db = db(ctx)?.clone();
        let mut events = db.changes().subscribe(&db).await;
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(Change::Dataset(dataset)) => {
                        if feedstock_id.is_none_or(|id| id == dataset.feedstock_id) {
                            yield Ok(Dataset::one(dataset));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        yield Err(Error::new(format!(
                            "this subscription fell {missed} changes behind; query `datasets` to catch up"
                        )));
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    /// A webhook delivery (or queued task) after every change of state, optionally only
    /// those of a feedstock.
    async fn webhook_delivery_updated(
        &self,
        ctx: &Context<'_>,
        feedstock_id: Option<i32>,
    ) -> Result<impl Stream<Item = Result<WebhookDelivery>> + use<>> {
        let db = db(ctx)?.clone();
        let mut events = db.changes().subscribe(&db).await;
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(Change::Delivery(delivery)) => {
                        if feedstock_id.is_none_or(|id| Some(id) == delivery.feedstock_id) {
                            yield Ok(WebhookDelivery(delivery));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        yield Err(Error::new(format!(
                            "this subscription fell {missed} changes behind; query `webhookDeliveries` to catch up"
                        )));
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }
}
