//! Live updates. Every committed change reaches subscribers through [`crate::db::changes`]; a
//! subscriber can resume without missing one (`since`: the last `updatedAt` it saw), and a
//! subscriber too slow to keep up is told so and resynchronised from the database instead of
//! silently skipping changes.
//!
//! Shared executions (`graphql::live`) pass request data the resolvers honour
//! ([`super::live::hooks`]): they say when they listen, record where a run stream stands
//! after each item, and a [`Resync`] makes a resolver report the lag first and catch up from
//! the given point before going live.

use super::dataset::Dataset;
use super::error::{OrGql, db};
use super::live::hooks::{OnListening, ResumeTap, Resync};
use super::recipe_run::RecipeRun;
use super::webhook_delivery::WebhookDelivery;
use crate::db::RunScope;
use crate::db::changes::Change;
use async_graphql::futures_util::Stream;
use async_graphql::{Context, Error, Result, Subscription};
use chrono::{DateTime, Utc};
use cursor::Cursor;
use tokio::sync::broadcast::error::RecvError;

mod cursor;

/// At most this many missed runs are replayed at once (on resume or after lagging).
pub const MAX_REPLAY: u64 = 1000;

/// Every subscription field.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Tells a live execution (if this is one) that the resolver now listens to the change bus.
fn listening(ctx: &Context<'_>) {
    if let Some(on_listening) = ctx.data_opt::<OnListening>() {
        on_listening.call();
    }
}

/// Records where the stream stands for a shared execution (nothing otherwise).
fn publish(tap: Option<&ResumeTap>, cursor: &Cursor) {
    if let Some(tap) = tap {
        tap.set(cursor.position());
    }
}

/// The error a subscriber that fell `missed` changes behind receives; `then` says what
/// happens next.
fn lagged(missed: u64, then: &str) -> Error {
    Error::new(format!(
        "this subscription fell {missed} changes behind; {then}"
    ))
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
        let tap = ctx.data_opt::<ResumeTap>().cloned();
        // Taking over from a shared execution this subscriber fell behind.
        let resync = ctx.data_opt::<Resync>().cloned();
        let mut events = db.changes().subscribe(&db).await;
        listening(ctx);
        let (mut cursor, missed) = match resync {
            Some(Resync {
                missed,
                resume: Some(resume),
            }) => (Cursor::resume(resume), Some(missed)),
            Some(Resync {
                missed,
                resume: None,
            }) => (Cursor::new(since.unwrap_or_else(Utc::now)), Some(missed)),
            None => (Cursor::new(since.unwrap_or_else(Utc::now)), None),
        };
        Ok(async_stream::stream! {
            publish(tap.as_ref(), &cursor);
            let mut catch_up = since.is_some();
            if let Some(missed) = missed {
                let from = cursor.at.to_rfc3339();
                yield Err(lagged(missed, &format!("resynchronising from {from}")));
                catch_up = true;
            }
            loop {
                if catch_up {
                    catch_up = false;
                    // A live change may arrive again afterwards: the cursor sends it once.
                    match db.runs_changed_since(scope, cursor.at, MAX_REPLAY).await.or_gql() {
                        Ok(rows) => for run in rows {
                            if cursor.admit(&run) {
                                publish(tap.as_ref(), &cursor);
                                yield Ok(RecipeRun::one(run));
                            }
                        },
                        Err(e) => yield Err(e),
                    }
                }
                match events.recv().await {
                    Ok(Change::Run(run)) => {
                        // A replay may already have sent this change.
                        if scope.contains(&run) && cursor.admit(&run) {
                            publish(tap.as_ref(), &cursor);
                            yield Ok(RecipeRun::one(run));
                        }
                    }
                    Ok(Change::Resync) => catch_up = true,
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        let from = cursor.at.to_rfc3339();
                        yield Err(lagged(missed, &format!("resynchronising from {from}")));
                        catch_up = true;
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
        let resync = ctx.data_opt::<Resync>().map(|resync| resync.missed);
        let mut events = db.changes().subscribe(&db).await;
        listening(ctx);
        Ok(async_stream::stream! {
            if let Some(missed) = resync {
                yield Err(lagged(missed, "query `datasets` to catch up"));
            }
            loop {
                match events.recv().await {
                    Ok(Change::Dataset(dataset)) => {
                        if feedstock_id.is_none_or(|id| id == dataset.feedstock_id) {
                            yield Ok(Dataset::one(dataset));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        yield Err(lagged(missed, "query `datasets` to catch up"));
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
        let resync = ctx.data_opt::<Resync>().map(|resync| resync.missed);
        let mut events = db.changes().subscribe(&db).await;
        listening(ctx);
        Ok(async_stream::stream! {
            if let Some(missed) = resync {
                yield Err(lagged(missed, "query `webhookDeliveries` to catch up"));
            }
            loop {
                match events.recv().await {
                    Ok(Change::Delivery(delivery)) => {
                        if feedstock_id.is_none_or(|id| Some(id) == delivery.feedstock_id) {
                            yield Ok(WebhookDelivery(delivery));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        yield Err(lagged(missed, "query `webhookDeliveries` to catch up"));
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }
}
