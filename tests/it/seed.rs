//! `seed` beside a real configuration, and the first `serve` after it: the demo is written
//! even when a configured bakery has a demo bakery's name, and its running runs stay running.

use crate::both_engines;
use crate::support::TestApp;
use pangeo_forge_orchestrator::bakery::BakeryRegistry;
use pangeo_forge_orchestrator::bakery::timeouts;
use pangeo_forge_orchestrator::db::NewBakery;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunConclusion, RunStatus};
use pangeo_forge_orchestrator::db::listing::RecipeRunFilter;
use pangeo_forge_orchestrator::db::seed::{SeedOutcome, seed};
use pangeo_forge_orchestrator::db::{NewFeedstock, NewRecipeRun};
use std::time::Duration;

async fn a_configured_bakery_with_a_demo_name_does_not_stop_the_demo(app: TestApp) {
    // What `serve` registers from PFO_BAKERIES_DIR for the real LDEO bakery.
    app.db()
        .create_bakery(NewBakery {
            name: "pangeo-ldeo-nsf-earthcube".into(),
            region: "us-central1".into(),
            description: "The operator's own description".into(),
        })
        .await
        .expect("bakery");
    let outcome = seed(app.db()).await.expect("seed");
    assert!(
        matches!(
            outcome,
            SeedOutcome::Seeded {
                recipe_runs: 55,
                ..
            }
        ),
        "{outcome:?}"
    );
    let bakery = app
        .db()
        .bakery_by_name("pangeo-ldeo-nsf-earthcube")
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(
        bakery.description, "The operator's own description",
        "the operator's bakery is used as it is"
    );
    assert_eq!(
        seed(app.db()).await.expect("seed again"),
        SeedOutcome::AlreadySeeded
    );
}

async fn the_demos_running_runs_outlive_the_first_timeout_sweep(app: TestApp) {
    seed(app.db()).await.expect("seed");
    let running = RecipeRunFilter {
        status: Some(RunStatus::InProgress),
        ..Default::default()
    };
    let before = app.db().count_recipe_runs(&running).await.expect("count");
    assert!(before > 0, "the demo has running runs");
    let queued = timeouts::sweep(app.db(), &BakeryRegistry::default())
        .await
        .expect("sweep");
    assert_eq!(queued, 0, "no demo run is overdue");
}

async fn without_the_github_app_a_timed_out_run_ends_done_not_failed(app: TestApp) {
    let db = app.db();
    let bakery = db
        .create_bakery(NewBakery {
            name: "b".into(),
            region: "local".into(),
            description: "d".into(),
        })
        .await
        .expect("bakery");
    let feedstock = db
        .create_feedstock(NewFeedstock {
            spec: "pangeo-forge/gpcp-feedstock".into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    let run = db
        .create_recipe_run(NewRecipeRun {
            status: RunStatus::InProgress,
            started_at: Some(chrono::Utc::now() - chrono::Duration::hours(25)),
            ..NewRecipeRun::queued("gpcp".into(), bakery.id, feedstock.id, "a".repeat(40), true)
        })
        .await
        .expect("run");
    assert_eq!(
        timeouts::sweep(db, &BakeryRegistry::default())
            .await
            .expect("sweep"),
        1
    );
    let workers = app.orchestrator.clone().start_workers();
    app.queue.notify_waiters();
    let guid = format!("timeout-{}", run.id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let delivery = loop {
        let delivery = db
            .delivery_by_guid(&guid)
            .await
            .expect("read")
            .expect("queued");
        if delivery.state != DeliveryState::Queued && delivery.state != DeliveryState::Processing {
            break delivery;
        }
        assert!(tokio::time::Instant::now() < deadline, "{delivery:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    workers.shutdown().await;
    assert_eq!(delivery.state, DeliveryState::Done, "{delivery:?}");
    assert!(
        delivery
            .note
            .as_deref()
            .is_some_and(|n| n.contains("GitHub App is not configured")),
        "{delivery:?}"
    );
    let run = db.recipe_run(run.id).await.expect("read").expect("run");
    assert_eq!(run.conclusion, Some(RunConclusion::TimedOut));
}

both_engines!(
    a_configured_bakery_with_a_demo_name_does_not_stop_the_demo,
    the_demos_running_runs_outlive_the_first_timeout_sweep,
    without_the_github_app_a_timed_out_run_ends_done_not_failed,
);
