//! A recipe run: one execution of one recipe of a feedstock at one commit, on one bakery.

use crate::db::enums::{DatasetType, RunConclusion, RunStatus};
use sea_orm::entity::prelude::*;

/// A recipe run. The job metadata the original packed into a JSON `message` string has
/// typed columns here (`job_name` … `error_trace`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recipe_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The recipe's `id` in meta.yaml.
    pub recipe_id: String,
    pub bakery_id: i32,
    pub feedstock_id: i32,
    /// The commit the run executes.
    pub head_sha: String,
    /// The feedstock version (`MAJOR.MINOR`), empty while unknown.
    pub version: String,
    pub started_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    /// Set exactly when `status` is `completed`.
    pub conclusion: Option<RunConclusion>,
    pub status: RunStatus,
    /// A test run processes a pruned subset of the data (`/run` on a pull request).
    pub is_test: bool,
    pub dataset_type: Option<DatasetType>,
    pub dataset_public_url: Option<String>,
    /// The bakery's job name (Dataflow: ≤ 64 characters, see `bakery::naming`).
    pub job_name: Option<String>,
    /// The bakery's job id, as the runner printed it.
    pub job_id: Option<String>,
    /// The GitHub deployment of a production run.
    pub deployment_id: Option<i64>,
    /// The page GitHub's deployment links to.
    pub environment_url: Option<String>,
    /// The runner's traceback when submission or the job failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub error_trace: Option<String>,
    /// The runner's output and trace (bounded, secrets masked); the status monitor's
    /// message is appended.
    #[sea_orm(column_type = "Text", nullable)]
    pub logs: Option<String>,
    /// When the row last changed (any column).
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::bakery::Entity",
        from = "Column::BakeryId",
        to = "super::bakery::Column::Id"
    )]
    Bakery,
    #[sea_orm(
        belongs_to = "super::feedstock::Entity",
        from = "Column::FeedstockId",
        to = "super::feedstock::Column::Id"
    )]
    Feedstock,
    #[sea_orm(has_one = "super::dataset::Entity")]
    Dataset,
}

impl Related<super::bakery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bakery.def()
    }
}

impl Related<super::feedstock::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Feedstock.def()
    }
}

impl Related<super::dataset::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Dataset.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
