//! Paging, sorting and filtering of the list verbs, shared by GraphQL connections and the
//! REST `offset`/`limit`/`order_by`/`sort` parameters. REST pages by offset ([`Page`]);
//! GraphQL by keyset (`db::keyset`).

use crate::db::enums::{DatasetScope, RunConclusion, RunStatus};
use serde::Deserialize;
use std::str::FromStr;

/// The most rows one page may hold (GraphQL `first`, REST `limit`).
pub const MAX_PAGE_SIZE: u64 = 100;

/// A window onto a list: skip `offset` rows, return at most `limit` (REST's paging, and
/// the server's own scans; GraphQL pages by keyset instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// A column to sort by and a direction; ties are always broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub direction: SortDirection,
}

impl<F: Default> Default for Sort<F> {
    fn default() -> Self {
        Sort {
            field: F::default(),
            direction: SortDirection::Asc,
        }
    }
}

/// Declares a sortable-field enum whose variants map to snake_case column names (the
/// REST `order_by` values) and which GraphQL exposes as `<Name>` enum.
macro_rules! sort_fields {
    ($(#[$doc:meta])* $name:ident, $gql:literal { $($variant:ident => $column:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, async_graphql::Enum)]
        #[graphql(name = $gql)]
        pub enum $name {
            #[default]
            $($variant),+
        }

        impl $name {
            /// The column names accepted by REST `order_by`.
            pub const COLUMNS: &'static [&'static str] = &[$($column),+];

            /// This field's column name (its REST `order_by` value).
            pub fn column_name(self) -> &'static str {
                match self {
                    $($name::$variant => $column,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($column => Ok($name::$variant),)+
                    other => Err(format!(
                        "cannot order by `{other}`: expected one of {}",
                        Self::COLUMNS.join(", ")
                    )),
                }
            }
        }
    };
}

sort_fields!(
    /// Columns a bakery list can be sorted by.
    BakeryField, "BakeryOrderField" {
        Id => "id", Region => "region", Name => "name", Description => "description",
    }
);

sort_fields!(
    /// Columns a feedstock list can be sorted by.
    FeedstockField, "FeedstockOrderField" {
        Id => "id", Spec => "spec", Provider => "provider",
    }
);

sort_fields!(
    /// Columns a recipe-run list can be sorted by.
    RecipeRunField, "RecipeRunOrderField" {
        Id => "id", RecipeId => "recipe_id", BakeryId => "bakery_id",
        FeedstockId => "feedstock_id", HeadSha => "head_sha", Version => "version",
        StartedAt => "started_at", CompletedAt => "completed_at", Conclusion => "conclusion",
        Status => "status", IsTest => "is_test", DatasetType => "dataset_type",
        DatasetPublicUrl => "dataset_public_url", UpdatedAt => "updated_at",
    }
);

sort_fields!(
    /// Columns a dataset list can be sorted by.
    DatasetField, "DatasetOrderField" {
        Id => "id", FeedstockId => "feedstock_id", RecipeId => "recipe_id",
        CreatedAt => "created_at",
    }
);

/// The one column webhook deliveries are ordered by (GraphQL lists them newest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeliveryField {
    #[default]
    Id,
}

/// Which recipe runs a list includes; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipeRunFilter {
    pub status: Option<RunStatus>,
    pub conclusion: Option<RunConclusion>,
    pub is_test: Option<bool>,
    pub feedstock_id: Option<i32>,
    pub bakery_id: Option<i32>,
    pub head_sha: Option<String>,
    pub recipe_id: Option<String>,
}

/// Which datasets a list includes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetFilter {
    pub feedstock_id: Option<i32>,
    pub scope: DatasetScope,
}
