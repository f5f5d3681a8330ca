//! A dataset: the output of one successful recipe run (new in this project).

use crate::db::enums::DatasetType;
use sea_orm::entity::prelude::*;

/// One row per successful run with a public URL; kept in step with the run by
/// `Database::sync_dataset` in the same transaction as the run's change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dataset")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub feedstock_id: i32,
    #[sea_orm(unique)]
    pub recipe_run_id: i32,
    pub recipe_id: String,
    pub dataset_type: DatasetType,
    pub url: String,
    pub is_test: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::feedstock::Entity",
        from = "Column::FeedstockId",
        to = "super::feedstock::Column::Id"
    )]
    Feedstock,
    #[sea_orm(
        belongs_to = "super::recipe_run::Entity",
        from = "Column::RecipeRunId",
        to = "super::recipe_run::Column::Id"
    )]
    RecipeRun,
}

impl Related<super::feedstock::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Feedstock.def()
    }
}

impl Related<super::recipe_run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RecipeRun.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
