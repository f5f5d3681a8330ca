//! `kill -9` in the middle of the flows that create things on GitHub — a new feedstock
//! repository, a production deployment — then a restart: each thing is created once.

use crate::both_engines;
use crate::flows::{FEEDSTOCK, STAGED, merged_pull_request};
use crate::support::TestApp;
use crate::support::fake_github::{FakeGithub, Fault};
use crate::support::github_app::{
    BAKERY, meta_yaml, post_status_to, post_to, register_feedstock_and_bakery, run_in_progress,
    serve_binary,
};
use crate::support::process::Server;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use std::path::Path;
use std::time::Duration;

const MERGE_SHA: &str = "c4295bd74fb0f4fda03689c3df3f2803b658fd85";
const NEW_FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
const WAIT: Duration = Duration::from_secs(30);

/// Successful calls of `method` to exactly `path`.
fn created(github: &FakeGithub, method: &str, path: &str) -> usize {
    github
        .calls()
        .iter()
        .filter(|c| c.method == method && c.path == path && c.status < 400)
        .count()
}

/// Starts the binary, posts the delivery, waits until `reached` holds (checked every
/// 50 ms), kills the process with SIGKILL, starts another and waits until the delivery is done.
async fn crash_and_restart<F, Fut>(
    app: &TestApp,
    github: &FakeGithub,
    env: &[(&str, &str)],
    payload: &serde_json::Value,
    reached: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.test_db.url.clone();
    let mut lease = vec![("PFO_CLAIM_LEASE_SECS", "3")];
    lease.extend_from_slice(env);
    let mut first: Server = serve_binary(&url, github, dir.path(), &lease);
    let (status, reply) = post_to(&first.address, "pull_request", "guid-crash", payload).await;
    assert_eq!(status, 202, "{reply}");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !reached().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flow never got there: {:?}",
            github.summary()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The held-up call is in flight now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reaped");
    let second = serve_binary(&url, github, dir.path(), &lease);
    let row = app
        .wait_for_delivery("guid-crash", DeliveryState::Done, WAIT)
        .await;
    drop(second);
    assert_eq!(row.attempts, 2, "{row:?}");
}

async fn create_feedstock_killed_half_way_creates_each_thing_once(app: TestApp) {
    let github = FakeGithub::start().await;
    github.add_repository(STAGED);
    let files = ["recipes/gpcp/meta.yaml", "recipes/gpcp/recipe.py"];
    github.set_pull_files(STAGED, 2, &files);
    let main = github.branch(STAGED, "main").expect("main");
    for git_ref in [MERGE_SHA, main.as_str()] {
        github.set_file(STAGED, files[0], git_ref, meta_yaml(&["gpcp"]));
        github.set_file(STAGED, files[1], git_ref, "recipe = 'gpcp'\n");
    }
    // Merging the "Create …" PR hangs: the repository, branch, files and PR exist by then.
    github.fail_next(
        "PUT",
        &format!("/repos/{NEW_FEEDSTOCK}/pulls/"),
        1,
        Fault::Delay(Duration::from_secs(60)),
    );
    let pulls = format!("/repos/{NEW_FEEDSTOCK}/pulls");
    // The feedstock is registered right before the merge that hangs.
    crash_and_restart(
        &app,
        &github,
        &[],
        &merged_pull_request(STAGED, MERGE_SHA),
        || async {
            app.db()
                .feedstock_by_spec(NEW_FEEDSTOCK)
                .await
                .is_ok_and(|f| f.is_some())
        },
    )
    .await;
    assert_eq!(
        created(&github, "POST", "/orgs/pangeo-forge/repos"),
        1,
        "one repository"
    );
    assert_eq!(created(&github, "POST", &pulls), 1, "one create PR");
    assert_eq!(
        created(&github, "POST", &format!("/repos/{STAGED}/pulls")),
        1,
        "one cleanup PR"
    );
    assert!(github.pulls(NEW_FEEDSTOCK)[0].merged);
    assert!(
        app.db()
            .feedstock_by_spec(NEW_FEEDSTOCK)
            .await
            .expect("q")
            .is_some()
    );
}

