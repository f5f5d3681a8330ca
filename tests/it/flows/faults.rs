//! GitHub failing: passing failures are retried (honouring GitHub's wait), the rest end the
//! delivery as `failed` with the error kept; nothing is lost either way.

use super::*;
use crate::both_engines;
use crate::support::fake_github::Fault;
use crate::support::github_app::meta_yaml;
use pangeo_forge_orchestrator::db::enums::DeliveryState;

/// A synchronize delivery on a registered feedstock whose meta.yaml is in place.
async fn prepared(h: &GithubAppHarness) -> serde_json::Value {
    register(&h.app, FEEDSTOCK).await;
    let payload = pull_request("opened.payload.json", FEEDSTOCK);
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        &head_sha(&payload),
        meta_yaml(&["gpcp"]),
    );
    payload
}

async fn a_github_502_is_retried_and_then_succeeds(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = prepared(&h).await;
    h.github.fail_next(
        "GET",
        &format!("/repos/{FEEDSTOCK}/contents/"),
        1,
        Fault::Status(502),
    );
    h.app.deliver("pull_request", "guid-502", &payload).await;
    let row = h
        .app
        .wait_for_delivery("guid-502", DeliveryState::Done, WAIT)
        .await;
    assert_eq!(row.attempts, 2);
    assert!(row.last_error.unwrap_or_default().contains("502"));
    let checks = h.github.check_runs();
    assert_eq!(
        checks.len(),
        1,
        "the check run was created once: {checks:?}"
    );
    assert_eq!(checks[0].conclusion.as_deref(), Some("success"));
    h.finish().await;
}

async fn a_secondary_rate_limit_waits_as_long_as_github_says(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = prepared(&h).await;
    h.github.fail_next(
        "POST",
        &format!("/repos/{FEEDSTOCK}/check-runs"),
        1,
        Fault::SecondaryRateLimit {
            retry_after_secs: 3,
        },
    );
    h.app
        .deliver("pull_request", "guid-limited", &payload)
        .await;
    let waiting = h
        .app
        .wait_for_delivery_where(
            "guid-limited",
            "queued again after an attempt",
            |row| row.state == DeliveryState::Queued && row.attempts == 1,
            WAIT,
        )
        .await;
    let error = waiting.last_error.clone().unwrap_or_default();
    assert!(error.contains("rate limit"), "{error}");
    let wait = waiting.next_attempt_at - waiting.updated_at;
    assert!(
        wait >= chrono::Duration::milliseconds(2900),
        "retried after {wait:?}, before GitHub's Retry-After of 3 s"
    );
    let done = h
        .app
        .wait_for_delivery("guid-limited", DeliveryState::Done, WAIT)
        .await;
    assert_eq!(done.attempts, 2);
    h.finish().await;
}

async fn a_github_4xx_fails_the_delivery_for_good_with_the_error(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = prepared(&h).await;
    h.github.fail_next(
        "POST",
        &format!("/repos/{FEEDSTOCK}/check-runs"),
        1,
        Fault::Status(422),
    );
    h.app.deliver("pull_request", "guid-422", &payload).await;
    let row = h
        .app
        .wait_for_delivery("guid-422", DeliveryState::Failed, WAIT)
        .await;
    assert_eq!(row.attempts, 1, "a 4xx is not retried");
    let error = row.last_error.expect("error kept");
    assert!(error.contains("creating the check run"), "{error}");
    assert!(error.contains("422"), "{error}");

    // GitHub's manual "Redeliver" runs it again, and now it passes.
    let reply = h.app.deliver("pull_request", "guid-422", &payload).await;
    assert_eq!(reply.status, axum::http::StatusCode::ACCEPTED);
    h.app
        .wait_for_delivery("guid-422", DeliveryState::Done, WAIT)
        .await;
    h.finish().await;
}

async fn a_flow_failing_for_good_after_the_check_run_completes_it_as_failure(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = prepared(&h).await;
    h.github.fail_next(
        "GET",
        &format!("/repos/{FEEDSTOCK}/contents/"),
        1,
        Fault::Status(403),
    );
    h.app.deliver("pull_request", "guid-403", &payload).await;
    h.app
        .wait_for_delivery("guid-403", DeliveryState::Failed, WAIT)
        .await;
    let checks = h.github.check_runs();
    assert_eq!(checks[0].conclusion.as_deref(), Some("failure"));
    assert!(
        checks[0].summary.contains("guid-403"),
        "{}",
        checks[0].summary
    );
    h.finish().await;
}

both_engines!(
    a_github_502_is_retried_and_then_succeeds,
    a_secondary_rate_limit_waits_as_long_as_github_says,
    a_github_4xx_fails_the_delivery_for_good_with_the_error,
    a_flow_failing_for_good_after_the_check_run_completes_it_as_failure,
);

async fn bursts_of_5xx_and_slow_answers_still_end_done_creating_once(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let payload = prepared(&h).await;
    let repo = format!("/repos/{FEEDSTOCK}");
    h.github.fail_next(
        "POST",
        &format!("{repo}/check-runs"),
        1,
        Fault::Delay(std::time::Duration::from_millis(1500)),
    );
    h.github
        .fail_next("GET", &format!("{repo}/contents/"), 2, Fault::Status(502));
    h.github.fail_next(
        "PATCH",
        &format!("{repo}/check-runs"),
        1,
        Fault::Status(500),
    );
    h.github.fail_next(
        "PATCH",
        &format!("{repo}/check-runs"),
        1,
        Fault::Delay(std::time::Duration::from_millis(1500)),
    );
    h.app.deliver("pull_request", "guid-burst", &payload).await;
    let row = h
        .app
        .wait_for_delivery(
            "guid-burst",
            DeliveryState::Done,
            std::time::Duration::from_secs(60),
        )
        .await;
    assert!(row.attempts >= 3, "{row:?}");
    let checks = h.github.check_runs();
    assert_eq!(
        checks.len(),
        1,
        "one check run whatever the retries: {checks:?}"
    );
    assert_eq!(checks[0].conclusion.as_deref(), Some("success"));
    h.finish().await;
}

both_engines!(bursts_of_5xx_and_slow_answers_still_end_done_creating_once);
