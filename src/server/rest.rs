//! The original REST read routes, unchanged for today's pangeo-forge.org: same
//! paths, query parameters and snake_case JSON, served by the same database verbs as
//! GraphQL. Errors keep FastAPI's shapes: `{"detail": "…"}` (404) and
//! `{"detail": [{"loc": […], "msg": "…", "type": "…"}]}` (422).

use super::AppState;
use crate::db::entities::{bakery, dataset, feedstock, recipe_run};
use crate::db::enums::{DatasetScope, DatasetType, RunConclusion, RunStatus};
use crate::db::listing::{
    BakeryField, DatasetFilter, FeedstockField, MAX_PAGE_SIZE, Page, RecipeRunField,
    RecipeRunFilter, Sort, SortDirection,
};
use crate::db::{DbError, RunParent, Stats};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::str::FromStr;

/// Routing `path` with and without a trailing slash, as the site and admin scripts ask for
/// both.
pub(super) trait RouteSlashed {
    /// `route(path, handler)` and `route(path + "/", handler)`.
    fn route_slashed(self, path: &str, handler: MethodRouter<AppState>) -> Self;
}

impl RouteSlashed for Router<AppState> {
    fn route_slashed(self, path: &str, handler: MethodRouter<AppState>) -> Self {
        self.route(path, handler.clone())
            .route(&format!("{path}/"), handler)
    }
}

/// The REST routes the database answers, each with and without a trailing slash (the site
/// asks for both).
pub fn routes() -> Router<AppState> {
    use super::deliveries;
    Router::new()
        .route_slashed("/feedstocks", get(list_feedstocks))
        .route_slashed("/feedstocks/{id}", get(get_feedstock))
        .route_slashed("/feedstocks/{id}/datasets", get(feedstock_datasets))
        .route_slashed("/bakeries", get(list_bakeries))
        .route_slashed("/bakeries/{id}", get(get_bakery))
        .route_slashed("/recipe_runs", get(list_recipe_runs))
        .route_slashed("/recipe_runs/{id}", get(get_recipe_run))
        .route_slashed("/github/hooks/deliveries", get(deliveries::list))
        .route_slashed("/github/hooks/deliveries/{id}", get(deliveries::one))
        .route_slashed("/feedstocks/{id}/deliveries", get(deliveries::of_feedstock))
        .route_slashed("/stats/{kind}", get(stats))
}

/// The read routes whose data is not the database's, so no data version covers them:
/// GitHub's check runs of a commit, and the preview of a store's metadata (each cached on
/// its own terms).
pub fn outside_routes() -> Router<AppState> {
    Router::new()
        .route_slashed(
            "/feedstocks/{id}/commits/{sha}/check-runs",
            get(super::check_runs::for_commit),
        )
        .route_slashed("/repr/xarray", get(super::repr::xarray))
}

/// A REST error in FastAPI's shape.
pub enum RestError {
    NotFound(String),
    /// The route needs an admin key (401).
    Unauthorized(String),
    /// No admin key was sent to a route that needs one (403, as FastAPI's `APIKeyHeader`).
    Forbidden(String),
    /// The change conflicts with what is stored (409).
    Conflict(String),
    /// A bad query or path parameter: (where, what).
    Unprocessable(Vec<&'static str>, String),
    Internal,
}

impl From<DbError> for RestError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound(m) => RestError::NotFound(m),
            DbError::Conflict(m) => RestError::Conflict(m),
            DbError::Invalid(m) => RestError::Unprocessable(vec!["body"], m),
            other => {
                tracing::error!(error = %other, "database error in a REST route");
                RestError::Internal
            }
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        match self {
            RestError::NotFound(detail) => {
                (StatusCode::NOT_FOUND, Json(json!({ "detail": detail }))).into_response()
            }
            RestError::Unauthorized(detail) => {
                (StatusCode::UNAUTHORIZED, Json(json!({ "detail": detail }))).into_response()
            }
            RestError::Forbidden(detail) => {
                (StatusCode::FORBIDDEN, Json(json!({ "detail": detail }))).into_response()
            }
            RestError::Conflict(detail) => {
                (StatusCode::CONFLICT, Json(json!({ "detail": detail }))).into_response()
            }
            RestError::Unprocessable(loc, msg) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]})),
            )
                .into_response(),
            RestError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"detail": "Internal Server Error"})),
            )
                .into_response(),
        }
    }
}

