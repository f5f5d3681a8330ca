//! Recipe-run verbs. Every write keeps the run's `dataset` row in step, in one transaction.

use super::entities::{bakery, dataset, feedstock, recipe_run};
use super::enums::{DatasetType, RunConclusion, RunStatus};
use super::keyset::{self, KeysetPage, SortKey};
use super::listing::{Page, RecipeRunField, RecipeRunFilter, Sort};
use super::{Database, DbError, Stats, now, placeholders, sorted};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set, Statement, TransactionTrait,
};

/// The fields of a new recipe run. Unset optional fields take the original's defaults.
#[derive(Debug, Clone)]
pub struct NewRecipeRun {
    pub recipe_id: String,
    pub bakery_id: i32,
    pub feedstock_id: i32,
    pub head_sha: String,
    pub version: String,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub conclusion: Option<RunConclusion>,
    pub status: RunStatus,
    pub is_test: bool,
    pub dataset_type: Option<DatasetType>,
    pub dataset_public_url: Option<String>,
    pub job_name: Option<String>,
    pub job_id: Option<String>,
    pub deployment_id: Option<i64>,
    pub environment_url: Option<String>,
    pub error_trace: Option<String>,
}

impl NewRecipeRun {
    /// A run waiting to be submitted: everything about its job unknown yet.
    pub fn queued(
        recipe_id: String,
        bakery_id: i32,
        feedstock_id: i32,
        head_sha: String,
        is_test: bool,
    ) -> Self {
        NewRecipeRun {
            recipe_id,
            bakery_id,
            feedstock_id,
            head_sha,
            version: String::new(),
            started_at: None,
            completed_at: None,
            conclusion: None,
            status: RunStatus::Queued,
            is_test,
            dataset_type: None,
            dataset_public_url: None,
            job_name: None,
            job_id: None,
            deployment_id: None,
            environment_url: None,
            error_trace: None,
        }
    }
}

/// A partial update of a recipe run. `None` leaves a field as it is; for nullable fields
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct RecipeRunPatch {
    pub recipe_id: Option<String>,
    pub bakery_id: Option<i32>,
    pub feedstock_id: Option<i32>,
    pub head_sha: Option<String>,
    pub version: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<Option<DateTime<Utc>>>,
    pub conclusion: Option<Option<RunConclusion>>,
    pub status: Option<RunStatus>,
    pub is_test: Option<bool>,
    pub dataset_type: Option<Option<DatasetType>>,
    pub dataset_public_url: Option<Option<String>>,
    pub job_name: Option<Option<String>>,
    pub job_id: Option<Option<String>>,
    pub deployment_id: Option<Option<i64>>,
    pub environment_url: Option<Option<String>>,
    pub error_trace: Option<Option<String>>,
    pub logs: Option<Option<String>>,
}

/// The parent a nested recipe-run list hangs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunParent {
    Feedstock,
    Bakery,
}

impl RunParent {
    fn column(self) -> (&'static str, recipe_run::Column) {
        match self {
            RunParent::Feedstock => ("feedstock_id", recipe_run::Column::FeedstockId),
            RunParent::Bakery => ("bakery_id", recipe_run::Column::BakeryId),
        }
    }
}

fn condition(filter: &RecipeRunFilter) -> Condition {
    use recipe_run::Column as C;
    let mut cond = Condition::all();
    if let Some(status) = filter.status {
        cond = cond.add(C::Status.eq(status));
    }
    if let Some(conclusion) = filter.conclusion {
        cond = cond.add(C::Conclusion.eq(conclusion));
    }
    if let Some(is_test) = filter.is_test {
        cond = cond.add(C::IsTest.eq(is_test));
    }
    if let Some(id) = filter.feedstock_id {
        cond = cond.add(C::FeedstockId.eq(id));
    }
    if let Some(id) = filter.bakery_id {
        cond = cond.add(C::BakeryId.eq(id));
    }
    if let Some(sha) = &filter.head_sha {
        cond = cond.add(C::HeadSha.eq(sha.as_str()));
    }
    if let Some(recipe_id) = &filter.recipe_id {
        cond = cond.add(C::RecipeId.eq(recipe_id.as_str()));
    }
    cond
}

/// A commit sha: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
fn check_sha(sha: &str) -> Result<(), DbError> {
    if matches!(sha.len(), 40 | 64) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(DbError::Invalid(format!(
            "`{sha}` is not a commit sha: expected 40 hexadecimal digits"
        )))
    }
}

