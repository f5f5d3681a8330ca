//! Merged PRs: staged-recipes → a new feedstock repository; feedstock → production runs.

use super::*;
use crate::both_engines;
use crate::support::fake_github::Fault;
use crate::support::github_app::meta_yaml;
use pangeo_forge_orchestrator::config::DEFAULT_DASHBOARD_URL;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunStatus};

const MERGE_SHA: &str = "c4295bd74fb0f4fda03689c3df3f2803b658fd85";
const NEW_FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
const RECIPE_FILES: [&str; 2] = ["recipes/gpcp/meta.yaml", "recipes/gpcp/recipe.py"];

/// staged-recipes with a merged PR #2 adding `recipes/gpcp/`.
fn staged_recipes_merged(h: &GithubAppHarness) -> serde_json::Value {
    h.github.add_repository(STAGED);
    h.github.set_pull_files(STAGED, 2, &RECIPE_FILES);
    // The fixture's author (Codertocat) committed too; a co-author, a commit GitHub links
    // to no user, and a bot.
    h.github.set_pull_commit_authors(
        STAGED,
        2,
        &[
            Some("Codertocat"),
            Some("jane-coauthor"),
            None,
            Some("pre-commit-ci[bot]"),
            Some("jane-coauthor"),
        ],
    );
    let main = h.github.branch(STAGED, "main").expect("main");
    for (path, text) in [
        (RECIPE_FILES[0], meta_yaml(&["gpcp"])),
        (RECIPE_FILES[1], "recipe = 'gpcp'\n".to_owned()),
    ] {
        h.github.set_file(STAGED, path, MERGE_SHA, text.clone());
        h.github.set_file(STAGED, path, &main, text);
    }
    merged_pull_request(STAGED, MERGE_SHA)
}

fn expected_create_feedstock_writes(cleanup_branch: &str) -> Vec<String> {
    [
        "POST /orgs/pangeo-forge/repos".to_owned(),
        format!("POST /repos/{NEW_FEEDSTOCK}/git/refs"),
        format!("PUT /repos/{NEW_FEEDSTOCK}/contents/feedstock/meta.yaml"),
        format!("PUT /repos/{NEW_FEEDSTOCK}/contents/feedstock/recipe.py"),
        format!("POST /repos/{NEW_FEEDSTOCK}/pulls"),
        format!("PATCH /repos/{NEW_FEEDSTOCK}"),
        format!("PUT /repos/{NEW_FEEDSTOCK}/collaborators/Codertocat"),
        format!("PUT /repos/{NEW_FEEDSTOCK}/collaborators/jane-coauthor"),
        format!("PUT /repos/{NEW_FEEDSTOCK}/pulls/1/merge"),
        format!("DELETE /repos/{NEW_FEEDSTOCK}/git/refs/heads/create-feedstock"),
        format!("POST /repos/{STAGED}/git/refs"),
        format!("DELETE /repos/{STAGED}/contents/recipes/gpcp/meta.yaml"),
        format!("DELETE /repos/{STAGED}/contents/recipes/gpcp/recipe.py"),
        format!("POST /repos/{STAGED}/pulls"),
        format!("PUT /repos/{STAGED}/pulls/1/merge"),
        format!("DELETE /repos/{STAGED}/git/refs/heads/{cleanup_branch}"),
    ]
    .to_vec()
}

fn cleanup_branch(h: &GithubAppHarness) -> String {
    let created = h
        .github
        .calls_to("POST", &format!("/repos/{STAGED}/git/refs"));
    let full_ref = created
        .iter()
        .find(|c| c.status < 400)
        .map(|c| c.body["ref"].as_str().unwrap_or_default().to_owned())
        .expect("cleanup branch created");
    full_ref.trim_start_matches("refs/heads/").to_owned()
}

