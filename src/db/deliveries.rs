//! Webhook-delivery verbs: storing a delivery exactly once, and the durable queue.
//!
//! The queue is the `webhook_delivery` table itself. A worker claims the oldest due delivery
//! with one atomic `UPDATE … RETURNING` (PostgreSQL adds `FOR UPDATE SKIP LOCKED`, so several
//! processes share the queue without taking the same row; SQLite serialises writers). A claim
//! is a lease: if its process dies, the delivery is claimed again once the lease ends.

use super::entities::feedstock;
use super::entities::webhook_delivery;
use super::enums::DeliveryState;
use super::keyset::{self, KeysetPage};
use super::listing::{DeliveryField, Page, Sort, SortDirection};
use super::{Database, DbError, now};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, InsertStatement, OnConflict, Query};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};

/// A verified delivery to store.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub guid: String,
    pub event: String,
    pub action: Option<String>,
    pub repository: Option<String>,
    pub installation_id: Option<i64>,
    pub payload: String,
    /// The state to store it in: `Queued` for work, `Done`/`Ignored`/`Failed` for deliveries
    /// answered on the spot (ping, unparsable payloads).
    pub state: DeliveryState,
    pub last_error: Option<String>,
    /// What was done with it, for deliveries answered on the spot.
    pub note: Option<String>,
}

/// How a worker ends a delivery it holds.
#[derive(Debug, Clone)]
pub struct Finish {
    /// `Done`, `Ignored` or `Failed`.
    pub state: DeliveryState,
    /// What processing did, or why it did nothing.
    pub note: Option<String>,
    /// Why it failed for good.
    pub error: Option<String>,
}

/// What storing a delivery did.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// First time this GUID was seen.
    Stored(webhook_delivery::Model),
    /// A redelivery of a stored delivery that did not fail for good: nothing to do again.
    Duplicate(webhook_delivery::Model),
    /// A redelivery of a delivery that failed for good: queued to run again.
    Requeued(webhook_delivery::Model),
}

/// Which deliveries a list includes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub feedstock_id: Option<i32>,
    pub state: Option<DeliveryState>,
    pub event: Option<String>,
}

fn condition(filter: &DeliveryFilter) -> Condition {
    use webhook_delivery::Column as C;
    let mut cond = Condition::all();
    if let Some(id) = filter.feedstock_id {
        cond = cond.add(C::FeedstockId.eq(id));
    }
    if let Some(state) = filter.state {
        cond = cond.add(C::State.eq(state));
    }
    if let Some(event) = &filter.event {
        cond = cond.add(C::Event.eq(event.as_str()));
    }
    cond
}

const CLAIM_POSTGRES: &str = "UPDATE webhook_delivery \
    SET state = 'processing', claimed_by = $1, claimed_until = $2, attempts = attempts + 1, updated_at = $3 \
    WHERE id = (SELECT id FROM webhook_delivery \
        WHERE (state = 'queued' AND next_attempt_at <= $3) OR (state = 'processing' AND claimed_until < $3) \
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
    RETURNING *";

const CLAIM_SQLITE: &str = "UPDATE webhook_delivery \
    SET state = 'processing', claimed_by = ?, claimed_until = ?, attempts = attempts + 1, updated_at = ? \
    WHERE id = (SELECT id FROM webhook_delivery \
        WHERE (state = 'queued' AND next_attempt_at <= ?) OR (state = 'processing' AND claimed_until < ?) \
        ORDER BY id LIMIT 1) \
    RETURNING *";

impl Database {
    /// Stores a delivery with a statement of its own (no group commit): the path every
    /// delivery took before [`super::delivery_batch`], kept for a batch that failed (each of
    /// its rows is retried so) and for the ingest benchmark's comparison. Same answers as
    /// [`Database::record_delivery`].
    pub async fn record_delivery_alone(&self, new: NewDelivery) -> Result<Recorded, DbError> {
        let guid = new.guid.clone();
        let mut stored = self.insert_deliveries(std::slice::from_ref(&new)).await?;
        match stored.pop() {
            Some(row) => Ok(self.stored(row).await),
            None => self.known_delivery(&guid).await,
        }
    }

    /// Inserts `rows` (distinct GUIDs) in ONE statement, committed on its own: each row
    /// whose GUID is not known yet is stored, and returned; a known GUID is skipped
    /// (`ON CONFLICT (guid) DO NOTHING`). On PostgreSQL the same statement notifies each
    /// stored row (`pg_notify`, delivered at commit); on SQLite the caller publishes it
    /// ([`Database::stored`]).
    pub(super) async fn insert_deliveries(
        &self,
        rows: &[NewDelivery],
    ) -> Result<Vec<webhook_delivery::Model>, DbError> {
        // The insert looks up each feedstock itself and does nothing for a known GUID
        // (then, and only then, the caller reads the row).
        let insert = insert_unless_known(rows).map_err(|e| DbError::Invalid(e.to_string()))?;
        let statement = self.backend().build(&insert);
        let statement = if self.backend() == DbBackend::Postgres {
            crate::db::changes::insert_publishing_deliveries(statement)
        } else {
            statement
        };
        Ok(webhook_delivery::Entity::find()
            .from_raw_sql(statement)
            .all(&self.conn)
            .await?)
    }

