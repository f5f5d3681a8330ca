//! The GraphQL API pangeo-forge.org reads: one query/mutation object per area, merged.
//!
//! Resolvers stay thin: they call the same [`Database`] verbs as the REST routes, nested
//! fields load through one batching [`loaders::DbLoader`], and every error carries
//! `extensions.code` (see [`error`]).

pub(crate) mod auth;
pub(crate) mod bakery;
pub(crate) mod connection;
pub(crate) mod cursor;
pub(crate) mod dataset;
pub(crate) mod dataset_summary;
pub mod documents;
pub(crate) mod error;
pub(crate) mod feedstock;
pub mod introspection;
pub mod live;
pub(crate) mod loaders;
pub mod plain;
pub(crate) mod recipe_run;
pub(crate) mod run_control;
pub(crate) mod stats;
pub(crate) mod subscriptions;
pub(crate) mod webhook_delivery;

use crate::db::Database;
use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, Schema};

/// How deep a query may nest (a page of feedstocks → runs → bakery is 5 deep).
pub const MAX_DEPTH: usize = 12;
/// How deep an operation of only introspection fields may nest: the standard
/// introspection query is 15 deep; a few levels more for other tools' variants.
pub const MAX_INTROSPECTION_DEPTH: usize = 20;
/// How many fields a query may select in all.
pub const MAX_COMPLEXITY: usize = 1000;

/// Every query field.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    feedstock::FeedstockQuery,
    bakery::BakeryQuery,
    recipe_run::RecipeRunQuery,
    dataset::DatasetQuery,
    stats::StatsQuery,
    webhook_delivery::WebhookDeliveryQuery,
);

/// Every mutation field (all need the admin key).
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    bakery::BakeryMutation,
    feedstock::FeedstockMutation,
    recipe_run::RecipeRunMutation,
    run_control::RunControlMutation,
);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot>;

/// Builds the schema; without a database it can only print its SDL.
pub fn build_schema(db: Option<Database>) -> AppSchema {
    build_schema_with_queue(db, run_control::QueueSignal::default())
}

/// The schema that answers operations of only introspection fields
/// ([`introspection::is_introspection_only`]): no database, a deeper limit.
pub fn build_introspection_schema() -> AppSchema {
    builder(MAX_INTROSPECTION_DEPTH).finish()
}

/// The schema's types and limits. No extension: one would send every field through
/// async-graphql's instrumented path, and past [`plain::Plain`] (see there).
fn builder(
    depth: usize,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        subscriptions::SubscriptionRoot,
    )
    .limit_depth(depth)
    .limit_complexity(MAX_COMPLEXITY)
}

/// `request` as `caller` sends it, with its own budget of dataset previews
/// ([`dataset_summary::PreviewBudget`]).
pub fn for_caller(request: async_graphql::Request, caller: auth::Caller) -> async_graphql::Request {
    request
        .data(caller)
        .data(dataset_summary::PreviewBudget::default())
}

/// Builds the schema whose mutations wake the workers through `queue`.
pub fn build_schema_with_queue(db: Option<Database>, queue: run_control::QueueSignal) -> AppSchema {
    build_schema_with(db, queue, None)
}

/// Builds the schema whose mutations wake the workers through `queue` and whose datasets'
/// `summary` and `reprHtml` come from `previews`.
pub fn build_schema_with(
    db: Option<Database>,
    queue: run_control::QueueSignal,
    previews: Option<crate::repr::Previews>,
) -> AppSchema {
    schema_builder(db, queue, previews).finish()
}

/// The same schema with every field resolved by async-graphql, one future each (no
/// [`plain::Plain`]): the baseline the tests and the benchmark compare with.
pub fn build_schema_per_field(
    db: Option<Database>,
    queue: run_control::QueueSignal,
    previews: Option<crate::repr::Previews>,
) -> AppSchema {
    schema_builder(db, queue, previews)
        .data(plain::PerFieldOnly)
        .finish()
}

fn schema_builder(
    db: Option<Database>,
    queue: run_control::QueueSignal,
    previews: Option<crate::repr::Previews>,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot> {
    let mut builder = builder(MAX_DEPTH);
    if let Some(previews) = previews {
        builder = builder.data(previews);
    }
    if let Some(db) = db {
        // Sibling groups already batch a whole page; waiting 1 ms (the default) for more
        // keys only adds latency.
        let loader = DataLoader::new(loaders::DbLoader::new(db.clone()), tokio::spawn)
            .delay(std::time::Duration::ZERO);
        builder = builder.data(db).data(loader).data(queue);
    }
    builder
}

/// The SDL of the schema, as kept in `schema/schema.graphql`.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
