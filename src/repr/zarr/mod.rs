//! A store's root group as its metadata describes it, read from Zarr v3 `zarr.json` (with its
//! consolidated metadata when present, else each array's `zarr.json`) or Zarr v2
//! `.zmetadata` (else `.zgroup`, `.zattrs` and each array's `.zarray` and `.zattrs`), parsed
//! with `zarrs_metadata`. Only metadata files are read, never chunks; only the root group's
//! arrays are variables, as `xr.open_dataset` opens the root group.

mod v2;
mod v3;

use super::ReprError;
use super::dtype::DType;
use super::store::{Store, not_found};
use serde_json::{Map, Value};

/// The most arrays read from one store; past it the rest are counted, not read.
pub const MAX_ARRAYS: usize = 1_000;
/// How many metadata files are read at once from a store without consolidated metadata.
pub const PARALLEL_READS: usize = 8;

/// The arrays among the children of `base` (at most [`MAX_ARRAYS`] of them read,
/// [`PARALLEL_READS`] at a time, in listing order), each read by `read_one` (`Ok(None)`:
/// not an array); with how many children were left unread.
async fn read_children<F, Fut>(
    store: &Store,
    base: &str,
    read_one: F,
) -> Result<(Vec<RawArray>, usize), ReprError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<RawArray>, ReprError>>,
{
    use futures_util::{StreamExt, stream};
    let children = store.list_children(base).await?;
    let not_read = children.len().saturating_sub(MAX_ARRAYS);
    let read = stream::iter(children.into_iter().take(MAX_ARRAYS))
        .map(read_one)
        .buffered(PARALLEL_READS)
        .collect::<Vec<Result<Option<RawArray>, ReprError>>>()
        .await;
    let mut arrays = Vec::new();
    for one in read {
        if let Some(array) = one? {
            arrays.push(array);
        }
    }
    Ok((arrays, not_read))
}

/// One array of the root group, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RawArray {
    /// Its name in the group.
    pub name: String,
    /// Its dimension names (`_ARRAY_DIMENSIONS` in v2, `dimension_names` in v3;
    /// `dim_0`, `dim_1`, … where the store names none).
    pub dims: Vec<String>,
    pub shape: Vec<u64>,
    /// The chunk shape (v3: of the regular chunk grid; `None` for other grids).
    pub chunks: Option<Vec<u64>>,
    /// The stored data type.
    pub dtype: DType,
    /// How the type was written (`<f4`, `float32`).
    pub stored_dtype: String,
    /// The fill value as written (JSON).
    pub fill_value: Value,
    /// Compressor, filters or codecs, by name.
    pub codecs: Vec<String>,
    /// Its attributes, as written.
    pub attrs: Map<String, Value>,
}

/// The root group of a store.
#[derive(Debug, Clone, PartialEq)]
pub struct RawGroup {
    /// 2 or 3.
    pub zarr_format: u8,
    /// Whether one consolidated document described it.
    pub consolidated: bool,
    /// The group's attributes.
    pub attrs: Map<String, Value>,
    /// Its arrays, sorted by name (as zarr lists them), at most [`MAX_ARRAYS`].
    pub arrays: Vec<RawArray>,
    /// Arrays beyond [`MAX_ARRAYS`], not read.
    pub arrays_not_read: usize,
}

/// Reads the root group of `store`. A store whose root holds no metadata but exactly one
/// `*.zarr` directory is read from that directory (pangeo-forge-recipes' `StoreToZarr` writes
/// `<root_path>/<store_name>`), where the store can list its contents.
pub async fn read_group(store: &Store) -> Result<RawGroup, ReprError> {
    if let Some(group) = read_root(store, "").await? {
        return Ok(group);
    }
    let children = match store.list_children("").await {
        Ok(children) => children,
        Err(_) => return Err(not_found(store.url())),
    };
    let zarrs: Vec<&String> = children.iter().filter(|c| c.ends_with(".zarr")).collect();
    if let [only] = zarrs.as_slice()
        && let Some(group) = read_root(store, &format!("{only}/")).await?
    {
        return Ok(group);
    }
    Err(not_found(store.url()))
}

/// The group at `base` (`""` or `name/`), if there is one.
async fn read_root(store: &Store, base: &str) -> Result<Option<RawGroup>, ReprError> {
    let (v3_key, v2_key) = (format!("{base}zarr.json"), format!("{base}.zmetadata"));
    let (v3, consolidated) = tokio::join!(store.read(&v3_key), store.read(&v2_key));
    if let Some(bytes) = v3? {
        return v3::read(store, base, &bytes).await.map(Some);
    }
    if let Some(bytes) = consolidated? {
        return v2::consolidated(store, &bytes).map(Some);
    }
    match store.read(&format!("{base}.zgroup")).await? {
        Some(bytes) => v2::unconsolidated(store, base, &bytes).await.map(Some),
        None => Ok(None),
    }
}

/// Parses a metadata file as JSON (serde_json refuses nesting past 128 levels).
pub(super) fn json(store: &Store, key: &str, bytes: &[u8]) -> Result<Value, ReprError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ReprError::BadMetadata(format!(
            "{}/{key} is not valid JSON: {e}",
            store.url().as_str()
        ))
    })
}

/// `dim_0`, `dim_1`, … for arrays whose store names no dimensions.
fn default_dims(rank: usize) -> Vec<String> {
    (0..rank).map(|i| format!("dim_{i}")).collect()
}

/// The names a `name/…` key has at the top level: `Some(name)` for `name/<file>` only.
fn top_level<'a>(key: &'a str, file: &str) -> Option<&'a str> {
    let name = key.strip_suffix(file)?.strip_suffix('/')?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// Sorts arrays by name and keeps at most [`MAX_ARRAYS`].
fn finish(
    zarr_format: u8,
    consolidated: bool,
    attrs: Map<String, Value>,
    mut arrays: Vec<RawArray>,
    not_read: usize,
) -> RawGroup {
    arrays.sort_by(|a, b| a.name.cmp(&b.name));
    let over = arrays.len().saturating_sub(MAX_ARRAYS);
    arrays.truncate(MAX_ARRAYS);
    RawGroup {
        zarr_format,
        consolidated,
        attrs,
        arrays,
        arrays_not_read: not_read + over,
    }
}

/// A metadata document that is not what its name says.
fn bad(store: &Store, key: &str, what: &str, err: impl std::fmt::Display) -> ReprError {
    ReprError::BadMetadata(format!(
        "{}/{key} is not {what}: {}",
        store.url().as_str(),
        super::attrs::cut_chars(&err.to_string(), 300)
    ))
}
