//! The one configuration struct. Settings come from command-line flags, environment
//! variables (`DATABASE_URL`, `PFO_*`, `GITHUB_*`) and an optional TOML file
//! (`--config` / `PFO_CONFIG`), in that order of precedence, and are validated here at
//! start-up with a message naming the bad setting. Nothing else reads the environment.

use crate::auth::{AdminKeys, Secret};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The embedded default: a SQLite file in the working directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://pangeo-forge.db?mode=rwc";
/// Where `serve` listens unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8000";
/// The public GitHub REST API.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";

/// Raw settings as given on the command line or in the environment; every field optional.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Settings {
    /// A TOML file with any of the settings below (snake_case keys); flags and environment
    /// variables override it.
    #[arg(long = "config", env = "PFO_CONFIG", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER@HOST/DB` [default: sqlite://pangeo-forge.db?mode=rwc]
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Address and port to listen on [default: 127.0.0.1:8000]
    #[arg(long, env = "PFO_BIND")]
    pub bind: Option<String>,
    /// Comma-separated admin API keys that may run mutations.
    #[arg(long, env = "PFO_ADMIN_API_KEYS", hide_env_values = true)]
    pub admin_api_keys: Option<String>,
    /// The GitHub App's id.
    #[arg(long, env = "GITHUB_APP_ID")]
    pub github_app_id: Option<String>,
    /// Path of the GitHub App's private key (PEM).
    #[arg(long, env = "GITHUB_APP_PRIVATE_KEY_PATH")]
    pub github_app_private_key_path: Option<PathBuf>,
    /// The secret GitHub signs webhook deliveries with.
    #[arg(long, env = "GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,
    /// Base URL of the GitHub REST API [default: https://api.github.com]
    #[arg(long, env = "GITHUB_API_URL")]
    pub github_api_url: Option<String>,
}

/// The same settings as read from a TOML file. Unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<String>,
    admin_api_keys: Option<Vec<String>>,
    github_app_id: Option<u64>,
    github_app_private_key_path: Option<PathBuf>,
    github_webhook_secret: Option<String>,
    github_api_url: Option<String>,
}

/// The GitHub App's identity; present only when every part of it is configured.
#[derive(Debug, Clone)]
pub struct GithubAppConfig {
    pub app_id: u64,
    /// The PEM text of the App's private key (read at start-up).
    pub private_key_pem: Secret,
    pub webhook_secret: Secret,
    pub api_url: String,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub admin_keys: AdminKeys,
    /// `None` when no GitHub App setting is given: the API still serves, GitHub features
    /// are off.
    pub github: Option<GithubAppConfig>,
}

/// A setting that is missing, malformed or inconsistent.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {setting}: {reason}")]
pub struct ConfigError {
    /// The environment variable (or file key) at fault.
    pub setting: &'static str,
    pub reason: String,
}

fn bad(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        reason: reason.into(),
    }
}

impl Config {
    /// Merges flags/environment over the optional file and validates the result.
    pub fn load(settings: &Settings) -> Result<Config, ConfigError> {
        let file = match &settings.config_file {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let database_url = settings
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        check_database_url(&database_url)?;

        let bind_text = settings
            .bind
            .clone()
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = bind_text.parse().map_err(|_| {
            bad(
                "PFO_BIND",
                format!("`{bind_text}` is not an address and port such as 127.0.0.1:8000"),
            )
        })?;

        let keys: Vec<String> = match (&settings.admin_api_keys, file.admin_api_keys) {
            (Some(list), _) => list.split(',').map(str::to_owned).collect(),
            (None, Some(list)) => list,
            (None, None) => Vec::new(),
        };
        let admin_keys =
            AdminKeys::new(keys).map_err(|reason| bad("PFO_ADMIN_API_KEYS", reason))?;

        let github = github_config(
            settings,
            file.github_app_id,
            file.github_app_private_key_path,
            file.github_webhook_secret,
            file.github_api_url,
        )?;

        Ok(Config {
            database_url,
            bind,
            admin_keys,
            github,
        })
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad("PFO_CONFIG", format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        bad(
            "PFO_CONFIG",
            format!("{} is not a valid config file: {e}", path.display()),
        )
    })
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if known.iter().any(|prefix| url.starts_with(prefix)) {
        Ok(())
    } else {
        Err(bad(
            "DATABASE_URL",
            "expected sqlite://FILE?mode=rwc or postgres://USER@HOST:PORT/DB",
        ))
    }
}

fn github_config(
    settings: &Settings,
    file_app_id: Option<u64>,
    file_key_path: Option<PathBuf>,
    file_secret: Option<String>,
    file_api_url: Option<String>,
) -> Result<Option<GithubAppConfig>, ConfigError> {
    let app_id = match (&settings.github_app_id, file_app_id) {
        (Some(text), _) => Some(
            text.trim()
                .parse::<u64>()
                .map_err(|_| bad("GITHUB_APP_ID", format!("`{text}` is not a number")))?,
        ),
        (None, id) => id,
    };
    let key_path = settings
        .github_app_private_key_path
        .clone()
        .or(file_key_path);
    let secret = settings.github_webhook_secret.clone().or(file_secret);
    let api_url = settings
        .github_api_url
        .clone()
        .or(file_api_url)
        .unwrap_or_else(|| DEFAULT_GITHUB_API_URL.to_owned());
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        return Err(bad(
            "GITHUB_API_URL",
            format!("`{api_url}` is not an http(s) URL"),
        ));
    }

    let (app_id, key_path, secret) = match (app_id, key_path, secret) {
        (None, None, None) => return Ok(None),
        (Some(id), Some(path), Some(secret)) => (id, path, secret),
        (id, path, secret) => {
            let missing = [
                ("GITHUB_APP_ID", id.is_none()),
                ("GITHUB_APP_PRIVATE_KEY_PATH", path.is_none()),
                ("GITHUB_WEBHOOK_SECRET", secret.is_none()),
            ];
            let names: Vec<&str> = missing.iter().filter(|m| m.1).map(|m| m.0).collect();
            return Err(bad(
                "GITHUB_APP_ID",
                format!(
                    "the GitHub App needs all of its settings; missing: {}",
                    names.join(", ")
                ),
            ));
        }
    };
    if app_id == 0 {
        return Err(bad("GITHUB_APP_ID", "must be a positive number"));
    }
    if secret.is_empty() {
        return Err(bad("GITHUB_WEBHOOK_SECRET", "must not be empty"));
    }
    let pem = std::fs::read_to_string(&key_path).map_err(|e| {
        bad(
            "GITHUB_APP_PRIVATE_KEY_PATH",
            format!("cannot read {}: {e}", key_path.display()),
        )
    })?;
    if !pem.contains("-----BEGIN") {
        return Err(bad(
            "GITHUB_APP_PRIVATE_KEY_PATH",
            format!("{} is not a PEM private key", key_path.display()),
        ));
    }
    Ok(Some(GithubAppConfig {
        app_id,
        private_key_pem: Secret::new(pem),
        webhook_secret: Secret::new(secret),
        api_url,
    }))
}
