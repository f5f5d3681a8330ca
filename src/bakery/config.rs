//! One bakery's configuration, read from `<bakeries_dir>/<name>.yaml` (our layout) or
//! `<bakeries_dir>/<name>.<deployment>.yaml` (the original orchestrator's; see
//! [`super::layout`]).
//!
//! The file is the `pangeo-forge-runner` configuration (`Bake`, `TargetStorage`,
//! `InputCacheStorage`, …) plus an optional `Orchestrator:` section that is ours and is
//! removed before the configuration is handed to the runner. Secrets live in a separate
//! YAML file of the same shape (named by `Orchestrator.secrets_file` in our layout,
//! `secrets/bakery-args.<name>.yaml` in the original's), deep-merged over the
//! configuration; each of its string values is kept in [`Secrets`] so that output can be
//! masked, and none is ever logged.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::layout::{BakeryLayout, check_original_sections, check_original_sections_present};
pub use super::secrets::Secrets;
use super::secrets::mask_json;

/// The bakery classes `pangeo-forge-runner` ships (any other dotted class name is accepted).
pub const KNOWN_BAKERY_CLASSES: [&str; 3] = [
    LOCAL_DIRECT_BAKERY,
    "pangeo_forge_runner.bakery.dataflow.DataflowBakery",
    "pangeo_forge_runner.bakery.flink.FlinkOperatorBakery",
];

/// The local runner: the job runs inside the command, whose exit status is the conclusion.
pub const LOCAL_DIRECT_BAKERY: &str = "pangeo_forge_runner.bakery.local.LocalDirectBakery";

/// The key under `Bake` naming the command that cancels a job (given the job id as its last
/// argument); removed before the configuration reaches the runner.
pub const CANCEL_COMMAND_KEY: &str = "cancel_command";

/// The top-level key of our own section of a bakery file.
pub const ORCHESTRATOR_KEY: &str = "Orchestrator";

/// A validated bakery.
#[derive(Clone)]
pub struct BakeryConfig {
    /// The `bakery.id` feedstocks name in `meta.yaml`: the file name up to its first `.`.
    pub name: String,
    /// Where the bakery computes (stored on the bakery row).
    pub region: String,
    /// Shown on pangeo-forge.org (stored on the bakery row).
    pub description: String,
    /// `Bake.bakery_class`.
    pub class: String,
    /// The configuration handed to the runner, secrets merged in, without `Orchestrator`.
    /// Never log it: use [`BakeryConfig::masked_runner_config`].
    pub runner_config: Value,
    /// Every secret value of this bakery, to mask in output.
    pub secrets: Secrets,
    /// How many of this bakery's jobs may run at once; `None`: no limit.
    pub max_concurrent_jobs: Option<u32>,
    /// How long a job may run before it counts as timed out; `None`: no limit of our own.
    pub timeout: Option<Duration>,
    /// The file it was read from.
    pub source: PathBuf,
    /// Which layout that file is in.
    pub layout: BakeryLayout,
    /// The secrets file merged into it, if any.
    pub secrets_source: Option<PathBuf>,
}

impl BakeryConfig {
    /// `Bake.cancel_command` split into program and arguments (a string is split at
    /// whitespace; a list is taken as is); the job id is appended when it runs.
    pub fn cancel_command(&self) -> Option<Vec<String>> {
        let words: Vec<String> = match self.runner_config.get("Bake")?.get(CANCEL_COMMAND_KEY)? {
            Value::String(line) => line.split_whitespace().map(str::to_owned).collect(),
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => return None,
        };
        (!words.is_empty()).then_some(words)
    }

    /// Whether jobs run inside the runner command (`LocalDirectBakery`): the command ends
    /// when the job ends and prints no `submitted` line.
    pub fn is_local(&self) -> bool {
        self.class == LOCAL_DIRECT_BAKERY || self.class.ends_with(".LocalDirectBakery")
    }

    /// Whether jobs go to Google Cloud Dataflow (they are given an encoded job name).
    pub fn is_dataflow(&self) -> bool {
        self.class.ends_with(".DataflowBakery")
    }

    /// `TargetStorage.root_path` (validated to contain `{subpath}`).
    pub fn target_root_path(&self) -> Option<&str> {
        self.runner_config
            .pointer("/TargetStorage/root_path")
            .and_then(Value::as_str)
    }

    /// `TargetStorage.public_url`, when the storage is readable by the public.
    pub fn target_public_url(&self) -> Option<&str> {
        self.runner_config
            .pointer("/TargetStorage/public_url")
            .and_then(Value::as_str)
    }

