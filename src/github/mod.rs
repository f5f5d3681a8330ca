//! The GitHub client: the App ([`GithubApp`]) and the installations it acts as
//! ([`Installation`]), with one method per REST call the flows make.
//!
//! # How it authenticates
//! The App signs an RS256 JWT with its private key (octocrab: `iss` = app id, `iat` = now − 60 s,
//! `exp` = now + 9 min) and trades it for an installation token
//! (`POST /app/installations/{id}/access_tokens`, valid one hour). Each installation's client
//! is kept in a map, so its cached token is reused; a token is re-minted when it has less than
//! [`TOKEN_REFRESH_MARGIN`] left.
//!
//! # Errors
//! octocrab's own retries are off: every failure comes back as a [`GithubError`] that says
//! whether retrying may help and how long GitHub asked us to wait. The one retry left is
//! octocrab's: a call answered 401 is sent once more with a freshly minted token (a revoked
//! token), and its second answer is what we classify.
//!
//! # Layout
//! - [`error`]: [`GithubError`] and its classification.
//! - `http`: the request helper every call goes through.
//! - `checks`, `contents`, `pulls`, `repos`, `deployments`: the calls, by area.

pub(crate) mod error;

mod app_calls;
mod checks;
mod contents;
mod deployments;
mod http;
mod issues;
mod pulls;
mod repos;

pub use checks::{Annotation, MAX_ANNOTATIONS_PER_REQUEST, NewCheckRun};
pub use contents::DirEntry;
pub use error::{GithubError, Retry};
pub use pulls::{HeadRepository, PullRequest};

use crate::config::GithubAppConfig;
use ::http::header::ACCEPT;
use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use octocrab::service::middleware::retry::RetryConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The media type every call asks for.
pub const ACCEPT_GITHUB_JSON: &str = "application/vnd.github+json";

/// An installation token with less than this left is replaced before the next call.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long a call may wait for GitHub to answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting to GitHub may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The GitHub App: signs JWTs and hands out [`Installation`] clients. Cheap to clone.
#[derive(Clone)]
pub struct GithubApp {
    inner: Arc<AppInner>,
}

struct AppInner {
    app_id: u64,
    /// Authenticated as the App (JWT).
    crab: Octocrab,
    /// One client per installation id, so each keeps its token cache.
    installations: Mutex<HashMap<u64, Arc<InstallationClient>>>,
    /// The installation of each repository looked up so far.
    repo_installations: Mutex<HashMap<String, u64>>,
}

/// An installation's octocrab client and the lock that makes token minting happen once at
/// a time.
struct InstallationClient {
    crab: Octocrab,
    mint: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for GithubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubApp")
            .field("app_id", &self.inner.app_id)
            .finish_non_exhaustive()
    }
}

impl GithubApp {
    /// The App described by `config`, with the [`DEFAULT_TIMEOUT`].
    pub fn new(config: &GithubAppConfig) -> Result<Self, GithubError> {
        Self::with_timeout(config, DEFAULT_TIMEOUT)
    }

    /// The App described by `config`; a call fails (retryably) when GitHub sends nothing for
    /// `timeout`.
    pub fn with_timeout(config: &GithubAppConfig, timeout: Duration) -> Result<Self, GithubError> {
        let key =
            jsonwebtoken::EncodingKey::from_rsa_pem(config.private_key_pem.expose().as_bytes())
                .map_err(|err| {
                    GithubError::Invalid(format!(
                        "the App's private key is not a usable RSA PEM key: {err}"
                    ))
                })?;
        let api_url = config.api_url.trim_end_matches('/');
        let crab = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|err| {
                GithubError::Invalid(format!("the GitHub API URL `{api_url}` is unusable: {err}"))
            })?
            .app(AppId(config.app_id), key)
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(timeout))
            .set_write_timeout(Some(timeout))
            .add_header(ACCEPT, ACCEPT_GITHUB_JSON.to_owned())
            .build()
            .map_err(|err| {
                GithubError::Invalid(format!("cannot build the GitHub client: {err}"))
            })?;
        Ok(Self {
            inner: Arc::new(AppInner {
                app_id: config.app_id,
                crab,
                installations: Mutex::new(HashMap::new()),
                repo_installations: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The App's id.
    pub fn app_id(&self) -> u64 {
        self.inner.app_id
    }

    /// A client acting as installation `installation_id`. Its token is minted on the first
    /// call and shared by every client of the same installation.
    pub fn installation(&self, installation_id: u64) -> Result<Installation, GithubError> {
        let mut map = self
            .inner
            .installations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = map.get(&installation_id) {
            return Ok(Installation {
                id: installation_id,
                client: client.clone(),
            });
        }
        let crab = self
            .inner
            .crab
            .installation(InstallationId(installation_id))
            .map_err(|err| {
                GithubError::Invalid(format!(
                    "cannot act as installation {installation_id}: {err}"
                ))
            })?;
        let client = Arc::new(InstallationClient {
            crab,
            mint: tokio::sync::Mutex::new(()),
        });
        map.insert(installation_id, client.clone());
        Ok(Installation {
            id: installation_id,
            client,
        })
    }
}

/// A client acting as one installation of the App. Cheap to clone; clones share the token.
#[derive(Clone)]
pub struct Installation {
    id: u64,
    client: Arc<InstallationClient>,
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Installation {
    /// The installation id.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn crab(&self) -> &Octocrab {
        &self.client.crab
    }

    /// Makes sure the cached token has at least [`TOKEN_REFRESH_MARGIN`] left, minting a new
    /// one otherwise. Concurrent callers wait for one mint instead of each minting.
    async fn ensure_token(&self, op: &str) -> Result<(), GithubError> {
        let _minting = self.client.mint.lock().await;
        let margin = chrono::Duration::from_std(TOKEN_REFRESH_MARGIN)
            .unwrap_or_else(|_| chrono::Duration::minutes(5));
        self.crab()
            .installation_token_with_buffer(margin)
            .await
            .map(drop)
            .map_err(|err| {
                let err = GithubError::from_octocrab(
                    format!(
                        "POST /app/installations/{}/access_tokens (for {op})",
                        self.id
                    ),
                    err,
                );
                tracing::warn!(installation = self.id, error = %err, "minting an installation token failed");
                err
            })
    }
}
