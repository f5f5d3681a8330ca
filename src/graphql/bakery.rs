//! Bakeries: the `Bakery` type, its queries and its admin mutations.

use super::auth::AdminGuard;
use super::connection::{TotalCount, connection_type, page_of};
use super::error::{OrGql, db};
use super::loaders::{RunsOf, nested_limit, node_type};
use super::plain::{Plain, plain_fields};
use super::recipe_run::RecipeRun;
use crate::db::entities::bakery;
use crate::db::listing::{BakeryField, Sort, SortDirection};
use crate::db::{BakeryPatch, NewBakery, RunParent};
use async_graphql::{Context, InputObject, Object, Result};

node_type!(
    /// A place where recipes run (Dataflow, Flink or a local Beam runner).
    Bakery,
    bakery::Model
);

plain_fields!(Bakery, self.row => row {
    "id" => row.id,
    "region" => row.region,
    "name" => row.name,
    "description" => row.description,
});

#[Object]
impl Bakery {
    async fn id(&self) -> i32 {
        self.row.id
    }
    /// The cloud region, e.g. `us-central1`.
    async fn region(&self) -> &str {
        &self.row.region
    }
    /// Unique; meta.yaml's `bakery.id` names a bakery by this.
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn description(&self) -> &str {
        &self.row.description
    }
    /// The newest runs on this bakery, newest first (at most 100).
    async fn recipe_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<Plain<RecipeRun>>> {
        let limit = nested_limit(first)?;
        let key_of = |row: &bakery::Model| RunsOf {
            parent: RunParent::Bakery,
            id: row.id,
            limit,
        };
        let runs = self
            .siblings
            .load_node_lists(ctx, &format!("runs:{limit}"), key_of, RecipeRun::list)
            .await?;
        Ok(Plain::all(runs.get(&key_of(&self.row))))
    }
}

connection_type!(BakeryConnection, BakeryEdge, Bakery);

/// How to sort bakeries.
#[derive(InputObject, Clone, Copy)]
pub struct BakeryOrder {
    field: BakeryField,
    #[graphql(default)]
    direction: SortDirection,
}

/// Bakery queries.
#[derive(Default)]
pub struct BakeryQuery;

#[Object]
impl BakeryQuery {
    /// One bakery by id, or null.
    async fn bakery(&self, ctx: &Context<'_>, id: i32) -> Result<Option<Bakery>> {
        Ok(db(ctx)?.bakery(id).await.or_gql()?.map(Bakery::one))
    }
    /// One bakery by name, or null.
    async fn bakery_by_name(&self, ctx: &Context<'_>, name: String) -> Result<Option<Bakery>> {
        Ok(db(ctx)?
            .bakery_by_name(&name)
            .await
            .or_gql()?
            .map(Bakery::one))
    }
    /// A page of bakeries (at most 100), by id unless `orderBy` says otherwise.
    async fn bakeries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<BakeryOrder>,
    ) -> Result<BakeryConnection> {
        let sort = order_by
            .map(|o| Sort {
                field: o.field,
                direction: o.direction,
            })
            .unwrap_or_default();
        let request = page_of("bakeries", sort, first, after.as_deref())?;
        let rows = db(ctx)?
            .bakeries_after(sort, &request.page)
            .await
            .or_gql()?;
        Ok(BakeryConnection::new(
            rows,
            &request,
            Bakery::list,
            TotalCount::Bakeries,
        ))
    }
}

/// A new bakery.
#[derive(InputObject)]
pub struct CreateBakeryInput {
    name: String,
    region: String,
    description: String,
}

/// Changes to a bakery; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateBakeryInput {
    name: Option<String>,
    region: Option<String>,
    description: Option<String>,
}

/// Bakery mutations (admin key required).
#[derive(Default)]
pub struct BakeryMutation;

#[Object]
impl BakeryMutation {
    /// Registers a bakery. `CONFLICT` if the name is taken.
    #[graphql(guard = "AdminGuard")]
    async fn create_bakery(&self, ctx: &Context<'_>, input: CreateBakeryInput) -> Result<Bakery> {
        let new = NewBakery {
            name: input.name,
            region: input.region,
            description: input.description,
        };
        Ok(Bakery::one(db(ctx)?.create_bakery(new).await.or_gql()?))
    }
    /// Changes a bakery. `NOT_FOUND` if there is none with this id.
    #[graphql(guard = "AdminGuard")]
    async fn update_bakery(
        &self,
        ctx: &Context<'_>,
        id: i32,
        input: UpdateBakeryInput,
    ) -> Result<Bakery> {
        let patch = BakeryPatch {
            name: input.name,
            region: input.region,
            description: input.description,
        };
        Ok(Bakery::one(
            db(ctx)?.update_bakery(id, patch).await.or_gql()?,
        ))
    }
    /// Deletes a bakery no run names, and returns it.
    #[graphql(guard = "AdminGuard")]
    async fn delete_bakery(&self, ctx: &Context<'_>, id: i32) -> Result<Bakery> {
        Ok(Bakery::one(db(ctx)?.delete_bakery(id).await.or_gql()?))
    }
}
