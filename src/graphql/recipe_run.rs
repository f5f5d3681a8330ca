//! Recipe runs: the `RecipeRun` type, its queries and its admin mutations.

use super::auth::AdminGuard;
use super::bakery::Bakery;
use super::connection::{TotalCount, connection_type, page_of};
use super::dataset::Dataset;
use super::error::{ApiError, OrGql, db};
use super::feedstock::Feedstock;
use super::loaders::{BakeryById, DatasetOfRun, FeedstockById, node_type};
use super::plain::{Plain, plain_fields};
use crate::db::entities::recipe_run;
use crate::db::enums::{DatasetType, RunConclusion, RunStatus};
use crate::db::listing::{RecipeRunField, RecipeRunFilter, Sort, SortDirection};
use crate::db::{NewRecipeRun, RecipeRunPatch};
use async_graphql::{
    Context, ErrorExtensions, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};

node_type!(
    /// One execution of one recipe of a feedstock, at one commit, on one bakery.
    RecipeRun,
    recipe_run::Model
);

/// What the bakery said about the job of a run (the original's JSON `message`).
#[derive(SimpleObject)]
pub struct JobInfo {
    /// The bakery's job name (Dataflow: ≤ 64 characters).
    job_name: Option<String>,
    /// The bakery's job id.
    job_id: Option<String>,
    /// The GitHub deployment of a production run (an id too large for `Int`).
    deployment_id: Option<ID>,
    /// The page GitHub's deployment links to.
    environment_url: Option<String>,
    /// The traceback when submission or the job failed.
    error_trace: Option<String>,
}

plain_fields!(RecipeRun, self.row => row {
    "id" => row.id,
    "recipeId" => row.recipe_id,
    "bakeryId" => row.bakery_id,
    "feedstockId" => row.feedstock_id,
    "headSha" => row.head_sha,
    "version" => row.version,
    "startedAt" => row.started_at,
    "completedAt" => row.completed_at,
    "conclusion" => row.conclusion,
    "status" => row.status,
    "isTest" => row.is_test,
    "datasetType" => row.dataset_type,
    "datasetPublicUrl" => row.dataset_public_url,
    "logs" => row.logs,
    "updatedAt" => row.updated_at,
});

#[Object]
impl RecipeRun {
    async fn id(&self) -> i32 {
        self.row.id
    }
    /// The recipe's `id` in meta.yaml.
    async fn recipe_id(&self) -> &str {
        &self.row.recipe_id
    }
    async fn bakery_id(&self) -> i32 {
        self.row.bakery_id
    }
    async fn feedstock_id(&self) -> i32 {
        self.row.feedstock_id
    }
    /// The commit the run executes.
    async fn head_sha(&self) -> &str {
        &self.row.head_sha
    }
    /// The feedstock version (`MAJOR.MINOR`); empty while unknown.
    async fn version(&self) -> &str {
        &self.row.version
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.row.started_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.row.completed_at
    }
    /// Set exactly when `status` is `COMPLETED`.
    async fn conclusion(&self) -> Option<RunConclusion> {
        self.row.conclusion
    }
    async fn status(&self) -> RunStatus {
        self.row.status
    }
    /// A test run processes a pruned subset (`/run` on a pull request).
    async fn is_test(&self) -> bool {
        self.row.is_test
    }
    async fn dataset_type(&self) -> Option<DatasetType> {
        self.row.dataset_type
    }
    async fn dataset_public_url(&self) -> Option<&str> {
        self.row.dataset_public_url.as_deref()
    }
    /// The bakery job's name, id, deployment and error trace.
    async fn job(&self) -> JobInfo {
        JobInfo {
            job_name: self.row.job_name.clone(),
            job_id: self.row.job_id.clone(),
            deployment_id: self.row.deployment_id.map(|id| ID(id.to_string())),
            environment_url: self.row.environment_url.clone(),
            error_trace: self.row.error_trace.clone(),
        }
    }
    /// The runner's output, the trace of a failure and the status monitor's message: the
    /// end of it (at most 64 KiB), every configured secret masked as `***`.
    async fn logs(&self) -> Option<&str> {
        self.row.logs.as_deref()
    }
    /// When the run last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    async fn bakery(&self, ctx: &Context<'_>) -> Result<Plain<Bakery>> {
        let key_of = |r: &recipe_run::Model| BakeryById(r.bakery_id);
        let found = self
            .siblings
            .load_nodes(ctx, "bakery", key_of, Bakery::list)
            .await?;
        Plain::found(&found, &key_of(&self.row), || {
            format!("bakery {}", self.row.bakery_id)
        })
    }
    async fn feedstock(&self, ctx: &Context<'_>) -> Result<Plain<Feedstock>> {
        let key_of = |r: &recipe_run::Model| FeedstockById(r.feedstock_id);
        let found = self
            .siblings
            .load_nodes(ctx, "feedstock", key_of, Feedstock::list)
            .await?;
        Plain::found(&found, &key_of(&self.row), || {
            format!("feedstock {}", self.row.feedstock_id)
        })
    }
    /// The dataset this run produced, if it succeeded with a public URL.
    async fn dataset(&self, ctx: &Context<'_>) -> Result<Option<Plain<Dataset>>> {
        let key_of = |r: &recipe_run::Model| DatasetOfRun(r.id);
        let found = self
            .siblings
            .load_nodes(ctx, "dataset", key_of, Dataset::list)
            .await?;
        Ok(found.get(&key_of(&self.row)).cloned().map(Plain))
    }
}

