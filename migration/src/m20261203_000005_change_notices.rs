//! PostgreSQL: every statement that writes a table the API serves sends a notice on the
//! change channel (`pfo_events`, payload `table:<name>`), at commit, whoever wrote it — any
//! replica, a script, a person with `psql`. Each replica's listener counts it into its data
//! version, from which conditional requests are answered without a query; the code's own
//! per-row notices (`run:<id>`, …) stay for the subscriptions. `webhook_delivery` inserts
//! already notify from their own statement (the ingest path), so only its updates and
//! deletes are added here. SQLite has one writer, the server process, which counts its own
//! commits: nothing to add.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables and the operations whose statements notify.
const NOTIFYING: [(&str, &str); 5] = [
    ("feedstock", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("bakery", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("recipe_run", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("dataset", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
    ("webhook_delivery", "UPDATE OR DELETE OR TRUNCATE"),
];

const FUNCTION: &str = r#"
CREATE FUNCTION pfo_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pfo_events', 'table:' || TG_TABLE_NAME);
  RETURN NULL;
END $$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(FUNCTION).await?;
        for (table, operations) in NOTIFYING {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_notifies AFTER {operations} ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION pfo_notify_change()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, _) in NOTIFYING {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_notifies ON {table}"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS pfo_notify_change()")
            .await?;
        Ok(())
    }
}