async fn a_merged_recipe_becomes_a_feedstock_and_leaves_staged_recipes(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = staged_recipes_merged(&h);
    h.app.deliver("pull_request", "guid-merge", &payload).await;
    let delivery = h
        .app
        .wait_for_delivery("guid-merge", DeliveryState::Done, WAIT)
        .await;
    assert!(delivery.note.unwrap_or_default().contains(NEW_FEEDSTOCK));

    let branch = cleanup_branch(&h);
    assert!(branch.starts_with("cleanup-"), "{branch}");
    assert_eq!(writes(&h), expected_create_feedstock_writes(&branch));
    let repo = &h.github.calls_to("POST", "/orgs/pangeo-forge/repos")[0].body;
    assert_eq!(repo["name"], "gpcp-feedstock");
    assert_eq!(repo["description"], "Pangeo Forge feedstock for gpcp.");
    assert_eq!(repo["auto_init"], true);
    assert_eq!(repo["license_template"], "apache-2.0");
    assert_eq!(repo["gitignore_template"], "Python");
    let pulls = h.github.pulls(NEW_FEEDSTOCK);
    assert_eq!(pulls[0].title, format!("Create {NEW_FEEDSTOCK}"));
    assert!(pulls[0].merged);
    assert_eq!(
        h.github.pulls(STAGED)[0].title,
        format!("Cleanup {NEW_FEEDSTOCK}")
    );
    assert_eq!(
        h.github
            .file(NEW_FEEDSTOCK, "feedstock/meta.yaml", "create-feedstock")
            .map(String::from_utf8),
        Some(Ok(meta_yaml(&["gpcp"])))
    );
    let feedstock = h
        .app
        .db()
        .feedstock_by_spec(NEW_FEEDSTOCK)
        .await
        .expect("query")
        .expect("the feedstock is registered");
    // As the original made them: the dataset page as homepage, no wiki, no projects.
    let settings = h.github.repo_settings(NEW_FEEDSTOCK);
    assert_eq!(
        settings["homepage"],
        format!("{DEFAULT_DASHBOARD_URL}/feedstock/{}", feedstock.id)
    );
    assert_eq!(settings["has_wiki"], false);
    assert_eq!(settings["has_projects"], false);
    // The PR's contributors are invited to the new feedstock, once each, bots left out.
    assert_eq!(
        h.github.invitations(),
        [
            (NEW_FEEDSTOCK.to_owned(), "Codertocat".to_owned()),
            (NEW_FEEDSTOCK.to_owned(), "jane-coauthor".to_owned()),
        ]
    );
    h.finish().await;
}

async fn a_create_feedstock_interrupted_half_way_resumes_without_repeating(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = staged_recipes_merged(&h);
    // Opening the PR fails twice (GitHub 502): by then the repo, branch and files exist.
    h.github.fail_next(
        "POST",
        &format!("/repos/{NEW_FEEDSTOCK}/pulls"),
        2,
        Fault::Status(502),
    );
    h.app.deliver("pull_request", "guid-resume", &payload).await;
    let delivery = h
        .app
        .wait_for_delivery("guid-resume", DeliveryState::Done, Duration::from_secs(40))
        .await;
    assert_eq!(delivery.attempts, 3);
    assert!(
        delivery.last_error.unwrap_or_default().contains("502"),
        "the passing error is kept for the record"
    );
    let branch = cleanup_branch(&h);
    assert_eq!(
        writes(&h),
        expected_create_feedstock_writes(&branch),
        "nothing was created twice"
    );
    h.finish().await;
}

async fn contributors_are_invited_once_though_the_merge_after_them_fails(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = staged_recipes_merged(&h);
    h.github.fail_next(
        "PUT",
        &format!("/repos/{NEW_FEEDSTOCK}/pulls/1/merge"),
        2,
        Fault::Status(502),
    );
    h.app.deliver("pull_request", "guid-invite", &payload).await;
    let delivery = h
        .app
        .wait_for_delivery("guid-invite", DeliveryState::Done, Duration::from_secs(40))
        .await;
    assert_eq!(delivery.attempts, 3);
    assert_eq!(
        h.github.invitations(),
        [
            (NEW_FEEDSTOCK.to_owned(), "Codertocat".to_owned()),
            (NEW_FEEDSTOCK.to_owned(), "jane-coauthor".to_owned()),
        ],
        "each contributor invited once over three attempts"
    );
    h.finish().await;
}

