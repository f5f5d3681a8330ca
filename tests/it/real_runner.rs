//! The real `pangeo-forge-runner` (from PyPI, in a virtualenv) driven from a webhook of a PR
//! from a fork (a local directory stands in for the fork, which alone holds the commit) to a
//! readable Zarr dataset, with `LocalDirectBakery` and everything offline. A bake takes about
//! 40 s, so this runs only when `PFO_REAL_RUNNER` names the runner executable:
//! `scripts/run-real-e2e.sh` installs it and runs this test.

use crate::support::fake_github::FakePull;
use crate::support::github_app::GithubAppHarness;
use crate::support::webhooks::{fixture, with_repository};
use crate::support::{Engine, TestApp};
use pangeo_forge_orchestrator::db::NewFeedstock;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunConclusion, RunStatus};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const STAGED: &str = "pangeo-forge/staged-recipes";
/// The contributor's fork the PR comes from.
const FORK: &str = "contributor/staged-recipes";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn python_beside(runner: &str) -> PathBuf {
    Path::new(runner).with_file_name("python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_webhook_bakes_a_readable_zarr_with_the_real_runner() {
    let Ok(runner) = std::env::var("PFO_REAL_RUNNER") else {
        crate::support::skip(
            "real_runner",
            "PFO_REAL_RUNNER does not name a pangeo-forge-runner (scripts/install-runner.sh installs one)",
        );
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let fixture_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-feedstock");
    let repo = work.path().join("repo");
    copy_dir(&fixture_dir, &repo);
    let python = python_beside(&runner);
    let status = Command::new(&python)
        .arg(repo.join("make_inputs.py"))
        .arg(repo.join("recipes/tiny/inputs"))
        .status()
        .expect("make_inputs");
    assert!(status.success());
    let bakeries = work.path().join("bakeries");
    std::fs::create_dir_all(&bakeries).expect("mkdir");
    let out = work.path().join("out");
    let bakery = std::fs::read_to_string(repo.join("local-test.yaml"))
        .expect("bakery")
        .replace("__OUTPUT_DIR__", &out.display().to_string());
    std::fs::write(bakeries.join("local-test.yaml"), bakery).expect("write bakery");

    let app = TestApp::start(Engine::Sqlite).await;
    let h = GithubAppHarness::start_with(app, Some(runner.clone()), Some(bakeries)).await;
    let feedstock = h
        .app
        .db()
        .create_feedstock(NewFeedstock {
            spec: STAGED.into(),
            provider: None,
        })
        .await
        .expect("feedstock");

    // The PR comes from a contributor's fork, as staged-recipes PRs do: the fork is the local
    // copy (the runner reads a local path as is), and the base repository, which does not
    // hold the commit, is not reachable from here at all.
    let local = repo.display().to_string();
    let mut opened = with_repository(fixture("pull_request/opened.payload.json"), STAGED);
    opened["pull_request"]["head"]["repo"]["full_name"] = FORK.into();
    opened["pull_request"]["head"]["repo"]["html_url"] = local.clone().into();
    let sha = opened["pull_request"]["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_owned();
    let files = [
        "recipes/tiny/meta.yaml",
        "recipes/tiny/recipe.py",
        "recipes/tiny/requirements.txt",
    ];
    h.github.set_pull_files(STAGED, 2, &files);
    h.github.add_pull(
        STAGED,
        FakePull {
            fork: Some(FORK.into()),
            fork_url: Some(local.clone()),
            ..FakePull::open(2, "Add tiny", "tiny", &sha)
        },
    );
    for file in files {
        let text = std::fs::read(repo.join(file)).expect("fixture file");
        h.github.set_file(FORK, file, &sha, text);
    }
    h.app
        .deliver("pull_request", "guid-real-opened", &opened)
        .await;
    h.app
        .wait_for_delivery(
            "guid-real-opened",
            DeliveryState::Done,
            Duration::from_secs(30),
        )
        .await;

    let mut run_comment = with_repository(fixture("issue_comment/created.payload.json"), STAGED);
    run_comment["installation"] = json!({"id": 1});
    run_comment["issue"]["number"] = 2.into();
    run_comment["issue"]["pull_request"] = json!({"url": "https://api.github.com/pulls/2"});
    run_comment["comment"]["body"] = "/run tiny".into();
    h.app
        .deliver("issue_comment", "guid-real-run", &run_comment)
        .await;
    h.app
        .wait_for_delivery(
            "guid-real-run",
            DeliveryState::Done,
            Duration::from_secs(30),
        )
        .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let run = loop {
        let runs = h
            .app
            .db()
            .list_recipe_runs(
                &pangeo_forge_orchestrator::db::listing::RecipeRunFilter {
                    feedstock_id: Some(feedstock.id),
                    ..Default::default()
                },
                Default::default(),
                pangeo_forge_orchestrator::db::listing::Page {
                    offset: 0,
                    limit: 10,
                },
            )
            .await
            .expect("runs");
        let run = runs.into_iter().next().expect("run");
        if run.status == RunStatus::Completed || tokio::time::Instant::now() > deadline {
            break run;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(
        run.conclusion,
        Some(RunConclusion::Success),
        "logs:\n{}",
        run.logs.unwrap_or_default()
    );
    let url = run.dataset_public_url.clone().expect("dataset url");
    let root = url.strip_prefix("file://").expect("a file:// URL");
    // StoreToZarr writes `<root_path>/<store_name>`.
    let store = Path::new(root).join("tiny.zarr");
    let check = Command::new(&python)
        .arg(repo.join("check_output.py"))
        .arg(&store)
        .output()
        .expect("check_output");
    assert!(
        check.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    h.finish().await;
}
