//! The one configuration struct. Settings come from command-line flags, environment
//! variables (`DATABASE_URL`, `PFO_*`, `GITHUB_*`) and an optional TOML file
//! (`--config` / `PFO_CONFIG`), in that order of precedence, and are validated here at
//! start-up with a message naming the bad setting. Nothing else reads the environment but
//! the command line's global `--log-format` (`PFO_LOG_FORMAT`, in [`crate::cli`]: logging
//! starts before the configuration loads, so its errors are logged in that format) and
//! `RUST_LOG` ([`crate::telemetry`]).

mod app;
mod cors;
pub mod masking;
mod repr;
mod secrets;

pub use app::{
    AppSettings, DEFAULT_APP_NAME, DEFAULT_CLAIM_LEASE_SECS, DEFAULT_DASHBOARD_URL,
    DEFAULT_RUNNER_COMMAND, DEFAULT_RUNNER_TIMEOUT_SECS,
};

use app::{FileApp, app_settings};
pub use cors::CorsOrigins;
pub use masking::ServerSecrets;
pub use repr::{
    DEFAULT_REPR_CACHE_TTL_SECS, DEFAULT_REPR_TIMEOUT_SECS, REPR_SCHEMES, ReprSettings,
};
pub use secrets::{AdminKeys, MIN_ADMIN_KEY_LEN, Secret};
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
    /// How many webhook deliveries this process works on at once [default: 4]
    #[arg(long, env = "PFO_WORKERS")]
    pub workers: Option<String>,
    /// Base URL of the dashboard pages linked from GitHub [default: https://pangeo-forge.org/dashboard]
    #[arg(long, env = "PFO_DASHBOARD_URL")]
    pub dashboard_url: Option<String>,
    /// Directory of bakery YAML files, one per bakery; registered at start-up.
    #[arg(long, env = "PFO_BAKERIES_DIR")]
    pub bakeries_dir: Option<PathBuf>,
    /// The job-submission command [default: pangeo-forge-runner]
    #[arg(long, env = "PFO_RUNNER_COMMAND")]
    pub runner_command: Option<String>,
    /// Seconds a runner process may run before it is killed and its run failed [default: 3600]
    #[arg(long, env = "PFO_RUNNER_TIMEOUT_SECS")]
    pub runner_timeout_secs: Option<String>,
    /// Names this deployment in storage paths [default: pangeo-forge]
    #[arg(long, env = "PFO_APP_NAME")]
    pub app_name: Option<String>,
    /// This server's public base URL, where bakery monitors post job status [default: http://<bind>]
    #[arg(long, env = "PFO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds a worker's claim on a delivery lasts unrenewed: how soon a dead process's work
    /// is taken over [default: 120]
    #[arg(long, env = "PFO_CLAIM_LEASE_SECS")]
    pub claim_lease_secs: Option<String>,
    /// Comma-separated browser origins that may call the API (CORS), or `*` [default: *]
    #[arg(long, env = "PFO_CORS_ORIGINS")]
    pub cors_origins: Option<String>,
    /// Whether the dataset preview reads storage (`false`: /repr/xarray/ answers 503) [default: true]
    #[arg(long, env = "PFO_REPR_ENABLED")]
    pub repr_enabled: Option<String>,
    /// Comma-separated URL prefixes the dataset preview may read besides the recorded
    /// datasets' URLs [default: the bakeries' public storage URLs]
    #[arg(long, env = "PFO_REPR_ALLOWED_PREFIXES")]
    pub repr_allowed_prefixes: Option<String>,
    /// Seconds the dataset preview may take to read a store's metadata [default: 10]
    #[arg(long, env = "PFO_REPR_TIMEOUT_SECS")]
    pub repr_timeout_secs: Option<String>,
    /// Seconds a dataset preview is reused; changes of its dataset drop it sooner [default: 600]
    #[arg(long, env = "PFO_REPR_CACHE_TTL_SECS")]
    pub repr_cache_ttl_secs: Option<String>,
    /// Whether subscribers of the same subscription share one execution (`false`: each runs
    /// its own, the benchmarks' baseline) [default: true]
    #[arg(long, env = "PFO_SUBSCRIPTIONS_SHARED")]
    pub subscriptions_shared: Option<String>,
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
    workers: Option<usize>,
    dashboard_url: Option<String>,
    bakeries_dir: Option<PathBuf>,
    runner_command: Option<String>,
    runner_timeout_secs: Option<u64>,
    app_name: Option<String>,
    public_url: Option<String>,
    claim_lease_secs: Option<u64>,
    cors_origins: Option<Vec<String>>,
    repr_enabled: Option<bool>,
    repr_allowed_prefixes: Option<Vec<String>>,
    repr_timeout_secs: Option<u64>,
    repr_cache_ttl_secs: Option<u64>,
    subscriptions_shared: Option<bool>,
}