async fn production_killed_after_submitting_deploys_and_submits_once(app: TestApp) {
    let github = FakeGithub::start().await;
    register_feedstock_and_bakery(&app, FEEDSTOCK).await;
    let bakeries = tempfile::tempdir().expect("tempdir");
    let record = bakeries.path().join("runner-calls.jsonl");
    std::fs::write(
        bakeries.path().join(format!("{BAKERY}.yaml")),
        format!(
            "Bake: {{bakery_class: pangeo_forge_runner.bakery.dataflow.DataflowBakery}}\n\
             TargetStorage: {{fsspec_class: s3fs.S3FileSystem, fsspec_args: {{}}, root_path: 'p/{{subpath}}', public_url: 'https://x/{{root_path}}'}}\n\
             FakeRunner: {{record_to: '{}'}}\n",
            record.display()
        ),
    )
    .expect("bakery file");
    github.set_pull_files(FEEDSTOCK, 2, &["feedstock/meta.yaml"]);
    github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        MERGE_SHA,
        meta_yaml(&["gpcp"]),
    );
    // Posting the deployment status hangs: the deployment exists and the job is submitted.
    github.fail_next(
        "POST",
        &format!("/repos/{FEEDSTOCK}/deployments/"),
        1,
        Fault::Delay(Duration::from_secs(60)),
    );
    let runner =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-pangeo-forge-runner");
    let runner = runner.display().to_string();
    let bakeries_dir = bakeries.path().display().to_string();
    let deployments = format!("/repos/{FEEDSTOCK}/deployments");
    let record_path = record.clone();
    crash_and_restart(
        &app,
        &github,
        &[
            ("PFO_BAKERIES_DIR", bakeries_dir.as_str()),
            ("PFO_RUNNER_COMMAND", runner.as_str()),
        ],
        &merged_pull_request(FEEDSTOCK, MERGE_SHA),
        || async {
            created(&github, "POST", &deployments) == 1
                && std::fs::read_to_string(&record_path).is_ok_and(|text| text.lines().count() == 1)
        },
    )
    .await;
    assert_eq!(
        created(&github, "POST", &format!("/repos/{FEEDSTOCK}/deployments")),
        1,
        "one deployment"
    );
    let submissions = std::fs::read_to_string(&record).unwrap_or_default();
    assert_eq!(submissions.lines().count(), 1, "the job was submitted once");
    let deployment = &github.deployments()[0];
    assert_eq!(
        deployment
            .statuses
            .iter()
            .map(|s| s.state.as_str())
            .collect::<Vec<_>>(),
        ["in_progress"]
    );
}

async fn completion_killed_while_reporting_comments_once(app: TestApp) {
    use crate::support::fake_github::FakePull;
    use pangeo_forge_orchestrator::db::enums::{RunConclusion, RunStatus};
    let github = FakeGithub::start().await;
    let sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
    let (feedstock, bakery) = register_feedstock_and_bakery(&app, FEEDSTOCK).await;
    let run = run_in_progress(&app, &feedstock, &bakery, sha).await;
    github.add_pull(FEEDSTOCK, FakePull::open(2, "Add GPCP", "changes", sha));
    // Commenting on the PR hangs: the run is completed by then.
    github.fail_next(
        "POST",
        &format!("/repos/{FEEDSTOCK}/issues/"),
        1,
        Fault::Delay(Duration::from_secs(60)),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.test_db.url.clone();
    let mut first = serve_binary(&url, &github, dir.path(), &LEASE_ENV);
    let (status, reply) = post_status_to(&first.address, run.id, "success").await;
    assert_eq!(status, 202, "{reply}");
    let deadline = tokio::time::Instant::now() + WAIT;
    while app
        .db()
        .recipe_run(run.id)
        .await
        .expect("q")
        .expect("run")
        .status
        != RunStatus::Completed
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run never completed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Killed once the comment is hanging (not before it was asked for).
    let issues = format!("/repos/{FEEDSTOCK}/issues/");
    while github.faults_left("POST", &issues) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the comment was never posted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reaped");
    let second = serve_binary(&url, &github, dir.path(), &LEASE_ENV);
    let guid = format!("dataflow-{}-success", run.id);
    let row = app
        .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
        .await;
    drop(second);
    assert_eq!(row.attempts, 2, "{row:?}");
    assert!(
        row.note.unwrap_or_default().contains("completed"),
        "the second attempt reported, it did not skip the run as already completed"
    );
    let comments = github.comments();
    assert_eq!(comments.len(), 1, "one comment: {comments:?}");
    assert!(comments[0].body.contains(":tada:"));
    let done = app.db().recipe_run(run.id).await.expect("q").expect("run");
    assert_eq!(done.conclusion, Some(RunConclusion::Success));
}

const LEASE_ENV: [(&str, &str); 1] = [("PFO_CLAIM_LEASE_SECS", "3")];

both_engines!(
    create_feedstock_killed_half_way_creates_each_thing_once,
    production_killed_after_submitting_deploys_and_submits_once,
    completion_killed_while_reporting_comments_once,
);
