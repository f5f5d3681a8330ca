//! The sort key of every ordering of every list: which column each sortable field is, what
//! it holds, whether it can be NULL, and each row's value in it (what a keyset cursor
//! carries).

use super::entities::{bakery, dataset, feedstock, recipe_run, webhook_delivery};
use super::keyset::{KeyKind, KeyValue, SortKey};
use super::listing::{BakeryField, DatasetField, DeliveryField, FeedstockField, RecipeRunField};
use sea_orm::ActiveEnum;

impl SortKey for BakeryField {
    type Entity = bakery::Entity;

    fn column(self) -> bakery::Column {
        match self {
            BakeryField::Id => bakery::Column::Id,
            BakeryField::Region => bakery::Column::Region,
            BakeryField::Name => bakery::Column::Name,
            BakeryField::Description => bakery::Column::Description,
        }
    }
    fn id_column() -> bakery::Column {
        bakery::Column::Id
    }
    fn kind(self) -> KeyKind {
        match self {
            BakeryField::Id => KeyKind::Int,
            _ => KeyKind::Text,
        }
    }
    fn nullable(self) -> bool {
        false
    }
    fn key(self, row: &bakery::Model) -> KeyValue {
        match self {
            BakeryField::Id => KeyValue::Int(row.id),
            BakeryField::Region => KeyValue::Text(row.region.clone()),
            BakeryField::Name => KeyValue::Text(row.name.clone()),
            BakeryField::Description => KeyValue::Text(row.description.clone()),
        }
    }
    fn id_of(row: &bakery::Model) -> i32 {
        row.id
    }
    fn name(self) -> &'static str {
        self.column_name()
    }
}

impl SortKey for FeedstockField {
    type Entity = feedstock::Entity;

    fn column(self) -> feedstock::Column {
        match self {
            FeedstockField::Id => feedstock::Column::Id,
            FeedstockField::Spec => feedstock::Column::Spec,
            FeedstockField::Provider => feedstock::Column::Provider,
        }
    }
    fn id_column() -> feedstock::Column {
        feedstock::Column::Id
    }
    fn kind(self) -> KeyKind {
        match self {
            FeedstockField::Id => KeyKind::Int,
            _ => KeyKind::Text,
        }
    }
    fn nullable(self) -> bool {
        false
    }
    fn key(self, row: &feedstock::Model) -> KeyValue {
        match self {
            FeedstockField::Id => KeyValue::Int(row.id),
            FeedstockField::Spec => KeyValue::Text(row.spec.clone()),
            FeedstockField::Provider => KeyValue::Text(row.provider.clone()),
        }
    }
    fn id_of(row: &feedstock::Model) -> i32 {
        row.id
    }
    fn name(self) -> &'static str {
        self.column_name()
    }
}

impl SortKey for RecipeRunField {
    type Entity = recipe_run::Entity;