    /// The runner configuration with every secret value replaced by `***`.
    pub fn masked_runner_config(&self) -> Value {
        let mut value = self.runner_config.clone();
        mask_json(&mut value, &self.secrets);
        value
    }
}

impl std::fmt::Debug for BakeryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BakeryConfig")
            .field("name", &self.name)
            .field("region", &self.region)
            .field("description", &self.description)
            .field("class", &self.class)
            .field("runner_config", &self.masked_runner_config())
            .field("secrets", &self.secrets)
            .field("max_concurrent_jobs", &self.max_concurrent_jobs)
            .field("timeout", &self.timeout)
            .field("source", &self.source)
            .field("layout", &self.layout)
            .field("secrets_source", &self.secrets_source)
            .finish()
    }
}

/// Why a bakery file was refused; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("bakery file {}: {reason}", path.display())]
pub struct BakeryConfigError {
    /// The file at fault (the bakery file or its secrets file).
    pub path: PathBuf,
    /// What is wrong and which key.
    pub reason: String,
}

/// A refusal of the file at `path` for `reason`.
pub(crate) fn refuse(path: &Path, reason: impl Into<String>) -> BakeryConfigError {
    BakeryConfigError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Our own section of a bakery file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrchestratorSection {
    region: Option<String>,
    description: Option<String>,
    secrets_file: Option<PathBuf>,
    max_concurrent_jobs: Option<u32>,
    timeout_hours: Option<f64>,
}

/// Reads and validates the bakery file at `path` in our layout; the bakery's name is the
/// file stem, its secrets file the one `Orchestrator.secrets_file` names (relative to the
/// file's directory).
pub fn load_bakery_file(path: &Path) -> Result<BakeryConfig, BakeryConfigError> {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| refuse(path, "the file name is not valid UTF-8"))?
        .to_owned();
    load(path, name, None)
}

/// Reads and validates the bakery file at `path` in the original orchestrator's layout,
/// for the bakery `name`, deep-merging the secrets file `secrets` over it (required: the
/// original layout names no other) and checking the sections the original required.
pub fn load_original_bakery_file(
    path: &Path,
    name: &str,
    secrets: &Path,
) -> Result<BakeryConfig, BakeryConfigError> {
    load(path, name.to_owned(), Some(secrets))
}

/// Loads a bakery file; `original_secrets` is the original layout's secrets file (`None`:
/// our layout, whose secrets file our section names).
fn load(
    path: &Path,
    name: String,
    original_secrets: Option<&Path>,
) -> Result<BakeryConfig, BakeryConfigError> {
    check_bakery_name(&name).map_err(|reason| refuse(path, reason))?;
    let text =
        std::fs::read_to_string(path).map_err(|e| refuse(path, format!("cannot read: {e}")))?;
    let value: Value =
        serde_saphyr::from_str(&text).map_err(|e| refuse(path, format!("not valid YAML: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(refuse(
            path,
            "expected a mapping of sections (`Bake:`, `TargetStorage:`, …)",
        ));
    };
    let section: OrchestratorSection = match map.remove(ORCHESTRATOR_KEY) {
        None | Some(Value::Null) => OrchestratorSection::default(),
        Some(v) => serde_json::from_value(v)
            .map_err(|e| refuse(path, format!("`{ORCHESTRATOR_KEY}`: {e}")))?,
    };
    let mut runner_config = Value::Object(map);

    let secrets_path = match (original_secrets, &section.secrets_file) {
        (Some(_), Some(_)) => {
            return Err(refuse(
                path,
                format!(
                    "`{ORCHESTRATOR_KEY}.secrets_file` is not for the original layout (`<name>.<deployment>.yaml`): its secrets file is secrets/bakery-args.{name}.yaml"
                ),
            ));
        }
        (Some(original), None) => Some(original.to_owned()),
        (None, Some(relative)) => Some(path.parent().unwrap_or(Path::new(".")).join(relative)),
        (None, None) => None,
    };
    if original_secrets.is_some() {
        check_original_sections_present(&runner_config).map_err(|reason| refuse(path, reason))?;
    }
    let mut secrets = Vec::new();
    if let Some(secrets_path) = &secrets_path {
        let overlay = read_secrets_file(secrets_path)?;
        collect_strings(&overlay, &mut secrets);
        deep_merge(&mut runner_config, overlay);
    }
    let layout = if original_secrets.is_some() {
        check_original_sections(&runner_config).map_err(|reason| refuse(path, reason))?;
        BakeryLayout::Original
    } else {
        BakeryLayout::Ours
    };

    let class = string_at(&runner_config, path, "Bake", "bakery_class")?;
    check_class(&class).map_err(|reason| refuse(path, format!("`Bake.bakery_class`: {reason}")))?;
    let root_path = string_at(&runner_config, path, "TargetStorage", "root_path")?;
    if !root_path.contains("{subpath}") {
        return Err(refuse(
            path,
            "`TargetStorage.root_path` must contain `{subpath}`, where each run's output goes (e.g. `Pangeo/{subpath}`)",
        ));
    }
    match runner_config.pointer("/TargetStorage/public_url") {
        None | Some(Value::Null) => {}
        Some(Value::String(url)) if url.contains("{root_path}") => {}
        Some(_) => {
            return Err(refuse(
                path,
                "`TargetStorage.public_url` must be text containing `{root_path}` (e.g. `https://host/{root_path}`)",
            ));
        }
    }
    let timeout = match section.timeout_hours {
        None => None,
        Some(h) if h.is_finite() && h > 0.0 && h <= 24.0 * 366.0 => {
            Some(Duration::from_secs_f64(h * 3600.0))
        }
        Some(h) => {
            return Err(refuse(
                path,
                format!(
                    "`{ORCHESTRATOR_KEY}.timeout_hours`: {h} is not a positive number of hours"
                ),
            ));
        }
    };
    if section.max_concurrent_jobs == Some(0) {
        return Err(refuse(
            path,
            format!("`{ORCHESTRATOR_KEY}.max_concurrent_jobs` must be at least 1"),
        ));
    }
    let short_class = class.rsplit('.').next().unwrap_or(&class).to_owned();
    Ok(BakeryConfig {
        name,
        region: section.region.unwrap_or_else(|| "unknown".to_owned()),
        description: section.description.unwrap_or(short_class),
        class,
        runner_config,
        secrets: Secrets::new(secrets),
        max_concurrent_jobs: section.max_concurrent_jobs,
        timeout,
        source: path.to_owned(),
        layout,
        secrets_source: secrets_path,
    })
}

