//! The browser-facing surface end to end, on the real binary with real clients (the Node
//! scripts in `web-playground/tests/`): the `graphql-ws` npm client over `/graphql/ws`, and
//! headless Chromium on the dashboard (live badges, reconnect, filter) and GraphiQL.
//!
//! Skipped, saying why, when `node`, `web-playground/node_modules` or Chromium is missing;
//! `bash scripts/test.sh` installs them (and `scripts/install-browser-deps.sh` alone).

use crate::support::ADMIN_KEY;
use crate::support::process::{command, serve};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A script that has not finished by then has hung.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn playground() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web-playground")
}

fn chromium() -> PathBuf {
    std::env::var_os("PFO_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the script cannot run on this machine, if it cannot.
fn missing(needs_browser: bool) -> Option<String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        return Some("`node` is not on PATH".into());
    }
    let modules = playground().join("node_modules");
    for package in [
        "graphql",
        "graphql-http",
        "graphql-ws",
        "ws",
        "playwright-core",
    ] {
        if !modules.join(package).is_dir() {
            return Some(format!("{} lacks {package}", modules.display()));
        }
    }
    if needs_browser && !chromium().exists() {
        return Some(format!("{} is missing", chromium().display()));
    }
    None
}

/// Seeds a fresh SQLite database, serves it with [`ADMIN_KEY`], and runs `script` against
/// the server; fails with the script's output unless it exits 0.
fn run_script(script: &str, needs_browser: bool) {
    run_script_with(script, needs_browser, &[], &[]);
}

/// [`run_script`] with extra environment variables for the server and for the script.
fn run_script_with(
    script: &str,
    needs_browser: bool,
    server_env: &[(&str, &str)],
    script_env: &[(&str, &str)],
) {
    if let Some(why) = missing(needs_browser) {
        crate::support::skip(&format!("web-playground/tests/{script}"), &why);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seeded = command(dir.path()).arg("seed").output().unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let mut cmd = command(dir.path());
    cmd.env("PFO_ADMIN_API_KEYS", ADMIN_KEY);
    for (name, value) in server_env {
        cmd.env(name, value);
    }
    let (server, _) = serve(cmd);
    let output = dir.path().join("script.log");
    let log = std::fs::File::create(&output).unwrap();
    let mut child = Command::new("node")
        .arg(Path::new("tests").join(script))
        .current_dir(playground())
        .env("PFO_URL", format!("http://{}", server.address))
        .env("PFO_ADMIN_KEY", ADMIN_KEY)
        .env("PFO_CHROMIUM", chromium())
        .envs(script_env.iter().copied())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let printed = std::fs::read_to_string(&output).unwrap_or_default();
    println!("{printed}");
    match status {
        Some(status) => assert!(status.success(), "{script} failed ({status}):\n{printed}"),
        None => panic!("{script} hung for {SCRIPT_TIMEOUT:?}:\n{printed}"),
    }
}

#[test]
fn the_graphql_ws_npm_client_receives_status_changes() {
    run_script("graphql-ws-client.mjs", false);
}

#[test]
fn graphql_js_standard_introspection_rebuilds_the_schema() {
    run_script("introspection.mjs", false);
}

#[test]
fn every_graphql_http_audit_passes() {
    run_script("graphql-http-audit.mjs", false);
}

#[test]
fn the_official_websocket_clients_close_cleanly() {
    run_script("ws-close.mjs", false);
}

/// pangeo-forge.org's pages from another origin: the lists, a feedstock, a JSON 404, GraphQL
/// with a preflight, and the dataset preview of a real local store (the GPCP fixture, and one
/// whose attributes carry markup), rendered into the page as the site does
/// (`dangerouslySetInnerHTML`).
#[test]
fn a_page_from_another_origin_reads_the_api_in_chromium() {
    use crate::support::stores::Stores;
    let stores = Stores::new();
    let gpcp = stores.copy("gpcp-v2.zarr", "gpcp.zarr");
    let markup = stores.copy("gpcp-v2.zarr", "markup.zarr");
    let metadata = stores.path("markup.zarr").join(".zmetadata");
    let text = std::fs::read_to_string(&metadata).unwrap().replace(
        "GPCP Daily (a test copy)",
        "<img src=x onerror=\\\"window.pwned=1\\\"><script>window.pwned=2</script>",
    );
    std::fs::write(&metadata, text).unwrap();
    let prefix = stores.prefix();
    run_script_with(
        "cross-origin.mjs",
        true,
        &[
            ("PFO_REPR_ENABLED", "true"),
            ("PFO_REPR_ALLOWED_PREFIXES", prefix.as_str()),
        ],
        &[
            ("PFO_REPR_STORE", gpcp.as_str()),
            ("PFO_REPR_MARKUP_STORE", markup.as_str()),
        ],
    );
}

#[test]
fn chromium_sees_live_badges_on_the_dashboard_and_data_in_graphiql() {
    run_script("browser.mjs", true);
}
