//! The four core tables: bakery, feedstock, recipe_run and dataset.
//!
//! The original kept a run's job metadata as a JSON string in `message`; here each field
//! (job name, job id, deployment id, environment URL, error trace) is its own column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bakery {
    Table,
    Id,
    Region,
    Name,
    Description,
}

#[derive(DeriveIden)]
enum Feedstock {
    Table,
    Id,
    Spec,
    Provider,
}

#[derive(DeriveIden)]
enum RecipeRun {
    Table,
    Id,
    RecipeId,
    BakeryId,
    FeedstockId,
    HeadSha,
    Version,
    StartedAt,
    CompletedAt,
    Conclusion,
    Status,
    IsTest,
    DatasetType,
    DatasetPublicUrl,
    JobName,
    JobId,
    DeploymentId,
    EnvironmentUrl,
    ErrorTrace,
    UpdatedAt,
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)]
enum Dataset {
    Table,
    Id,
    FeedstockId,
    RecipeRunId,
    RecipeId,
    DatasetType,
    Url,
    IsTest,
    CreatedAt,
}

fn timestamptz(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn timestamptz_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Bakery::Table)
                    .if_not_exists()
                    .col(pk_auto(Bakery::Id))
                    .col(string(Bakery::Region))
                    .col(string_uniq(Bakery::Name))
                    .col(text(Bakery::Description))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Feedstock::Table)
                    .if_not_exists()
                    .col(pk_auto(Feedstock::Id))
                    .col(string_uniq(Feedstock::Spec))
                    .col(string(Feedstock::Provider).default("github"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecipeRun::Table)
                    .if_not_exists()
                    .col(pk_auto(RecipeRun::Id))
                    .col(string(RecipeRun::RecipeId))
                    .col(integer(RecipeRun::BakeryId))
                    .col(integer(RecipeRun::FeedstockId))
                    .col(string(RecipeRun::HeadSha))
                    .col(string(RecipeRun::Version))
                    .col(timestamptz(RecipeRun::StartedAt))
                    .col(timestamptz_null(RecipeRun::CompletedAt))
                    .col(string_null(RecipeRun::Conclusion))
                    .col(string(RecipeRun::Status))
                    .col(boolean(RecipeRun::IsTest))
                    .col(string_null(RecipeRun::DatasetType))
                    .col(text_null(RecipeRun::DatasetPublicUrl))
                    .col(string_null(RecipeRun::JobName))
                    .col(string_null(RecipeRun::JobId))
                    .col(big_integer_null(RecipeRun::DeploymentId))
                    .col(text_null(RecipeRun::EnvironmentUrl))
                    .col(text_null(RecipeRun::ErrorTrace))
                    .col(timestamptz(RecipeRun::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recipe_run_bakery")
                            .from(RecipeRun::Table, RecipeRun::BakeryId)
                            .to(Bakery::Table, Bakery::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recipe_run_feedstock")
                            .from(RecipeRun::Table, RecipeRun::FeedstockId)
                            .to(Feedstock::Table, Feedstock::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        for (name, cols) in [
            (
                "idx_recipe_run_feedstock",
                vec![RecipeRun::FeedstockId, RecipeRun::Id],
            ),
            (
                "idx_recipe_run_bakery",
                vec![RecipeRun::BakeryId, RecipeRun::Id],
            ),
            (
                "idx_recipe_run_sha_recipe",
                vec![RecipeRun::HeadSha, RecipeRun::RecipeId],
            ),
            ("idx_recipe_run_status", vec![RecipeRun::Status]),
            ("idx_recipe_run_started_at", vec![RecipeRun::StartedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(RecipeRun::Table).if_not_exists();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Dataset::Table)
                    .if_not_exists()
                    .col(pk_auto(Dataset::Id))
                    .col(integer(Dataset::FeedstockId))
                    .col(integer_uniq(Dataset::RecipeRunId))
                    .col(string(Dataset::RecipeId))
                    .col(string(Dataset::DatasetType))
                    .col(text(Dataset::Url))
                    .col(boolean(Dataset::IsTest))
                    .col(timestamptz(Dataset::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dataset_feedstock")
                            .from(Dataset::Table, Dataset::FeedstockId)
                            .to(Feedstock::Table, Feedstock::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dataset_recipe_run")
                            .from(Dataset::Table, Dataset::RecipeRunId)
                            .to(RecipeRun::Table, RecipeRun::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_dataset_feedstock")
                    .table(Dataset::Table)
                    .if_not_exists()
                    .col(Dataset::FeedstockId)
                    .col(Dataset::IsTest)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Dataset::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RecipeRun::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Feedstock::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Bakery::Table).to_owned())
            .await
    }
}
