//! `webhook_delivery`: every verified webhook delivery, stored before it is answered, and
//! the durable work queue its processing runs from.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    Guid,
    Event,
    Action,
    Repository,
    FeedstockId,
    InstallationId,
    Payload,
    ReceivedAt,
    State,
    Attempts,
    LastError,
    Note,
    Progress,
    NextAttemptAt,
    ClaimedBy,
    ClaimedUntil,
    CompletedAt,
    UpdatedAt,
}

fn timestamptz(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn timestamptz_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .if_not_exists()
                    .col(pk_auto(WebhookDelivery::Id))
                    .col(string_uniq(WebhookDelivery::Guid))
                    .col(string(WebhookDelivery::Event))
                    .col(string_null(WebhookDelivery::Action))
                    .col(string_null(WebhookDelivery::Repository))
                    .col(integer_null(WebhookDelivery::FeedstockId))
                    .col(big_integer_null(WebhookDelivery::InstallationId))
                    .col(text(WebhookDelivery::Payload))
                    .col(timestamptz(WebhookDelivery::ReceivedAt))
                    .col(string(WebhookDelivery::State))
                    .col(integer(WebhookDelivery::Attempts).default(0))
                    .col(text_null(WebhookDelivery::LastError))
                    .col(text_null(WebhookDelivery::Note))
                    .col(text_null(WebhookDelivery::Progress))
                    .col(timestamptz(WebhookDelivery::NextAttemptAt))
                    .col(string_null(WebhookDelivery::ClaimedBy))
                    .col(timestamptz_null(WebhookDelivery::ClaimedUntil))
                    .col(timestamptz_null(WebhookDelivery::CompletedAt))
                    .col(timestamptz(WebhookDelivery::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_delivery_queue")
                    .table(WebhookDelivery::Table)
                    .if_not_exists()
                    .col(WebhookDelivery::State)
                    .col(WebhookDelivery::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_delivery_feedstock")
                    .table(WebhookDelivery::Table)
                    .if_not_exists()
                    .col(WebhookDelivery::FeedstockId)
                    .col(WebhookDelivery::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDelivery::Table).to_owned())
            .await
    }
}