    /// A row [`Database::insert_deliveries`] stored, published where the statement did not.
    pub(super) async fn stored(&self, row: webhook_delivery::Model) -> Recorded {
        if self.backend() != DbBackend::Postgres {
            self.changes.delivery_changed(self, row.id).await;
        }
        Recorded::Stored(row)
    }

    /// What a delivery whose GUID was already stored comes to: a duplicate, or requeued when
    /// the stored one failed for good.
    pub(super) async fn known_delivery(&self, guid: &str) -> Result<Recorded, DbError> {
        match self.delivery_by_guid(guid).await? {
            Some(existing) => self.redelivered(existing).await,
            None => Err(DbError::Conflict(format!("delivery {guid} vanished"))),
        }
    }

    async fn redelivered(&self, existing: webhook_delivery::Model) -> Result<Recorded, DbError> {
        if existing.state != DeliveryState::Failed {
            return Ok(Recorded::Duplicate(existing));
        }
        // Only one of several concurrent redeliveries wins the requeue.
        let requeued = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::State,
                DeliveryState::Queued.into(),
            )
            .col_expr(webhook_delivery::Column::NextAttemptAt, now().into())
            .col_expr(webhook_delivery::Column::Attempts, 0.into())
            .col_expr(
                webhook_delivery::Column::CompletedAt,
                Option::<DateTime<Utc>>::None.into(),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, now().into())
            .filter(webhook_delivery::Column::Id.eq(existing.id))
            .filter(webhook_delivery::Column::State.eq(DeliveryState::Failed))
            .exec(&self.conn)
            .await?;
        let current = self
            .delivery_by_guid(&existing.guid)
            .await?
            .unwrap_or(existing);
        Ok(if requeued.rows_affected == 1 {
            self.changes.delivery_changed(self, current.id).await;
            Recorded::Requeued(current)
        } else {
            Recorded::Duplicate(current)
        })
    }

    /// One delivery by id.
    pub async fn delivery(&self, id: i32) -> Result<Option<webhook_delivery::Model>, DbError> {
        Ok(webhook_delivery::Entity::find_by_id(id)
            .one(&self.conn)
            .await?)
    }

    /// One delivery by GUID.
    pub async fn delivery_by_guid(
        &self,
        guid: &str,
    ) -> Result<Option<webhook_delivery::Model>, DbError> {
        Ok(webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Guid.eq(guid))
            .one(&self.conn)
            .await?)
    }

    /// Claims the oldest due delivery for `worker` until `lease_until`; also takes over
    /// deliveries whose previous claim expired. `None` when nothing is due.
    pub async fn claim_next_delivery(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<webhook_delivery::Model>, DbError> {
        let at = now();
        let statement = match self.backend() {
            DbBackend::Postgres => Statement::from_sql_and_values(
                DbBackend::Postgres,
                CLAIM_POSTGRES,
                [worker.into(), lease_until.into(), at.into()],
            ),
            backend => Statement::from_sql_and_values(
                backend,
                CLAIM_SQLITE,
                [
                    worker.into(),
                    lease_until.into(),
                    at.into(),
                    at.into(),
                    at.into(),
                ],
            ),
        };
        let claimed = webhook_delivery::Entity::find()
            .from_raw_sql(statement)
            .one(&self.conn)
            .await?;
        if let Some(row) = &claimed {
            self.changes.delivery_changed(self, row.id).await;
        }
        Ok(claimed)
    }

    /// Ends the processing of a delivery this worker holds. A claim lost to another worker
    /// (its lease ran out) changes nothing: returns whether this worker's finish counted.
    pub async fn finish_delivery(
        &self,
        id: i32,
        worker: &str,
        finish: Finish,
    ) -> Result<bool, DbError> {
        let at = now();
        let mut update = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::State, finish.state.into())
            .col_expr(webhook_delivery::Column::Note, finish.note.into());
        // A success keeps the error of an earlier attempt, for the record.
        if let Some(error) = finish.error {
            update = update.col_expr(webhook_delivery::Column::LastError, Some(error).into());
        }
        let result = update
            .col_expr(webhook_delivery::Column::CompletedAt, Some(at).into())
            .col_expr(
                webhook_delivery::Column::ClaimedUntil,
                Option::<DateTime<Utc>>::None.into(),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, at.into())
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(webhook_delivery::Column::ClaimedBy.eq(worker))
            .filter(webhook_delivery::Column::State.eq(DeliveryState::Processing))
            .exec(&self.conn)
            .await?;
        if result.rows_affected == 1 {
            self.changes.delivery_changed(self, id).await;
        }
        Ok(result.rows_affected == 1)
    }

    /// Puts a delivery this worker holds back in the queue, due at `next_attempt_at`.
    pub async fn retry_delivery(
        &self,
        id: i32,
        worker: &str,
        error: String,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::State,
                DeliveryState::Queued.into(),
            )
            .col_expr(webhook_delivery::Column::LastError, Some(error).into())
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                next_attempt_at.into(),
            )
            .col_expr(
                webhook_delivery::Column::ClaimedUntil,
                Option::<DateTime<Utc>>::None.into(),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, now().into())
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(webhook_delivery::Column::ClaimedBy.eq(worker))
            .filter(webhook_delivery::Column::State.eq(DeliveryState::Processing))
            .exec(&self.conn)
            .await?;
        self.changes.delivery_changed(self, id).await;
        Ok(())
    }

    /// Extends this worker's claim on a delivery it is still working on; `false` when the
    /// claim was lost (the lease ran out and another worker took it).
    pub async fn extend_claim(
        &self,
        id: i32,
        worker: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let result = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::ClaimedUntil, Some(until).into())
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(webhook_delivery::Column::ClaimedBy.eq(worker))
            .filter(webhook_delivery::Column::State.eq(DeliveryState::Processing))
            .exec(&self.conn)
            .await?;
        self.changes.touched();
        Ok(result.rows_affected == 1)
    }

    /// Saves a delivery's flow journal (see `webhook_delivery.progress`).
    pub async fn save_delivery_progress(&self, id: i32, progress: &str) -> Result<(), DbError> {
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Progress, Some(progress).into())
            .col_expr(webhook_delivery::Column::UpdatedAt, now().into())
            .filter(webhook_delivery::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        self.changes.touched();
        Ok(())
    }

    /// A page of deliveries, newest first.
    pub async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        page: Page,
    ) -> Result<Vec<webhook_delivery::Model>, DbError> {
        Ok(webhook_delivery::Entity::find()
            .filter(condition(filter))
            .order_by_desc(webhook_delivery::Column::Id)
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.conn)
            .await?)
    }

    /// The keyset page `page` of the deliveries matching `filter`, newest first.
    pub async fn deliveries_after(
        &self,
        filter: &DeliveryFilter,
        page: &KeysetPage,
    ) -> Result<Vec<webhook_delivery::Model>, DbError> {
        let sort = Sort {
            field: DeliveryField::Id,
            direction: SortDirection::Desc,
        };
        let select = webhook_delivery::Entity::find().filter(condition(filter));
        keyset::fetch(&self.conn, select, sort, page).await
    }

    /// How many deliveries match `filter`.
    pub async fn count_deliveries(&self, filter: &DeliveryFilter) -> Result<u64, DbError> {
        Ok(webhook_delivery::Entity::find()
            .filter(condition(filter))
            .count(&self.conn)
            .await?)
    }
}