/// The GitHub App's identity; present only when both its id and key are configured.
#[derive(Debug, Clone)]
pub struct GithubAppConfig {
    pub app_id: u64,
    /// The PEM text of the App's private key (read at start-up).
    pub private_key_pem: Secret,
    pub api_url: String,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub admin_keys: AdminKeys,
    /// `None` when no GitHub App setting is given: the API still serves, GitHub API calls
    /// are off.
    pub github: Option<GithubAppConfig>,
    /// The secret webhook deliveries are signed with; without it `/github/hooks/` refuses
    /// every delivery (503).
    pub webhook_secret: Option<Secret>,
    /// How many deliveries this process works on at once.
    pub workers: usize,
    /// What the flows need to know about this deployment.
    pub app: AppSettings,
    /// The browser origins that may call the API.
    pub cors_origins: CorsOrigins,
    /// What the dataset preview may read, and for how long.
    pub repr: ReprSettings,
    /// Whether subscribers of the same subscription share one execution (`graphql::live`).
    pub subscriptions_shared: bool,
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
    /// What the server masks of its own: the webhook secret, the admin keys and the App's
    /// private key, plus the shapes of the tokens and JWTs it makes.
    pub fn server_secrets(&self) -> ServerSecrets {
        let mut values: Vec<String> = self.admin_keys.values().map(str::to_owned).collect();
        values.extend(self.webhook_secret.iter().map(|s| s.expose().to_owned()));
        values.extend(
            self.github
                .iter()
                .map(|app| app.private_key_pem.expose().to_owned()),
        );
        ServerSecrets::new(values)
    }

    /// Merges flags/environment over the optional file and validates the result.
    pub fn load(settings: &Settings) -> Result<Config, ConfigError> {
        let mut file = match &settings.config_file {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let file_app = FileApp {
            dashboard_url: file.dashboard_url.take(),
            bakeries_dir: file.bakeries_dir.take(),
            runner_command: file.runner_command.take(),
            runner_timeout_secs: file.runner_timeout_secs.take(),
            app_name: file.app_name.take(),
            public_url: file.public_url.take(),
            claim_lease_secs: file.claim_lease_secs.take(),
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

        let webhook_secret = match settings
            .github_webhook_secret
            .clone()
            .or(file.github_webhook_secret)
        {
            Some(secret) if secret.is_empty() => {
                return Err(bad("GITHUB_WEBHOOK_SECRET", "must not be empty"));
            }
            other => other.map(Secret::new),
        };
        let github = github_config(
            settings,
            file.github_app_id,
            file.github_app_private_key_path,
            file.github_api_url,
        )?;
        let workers = bounded_number(
            "PFO_WORKERS",
            settings.workers.as_deref(),
            file.workers.map(|n| n as u64),
            1..=64,
            4,
        )? as usize;

        let app = app_settings(settings, &file_app, bind)?;
        let cors_origins = cors::cors_origins(settings.cors_origins.as_deref(), file.cors_origins)?;
        let repr = repr::repr_settings(repr::ReprInput {
            enabled: settings.repr_enabled.as_deref(),
            file_enabled: file.repr_enabled,
            prefixes: settings.repr_allowed_prefixes.as_deref(),
            file_prefixes: file.repr_allowed_prefixes,
            timeout: settings.repr_timeout_secs.as_deref(),
            file_timeout: file.repr_timeout_secs,
            cache_ttl: settings.repr_cache_ttl_secs.as_deref(),
            file_cache_ttl: file.repr_cache_ttl_secs,
        })?;

        let subscriptions_shared = match (&settings.subscriptions_shared, file.subscriptions_shared)
        {
            (Some(text), _) => parse_bool("PFO_SUBSCRIPTIONS_SHARED", text)?,
            (None, Some(shared)) => shared,
            (None, None) => true,
        };

        Ok(Config {
            database_url,
            bind,
            admin_keys,
            github,
            webhook_secret,
            workers,
            app,
            cors_origins,
            repr,
            subscriptions_shared,
        })
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`, any case).
fn parse_bool(setting: &'static str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(bad(setting, format!("`{text}` is not true or false"))),
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

/// A whole number from the flag/environment text, else the file, else `default`; either
/// must lie in `range`.
fn bounded_number(
    setting: &'static str,
    text: Option<&str>,
    from_file: Option<u64>,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
) -> Result<u64, ConfigError> {
    let wanted = if *range.end() == u64::MAX {
        format!("a whole number from {}", range.start())
    } else {
        format!("a whole number from {} to {}", range.start(), range.end())
    };
    match (text, from_file) {
        (Some(text), _) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| bad(setting, format!("`{text}` is not {wanted}"))),
        (None, Some(n)) if range.contains(&n) => Ok(n),
        (None, Some(n)) => Err(bad(setting, format!("{n} is not {wanted}"))),
        (None, None) => Ok(default),
    }
}

fn github_config(
    settings: &Settings,
    file_app_id: Option<u64>,
    file_key_path: Option<PathBuf>,
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

    let (app_id, key_path) = match (app_id, key_path) {
        (None, None) => return Ok(None),
        (Some(id), Some(path)) => (id, path),
        (Some(_), None) => {
            return Err(bad(
                "GITHUB_APP_PRIVATE_KEY_PATH",
                "GITHUB_APP_ID is set, so the App's private key is needed too",
            ));
        }
        (None, Some(_)) => {
            return Err(bad(
                "GITHUB_APP_ID",
                "GITHUB_APP_PRIVATE_KEY_PATH is set, so the App's id is needed too",
            ));
        }
    };
    if app_id == 0 {
        return Err(bad("GITHUB_APP_ID", "must be a positive number"));
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
        api_url,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_shared_unless_turned_off() {
        let load = |value: Option<&str>| {
            Config::load(&Settings {
                subscriptions_shared: value.map(str::to_owned),
                ..Settings::default()
            })
        };
        assert!(load(None).expect("defaults").subscriptions_shared);
        assert!(!load(Some("false")).expect("off").subscriptions_shared);
        assert!(load(Some("ON")).expect("on").subscriptions_shared);
        let refused = load(Some("sometimes")).expect_err("not a boolean");
        assert_eq!(refused.setting, "PFO_SUBSCRIPTIONS_SHARED");
    }
}
