//! Every configured bakery, loaded once at start-up from the bakeries directory, and
//! recorded in the database so nobody inserts bakery rows by hand.

use super::config::{BakeryConfig, BakeryConfigError, load_bakery_file};
use crate::config::ServerSecrets;
use crate::db::{BakeryPatch, Database, DbError, NewBakery};
use std::collections::BTreeMap;
use std::path::Path;
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
    /// Two files give the same name (`x.yaml` and `x.yml`).
    #[error("two files in the bakeries directory define the bakery `{0}`")]
    Duplicate(String),
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

/// Whether a file in the bakeries directory is a bakery (`*.yaml` / `*.yml`, not
/// `*.secrets.yaml` / `*.secrets.yml`, not hidden).
pub fn is_bakery_file(path: &Path) -> bool {
    let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let yaml = file_name.ends_with(".yaml") || file_name.ends_with(".yml");
    let secrets = file_name.ends_with(".secrets.yaml") || file_name.ends_with(".secrets.yml");
    yaml && !secrets && !file_name.starts_with('.') && path.is_file()
}

impl BakeryRegistry {
    /// Loads every bakery file in `dir`; the first bad file stops the start-up.
    pub fn load(dir: &Path) -> Result<Self, RegistryError> {
        let entries = std::fs::read_dir(dir).map_err(|source| RegistryError::ReadDir {
            dir: dir.to_owned(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| RegistryError::ReadDir {
                dir: dir.to_owned(),
                source,
            })?;
            if is_bakery_file(&entry.path()) {
                paths.push(entry.path());
            }
        }
        paths.sort();
        let mut bakeries = BTreeMap::new();
        for path in paths {
            let config = load_bakery_file(&path)?;
            tracing::info!(
                bakery = %config.name,
                class = %config.class,
                secrets = config.secrets.len(),
                file = %path.display(),
                "bakery configured"
            );
            let name = config.name.clone();
            if bakeries.insert(name.clone(), Arc::new(config)).is_some() {
                return Err(RegistryError::Duplicate(name));
            }
        }
        Ok(Self::from_configs(bakeries.into_values()))
    }

    /// The bakeries of the configured directory, or none when no directory is configured.
    pub fn load_configured(dir: Option<&Path>) -> Result<Self, RegistryError> {
        match dir {
            Some(dir) => Self::load(dir),
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
