//! `row_count`: the front page's counts kept by the database itself, so `stats` reads five
//! rows instead of counting 100,000 runs on every request.
//!
//! Triggers keep each counter exact whichever code (or person with `psql`) writes the table,
//! in the writing transaction: `feedstock`, `bakery`, `recipe_run`, `dataset` (every row) and
//! `dataset_production` (datasets with `is_test = false`). On PostgreSQL they are
//! statement-level with transition tables, so a bulk insert updates a counter once; SQLite
//! has only row-level triggers. `TRUNCATE` (PostgreSQL) is not counted: the service never
//! truncates, and re-running the initial `INSERT … SELECT` below would repair a counter.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables counted as a whole; the counter is named after the table.
const COUNTED: [&str; 4] = ["feedstock", "bakery", "recipe_run", "dataset"];

const CREATE_TABLE: &str =
    "CREATE TABLE row_count (name VARCHAR(64) NOT NULL PRIMARY KEY, n BIGINT NOT NULL)";

const INITIAL_COUNTS: &str = "INSERT INTO row_count (name, n) \
    SELECT 'feedstock', COUNT(*) FROM feedstock \
    UNION ALL SELECT 'bakery', COUNT(*) FROM bakery \
    UNION ALL SELECT 'recipe_run', COUNT(*) FROM recipe_run \
    UNION ALL SELECT 'dataset', COUNT(*) FROM dataset \
    UNION ALL SELECT 'dataset_production', COUNT(*) FROM dataset WHERE is_test = false";

/// PostgreSQL: `changed` is the statement's transition table (the rows inserted or deleted).
const POSTGRES_FUNCTIONS: &str = r#"
CREATE FUNCTION pfo_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE delta BIGINT;
BEGIN
  SELECT COUNT(*) INTO delta FROM changed;
  IF TG_OP = 'DELETE' THEN delta := -delta; END IF;
  IF delta <> 0 THEN
    UPDATE row_count SET n = n + delta WHERE name = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION pfo_count_production_datasets() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE delta BIGINT;
BEGIN
  SELECT COUNT(*) INTO delta FROM changed WHERE is_test = false;
  IF TG_OP = 'DELETE' THEN delta := -delta; END IF;
  IF delta <> 0 THEN
    UPDATE row_count SET n = n + delta WHERE name = 'dataset_production';
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION pfo_production_datasets_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE delta BIGINT;
BEGIN
  SELECT (SELECT COUNT(*) FROM after_update WHERE is_test = false)
       - (SELECT COUNT(*) FROM before_update WHERE is_test = false) INTO delta;
  IF delta <> 0 THEN
    UPDATE row_count SET n = n + delta WHERE name = 'dataset_production';
  END IF;
  RETURN NULL;
END $$;
"#;

const POSTGRES_PRODUCTION_TRIGGERS: &str = r#"
CREATE TRIGGER dataset_production_inserted AFTER INSERT ON dataset
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION pfo_count_production_datasets();
CREATE TRIGGER dataset_production_deleted AFTER DELETE ON dataset
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION pfo_count_production_datasets();
CREATE TRIGGER dataset_production_updated AFTER UPDATE ON dataset
  REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update FOR EACH STATEMENT
  EXECUTE FUNCTION pfo_production_datasets_updated();
"#;

const SQLITE_PRODUCTION_TRIGGERS: &str = r#"
CREATE TRIGGER dataset_production_inserted AFTER INSERT ON dataset WHEN NEW.is_test = 0
BEGIN UPDATE row_count SET n = n + 1 WHERE name = 'dataset_production'; END;
CREATE TRIGGER dataset_production_deleted AFTER DELETE ON dataset WHEN OLD.is_test = 0
BEGIN UPDATE row_count SET n = n - 1 WHERE name = 'dataset_production'; END;
CREATE TRIGGER dataset_production_updated AFTER UPDATE OF is_test ON dataset
  WHEN NEW.is_test <> OLD.is_test
BEGIN UPDATE row_count SET n = n + (CASE WHEN NEW.is_test = 0 THEN 1 ELSE -1 END)
  WHERE name = 'dataset_production'; END;
"#;

/// The insert and delete triggers of one counted table.
fn table_triggers(backend: DbBackend, table: &str) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "CREATE TRIGGER {table}_rows_inserted AFTER INSERT ON {table} \
               REFERENCING NEW TABLE AS changed FOR EACH STATEMENT \
               EXECUTE FUNCTION pfo_count_rows();
             CREATE TRIGGER {table}_rows_deleted AFTER DELETE ON {table} \
               REFERENCING OLD TABLE AS changed FOR EACH STATEMENT \
               EXECUTE FUNCTION pfo_count_rows();"
        ),
        _ => format!(
            "CREATE TRIGGER {table}_rows_inserted AFTER INSERT ON {table} \
               BEGIN UPDATE row_count SET n = n + 1 WHERE name = '{table}'; END;
             CREATE TRIGGER {table}_rows_deleted AFTER DELETE ON {table} \
               BEGIN UPDATE row_count SET n = n - 1 WHERE name = '{table}'; END;"
        ),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        db.execute_unprepared(CREATE_TABLE).await?;
        db.execute_unprepared(INITIAL_COUNTS).await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared(POSTGRES_FUNCTIONS).await?;
            db.execute_unprepared(POSTGRES_PRODUCTION_TRIGGERS).await?;
        } else {
            db.execute_unprepared(SQLITE_PRODUCTION_TRIGGERS).await?;
        }
        for table in COUNTED {
            db.execute_unprepared(&table_triggers(backend, table))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let on = |table: &str| match backend {
            DbBackend::Postgres => format!(" ON {table}"),
            _ => String::new(),
        };
        let mut triggers: Vec<(String, &str)> = COUNTED
            .iter()
            .flat_map(|t| {
                [
                    (format!("{t}_rows_inserted"), *t),
                    (format!("{t}_rows_deleted"), *t),
                ]
            })
            .collect();
        for kind in ["inserted", "deleted", "updated"] {
            triggers.push((format!("dataset_production_{kind}"), "dataset"));
        }
        for (trigger, table) in triggers {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}{}", on(table)))
                .await?;
        }
        if backend == DbBackend::Postgres {
            db.execute_unprepared(
                "DROP FUNCTION IF EXISTS pfo_count_rows(), pfo_count_production_datasets(), \
                 pfo_production_datasets_updated()",
            )
            .await?;
        }
        db.execute_unprepared("DROP TABLE row_count").await?;
        Ok(())
    }
}