pub(super) type RestResult<T> = Result<Json<T>, RestError>;
pub(super) type Params = Query<HashMap<String, String>>;

/// Python's `datetime.isoformat()` of the naive UTC timestamps the original stored:
/// `2022-09-07T20:37:49` or `2022-09-07T20:37:49.123456`.
/// Written field by field: `strftime` re-parses its pattern on every call, which was 8 % of a
/// 100-run page's CPU.
pub(super) fn py_isoformat(t: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.timestamp_subsec_micros() {
        0 => base,
        micros => format!("{base}.{micros:06}"),
    }
}

/// `BakeryRead`.
#[derive(Serialize)]
pub(super) struct BakeryJson {
    region: String,
    name: String,
    description: String,
    id: i32,
}

impl From<bakery::Model> for BakeryJson {
    fn from(b: bakery::Model) -> Self {
        BakeryJson {
            region: b.region,
            name: b.name,
            description: b.description,
            id: b.id,
        }
    }
}

/// `FeedstockRead`.
#[derive(Serialize)]
pub(super) struct FeedstockJson {
    spec: String,
    provider: String,
    id: i32,
}

impl From<feedstock::Model> for FeedstockJson {
    fn from(f: feedstock::Model) -> Self {
        FeedstockJson {
            spec: f.spec,
            provider: f.provider,
            id: f.id,
        }
    }
}

/// `RecipeRunRead`: the typed job columns are folded back into the original's JSON
/// `message` string.
#[derive(Serialize)]
pub(super) struct RecipeRunJson {
    recipe_id: String,
    bakery_id: i32,
    feedstock_id: i32,
    head_sha: String,
    version: String,
    started_at: String,
    completed_at: Option<String>,
    conclusion: Option<RunConclusion>,
    status: RunStatus,
    is_test: bool,
    dataset_type: Option<DatasetType>,
    dataset_public_url: Option<String>,
    message: Option<String>,
    id: i32,
}

/// The original's `message`: a JSON object string of whichever job fields are set.
fn message_of(run: &recipe_run::Model) -> Option<String> {
    // Inserted in alphabetical order: serde_json keeps insertion order when a dependency
    // turns on `preserve_order` (zarrs_metadata does), sorts otherwise; either way the same.
    let mut fields = serde_json::Map::new();
    if let Some(v) = run.deployment_id {
        fields.insert("deployment_id".into(), json!(v));
    }
    if let Some(v) = &run.environment_url {
        fields.insert("environment_url".into(), json!(v));
    }
    if let Some(v) = &run.job_id {
        fields.insert("job_id".into(), json!(v));
    }
    if let Some(v) = &run.job_name {
        fields.insert("job_name".into(), json!(v));
    }
    if let Some(v) = &run.error_trace {
        fields.insert("trace".into(), json!(v));
    }
    (!fields.is_empty()).then(|| serde_json::Value::Object(fields).to_string())
}

impl From<recipe_run::Model> for RecipeRunJson {
    fn from(r: recipe_run::Model) -> Self {
        RecipeRunJson {
            message: message_of(&r),
            started_at: py_isoformat(&r.started_at),
            completed_at: r.completed_at.as_ref().map(py_isoformat),
            recipe_id: r.recipe_id,
            bakery_id: r.bakery_id,
            feedstock_id: r.feedstock_id,
            head_sha: r.head_sha,
            version: r.version,
            conclusion: r.conclusion,
            status: r.status,
            is_test: r.is_test,
            dataset_type: r.dataset_type,
            dataset_public_url: r.dataset_public_url,
            id: r.id,
        }
    }
}

