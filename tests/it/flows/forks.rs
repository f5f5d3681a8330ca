//! Pull requests from forks, as almost every staged-recipes PR is: the head commit lives in
//! the contributor's fork, which the base repository does not serve. synchronize reads
//! meta.yaml from the fork, `/run`, `/rerun` and re-runs of test runs hand the runner the
//! fork's URL, the merge's production run uses the base repository at the merge commit, and
//! a PR whose fork was deleted fails its check run saying so.

use super::*;
use crate::both_engines;
use crate::support::fake_github::FakePull;
use crate::support::github_app::meta_yaml;
use crate::support::webhooks::pr_comment;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunStatus};
use serde_json::{Value, json};

/// The contributor's fork of [`FEEDSTOCK`].
const FORK: &str = "contributor/gpcp-feedstock";

/// The opened fixture as a PR from [`FORK`] into [`FEEDSTOCK`].
fn fork_pull_request() -> Value {
    let mut payload = pull_request("opened.payload.json", FEEDSTOCK);
    let head = &mut payload["pull_request"]["head"];
    head["repo"]["full_name"] = FORK.into();
    head["repo"]["name"] = "gpcp-feedstock".into();
    head["repo"]["html_url"] = format!("https://github.com/{FORK}").into();
    head["repo"]["owner"]["login"] = "contributor".into();
    head["repo"]["fork"] = true.into();
    head["label"] = "contributor:add-gpcp".into();
    payload
}

/// The `--repo=` and `--ref=` a runner call was given.
fn repo_and_ref(call: &Value) -> (String, String) {
    let argv: Vec<&str> = call["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let find = |flag: &str| {
        argv.iter()
            .find_map(|a| a.strip_prefix(flag))
            .unwrap_or_else(|| panic!("{flag} missing from {argv:?}"))
            .to_owned()
    };
    (find("--repo="), find("--ref="))
}

/// A fork PR synchronized: meta.yaml exists only in the fork at the head sha.
async fn synchronized_from_fork(h: &GithubAppHarness) -> (feedstock::Model, String) {
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let payload = fork_pull_request();
    let sha = head_sha(&payload);
    h.github
        .set_recipe(FORK, "feedstock/meta.yaml", &sha, meta_yaml(&["gpcp"]));
    h.github.add_pull(
        FEEDSTOCK,
        FakePull {
            fork: Some(FORK.into()),
            ..FakePull::open(2, "Add GPCP", "add-gpcp", &sha)
        },
    );
    h.app.deliver("pull_request", "guid-fork", &payload).await;
    h.app
        .wait_for_delivery("guid-fork", DeliveryState::Done, WAIT)
        .await;
    (feedstock, sha)
}

async fn a_fork_prs_meta_yaml_is_read_from_the_fork(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, sha) = synchronized_from_fork(&h).await;
    assert!(
        h.github
            .summary()
            .contains(&format!("GET /repos/{FORK}/contents/feedstock/meta.yaml")),
        "{:?}",
        h.github.summary()
    );
    let check = &h.github.check_runs()[0];
    assert_eq!(
        check.repo, FEEDSTOCK,
        "the check run is on the base repository"
    );
    assert_eq!(check.conclusion.as_deref(), Some("success"), "{check:?}");
    let runs = runs_of(&h.app, feedstock.id).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].head_sha, sha);
    h.finish().await;
}

async fn run_and_rerun_clone_the_fork_at_the_head_commit(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, sha) = synchronized_from_fork(&h).await;
    for (guid, command) in [("guid-run", "/run gpcp"), ("guid-rerun", "/rerun gpcp")] {
        h.app
            .deliver(
                "issue_comment",
                guid,
                &pr_comment(FEEDSTOCK, 2, command, "MEMBER"),
            )
            .await;
        h.app
            .wait_for_delivery(guid, DeliveryState::Done, WAIT)
            .await;
    }
    // A re-run of the test run by mutation, submitted by a worker.
    let first = runs_of(&h.app, feedstock.id).await[0].id;
    let rerun = h
        .app
        .admin_data(
            "mutation($id: Int!) { rerunRecipeRun(id: $id) { id } }",
            json!({"id": first}),
        )
        .await;
    let new_id = rerun["rerunRecipeRun"]["id"].as_i64().expect("id");
    h.app
        .wait_for_delivery(&format!("submit-{new_id}"), DeliveryState::Done, WAIT)
        .await;
    let calls = h.runner_calls();
    assert_eq!(calls.len(), 3, "/run, /rerun and the mutation's re-run");
    for call in &calls {
        assert_eq!(
            repo_and_ref(call),
            (format!("https://github.com/{FORK}"), sha.clone())
        );
    }
    let runs = runs_of(&h.app, feedstock.id).await;
    assert!(
        runs.iter().all(|r| r.status == RunStatus::InProgress),
        "{runs:?}"
    );
    h.finish().await;
}

async fn a_merged_fork_pr_runs_in_production_from_the_base_repository(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, _) = synchronized_from_fork(&h).await;
    let merge_sha = "4444444444444444444444444444444444444444";
    // After the merge the recipe is in the base repository, at the merge commit.
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        merge_sha,
        meta_yaml(&["gpcp"]),
    );
    let mut payload = merged_pull_request(FEEDSTOCK, merge_sha);
    let number = payload["number"].as_u64().expect("number");
    h.github
        .set_pull_files(FEEDSTOCK, number, &["feedstock/meta.yaml"]);
    payload["pull_request"]["head"]["repo"]["full_name"] = FORK.into();
    payload["pull_request"]["head"]["repo"]["html_url"] =
        format!("https://github.com/{FORK}").into();
    h.app.deliver("pull_request", "guid-merged", &payload).await;
    h.app
        .wait_for_delivery("guid-merged", DeliveryState::Done, WAIT)
        .await;
    let production: Vec<_> = runs_of(&h.app, feedstock.id)
        .await
        .into_iter()
        .filter(|r| !r.is_test)
        .collect();
    assert_eq!(production.len(), 1, "{production:?}");
    let calls = h.runner_calls();
    let call = calls.last().expect("the production run was submitted");
    assert_eq!(
        repo_and_ref(call),
        (
            format!("https://github.com/{FEEDSTOCK}"),
            merge_sha.to_owned()
        )
    );
    h.finish().await;
}

async fn a_pr_whose_fork_was_deleted_fails_its_check_run_clearly(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    register(&h.app, FEEDSTOCK).await;
    let mut payload = fork_pull_request();
    payload["pull_request"]["head"]["repo"] = Value::Null;
    h.app.deliver("pull_request", "guid-gone", &payload).await;
    let delivery = h
        .app
        .wait_for_delivery("guid-gone", DeliveryState::Done, WAIT)
        .await;
    let check = &h.github.check_runs()[0];
    assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:?}");
    assert!(check.title.contains("fork was deleted"), "{check:?}");
    assert!(
        delivery
            .note
            .as_deref()
            .unwrap_or("")
            .contains("fork was deleted"),
        "{delivery:?}"
    );
    h.finish().await;
}

both_engines!(
    a_fork_prs_meta_yaml_is_read_from_the_fork,
    run_and_rerun_clone_the_fork_at_the_head_commit,
    a_merged_fork_pr_runs_in_production_from_the_base_repository,
    a_pr_whose_fork_was_deleted_fails_its_check_run_clearly,
);
