//! Zarr v3: the root `zarr.json` (a group), its `consolidated_metadata` when present (every
//! node's `zarr.json` inline, as zarr-python 3 writes it), else each top-level directory's
//! `zarr.json`.

use super::{MAX_ARRAYS, RawArray, RawGroup, bad, default_dims, finish, json, read_children};
use crate::repr::ReprError;
use crate::repr::dtype::DType;
use crate::repr::store::Store;
use serde_json::Value;
use zarrs_metadata::v3::{ArrayMetadataV3, GroupMetadataV3};

/// The group a root `zarr.json` (at `base`) describes.
pub(super) async fn read(store: &Store, base: &str, bytes: &[u8]) -> Result<RawGroup, ReprError> {
    let key = format!("{base}zarr.json");
    let doc = json(store, &key, bytes)?;
    if doc.get("node_type").and_then(Value::as_str) == Some("array") {
        return Err(ReprError::NotFound(format!(
            "{}/{key} is a Zarr array, not a group: a dataset is a group of arrays",
            store.url().as_str()
        )));
    }
    let group: GroupMetadataV3 =
        serde_json::from_value(doc).map_err(|e| bad(store, &key, "Zarr v3 group metadata", e))?;
    let inline = group
        .additional_fields
        .get("consolidated_metadata")
        .map(|field| field.as_value())
        .and_then(|v| v.get("metadata"))
        .and_then(Value::as_object);
    if let Some(nodes) = inline {
        let mut arrays = Vec::new();
        let mut not_read = 0;
        for (name, node) in nodes {
            if name.contains('/') || node.get("node_type").and_then(Value::as_str) != Some("array")
            {
                continue;
            }
            if arrays.len() >= MAX_ARRAYS {
                not_read += 1;
                continue;
            }
            arrays.push(array(store, name, &key, node)?);
        }
        return Ok(finish(3, true, group.attributes, arrays, not_read));
    }
    let (arrays, not_read) = read_children(store, base, |name| async move {
        let child = format!("{base}{name}/zarr.json");
        let Some(bytes) = store.read(&child).await? else {
            return Ok(None);
        };
        let node = json(store, &child, &bytes)?;
        if node.get("node_type").and_then(Value::as_str) != Some("array") {
            return Ok(None);
        }
        array(store, &name, &child, &node).map(Some)
    })
    .await?;
    Ok(finish(3, false, group.attributes, arrays, not_read))
}

/// One array from its `zarr.json` document.
fn array(store: &Store, name: &str, key: &str, node: &Value) -> Result<RawArray, ReprError> {
    let meta: ArrayMetadataV3 = serde_json::from_value(node.clone())
        .map_err(|e| bad(store, key, &format!("Zarr v3 array metadata (`{name}`)"), e))?;
    let rank = meta.shape.len();
    let dims = match &meta.dimension_names {
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, n)| n.clone().unwrap_or_else(|| format!("dim_{i}")))
            .collect(),
        None => default_dims(rank),
    };
    if dims.len() != rank {
        return Err(bad(
            store,
            key,
            "consistent",
            format!(
                "`{name}` names {} dimensions for an array of {rank}",
                dims.len()
            ),
        ));
    }
    let configuration = meta
        .data_type
        .configuration()
        .map(|c| Value::Object((**c).clone()));
    let dtype = DType::from_v3(meta.data_type.name(), configuration.as_ref());
    let chunks = (meta.chunk_grid.name() == "regular")
        .then(|| meta.chunk_grid.configuration())
        .flatten()
        .and_then(|c| c.get("chunk_shape"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_u64).collect::<Vec<u64>>())
        .filter(|chunks| chunks.len() == rank);
    Ok(RawArray {
        name: name.to_owned(),
        dims,
        shape: meta.shape.clone(),
        chunks,
        stored_dtype: meta.data_type.name().to_owned(),
        dtype,
        fill_value: serde_json::to_value(&meta.fill_value).unwrap_or(Value::Null),
        codecs: meta.codecs.iter().map(|c| c.name().to_owned()).collect(),
        attrs: meta.attributes,
    })
}