    fn column(self) -> recipe_run::Column {
        use recipe_run::Column as C;
        match self {
            RecipeRunField::Id => C::Id,
            RecipeRunField::RecipeId => C::RecipeId,
            RecipeRunField::BakeryId => C::BakeryId,
            RecipeRunField::FeedstockId => C::FeedstockId,
            RecipeRunField::HeadSha => C::HeadSha,
            RecipeRunField::Version => C::Version,
            RecipeRunField::StartedAt => C::StartedAt,
            RecipeRunField::CompletedAt => C::CompletedAt,
            RecipeRunField::Conclusion => C::Conclusion,
            RecipeRunField::Status => C::Status,
            RecipeRunField::IsTest => C::IsTest,
            RecipeRunField::DatasetType => C::DatasetType,
            RecipeRunField::DatasetPublicUrl => C::DatasetPublicUrl,
            RecipeRunField::UpdatedAt => C::UpdatedAt,
        }
    }
    fn id_column() -> recipe_run::Column {
        recipe_run::Column::Id
    }
    fn kind(self) -> KeyKind {
        use RecipeRunField as F;
        match self {
            F::Id | F::BakeryId | F::FeedstockId => KeyKind::Int,
            F::StartedAt | F::CompletedAt | F::UpdatedAt => KeyKind::Time,
            F::IsTest => KeyKind::Bool,
            F::RecipeId
            | F::HeadSha
            | F::Version
            | F::Conclusion
            | F::Status
            | F::DatasetType
            | F::DatasetPublicUrl => KeyKind::Text,
        }
    }
    fn nullable(self) -> bool {
        use RecipeRunField as F;
        matches!(
            self,
            F::CompletedAt | F::Conclusion | F::DatasetType | F::DatasetPublicUrl
        )
    }
    fn key(self, row: &recipe_run::Model) -> KeyValue {
        use RecipeRunField as F;
        let text = |v: &Option<String>| v.clone().map_or(KeyValue::Null, KeyValue::Text);
        match self {
            F::Id => KeyValue::Int(row.id),
            F::RecipeId => KeyValue::Text(row.recipe_id.clone()),
            F::BakeryId => KeyValue::Int(row.bakery_id),
            F::FeedstockId => KeyValue::Int(row.feedstock_id),
            F::HeadSha => KeyValue::Text(row.head_sha.clone()),
            F::Version => KeyValue::Text(row.version.clone()),
            F::StartedAt => KeyValue::Time(row.started_at),
            F::CompletedAt => row.completed_at.map_or(KeyValue::Null, KeyValue::Time),
            F::Conclusion => text(&row.conclusion.map(|c| c.to_value())),
            F::Status => KeyValue::Text(row.status.to_value()),
            F::IsTest => KeyValue::Bool(row.is_test),
            F::DatasetType => text(&row.dataset_type.map(|t| t.to_value())),
            F::DatasetPublicUrl => text(&row.dataset_public_url),
            F::UpdatedAt => KeyValue::Time(row.updated_at),
        }
    }
    fn id_of(row: &recipe_run::Model) -> i32 {
        row.id
    }
    fn name(self) -> &'static str {
        self.column_name()
    }
}

impl SortKey for DatasetField {
    type Entity = dataset::Entity;

    fn column(self) -> dataset::Column {
        match self {
            DatasetField::Id => dataset::Column::Id,
            DatasetField::FeedstockId => dataset::Column::FeedstockId,
            DatasetField::RecipeId => dataset::Column::RecipeId,
            DatasetField::CreatedAt => dataset::Column::CreatedAt,
        }
    }
    fn id_column() -> dataset::Column {
        dataset::Column::Id
    }
    fn kind(self) -> KeyKind {
        match self {
            DatasetField::Id | DatasetField::FeedstockId => KeyKind::Int,
            DatasetField::RecipeId => KeyKind::Text,
            DatasetField::CreatedAt => KeyKind::Time,
        }
    }
    fn nullable(self) -> bool {
        false
    }
    fn key(self, row: &dataset::Model) -> KeyValue {
        match self {
            DatasetField::Id => KeyValue::Int(row.id),
            DatasetField::FeedstockId => KeyValue::Int(row.feedstock_id),
            DatasetField::RecipeId => KeyValue::Text(row.recipe_id.clone()),
            DatasetField::CreatedAt => KeyValue::Time(row.created_at),
        }
    }
    fn id_of(row: &dataset::Model) -> i32 {
        row.id
    }
    fn name(self) -> &'static str {
        self.column_name()
    }
}

impl SortKey for DeliveryField {
    type Entity = webhook_delivery::Entity;

    fn column(self) -> webhook_delivery::Column {
        webhook_delivery::Column::Id
    }
    fn id_column() -> webhook_delivery::Column {
        webhook_delivery::Column::Id
    }
    fn kind(self) -> KeyKind {
        KeyKind::Int
    }
    fn nullable(self) -> bool {
        false
    }
    fn key(self, row: &webhook_delivery::Model) -> KeyValue {
        KeyValue::Int(row.id)
    }
    fn id_of(row: &webhook_delivery::Model) -> i32 {
        row.id
    }
    fn name(self) -> &'static str {
        "id"
    }
}
