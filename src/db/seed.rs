//! A realistic demo data set, so a newcomer's GraphiQL has something to show:
//! three bakeries, five feedstocks (staged-recipes among them) and runs in every state.

use super::enums::{DatasetType, RunConclusion, RunStatus};
use super::listing::RecipeRunFilter;
use super::{Database, DbError, NewBakery, NewFeedstock, NewRecipeRun};
use chrono::{Duration, Utc};

/// What `seed` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The demo rows were written.
    Seeded {
        bakeries: usize,
        feedstocks: usize,
        recipe_runs: usize,
    },
    /// The demo runs are already there; nothing was written.
    AlreadySeeded,
}

const BAKERIES: &[(&str, &str, &str)] = &[
    (
        "pangeo-ldeo-nsf-earthcube",
        "us-central1",
        "A Google Cloud Dataflow bakery run by LDEO, writing to the Open Storage Network.",
    ),
    (
        "pangeo-forge-flink-osn",
        "us-west-2",
        "An Apache Flink bakery on Kubernetes, writing to the Open Storage Network.",
    ),
    (
        "pangeo-forge-local",
        "local",
        "A local Beam runner (LocalDirectBakery) for development.",
    ),
];

const FEEDSTOCKS: &[&str] = &[
    "pangeo-forge/staged-recipes",
    "pangeo-forge/noaa-oisst-avhrr-only-feedstock",
    "pangeo-forge/gpcp-feedstock",
    "pangeo-forge/cmip6-feedstock",
    "pangeo-forge/eobs-feedstock",
];

/// Every (status, conclusion) a run can have, so each appears at least once.
const STATES: &[(RunStatus, Option<RunConclusion>)] = &[
    (RunStatus::Queued, None),
    (RunStatus::InProgress, None),
    (RunStatus::Completed, Some(RunConclusion::Success)),
    (RunStatus::Completed, Some(RunConclusion::Failure)),
    (RunStatus::Completed, Some(RunConclusion::Cancelled)),
    (RunStatus::Completed, Some(RunConclusion::TimedOut)),
    (RunStatus::Completed, Some(RunConclusion::ActionRequired)),
    (RunStatus::Completed, Some(RunConclusion::Neutral)),
    (RunStatus::Completed, Some(RunConclusion::Skipped)),
    (RunStatus::Completed, Some(RunConclusion::Stale)),
    (RunStatus::Completed, Some(RunConclusion::Success)),
];

/// A deterministic, valid-looking 40-digit commit sha.
fn demo_sha(n: usize) -> String {
    format!("{:040x}", 0x5eed_0000_u64 + n as u64 * 0x1_0001)
}

/// Whether the demo runs are there: only `seed` writes runs at [`demo_sha`]s (bakery and
/// feedstock names are real ones, which an operator may have registered).
async fn already_seeded(db: &Database) -> Result<bool, DbError> {
    let filter = RecipeRunFilter {
        head_sha: Some(demo_sha(0)),
        ..Default::default()
    };
    Ok(db.count_recipe_runs(&filter).await? > 0)
}

/// Loads the demo set unless it is already there. Bakeries and feedstocks that already
/// exist (registered from `PFO_BAKERIES_DIR`, or installed) are used as they are.
pub async fn seed(db: &Database) -> Result<SeedOutcome, DbError> {
    if already_seeded(db).await? {
        return Ok(SeedOutcome::AlreadySeeded);
    }
    let mut bakeries = Vec::new();
    for (name, region, description) in BAKERIES {
        let bakery = match db.bakery_by_name(name).await? {
            Some(found) => found,
            None => {
                db.create_bakery(NewBakery {
                    name: (*name).into(),
                    region: (*region).into(),
                    description: (*description).into(),
                })
                .await?
            }
        };
        bakeries.push(bakery);
    }
    let mut feedstocks = Vec::new();
    for spec in FEEDSTOCKS {
        let existing = db.feedstock_by_spec(spec).await?;
        let feedstock = match existing {
            Some(found) => found,
            None => {
                db.create_feedstock(NewFeedstock {
                    spec: (*spec).into(),
                    provider: None,
                })
                .await?
            }
        };
        feedstocks.push(feedstock);
    }

    let now = Utc::now();
    let start = now - Duration::days(30);
    let mut runs = 0;
    for (f, feedstock) in feedstocks.iter().enumerate() {
        let name = feedstock
            .spec
            .rsplit('/')
            .next()
            .unwrap_or(&feedstock.spec)
            .trim_end_matches("-feedstock")
            .to_owned();
        for (s, (status, conclusion)) in STATES.iter().enumerate() {
            let n = f * STATES.len() + s;
            let bakery = &bakeries[n % bakeries.len()];
            let is_test = f == 0 || s % 3 == 0;
            let recipe_id = format!("{name}-{}", ["daily", "monthly", "annual"][s % 3]);
            let completed = *status == RunStatus::Completed;
            // Runs not yet over started minutes ago, so that the timeout sweep of the
            // `serve` that follows leaves them running.
            let started_at = if completed {
                start + Duration::hours(n as i64 * 7)
            } else {
                now - Duration::minutes(5 + n as i64)
            };
            let success = *conclusion == Some(RunConclusion::Success);
            let subpath = if is_test {
                format!(
                    "pangeo-forge/test/{}/recipe-run-{n}/{recipe_id}.zarr",
                    feedstock.spec
                )
            } else {
                format!("pangeo-forge/{}/{recipe_id}.zarr", feedstock.spec)
            };
            db.create_recipe_run(NewRecipeRun {
                recipe_id: recipe_id.clone(),
                bakery_id: bakery.id,
                feedstock_id: feedstock.id,
                head_sha: demo_sha(n),
                version: if is_test { String::new() } else { "1.0".into() },
                started_at: Some(started_at),
                completed_at: completed.then(|| started_at + Duration::minutes(42)),
                conclusion: *conclusion,
                status: *status,
                is_test,
                dataset_type: success.then_some(DatasetType::Zarr),
                dataset_public_url: success
                    .then(|| format!("https://ncsa.osn.xsede.org/Pangeo/{subpath}")),
                job_name: (*status != RunStatus::Queued).then(|| format!("a{n:04x}demo")),
                job_id: (*status != RunStatus::Queued)
                    .then(|| format!("2026-11-01_00_00_{n:02}-{}", 1000 + n)),
                deployment_id: (!is_test).then_some(900_000_000 + n as i64),
                environment_url: (!is_test).then(|| {
                    format!("https://pangeo-forge.org/dashboard/recipe-run/{n}?feedstock_id={}", feedstock.id)
                }),
                error_trace: (*conclusion == Some(RunConclusion::Failure)).then(|| {
                    "Traceback (most recent call last):\n  File \"recipe.py\", line 12, in <module>\nFileNotFoundError: https://example.org/data/1981.nc".to_owned()
                }),
            })
            .await?;
            runs += 1;
        }
    }
    Ok(SeedOutcome::Seeded {
        bakeries: bakeries.len(),
        feedstocks: feedstocks.len(),
        recipe_runs: runs,
    })
}
