//! Zarr v2: `.zmetadata` (consolidated: every `.zgroup`, `.zattrs` and `.zarray` in one
//! document), else `.zgroup` + `.zattrs` and, for each top-level directory, its `.zarray` and
//! `.zattrs`.

use super::{
    MAX_ARRAYS, RawArray, RawGroup, bad, default_dims, finish, json, read_children, top_level,
};
use crate::repr::ReprError;
use crate::repr::dtype::DType;
use crate::repr::store::Store;
use serde_json::{Map, Value};
use zarrs_metadata::v2::{ArrayMetadataV2, DataTypeMetadataV2, GroupMetadataV2};

/// The attribute xarray keeps a v2 array's dimension names in.
pub const DIMENSIONS_ATTR: &str = "_ARRAY_DIMENSIONS";

/// The group a `.zmetadata` document describes.
pub(super) fn consolidated(store: &Store, bytes: &[u8]) -> Result<RawGroup, ReprError> {
    let doc = json(store, ".zmetadata", bytes)?;
    let Some(Value::Object(entries)) = doc.get("metadata") else {
        return Err(bad(
            store,
            ".zmetadata",
            "consolidated Zarr metadata",
            "it has no `metadata` object",
        ));
    };
    let group = entries.get(".zgroup").ok_or_else(|| {
        bad(
            store,
            ".zmetadata",
            "a group's metadata",
            "no `.zgroup` entry",
        )
    })?;
    serde_json::from_value::<GroupMetadataV2>(group.clone())
        .map_err(|e| bad(store, ".zmetadata", "Zarr v2 group metadata (`.zgroup`)", e))?;
    let attrs = object(entries.get(".zattrs"));
    let mut arrays = Vec::new();
    let mut not_read = 0;
    for (key, value) in entries {
        let Some(name) = top_level(key, ".zarray") else {
            continue;
        };
        if arrays.len() >= MAX_ARRAYS {
            not_read += 1;
            continue;
        }
        let array_attrs = object(entries.get(&format!("{name}/.zattrs")));
        arrays.push(array(
            store,
            name,
            &format!("{name}/.zarray"),
            value,
            array_attrs,
        )?);
    }
    Ok(finish(2, true, attrs, arrays, not_read))
}

/// The group at `base`, its arrays found by listing the store and read one by one.
pub(super) async fn unconsolidated(
    store: &Store,
    base: &str,
    zgroup: &[u8],
) -> Result<RawGroup, ReprError> {
    let key = format!("{base}.zgroup");
    serde_json::from_value::<GroupMetadataV2>(json(store, &key, zgroup)?)
        .map_err(|e| bad(store, &key, "Zarr v2 group metadata", e))?;
    let attrs_key = format!("{base}.zattrs");
    let attrs = match store.read(&attrs_key).await? {
        Some(bytes) => object(Some(&json(store, &attrs_key, &bytes)?)),
        None => Map::new(),
    };
    let (arrays, not_read) = read_children(store, base, |name| async move {
        let zarray = format!("{base}{name}/.zarray");
        let Some(bytes) = store.read(&zarray).await? else {
            // A subgroup, or a directory that is not Zarr's.
            return Ok(None);
        };
        let value = json(store, &zarray, &bytes)?;
        let zattrs = format!("{base}{name}/.zattrs");
        let array_attrs = match store.read(&zattrs).await? {
            Some(bytes) => object(Some(&json(store, &zattrs, &bytes)?)),
            None => Map::new(),
        };
        array(store, &name, &zarray, &value, array_attrs).map(Some)
    })
    .await?;
    Ok(finish(2, false, attrs, arrays, not_read))
}

/// An attributes document as a map (anything else: none).
fn object(value: Option<&Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

/// One array from its `.zarray` document and its attributes.
fn array(
    store: &Store,
    name: &str,
    key: &str,
    zarray: &Value,
    attrs: Map<String, Value>,
) -> Result<RawArray, ReprError> {
    let meta: ArrayMetadataV2 = serde_json::from_value(zarray.clone())
        .map_err(|e| bad(store, key, "Zarr v2 array metadata", e))?;
    let (dtype, stored) = match &meta.dtype {
        DataTypeMetadataV2::Simple(text) => (DType::from_v2(text), text.clone()),
        structured @ DataTypeMetadataV2::Structured(_) => {
            let text = structured.to_string();
            (DType::from_v2(&text), text)
        }
    };
    let dims = match attrs.get(DIMENSIONS_ATTR) {
        Some(Value::Array(names)) => names
            .iter()
            .enumerate()
            .map(|(i, n)| n.as_str().map_or_else(|| format!("dim_{i}"), str::to_owned))
            .collect(),
        _ => default_dims(meta.shape.len()),
    };
    if dims.len() != meta.shape.len() {
        return Err(bad(
            store,
            key,
            "consistent",
            format!(
                "{DIMENSIONS_ATTR} names {} dimensions for an array of {}",
                dims.len(),
                meta.shape.len()
            ),
        ));
    }
    let mut codecs: Vec<String> = meta
        .filters
        .iter()
        .flatten()
        .map(|f| f.id().to_owned())
        .collect();
    if let Some(compressor) = &meta.compressor {
        codecs.push(compressor.id().to_owned());
    }
    Ok(RawArray {
        name: name.to_owned(),
        dims,
        chunks: Some(meta.chunks.iter().map(|c| c.get()).collect()),
        shape: meta.shape,
        dtype,
        stored_dtype: stored,
        fill_value: serde_json::to_value(&meta.fill_value).unwrap_or(Value::Null),
        codecs,
        // Without the dimension names, in their order.
        attrs: attrs
            .into_iter()
            .filter(|(key, _)| key != DIMENSIONS_ATTR)
            .collect(),
    })
}