/// The rules a run must keep whatever wrote it.
fn check_run(
    recipe_id: &str,
    head_sha: &str,
    status: RunStatus,
    conclusion: Option<RunConclusion>,
) -> Result<(), DbError> {
    if recipe_id.trim().is_empty() {
        return Err(DbError::Invalid("a recipe id must not be empty".into()));
    }
    check_sha(head_sha)?;
    match (status, conclusion) {
        (RunStatus::Completed, None) => Err(DbError::Invalid(
            "a completed recipe run needs a conclusion".into(),
        )),
        (RunStatus::Queued | RunStatus::InProgress, Some(c)) => Err(DbError::Invalid(format!(
            "conclusion {} is only allowed when the status is COMPLETED",
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_uppercase))
                .unwrap_or_default()
        ))),
        _ => Ok(()),
    }
}

impl Database {
    /// One recipe run by id.
    pub async fn recipe_run(&self, id: i32) -> Result<Option<recipe_run::Model>, DbError> {
        Ok(recipe_run::Entity::find_by_id(id).one(&self.conn).await?)
    }

    /// The runs with these ids (any order).
    pub async fn recipe_runs_by_ids(&self, ids: &[i32]) -> Result<Vec<recipe_run::Model>, DbError> {
        Ok(recipe_run::Entity::find()
            .filter(recipe_run::Column::Id.is_in(ids.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// A page of recipe runs matching `filter`.
    pub async fn list_recipe_runs(
        &self,
        filter: &RecipeRunFilter,
        sort: Sort<RecipeRunField>,
        page: Page,
    ) -> Result<Vec<recipe_run::Model>, DbError> {
        let select = sorted(
            recipe_run::Entity::find().filter(condition(filter)),
            sort.field.column(),
            recipe_run::Column::Id,
            sort.direction,
        );
        Ok(select
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.conn)
            .await?)
    }

    /// The keyset page `page` of the recipe runs matching `filter` in ordering `sort`.
    pub async fn recipe_runs_after(
        &self,
        filter: &RecipeRunFilter,
        sort: Sort<RecipeRunField>,
        page: &KeysetPage,
    ) -> Result<Vec<recipe_run::Model>, DbError> {
        let select = recipe_run::Entity::find().filter(condition(filter));
        keyset::fetch(&self.conn, select, sort, page).await
    }

    /// How many recipe runs match `filter` (all of them: the trigger-kept counter).
    pub async fn count_recipe_runs(&self, filter: &RecipeRunFilter) -> Result<u64, DbError> {
        if *filter == RecipeRunFilter::default() {
            return self.count(Stats::RecipeRuns).await;
        }
        Ok(recipe_run::Entity::find()
            .filter(condition(filter))
            .count(&self.conn)
            .await?)
    }

    /// All runs of one feedstock or bakery, oldest first (the REST detail routes).
    pub async fn recipe_runs_of(
        &self,
        parent: RunParent,
        id: i32,
    ) -> Result<Vec<recipe_run::Model>, DbError> {
        let (_, col) = parent.column();
        let select = sorted(
            recipe_run::Entity::find().filter(col.eq(id)),
            recipe_run::Column::Id,
            recipe_run::Column::Id,
            super::listing::SortDirection::Asc,
        );
        Ok(select.all(&self.conn).await?)
    }

    /// The newest `limit` runs of each parent in `ids`, newest first, in one statement
    /// whatever the number of parents (the nested GraphQL lists load through this).
    pub async fn latest_recipe_runs_of(
        &self,
        parent: RunParent,
        ids: &[i32],
        limit: u64,
    ) -> Result<Vec<recipe_run::Model>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (name, _) = parent.column();
        let backend = self.backend();
        let sql = format!(
            "SELECT * FROM (SELECT recipe_run.*, ROW_NUMBER() OVER \
             (PARTITION BY {name} ORDER BY id DESC) AS parent_rank \
             FROM recipe_run WHERE {name} IN ({})) ranked \
             WHERE parent_rank <= {limit} ORDER BY {name}, id DESC",
            placeholders(backend, ids.len())
        );
        let values = ids.iter().map(|id| (*id).into());
        let statement = Statement::from_sql_and_values(backend, sql, values);
        Ok(recipe_run::Entity::find()
            .from_raw_sql(statement)
            .all(&self.conn)
            .await?)
    }

    /// Records a new recipe run (and its dataset when it completed successfully with a URL).
    pub async fn create_recipe_run(&self, new: NewRecipeRun) -> Result<recipe_run::Model, DbError> {
        check_run(&new.recipe_id, &new.head_sha, new.status, new.conclusion)?;
        let timestamp = now();
        let row = recipe_run::ActiveModel {
            recipe_id: Set(new.recipe_id),
            bakery_id: Set(new.bakery_id),
            feedstock_id: Set(new.feedstock_id),
            head_sha: Set(new.head_sha),
            version: Set(new.version),
            started_at: Set(new.started_at.unwrap_or(timestamp)),
            completed_at: Set(new.completed_at),
            conclusion: Set(new.conclusion),
            status: Set(new.status),
            is_test: Set(new.is_test),
            dataset_type: Set(new.dataset_type),
            dataset_public_url: Set(new.dataset_public_url),
            job_name: Set(new.job_name),
            job_id: Set(new.job_id),
            deployment_id: Set(new.deployment_id),
            environment_url: Set(new.environment_url),
            error_trace: Set(new.error_trace),
            updated_at: Set(timestamp),
            ..Default::default()
        };
        let txn = self.conn.begin().await?;
        check_references(&txn, new.bakery_id, new.feedstock_id).await?;
        let run = row.insert(&txn).await?;
        let dataset_created = sync_dataset(&txn, &run).await?;
        txn.commit().await?;
        self.changes.run_changed(self, &run, dataset_created).await;
        Ok(run)
    }

    /// Changes the given fields of run `id`.
    pub async fn update_recipe_run(
        &self,
        id: i32,
        patch: RecipeRunPatch,
    ) -> Result<recipe_run::Model, DbError> {
        let txn = self.conn.begin().await?;
        let existing = recipe_run::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("recipe run {id} not found")))?;
        let bakery_id = patch.bakery_id.unwrap_or(existing.bakery_id);
        let feedstock_id = patch.feedstock_id.unwrap_or(existing.feedstock_id);
        check_run(
            patch.recipe_id.as_deref().unwrap_or(&existing.recipe_id),
            patch.head_sha.as_deref().unwrap_or(&existing.head_sha),
            patch.status.unwrap_or(existing.status),
            patch.conclusion.unwrap_or(existing.conclusion),
        )?;
        let mut row: recipe_run::ActiveModel = existing.into();
        macro_rules! apply {
            ($($field:ident),+) => { $(if let Some(v) = patch.$field { row.$field = Set(v); })+ };
        }
        apply!(
            recipe_id,
            bakery_id,
            feedstock_id,
            head_sha,
            version,
            started_at,
            completed_at,
            conclusion,
            status,
            is_test,
            dataset_type,
            dataset_public_url,
            job_name,
            job_id,
            deployment_id,
            environment_url,
            error_trace,
            logs
        );
        row.updated_at = Set(now());
        check_references(&txn, bakery_id, feedstock_id).await?;
        let run = row.update(&txn).await?;
        let dataset_created = sync_dataset(&txn, &run).await?;
        txn.commit().await?;
        self.changes.run_changed(self, &run, dataset_created).await;
        Ok(run)
    }

