//! Feedstocks: the `Feedstock` type, its queries and its admin mutations.

use super::auth::AdminGuard;
use super::connection::{TotalCount, connection_type, page_of};
use super::dataset::Dataset;
use super::error::{OrGql, db};
use super::loaders::{DatasetsOf, RunsOf, nested_limit, node_type};
use super::plain::{Plain, plain_fields};
use super::recipe_run::RecipeRun;
use crate::db::entities::feedstock;
use crate::db::enums::DatasetScope;
use crate::db::listing::{FeedstockField, Sort, SortDirection};
use crate::db::{FeedstockPatch, NewFeedstock, RunParent};
use async_graphql::{Context, InputObject, Object, Result};

node_type!(
    /// A feedstock repository (`org/name-feedstock`; staged-recipes is one too).
    Feedstock,
    feedstock::Model
);

plain_fields!(Feedstock, self.row => row {
    "id" => row.id,
    "spec" => row.spec,
    "provider" => row.provider,
});

#[Object]
impl Feedstock {
    async fn id(&self) -> i32 {
        self.row.id
    }
    /// `org/name`, e.g. `pangeo-forge/gpcp-feedstock`.
    async fn spec(&self) -> &str {
        &self.row.spec
    }
    /// Where the repository lives (`github`).
    async fn provider(&self) -> &str {
        &self.row.provider
    }
    /// The newest runs of this feedstock, newest first (at most 100; page through
    /// `recipeRuns(filter: {feedstockId})` for more).
    async fn recipe_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<Plain<RecipeRun>>> {
        let limit = nested_limit(first)?;
        let key_of = |row: &feedstock::Model| RunsOf {
            parent: RunParent::Feedstock,
            id: row.id,
            limit,
        };
        let runs = self
            .siblings
            .load_node_lists(ctx, &format!("runs:{limit}"), key_of, RecipeRun::list)
            .await?;
        Ok(Plain::all(runs.get(&key_of(&self.row))))
    }
    /// The datasets this feedstock's runs produced, newest first.
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", default)] scope: DatasetScope,
    ) -> Result<Vec<Plain<Dataset>>> {
        let key_of = |f: &feedstock::Model| DatasetsOf {
            feedstock_id: f.id,
            scope,
        };
        let datasets = self
            .siblings
            .load_node_lists(ctx, &format!("datasets:{scope:?}"), key_of, Dataset::list)
            .await?;
        Ok(Plain::all(datasets.get(&key_of(&self.row))))
    }
}

connection_type!(FeedstockConnection, FeedstockEdge, Feedstock);

/// How to sort feedstocks.
#[derive(InputObject, Clone, Copy)]
pub struct FeedstockOrder {
    field: FeedstockField,
    #[graphql(default)]
    direction: SortDirection,
}

/// Feedstock queries.
#[derive(Default)]
pub struct FeedstockQuery;

#[Object]
impl FeedstockQuery {
    /// One feedstock by id, or null.
    async fn feedstock(&self, ctx: &Context<'_>, id: i32) -> Result<Option<Feedstock>> {
        Ok(db(ctx)?.feedstock(id).await.or_gql()?.map(Feedstock::one))
    }
    /// One feedstock by spec (`org/name`), or null.
    async fn feedstock_by_spec(
        &self,
        ctx: &Context<'_>,
        spec: String,
    ) -> Result<Option<Feedstock>> {
        Ok(db(ctx)?
            .feedstock_by_spec(&spec)
            .await
            .or_gql()?
            .map(Feedstock::one))
    }
    /// A page of feedstocks (at most 100), by id unless `orderBy` says otherwise.
    async fn feedstocks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<FeedstockOrder>,
    ) -> Result<FeedstockConnection> {
        let sort = order_by
            .map(|o| Sort {
                field: o.field,
                direction: o.direction,
            })
            .unwrap_or_default();
        let request = page_of("feedstocks", sort, first, after.as_deref())?;
        let rows = db(ctx)?
            .feedstocks_after(sort, &request.page)
            .await
            .or_gql()?;
        Ok(FeedstockConnection::new(
            rows,
            &request,
            Feedstock::list,
            TotalCount::Feedstocks,
        ))
    }
}

/// A new feedstock.
#[derive(InputObject)]
pub struct CreateFeedstockInput {
    /// `org/name`, e.g. `pangeo-forge/gpcp-feedstock`.
    spec: String,
    /// Defaults to `github`, the only provider.
    provider: Option<String>,
}

/// Changes to a feedstock; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateFeedstockInput {
    spec: Option<String>,
    provider: Option<String>,
}

/// Feedstock mutations (admin key required).
#[derive(Default)]
pub struct FeedstockMutation;

#[Object]
impl FeedstockMutation {
    /// Registers a feedstock. `CONFLICT` if the spec is taken.
    #[graphql(guard = "AdminGuard")]
    async fn create_feedstock(
        &self,
        ctx: &Context<'_>,
        input: CreateFeedstockInput,
    ) -> Result<Feedstock> {
        let new = NewFeedstock {
            spec: input.spec,
            provider: input.provider,
        };
        Ok(Feedstock::one(
            db(ctx)?.create_feedstock(new).await.or_gql()?,
        ))
    }
    /// Changes a feedstock. `NOT_FOUND` if there is none with this id.
    #[graphql(guard = "AdminGuard")]
    async fn update_feedstock(
        &self,
        ctx: &Context<'_>,
        id: i32,
        input: UpdateFeedstockInput,
    ) -> Result<Feedstock> {
        let patch = FeedstockPatch {
            spec: input.spec,
            provider: input.provider,
        };
        Ok(Feedstock::one(
            db(ctx)?.update_feedstock(id, patch).await.or_gql()?,
        ))
    }
    /// Deletes a feedstock without runs or datasets, and returns it.
    #[graphql(guard = "AdminGuard")]
    async fn delete_feedstock(&self, ctx: &Context<'_>, id: i32) -> Result<Feedstock> {
        Ok(Feedstock::one(
            db(ctx)?.delete_feedstock(id).await.or_gql()?,
        ))
    }
}
