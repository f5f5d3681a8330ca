//! The binary as a newcomer runs it: `serve` on the embedded default, `seed`, `migrate`,
//! `schema`, and start-up errors that name the bad setting.

use crate::support::process::{Server, command, http, parse};
use crate::support::{Engine, TestDb};
use serde_json::json;

/// Starts `serve` and checks it says once that GitHub features are off.
fn serve(cmd: std::process::Command) -> Server {
    let (server, seen) = crate::support::process::serve(cmd);
    assert!(
        seen.iter().any(|l| l.contains("GitHub features are off")),
        "logs once that GitHub features are off: {seen:?}"
    );
    server
}

const STATS: &str = r#"{"query": "{ stats { feedstocks bakeries recipeRuns } }"}"#;

#[test]
fn serve_on_the_embedded_default_then_seed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = serve(command(dir.path()));
        let (status, body) = http(
            &server.address,
            "POST",
            "/graphql",
            STATS,
            "application/json",
        );
        assert_eq!(status, 200);
        assert_eq!(
            parse(&body),
            json!({"data": {"stats": {"feedstocks": 0, "bakeries": 0, "recipeRuns": 0}}})
        );
        let (status, page) = http(&server.address, "GET", "/graphql", "", "text/html");
        assert_eq!(status, 200);
        assert!(page.contains("GraphiQL"));
    }
    assert!(
        dir.path().join("pangeo-forge.db").exists(),
        "the default SQLite file"
    );

    let out = command(dir.path()).arg("seed").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("seeded 3 bakeries"));
    let again = command(dir.path()).arg("seed").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("already seeded"));

    let server = serve(command(dir.path()));
    let (_, body) = http(
        &server.address,
        "POST",
        "/graphql",
        STATS,
        "application/json",
    );
    assert_eq!(
        parse(&body),
        json!({"data": {"stats": {"feedstocks": 5, "bakeries": 3, "recipeRuns": 55}}})
    );
    let query = r#"{"query": "{ recipeRuns(first: 100) { nodes { status conclusion } } }"}"#;
    let (_, body) = http(
        &server.address,
        "POST",
        "/graphql",
        query,
        "application/json",
    );
    for state in [
        "QUEUED",
        "IN_PROGRESS",
        "SUCCESS",
        "FAILURE",
        "CANCELLED",
        "TIMED_OUT",
        "ACTION_REQUIRED",
        "NEUTRAL",
        "SKIPPED",
        "STALE",
    ] {
        assert!(
            body.contains(&format!("\"{state}\"")),
            "seed has a run in state {state}"
        );
    }
}

#[tokio::test]
async fn migrate_seed_and_serve_on_postgres() {
    let test_db = TestDb::new(Engine::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let url = test_db.url.clone();
    let out = command(dir.path())
        .env("DATABASE_URL", &url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = command(dir.path())
        .env("DATABASE_URL", &url)
        .arg("seed")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        let mut cmd = command(dir.path());
        cmd.env("DATABASE_URL", &url);
        let server = serve(cmd);
        let (_, body) = http(
            &server.address,
            "POST",
            "/graphql",
            STATS,
            "application/json",
        );
        assert_eq!(
            parse(&body),
            json!({"data": {"stats": {"feedstocks": 5, "bakeries": 3, "recipeRuns": 55}}})
        );
    }
    assert!(
        !dir.path().join("pangeo-forge.db").exists(),
        "no SQLite file when on PostgreSQL"
    );
    test_db.finish().await;
}

#[test]
fn bad_settings_are_named_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "not a key").unwrap();
    let toml = dir.path().join("pfo.toml");
    std::fs::write(&toml, "databse_url = \"sqlite://x.db\"\n").unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("PFO_BIND", "everywhere")], "PFO_BIND"),
        (vec![("DATABASE_URL", "mysql://db")], "DATABASE_URL"),
        (vec![("PFO_ADMIN_API_KEYS", "short")], "PFO_ADMIN_API_KEYS"),
        (vec![("GITHUB_APP_ID", "12")], "GITHUB_APP_PRIVATE_KEY_PATH"),
        (vec![("GITHUB_APP_ID", "twelve")], "GITHUB_APP_ID"),
        (
            vec![
                ("GITHUB_APP_ID", "12"),
                ("GITHUB_WEBHOOK_SECRET", "s3cret"),
                ("GITHUB_APP_PRIVATE_KEY_PATH", key.to_str().unwrap()),
            ],
            "not a PEM private key",
        ),
        (
            vec![("PFO_CONFIG", toml.to_str().unwrap())],
            "unknown field `databse_url`",
        ),
    ];
    for (env, expected) in cases {
        let mut cmd = command(dir.path());
        cmd.envs(env.iter().copied()).arg("serve");
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{env:?} should fail");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        assert!(!stderr.contains("s3cret"), "a secret leaked: {stderr}");
    }
    assert!(
        !dir.path().join("pangeo-forge.db").exists(),
        "nothing started"
    );
}

#[test]
fn schema_command_prints_the_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path()).arg("schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        pangeo_forge_orchestrator::graphql::sdl()
    );
}

/// `--help` lists the server's commands and nothing else (the benchmarks are cargo benches).
#[test]
fn help_lists_only_the_servers_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        ["serve", "migrate", "schema", "seed", "help"],
        "{help}"
    );
}

/// A newcomer's first `serve` after `seed` logs no error: the demo's running runs are not
/// timed out, and without the GitHub App nothing is "failed to report".
#[test]
fn the_first_serve_after_seed_logs_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path()).arg("seed").output().unwrap();
    assert!(out.status.success());
    let (server, log) = crate::support::process::serve_logging(command(dir.path()));
    // The timeout sweep runs as the workers start, before the server listens; give the
    // workers time to act on anything it queued (there should be nothing to wait for).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (status, body) = http(
        &server.address,
        "POST",
        "/graphql",
        r#"{"query": "{ webhookDeliveries(first: 1) { totalCount } }"}"#,
        "application/json",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        parse(&body)["data"]["webhookDeliveries"]["totalCount"],
        0,
        "nothing was queued: {body}"
    );
    let lines = log.lock().unwrap().clone();
    let errors: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    drop(server);
}
