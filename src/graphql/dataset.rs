//! Datasets: the output of successful recipe runs.

use super::connection::{TotalCount, connection_type, page_of};
use super::dataset_summary::{DatasetSummary, PREVIEW_COMPLEXITY, preview_of};
use super::error::{OrGql, db};
use super::feedstock::Feedstock;
use super::loaders::{FeedstockById, RecipeRunById, node_type};
use super::plain::{Plain, plain_fields};
use super::recipe_run::RecipeRun;
use crate::db::entities::dataset;
use crate::db::enums::{DatasetScope, DatasetType};
use crate::db::listing::{DatasetField, DatasetFilter, Sort, SortDirection};
use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, Utc};

node_type!(
    /// A dataset a successful run wrote, at a public URL.
    Dataset,
    dataset::Model
);

plain_fields!(Dataset, self.row => row {
    "id" => row.id,
    "feedstockId" => row.feedstock_id,
    "recipeRunId" => row.recipe_run_id,
    "recipeId" => row.recipe_id,
    "type" => row.dataset_type,
    "url" => row.url,
    "isTest" => row.is_test,
    "createdAt" => row.created_at,
});

#[Object]
impl Dataset {
    async fn id(&self) -> i32 {
        self.row.id
    }
    async fn feedstock_id(&self) -> i32 {
        self.row.feedstock_id
    }
    async fn recipe_run_id(&self) -> i32 {
        self.row.recipe_run_id
    }
    async fn recipe_id(&self) -> &str {
        &self.row.recipe_id
    }
    #[graphql(name = "type")]
    async fn dataset_type(&self) -> DatasetType {
        self.row.dataset_type
    }
    /// Where the dataset can be opened, e.g. with `xr.open_dataset(url, engine="zarr")`.
    async fn url(&self) -> &str {
        &self.row.url
    }
    /// Whether a test run (a pruned subset) produced it.
    async fn is_test(&self) -> bool {
        self.row.is_test
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// Dimensions, coordinates, variables and attributes as `xr.open_dataset(url,
    /// engine="zarr", chunks={})` shows them, read from the store's metadata (never its
    /// chunks); null with a field error (`extensions.code`) when the store cannot be read.
    #[graphql(complexity = "PREVIEW_COMPLEXITY + child_complexity")]
    async fn summary(&self, ctx: &Context<'_>) -> Result<Option<DatasetSummary>> {
        let preview = preview_of(ctx, &self.row.url, self.siblings.rows() > 1).await?;
        Ok(Some(DatasetSummary::from(&preview.summary)))
    }
    /// The same as HTML in the layout of xarray's `_repr_html_` (every value escaped), as
    /// `/repr/xarray/` answers it; null with a field error when the store cannot be read.
    #[graphql(complexity = "PREVIEW_COMPLEXITY")]
    async fn repr_html(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(
            preview_of(ctx, &self.row.url, self.siblings.rows() > 1)
                .await?
                .html
                .clone(),
        ))
    }
    async fn feedstock(&self, ctx: &Context<'_>) -> Result<Plain<Feedstock>> {
        let key_of = |d: &dataset::Model| FeedstockById(d.feedstock_id);
        let found = self
            .siblings
            .load_nodes(ctx, "feedstock", key_of, Feedstock::list)
            .await?;
        Plain::found(&found, &key_of(&self.row), || {
            format!("feedstock {}", self.row.feedstock_id)
        })
    }
    async fn recipe_run(&self, ctx: &Context<'_>) -> Result<Plain<RecipeRun>> {
        let key_of = |d: &dataset::Model| RecipeRunById(d.recipe_run_id);
        let found = self
            .siblings
            .load_nodes(ctx, "recipe_run", key_of, RecipeRun::list)
            .await?;
        Plain::found(&found, &key_of(&self.row), || {
            format!("recipe run {}", self.row.recipe_run_id)
        })
    }
}

connection_type!(DatasetConnection, DatasetEdge, Dataset);

/// How to sort datasets.
#[derive(InputObject, Clone, Copy)]
pub struct DatasetOrder {
    field: DatasetField,
    #[graphql(default)]
    direction: SortDirection,
}

/// Dataset queries.
#[derive(Default)]
pub struct DatasetQuery;

#[Object]
impl DatasetQuery {
    /// A page of datasets (at most 100), optionally of one feedstock and of production
    /// (`type: PRODUCTION`) or test (`type: TEST`) runs only.
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<DatasetOrder>,
        feedstock_id: Option<i32>,
        #[graphql(name = "type", default)] scope: DatasetScope,
    ) -> Result<DatasetConnection> {
        let sort = order_by
            .map(|o| Sort {
                field: o.field,
                direction: o.direction,
            })
            .unwrap_or_default();
        let request = page_of("datasets", sort, first, after.as_deref())?;
        let filter = DatasetFilter {
            feedstock_id,
            scope,
        };
        let rows = db(ctx)?
            .datasets_after(&filter, sort, &request.page)
            .await
            .or_gql()?;
        Ok(DatasetConnection::new(
            rows,
            &request,
            Dataset::list,
            TotalCount::Datasets(filter),
        ))
    }
}
