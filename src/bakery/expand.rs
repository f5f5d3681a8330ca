//! `pangeo-forge-runner expand-meta`: the ids of `dict_object` recipes, which only the
//! recipe module knows (the runner imports it, running the contributor's Python).
//!
//! The runner reads a local copy of the recipe (see `flows::checkout`), so nothing is
//! cloned, and runs with an environment of its own: none of the server's variables (its
//! GitHub key, database URL, admin key) reach the contributor's code. Whatever comes back
//! is masked before it is logged or shown.

use super::output::LogBuffer;
use super::process::{OutputLine, ProcessEnd, ProcessSpec, run_lines};
use crate::config::ServerSecrets;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to expand.
#[derive(Debug, Clone)]
pub struct ExpandRequest {
    /// The runner executable.
    pub command: String,
    /// The local copy of the repository (`--repo`).
    pub checkout: PathBuf,
    /// The commit the copy is of (`--ref`; the runner ignores it for a local path).
    pub git_ref: String,
    /// `--feedstock-subdir` (the runner's default is `feedstock`).
    pub feedstock_subdir: Option<String>,
    /// The process is killed after this long.
    pub timeout: Duration,
}

/// Why the expansion gave no ids; `message` is the runner's own last error line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandFailure {
    /// What went wrong, in one line, masked.
    pub message: String,
    /// The end of the runner's output, masked.
    pub log: String,
}

/// The arguments after the command.
pub fn expand_args(request: &ExpandRequest) -> Vec<String> {
    let mut args = vec![
        "expand-meta".to_owned(),
        format!("--repo={}", request.checkout.display()),
        format!("--ref={}", request.git_ref),
        "--json".to_owned(),
    ];
    if let Some(dir) = &request.feedstock_subdir {
        args.push(format!("--feedstock-subdir={dir}"));
    }
    args
}

/// The environment the runner gets: a `PATH`, a locale, and `HOME` and `TMPDIR` inside the
/// checkout's parent, nothing of the server's own.
fn child_env(checkout: &Path) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let scratch = checkout.parent().unwrap_or(checkout).display().to_string();
    vec![
        ("PATH".into(), path),
        ("LANG".into(), "C.UTF-8".into()),
        ("HOME".into(), scratch.clone()),
        ("TMPDIR".into(), scratch),
        ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
    ]
}

/// What the output said.
#[derive(Default)]
struct Seen {
    log: LogBuffer,
    ids: Option<Result<Vec<String>, String>>,
    failed: Option<String>,
}

impl Seen {
    fn take_line(&mut self, line: OutputLine, secrets: &ServerSecrets) {
        let text = secrets.mask(&line.text);
        if line.stdout {
            match read_status(&text) {
                Some(Status::Completed(ids)) => {
                    self.ids.get_or_insert(ids);
                }
                Some(Status::Failed(message)) => {
                    self.failed.get_or_insert(message);
                }
                None => {}
            }
        }
        self.log.push(text);
    }
}

enum Status {
    /// `completed`: the ids, or why the `meta` it carried is not what was expected.
    Completed(Result<Vec<String>, String>),
    /// `failed`: the last line of the traceback, else the message.
    Failed(String),
}

fn read_status(line: &str) -> Option<Status> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let value: Value = serde_json::from_str(trimmed).ok()?;
    match value.get("status")?.as_str()? {
        "completed" => Some(Status::Completed(ids_of(value.get("meta")))),
        "failed" => {
            let last_of = |key: &str| {
                let text = value.get(key).and_then(Value::as_str)?;
                last_line(text).map(|l| l.trim().to_owned())
            };
            Some(Status::Failed(
                last_of("exc_info")
                    .or_else(|| last_of("message"))
                    .unwrap_or_else(|| "pangeo-forge-runner reported a failure".into()),
            ))
        }
        _ => None,
    }
}

