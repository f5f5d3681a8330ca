//! What `xr.open_dataset(url, engine="zarr", chunks={})` would show of a root group, made
//! from its metadata alone: dimensions with sizes (in order of first appearance), coordinates
//! (index coordinates: a variable named as its only dimension; others: named in a
//! `coordinates` attribute), data variables, and the attributes CF decoding leaves (it takes
//! `_FillValue`, `missing_value`, `scale_factor`, `add_offset`, `coordinates`, and a time's
//! `units` and `calendar`), with the decoded data type and the size in bytes.

use super::ReprError;
use super::attrs::bounded;
use super::cf_time::{CfTime, parse_units};
use super::dtype::DType;
use super::zarr::{RawArray, RawGroup};
use serde_json::{Map, Value};

/// The most variables a summary lists (coordinates and data variables together); past it
/// they are counted in [`Summary::variables_not_shown`].
pub const MAX_VARIABLES: usize = 250;

/// One dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dim {
    pub name: String,
    pub size: u64,
    /// Whether a coordinate indexes it.
    pub has_index: bool,
}

/// One variable (a coordinate or a data variable).
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub dims: Vec<String>,
    /// The type xarray gives it after CF decoding (`float32`, `datetime64[ns]`).
    pub dtype: String,
    /// The type as stored (`<i2`, `int16`).
    pub stored_dtype: String,
    pub shape: Vec<u64>,
    /// The chunk shape, when the store's chunk grid is regular.
    pub chunks: Option<Vec<u64>>,
    /// The attributes CF decoding leaves, bounded (see [`super::attrs`]).
    pub attrs: Map<String, Value>,
    /// Number of values × size of the decoded type.
    pub size_bytes: u64,
    /// An index coordinate (named as its only dimension).
    pub is_index: bool,
    /// The CF time encoding, when its values decode to dates.
    pub time: Option<CfTime>,
    /// The fill value as written.
    pub fill_value: Value,
    /// Compressor, filters or codecs, by name.
    pub codecs: Vec<String>,
}

/// A dataset's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// 2 or 3.
    pub zarr_format: u8,
    /// Whether one consolidated document described the store.
    pub consolidated: bool,
    pub dims: Vec<Dim>,
    pub coords: Vec<Variable>,
    pub data_vars: Vec<Variable>,
    /// The group's attributes, bounded.
    pub attrs: Map<String, Value>,
    /// The sum of every variable's size (also those not shown).
    pub size_bytes: u64,
    /// Variables left out past [`MAX_VARIABLES`] (or past the arrays a store is read for).
    pub variables_not_shown: usize,
}

/// Attributes CF decoding moves out of every variable's attributes.
const DECODED_ATTRS: [&str; 5] = [
    "_FillValue",
    "missing_value",
    "scale_factor",
    "add_offset",
    "coordinates",
];

impl Summary {
    /// The summary of a root group, or why its metadata is not one dataset.
    pub fn of(group: RawGroup) -> Result<Summary, ReprError> {
        let RawGroup {
            zarr_format,
            consolidated,
            attrs,
            arrays,
            arrays_not_read,
        } = group;
        let mut dims: Vec<Dim> = Vec::new();
        for array in &arrays {
            for (name, size) in array.dims.iter().zip(&array.shape) {
                match dims.iter().find(|d| &d.name == name) {
                    Some(seen) if seen.size != *size => {
                        return Err(ReprError::BadMetadata(format!(
                            "dimension `{name}` has size {} and {size} (in `{}`): the arrays do not form one dataset",
                            seen.size, array.name
                        )));
                    }
                    Some(_) => {}
                    None => dims.push(Dim {
                        name: name.clone(),
                        size: *size,
                        has_index: false,
                    }),
                }
            }
        }
        let named_coords = coordinate_names(&attrs, &arrays);
        let mut coords = Vec::new();
        let mut data_vars = Vec::new();
        let mut size_bytes: u64 = 0;
        let mut shown = 0;
        let mut not_shown = arrays_not_read;
        for array in &arrays {
            let variable = decode(array);
            size_bytes = size_bytes.saturating_add(variable.size_bytes);
            if variable.is_index
                && let Some(dim) = dims.iter_mut().find(|d| d.name == variable.name)
            {
                dim.has_index = true;
            }
            if shown >= MAX_VARIABLES {
                not_shown += 1;
                continue;
            }
            shown += 1;
            if variable.is_index || named_coords.contains(&variable.name) {
                coords.push(variable);
            } else {
                data_vars.push(variable);
            }
        }
        let attrs = without(&attrs, &["coordinates"]);
        Ok(Summary {
            zarr_format,
            consolidated,
            dims,
            coords,
            data_vars,
            attrs: bounded(&attrs),
            size_bytes,
            variables_not_shown: not_shown,
        })
    }

    /// Every variable shown: coordinates first.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.coords.iter().chain(&self.data_vars)
    }
}

/// The variables named in a `coordinates` attribute (of a variable or of the group).
fn coordinate_names(attrs: &Map<String, Value>, arrays: &[RawArray]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let lists = arrays
        .iter()
        .filter_map(|a| a.attrs.get("coordinates"))
        .chain(attrs.get("coordinates"));
    for list in lists {
        if let Some(text) = list.as_str() {
            names.extend(text.split_whitespace().map(str::to_owned));
        }
    }
    names.sort();
    names.dedup();
    names
}