connection_type!(RecipeRunConnection, RecipeRunEdge, RecipeRun);

/// How to sort recipe runs. Ties are broken by id in the same direction; runs without a
/// value (`completedAt`, `conclusion`, `datasetType`, `datasetPublicUrl`) come last in
/// either direction.
#[derive(InputObject, Clone, Copy)]
pub struct RecipeRunOrder {
    field: RecipeRunField,
    #[graphql(default)]
    direction: SortDirection,
}

/// Which recipe runs to list; every given field must match.
#[derive(InputObject, Default)]
#[graphql(name = "RecipeRunFilter")]
pub struct RecipeRunFilterInput {
    status: Option<RunStatus>,
    conclusion: Option<RunConclusion>,
    is_test: Option<bool>,
    feedstock_id: Option<i32>,
    bakery_id: Option<i32>,
    head_sha: Option<String>,
    recipe_id: Option<String>,
}

impl From<RecipeRunFilterInput> for RecipeRunFilter {
    fn from(f: RecipeRunFilterInput) -> Self {
        RecipeRunFilter {
            status: f.status,
            conclusion: f.conclusion,
            is_test: f.is_test,
            feedstock_id: f.feedstock_id,
            bakery_id: f.bakery_id,
            head_sha: f.head_sha,
            recipe_id: f.recipe_id,
        }
    }
}

/// Recipe-run queries.
#[derive(Default)]
pub struct RecipeRunQuery;

#[Object]
impl RecipeRunQuery {
    /// One recipe run by id, or null.
    async fn recipe_run(&self, ctx: &Context<'_>, id: i32) -> Result<Option<RecipeRun>> {
        Ok(db(ctx)?.recipe_run(id).await.or_gql()?.map(RecipeRun::one))
    }
    /// A page of recipe runs (at most 100) matching `filter`, by id unless `orderBy` says
    /// otherwise (the website's "recent runs": `orderBy: {field: STARTED_AT, direction: DESC}`).
    async fn recipe_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<RecipeRunOrder>,
        filter: Option<RecipeRunFilterInput>,
    ) -> Result<RecipeRunConnection> {
        let sort = order_by
            .map(|o| Sort {
                field: o.field,
                direction: o.direction,
            })
            .unwrap_or_default();
        let request = page_of("recipeRuns", sort, first, after.as_deref())?;
        let filter: RecipeRunFilter = filter.unwrap_or_default().into();
        let rows = db(ctx)?
            .recipe_runs_after(&filter, sort, &request.page)
            .await
            .or_gql()?;
        Ok(RecipeRunConnection::new(
            rows,
            &request,
            RecipeRun::list,
            TotalCount::RecipeRuns(filter),
        ))
    }
}

/// A new recipe run.
#[derive(InputObject)]
pub struct CreateRecipeRunInput {
    recipe_id: String,
    bakery_id: i32,
    feedstock_id: i32,
    head_sha: String,
    #[graphql(default)]
    version: String,
    /// Defaults to now.
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    conclusion: Option<RunConclusion>,
    #[graphql(default_with = "RunStatus::Queued")]
    status: RunStatus,
    #[graphql(default)]
    is_test: bool,
    dataset_type: Option<DatasetType>,
    dataset_public_url: Option<String>,
    job_name: Option<String>,
    job_id: Option<String>,
    deployment_id: Option<ID>,
    environment_url: Option<String>,
    error_trace: Option<String>,
}