/// The ids of an expanded meta: `meta.recipes[].id`.
fn ids_of(meta: Option<&Value>) -> Result<Vec<String>, String> {
    let recipes = meta
        .and_then(|m| m.get("recipes"))
        .and_then(Value::as_array)
        .ok_or("the expanded meta.yaml has no `recipes` list")?;
    recipes
        .iter()
        .map(|r| match r.get("id") {
            Some(Value::String(id)) => Ok(id.clone()),
            Some(other) => Ok(other.to_string()),
            None => Err(format!("an expanded recipe has no `id`: {r}")),
        })
        .collect()
}

/// Runs `expand-meta` and returns the recipe ids in the order the runner gave them.
pub async fn expand_meta(
    request: &ExpandRequest,
    secrets: &ServerSecrets,
) -> Result<Vec<String>, ExpandFailure> {
    let args = expand_args(request);
    let env = child_env(&request.checkout);
    let spec = ProcessSpec {
        command: &request.command,
        args: &args,
        env: Some(&env),
        timeout: request.timeout,
    };
    let mut seen = Seen::default();
    let ended = run_lines(&spec, |line| seen.take_line(line, secrets)).await;
    let log = seen.log.text();
    let fail = |message: String| ExpandFailure {
        message: secrets.mask(&message),
        log: log.clone(),
    };
    let end = ended.map_err(|e| {
        fail(if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "the runner command `{}` was not found; install pangeo-forge-runner or set PFO_RUNNER_COMMAND",
                request.command
            )
        } else {
            format!("could not start `{}`: {e}", request.command)
        })
    })?;
    let result = match (end, seen.failed, seen.ids) {
        (ProcessEnd::TimedOut, _, _) => Err(fail(format!(
            "expand-meta did not finish within {} s and was stopped",
            request.timeout.as_secs_f64()
        ))),
        (_, Some(message), _) => Err(fail(message)),
        (ProcessEnd::Exited(status), None, Some(ids)) if status.success() => ids.map_err(fail),
        (ProcessEnd::Exited(status), None, _) => Err(fail(format!(
            "expand-meta ended ({status}) without the expanded meta.yaml; its last line: {}",
            last_line(&log).unwrap_or("(no output)")
        ))),
        (ProcessEnd::WaitFailed(e), None, _) => {
            Err(fail(format!("could not wait for expand-meta: {e}")))
        }
    };
    match &result {
        Ok(ids) => tracing::info!(count = ids.len(), "expanded the dict_object recipes"),
        Err(failure) => tracing::warn!(message = %failure.message, "expand-meta failed"),
    }
    result
}

/// The last line of `text` that is not blank.
fn last_line(text: &str) -> Option<&str> {
    text.lines().rev().find(|l| !l.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_lines_give_ids_and_failures_their_last_traceback_line() {
        let line = r#"{"message": "Expansion complete", "status": "completed", "meta": {"recipes": [{"id": "a", "object": "DICT_VALUE_PLACEHOLDER"}, {"id": "b"}]}}"#;
        assert!(matches!(read_status(line), Some(Status::Completed(Ok(ids))) if ids == ["a", "b"]));
        let failed = r#"{"message": "Error during running: No module named 'xesmf'", "exc_info": "Traceback (most recent call last):\n  File \"recipe.py\", line 1\nModuleNotFoundError: No module named 'xesmf'\n", "status": "failed"}"#;
        assert!(matches!(
            read_status(failed),
            Some(Status::Failed(m)) if m == "ModuleNotFoundError: No module named 'xesmf'"
        ));
        assert!(read_status("Collecting xarray").is_none());
        assert!(read_status(r#"{"status": "running", "message": "x"}"#).is_none());
        let no_recipes = r#"{"status": "completed", "meta": {"title": "t"}}"#;
        assert!(matches!(
            read_status(no_recipes),
            Some(Status::Completed(Err(_)))
        ));
    }

    #[test]
    fn the_runner_gets_none_of_the_servers_environment() {
        let env = child_env(Path::new("/tmp/pfo-x/repo"));
        let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["PATH", "LANG", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE"]
        );
        assert!(env.iter().any(|(k, v)| k == "HOME" && v == "/tmp/pfo-x"));
    }
}
