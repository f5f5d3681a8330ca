//! The database facade: one [`Database`] handle with verbs (`list_recipe_runs`,
//! `create_bakery`, …) that GraphQL, the REST routes and the CLI all call.
//!
//! One code path serves both engines: `DATABASE_URL` picks SQLite (the embedded default)
//! or PostgreSQL (production).

pub(crate) mod changes;
pub mod entities;
pub mod enums;
pub(crate) mod error;
pub mod keyset;
pub mod listing;
pub mod seed;

mod bakeries;
mod datasets;
mod deliveries;
mod delivery_batch;
mod feedstocks;
mod keys;
mod operations;
mod recipe_runs;
mod run_lifecycle;
mod stats;

pub use bakeries::{BakeryPatch, NewBakery};
pub use deliveries::{DeliveryFilter, Finish, NewDelivery, Recorded};
pub use delivery_batch::{IngestStats, MAX_BATCH_BYTES, MAX_BATCH_ROWS};
pub use error::DbError;
pub use feedstocks::{FeedstockPatch, NewFeedstock};
pub use operations::QueueStats;
pub use recipe_runs::{NewRecipeRun, RecipeRunPatch, RunParent};
pub use run_lifecycle::{Completed, MAX_LOG_BYTES, RunCompletion, RunScope, log_tail};
pub use stats::{Counts, Stats};

use chrono::{DateTime, SubsecRound, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, DatabaseConnection, DbBackend, EntityTrait, Order, QueryOrder, Select,
};
use std::time::Duration;

/// A cheaply clonable handle on the connection pool.
#[derive(Clone, Debug)]
pub struct Database {
    conn: DatabaseConnection,
    /// Where committed changes are published.
    changes: crate::db::changes::ChangeBus,
    /// This process's group commit of webhook deliveries.
    batcher: std::sync::Arc<delivery_batch::DeliveryBatcher>,
}

impl Database {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let conn = sea_orm::Database::connect(options).await?;
        Ok(Self::from_connection(conn))
    }

    /// Wraps an existing connection (tests use this to attach a statement counter).
    pub fn from_connection(conn: DatabaseConnection) -> Self {
        let changes = crate::db::changes::ChangeBus::for_backend(conn.get_database_backend());
        Self {
            conn,
            changes,
            batcher: std::sync::Arc::default(),
        }
    }

    /// The stream of committed changes.
    pub fn changes(&self) -> &crate::db::changes::ChangeBus {
        &self.changes
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbError> {
        Migrator::up(&self.conn, None).await?;
        Ok(())
    }

    /// Succeeds when the database answers a trivial statement.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.conn.ping().await?;
        Ok(())
    }

    /// The underlying sea-orm connection.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Which engine this is.
    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Closes the pool.
    pub async fn close(self) -> Result<(), DbError> {
        self.conn.close().await?;
        Ok(())
    }
}

/// The current time at the precision both engines store (microseconds), so a value read
/// back equals the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `n` bind placeholders for a raw statement on `backend` (`$1, $2` or `?, ?`).
pub(crate) fn placeholders(backend: DbBackend, n: usize) -> String {
    (1..=n)
        .map(|i| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Orders `select` by `column` then by `id`, both in `direction` (stable pages).
pub(crate) fn sorted<E: EntityTrait>(
    select: Select<E>,
    column: E::Column,
    id: E::Column,
    direction: listing::SortDirection,
) -> Select<E> {
    let order = match direction {
        listing::SortDirection::Asc => Order::Asc,
        listing::SortDirection::Desc => Order::Desc,
    };
    select.order_by(column, order.clone()).order_by(id, order)
}
