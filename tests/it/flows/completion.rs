//! Closing the loop: status reports, completion, reporting on GitHub, logs, timeouts,
//! re-runs and cancels.

use super::*;
use crate::both_engines;
use crate::support::fake_github::FakePull;
use crate::support::github_app::{BAKERY_SECRET, LOCAL_BAKERY, meta_yaml_for};
use crate::support::webhooks::{Delivery, pr_comment};
use axum::http::StatusCode;
use pangeo_forge_orchestrator::bakery::timeouts;
use pangeo_forge_orchestrator::config::DEFAULT_DASHBOARD_URL;
use pangeo_forge_orchestrator::db::RecipeRunPatch;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunConclusion, RunStatus};
use serde_json::json;

/// A feedstock PR (#2) synchronized with these recipes on `bakery`, and `/run` of the first;
/// returns the feedstock, the head sha and the submitted run's id.
async fn running(
    h: &GithubAppHarness,
    bakery: &str,
    recipes: &[&str],
) -> (feedstock::Model, String, i32) {
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let payload = pull_request("opened.payload.json", FEEDSTOCK);
    let sha = head_sha(&payload);
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        &sha,
        meta_yaml_for(bakery, recipes),
    );
    h.github
        .add_pull(FEEDSTOCK, FakePull::open(2, "Add GPCP", "changes", &sha));
    h.app.deliver("pull_request", "guid-opened", &payload).await;
    h.app
        .wait_for_delivery("guid-opened", DeliveryState::Done, WAIT)
        .await;
    h.app
        .deliver(
            "issue_comment",
            "guid-run",
            &pr_comment(FEEDSTOCK, 2, &format!("/run {}", recipes[0]), "MEMBER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-run", DeliveryState::Done, WAIT)
        .await;
    let run = runs_of(&h.app, feedstock.id)
        .await
        .into_iter()
        .find(|r| r.recipe_id == recipes[0])
        .expect("run");
    (feedstock, sha, run.id)
}

/// A signed status report as the Dataflow monitor sends it (form-encoded, no GUID).
async fn report(h: &GithubAppHarness, body: &str) -> crate::support::http::Reply {
    h.app
        .post_hook(Delivery {
            event: Some("dataflow"),
            guid: None,
            signature: None,
            body: body.as_bytes().to_vec(),
        })
        .await
}

async fn run_state(h: &GithubAppHarness, id: i32) -> serde_json::Value {
    h.app
        .data(
            "query($id: Int!) { recipeRun(id: $id) {
                status conclusion logs completedAt dataset { url } job { errorTrace } } }",
            json!({"id": id}),
        )
        .await["recipeRun"]
        .clone()
}

