//! Submitting one job: `pangeo-forge-runner bake …` with the bakery's configuration in a
//! private temporary file, its output read as it comes, killed at the timeout.
//!
//! Every secret value of the bakery is replaced by `***` in whatever comes back (the log,
//! the failure message and trace) before anything is logged or returned.

use super::config::BakeryConfig;
pub use super::output::{FailureReason, RunnerOutcome};
use super::output::{LogBuffer, StatusLine, log_outcome, mask_outcome, parse_status_line};
use super::process::{OutputLine, ProcessEnd, ProcessSpec, run_lines};
use serde_json::Value;
use std::io::Write;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunnerRequest {
    /// The runner executable (`pangeo-forge-runner`, or a path).
    pub command: String,
    /// The repository's HTML URL (`--repo`).
    pub repo_url: String,
    /// A local copy of the recipe that `repo_url` names, kept until the request is dropped
    /// (after the runner exited).
    pub checkout: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// The commit to run (`--ref`).
    pub git_ref: String,
    /// `--Bake.recipe_id`.
    pub recipe_id: String,
    /// `--feedstock-subdir` (e.g. `recipes/<name>` on staged-recipes); the runner's default
    /// is `feedstock`.
    pub feedstock_subdir: Option<String>,
    /// `--prune`: a test run on a small subset of the data.
    pub prune: bool,
    /// `--Bake.job_name` (the encoded name Dataflow jobs get).
    pub job_name: Option<String>,
    /// Fills `{subpath}` in every `root_path` of the configuration (see
    /// [`super::naming::storage_subpath`]); `None` leaves them as configured.
    pub subpath: Option<String>,
    /// The bakery.
    pub config: Arc<BakeryConfig>,
    /// The process is killed after this long.
    pub timeout: Duration,
}

/// The arguments after the command, with the configuration file at `config_path`.
pub fn runner_args(request: &RunnerRequest, config_path: &str) -> Vec<String> {
    let mut args = vec![
        "bake".to_owned(),
        format!("--repo={}", request.repo_url),
        format!("--ref={}", request.git_ref),
        "--json".to_owned(),
    ];
    if request.prune {
        args.push("--prune".to_owned());
    }
    args.push(format!("--Bake.recipe_id={}", request.recipe_id));
    if let Some(name) = &request.job_name {
        args.push(format!("--Bake.job_name={name}"));
    }
    args.push(format!("-f={config_path}"));
    if let Some(dir) = &request.feedstock_subdir {
        args.push(format!("--feedstock-subdir={dir}"));
    }
    args
}

/// The configuration handed to the runner: the bakery's (secrets included) with
/// `{subpath}` filled into each section's `root_path`.
pub fn runner_config_for(request: &RunnerRequest) -> Value {
    let mut config = request.config.runner_config.clone();
    // `Bake.cancel_command` is ours (see `BakeryConfig::cancel_command`), not the runner's.
    if let Some(Value::Object(bake)) = config.get_mut("Bake") {
        bake.remove(super::config::CANCEL_COMMAND_KEY);
    }
    if let (Some(subpath), Value::Object(sections)) = (&request.subpath, &mut config) {
        for section in sections.values_mut() {
            if let Some(Value::String(root)) = section.get_mut("root_path") {
                *root = root.replace("{subpath}", subpath);
            }
        }
    }
    config
}

/// What the output said, gathered while it is read.
#[derive(Default)]
struct Seen {
    log: LogBuffer,
    submitted: Option<(Option<String>, Option<String>)>,
    failed: Option<(Option<String>, Option<String>)>,
}

impl Seen {
    /// Takes one output line: masked, acted on when it is a status line, kept for the log.
    fn take_line(&mut self, line: OutputLine, bakery: &BakeryConfig) {
        let text = bakery.secrets.mask(&line.text);
        match line.stdout.then(|| parse_status_line(&text)).flatten() {
            Some(StatusLine::Submitted { job_name, job_id }) => {
                self.submitted.get_or_insert((job_name, job_id));
            }
            Some(StatusLine::Failed { message, exc_info }) => {
                self.failed.get_or_insert((message, exc_info));
            }
            Some(StatusLine::Progress { status }) => {
                tracing::debug!(bakery = %bakery.name, status, "runner progress");
            }
            None => {}
        }
        self.log.push(text);
    }
}

