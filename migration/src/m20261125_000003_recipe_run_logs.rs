//! `recipe_run.logs`: the runner's output and trace for a run (bounded, secrets masked),
//! so a failed run can be understood without the server's logs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RecipeRun {
    Table,
    Logs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RecipeRun::Table)
                    .add_column(ColumnDef::new(RecipeRun::Logs).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RecipeRun::Table)
                    .drop_column(RecipeRun::Logs)
                    .to_owned(),
            )
            .await
    }
}
