//! Composite `(sort_col, id)` indexes for the orderings GraphQL connections page through by
//! keyset (`WHERE (sort_col, id) > (:key, :id) ORDER BY sort_col, id LIMIT n`), so every
//! page, the first or the thousandth, is an index range scan on both engines.
//!
//! Every ordering of `recipe_run` (the large list) and `dataset`, and of `feedstock`, gets
//! one unless an index already starts with `(sort_col, id)`: `recipe_run`'s
//! `(feedstock_id, id)` and `(bakery_id, id)`, and the primary keys for `id`. `bakery` gets
//! none (a handful of rows). The single-column `recipe_run` indexes on `started_at` and
//! `status` are dropped: the composite ones start with the same column and serve every
//! query those did. Webhook deliveries are listed by id only (the primary key; the
//! `(feedstock_id, id)` index serves their feedstock filter).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum RecipeRun {
    Table,
    Id,
    RecipeId,
    HeadSha,
    Version,
    StartedAt,
    CompletedAt,
    Conclusion,
    Status,
    IsTest,
    DatasetType,
    DatasetPublicUrl,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Dataset {
    Table,
    Id,
    FeedstockId,
    RecipeId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Feedstock {
    Table,
    Id,
    Spec,
    Provider,
}

/// `(name, table, sort column, id column)` of every index this migration creates.
fn indexes() -> Vec<(&'static str, DynIden, DynIden, DynIden)> {
    let run = |name, col: RecipeRun| {
        (
            name,
            RecipeRun::Table.into_iden(),
            col.into_iden(),
            RecipeRun::Id.into_iden(),
        )
    };
    let dataset = |name, col: Dataset| {
        (
            name,
            Dataset::Table.into_iden(),
            col.into_iden(),
            Dataset::Id.into_iden(),
        )
    };
    let feedstock = |name, col: Feedstock| {
        (
            name,
            Feedstock::Table.into_iden(),
            col.into_iden(),
            Feedstock::Id.into_iden(),
        )
    };
    vec![
        run("idx_recipe_run_recipe_id_id", RecipeRun::RecipeId),
        run("idx_recipe_run_head_sha_id", RecipeRun::HeadSha),
        run("idx_recipe_run_version_id", RecipeRun::Version),
        run("idx_recipe_run_started_at_id", RecipeRun::StartedAt),
        run("idx_recipe_run_completed_at_id", RecipeRun::CompletedAt),
        run("idx_recipe_run_conclusion_id", RecipeRun::Conclusion),
        run("idx_recipe_run_status_id", RecipeRun::Status),
        run("idx_recipe_run_is_test_id", RecipeRun::IsTest),
        run("idx_recipe_run_dataset_type_id", RecipeRun::DatasetType),
        run(
            "idx_recipe_run_dataset_public_url_id",
            RecipeRun::DatasetPublicUrl,
        ),
        run("idx_recipe_run_updated_at_id", RecipeRun::UpdatedAt),
        dataset("idx_dataset_feedstock_id_id", Dataset::FeedstockId),
        dataset("idx_dataset_recipe_id_id", Dataset::RecipeId),
        dataset("idx_dataset_created_at_id", Dataset::CreatedAt),
        feedstock("idx_feedstock_spec_id", Feedstock::Spec),
        feedstock("idx_feedstock_provider_id", Feedstock::Provider),
    ]
}

/// The single-column indexes the composite ones replace: `(name, column)` on `recipe_run`.
const REPLACED: [(&str, RecipeRun); 2] = [
    ("idx_recipe_run_started_at", RecipeRun::StartedAt),
    ("idx_recipe_run_status", RecipeRun::Status),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, col, id) in indexes() {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(col)
                        .col(id)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        for (name, _) in REPLACED {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(RecipeRun::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in REPLACED {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RecipeRun::Table)
                        .col(col)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        for (name, table, _, _) in indexes() {
            manager
                .drop_index(Index::drop().name(name).table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
