//! One batching loader for every relation (seaography's pattern): each key type names a
//! relation, and all keys of one type requested while a query resolves become one SQL
//! statement. No cache: every request reads current rows.

use crate::db::entities::{bakery, dataset, feedstock, recipe_run};
use crate::db::enums::DatasetScope;
use crate::db::{Database, DbError, RunParent};
use async_graphql::dataloader::Loader;
use std::collections::HashMap;
use std::sync::Arc;

/// Loads rows for the nested GraphQL fields.
pub struct DbLoader {
    db: Database,
}

impl DbLoader {
    /// A loader reading from `db`.
    pub fn new(db: Database) -> Self {
        DbLoader { db }
    }
}

/// A bakery by id (`RecipeRun.bakery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BakeryById(pub i32);

/// A feedstock by id (`RecipeRun.feedstock`, `Dataset.feedstock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeedstockById(pub i32);

/// A recipe run by id (`Dataset.recipeRun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecipeRunById(pub i32);

/// The dataset of a run, if any (`RecipeRun.dataset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatasetOfRun(pub i32);

/// The newest `limit` runs of a feedstock or bakery (`Feedstock.recipeRuns`,
/// `Bakery.recipeRuns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunsOf {
    pub parent: RunParent,
    pub id: i32,
    pub limit: u64,
}

/// The datasets of a feedstock in a scope (`Feedstock.datasets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatasetsOf {
    pub feedstock_id: i32,
    pub scope: DatasetScope,
}

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<DbError>>;

impl Loader<BakeryById> for DbLoader {
    type Value = bakery::Model;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[BakeryById]) -> LoadResult<BakeryById, bakery::Model> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows = self.db.bakeries_by_ids(&ids).await?;
        Ok(rows.into_iter().map(|r| (BakeryById(r.id), r)).collect())
    }
}

impl Loader<FeedstockById> for DbLoader {
    type Value = feedstock::Model;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[FeedstockById]) -> LoadResult<FeedstockById, feedstock::Model> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows = self.db.feedstocks_by_ids(&ids).await?;
        Ok(rows.into_iter().map(|r| (FeedstockById(r.id), r)).collect())
    }
}

impl Loader<RecipeRunById> for DbLoader {
    type Value = recipe_run::Model;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[RecipeRunById]) -> LoadResult<RecipeRunById, recipe_run::Model> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows = self.db.recipe_runs_by_ids(&ids).await?;
        Ok(rows.into_iter().map(|r| (RecipeRunById(r.id), r)).collect())
    }
}

impl Loader<DatasetOfRun> for DbLoader {
    type Value = dataset::Model;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[DatasetOfRun]) -> LoadResult<DatasetOfRun, dataset::Model> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows = self.db.datasets_of_runs(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| (DatasetOfRun(r.recipe_run_id), r))
            .collect())
    }
}

impl Loader<RunsOf> for DbLoader {
    type Value = Vec<recipe_run::Model>;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[RunsOf]) -> LoadResult<RunsOf, Vec<recipe_run::Model>> {
        // One statement per distinct (parent kind, limit): in practice one.
        let mut groups: HashMap<(RunParent, u64), Vec<i32>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.parent, key.limit))
                .or_default()
                .push(key.id);
        }
        let mut found: HashMap<RunsOf, Vec<recipe_run::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for ((parent, limit), ids) in groups {
            for run in self.db.latest_recipe_runs_of(parent, &ids, limit).await? {
                let id = match parent {
                    RunParent::Feedstock => run.feedstock_id,
                    RunParent::Bakery => run.bakery_id,
                };
                if let Some(list) = found.get_mut(&RunsOf { parent, id, limit }) {
                    list.push(run);
                }
            }
        }
        Ok(found)
    }
}

impl Loader<DatasetsOf> for DbLoader {
    type Value = Vec<dataset::Model>;
    type Error = Arc<DbError>;

    async fn load(&self, keys: &[DatasetsOf]) -> LoadResult<DatasetsOf, Vec<dataset::Model>> {
        let mut groups: HashMap<DatasetScope, Vec<i32>> = HashMap::new();
        for key in keys {
            groups.entry(key.scope).or_default().push(key.feedstock_id);
        }
        let mut found: HashMap<DatasetsOf, Vec<dataset::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for (scope, ids) in groups {
            for row in self.db.datasets_of_feedstocks(&ids, scope).await? {
                let key = DatasetsOf {
                    feedstock_id: row.feedstock_id,
                    scope,
                };
                if let Some(list) = found.get_mut(&key) {
                    list.push(row);
                }
            }
        }
        Ok(found)
    }
}

/// The request's loader, or an internal error if the schema was built without a database.
pub fn loader<'a>(
    ctx: &async_graphql::Context<'a>,
) -> async_graphql::Result<&'a async_graphql::dataloader::DataLoader<DbLoader>> {
    use async_graphql::ErrorExtensions;
    ctx.data::<async_graphql::dataloader::DataLoader<DbLoader>>()
        .map_err(|_| super::error::ApiError::Internal.extend())
}

/// The most rows a nested list (`Feedstock.recipeRuns`, `Bakery.recipeRuns`) returns.
pub const MAX_NESTED: i32 = 100;

/// Checks a nested list's `first` argument.
pub fn nested_limit(first: i32) -> async_graphql::Result<u64> {
    use async_graphql::ErrorExtensions;
    if (0..=MAX_NESTED).contains(&first) {
        Ok(first as u64)
    } else {
        Err(super::error::ApiError::BadUserInput(format!(
            "`first` must be between 0 and {MAX_NESTED}, got {first}; page through `recipeRuns(filter: …)` for more"
        ))
        .extend())
    }
}
