//! One batching loader for every relation (seaography's pattern): each key type names a
//! relation, and all keys of one type requested while a query resolves become one SQL
//! statement. No cache: every request reads current rows.

use crate::db::entities::{bakery, dataset, feedstock, recipe_run};
use crate::db::enums::DatasetScope;
use crate::db::{Database, DbError, RunParent};
use async_graphql::dataloader::Loader;
use std::any::Any;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

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

/// The rows of one list (a page, or every child loaded for a page). The first row to
/// resolve a relation loads it for all of its siblings with one `load_many`, so a nested
/// page costs one statement per relation whatever its size and however its resolvers
/// interleave (the loader's timing window alone splits big pages into several batches).
pub struct Siblings<T> {
    rows: Vec<Arc<T>>,
    slots: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl<T: Send + Sync + 'static> Siblings<T> {
    /// A group of rows.
    pub fn new(rows: Vec<Arc<T>>) -> Arc<Self> {
        Arc::new(Siblings {
            rows,
            slots: Mutex::new(HashMap::new()),
        })
    }

    /// How many rows the group holds (1 for a node on its own).
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The value kept under `name`, made by `init` the first time.
    pub fn slot<U: Send + Sync + 'static>(&self, name: &str, init: impl FnOnce() -> U) -> Arc<U> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(existing) = slots.get(name)
            && let Ok(found) = existing.clone().downcast::<U>()
        {
            return found;
        }
        let value = Arc::new(init());
        slots.insert(name.to_owned(), value.clone());
        value
    }

    /// The relation `name` of every sibling (keyed by `key_of`), loaded once for all.
    pub async fn load<K, V>(
        &self,
        ctx: &async_graphql::Context<'_>,
        name: &str,
        key_of: impl Fn(&T) -> K,
    ) -> async_graphql::Result<Arc<HashMap<K, V>>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        DbLoader: Loader<K, Value = V, Error = Arc<DbError>>,
    {
        use super::error::OrGql;
        let cell = self.slot(name, OnceCell::<Arc<HashMap<K, V>>>::new);
        let loader = loader(ctx)?;
        let loaded = cell
            .get_or_try_init(|| async {
                let keys: Vec<K> = self.rows.iter().map(|row| key_of(row)).collect();
                loader.load_many(keys).await.map(Arc::new)
            })
            .await
            .or_gql()?;
        Ok(loaded.clone())
    }
}

impl<T: Send + Sync + 'static> Siblings<T> {
    /// Like [`Siblings::load`] for a to-one relation, returning GraphQL nodes that share
    /// one sibling group of their own (so the next level is batched too).
    pub async fn load_nodes<K, V, N>(
        &self,
        ctx: &async_graphql::Context<'_>,
        name: &str,
        key_of: impl Fn(&T) -> K,
        list: impl FnOnce(Vec<V>) -> Vec<N>,
    ) -> async_graphql::Result<Arc<HashMap<K, N>>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        N: Send + Sync + 'static,
        DbLoader: Loader<K, Value = V, Error = Arc<DbError>>,
    {
        let loaded = self.load(ctx, name, key_of).await?;
        Ok(self.slot(&format!("{name}/nodes"), || {
            let keys: Vec<K> = loaded.keys().cloned().collect();
            let rows: Vec<V> = keys.iter().map(|k| loaded[k].clone()).collect();
            keys.into_iter().zip(list(rows)).collect::<HashMap<K, N>>()
        }))
    }

    /// Like [`Siblings::load_nodes`] for a to-many relation.
    pub async fn load_node_lists<K, V, N>(
        &self,
        ctx: &async_graphql::Context<'_>,
        name: &str,
        key_of: impl Fn(&T) -> K,
        list: impl FnOnce(Vec<V>) -> Vec<N>,
    ) -> async_graphql::Result<Arc<HashMap<K, Vec<N>>>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        N: Send + Sync + 'static,
        DbLoader: Loader<K, Value = Vec<V>, Error = Arc<DbError>>,
    {
        let loaded = self.load(ctx, name, key_of).await?;
        Ok(self.slot(&format!("{name}/nodes"), || {
            let mut sizes = Vec::new();
            let mut rows = Vec::new();
            for (key, children) in loaded.iter() {
                sizes.push((key.clone(), children.len()));
                rows.extend(children.iter().cloned());
            }
            let mut nodes = list(rows).into_iter();
            sizes
                .into_iter()
                .map(|(key, n)| (key, nodes.by_ref().take(n).collect()))
                .collect::<HashMap<K, Vec<N>>>()
        }))
    }
}

/// Declares a GraphQL node type over a row, with the sibling group its list shares.
macro_rules! node_type {
    ($(#[$doc:meta])* $node:ident, $model:ty) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $node {
            /// Shared, not copied: one change reaches every subscriber with the same row.
            pub row: std::sync::Arc<$model>,
            siblings: std::sync::Arc<$crate::graphql::loaders::Siblings<$model>>,
        }

        impl $node {
            /// A node on its own (a single lookup, a mutation's result, a published change).
            pub fn one(row: impl Into<std::sync::Arc<$model>>) -> Self {
                let row = row.into();
                $node {
                    siblings: $crate::graphql::loaders::Siblings::new(vec![row.clone()]),
                    row,
                }
            }

            /// The nodes of one list, sharing one sibling group.
            pub fn list(rows: Vec<$model>) -> Vec<Self> {
                let rows: Vec<std::sync::Arc<$model>> =
                    rows.into_iter().map(std::sync::Arc::new).collect();
                let siblings = $crate::graphql::loaders::Siblings::new(rows.clone());
                rows.into_iter()
                    .map(|row| $node {
                        row,
                        siblings: siblings.clone(),
                    })
                    .collect()
            }
        }
    };
}
pub(crate) use node_type;