/// Reads a secrets file. Its parse errors give only the position: a message quoting the
/// text could quote a secret.
fn read_secrets_file(path: &Path) -> Result<Value, BakeryConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| refuse(path, format!("cannot read the secrets file: {e}")))?;
    let value: Value = serde_saphyr::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {} column {}", l.line(), l.column()))
            .unwrap_or_default();
        refuse(path, format!("the secrets file is not valid YAML{at}"))
    })?;
    match &value {
        Value::Object(map) if map.contains_key("sops") => Err(refuse(
            path,
            "the secrets file is still sops-encrypted (it has a `sops` key): decrypt it (`sops -d`) before starting the server",
        )),
        Value::Object(map) if map.contains_key(ORCHESTRATOR_KEY) => Err(refuse(
            path,
            format!("a secrets file may not hold an `{ORCHESTRATOR_KEY}` section"),
        )),
        Value::Object(_) => Ok(value),
        _ => Err(refuse(
            path,
            "the secrets file must be a mapping shaped like the bakery file (e.g. `TargetStorage: {fsspec_args: {secret: …}}`)",
        )),
    }
}

fn string_at(
    config: &Value,
    path: &Path,
    section: &str,
    key: &str,
) -> Result<String, BakeryConfigError> {
    match config.get(section).and_then(|s| s.get(key)) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(_) => Err(refuse(
            path,
            format!("`{section}.{key}` must be non-empty text"),
        )),
        None => Err(refuse(path, format!("`{section}.{key}` is missing"))),
    }
}

fn check_class(class: &str) -> Result<(), String> {
    if KNOWN_BAKERY_CLASSES.contains(&class) {
        return Ok(());
    }
    let dotted = class.contains('.')
        && class.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if dotted {
        Ok(())
    } else {
        Err(format!(
            "`{class}` is not a dotted Python class name such as `{}`",
            KNOWN_BAKERY_CLASSES.join("`, `")
        ))
    }
}

/// Checks a bakery name (from the file name, stored in the database, named in `meta.yaml`).
pub fn check_bakery_name(name: &str) -> Result<(), String> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the bakery name `{name}` (the file name) must be letters, digits, `-`, `_` or `.`"
        ))
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Merges `overlay` into `base`: mappings key by key, anything else replaced.
pub fn deep_merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => merge_maps(base, overlay),
        (base, overlay) => *base = overlay,
    }
}

fn merge_maps(base: &mut Map<String, Value>, overlay: Map<String, Value>) {
    for (key, value) in overlay {
        match base.get_mut(&key) {
            Some(existing) => deep_merge(existing, value),
            None => {
                base.insert(key, value);
            }
        }
    }
}
