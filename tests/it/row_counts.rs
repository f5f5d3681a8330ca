//! The front page's counts (`stats`, `GET /stats/*`, the lists' unfiltered `totalCount`)
//! come from counters the database's triggers keep: after every kind of write (one row,
//! 500-row batches, `INSERT … SELECT`, a run switching between test and production,
//! deletes) they equal `COUNT(*)`, and the migration that adds them starts them from the
//! rows already there.

use crate::both_engines;
use crate::sample::Sample;
use crate::support::TestApp;
use migration::MigratorTrait;
use pangeo_forge_orchestrator::db::enums::{DatasetType, RunConclusion, RunStatus};
use pangeo_forge_orchestrator::db::{Database, RecipeRunPatch};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

both_engines!(
    counts_follow_every_kind_of_write,
    counters_start_from_the_rows_already_there,
);

/// The five counts by `COUNT(*)`: runs, bakeries, feedstocks, datasets, production datasets.
async fn counted(db: &Database) -> [i64; 5] {
    let sql = "SELECT (SELECT COUNT(*) FROM recipe_run) AS a, (SELECT COUNT(*) FROM bakery) AS b, \
               (SELECT COUNT(*) FROM feedstock) AS c, (SELECT COUNT(*) FROM dataset) AS d, \
               (SELECT COUNT(*) FROM dataset WHERE is_test = false) AS e";
    let row = db
        .connection()
        .query_one_raw(Statement::from_string(db.backend(), sql))
        .await
        .unwrap()
        .unwrap();
    ["a", "b", "c", "d", "e"].map(|c| row.try_get::<i64>("", c).unwrap())
}

/// What `stats` and `/stats/*` answer, checked against `COUNT(*)`; returns the counts.
async fn stats_match_rows(app: &TestApp) -> [i64; 5] {
    let rows = counted(app.db()).await;
    let graphql = app
        .data(
            "{ stats { recipeRuns bakeries feedstocks datasets all: datasets(excludeTestRuns: false) production: datasets(excludeTestRuns: true) } }",
            json!({}),
        )
        .await;
    let stats = &graphql["stats"];
    assert_eq!(
        json!([
            stats["recipeRuns"],
            stats["bakeries"],
            stats["feedstocks"],
            stats["all"],
            stats["production"],
        ]),
        json!(rows),
        "GraphQL stats against COUNT(*)"
    );
    assert_eq!(
        stats["datasets"], stats["all"],
        "excludeTestRuns defaults to false"
    );
    // The lists' unfiltered totals read the same counters.
    let totals = app
        .data(
            "{ recipeRuns { totalCount } bakeries { totalCount } feedstocks { totalCount } datasets { totalCount } production: datasets(type: PRODUCTION) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        json!(
            [
                "recipeRuns",
                "bakeries",
                "feedstocks",
                "datasets",
                "production"
            ]
            .map(|list| totals[list]["totalCount"].clone())
        ),
        json!(rows),
        "connection totalCount against COUNT(*)"
    );
    for (path, expected) in [
        ("/stats/recipe_runs", rows[0]),
        ("/stats/bakeries", rows[1]),
        ("/stats/feedstocks", rows[2]),
        ("/stats/datasets", rows[3]),
        ("/stats/datasets?exclude_test_runs=true", rows[4]),
    ] {
        assert_eq!(
            app.get(path).await.json(),
            json!({ "count": expected }),
            "{path}"
        );
    }
    rows
}

async fn counts_follow_every_kind_of_write(app: TestApp) {
    assert_eq!(stats_match_rows(&app).await, [0, 0, 0, 0, 0]);

    // 500-row batches and one INSERT … SELECT for the datasets (one in ten runs succeeded).
    let loaded = crate::support::bench_data::load(app.db(), 30, 1200)
        .await
        .unwrap();
    assert_eq!(loaded.datasets, 120);
    let [runs, bakeries, feedstocks, datasets, production] = stats_match_rows(&app).await;
    assert_eq!([runs, feedstocks, datasets], [1200, 30, 120]);
    assert!(bakeries > 0 && production > 0 && production < datasets);

    // One row per statement: 2 bakeries, 2 feedstocks, 4 runs, 2 datasets (1 production).
    let sample = Sample::load(app.db()).await;
    let [runs, bakeries, feedstocks, datasets, production] = [
        runs + 4,
        bakeries + 2,
        feedstocks + 2,
        datasets + 2,
        production + 1,
    ];
    assert_eq!(
        stats_match_rows(&app).await,
        [runs, bakeries, feedstocks, datasets, production]
    );

    // A test run becomes a production run: its dataset moves from one count to the other.
    app.db()
        .update_recipe_run(
            sample.test_success.id,
            RecipeRunPatch {
                is_test: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(stats_match_rows(&app).await[4], production + 1);

    // A run completing with a dataset adds one; a run losing its success removes it.
    app.db()
        .update_recipe_run(
            sample.running.id,
            RecipeRunPatch {
                status: Some(RunStatus::Completed),
                conclusion: Some(Some(RunConclusion::Success)),
                completed_at: Some(Some(chrono::Utc::now())),
                dataset_type: Some(Some(DatasetType::Zarr)),
                dataset_public_url: Some(Some("https://example.org/a.zarr".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(stats_match_rows(&app).await[3], datasets + 1);
    app.db()
        .update_recipe_run(
            sample.prod_success.id,
            RecipeRunPatch {
                conclusion: Some(Some(RunConclusion::Failure)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(stats_match_rows(&app).await[3..], [datasets, production]);

    // Deleting runs (two with a dataset: one production, one test), then a feedstock and a
    // bakery nothing refers to any more.
    app.db()
        .delete_recipe_run(sample.test_success.id)
        .await
        .unwrap();
    app.db().delete_recipe_run(sample.queued.id).await.unwrap();
    app.db().delete_recipe_run(sample.running.id).await.unwrap();
    app.db().delete_feedstock(sample.staged.id).await.unwrap();
    app.db().delete_bakery(sample.local.id).await.unwrap();
    assert_eq!(
        stats_match_rows(&app).await,
        [
            runs - 3,
            bakeries - 1,
            feedstocks - 1,
            datasets - 2,
            production - 1
        ]
    );
}

async fn counters_start_from_the_rows_already_there(app: TestApp) {
    let conn = app.db().connection();
    // Back to the schema before the counters (undoing the migrations after them too), write
    // rows, then migrate up again.
    let names: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let counters = names
        .iter()
        .position(|n| n.ends_with("_row_counts"))
        .expect("the counters' migration");
    let steps = (names.len() - counters) as u32;
    migration::Migrator::down(conn, Some(steps)).await.unwrap();
    let loaded = crate::support::bench_data::load(app.db(), 5, 50)
        .await
        .unwrap();
    assert!(
        app.db().counts().await.is_err(),
        "row_count is gone after the down migration"
    );
    migration::Migrator::up(conn, None).await.unwrap();
    let [runs, bakeries, feedstocks, datasets, production] = stats_match_rows(&app).await;
    assert_eq!(
        [runs, feedstocks, datasets],
        [50, 5, loaded.datasets as i64]
    );
    // …and the triggers count from there on.
    Sample::load(app.db()).await;
    assert_eq!(
        stats_match_rows(&app).await,
        [
            runs + 4,
            bakeries + 2,
            feedstocks + 2,
            datasets + 2,
            production + 1
        ]
    );
}
