//! The real `pangeo-forge-runner` (from PyPI, in a virtualenv) driven from a webhook of a PR
//! from a fork (a local directory stands in for the fork, which alone holds the commit) to a
//! readable Zarr dataset, with `LocalDirectBakery` and everything offline: a recipe listed as
//! `{id, object}`, and a `dict_object` of two recipes in the mapping form. A bake takes about
//! 40 s, so this runs only when `PFO_REAL_RUNNER` names the runner executable:
//! `scripts/run-real-e2e.sh` installs it and runs this test.

use crate::support::fake_github::FakePull;
use crate::support::github_app::GithubAppHarness;
use crate::support::stores::copy_dir;
use crate::support::webhooks::{fixture, with_repository};
use crate::support::{Engine, TestApp};
use pangeo_forge_orchestrator::db::NewFeedstock;
use pangeo_forge_orchestrator::db::entities::recipe_run;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunConclusion, RunStatus};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const STAGED: &str = "pangeo-forge/staged-recipes";
/// The contributor's fork the PR comes from.
const FORK: &str = "contributor/staged-recipes";

fn python_beside(runner: &str) -> PathBuf {
    Path::new(runner).with_file_name("python")
}

/// A harness over the real runner, a copy of `real-feedstock` (inputs written) standing in
/// for the contributor's fork, and the `local-test` bakery writing under the work directory.
struct RealSetup {
    _work: tempfile::TempDir,
    repo: PathBuf,
    python: PathBuf,
    h: GithubAppHarness,
    feedstock_id: i32,
}

