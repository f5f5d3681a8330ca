//! Every configured bakery, loaded once at start-up from the bakeries directory (our
//! layout and the original orchestrator's, see [`super::layout`]), and recorded in the
//! database so nobody inserts bakery rows by hand.

use super::config::{
    BakeryConfig, BakeryConfigError, load_bakery_file, load_original_bakery_file, refuse,
};
use super::layout::{BakeryFileName, BakeryLayout, classify, original_secrets_path};
use crate::config::ServerSecrets;
use crate::db::{BakeryPatch, Database, DbError, NewBakery};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The bakeries, by name. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct BakeryRegistry {
    bakeries: Arc<BTreeMap<String, Arc<BakeryConfig>>>,
}

/// Why the bakeries directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The directory itself could not be listed.
    #[error("cannot read the bakeries directory {}: {source}", dir.display())]
    ReadDir {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// One bakery file is wrong.
    #[error(transparent)]
    Bakery(#[from] BakeryConfigError),
    /// Two files give the same name (`x.yaml` and `x.yml`, or `x.yaml` and the original
    /// layout's `x.<deployment>.yaml`).
    #[error(
        "two files in the bakeries directory define the bakery `{name}`: {} and {}; a bakery has one file",
        first.display(),
        second.display()
    )]
    Duplicate {
        /// The bakery's name.
        name: String,
        /// The first file (in name order).
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
}

/// What [`BakeryRegistry::register`] changed in the database.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Bakeries recorded for the first time.
    pub created: Vec<String>,
    /// Bakeries whose region or description changed.
    pub updated: Vec<String>,
    /// Bakeries already recorded as configured.
    pub unchanged: Vec<String>,
}

/// The bakery files of `dir` for the deployment `deployment`, in name order: (path, name,
/// layout). Other deployments' files are skipped and logged; two files of one name are an
/// error naming both.
fn bakery_files(
    dir: &Path,
    deployment: &str,
) -> Result<Vec<(PathBuf, String, BakeryLayout)>, RegistryError> {
    let read_dir_error = |source| RegistryError::ReadDir {
        dir: dir.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir_error)? {
        let path = entry.map_err(read_dir_error)?.path();
        if path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut files: Vec<(PathBuf, String, BakeryLayout)> = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in paths {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            tracing::debug!(file = %path.display(), "not a bakery file (the name is not UTF-8)");
            continue;
        };
        match classify(file_name, deployment) {
            BakeryFileName::NotABakery => {
                tracing::debug!(file = %path.display(), "not a bakery file");
            }
            BakeryFileName::OtherDeployment {
                name,
                deployment: other,
            } => {
                tracing::info!(
                    bakery = %name,
                    file = %path.display(),
                    deployment = %other,
                    this_deployment = %deployment,
                    "bakery file of another deployment skipped"
                );
            }
            BakeryFileName::Bakery { name, layout } => {
                if let Some(first) = seen.get(&name) {
                    return Err(RegistryError::Duplicate {
                        name,
                        first: first.clone(),
                        second: path,
                    });
                }
                seen.insert(name.clone(), path.clone());
                files.push((path, name, layout));
            }
        }
    }
    Ok(files)
}

impl BakeryRegistry {
    /// Loads every bakery file in `dir` for the deployment `deployment` (the server's
    /// `PFO_APP_NAME`): ours (`<name>.yaml`) and the original layout's of this deployment
    /// (`<name>.<deployment>.yaml`); the first bad file stops the start-up.
    pub fn load(dir: &Path, deployment: &str) -> Result<Self, RegistryError> {
        let mut bakeries = Vec::new();
        for (path, name, layout) in bakery_files(dir, deployment)? {
            let config = match layout {
                BakeryLayout::Ours => load_bakery_file(&path)?,
                BakeryLayout::Original => {
                    let secrets = original_secrets_path(dir, &name)
                        .map_err(|reason| refuse(&path, reason))?;
                    load_original_bakery_file(&path, &name, &secrets)?
                }
            };
            tracing::info!(
                bakery = %config.name,
                class = %config.class,
                layout = ?config.layout,
                secrets = config.secrets.len(),
                file = %path.display(),
                "bakery configured"
            );
            bakeries.push(Arc::new(config));
        }
        Ok(Self::from_configs(bakeries))
    }

    /// The bakeries of the configured directory for the deployment `deployment`, or none
    /// when no directory is configured.
    pub fn load_configured(dir: Option<&Path>, deployment: &str) -> Result<Self, RegistryError> {
        match dir {
            Some(dir) => Self::load(dir, deployment),
            None => Ok(Self::default()),
        }
    }

    /// A registry of the given bakeries (tests; a deployment without a directory).
    pub fn from_configs(configs: impl IntoIterator<Item = Arc<BakeryConfig>>) -> Self {
        let bakeries = configs.into_iter().map(|c| (c.name.clone(), c)).collect();
        BakeryRegistry {
            bakeries: Arc::new(bakeries),
        }
    }

    /// The same bakeries, each masking the server's own secrets along with its own.
    pub fn with_server_secrets(&self, server: &ServerSecrets) -> Self {
        Self::from_configs(self.bakeries.values().map(|config| {
            let mut config = BakeryConfig::clone(config);
            config.secrets = config.secrets.clone().with_server(server.clone());
            Arc::new(config)
        }))
    }

    /// The bakery named `name` (the `bakery.id` of a meta.yaml).
    pub fn get(&self, name: &str) -> Option<Arc<BakeryConfig>> {
        self.bakeries.get(name).cloned()
    }

    /// The names of all bakeries, sorted.
    pub fn names(&self) -> Vec<String> {
        self.bakeries.keys().cloned().collect()
    }

    /// The public storage prefixes of all bakeries (see [`super::naming::public_url_prefix`]),
    /// sorted, each once.
    pub fn public_url_prefixes(&self) -> Vec<String> {
        let mut prefixes: Vec<String> = self
            .bakeries
            .values()
            .filter_map(|config| super::naming::public_url_prefix(config))
            .collect();
        prefixes.sort();
        prefixes.dedup();
        prefixes
    }

    /// How many bakeries are configured.
    pub fn len(&self) -> usize {
        self.bakeries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.bakeries.is_empty()
    }

    /// Records each bakery in the database by name: creates the row, or updates its
    /// region and description when the configuration changed them. Rows of bakeries no
    /// longer configured are left alone (their recipe runs still name them).
    pub async fn register(&self, db: &Database) -> Result<Registration, DbError> {
        let mut outcome = Registration::default();
        for config in self.bakeries.values() {
            let name = config.name.clone();
            match db.bakery_by_name(&name).await? {
                None => {
                    db.create_bakery(NewBakery {
                        name: name.clone(),
                        region: config.region.clone(),
                        description: config.description.clone(),
                    })
                    .await?;
                    tracing::info!(bakery = %name, "bakery registered");
                    outcome.created.push(name);
                }
                Some(row)
                    if row.region != config.region || row.description != config.description =>
                {
                    let patch = BakeryPatch {
                        name: None,
                        region: Some(config.region.clone()),
                        description: Some(config.description.clone()),
                    };
                    db.update_bakery(row.id, patch).await?;
                    tracing::info!(bakery = %name, "bakery updated from its configuration");
                    outcome.updated.push(name);
                }
                Some(_) => outcome.unchanged.push(name),
            }
        }
        Ok(outcome)
    }
}