async fn a_status_report_completes_the_run_and_comments_with_the_dataset(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (_, sha, id) = running(&h, crate::support::github_app::BAKERY, &["gpcp"]).await;
    let reply = report(
        &h,
        &format!("action=completed&recipe_run_id={id}&conclusion=success"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let guid = reply.json()["delivery"].as_str().expect("guid").to_owned();
    h.app
        .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
        .await;

    let run = run_state(&h, id).await;
    assert_eq!(run["status"], "COMPLETED");
    assert_eq!(run["conclusion"], "SUCCESS");
    assert!(run["completedAt"].is_string());
    let url = format!(
        "https://ncsa.osn.xsede.org/Pangeo/pfo-test/test/{FEEDSTOCK}/recipe-run-{id}/gpcp.zarr"
    );
    assert_eq!(run["dataset"]["url"], url.as_str());
    let comments = h.github.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].number, 2);
    assert!(
        comments[0].body.starts_with(&format!(
            ":tada: The test run of `gpcp` at {sha} succeeded!"
        )),
        "{}",
        comments[0].body
    );
    assert!(comments[0].body.contains(&format!("store = \"{url}\"")));

    // The monitor sends it again (same body: same derived GUID): acknowledged, nothing new.
    let again = report(
        &h,
        &format!("action=completed&recipe_run_id={id}&conclusion=success"),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    // A contradicting late report: refused, kept, nothing posted.
    let late = report(
        &h,
        &format!("action=completed&recipe_run_id={id}&conclusion=failure"),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text());
    assert!(late.text().contains("not in progress"), "{}", late.text());
    assert_eq!(h.github.comments().len(), 1, "nothing posted twice");
    assert_eq!(run_state(&h, id).await["conclusion"], "SUCCESS");
    h.finish().await;
}

async fn a_failed_job_keeps_masked_logs_readable_in_graphql(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (_, _, id) = running(&h, crate::support::github_app::BAKERY, &["gpcp"]).await;
    let body = json!({
        "action": "completed",
        "recipe_run_id": id,
        "conclusion": "failure",
        "job_id": "2026-11-25_dataflow-1",
        "message": format!("Worker OOM while writing with secret={BAKERY_SECRET}\nTraceback: MemoryError"),
    });
    let reply = report(&h, &body.to_string()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let guid = reply.json()["delivery"].as_str().expect("guid").to_owned();
    h.app
        .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
        .await;

    let run = run_state(&h, id).await;
    assert_eq!(run["conclusion"], "FAILURE");
    let logs = run["logs"].as_str().expect("logs");
    assert!(logs.contains("pip"), "the runner's output is kept: {logs}");
    assert!(logs.contains("Worker OOM"), "{logs}");
    assert!(!logs.contains(BAKERY_SECRET), "secret in logs: {logs}");
    assert!(logs.contains("***"), "{logs}");
    assert!(run["dataset"].is_null());
    let comment = &h.github.comments()[0].body;
    assert!(comment.contains("failed"), "{comment}");
    assert!(
        comment.contains("MemoryError"),
        "the end of the trace is quoted: {comment}"
    );
    assert!(!comment.contains(BAKERY_SECRET), "{comment}");
    assert!(comment.contains(&format!("recipe-run/{id}")), "{comment}");
    h.finish().await;
}

async fn bad_status_reports_are_refused_with_the_reason_and_kept(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (_, _, id) = running(&h, crate::support::github_app::BAKERY, &["gpcp"]).await;
    for (body, status, says) in [
        (
            "action=completed&recipe_run_id=9999&conclusion=success",
            StatusCode::NOT_FOUND,
            "recipe run 9999 does not exist",
        ),
        (
            &format!("action=completed&recipe_run_id={id}&conclusion=maybe") as &str,
            StatusCode::UNPROCESSABLE_ENTITY,
            "`conclusion` must be",
        ),
        (
            "action=completed&conclusion=success",
            StatusCode::UNPROCESSABLE_ENTITY,
            "`recipe_run_id` is missing",
        ),
    ] {
        let reply = report(&h, body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text());
        assert!(reply.text().contains(says), "{body}: {}", reply.text());
    }
    let failed = h
        .app
        .data(
            "{ webhookDeliveries(state: FAILED, event: \"dataflow\") { totalCount nodes { lastError } } }",
            json!({}),
        )
        .await;
    assert_eq!(failed["webhookDeliveries"]["totalCount"], 3, "{failed}");
    assert_eq!(run_state(&h, id).await["status"], "IN_PROGRESS");
    h.finish().await;
}

async fn a_run_past_its_bakerys_limit_times_out_once(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (_, _, id) = running(&h, crate::support::github_app::BAKERY, &["gpcp"]).await;
    let ctx = h.context();
    assert_eq!(
        timeouts::sweep(&ctx.db, &ctx.bakeries)
            .await
            .expect("sweep"),
        0,
        "not overdue yet"
    );
    h.app
        .db()
        .update_recipe_run(
            id,
            RecipeRunPatch {
                started_at: Some(chrono::Utc::now() - chrono::Duration::hours(25)),
                ..Default::default()
            },
        )
        .await
        .expect("backdate");
    assert_eq!(
        timeouts::sweep(&ctx.db, &ctx.bakeries)
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        timeouts::sweep(&ctx.db, &ctx.bakeries)
            .await
            .expect("sweep"),
        0,
        "queued once"
    );
    h.app.queue.notify_waiters();
    h.app
        .wait_for_delivery(&format!("timeout-{id}"), DeliveryState::Done, WAIT)
        .await;
    let run = run_state(&h, id).await;
    assert_eq!(run["conclusion"], "TIMED_OUT");
    assert!(
        run["logs"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out")
    );
    let comment = &h.github.comments()[0].body;
    assert!(comment.contains("timed out"), "{comment}");
    // The bakery's real report arriving afterwards changes nothing.
    let late = report(
        &h,
        &format!("action=completed&recipe_run_id={id}&conclusion=success"),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    h.finish().await;
}

async fn rerun_and_cancel_by_mutation_and_by_command(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, _, id) = running(&h, crate::support::github_app::BAKERY, &["gpcp"]).await;

    // Cancel the running job: CANCELLED at once, the bakery's cancel command gets the job id.
    let cancel = "mutation($id: Int!) { cancelRecipeRun(id: $id) { status conclusion } }";
    let cancelled = h.app.admin_data(cancel, json!({"id": id})).await;
    assert_eq!(
        cancelled["cancelRecipeRun"],
        json!({"status": "COMPLETED", "conclusion": "CANCELLED"})
    );
    h.app
        .wait_for_delivery(&format!("cancel-{id}"), DeliveryState::Done, WAIT)
        .await;
    let job_id = h
        .app
        .db()
        .recipe_run(id)
        .await
        .expect("q")
        .expect("run")
        .job_id
        .expect("job id");
    assert_eq!(h.cancelled_jobs(), [job_id]);
    assert!(h.github.comments()[0].body.contains("was cancelled"));
    let again = h.app.gql_admin(cancel, json!({"id": id})).await;
    assert_eq!(crate::support::error_code(&again), "CONFLICT");
    assert!(crate::support::error_message(&again).contains("already completed"));

    // Re-run it by mutation: a fresh run, submitted by a worker.
    let rerun = h
        .app
        .admin_data(
            "mutation($id: Int!) { rerunRecipeRun(id: $id) { id recipeId status } }",
            json!({"id": id}),
        )
        .await;
    let new_id = rerun["rerunRecipeRun"]["id"].as_i64().expect("id") as i32;
    assert_ne!(new_id, id);
    assert_eq!(rerun["rerunRecipeRun"]["status"], "QUEUED");
    h.app
        .wait_for_delivery(&format!("submit-{new_id}"), DeliveryState::Done, WAIT)
        .await;
    assert_eq!(run_state(&h, new_id).await["status"], "IN_PROGRESS");

    // And by command: `/rerun` makes one more.
    h.app
        .deliver(
            "issue_comment",
            "guid-rerun",
            &pr_comment(FEEDSTOCK, 2, "/rerun gpcp", "MEMBER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-rerun", DeliveryState::Done, WAIT)
        .await;
    let runs = runs_of(&h.app, feedstock.id).await;
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[2].status, RunStatus::InProgress);
    assert_eq!(h.runner_calls().len(), 3, "three submissions in all");

    // Without the admin key nothing happens.
    let anonymous = h
        .app
        .gql("mutation { rerunRecipeRun(id: 1) { id } }", json!({}))
        .await;
    assert_eq!(crate::support::error_code(&anonymous), "UNAUTHENTICATED");
    assert_eq!(runs_of(&h.app, feedstock.id).await.len(), 3);
    h.finish().await;
}

async fn a_local_bakery_job_completes_when_the_runner_exits(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (_, _, id) = running(&h, LOCAL_BAKERY, &["tiny-local"]).await;
    // The job's exit is queued as a completion task; wait until it has been processed.
    let done = pangeo_forge_orchestrator::db::DeliveryFilter {
        event: Some("pfo.complete".into()),
        state: Some(DeliveryState::Done),
        feedstock_id: None,
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.app.db().count_deliveries(&done).await.expect("count") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the local job never completed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let run = h.app.db().recipe_run(id).await.expect("q").expect("run");
    assert_eq!(run.conclusion, Some(RunConclusion::Success), "{run:?}");
    let url = run.dataset_public_url.expect("dataset url");
    assert!(url.starts_with("file://"), "{url}");
    assert!(
        url.ends_with(&format!("recipe-run-{id}/tiny-local.zarr")),
        "{url}"
    );
    assert!(
        run.logs
            .unwrap_or_default()
            .contains("Running job for recipe")
    );
    assert!(h.github.comments()[0].body.contains(":tada:"));
    h.finish().await;
}

/// The check runs named `test run: <recipe>` on `sha`.
fn test_checks(
    h: &GithubAppHarness,
    recipe: &str,
    sha: &str,
) -> Vec<crate::support::fake_github::CheckRun> {
    h.github
        .check_runs()
        .into_iter()
        .filter(|c| c.name == format!("test run: {recipe}") && c.head_sha == sha)
        .collect()
}

async fn a_run_command_gets_its_own_check_run_completed_with_the_dataset(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, sha, id) = running(&h, crate::support::github_app::BAKERY, &["gpcp"]).await;
    let checks = test_checks(&h, "gpcp", &sha);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].status, "in_progress");
    assert_eq!(checks[0].title, "Test run of `gpcp` submitted");
    let page = format!(
        "{DEFAULT_DASHBOARD_URL}/recipe-run/{id}?feedstock_id={}",
        feedstock.id
    );
    assert_eq!(checks[0].details_url.as_deref(), Some(page.as_str()));

    let reply = report(
        &h,
        &format!("action=completed&recipe_run_id={id}&conclusion=success"),
    )
    .await;
    let guid = reply.json()["delivery"].as_str().expect("guid").to_owned();
    h.app
        .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
        .await;
    let checks = test_checks(&h, "gpcp", &sha);
    assert_eq!(checks.len(), 1, "completed, not created again: {checks:?}");
    assert_eq!(
        (checks[0].status.as_str(), checks[0].conclusion.as_deref()),
        ("completed", Some("success"))
    );
    assert_eq!(checks[0].title, "Test run of `gpcp` succeeded");
    let url = format!(
        "https://ncsa.osn.xsede.org/Pangeo/pfo-test/test/{FEEDSTOCK}/recipe-run-{id}/gpcp.zarr"
    );
    assert!(
        checks[0].summary.contains(&format!("store = \"{url}\"")),
        "{}",
        checks[0].summary
    );
    // The synchronize check run is another one, untouched.
    let sync: Vec<_> = h
        .github
        .check_runs()
        .into_iter()
        .filter(|c| c.name == "synchronize")
        .collect();
    assert_eq!(sync.len(), 1);
    assert_eq!(sync[0].conclusion.as_deref(), Some("success"));
    h.finish().await;
}

async fn a_failed_test_run_completes_its_check_run_with_the_end_of_the_trace(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (_, sha, id) = running(&h, crate::support::github_app::BAKERY, &["gpcp"]).await;
    // The completion's first GitHub call fails: the retried delivery completes the check
    // run once.
    h.github.fail_next(
        "GET",
        &format!("/repos/{FEEDSTOCK}/commits/{sha}/check-runs"),
        1,
        crate::support::fake_github::Fault::Status(502),
    );
    let trace = "Traceback (most recent call last):\n  File \"recipe.py\", line 3\nValueError: no such variable: precip";
    let body = json!({
        "action": "completed",
        "recipe_run_id": id,
        "conclusion": "failure",
        "message": trace,
    })
    .to_string();
    let reply = report(&h, &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let guid = reply.json()["delivery"].as_str().expect("guid").to_owned();
    h.app
        .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
        .await;
    let checks = test_checks(&h, "gpcp", &sha);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(checks[0].title, "Test run of `gpcp` failed");
    assert!(
        checks[0]
            .summary
            .contains("ValueError: no such variable: precip"),
        "{}",
        checks[0].summary
    );
    let completions = h.github.calls_to(
        "PATCH",
        &format!("/repos/{FEEDSTOCK}/check-runs/{}", checks[0].id),
    );
    assert_eq!(completions.len(), 1, "completed once");
    h.finish().await;
}

both_engines!(
    a_run_command_gets_its_own_check_run_completed_with_the_dataset,
    a_failed_test_run_completes_its_check_run_with_the_end_of_the_trace,
    a_status_report_completes_the_run_and_comments_with_the_dataset,
    a_failed_job_keeps_masked_logs_readable_in_graphql,
    bad_status_reports_are_refused_with_the_reason_and_kept,
    a_run_past_its_bakerys_limit_times_out_once,
    rerun_and_cancel_by_mutation_and_by_command,
    a_local_bakery_job_completes_when_the_runner_exits,
);
