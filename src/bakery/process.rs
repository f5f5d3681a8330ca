//! One runner process: started in its own process group, its stdout and stderr read line by
//! line as they come, and stopped with everything it started (pip, Beam) at a timeout.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// What to run.
pub struct ProcessSpec<'a> {
    /// The executable.
    pub command: &'a str,
    /// Its arguments (never through a shell).
    pub args: &'a [String],
    /// `None` inherits the server's environment; `Some` replaces it with exactly these.
    pub env: Option<&'a [(String, String)]>,
    /// The process group is killed after this long.
    pub timeout: Duration,
}

/// How the process ended.
#[derive(Debug)]
pub enum ProcessEnd {
    /// It exited by itself.
    Exited(ExitStatus),
    /// The timeout passed; it was killed.
    TimedOut,
    /// Waiting for it failed.
    WaitFailed(std::io::Error),
}

/// One line of output, without its line ending.
pub struct OutputLine {
    /// The text (invalid UTF-8 replaced).
    pub text: String,
    /// From stdout (`false`: stderr).
    pub stdout: bool,
}

/// Runs `spec`, handing each output line to `on_line` in the order read. `Err` when the
/// process could not start.
pub async fn run_lines(
    spec: &ProcessSpec<'_>,
    mut on_line: impl FnMut(OutputLine),
) -> std::io::Result<ProcessEnd> {
    let mut command = Command::new(spec.command);
    command
        .args(spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(env) = spec.env {
        command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    }
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let run = async {
        let readers = async {
            tokio::join!(
                read_lines(stdout, true, tx.clone()),
                read_lines(stderr, false, tx)
            );
        };
        let consume = async {
            while let Some(line) = rx.recv().await {
                on_line(line);
            }
        };
        tokio::join!(readers, consume);
        child.wait().await
    };
    let end = match tokio::time::timeout(spec.timeout, run).await {
        Ok(Ok(status)) => ProcessEnd::Exited(status),
        Ok(Err(e)) => ProcessEnd::WaitFailed(e),
        Err(_) => {
            kill_process_group(child.id()).await;
            child.start_kill().ok();
            child.wait().await.ok();
            ProcessEnd::TimedOut
        }
    };
    Ok(end)
}

async fn read_lines(
    pipe: Option<impl AsyncRead + Unpin>,
    stdout: bool,
    tx: mpsc::UnboundedSender<OutputLine>,
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
        let text = String::from_utf8_lossy(&raw)
            .trim_end_matches(['\n', '\r'])
            .to_owned();
        if tx.send(OutputLine { text, stdout }).is_err() {
            break;
        }
    }
}

/// Stops every process of the group (best effort; the leader is killed directly afterwards).
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