async fn a_merged_feedstock_pr_deploys_one_production_run_per_recipe(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    h.github
        .set_pull_files(FEEDSTOCK, 2, &["feedstock/meta.yaml"]);
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        MERGE_SHA,
        meta_yaml(&["gpcp-daily", "recipe-that-fails"]),
    );
    h.app
        .deliver(
            "pull_request",
            "guid-prod",
            &merged_pull_request(FEEDSTOCK, MERGE_SHA),
        )
        .await;
    h.app
        .wait_for_delivery("guid-prod", DeliveryState::Done, WAIT)
        .await;

    let runs = runs_of(&h.app, feedstock.id).await;
    assert_eq!(runs.len(), 2);
    let deployments = h.github.deployments();
    assert_eq!(deployments.len(), 2);
    for (run, deployment) in runs.iter().zip(&deployments) {
        assert!(!run.is_test);
        assert_eq!(run.head_sha, MERGE_SHA);
        assert_eq!(run.deployment_id, Some(deployment.id));
        assert_eq!(deployment.environment, run.recipe_id);
        assert_eq!(deployment.git_ref, "main");
        let link = format!(
            "https://pangeo-forge.org/dashboard/recipe-run/{}?feedstock_id={}",
            run.id, feedstock.id
        );
        assert_eq!(run.environment_url.as_deref(), Some(link.as_str()));
        let statuses: Vec<(&str, Option<&str>)> = deployment
            .statuses
            .iter()
            .map(|s| (s.state.as_str(), s.environment_url.as_deref()))
            .collect();
        let expected = if run.recipe_id == "gpcp-daily" {
            "in_progress"
        } else {
            "failure"
        };
        assert_eq!(statuses, [(expected, Some(link.as_str()))]);
    }
    assert_eq!(runs[0].status, RunStatus::InProgress);
    assert_eq!(runs[1].status, RunStatus::Completed);
    let argv = h.runner_calls()[0]["argv"].to_string();
    assert!(
        !argv.contains("--prune"),
        "production runs are not pruned: {argv}"
    );
    assert!(argv.contains(&format!("--ref={MERGE_SHA}")), "{argv}");
    h.finish().await;
}

async fn merges_that_touch_other_files_are_left_alone(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    register(&h.app, FEEDSTOCK).await;
    h.github
        .set_pull_files(FEEDSTOCK, 2, &["feedstock/meta.yaml", "README.md"]);
    h.app
        .deliver(
            "pull_request",
            "guid-readme",
            &merged_pull_request(FEEDSTOCK, MERGE_SHA),
        )
        .await;
    let row = h
        .app
        .wait_for_delivery("guid-readme", DeliveryState::Ignored, WAIT)
        .await;
    assert!(row.note.unwrap_or_default().contains("outside feedstock/"));
    let mut closed = pull_request("closed.payload.json", FEEDSTOCK);
    closed["pull_request"]["merged"] = false.into();
    h.app.deliver("pull_request", "guid-closed", &closed).await;
    h.app
        .wait_for_delivery("guid-closed", DeliveryState::Ignored, WAIT)
        .await;
    assert!(writes(&h).is_empty());
    assert!(h.runner_calls().is_empty());
    h.finish().await;
}

both_engines!(
    contributors_are_invited_once_though_the_merge_after_them_fails,
    a_merged_recipe_becomes_a_feedstock_and_leaves_staged_recipes,
    a_create_feedstock_interrupted_half_way_resumes_without_repeating,
    a_merged_feedstock_pr_deploys_one_production_run_per_recipe,
    merges_that_touch_other_files_are_left_alone,
);
