//! Test harness: every test gets a fresh real database (a SQLite file or a new PostgreSQL
//! database), the real router, and helpers to call it. Nothing of ours is mocked.

pub mod bench_data;
pub mod db;
pub mod fake_github;
pub mod github_app;
pub mod http;
pub mod process;
pub mod proxy;
pub mod stores;
pub mod webhooks;
pub mod ws;

pub use db::{Engine, TestDb};

pub use http::{TestApp, error_code, error_message};
use pangeo_forge_orchestrator::config::{AdminKeys, Secret};
use pangeo_forge_orchestrator::config::{
    AppSettings, Config, CorsOrigins, DEFAULT_DASHBOARD_URL, ReprSettings,
};
use std::net::SocketAddr;
use std::time::Duration;

/// The secret the test apps' webhook deliveries are signed with.
pub const WEBHOOK_SECRET: &str = "test-webhook-secret";

/// The admin key the test apps accept.
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

/// Skips a test that cannot run on this machine, never silently: the line goes straight
/// to the terminal (past libtest's output capture, so plain `cargo test` shows it), and
/// under `scripts/test.sh` (`PFO_REQUIRE_ALL_TESTS=1`), which sets everything up, a skip is
/// a failure.
pub fn skip(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: {why} (`bash scripts/test.sh` sets it up and runs it)");
    if std::env::var_os("PFO_REQUIRE_ALL_TESTS").is_some_and(|v| v == "1") {
        panic!("{line}, but PFO_REQUIRE_ALL_TESTS=1 requires every test to run");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The configuration the test apps run with: `database_url`, [`ADMIN_KEY`],
/// [`WEBHOOK_SECRET`], no GitHub App, no bakeries directory, two workers.
pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        admin_keys: AdminKeys::new([ADMIN_KEY.to_owned()]).expect("admin key"),
        github: None,
        webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
        workers: 2,
        app: AppSettings {
            app_name: "pfo-test".into(),
            public_url: "http://127.0.0.1:1".into(),
            dashboard_url: DEFAULT_DASHBOARD_URL.into(),
            bakeries_dir: None,
            runner_command: "false".into(),
            runner_timeout: Duration::from_secs(5),
            claim_lease: Duration::from_secs(120),
        },
        cors_origins: CorsOrigins::Any,
        // Off: the harness's bakeries name real storage hosts, which tests never reach.
        // tests/it/repr/ turns it on over local stores.
        repr: ReprSettings {
            enabled: false,
            timeout: Duration::from_secs(3),
            ..ReprSettings::default()
        },
        subscriptions_shared: true,
    }
}

/// Runs an `async fn(TestApp)` once on SQLite and once on PostgreSQL:
/// `both_engines!(my_test);` declares `my_test::sqlite` and `my_test::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::support::TestApp::start($crate::support::Engine::Sqlite).await;
                    super::$name(app.clone()).await;
                    app.finish().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let app = $crate::support::TestApp::start($crate::support::Engine::Postgres).await;
                    super::$name(app.clone()).await;
                    app.finish().await;
                }
            }
        )+
    };
}