#[derive(Serialize)]
struct WithRecipeRuns<T> {
    #[serde(flatten)]
    parent: T,
    recipe_runs: Vec<RecipeRunJson>,
}

#[derive(Serialize)]
struct RecipeRunWithParents {
    #[serde(flatten)]
    run: RecipeRunJson,
    bakery: BakeryJson,
    feedstock: FeedstockJson,
}

/// The fields the original's datasets route loaded (`id` is the run's).
#[derive(Serialize)]
struct DatasetJson {
    recipe_id: String,
    feedstock_id: i32,
    dataset_type: DatasetType,
    dataset_public_url: String,
    is_test: bool,
    id: i32,
}

impl From<dataset::Model> for DatasetJson {
    fn from(d: dataset::Model) -> Self {
        DatasetJson {
            recipe_id: d.recipe_id,
            feedstock_id: d.feedstock_id,
            dataset_type: d.dataset_type,
            dataset_public_url: d.url,
            is_test: d.is_test,
            id: d.recipe_run_id,
        }
    }
}

pub(super) fn unprocessable(param: &'static str, msg: impl Into<String>) -> RestError {
    RestError::Unprocessable(vec!["query", param], msg.into())
}

/// `offset` and `limit` (≤ 100, default 100).
pub(super) fn page_of(params: &HashMap<String, String>) -> Result<Page, RestError> {
    let number = |name: &'static str, default: u64| -> Result<u64, RestError> {
        match params.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| unprocessable(name, "value is not a valid non-negative integer")),
        }
    };
    let offset = number("offset", 0)?;
    let limit = number("limit", MAX_PAGE_SIZE)?;
    if limit > MAX_PAGE_SIZE {
        return Err(unprocessable(
            "limit",
            format!("ensure this value is less than or equal to {MAX_PAGE_SIZE}"),
        ));
    }
    Ok(Page { offset, limit })
}

/// `offset`, `limit` (≤ 100, default 100), `order_by` (a column) and `sort` (asc|desc).
fn range<F: FromStr<Err = String> + Default>(
    params: &HashMap<String, String>,
) -> Result<(Sort<F>, Page), RestError> {
    let page = page_of(params)?;
    let field = match params.get("order_by") {
        None => F::default(),
        Some(column) => column
            .parse()
            .map_err(|msg: String| unprocessable("order_by", msg))?,
    };
    let direction = match params.get("sort").map(String::as_str) {
        None | Some("asc") => SortDirection::Asc,
        Some("desc") => SortDirection::Desc,
        Some(_) => {
            return Err(unprocessable(
                "sort",
                "unexpected value; permitted: 'asc', 'desc'",
            ));
        }
    };
    Ok((Sort { field, direction }, page))
}

pub(super) fn path_id(text: &str) -> Result<i32, RestError> {
    text.parse().map_err(|_| {
        RestError::Unprocessable(vec!["path", "id"], "value is not a valid integer".into())
    })
}

