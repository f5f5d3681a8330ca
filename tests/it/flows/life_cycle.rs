//! A recipe's whole life, as GitHub and the bakery would drive it: staged-recipes PR opened,
//! `/run`, the test job succeeds, the PR merges, the feedstock is created, its first PR
//! merges, the production job succeeds and its deployment says so.

use super::*;
use crate::both_engines;
use crate::support::fake_github::FakePull;
use crate::support::github_app::meta_yaml;
use crate::support::webhooks::{Delivery, pr_comment};
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunConclusion, RunStatus};
use serde_json::json;

const NEW_FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
const MERGE_SHA: &str = "c4295bd74fb0f4fda03689c3df3f2803b658fd85";
const FEEDSTOCK_MERGE_SHA: &str = "9f3e0c2a5b1d4e6f8a7b9c0d1e2f3a4b5c6d7e8f";
const FILES: [&str; 2] = ["recipes/gpcp/meta.yaml", "recipes/gpcp/recipe.py"];

async fn status(h: &GithubAppHarness, run_id: i32, conclusion: &str) {
    let reply = h
        .app
        .post_hook(Delivery {
            event: Some("dataflow"),
            guid: None,
            signature: None,
            body: format!("action=completed&recipe_run_id={run_id}&conclusion={conclusion}")
                .into_bytes(),
        })
        .await;
    assert_eq!(reply.status.as_u16(), 202, "{}", reply.text());
    let guid = reply.json()["delivery"].as_str().expect("guid").to_owned();
    h.app
        .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
        .await;
}

async fn a_recipe_from_pull_request_to_production_dataset(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let staged = register(&h.app, STAGED).await;
    h.github.add_repository(STAGED);

    // 1. The contributor opens a PR on staged-recipes.
    let opened = pull_request("opened.payload.json", STAGED);
    let sha = head_sha(&opened);
    h.github.set_pull_files(STAGED, 2, &FILES);
    h.github
        .add_pull(STAGED, FakePull::open(2, "Add GPCP", "gpcp", &sha));
    let main = h.github.branch(STAGED, "main").expect("main");
    for git_ref in [sha.as_str(), MERGE_SHA, main.as_str()] {
        h.github
            .set_file(STAGED, FILES[0], git_ref, meta_yaml(&["gpcp"]));
        h.github
            .set_file(STAGED, FILES[1], git_ref, "recipe = 'gpcp'\n");
    }
    h.app
        .deliver("pull_request", "guid-1-opened", &opened)
        .await;
    h.app
        .wait_for_delivery("guid-1-opened", DeliveryState::Done, WAIT)
        .await;
    let test_run = runs_of(&h.app, staged.id).await.remove(0);

    // 2. A maintainer runs the test.
    let run_comment = pr_comment(STAGED, 2, "/run gpcp", "OWNER");
    h.app
        .deliver("issue_comment", "guid-2-run", &run_comment)
        .await;
    h.app
        .wait_for_delivery("guid-2-run", DeliveryState::Done, WAIT)
        .await;
    let argv = h.runner_calls()[0]["argv"].to_string();
    assert!(argv.contains("--feedstock-subdir=recipes/gpcp"), "{argv}");
    assert!(argv.contains("--prune"), "{argv}");

    // 3. The bakery reports success: the contributor sees the dataset.
    status(&h, test_run.id, "success").await;
    let comment = &h.github.comments()[0];
    assert_eq!((comment.repo.as_str(), comment.number), (STAGED, 2));
    assert!(comment.body.contains(":tada:"), "{}", comment.body);
    assert!(comment.body.contains("recipe-run-"), "{}", comment.body);

    // 4. The PR merges: the feedstock repository is created and registered.
    h.app
        .deliver(
            "pull_request",
            "guid-4-merged",
            &merged_pull_request(STAGED, MERGE_SHA),
        )
        .await;
    h.app
        .wait_for_delivery("guid-4-merged", DeliveryState::Done, WAIT)
        .await;
    assert!(h.github.has_repository(NEW_FEEDSTOCK));
    let feedstock = h
        .app
        .db()
        .feedstock_by_spec(NEW_FEEDSTOCK)
        .await
        .expect("q")
        .expect("registered");

    // 5. GitHub delivers the merge of "Create …" on the new feedstock: production runs.
    h.github.set_pull_files(
        NEW_FEEDSTOCK,
        2,
        &["feedstock/meta.yaml", "feedstock/recipe.py"],
    );
    h.github.set_recipe(
        NEW_FEEDSTOCK,
        "feedstock/meta.yaml",
        FEEDSTOCK_MERGE_SHA,
        meta_yaml(&["gpcp"]),
    );
    let mut create_merged = merged_pull_request(NEW_FEEDSTOCK, FEEDSTOCK_MERGE_SHA);
    create_merged["pull_request"]["title"] = format!("Create {NEW_FEEDSTOCK}").into();
    h.app
        .deliver("pull_request", "guid-5-created", &create_merged)
        .await;
    h.app
        .wait_for_delivery("guid-5-created", DeliveryState::Done, WAIT)
        .await;
    let production = runs_of(&h.app, feedstock.id).await.remove(0);
    assert!(!production.is_test);
    assert_eq!(production.status, RunStatus::InProgress);

    // 6. The bakery reports success: the deployment says so, the dataset is listed.
    status(&h, production.id, "success").await;
    let deployment = &h.github.deployments()[0];
    let states: Vec<&str> = deployment
        .statuses
        .iter()
        .map(|s| s.state.as_str())
        .collect();
    assert_eq!(states, ["in_progress", "success"]);
    let link = format!(
        "https://pangeo-forge.org/dashboard/recipe-run/{}?feedstock_id={}",
        production.id, feedstock.id
    );
    assert_eq!(
        deployment.statuses[1].environment_url.as_deref(),
        Some(link.as_str())
    );
    let done = h
        .app
        .db()
        .recipe_run(production.id)
        .await
        .expect("q")
        .expect("run");
    assert_eq!(done.conclusion, Some(RunConclusion::Success));
    let datasets = h
        .app
        .data(
            "query($f: Int) { datasets(feedstockId: $f, type: PRODUCTION) { nodes { url } } }",
            json!({"f": feedstock.id}),
        )
        .await;
    assert_eq!(
        datasets["datasets"]["nodes"],
        json!([{"url": format!("https://ncsa.osn.xsede.org/Pangeo/pfo-test/{NEW_FEEDSTOCK}/gpcp.zarr")}])
    );
    h.finish().await;
}

both_engines!(a_recipe_from_pull_request_to_production_dataset);
