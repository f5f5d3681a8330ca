//! Database migrations for pangeo-forge-orchestrator.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL (production).
//! They run at server start-up and through `pangeo-forge-orchestrator migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_core_tables;
mod m20261125_000002_webhook_deliveries;
mod m20261125_000003_recipe_run_logs;
mod m20261125_000004_row_counts;
mod m20261203_000005_change_notices;
mod m20261203_000006_keyset_indexes;
mod m20261203_000007_delivery_payload_lz4;

/// All migrations, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_core_tables::Migration),
            Box::new(m20261125_000002_webhook_deliveries::Migration),
            Box::new(m20261125_000003_recipe_run_logs::Migration),
            Box::new(m20261125_000004_row_counts::Migration),
            Box::new(m20261203_000005_change_notices::Migration),
            Box::new(m20261203_000006_keyset_indexes::Migration),
            Box::new(m20261203_000007_delivery_payload_lz4::Migration),
        ]
    }
}
