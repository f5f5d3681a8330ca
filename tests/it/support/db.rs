//! Fresh databases for tests: a SQLite file in a temporary directory, or a new database
//! on the PostgreSQL server at `PFO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the test ends.
//!
//! A test that cannot reach PostgreSQL fails with a message saying so: it never skips.

use pangeo_forge_orchestrator::db::Database;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database made for one test, with a counter of the SQL statements run on it.
pub struct TestDb {
    pub url: String,
    pub db: Database,
    pub statements: Arc<AtomicUsize>,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("PFO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn unique_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "pfo_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// An empty, migrated database.
    pub async fn new(engine: Engine) -> TestDb {
        let (url, cleanup) = match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
                (url, Cleanup::Sqlite(dir))
            }
            Engine::Postgres => {
                let admin_url = postgres_admin_url();
                let name = unique_name();
                let admin = sea_orm::Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is needed for this test and is not reachable at {admin_url}: {e}. Start it (see README.md) or set PFO_TEST_POSTGRES_URL.")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                (
                    format!("{base}/{name}"),
                    Cleanup::Postgres { admin_url, name },
                )
            }
        };
        let statements = Arc::new(AtomicUsize::new(0));
        let mut conn: DatabaseConnection = sea_orm::Database::connect(&url).await.expect("connect");
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let db = Database::from_connection(conn);
        db.migrate().await.expect("migrate");
        TestDb {
            url,
            db,
            statements,
            cleanup,
        }
    }

    /// Closes the pool and removes the database.
    pub async fn finish(self) {
        self.db.close().await.ok();
        if let Cleanup::Postgres { admin_url, name } = self.cleanup
            && let Ok(admin) = sea_orm::Database::connect(&admin_url).await
        {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
            admin.close().await.ok();
        }
    }

    /// How many statements ran so far.
    pub fn statement_count(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }
}
