//! `Dataset.summary` and `Dataset.reprHtml`: the dataset preview typed for GraphQL, read from
//! the dataset's store metadata (never its chunks) through [`crate::repr::Previews`], cached
//! as the REST preview is. A store that cannot be read is a field error with
//! `extensions.code` (`NOT_FOUND`, `FORBIDDEN`, `BAD_METADATA`, `STORAGE_FAILED`,
//! `STORAGE_TIMEOUT`, `SERVICE_UNAVAILABLE`) and `extensions.status` (the HTTP status
//! `/repr/xarray/` answers); the rest of the query still answers.

use crate::repr::{self, Preview, Previews, ReprError};
use async_graphql::{Context, ErrorExtensions, Json, Result, SimpleObject};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Stores one GraphQL request previews for the datasets of its lists.
pub const MAX_PREVIEWS_PER_REQUEST: usize = 20;

/// The stores a request has previewed so far. Each HTTP request gets its own
/// ([`crate::graphql::for_caller`]); it is request data rather than a schema extension
/// because any extension sends every field of every query through async-graphql's slower
/// instrumented path (a registry lookup and an extra future per field).
#[derive(Clone, Default)]
pub struct PreviewBudget(Arc<Mutex<HashSet<String>>>);

impl PreviewBudget {
    /// Counts `url` (a store already counted is free); `false` past the limit.
    fn spend(&self, url: &str) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(url) {
            return true;
        }
        if seen.len() >= MAX_PREVIEWS_PER_REQUEST {
            return false;
        }
        seen.insert(url.to_owned());
        true
    }
}

/// How much a preview field counts against the complexity limit (1000): a query reads at
/// most a few stores.
pub const PREVIEW_COMPLEXITY: usize = 20;

/// A dimension of a dataset.
#[derive(SimpleObject)]
pub struct DatasetDimension {
    name: String,
    /// Its length (may pass 2³¹; a JSON number).
    size: u64,
    /// Whether a coordinate of the same name indexes it.
    has_index: bool,
}

/// A variable of a dataset, as xarray opens it (CF decoding applied).
#[derive(SimpleObject)]
pub struct DatasetVariable {
    name: String,
    /// Its dimensions, in order.
    dims: Vec<String>,
    /// The type xarray gives it (`float32`, `datetime64[ns]`).
    dtype: String,
    /// The type as stored (`<i2`, `int16`).
    stored_dtype: String,
    shape: Vec<u64>,
    /// The chunk shape; null when the chunk grid is not regular.
    chunks: Option<Vec<u64>>,
    /// Its attributes (bounded: nesting, long strings and long lists are cut).
    attrs: Json<serde_json::Value>,
    /// Values × bytes per value.
    size_bytes: u64,
    /// An index coordinate (named as its only dimension).
    is_index: bool,
    /// For CF times: the unit and reference date, e.g. `days since 1996-10-01`.
    time_units: Option<String>,
}

/// What `xr.open_dataset(url, engine="zarr", chunks={})` shows of a dataset, read from its
/// metadata.
#[derive(SimpleObject)]
pub struct DatasetSummary {
    /// 2 or 3.
    zarr_format: i32,
    /// Whether the store has consolidated metadata.
    consolidated: bool,
    dims: Vec<DatasetDimension>,
    /// The coordinates (index coordinates and those a `coordinates` attribute names), by name.
    coords: Vec<DatasetVariable>,
    /// The data variables.
    variables: Vec<DatasetVariable>,
    /// The dataset's own attributes (bounded).
    attrs: Json<serde_json::Value>,
    /// The sum of every variable's size, in bytes.
    size_bytes: u64,
    /// Variables not listed (past the preview's limit).
    variables_not_shown: i32,
}

fn variable(v: &repr::Variable) -> DatasetVariable {
    DatasetVariable {
        name: v.name.clone(),
        dims: v.dims.clone(),
        dtype: v.dtype.clone(),
        stored_dtype: v.stored_dtype.clone(),
        shape: v.shape.clone(),
        chunks: v.chunks.clone(),
        attrs: Json(serde_json::Value::Object(v.attrs.clone())),
        size_bytes: v.size_bytes,
        is_index: v.is_index,
        time_units: v.time.as_ref().map(|t| t.describe()),
    }
}

impl From<&repr::Summary> for DatasetSummary {
    fn from(s: &repr::Summary) -> Self {
        DatasetSummary {
            zarr_format: i32::from(s.zarr_format),
            consolidated: s.consolidated,
            dims: s
                .dims
                .iter()
                .map(|d| DatasetDimension {
                    name: d.name.clone(),
                    size: d.size,
                    has_index: d.has_index,
                })
                .collect(),
            coords: s.coords.iter().map(variable).collect(),
            variables: s.data_vars.iter().map(variable).collect(),
            attrs: Json(serde_json::Value::Object(s.attrs.clone())),
            size_bytes: s.size_bytes,
            variables_not_shown: i32::try_from(s.variables_not_shown).unwrap_or(i32::MAX),
        }
    }
}

/// A preview error as a GraphQL error with `extensions.code` and `extensions.status`.
pub fn preview_error(err: &ReprError) -> async_graphql::Error {
    async_graphql::Error::new(err.to_string()).extend_with(|_, ext| {
        ext.set("code", err.code());
        ext.set("status", i32::from(err.status()));
    })
}

/// The preview of the store at `url`; `listed` when the dataset is one of a list (counted
/// against the request's budget).
pub async fn preview_of(ctx: &Context<'_>, url: &str, listed: bool) -> Result<Arc<Preview>> {
    let previews = ctx
        .data::<Previews>()
        .map_err(|_| super::error::ApiError::Internal.extend())?;
    if listed
        && let Some(budget) = ctx.data_opt::<PreviewBudget>()
        && !budget.spend(url)
    {
        return Err(async_graphql::Error::new(format!(
            "one request previews at most {MAX_PREVIEWS_PER_REQUEST} datasets; ask for the others' summary in another request"
        ))
        .extend_with(|_, ext| ext.set("code", "PREVIEW_LIMIT")));
    }
    previews.preview(url).await.map_err(|e| preview_error(&e))
}
