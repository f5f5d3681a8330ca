//! Live updates. Every committed change reaches subscribers through [`crate::events`]; a
//! subscriber can resume without missing one (`since`: the last `updatedAt` it saw), and a
//! subscriber too slow to keep up is told so and resynchronised from the database instead of
//! silently skipping changes.

use super::dataset::Dataset;
use super::error::{OrGql, db};
use super::recipe_run::RecipeRun;
use super::webhook_delivery::WebhookDelivery;
use crate::db::{Database, RunScope};
use crate::events::Event;
use async_graphql::futures_util::Stream;
use async_graphql::{Context, Error, Result, Subscription};
use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;

/// At most this many missed runs are replayed at once (on resume or after lagging).
pub const MAX_REPLAY: u64 = 1000;

/// Every subscription field.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Replays the runs of `scope` changed after `since`, advancing `since`.
async fn replay(
    db: &Database,
    scope: RunScope,
    since: &mut DateTime<Utc>,
) -> Result<Vec<RecipeRun>> {
    let rows = db
        .runs_changed_since(scope, *since, MAX_REPLAY)
        .await
        .or_gql()?;
    if let Some(last) = rows.last() {
        *since = last.updated_at;
    }
    Ok(rows.into_iter().map(RecipeRun::one).collect())
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
        let mut events = db.events().subscribe(&db).await;
        Ok(async_stream::stream! {
            let mut seen = since.unwrap_or_else(Utc::now);
            if since.is_some() {
                match replay(&db, scope, &mut seen).await {
                    Ok(runs) => for run in runs { yield Ok(run); },
                    Err(e) => yield Err(e),
                }
            }
            loop {
                match events.recv().await {
                    Ok(Event::Run(run)) => {
                        // A replay may already have sent this change.
                        if scope.contains(&run) && run.updated_at >= seen {
                            seen = run.updated_at;
                            yield Ok(RecipeRun::one((*run).clone()));
                        }
                    }
                    Ok(Event::Resync) => match replay(&db, scope, &mut seen).await {
                        Ok(runs) => for run in runs { yield Ok(run); },
                        Err(e) => yield Err(e),
                    },
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        yield Err(Error::new(format!(
                            "this subscription fell {missed} changes behind; resynchronising from {}",
                            seen.to_rfc3339()
                        )));
                        match replay(&db, scope, &mut seen).await {
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
        let mut events = db.events().subscribe(&db).await;
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(Event::Dataset(dataset)) => {
                        if feedstock_id.is_none_or(|id| id == dataset.feedstock_id) {
                            yield Ok(Dataset::one((*dataset).clone()));
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
        let mut events = db.events().subscribe(&db).await;
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(Event::Delivery(delivery)) => {
                        if feedstock_id.is_none_or(|id| Some(id) == delivery.feedstock_id) {
                            yield Ok(WebhookDelivery((*delivery).clone()));
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
