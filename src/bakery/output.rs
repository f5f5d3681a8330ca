//! Reading what `pangeo-forge-runner --json` prints: JSON status lines mixed with plain
//! text (pip's `Collecting …`) and JSON lines without a `status` (Beam's logs), and the
//! outcome a submission reports.

use serde_json::Value;
use std::collections::VecDeque;

/// How much of a runner's output is kept for the run's log, in bytes (the end is kept).
pub const MAX_LOG_BYTES: usize = 64 * 1024;

/// A status line the orchestrator acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusLine {
    /// `{"status": "submitted", "job_name": …, "job_id": …}`: the job runs remotely.
    Submitted {
        /// The job's name (the `--Bake.job_name` given, or one the runner made up).
        job_name: Option<String>,
        /// The bakery's id of the job (Dataflow's job id).
        job_id: Option<String>,
    },
    /// `{"status": "failed", "message": …, "exc_info": "Traceback …"}`.
    Failed {
        /// `Error during running: <exception>`.
        message: Option<String>,
        /// The Python traceback.
        exc_info: Option<String>,
    },
    /// Any other status (`fetching`, `setup`, `running`, `completed`, …).
    Progress {
        /// The status word.
        status: String,
    },
}

/// Reads one stdout line: `None` for plain text and for JSON without a text `status`.
pub fn parse_status_line(line: &str) -> Option<StatusLine> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let value: Value = serde_json::from_str(trimmed).ok()?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let status = text("status")?;
    Some(match status.as_str() {
        "submitted" => StatusLine::Submitted {
            job_name: text("job_name"),
            job_id: text("job_id"),
        },
        "failed" => StatusLine::Failed {
            message: text("message"),
            exc_info: text("exc_info"),
        },
        _ => StatusLine::Progress { status },
    })
}

/// The last [`MAX_LOG_BYTES`] of a process's output, line by line.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: VecDeque<String>,
    bytes: usize,
    dropped: bool,
}

impl LogBuffer {
    /// Appends one line (already masked), dropping the oldest lines beyond the limit.
    pub fn push(&mut self, line: String) {
        let mut line = line;
        if line.len() > MAX_LOG_BYTES {
            let mut cut = line.len() - MAX_LOG_BYTES;
            while !line.is_char_boundary(cut) {
                cut += 1;
            }
            line = line.split_off(cut);
            self.dropped = true;
        }
        self.bytes += line.len() + 1;
        self.lines.push_back(line);
        while self.bytes > MAX_LOG_BYTES {
            match self.lines.pop_front() {
                Some(old) => {
                    self.bytes -= old.len() + 1;
                    self.dropped = true;
                }
                None => break,
            }
        }
    }

    /// The kept output, one line per line, marked when its beginning was dropped.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.bytes + 40);
        if self.dropped {
            out.push_str("[earlier output dropped]\n");
        }
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Why a submission failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The runner printed a `failed` status line.
    Reported,
    /// It exited unsuccessfully (or without submitting) and said nothing about why.
    Exit(Option<i32>),
    /// It ran past the timeout and was killed.
    TimedOut,
    /// The command does not exist.
    CommandNotFound,
    /// It could not be started or its configuration written.
    Io,
}

/// How a submission ended. Each variant carries `log`: the end of the output (stdout and
/// stderr, at most [`MAX_LOG_BYTES`]) with secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunnerOutcome {
    /// The job runs remotely (Dataflow, Flink); its end arrives later as a status webhook.
    Submitted {
        /// The job's name (the `--Bake.job_name` given, unless the runner reports another).
        job_name: String,
        /// The bakery's id of the job (Dataflow's job id).
        job_id: String,
        /// The masked output.
        log: String,
    },
    /// Nothing runs: the reason, and the runner's traceback when it printed one.
    Failed {
        /// What kind of failure.
        reason: FailureReason,
        /// One sentence for the run's record and the contributor.
        message: String,
        /// The runner's Python traceback (`exc_info`), masked.
        trace: Option<String>,
        /// The masked output.
        log: String,
    },
    /// A local bakery ran the whole job inside the command; `success` is its exit status.
    Finished {
        /// Whether the command exited with status 0.
        success: bool,
        /// The masked output.
        log: String,
    },
}

impl RunnerOutcome {
    /// The masked output.
    pub fn log(&self) -> &str {
        match self {
            RunnerOutcome::Submitted { log, .. }
            | RunnerOutcome::Failed { log, .. }
            | RunnerOutcome::Finished { log, .. } => log,
        }
    }
}

pub(crate) fn mask_outcome(
    outcome: RunnerOutcome,
    secrets: &super::secrets::Secrets,
) -> RunnerOutcome {
    match outcome {
        RunnerOutcome::Failed {
            reason,
            message,
            trace,
            log,
        } => RunnerOutcome::Failed {
            reason,
            message: secrets.mask(&message),
            trace: trace.map(|t| secrets.mask(&t)),
            log,
        },
        other => other,
    }
}

pub(crate) fn log_outcome(outcome: &RunnerOutcome, bakery: &str, recipe_id: &str) {
    match outcome {
        RunnerOutcome::Submitted {
            job_name, job_id, ..
        } => {
            tracing::info!(bakery, recipe_id, job_name, job_id, "job submitted");
        }
        RunnerOutcome::Failed {
            reason, message, ..
        } => {
            tracing::warn!(bakery, recipe_id, ?reason, message, "job submission failed");
        }
        RunnerOutcome::Finished { success, .. } => {
            tracing::info!(bakery, recipe_id, success, "local job finished");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_among_noise() {
        assert_eq!(parse_status_line("Collecting xarray<2025"), None);
        assert_eq!(parse_status_line(r#"{"message": "beam log"}"#), None);
        assert_eq!(parse_status_line(r#"{"status": 3}"#), None);
        assert_eq!(parse_status_line("{not json"), None);
        assert_eq!(
            parse_status_line(
                r#"{"message": "Submitted job 2022-11-02_09_47_12-76 for recipe r", "recipe": "r", "job_name": "a61", "job_id": "2022-11-02_09_47_12-76", "status": "submitted"}"#
            ),
            Some(StatusLine::Submitted {
                job_name: Some("a61".into()),
                job_id: Some("2022-11-02_09_47_12-76".into())
            })
        );
        assert_eq!(
            parse_status_line(
                r#" {"message": "Error during running: boom", "exc_info": "Traceback\n  x", "status": "failed"} "#
            ),
            Some(StatusLine::Failed {
                message: Some("Error during running: boom".into()),
                exc_info: Some("Traceback\n  x".into())
            })
        );
        assert_eq!(
            parse_status_line(r#"{"status": "running", "message": "Running job for recipe x"}"#),
            Some(StatusLine::Progress {
                status: "running".into()
            })
        );
    }

    #[test]
    fn the_log_keeps_the_end() {
        let mut log = LogBuffer::default();
        log.push("first".into());
        for i in 0..10_000 {
            log.push(format!("line {i:05}"));
        }
        let text = log.text();
        assert!(text.len() <= MAX_LOG_BYTES + 40);
        assert!(text.starts_with("[earlier output dropped]\n"));
        assert!(text.ends_with("line 09999\n"));
        assert!(!text.contains("first"));

        let mut log = LogBuffer::default();
        log.push("é".repeat(MAX_LOG_BYTES));
        assert!(log.text().len() <= MAX_LOG_BYTES + 40);
    }
}
