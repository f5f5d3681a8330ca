//! PostgreSQL: new `webhook_delivery.payload` values are compressed with lz4 instead of the
//! default pglz. A delivery's payload (27 KB for a `pull_request`) is compressed when its row
//! is stored, and pglz was the largest single cost of ingest: 44 % of PostgreSQL's CPU and a
//! quarter of the machine's under the ingest bench (docs/performance.md, "Profile of
//! ingest"). lz4 takes about a tenth of the time and compresses JSON a little better.
//! Only the column's setting changes (no rewrite); rows already stored stay pglz and read as
//! before. A server built without lz4 (`default_toast_compression` cannot be `lz4`) keeps
//! pglz. SQLite does not compress: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Whether this PostgreSQL server can compress with lz4.
async fn has_lz4(db: &SchemaManagerConnection<'_>) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings \
             WHERE name = 'default_toast_compression'",
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<bool>>("", "lz4")?.unwrap_or(false),
        None => false,
    })
}

async fn set_compression(manager: &SchemaManager<'_>, method: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    if !has_lz4(db).await? {
        return Ok(());
    }
    db.execute_unprepared(&format!(
        "ALTER TABLE webhook_delivery ALTER COLUMN payload SET COMPRESSION {method}"
    ))
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_compression(manager, "lz4").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_compression(manager, "pglz").await
    }
}
