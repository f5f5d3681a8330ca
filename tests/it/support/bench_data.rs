//! The read benchmark's data set (`benches/bench/`; the row-count tests load it too),
//! written fast: multi-row INSERTs of 500 rows in one transaction, then the datasets derived
//! from their runs by one `INSERT … SELECT`.

use chrono::{Duration, TimeZone, Utc};
use pangeo_forge_orchestrator::db::Database;
use pangeo_forge_orchestrator::db::entities::{bakery, feedstock, recipe_run};
use pangeo_forge_orchestrator::db::enums::{DatasetType, RunConclusion, RunStatus};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set, TransactionTrait};
use std::time::Instant;

/// Rows per INSERT statement (20 columns: well under both engines' bind limits).
const BATCH: usize = 500;

/// What was written.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Feedstock ids, ascending.
    pub feedstock_ids: Vec<i32>,
    /// Runs written.
    pub runs: usize,
    /// Datasets derived from the successful runs.
    pub datasets: u64,
    /// How long writing took.
    pub seconds: f64,
}

/// Writes 3 bakeries, `feedstocks` feedstocks and `runs` runs spread evenly over them;
/// one run in ten succeeded with a dataset, half of those are production runs.
pub async fn load(db: &Database, feedstocks: usize, runs: usize) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let conn = db.connection();
    let txn = conn.begin().await?;
    let bakeries =
        ["bench-dataflow", "bench-flink", "bench-local"].map(|name| bakery::ActiveModel {
            name: Set(name.to_owned()),
            region: Set("us-central1".to_owned()),
            description: Set(format!("The {name} bakery of the benchmark.")),
            ..Default::default()
        });
    bakery::Entity::insert_many(bakeries)
        .exec_without_returning(&txn)
        .await?;
    let specs: Vec<usize> = (0..feedstocks.max(1)).collect();
    for chunk in specs.chunks(BATCH) {
        let rows = chunk.iter().map(|i| feedstock::ActiveModel {
            spec: Set(format!("pangeo-forge/bench-{i:05}-feedstock")),
            provider: Set("github".to_owned()),
            ..Default::default()
        });
        feedstock::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    let bakery_ids = ids::<bakery::Entity>(&txn, bakery::Column::Id).await?;
    let feedstock_ids = ids::<feedstock::Entity>(&txn, feedstock::Column::Id).await?;

    let indexes: Vec<usize> = (0..runs).collect();
    for chunk in indexes.chunks(BATCH) {
        let rows = chunk
            .iter()
            .map(|&i| run(i, &bakery_ids, &feedstock_ids, runs));
        recipe_run::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    let datasets = txn
        .execute_unprepared(
            "INSERT INTO dataset (feedstock_id, recipe_run_id, recipe_id, dataset_type, url, is_test, created_at) \
             SELECT feedstock_id, id, recipe_id, dataset_type, dataset_public_url, is_test, \
             COALESCE(completed_at, started_at) FROM recipe_run \
             WHERE dataset_public_url IS NOT NULL AND dataset_type IS NOT NULL",
        )
        .await?
        .rows_affected();
    txn.commit().await?;
    conn.execute_unprepared("ANALYZE").await?;
    Ok(Loaded {
        feedstock_ids,
        runs,
        datasets,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn ids<E: EntityTrait>(
    txn: &sea_orm::DatabaseTransaction,
    id: E::Column,
) -> anyhow::Result<Vec<i32>> {
    Ok(E::find()
        .select_only()
        .column(id)
        .order_by_asc(id)
        .into_tuple::<i32>()
        .all(txn)
        .await?)
}

/// Run `i` of `total`: started one minute after run `i - 1`, so the highest ids are the
/// most recent.
fn run(i: usize, bakeries: &[i32], feedstocks: &[i32], total: usize) -> recipe_run::ActiveModel {
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let started_at = now - Duration::minutes((total - i) as i64);
    let feedstock_id = feedstocks[i % feedstocks.len()];
    let (status, conclusion) = match i % 10 {
        0 => (RunStatus::Completed, Some(RunConclusion::Success)),
        1 => (RunStatus::InProgress, None),
        2 => (RunStatus::Queued, None),
        _ => (RunStatus::Completed, Some(RunConclusion::Failure)),
    };
    let success = conclusion == Some(RunConclusion::Success);
    let is_test = (i / 10).is_multiple_of(2);
    let recipe_id = ["daily", "monthly", "annual"][i % 3].to_owned();
    let url = success.then(|| {
        format!("https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/bench/{feedstock_id}/{recipe_id}-{i}.zarr")
    });
    recipe_run::ActiveModel {
        recipe_id: Set(recipe_id),
        bakery_id: Set(bakeries[i % bakeries.len()]),
        feedstock_id: Set(feedstock_id),
        head_sha: Set(format!("{:040x}", 0xbe7c_0000_u64 + i as u64)),
        version: Set(if is_test { String::new() } else { "1.0".into() }),
        started_at: Set(started_at),
        completed_at: Set(
            (status == RunStatus::Completed).then(|| started_at + Duration::minutes(42))
        ),
        conclusion: Set(conclusion),
        status: Set(status),
        is_test: Set(is_test),
        dataset_type: Set(success.then_some(DatasetType::Zarr)),
        dataset_public_url: Set(url),
        job_name: Set((status != RunStatus::Queued).then(|| format!("a{i:06x}bench"))),
        job_id: Set((status != RunStatus::Queued).then(|| format!("2026-11-01_{i}"))),
        deployment_id: Set((!is_test).then_some(900_000_000 + i as i64)),
        environment_url: Set(None),
        error_trace: Set((conclusion == Some(RunConclusion::Failure))
            .then(|| "FileNotFoundError: https://example.org/data/1981.nc".to_owned())),
        logs: Set(None),
        updated_at: Set(started_at),
        ..Default::default()
    }
}
