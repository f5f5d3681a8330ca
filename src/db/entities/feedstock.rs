//! A feedstock: a `<org>/<name>-feedstock` repository (staged-recipes is registered too).

use sea_orm::entity::prelude::*;

/// One row per feedstock repository; `spec` (`org/name`) is unique.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedstock")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub spec: String,
    /// Where the repository lives; only `github` exists.
    pub provider: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::recipe_run::Entity")]
    RecipeRun,
    #[sea_orm(has_many = "super::dataset::Entity")]
    Dataset,
}

impl Related<super::recipe_run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RecipeRun.def()
    }
}

impl Related<super::dataset::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Dataset.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
