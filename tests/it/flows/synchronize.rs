//! pull_request opened / synchronize → check run, meta.yaml, queued test runs.

use super::*;
use crate::both_engines;
use crate::support::github_app::meta_yaml;
use axum::http::StatusCode;
use pangeo_forge_orchestrator::config::DEFAULT_DASHBOARD_URL;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunStatus};

async fn a_feedstock_pr_queues_one_test_run_per_recipe(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let payload = pull_request("opened.payload.json", FEEDSTOCK);
    let sha = head_sha(&payload);
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        &sha,
        meta_yaml(&["gpcp-daily", "gpcp-monthly"]),
    );

    let reply = h.app.deliver("pull_request", "guid-sync", &payload).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let delivery = h
        .app
        .wait_for_delivery("guid-sync", DeliveryState::Done, WAIT)
        .await;

    let checks = h.github.check_runs();
    assert_eq!(checks.len(), 1);
    let check = &checks[0];
    assert_eq!(
        h.github.summary(),
        [
            format!("POST /repos/{FEEDSTOCK}/check-runs"),
            format!("GET /repos/{FEEDSTOCK}/contents/feedstock/meta.yaml"),
            // The module file the recipes name is looked for beside meta.yaml.
            format!("GET /repos/{FEEDSTOCK}/contents/feedstock"),
            format!("PATCH /repos/{FEEDSTOCK}/check-runs/{}", check.id),
        ]
    );
    // A complete meta.yaml: nothing to annotate.
    assert_eq!(check.annotations, vec![]);
    assert_eq!(check.name, "synchronize");
    assert_eq!(check.head_sha, sha);
    assert_eq!(check.status, "completed");
    assert_eq!(check.conclusion.as_deref(), Some("success"));

    let runs = runs_of(&h.app, feedstock.id).await;
    assert_eq!(
        runs.iter()
            .map(|r| r.recipe_id.as_str())
            .collect::<Vec<_>>(),
        ["gpcp-daily", "gpcp-monthly"]
    );
    for run in &runs {
        assert_eq!(run.status, RunStatus::Queued);
        assert!(run.is_test);
        assert_eq!(run.head_sha, sha);
        let link = format!(
            "https://pangeo-forge.org/dashboard/recipe-run/{}?feedstock_id={}",
            run.id, feedstock.id
        );
        assert!(check.summary.contains(&link), "{}", check.summary);
    }
    assert!(
        delivery
            .note
            .unwrap_or_default()
            .contains("queued 2 recipe run")
    );
    assert!(
        h.runner_calls().is_empty(),
        "nothing is submitted before /run"
    );
    h.finish().await;
}

async fn a_staged_recipes_pr_reads_meta_from_its_recipe_directory(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let staged = register(&h.app, STAGED).await;
    let payload = pull_request("synchronize.payload.json", STAGED);
    let sha = head_sha(&payload);
    let number = payload["number"].as_u64().expect("number");
    h.github.set_pull_files(
        STAGED,
        number,
        &["recipes/gpcp/meta.yaml", "recipes/gpcp/recipe.py"],
    );
    h.github
        .set_recipe(STAGED, "recipes/gpcp/meta.yaml", &sha, meta_yaml(&["gpcp"]));

    h.app.deliver("pull_request", "guid-staged", &payload).await;
    h.app
        .wait_for_delivery("guid-staged", DeliveryState::Done, WAIT)
        .await;
    let summary = h.github.summary();
    assert!(summary.contains(&format!("GET /repos/{STAGED}/pulls/{number}/files")));
    assert!(summary.contains(&format!(
        "GET /repos/{STAGED}/contents/recipes/gpcp/meta.yaml"
    )));
    let check = &h.github.check_runs()[0];
    assert_eq!(check.conclusion.as_deref(), Some("success"));
    // "Details" opens the feedstock's dashboard page.
    assert_eq!(
        check.details_url.as_deref(),
        Some(format!("{DEFAULT_DASHBOARD_URL}/feedstock/{}", staged.id).as_str())
    );
    assert_eq!(runs_of(&h.app, staged.id).await.len(), 1);
    h.finish().await;
}

