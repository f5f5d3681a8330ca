//! Running the real binary: a clean environment, `serve` on a free port, raw HTTP.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pangeo-forge-orchestrator");

/// The binary with a clean environment: only what the test sets, and the dataset preview
/// off (bakeries of tests name real storage hosts; a test that reads local stores turns it
/// on with `PFO_REPR_ENABLED=true`).
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("PFO_REPR_ENABLED", "false");
    cmd
}

/// A plain HTTP/1.1 exchange with the running server; returns (status, body).
pub fn http(address: &str, method: &str, path: &str, body: &str, accept: &str) -> (u16, String) {
    http_with(address, method, path, body, accept, &[])
}

/// [`http`] with extra headers.
pub fn http_with(
    address: &str,
    method: &str,
    path: &str,
    body: &str,
    accept: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAccept: {accept}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response[9..12].parse().expect("status");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

pub fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

pub struct Server {
    pub child: Child,
    pub address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Starts `serve --bind 127.0.0.1:0` and waits for its "listening on" line; returns the
/// server and the lines it logged before.
pub fn serve(mut cmd: Command) -> (Server, Vec<String>) {
    let mut child = cmd
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let address = loop {
        let Some(Ok(line)) = lines.next() else {
            let mut err = String::new();
            child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!(
                "server exited before listening:\n{}\n{err}",
                seen.join("\n")
            );
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
        seen.push(line);
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server { child, address }, seen)
}

/// Like [`serve`], keeping every line the server logs (shared, growing while it runs).
pub fn serve_logging(mut cmd: Command) -> (Server, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let mut child = cmd
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let address = rest.split(['"', ' ']).next().unwrap_or_default().to_owned();
                let _ = address_tx.send(address);
            }
            kept.lock().expect("log").push(line);
        }
    });
    let address = address_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server starts listening");
    (Server { child, address }, log)
}