/// Changes to a recipe run; omitted fields stay as they are, `null` clears a nullable one.
#[derive(InputObject)]
pub struct UpdateRecipeRunInput {
    recipe_id: Option<String>,
    bakery_id: Option<i32>,
    feedstock_id: Option<i32>,
    head_sha: Option<String>,
    version: Option<String>,
    started_at: Option<DateTime<Utc>>,
    completed_at: MaybeUndefined<DateTime<Utc>>,
    conclusion: MaybeUndefined<RunConclusion>,
    status: Option<RunStatus>,
    is_test: Option<bool>,
    dataset_type: MaybeUndefined<DatasetType>,
    dataset_public_url: MaybeUndefined<String>,
    job_name: MaybeUndefined<String>,
    job_id: MaybeUndefined<String>,
    deployment_id: MaybeUndefined<ID>,
    environment_url: MaybeUndefined<String>,
    error_trace: MaybeUndefined<String>,
}

fn parse_deployment_id(id: ID) -> Result<i64> {
    id.parse::<i64>().map_err(|_| {
        ApiError::BadUserInput(format!(
            "deploymentId `{}` is not a GitHub deployment id",
            id.0
        ))
        .extend()
    })
}

/// `MaybeUndefined` → "leave" (`None`), "clear" (`Some(None)`) or "set" (`Some(Some(v))`).
fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// Recipe-run mutations (admin key required).
#[derive(Default)]
pub struct RecipeRunMutation;

#[Object]
impl RecipeRunMutation {
    /// Records a recipe run. `BAD_USER_INPUT` if its bakery or feedstock does not exist or
    /// its status and conclusion disagree.
    #[graphql(guard = "AdminGuard")]
    async fn create_recipe_run(
        &self,
        ctx: &Context<'_>,
        input: CreateRecipeRunInput,
    ) -> Result<RecipeRun> {
        let new = NewRecipeRun {
            recipe_id: input.recipe_id,
            bakery_id: input.bakery_id,
            feedstock_id: input.feedstock_id,
            head_sha: input.head_sha,
            version: input.version,
            started_at: input.started_at,
            completed_at: input.completed_at,
            conclusion: input.conclusion,
            status: input.status,
            is_test: input.is_test,
            dataset_type: input.dataset_type,
            dataset_public_url: input.dataset_public_url,
            job_name: input.job_name,
            job_id: input.job_id,
            deployment_id: input.deployment_id.map(parse_deployment_id).transpose()?,
            environment_url: input.environment_url,
            error_trace: input.error_trace,
        };
        Ok(RecipeRun::one(
            db(ctx)?.create_recipe_run(new).await.or_gql()?,
        ))
    }
    /// Changes a recipe run. `NOT_FOUND` if there is none with this id.
    #[graphql(guard = "AdminGuard")]
    async fn update_recipe_run(
        &self,
        ctx: &Context<'_>,
        id: i32,
        input: UpdateRecipeRunInput,
    ) -> Result<RecipeRun> {
        let deployment_id = match patch(input.deployment_id) {
            Some(Some(id)) => Some(Some(parse_deployment_id(id)?)),
            Some(None) => Some(None),
            None => None,
        };
        let changes = RecipeRunPatch {
            recipe_id: input.recipe_id,
            bakery_id: input.bakery_id,
            feedstock_id: input.feedstock_id,
            head_sha: input.head_sha,
            version: input.version,
            started_at: input.started_at,
            completed_at: patch(input.completed_at),
            conclusion: patch(input.conclusion),
            status: input.status,
            is_test: input.is_test,
            dataset_type: patch(input.dataset_type),
            dataset_public_url: patch(input.dataset_public_url),
            job_name: patch(input.job_name),
            job_id: patch(input.job_id),
            deployment_id,
            environment_url: patch(input.environment_url),
            error_trace: patch(input.error_trace),
            logs: None,
        };
        Ok(RecipeRun::one(
            db(ctx)?.update_recipe_run(id, changes).await.or_gql()?,
        ))
    }
    /// Deletes a recipe run (and its dataset), and returns it.
    #[graphql(guard = "AdminGuard")]
    async fn delete_recipe_run(&self, ctx: &Context<'_>, id: i32) -> Result<RecipeRun> {
        Ok(RecipeRun::one(
            db(ctx)?.delete_recipe_run(id).await.or_gql()?,
        ))
    }
}
