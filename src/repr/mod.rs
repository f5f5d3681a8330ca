//! The dataset preview: what `xr.open_dataset(url, engine="zarr", chunks={})` shows of a
//! Zarr store (dimensions, coordinates, data variables, attributes, size), made in Rust from
//! the store's metadata alone, as a typed [`Summary`] and as HTML in the layout of xarray's
//! `_repr_html_`. `GET /repr/xarray/`, `Dataset.summary` / `Dataset.reprHtml` and the
//! test-run comment read it through [`Previews`].
//!
//! Only URLs this server has reason to read are read: one a recorded dataset or run names,
//! or one under an allowed prefix ([`crate::config::ReprSettings`]; by default the bakeries'
//! public storage). Anything else is refused before any request leaves the server. Reads are
//! bounded: a timeout, [`store::MAX_METADATA_BYTES`] of metadata, [`zarr::MAX_ARRAYS`]
//! arrays, [`summary::MAX_VARIABLES`] shown, attribute values cut (see [`attrs`]), at most
//! [`MAX_CONCURRENT_READS`] stores read at once, answers cached ([`cache`]).

pub mod attrs;
pub mod cache;
pub mod cf_time;
pub mod dtype;
mod error;
pub mod html;
pub mod location;
pub mod store;
pub mod summary;
pub mod text;
pub mod zarr;

pub use error::ReprError;
pub use location::{Prefix, StoreUrl};
pub use summary::{Dim, Summary, Variable};

use crate::config::ReprSettings;
use crate::db::Database;
use crate::db::changes::Change;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};

/// Stores read at once by this process; more wait their turn (within their timeout).
pub const MAX_CONCURRENT_READS: usize = 8;

/// A dataset's preview: its summary and the HTML made of it.
#[derive(Debug)]
pub struct Preview {
    /// The URL as read (normalised).
    pub url: String,
    pub summary: Summary,
    pub html: String,
}

/// Makes, caches and refuses previews. Cheap to clone.
#[derive(Clone)]
pub struct Previews {
    inner: Arc<Inner>,
}

struct Inner {
    enabled: bool,
    db: Database,
    prefixes: Vec<Prefix>,
    timeout: Duration,
    cache: cache::PreviewCache,
    reads: Semaphore,
    /// Set once this process listens for the changes that drop cached previews.
    watching: OnceCell<()>,
}

impl Previews {
    /// Previews over `db`, reading under `prefixes` (already defaulted) as `settings` says.
    pub fn new(db: Database, settings: &ReprSettings, prefixes: &[String]) -> Previews {
        let prefixes: Vec<Prefix> = prefixes.iter().filter_map(|p| Prefix::parse(p)).collect();
        Previews {
            inner: Arc::new(Inner {
                enabled: settings.enabled,
                db,
                prefixes,
                timeout: settings.timeout,
                cache: cache::PreviewCache::new(settings.cache_ttl),
                reads: Semaphore::new(MAX_CONCURRENT_READS),
                watching: OnceCell::new(),
            }),
        }
    }

    /// The preview of the store at `url`, from the cache or read now; refused unless the URL
    /// is a dataset of this server or under an allowed prefix.
    pub async fn preview(&self, url: &str) -> cache::Outcome {
        if !self.inner.enabled {
            return Err(ReprError::Off);
        }
        let store_url = StoreUrl::parse(url)?;
        let runs = self.allowed(url, &store_url).await?;
        self.watch().await;
        let key = store_url.as_str().to_owned();
        if let Some(kept) = self.inner.cache.get(&key) {
            return kept;
        }
        let epoch = self.inner.cache.epoch();
        let outcome = self.read(&store_url).await;
        if let Err(err) = &outcome {
            tracing::info!(url = %key, status = err.status(), error = %err, "no preview");
        }
        self.inner.cache.put(&key, runs, outcome.clone(), epoch);
        outcome
    }

    /// The ids of the runs whose rows name `url`, or why it is refused. A URL under an
    /// allowed prefix needs no row.
    async fn allowed(&self, given: &str, url: &StoreUrl) -> Result<Vec<i32>, ReprError> {
        let runs = self
            .inner
            .db
            .runs_naming_dataset_url(&url.spellings(given))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "looking up a preview's dataset");
                ReprError::Internal
            })?;
        if !runs.is_empty() || self.inner.prefixes.iter().any(|p| url.starts_with(p)) {
            return Ok(runs);
        }
        Err(ReprError::Refused(format!(
            "{} is not a dataset of this server: the preview reads only the datasets it recorded and URLs under its allowed prefixes (PFO_REPR_ALLOWED_PREFIXES)",
            url.as_str()
        )))
    }

    async fn read(&self, url: &StoreUrl) -> cache::Outcome {
        let timeout = self.inner.timeout;
        let late = || {
            ReprError::Timeout(format!(
                "the storage did not answer within {} s for {}",
                timeout.as_secs(),
                url.as_str()
            ))
        };
        let work = async {
            let _turn = self
                .inner
                .reads
                .acquire()
                .await
                .map_err(|_| ReprError::Internal)?;
            let store = store::Store::open(url, timeout)?;
            let group = zarr::read_group(&store).await?;
            let summary = Summary::of(group)?;
            let html = html::render(&summary);
            Ok(Arc::new(Preview {
                url: url.as_str().to_owned(),
                summary,
                html,
            }))
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(outcome) => outcome,
            Err(_) => Err(late()),
        }
    }

    /// Starts, once, the task that drops cached previews when their datasets change. On
    /// PostgreSQL this waits until this replica is LISTENing, so no change committed after
    /// a preview is cached goes unseen.
    async fn watch(&self) {
        self.inner
            .watching
            .get_or_init(|| async {
                let mut changes = self.inner.db.changes().subscribe(&self.inner.db).await;
                let cache: Weak<Inner> = Arc::downgrade(&self.inner);
                tokio::spawn(async move {
                    use tokio::sync::broadcast::error::RecvError;
                    loop {
                        let change = changes.recv().await;
                        let Some(inner) = cache.upgrade() else { break };
                        match change {
                            Ok(Change::Run(run)) => {
                                let url = run
                                    .dataset_public_url
                                    .as_deref()
                                    .and_then(|u| StoreUrl::parse(u).ok());
                                inner
                                    .cache
                                    .drop_run(run.id, url.as_ref().map(StoreUrl::as_str));
                            }
                            Ok(Change::Dataset(dataset)) => {
                                let url = StoreUrl::parse(&dataset.url).ok();
                                inner.cache.drop_run(
                                    dataset.recipe_run_id,
                                    url.as_ref().map(StoreUrl::as_str),
                                );
                            }
                            Ok(Change::Delivery(_)) => {}
                            Ok(Change::Resync) | Err(RecvError::Lagged(_)) => inner.cache.clear(),
                            Err(RecvError::Closed) => break,
                        }
                    }
                });
            })
            .await;
    }

    /// The prefixes it reads under (besides the recorded datasets).
    pub fn prefixes(&self) -> Vec<String> {
        self.inner
            .prefixes
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect()
    }

    /// Whether the preview reads storage at all.
    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    /// How many previews this process keeps.
    pub fn cached(&self) -> usize {
        self.inner.cache.len()
    }
}
