//! Dataset verbs.

use super::entities::{dataset, recipe_run};
use super::enums::DatasetScope;
use super::keyset::{self, KeysetPage};
use super::listing::{DatasetField, DatasetFilter, Sort};
use super::{Database, DbError, Stats, sorted};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

fn condition(filter: &DatasetFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(id) = filter.feedstock_id {
        cond = cond.add(dataset::Column::FeedstockId.eq(id));
    }
    if let Some(is_test) = filter.scope.is_test() {
        cond = cond.add(dataset::Column::IsTest.eq(is_test));
    }
    cond
}

impl Database {
    /// The keyset page `page` of the datasets matching `filter` in ordering `sort`.
    pub async fn datasets_after(
        &self,
        filter: &DatasetFilter,
        sort: Sort<DatasetField>,
        page: &KeysetPage,
    ) -> Result<Vec<dataset::Model>, DbError> {
        let select = dataset::Entity::find().filter(condition(filter));
        keyset::fetch(&self.conn, select, sort, page).await
    }

    /// Every dataset matching `filter`, oldest first (REST `/feedstocks/{id}/datasets`).
    pub async fn all_datasets(
        &self,
        filter: &DatasetFilter,
    ) -> Result<Vec<dataset::Model>, DbError> {
        let select = sorted(
            dataset::Entity::find().filter(condition(filter)),
            dataset::Column::Id,
            dataset::Column::Id,
            Default::default(),
        );
        Ok(select.all(&self.conn).await?)
    }

    /// How many datasets match `filter` (the trigger-kept counters when no feedstock is named
    /// and the scope is all or production).
    pub async fn count_datasets(&self, filter: &DatasetFilter) -> Result<u64, DbError> {
        let counter = match (filter.feedstock_id, filter.scope) {
            (None, DatasetScope::All) => Some(false),
            (None, DatasetScope::Production) => Some(true),
            _ => None,
        };
        if let Some(exclude_test_runs) = counter {
            return self.count(Stats::Datasets { exclude_test_runs }).await;
        }
        Ok(dataset::Entity::find()
            .filter(condition(filter))
            .count(&self.conn)
            .await?)
    }

    /// The datasets of these feedstocks, newest first, in one statement.
    pub async fn datasets_of_feedstocks(
        &self,
        feedstock_ids: &[i32],
        filter_scope: crate::db::enums::DatasetScope,
    ) -> Result<Vec<dataset::Model>, DbError> {
        let mut cond =
            Condition::all().add(dataset::Column::FeedstockId.is_in(feedstock_ids.iter().copied()));
        if let Some(is_test) = filter_scope.is_test() {
            cond = cond.add(dataset::Column::IsTest.eq(is_test));
        }
        let select = sorted(
            dataset::Entity::find().filter(cond),
            dataset::Column::Id,
            dataset::Column::Id,
            crate::db::listing::SortDirection::Desc,
        );
        Ok(select.all(&self.conn).await?)
    }

    /// The dataset of run `run_id`, if it has one.
    pub async fn dataset_of_run(&self, run_id: i32) -> Result<Option<dataset::Model>, DbError> {
        Ok(self.datasets_of_runs(&[run_id]).await?.into_iter().next())
    }

    /// The ids of the runs whose dataset row or `dataset_public_url` is one of `urls` (the
    /// spellings of one URL), newest first: the dataset preview reads only such URLs (and
    /// those under its prefixes).
    pub async fn runs_naming_dataset_url(&self, urls: &[String]) -> Result<Vec<i32>, DbError> {
        let from_datasets: Vec<i32> = dataset::Entity::find()
            .select_only()
            .column(dataset::Column::RecipeRunId)
            .filter(dataset::Column::Url.is_in(urls.iter().cloned()))
            .into_tuple()
            .all(&self.conn)
            .await?;
        let from_runs: Vec<i32> = recipe_run::Entity::find()
            .select_only()
            .column(recipe_run::Column::Id)
            .filter(recipe_run::Column::DatasetPublicUrl.is_in(urls.iter().cloned()))
            .into_tuple()
            .all(&self.conn)
            .await?;
        let mut runs: Vec<i32> = from_datasets.into_iter().chain(from_runs).collect();
        runs.sort_unstable_by(|a, b| b.cmp(a));
        runs.dedup();
        Ok(runs)
    }

    /// The datasets of these runs (at most one each), in one statement.
    pub async fn datasets_of_runs(&self, run_ids: &[i32]) -> Result<Vec<dataset::Model>, DbError> {
        Ok(dataset::Entity::find()
            .filter(dataset::Column::RecipeRunId.is_in(run_ids.iter().copied()))
            .all(&self.conn)
            .await?)
    }
}
