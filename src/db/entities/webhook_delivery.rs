//! A webhook delivery: stored before it is answered, then worked on from the queue.

use crate::db::enums::DeliveryState;
use sea_orm::entity::prelude::*;

/// One delivery per `X-GitHub-Delivery` GUID (unique), with its processing state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// GitHub's `X-GitHub-Delivery`; the bakery monitor sends its own.
    #[sea_orm(unique)]
    pub guid: String,
    /// `X-GitHub-Event`, e.g. `pull_request`.
    pub event: String,
    /// The payload's `action`, if any.
    pub action: Option<String>,
    /// The payload's `repository.full_name`, if any.
    pub repository: Option<String>,
    /// The feedstock of `repository`, when it is registered.
    pub feedstock_id: Option<i32>,
    /// The payload's `installation.id`: the installation to act as.
    pub installation_id: Option<i64>,
    /// The raw body, exactly as signed.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub received_at: DateTimeUtc,
    pub state: DeliveryState,
    /// How many times processing started.
    pub attempts: i32,
    /// Why the last attempt failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// What processing did, or why it did nothing (for `done` and `ignored`).
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// The flow's journal (JSON): results of the steps already done, so a retry resumes
    /// instead of repeating a GitHub call that created something.
    #[sea_orm(column_type = "Text", nullable)]
    pub progress: Option<String>,
    /// A queued delivery is not claimed before this time (retry backoff).
    pub next_attempt_at: DateTimeUtc,
    /// The worker holding the delivery while it is `processing`.
    pub claimed_by: Option<String>,
    /// A `processing` claim older than this was abandoned (its process died) and is taken up again.
    pub claimed_until: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
