//! A bakery: a place where recipes run (Dataflow, Flink or a local Beam runner).

use sea_orm::entity::prelude::*;

/// One row per configured bakery; `name` is unique and is what meta.yaml's `bakery.id` names.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bakery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub region: String,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::recipe_run::Entity")]
    RecipeRun,
}

impl Related<super::recipe_run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RecipeRun.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