/// `INSERT … VALUES (…), (…) ON CONFLICT (guid) DO NOTHING RETURNING *` for `rows`, each
/// row's feedstock found by a sub-select on its repository's spec.
fn insert_unless_known(
    rows: &[NewDelivery],
) -> Result<InsertStatement, sea_orm::sea_query::error::Error> {
    use webhook_delivery::Column as C;
    let timestamp = now();
    let mut insert = Query::insert();
    insert.into_table(webhook_delivery::Entity).columns([
        C::Guid,
        C::Event,
        C::Action,
        C::Repository,
        C::FeedstockId,
        C::InstallationId,
        C::Payload,
        C::ReceivedAt,
        C::State,
        C::Attempts,
        C::LastError,
        C::Note,
        C::NextAttemptAt,
        C::CompletedAt,
        C::UpdatedAt,
    ]);
    for new in rows {
        insert.values(row_values(new, timestamp))?;
    }
    insert
        .on_conflict(OnConflict::column(C::Guid).do_nothing().to_owned())
        .returning_all();
    Ok(insert)
}

/// The values of one row of [`insert_unless_known`], in its column order.
fn row_values(new: &NewDelivery, timestamp: DateTime<Utc>) -> Vec<Expr> {
    let terminal = new.state != DeliveryState::Queued;
    let feedstock_id = match &new.repository {
        Some(spec) => Expr::SubQuery(
            None,
            Box::new(
                Query::select()
                    .column(feedstock::Column::Id)
                    .from(feedstock::Entity)
                    .and_where(feedstock::Column::Spec.eq(spec.as_str()))
                    .to_owned()
                    .into(),
            ),
        ),
        None => Expr::value(Option::<i32>::None),
    };
    vec![
        new.guid.as_str().into(),
        new.event.as_str().into(),
        new.action.clone().into(),
        new.repository.clone().into(),
        feedstock_id,
        new.installation_id.into(),
        new.payload.as_str().into(),
        timestamp.into(),
        new.state.into(),
        0.into(),
        new.last_error.clone().into(),
        new.note.clone().into(),
        timestamp.into(),
        terminal.then_some(timestamp).into(),
        timestamp.into(),
    ]
}