    /// Deletes run `id` and its dataset.
    pub async fn delete_recipe_run(&self, id: i32) -> Result<recipe_run::Model, DbError> {
        let txn = self.conn.begin().await?;
        let existing = recipe_run::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("recipe run {id} not found")))?;
        dataset::Entity::delete_many()
            .filter(dataset::Column::RecipeRunId.eq(id))
            .exec(&txn)
            .await?;
        recipe_run::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        self.changes.touched();
        Ok(existing)
    }
}

/// A run must name a bakery and a feedstock that exist; say which one does not.
async fn check_references(
    txn: &DatabaseTransaction,
    bakery_id: i32,
    feedstock_id: i32,
) -> Result<(), DbError> {
    if bakery::Entity::find_by_id(bakery_id)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(DbError::Invalid(format!(
            "bakery {bakery_id} does not exist"
        )));
    }
    if feedstock::Entity::find_by_id(feedstock_id)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(DbError::Invalid(format!(
            "feedstock {feedstock_id} does not exist"
        )));
    }
    Ok(())
}

/// Makes the run's `dataset` row agree with the run: present exactly when the run completed
/// successfully with a public URL.
/// Makes the run's `dataset` row match the run; returns whether a dataset was created.
pub(super) async fn sync_dataset(
    txn: &impl ConnectionTrait,
    run: &recipe_run::Model,
) -> Result<bool, DbError> {
    let existing = dataset::Entity::find()
        .filter(dataset::Column::RecipeRunId.eq(run.id))
        .one(txn)
        .await?;
    let wanted = match (&run.status, &run.conclusion, &run.dataset_public_url) {
        (RunStatus::Completed, Some(RunConclusion::Success), Some(url)) => Some(url.clone()),
        _ => None,
    };
    let created = wanted.is_some() && existing.is_none();
    match (wanted, existing) {
        (Some(url), existing) => {
            let mut row = match existing {
                Some(found) => found.into(),
                None => dataset::ActiveModel {
                    recipe_run_id: Set(run.id),
                    created_at: Set(run.completed_at.unwrap_or_else(now)),
                    ..Default::default()
                },
            };
            row.feedstock_id = Set(run.feedstock_id);
            row.recipe_id = Set(run.recipe_id.clone());
            row.dataset_type = Set(run.dataset_type.unwrap_or(DatasetType::Zarr));
            row.url = Set(url);
            row.is_test = Set(run.is_test);
            row.save(txn).await?;
        }
        (None, Some(stale)) => {
            dataset::Entity::delete_by_id(stale.id).exec(txn).await?;
        }
        (None, None) => {}
    }
    Ok(created)
}