async fn setup(runner: &str, recipe_dirs: &[&str]) -> RealSetup {
    let work = tempfile::tempdir().expect("tempdir");
    let fixture_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-feedstock");
    let repo = work.path().join("repo");
    copy_dir(&fixture_dir, &repo);
    let python = python_beside(runner);
    for dir in recipe_dirs {
        let status = Command::new(&python)
            .arg(repo.join("make_inputs.py"))
            .arg(repo.join(format!("recipes/{dir}/inputs")))
            .status()
            .expect("make_inputs");
        assert!(status.success());
    }
    let bakeries = work.path().join("bakeries");
    std::fs::create_dir_all(&bakeries).expect("mkdir");
    let out = work.path().join("out");
    let bakery = std::fs::read_to_string(repo.join("local-test.yaml"))
        .expect("bakery")
        .replace("__OUTPUT_DIR__", &out.display().to_string());
    std::fs::write(bakeries.join("local-test.yaml"), bakery).expect("write bakery");

    let app = TestApp::start(Engine::Sqlite).await;
    // The preview on: the only bakery writes to this machine.
    let h =
        GithubAppHarness::start_with_previews(app, Some(runner.to_owned()), Some(bakeries)).await;
    let feedstock = h
        .app
        .db()
        .create_feedstock(NewFeedstock {
            spec: STAGED.into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    RealSetup {
        _work: work,
        repo,
        python,
        h,
        feedstock_id: feedstock.id,
    }
}

/// Opens PR #2 from the fork adding `recipes/<dir>/`: the fork is the local copy (the runner
/// reads a local path as is), served file by file by the fake GitHub; the base repository,
/// which does not hold the commit, is not reachable from here at all.
async fn open_fork_pr(s: &RealSetup, dir: &str) {
    let local = s.repo.display().to_string();
    let mut opened = with_repository(fixture("pull_request/opened.payload.json"), STAGED);
    opened["pull_request"]["head"]["repo"]["full_name"] = FORK.into();
    opened["pull_request"]["head"]["repo"]["html_url"] = local.clone().into();
    let sha = opened["pull_request"]["head"]["sha"]
        .as_str()
        .expect("sha")
        .to_owned();
    let mut files = Vec::new();
    let recipe_dir = s.repo.join("recipes").join(dir);
    for entry in walk(&recipe_dir) {
        let relative = entry.strip_prefix(&s.repo).expect("inside the repo");
        files.push(relative.display().to_string());
    }
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    s.h.github.set_pull_files(STAGED, 2, &names);
    s.h.github.add_pull(
        STAGED,
        FakePull {
            fork: Some(FORK.into()),
            fork_url: Some(local.clone()),
            ..FakePull::open(2, "Add tiny", "tiny", &sha)
        },
    );
    for file in &files {
        let bytes = std::fs::read(s.repo.join(file)).expect("fixture file");
        s.h.github.set_file(FORK, file, &sha, bytes);
    }
    s.h.app
        .deliver("pull_request", "guid-real-opened", &opened)
        .await;
    s.h.app
        .wait_for_delivery(
            "guid-real-opened",
            DeliveryState::Done,
            Duration::from_secs(120),
        )
        .await;
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        if entry.file_type().expect("type").is_dir() {
            found.extend(walk(&entry.path()));
        } else {
            found.push(entry.path());
        }
    }
    found.sort();
    found
}

/// Comments `/run <recipe_id>` and waits for that run to complete.
async fn run_to_completion(s: &RealSetup, recipe_id: &str) -> recipe_run::Model {
    let mut run_comment = with_repository(fixture("issue_comment/created.payload.json"), STAGED);
    run_comment["installation"] = json!({"id": 1});
    run_comment["issue"]["number"] = 2.into();
    run_comment["issue"]["pull_request"] = json!({"url": "https://api.github.com/pulls/2"});
    run_comment["comment"]["body"] = format!("/run {recipe_id}").into();
    s.h.app
        .deliver("issue_comment", "guid-real-run", &run_comment)
        .await;
    s.h.app
        .wait_for_delivery(
            "guid-real-run",
            DeliveryState::Done,
            Duration::from_secs(120),
        )
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let run = queued_runs(s)
            .await
            .into_iter()
            .find(|r| r.recipe_id == recipe_id)
            .expect("the run");
        if run.status == RunStatus::Completed || tokio::time::Instant::now() > deadline {
            return run;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn queued_runs(s: &RealSetup) -> Vec<recipe_run::Model> {
    s.h.app
        .db()
        .list_recipe_runs(
            &pangeo_forge_orchestrator::db::listing::RecipeRunFilter {
                feedstock_id: Some(s.feedstock_id),
                ..Default::default()
            },
            Default::default(),
            pangeo_forge_orchestrator::db::listing::Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .expect("runs")
}

/// Checks the run succeeded and its dataset is `store_name` with the tiny recipe's data.
fn assert_readable(s: &RealSetup, run: &recipe_run::Model, store_name: &str) {
    assert_eq!(
        run.conclusion,
        Some(RunConclusion::Success),
        "logs:\n{}",
        run.logs.clone().unwrap_or_default()
    );
    let url = run.dataset_public_url.clone().expect("dataset url");
    let root = url.strip_prefix("file://").expect("a file:// URL");
    // StoreToZarr writes `<root_path>/<store_name>`.
    let store = Path::new(root).join(store_name);
    let check = Command::new(&s.python)
        .arg(s.repo.join("check_output.py"))
        .arg(&store)
        .output()
        .expect("check_output");
    assert!(
        check.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

fn real_runner() -> Option<String> {
    let runner = std::env::var("PFO_REAL_RUNNER").ok();
    if runner.is_none() {
        crate::support::skip(
            "real_runner",
            "PFO_REAL_RUNNER does not name a pangeo-forge-runner (scripts/install-runner.sh installs one)",
        );
    }
    runner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_webhook_bakes_a_readable_zarr_with_the_real_runner() {
    let Some(runner) = real_runner() else { return };
    let s = setup(&runner, &["tiny"]).await;
    open_fork_pr(&s, "tiny").await;
    let run = run_to_completion(&s, "tiny").await;
    assert_readable(&s, &run, "tiny.zarr");
    assert_previewed(&s, &run, "tiny.zarr").await;
    s.h.finish().await;
}

/// The dataset preview of the store the runner wrote names its real variables, read from its
/// metadata: asked for the store, and for the dataset's URL (the directory `StoreToZarr`
/// writes the store into); the success comment lists them too.
async fn assert_previewed(s: &RealSetup, run: &recipe_run::Model, store_name: &str) {
    let url = run.dataset_public_url.clone().expect("dataset url");
    for asked in [format!("{url}/{store_name}"), url.clone()] {
        let reply = s.h.app.get(&format!("/repr/xarray/?url={asked}")).await;
        assert_eq!(reply.status.as_u16(), 200, "{asked}: {}", reply.text());
        let html = reply.json()["html"].as_str().expect("html").to_owned();
        assert_eq!(
            crate::repr::names_in(&html),
            ["lat", "lon", "time", "air"],
            "{html}"
        );
        for shown in [
            "<li><span class='xr-has-index'>time</span>: 10</li>",
            "<li><span class='xr-has-index'>lat</span>: 3</li>",
            "<div class='xr-var-dims'>(time, lat, lon)</div>",
            "<div class='xr-var-dtype'>datetime64[ns]</div>",
        ] {
            assert!(html.contains(shown), "missing {shown:?} in\n{html}");
        }
    }
    let comments = s.h.github.comments();
    let comment = comments
        .iter()
        .find(|c| c.body.contains(":tada:"))
        .expect("the success comment");
    assert!(
        comment
            .body
            .contains("| data | `air` | `time`, `lat`, `lon` |"),
        "{}",
        comment.body
    );
}

/// The mapping form of `dict_object` (the CMIP6 feedstocks'): the real `expand-meta` imports
/// the module from a copy of the recipe directory rewritten to the list form, one run is
/// queued per key, and `/run` of one key bakes only that recipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dict_object_recipe_expands_and_one_key_bakes_with_the_real_runner() {
    let Some(runner) = real_runner() else { return };
    let s = setup(&runner, &["tiny-dict"]).await;
    open_fork_pr(&s, "tiny-dict").await;
    let check =
        s.h.github
            .check_runs()
            .into_iter()
            .next()
            .expect("check run");
    assert_eq!(check.conclusion.as_deref(), Some("success"), "{check:?}");
    let mut ids: Vec<String> = queued_runs(&s)
        .await
        .into_iter()
        .map(|r| r.recipe_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["tiny-a", "tiny-b"]);
    let run = run_to_completion(&s, "tiny-b").await;
    assert_readable(&s, &run, "tiny-b.zarr");
    let other = queued_runs(&s)
        .await
        .into_iter()
        .find(|r| r.recipe_id == "tiny-a")
        .expect("tiny-a");
    assert_eq!(
        other.status,
        RunStatus::Queued,
        "only the key asked for ran"
    );
    s.h.finish().await;
}
