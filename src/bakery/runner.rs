//! Submitting one job: `pangeo-forge-runner bake …` with the bakery's configuration in a
//! private temporary file, its output read as it comes, killed at the timeout.
//!
//! Every secret value of the bakery is replaced by `***` in whatever comes back (the log,
//! the failure message and trace) before anything is logged or returned.

use super::config::BakeryConfig;
pub use super::output::{FailureReason, RunnerOutcome};
use super::output::{LogBuffer, StatusLine, log_outcome, mask_outcome, parse_status_line};
use serde_json::Value;
use std::io::Write;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunnerRequest {
    /// The runner executable (`pangeo-forge-runner`, or a path).
    pub command: String,
    /// The repository's HTML URL (`--repo`).
    pub repo_url: String,
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
    let mut command = Command::new(&request.command);
    command
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so that a timeout also stops what it started (pip, Beam).
    #[cfg(unix)]
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
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

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let run = async {
        tokio::join!(
            read_lines(stdout, true, &seen, bakery),
            read_lines(stderr, false, &seen, bakery)
        );
        child.wait().await
    };
    // `None`: the timeout passed and the process was killed.
    let waited = match tokio::time::timeout(request.timeout, run).await {
        Ok(result) => Some(result),
        Err(_) => {
            kill_process_group(child.id()).await;
            child.start_kill().ok();
            child.wait().await.ok();
            None
        }
    };
    remove_config(file);

    let mut seen = match seen.lock() {
        Ok(mut guard) => std::mem::take(&mut *guard),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    let log = seen.log.text();
    let outcome = match waited {
        None => failed(
            FailureReason::TimedOut,
            format!(
                "the runner did not finish within {} s and was stopped",
                request.timeout.as_secs_f64()
            ),
            log,
        ),
        Some(Err(e)) => failed(
            FailureReason::Io,
            format!("could not wait for the runner: {e}"),
            log,
        ),
        Some(Ok(status)) => conclude(&mut seen, status, bakery.is_local(), request, log),
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

async fn read_lines(
    pipe: Option<impl AsyncRead + Unpin>,
    is_stdout: bool,
    seen: &Mutex<Seen>,
    bakery: &BakeryConfig,
) {
    let Some(pipe) = pipe else { return };
    let mut reader = BufReader::new(pipe);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&raw);
        let line = bakery.secrets.mask(text.trim_end_matches(['\n', '\r']));
        let status = if is_stdout {
            parse_status_line(&line)
        } else {
            None
        };
        let Ok(mut seen) = seen.lock() else { break };
        match status {
            Some(StatusLine::Submitted { job_name, job_id }) => {
                seen.submitted.get_or_insert((job_name, job_id));
            }
            Some(StatusLine::Failed { message, exc_info }) => {
                seen.failed.get_or_insert((message, exc_info));
            }
            Some(StatusLine::Progress { status }) => {
                tracing::debug!(bakery = %bakery.name, status, "runner progress");
            }
            None => {}
        }
        seen.log.push(line);
    }
}

/// Stops every process of the runner's group (best effort; the runner itself is killed
/// directly afterwards).
async fn kill_process_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        let group = format!("-{pid}");
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
        if let Err(e) = killed {
            tracing::warn!(pid, error = %e, "could not stop the runner's process group");
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
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
