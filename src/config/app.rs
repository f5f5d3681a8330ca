//! The deployment settings the flows use: names, links, job submission, the queue's lease.

use super::{ConfigError, Settings, bad, bounded_number};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The deployment's names, links and job-submission settings.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Names this deployment in storage paths (`<app_name>/test/...`).
    pub app_name: String,
    /// This server's public base URL, without a trailing slash.
    pub public_url: String,
    /// Base URL of the dashboard, without a trailing slash.
    pub dashboard_url: String,
    /// Directory of bakery YAML files; `None`: no bakery is registered from config.
    pub bakeries_dir: Option<PathBuf>,
    /// The job-submission command (a program name or path).
    pub runner_command: String,
    /// How long a runner process may run before it is killed.
    pub runner_timeout: std::time::Duration,
    /// How long a worker's claim on a delivery lasts unless renewed.
    pub claim_lease: std::time::Duration,
}

/// The dashboard linked from check runs and deployments.
pub const DEFAULT_DASHBOARD_URL: &str = "https://pangeo-forge.org/dashboard";
/// The runner executable looked up on `PATH`.
pub const DEFAULT_RUNNER_COMMAND: &str = "pangeo-forge-runner";
/// The deployment name used in storage paths.
pub const DEFAULT_APP_NAME: &str = "pangeo-forge";
/// Seconds a runner process may run.
pub const DEFAULT_RUNNER_TIMEOUT_SECS: u64 = 3600;
/// Seconds a worker's claim lasts unrenewed.
pub const DEFAULT_CLAIM_LEASE_SECS: u64 = 120;

/// The deployment settings read from the file, set aside before the rest is consumed.
pub(super) struct FileApp {
    pub(super) dashboard_url: Option<String>,
    pub(super) bakeries_dir: Option<PathBuf>,
    pub(super) runner_command: Option<String>,
    pub(super) runner_timeout_secs: Option<u64>,
    pub(super) app_name: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) claim_lease_secs: Option<u64>,
}

fn http_url(setting: &'static str, url: String) -> Result<String, ConfigError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(bad(setting, format!("`{url}` is not an http(s) URL")))
    }
}

pub(super) fn app_settings(
    settings: &Settings,
    file: &FileApp,
    bind: SocketAddr,
) -> Result<AppSettings, ConfigError> {
    let dashboard_url = http_url(
        "PFO_DASHBOARD_URL",
        settings
            .dashboard_url
            .clone()
            .or(file.dashboard_url.clone())
            .unwrap_or_else(|| DEFAULT_DASHBOARD_URL.to_owned()),
    )?;
    let public_url = http_url(
        "PFO_PUBLIC_URL",
        settings
            .public_url
            .clone()
            .or(file.public_url.clone())
            .unwrap_or_else(|| format!("http://{bind}")),
    )?;
    let app_name = settings
        .app_name
        .clone()
        .or(file.app_name.clone())
        .unwrap_or_else(|| DEFAULT_APP_NAME.to_owned());
    if app_name.is_empty()
        || !app_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(bad(
            "PFO_APP_NAME",
            format!("`{app_name}` must be letters, digits, `-`, `_` or `.` (it is a path segment)"),
        ));
    }
    let bakeries_dir = settings.bakeries_dir.clone().or(file.bakeries_dir.clone());
    if let Some(dir) = &bakeries_dir
        && !dir.is_dir()
    {
        return Err(bad(
            "PFO_BAKERIES_DIR",
            format!("{} is not a directory", dir.display()),
        ));
    }
    let runner_command = settings
        .runner_command
        .clone()
        .or(file.runner_command.clone())
        .unwrap_or_else(|| DEFAULT_RUNNER_COMMAND.to_owned());
    if runner_command.trim().is_empty() {
        return Err(bad("PFO_RUNNER_COMMAND", "must not be empty"));
    }
    let timeout_secs = bounded_number(
        "PFO_RUNNER_TIMEOUT_SECS",
        settings.runner_timeout_secs.as_deref(),
        file.runner_timeout_secs,
        1..=u64::MAX,
        DEFAULT_RUNNER_TIMEOUT_SECS,
    )?;
    let lease_secs = bounded_number(
        "PFO_CLAIM_LEASE_SECS",
        settings.claim_lease_secs.as_deref(),
        file.claim_lease_secs,
        3..=3600,
        DEFAULT_CLAIM_LEASE_SECS,
    )?;
    Ok(AppSettings {
        claim_lease: std::time::Duration::from_secs(lease_secs),
        app_name,
        public_url,
        dashboard_url,
        bakeries_dir,
        runner_command,
        runner_timeout: std::time::Duration::from_secs(timeout_secs),
    })
}