async fn list_feedstocks(
    State(state): State<AppState>,
    Query(params): Params,
) -> RestResult<Vec<FeedstockJson>> {
    let (sort, page) = range::<FeedstockField>(&params)?;
    let rows = state.db.list_feedstocks(sort, page).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

async fn get_feedstock(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> RestResult<WithRecipeRuns<FeedstockJson>> {
    let id = path_id(&id)?;
    let feedstock = state
        .db
        .feedstock(id)
        .await?
        .ok_or_else(|| RestError::NotFound("feedstock not found".into()))?;
    let runs = state.db.recipe_runs_of(RunParent::Feedstock, id).await?;
    Ok(Json(WithRecipeRuns {
        parent: feedstock.into(),
        recipe_runs: runs.into_iter().map(Into::into).collect(),
    }))
}

async fn feedstock_datasets(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Params,
) -> RestResult<Vec<DatasetJson>> {
    let id = path_id(&id)?;
    let scope = match params.get("type").map(String::as_str) {
        None | Some("all") => DatasetScope::All,
        Some("production") => DatasetScope::Production,
        Some("test") => DatasetScope::Test,
        Some(_) => {
            return Err(unprocessable(
                "type",
                "unexpected value; permitted: 'all', 'production', 'test'",
            ));
        }
    };
    let filter = DatasetFilter {
        feedstock_id: Some(id),
        scope,
    };
    let rows = state.db.all_datasets(&filter).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

async fn list_bakeries(
    State(state): State<AppState>,
    Query(params): Params,
) -> RestResult<Vec<BakeryJson>> {
    let (sort, page) = range::<BakeryField>(&params)?;
    let rows = state.db.list_bakeries(sort, page).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

async fn get_bakery(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> RestResult<WithRecipeRuns<BakeryJson>> {
    let id = path_id(&id)?;
    let bakery = state
        .db
        .bakery(id)
        .await?
        .ok_or_else(|| RestError::NotFound("bakery not found".into()))?;
    let runs = state.db.recipe_runs_of(RunParent::Bakery, id).await?;
    Ok(Json(WithRecipeRuns {
        parent: bakery.into(),
        recipe_runs: runs.into_iter().map(Into::into).collect(),
    }))
}

async fn list_recipe_runs(
    State(state): State<AppState>,
    Query(params): Params,
) -> RestResult<Vec<RecipeRunJson>> {
    let (sort, page) = range::<RecipeRunField>(&params)?;
    let rows = state
        .db
        .list_recipe_runs(&RecipeRunFilter::default(), sort, page)
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

async fn get_recipe_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> RestResult<RecipeRunWithParents> {
    let id = path_id(&id)?;
    let not_found = || RestError::NotFound("recipe_run not found".into());
    let run = state.db.recipe_run(id).await?.ok_or_else(not_found)?;
    let bakery = state
        .db
        .bakery(run.bakery_id)
        .await?
        .ok_or_else(not_found)?;
    let feedstock = state
        .db
        .feedstock(run.feedstock_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(RecipeRunWithParents {
        run: run.into(),
        bakery: bakery.into(),
        feedstock: feedstock.into(),
    }))
}

#[derive(Serialize)]
struct Count {
    count: u64,
}

async fn stats(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(params): Params,
) -> Result<Json<Count>, RestError> {
    let what = match kind.as_str() {
        "recipe_runs" => Stats::RecipeRuns,
        "bakeries" => Stats::Bakeries,
        "feedstocks" => Stats::Feedstocks,
        "datasets" => {
            let exclude_test_runs = match params.get("exclude_test_runs").map(String::as_str) {
                None | Some("false") | Some("0") => false,
                Some("true") | Some("1") => true,
                Some(_) => {
                    return Err(unprocessable(
                        "exclude_test_runs",
                        "value could not be parsed to a boolean",
                    ));
                }
            };
            Stats::Datasets { exclude_test_runs }
        }
        _ => return Err(RestError::NotFound("Not Found".into())),
    };
    Ok(Json(Count {
        count: state.db.count(what).await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::py_isoformat;
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamps_are_written_as_python_isoformat() {
        let whole = Utc.with_ymd_and_hms(2022, 9, 7, 20, 37, 49).unwrap();
        assert_eq!(py_isoformat(&whole), "2022-09-07T20:37:49");
        let early = Utc.with_ymd_and_hms(987, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(py_isoformat(&early), "0987-01-02T03:04:05");
        let micros = whole + chrono::Duration::microseconds(1_002);
        assert_eq!(py_isoformat(&micros), "2022-09-07T20:37:49.001002");
        // Nanoseconds below a microsecond are dropped, as Python stores none.
        let nanos = whole + chrono::Duration::nanoseconds(999);
        assert_eq!(py_isoformat(&nanos), "2022-09-07T20:37:49");
    }
}