/// One array as xarray's CF decoding presents it.
fn decode(array: &RawArray) -> Variable {
    let attrs = &array.attrs;
    let units = attrs
        .get("units")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let time = units.as_deref().and_then(parse_units).filter(|_| {
        !matches!(
            array.dtype.kind,
            super::dtype::Kind::Str | super::dtype::Kind::Bytes | super::dtype::Kind::Object
        )
    });
    let dtype = match &time {
        Some(_) => {
            let calendar = attrs.get("calendar").and_then(Value::as_str);
            DType::cf_time(calendar)
        }
        None => {
            // Zarr v2's fill value is xarray's `_FillValue` (it masks with it).
            let masked = attrs.contains_key("_FillValue")
                || attrs.contains_key("missing_value")
                || (array.stored_dtype.starts_with(['<', '>', '|']) && !array.fill_value.is_null());
            let scaled = attrs.contains_key("scale_factor") || attrs.contains_key("add_offset");
            array
                .dtype
                .decoded(masked, scaled, attrs.contains_key("add_offset"))
        }
    };
    let mut decoded: Vec<&str> = DECODED_ATTRS.to_vec();
    if time.is_some() {
        decoded.extend(["units", "calendar"]);
    }
    let attrs = without(attrs, &decoded);
    let count = array
        .shape
        .iter()
        .try_fold(1u64, |n, s| n.checked_mul(*s))
        .unwrap_or(u64::MAX);
    Variable {
        name: array.name.clone(),
        is_index: array.dims.len() == 1 && array.dims[0] == array.name,
        dims: array.dims.clone(),
        size_bytes: count.saturating_mul(dtype.itemsize),
        dtype: dtype.name,
        stored_dtype: array.stored_dtype.clone(),
        shape: array.shape.clone(),
        chunks: array.chunks.clone(),
        attrs: bounded(&attrs),
        time,
        fill_value: array.fill_value.clone(),
        codecs: array.codecs.clone(),
    }
}

/// `attrs` without `names`, in their order (removing from a map that keeps order would move
/// its last entry).
fn without(attrs: &Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    attrs
        .iter()
        .filter(|(key, _)| !names.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// `n` bytes in decimal units, as xarray writes sizes: `720B`, `1kB`, `781kB`, `2GB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = n as f64;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    format!("{value:.0}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(name: &str, dims: &[&str], shape: &[u64], dtype: &str, attrs: Value) -> RawArray {
        RawArray {
            name: name.into(),
            dims: dims.iter().map(|d| d.to_string()).collect(),
            shape: shape.to_vec(),
            chunks: Some(shape.to_vec()),
            dtype: DType::from_v2(dtype),
            stored_dtype: dtype.into(),
            fill_value: Value::Null,
            codecs: vec![],
            attrs: attrs.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn a_group_becomes_dimensions_coordinates_and_variables() {
        let group = RawGroup {
            zarr_format: 2,
            consolidated: true,
            attrs: json!({"title": "GPCP", "coordinates": "lat_bnds"})
                .as_object()
                .cloned()
                .unwrap(),
            arrays: vec![
                raw(
                    "lat",
                    &["lat"],
                    &[180],
                    "<f4",
                    json!({"units": "degrees_north"}),
                ),
                raw("lat_bnds", &["lat", "nv"], &[180, 2], "<f4", json!({})),
                raw(
                    "precip",
                    &["time", "lat"],
                    &[3, 180],
                    "<i2",
                    json!({"scale_factor": 0.1, "_FillValue": -1, "long_name": "rain"}),
                ),
                raw(
                    "time",
                    &["time"],
                    &[3],
                    "<i8",
                    json!({"units": "days since 1996-10-01", "calendar": "standard"}),
                ),
            ],
            arrays_not_read: 0,
        };
        let s = Summary::of(group).unwrap();
        let dims: Vec<(&str, u64, bool)> = s
            .dims
            .iter()
            .map(|d| (d.name.as_str(), d.size, d.has_index))
            .collect();
        assert_eq!(
            dims,
            [("lat", 180, true), ("nv", 2, false), ("time", 3, true)]
        );
        let coords: Vec<&str> = s.coords.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(coords, ["lat", "lat_bnds", "time"]);
        let precip = &s.data_vars[0];
        assert_eq!(precip.dtype, "float32");
        assert_eq!(
            precip.attrs,
            json!({"long_name": "rain"}).as_object().cloned().unwrap()
        );
        let time = &s.coords[2];
        assert_eq!(time.dtype, "datetime64[ns]");
        assert!(time.attrs.is_empty());
        assert_eq!(
            time.time.as_ref().unwrap().describe(),
            "days since 1996-10-01"
        );
        assert_eq!(s.size_bytes, 180 * 4 + 360 * 4 + 540 * 4 + 3 * 8);
        assert!(!s.attrs.contains_key("coordinates"));
    }

    #[test]
    fn conflicting_dimension_sizes_are_not_one_dataset() {
        let group = RawGroup {
            zarr_format: 3,
            consolidated: false,
            attrs: Map::new(),
            arrays: vec![
                raw("a", &["x"], &[3], "<f4", json!({})),
                raw("b", &["x"], &[4], "<f4", json!({})),
            ],
            arrays_not_read: 0,
        };
        assert_eq!(Summary::of(group).unwrap_err().status(), 502);
    }

    #[test]
    fn sizes_read_as_xarray_writes_them() {
        assert_eq!(human_bytes(720), "720B");
        assert_eq!(human_bytes(1_000), "1kB");
        assert_eq!(human_bytes(1_440), "1kB");
        assert_eq!(human_bytes(781_464), "781kB");
        assert_eq!(human_bytes(31_000_000), "31MB");
        assert_eq!(human_bytes(2_100_000_000), "2GB");
        assert_eq!(human_bytes(u64::MAX), "18EB");
    }
}
