//! The vocabularies of runs and datasets (status, conclusion, dataset type), shared by the
//! database, GraphQL (as enums) and the REST routes (as snake_case strings, exactly as the
//! original API wrote them).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a recipe run is in its life: GitHub's check-run status vocabulary.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
#[graphql(name = "RecipeRunStatus")]
pub enum RunStatus {
    /// Recorded, not yet submitted to a bakery.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Submitted; the bakery is running it.
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    /// Finished; `conclusion` says how.
    #[sea_orm(string_value = "completed")]
    Completed,
}

/// How a completed recipe run ended: GitHub's check-run conclusion vocabulary.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
#[graphql(name = "RecipeRunConclusion")]
pub enum RunConclusion {
    #[sea_orm(string_value = "action_required")]
    ActionRequired,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    #[sea_orm(string_value = "failure")]
    Failure,
    #[sea_orm(string_value = "neutral")]
    Neutral,
    #[sea_orm(string_value = "success")]
    Success,
    #[sea_orm(string_value = "skipped")]
    Skipped,
    #[sea_orm(string_value = "stale")]
    Stale,
    #[sea_orm(string_value = "timed_out")]
    TimedOut,
}

/// The storage format of a dataset a run produced.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum DatasetType {
    #[sea_orm(string_value = "zarr")]
    Zarr,
    #[sea_orm(string_value = "kerchunk")]
    Kerchunk,
    #[sea_orm(string_value = "parquet")]
    Parquet,
}

/// Which datasets a listing includes: those of production runs, of test runs, or both.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[graphql(name = "DatasetScope")]
pub enum DatasetScope {
    /// Production and test datasets.
    #[default]
    All,
    /// Datasets of production runs (merged feedstock recipes).
    Production,
    /// Datasets of test runs (pruned subsets, from `/run` on a pull request).
    Test,
}

impl DatasetScope {
    /// The `is_test` value this scope selects, or `None` for both.
    pub fn is_test(self) -> Option<bool> {
        match self {
            DatasetScope::All => None,
            DatasetScope::Production => Some(false),
            DatasetScope::Test => Some(true),
        }
    }
}

/// Where a webhook delivery is in its processing.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
#[graphql(name = "WebhookDeliveryState")]
pub enum DeliveryState {
    /// Stored, waiting for a worker (or for its retry time).
    #[sea_orm(string_value = "queued")]
    Queued,
    /// A worker is on it.
    #[sea_orm(string_value = "processing")]
    Processing,
    /// Processed.
    #[sea_orm(string_value = "done")]
    Done,
    /// Recorded only: no flow acts on this event or repository.
    #[sea_orm(string_value = "ignored")]
    Ignored,
    /// Failed for good; `lastError` says why. A redelivery of it runs it again.
    #[sea_orm(string_value = "failed")]
    Failed,
}
