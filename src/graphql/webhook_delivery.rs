//! Webhook deliveries: what arrived, and how its processing went (this replaces the
//! original's calls to GitHub for the deliveries list).

use super::auth::Caller;
use super::connection::{TotalCount, connection_type, page_of};
use super::error::{ApiError, OrGql, db};
use super::plain::plain_fields;
use crate::db::DeliveryFilter;
use crate::db::entities::webhook_delivery;
use crate::db::enums::DeliveryState;
use crate::db::listing::{DeliveryField, Sort, SortDirection};
use async_graphql::{Context, ErrorExtensions, Object, Result};
use chrono::{DateTime, Utc};

/// One webhook delivery (from GitHub or a bakery monitor) and its processing state.
pub struct WebhookDelivery(pub std::sync::Arc<webhook_delivery::Model>);

plain_fields!(WebhookDelivery, self.0 => delivery {
    "id" => delivery.id,
    "guid" => delivery.guid,
    "event" => delivery.event,
    "action" => delivery.action,
    "repository" => delivery.repository,
    "feedstockId" => delivery.feedstock_id,
    "receivedAt" => delivery.received_at,
    "state" => delivery.state,
    "attempts" => delivery.attempts,
    "lastError" => delivery.last_error,
    "note" => delivery.note,
    "nextAttemptAt" => delivery.next_attempt_at,
    "completedAt" => delivery.completed_at,
    "updatedAt" => delivery.updated_at,
});

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> i32 {
        self.0.id
    }
    /// The sender's delivery id (`X-GitHub-Delivery`).
    async fn guid(&self) -> &str {
        &self.0.guid
    }
    /// `X-GitHub-Event`, e.g. `pull_request`.
    async fn event(&self) -> &str {
        &self.0.event
    }
    /// The payload's `action`, e.g. `opened`.
    async fn action(&self) -> Option<&str> {
        self.0.action.as_deref()
    }
    /// The repository (`owner/name`) the delivery is about.
    async fn repository(&self) -> Option<&str> {
        self.0.repository.as_deref()
    }
    /// The feedstock of that repository, when it was registered on receipt.
    async fn feedstock_id(&self) -> Option<i32> {
        self.0.feedstock_id
    }
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
    async fn state(&self) -> DeliveryState {
        self.0.state
    }
    /// How many times processing started.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt failed (kept when it succeeded later).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// What processing did, or why nothing was done.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// A queued delivery is not retried before this time.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The raw body as received (admin key required).
    async fn payload(&self, ctx: &Context<'_>) -> Result<&str> {
        match ctx.data_opt::<Caller>() {
            Some(Caller::Admin) => Ok(&self.0.payload),
            _ => Err(ApiError::Unauthenticated(
                "`payload` needs an admin API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
                    .into(),
            )
            .extend()),
        }
    }
}

connection_type!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery
);

/// Delivery queries.
#[derive(Default)]
pub struct WebhookDeliveryQuery;

#[Object]
impl WebhookDeliveryQuery {
    /// A page of deliveries (at most 100), newest first.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        feedstock_id: Option<i32>,
        state: Option<DeliveryState>,
        event: Option<String>,
    ) -> Result<WebhookDeliveryConnection> {
        let newest_first = Sort {
            field: DeliveryField::Id,
            direction: SortDirection::Desc,
        };
        let request = page_of("webhookDeliveries", newest_first, first, after.as_deref())?;
        let filter = DeliveryFilter {
            feedstock_id,
            state,
            event,
        };
        let rows = db(ctx)?
            .deliveries_after(&filter, &request.page)
            .await
            .or_gql()?;
        Ok(WebhookDeliveryConnection::new(
            rows,
            &request,
            |rows| {
                rows.into_iter()
                    .map(|row| WebhookDelivery(row.into()))
                    .collect()
            },
            TotalCount::Deliveries(filter),
        ))
    }
    /// One delivery by its GUID, or null.
    async fn webhook_delivery(
        &self,
        ctx: &Context<'_>,
        guid: String,
    ) -> Result<Option<WebhookDelivery>> {
        Ok(db(ctx)?
            .delivery_by_guid(&guid)
            .await
            .or_gql()?
            .map(|row| WebhookDelivery(row.into())))
    }
}