/// Runs the job and reports how it went; never panics on the runner's behaviour.
pub async fn submit(request: &RunnerRequest) -> RunnerOutcome {
    let bakery = &*request.config;
    let secrets = &bakery.secrets;
    let file = match write_config(request) {
        Ok(file) => file,
        Err(e) => {
            return failed(
                FailureReason::Io,
                format!("could not write the bakery configuration for the runner: {e}"),
                String::new(),
            );
        }
    };
    let config_path = file.path().to_string_lossy().into_owned();
    let args = runner_args(request, &config_path);
    tracing::info!(
        bakery = %bakery.name,
        recipe_id = %request.recipe_id,
        git_ref = %request.git_ref,
        prune = request.prune,
        job_name = request.job_name.as_deref().unwrap_or(""),
        "submitting a job"
    );
    let mut seen = Seen::default();
    let spec = ProcessSpec {
        command: &request.command,
        args: &args,
        env: None,
        timeout: request.timeout,
    };
    let ended = run_lines(&spec, |line| seen.take_line(line, bakery)).await;
    let waited = match ended {
        Ok(end) => end,
        Err(e) => {
            remove_config(file);
            let (reason, message) = if e.kind() == std::io::ErrorKind::NotFound {
                (
                    FailureReason::CommandNotFound,
                    format!(
                        "the runner command `{}` was not found; install pangeo-forge-runner or set PFO_RUNNER_COMMAND",
                        request.command
                    ),
                )
            } else {
                (
                    FailureReason::Io,
                    format!("could not start `{}`: {e}", request.command),
                )
            };
            tracing::error!(bakery = %bakery.name, %message, "runner did not start");
            return failed(reason, message, String::new());
        }
    };
    remove_config(file);

    let log = seen.log.text();
    let outcome = match waited {
        ProcessEnd::TimedOut => failed(
            FailureReason::TimedOut,
            format!(
                "the runner did not finish within {} s and was stopped",
                request.timeout.as_secs_f64()
            ),
            log,
        ),
        ProcessEnd::WaitFailed(e) => failed(
            FailureReason::Io,
            format!("could not wait for the runner: {e}"),
            log,
        ),
        ProcessEnd::Exited(status) => conclude(&mut seen, status, bakery.is_local(), request, log),
    };
    let outcome = mask_outcome(outcome, secrets);
    log_outcome(&outcome, &bakery.name, &request.recipe_id);
    outcome
}

fn conclude(
    seen: &mut Seen,
    status: ExitStatus,
    is_local: bool,
    request: &RunnerRequest,
    log: String,
) -> RunnerOutcome {
    if let Some((message, exc_info)) = seen.failed.take() {
        let message = message.unwrap_or_else(|| "pangeo-forge-runner reported a failure".into());
        return RunnerOutcome::Failed {
            reason: FailureReason::Reported,
            message,
            trace: exc_info,
            log,
        };
    }
    if let Some((job_name, job_id)) = seen.submitted.take() {
        return RunnerOutcome::Submitted {
            job_name: job_name.or(request.job_name.clone()).unwrap_or_default(),
            job_id: job_id.unwrap_or_default(),
            log,
        };
    }
    if is_local {
        return RunnerOutcome::Finished {
            success: status.success(),
            log,
        };
    }
    let message = if status.success() {
        "the runner exited without reporting a submitted job".to_owned()
    } else {
        format!("the runner failed ({status}) without saying why; see its log")
    };
    failed(FailureReason::Exit(status.code()), message, log)
}

fn failed(reason: FailureReason, message: String, log: String) -> RunnerOutcome {
    RunnerOutcome::Failed {
        reason,
        message,
        trace: None,
        log,
    }
}

/// Writes the configuration, readable by this user only, to a temporary JSON file that
/// is deleted when dropped.
fn write_config(request: &RunnerRequest) -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("pfo-bakery-")
        .suffix(".json")
        .tempfile()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    serde_json::to_writer(&mut file, &runner_config_for(request))?;
    file.flush()?;
    Ok(file)
}

fn remove_config(file: tempfile::NamedTempFile) {
    let path = file.path().to_owned();
    if let Err(e) = file.close() {
        tracing::error!(file = %path.display(), error = %e, "could not delete the runner's configuration file");
    }
}
