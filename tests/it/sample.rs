//! A small, fixed data set written through the database verbs, for tests that compare
//! against literal expectations.

use chrono::{TimeZone, Utc};
use pangeo_forge_orchestrator::db::entities::{bakery, feedstock, recipe_run};
use pangeo_forge_orchestrator::db::enums::{DatasetType, RunConclusion, RunStatus};
use pangeo_forge_orchestrator::db::{Database, NewBakery, NewFeedstock, NewRecipeRun};

/// Two bakeries, two feedstocks and four runs (queued, in progress, test success,
/// production success).
pub struct Sample {
    pub dataflow: bakery::Model,
    pub local: bakery::Model,
    pub staged: feedstock::Model,
    pub gpcp: feedstock::Model,
    pub queued: recipe_run::Model,
    pub running: recipe_run::Model,
    pub test_success: recipe_run::Model,
    pub prod_success: recipe_run::Model,
}

pub const SHA_A: &str = "c1e0b7e6a5f14d0b8e6c2a1f3b4d5e6f7a8b9c0d";
pub const SHA_B: &str = "0123456789abcdef0123456789abcdef01234567";

/// A run with the original's defaults, to be adjusted.
pub fn run(recipe_id: &str, bakery: i32, feedstock: i32, sha: &str) -> NewRecipeRun {
    NewRecipeRun {
        recipe_id: recipe_id.into(),
        bakery_id: bakery,
        feedstock_id: feedstock,
        head_sha: sha.into(),
        version: String::new(),
        started_at: Some(Utc.with_ymd_and_hms(2022, 9, 7, 20, 37, 49).unwrap()),
        completed_at: None,
        conclusion: None,
        status: RunStatus::Queued,
        is_test: true,
        dataset_type: None,
        dataset_public_url: None,
        job_name: None,
        job_id: None,
        deployment_id: None,
        environment_url: None,
        error_trace: None,
    }
}

impl Sample {
    pub async fn load(db: &Database) -> Sample {
        let dataflow = db
            .create_bakery(NewBakery {
                name: "pangeo-ldeo-nsf-earthcube".into(),
                region: "us-central1".into(),
                description: "Dataflow on GCP, output to OSN".into(),
            })
            .await
            .unwrap();
        let local = db
            .create_bakery(NewBakery {
                name: "pangeo-forge-local".into(),
                region: "local".into(),
                description: "LocalDirectBakery".into(),
            })
            .await
            .unwrap();
        let staged = db
            .create_feedstock(NewFeedstock {
                spec: "pangeo-forge/staged-recipes".into(),
                provider: None,
            })
            .await
            .unwrap();
        let gpcp = db
            .create_feedstock(NewFeedstock {
                spec: "pangeo-forge/gpcp-feedstock".into(),
                provider: Some("github".into()),
            })
            .await
            .unwrap();
        let queued = db
            .create_recipe_run(run("gpcp-daily", dataflow.id, staged.id, SHA_A))
            .await
            .unwrap();
        let running = db
            .create_recipe_run(NewRecipeRun {
                status: RunStatus::InProgress,
                job_name: Some("a6170692e7465737425".into()),
                job_id: Some("2022-09-07_13_37_49-123".into()),
                ..run("gpcp-monthly", dataflow.id, staged.id, SHA_A)
            })
            .await
            .unwrap();
        let test_success = db
            .create_recipe_run(NewRecipeRun {
                status: RunStatus::Completed,
                conclusion: Some(RunConclusion::Success),
                completed_at: Some(Utc.with_ymd_and_hms(2022, 9, 7, 21, 0, 0).unwrap()),
                dataset_type: Some(DatasetType::Zarr),
                dataset_public_url: Some("https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/test/pangeo-forge/staged-recipes/recipe-run-3/gpcp-daily.zarr".into()),
                ..run("gpcp-daily", local.id, gpcp.id, SHA_B)
            })
            .await
            .unwrap();
        let prod_success = db
            .create_recipe_run(NewRecipeRun {
                status: RunStatus::Completed,
                conclusion: Some(RunConclusion::Success),
                is_test: false,
                version: "1.0".into(),
                completed_at: Some(Utc.with_ymd_and_hms(2022, 9, 8, 1, 2, 3).unwrap()),
                dataset_type: Some(DatasetType::Zarr),
                dataset_public_url: Some(
                    "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp-daily.zarr".into(),
                ),
                deployment_id: Some(3_000_000_001),
                ..run("gpcp-daily", dataflow.id, gpcp.id, SHA_B)
            })
            .await
            .unwrap();
        Sample {
            dataflow,
            local,
            staged,
            gpcp,
            queued,
            running,
            test_success,
            prod_success,
        }
    }
}
