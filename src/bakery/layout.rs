//! The two layouts of a bakeries directory, side by side in one `PFO_BAKERIES_DIR`:
//!
//! - ours: `<name>.yaml` (or `.yml`), secrets named by `Orchestrator.secrets_file`;
//! - the original orchestrator's: `<name>.<deployment>.yaml`, one file per deployment, of
//!   which only those of this deployment (`PFO_APP_NAME`) load, with the secrets in
//!   `secrets/bakery-args.<name>.yaml` and the storage sections its configuration model
//!   required.
//!
//! The rule (docs/bakeries.md): a file name is split at its first `.`; without one it is
//! ours, with one it is the original layout's and the rest (which may hold dots) names its
//! deployment.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The storage sections the original's configuration model required of every bakery.
pub const ORIGINAL_STORAGE_SECTIONS: [&str; 3] =
    ["TargetStorage", "InputCacheStorage", "MetadataCacheStorage"];

/// The directory, inside or beside the bakeries directory, of the original's secrets files.
pub const ORIGINAL_SECRETS_DIR: &str = "secrets";

/// Which layout a bakery file is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BakeryLayout {
    /// `<name>.yaml`: our layout.
    Ours,
    /// `<name>.<deployment>.yaml` of this deployment: the original orchestrator's layout.
    Original,
}

/// What a file name in the bakeries directory is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BakeryFileName {
    /// Not a bakery: not YAML, hidden, or one of our `*.secrets.yaml` files.
    NotABakery,
    /// A bakery of `layout` named `name`, to load.
    Bakery {
        /// The bakery's name (what `meta.yaml` names as `bakery.id`).
        name: String,
        /// Which layout the file is in.
        layout: BakeryLayout,
    },
    /// A file of the original layout for another deployment: skipped.
    OtherDeployment {
        /// The bakery it configures there.
        name: String,
        /// The deployment it is for.
        deployment: String,
    },
}

/// Classifies a file name of the bakeries directory for the deployment `deployment`
/// (the server's `PFO_APP_NAME`).
pub fn classify(file_name: &str, deployment: &str) -> BakeryFileName {
    if file_name.starts_with('.') {
        return BakeryFileName::NotABakery;
    }
    let Some(stem) = file_name
        .strip_suffix(".yaml")
        .or_else(|| file_name.strip_suffix(".yml"))
    else {
        return BakeryFileName::NotABakery;
    };
    if stem.ends_with(".secrets") {
        return BakeryFileName::NotABakery;
    }
    match stem.split_once('.') {
        None => BakeryFileName::Bakery {
            name: stem.to_owned(),
            layout: BakeryLayout::Ours,
        },
        Some((name, file_deployment)) if file_deployment == deployment => BakeryFileName::Bakery {
            name: name.to_owned(),
            layout: BakeryLayout::Original,
        },
        Some((name, file_deployment)) => BakeryFileName::OtherDeployment {
            name: name.to_owned(),
            deployment: file_deployment.to_owned(),
        },
    }
}

/// The original layout's secrets file of the bakery `name`: `secrets/bakery-args.<name>.yaml`
/// beside the bakeries directory (as in the original repository) or inside it. Exactly one
/// of the two must exist; the error says which paths were looked at.
pub fn original_secrets_path(bakeries_dir: &Path, name: &str) -> Result<PathBuf, String> {
    let file_name = format!("bakery-args.{name}.yaml");
    let beside = match bakeries_dir.canonicalize() {
        Ok(absolute) => absolute
            .parent()
            .unwrap_or(&absolute)
            .join(ORIGINAL_SECRETS_DIR),
        Err(_) => bakeries_dir.join("..").join(ORIGINAL_SECRETS_DIR),
    }
    .join(&file_name);
    let inside = bakeries_dir.join(ORIGINAL_SECRETS_DIR).join(&file_name);
    match (beside.is_file(), inside.is_file()) {
        (true, false) => Ok(beside),
        (false, true) => Ok(inside),
        (true, true) => Err(format!(
            "two secrets files for the bakery `{name}`: {} and {}; keep one",
            beside.display(),
            inside.display()
        )),
        (false, false) => Err(format!(
            "the secrets file of the bakery `{name}` is missing: expected {} (beside the bakeries directory, as the original kept it) or {}; decrypt it there (the original kept it sops-encrypted), or write `{{}}` in it when the bakery has no secrets",
            beside.display(),
            inside.display()
        )),
    }
}

/// Said when one of the required sections is missing.
const REQUIRED: &str = "the original layout requires `Bake`, `TargetStorage`, `InputCacheStorage` and `MetadataCacheStorage`";

/// Checks that the bakery file itself, before its secrets are merged, has the sections the
/// original's configuration model required (`Bake`, `TargetStorage`, `InputCacheStorage`,
/// `MetadataCacheStorage`): the original merged secrets only into sections the file has.
pub fn check_original_sections_present(file_config: &Value) -> Result<(), String> {
    mapping(file_config, "Bake")?;
    for section in ORIGINAL_STORAGE_SECTIONS {
        mapping(file_config, section)?;
    }
    Ok(())
}

/// Checks the keys the original's configuration model required, after the secrets are
/// merged (as the original validated the merged configuration): `TargetStorage`,
/// `InputCacheStorage` and `MetadataCacheStorage`, each with `fsspec_class`, `fsspec_args`
/// (a mapping) and `root_path`, and `public_url` text when given; `DataflowBakery`, when
/// given, with `temp_gcs_location`. The reason names the key.
pub fn check_original_sections(config: &Value) -> Result<(), String> {
    mapping(config, "Bake")?;
    for section in ORIGINAL_STORAGE_SECTIONS {
        let storage = mapping(config, section)?;
        text(storage, section, "fsspec_class")?;
        match storage.get("fsspec_args") {
            Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(format!(
                    "`{section}.fsspec_args` must be a mapping (`{{}}` when empty)"
                ));
            }
            None => {
                return Err(format!(
                    "`{section}.fsspec_args` is missing (`{{}}` when empty)"
                ));
            }
        }
        text(storage, section, "root_path")?;
        match storage.get("public_url") {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(_) => return Err(format!("`{section}.public_url` must be text")),
        }
    }
    match config.get("DataflowBakery") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(dataflow)) => text(dataflow, "DataflowBakery", "temp_gcs_location"),
        Some(_) => Err("`DataflowBakery` must be a mapping".to_owned()),
    }
}

fn mapping<'a>(
    config: &'a Value,
    section: &str,
) -> Result<&'a serde_json::Map<String, Value>, String> {
    match config.get(section) {
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(format!("`{section}` must be a mapping of keys")),
        None => Err(format!("`{section}` is missing ({REQUIRED})")),
    }
}

fn text(map: &serde_json::Map<String, Value>, section: &str, key: &str) -> Result<(), String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        Some(_) => Err(format!("`{section}.{key}` must be non-empty text")),
        None => Err(format!("`{section}.{key}` is missing")),
    }
}