async fn contributor_mistakes_fail_the_check_run_with_what_to_fix(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;

    // 1. meta.yaml that is not YAML.
    let mut payload = pull_request("opened.payload.json", FEEDSTOCK);
    payload["pull_request"]["head"]["sha"] = "1111111111111111111111111111111111111111".into();
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        "1111111111111111111111111111111111111111",
        "recipes: [unclosed\n",
    );
    h.app.deliver("pull_request", "guid-broken", &payload).await;
    h.app
        .wait_for_delivery("guid-broken", DeliveryState::Done, WAIT)
        .await;

    // 2. An unknown bakery.
    payload["pull_request"]["head"]["sha"] = "2222222222222222222222222222222222222222".into();
    let unknown_bakery =
        meta_yaml(&["gpcp"]).replace(crate::support::github_app::BAKERY, "no-such-bakery");
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        "2222222222222222222222222222222222222222",
        unknown_bakery,
    );
    h.app.deliver("pull_request", "guid-bakery", &payload).await;
    h.app
        .wait_for_delivery("guid-bakery", DeliveryState::Done, WAIT)
        .await;

    // 3. No meta.yaml at all.
    payload["pull_request"]["head"]["sha"] = "3333333333333333333333333333333333333333".into();
    h.app
        .deliver("pull_request", "guid-missing", &payload)
        .await;
    h.app
        .wait_for_delivery("guid-missing", DeliveryState::Done, WAIT)
        .await;

    let checks = h.github.check_runs();
    assert_eq!(checks.len(), 3);
    for check in &checks {
        assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:?}");
    }
    // Broken YAML: one failure, on the line the parser stopped at.
    assert_eq!(checks[0].title, "meta.yaml: 1 problem, 0 warnings");
    assert!(
        checks[0]
            .summary
            .contains("**Fix first**, line 1: The YAML parser stopped here: unclosed bracket"),
        "{}",
        checks[0].summary
    );
    let broken = &checks[0].annotations;
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(
        (
            broken[0].path.as_str(),
            broken[0].start_line,
            broken[0].level.as_str()
        ),
        ("feedstock/meta.yaml", 1, "failure")
    );
    // The unknown bakery is annotated on the `id:` under `bakery:`, naming those there are.
    let bakery_line = meta_yaml(&["gpcp"])
        .lines()
        .position(|l| {
            l == "  id: no-such-bakery" || l.ends_with(crate::support::github_app::BAKERY)
        })
        .expect("the bakery line") as u64
        + 1;
    let unknown = &checks[1].annotations;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(
        (
            unknown[0].start_line,
            unknown[0].start_column,
            unknown[0].level.as_str()
        ),
        (bakery_line, Some(7), "failure")
    );
    let known = format!(
        "Known bakeries: `local-test`, `{}`",
        crate::support::github_app::BAKERY
    );
    assert!(
        unknown[0].message.contains(&known),
        "{}",
        unknown[0].message
    );
    assert!(checks[1].summary.contains(&known), "{}", checks[1].summary);
    assert_eq!(checks[2].title, "meta.yaml not found");
    assert!(runs_of(&h.app, feedstock.id).await.is_empty());
    h.finish().await;
}

async fn prs_outside_pangeo_forge_repositories_and_cleanup_prs_are_ignored(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    h.app
        .deliver(
            "pull_request",
            "guid-other",
            &fixture("pull_request/opened.payload.json"),
        )
        .await;
    let mut cleanup = pull_request("opened.payload.json", STAGED);
    cleanup["pull_request"]["title"] = "Cleanup pangeo-forge/gpcp-feedstock".into();
    h.app
        .deliver("pull_request", "guid-cleanup", &cleanup)
        .await;
    let other = h
        .app
        .wait_for_delivery("guid-other", DeliveryState::Ignored, WAIT)
        .await;
    assert!(other.note.unwrap_or_default().contains("not a feedstock"));
    h.app
        .wait_for_delivery("guid-cleanup", DeliveryState::Ignored, WAIT)
        .await;
    assert!(h.github.summary().is_empty(), "{:?}", h.github.summary());
    h.finish().await;
}

both_engines!(
    a_feedstock_pr_queues_one_test_run_per_recipe,
    a_staged_recipes_pr_reads_meta_from_its_recipe_directory,
    contributor_mistakes_fail_the_check_run_with_what_to_fix,
    prs_outside_pangeo_forge_repositories_and_cleanup_prs_are_ignored,
);
