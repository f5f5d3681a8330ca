//! issue_comment created on a PR → `/run` submits a test job, for writers only.

use super::*;
use crate::both_engines;
use crate::support::fake_github::FakePull;
use crate::support::github_app::{BAKERY_SECRET, PUBLIC_URL, meta_yaml};
use crate::support::webhooks::pr_comment;
use pangeo_forge_orchestrator::bakery::decode_job_name;
use pangeo_forge_orchestrator::db::enums::{DeliveryState, RunConclusion, RunStatus};
use serde_json::json;

/// A feedstock PR synchronized (test runs queued) with these recipes; returns its feedstock
/// and head sha.
async fn synchronized(h: &GithubAppHarness, recipes: &[&str]) -> (feedstock::Model, String) {
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let payload = pull_request("opened.payload.json", FEEDSTOCK);
    let sha = head_sha(&payload);
    h.github
        .set_recipe(FEEDSTOCK, "feedstock/meta.yaml", &sha, meta_yaml(recipes));
    h.github
        .add_pull(FEEDSTOCK, FakePull::open(2, "Add GPCP", "changes", &sha));
    h.app.deliver("pull_request", "guid-opened", &payload).await;
    h.app
        .wait_for_delivery("guid-opened", DeliveryState::Done, WAIT)
        .await;
    (feedstock, sha)
}

fn reactions(h: &GithubAppHarness) -> Vec<String> {
    h.github
        .reactions()
        .into_iter()
        .map(|r| r.content)
        .collect()
}

async fn run_by_a_collaborator_submits_a_pruned_test_job(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, sha) = synchronized(&h, &["gpcp-daily", "gpcp-monthly"]).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-run",
            &pr_comment(FEEDSTOCK, 2, "/run gpcp-daily", "COLLABORATOR"),
        )
        .await;
    let delivery = h
        .app
        .wait_for_delivery("guid-run", DeliveryState::Done, WAIT)
        .await;
    assert_eq!(reactions(&h), ["eyes", "rocket"]);
    assert!(h.github.comments().is_empty(), "{:?}", h.github.comments());

    let runs = runs_of(&h.app, feedstock.id).await;
    let run = runs
        .iter()
        .find(|r| r.recipe_id == "gpcp-daily")
        .expect("run");
    assert_eq!(run.status, RunStatus::InProgress);
    let job_id = run.job_id.clone().expect("job id stored");
    assert!(job_id.starts_with("fake-job-"), "{job_id}");
    let job_name = run.job_name.clone().expect("job name stored");
    assert_eq!(
        decode_job_name(&job_name).expect("decodes"),
        ("pfo.example.org".to_owned(), run.id),
        "the job name tells the monitor where to report ({PUBLIC_URL})"
    );
    let other = runs
        .iter()
        .find(|r| r.recipe_id == "gpcp-monthly")
        .expect("run");
    assert_eq!(
        other.status,
        RunStatus::Queued,
        "only the named recipe runs"
    );
    assert!(delivery.note.unwrap_or_default().contains(&job_id));

    let calls = h.runner_calls();
    assert_eq!(calls.len(), 1);
    let argv: Vec<&str> = calls[0]["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|a| a.as_str().expect("arg"))
        .collect();
    for expected in [
        "bake".to_owned(),
        format!("--repo=https://github.com/{FEEDSTOCK}"),
        format!("--ref={sha}"),
        "--json".to_owned(),
        "--prune".to_owned(),
        "--Bake.recipe_id=gpcp-daily".to_owned(),
        format!("--Bake.job_name={job_name}"),
    ] {
        assert!(
            argv.contains(&expected.as_str()),
            "{expected} missing from {argv:?}"
        );
    }
    let root = &calls[0]["config"]["TargetStorage"]["root_path"];
    assert_eq!(
        root,
        &json!(format!(
            "Pangeo/pfo-test/test/{FEEDSTOCK}/recipe-run-{}/gpcp-daily.zarr",
            run.id
        ))
    );
    h.finish().await;
}

async fn run_by_someone_without_write_access_submits_nothing(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, _) = synchronized(&h, &["gpcp-daily"]).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-stranger",
            &pr_comment(FEEDSTOCK, 2, "/run gpcp-daily", "CONTRIBUTOR"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-stranger", DeliveryState::Done, WAIT)
        .await;
    assert_eq!(reactions(&h), ["eyes"]);
    let comments = h.github.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("only people with write access"),
        "{}",
        comments[0].body
    );
    assert!(comments[0].body.contains("`CONTRIBUTOR`"));
    assert!(h.runner_calls().is_empty());
    assert_eq!(
        runs_of(&h.app, feedstock.id).await[0].status,
        RunStatus::Queued
    );
    h.finish().await;
}

async fn unknown_commands_and_recipes_get_a_reply_listing_what_exists(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    synchronized(&h, &["gpcp-daily", "gpcp-monthly"]).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-deploy",
            &pr_comment(FEEDSTOCK, 2, "/deploy now", "OWNER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-deploy", DeliveryState::Done, WAIT)
        .await;
    h.app
        .deliver(
            "issue_comment",
            "guid-typo",
            &pr_comment(FEEDSTOCK, 2, "/run gpcp-dialy", "OWNER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-typo", DeliveryState::Done, WAIT)
        .await;
    h.app
        .deliver(
            "issue_comment",
            "guid-chat",
            &pr_comment(FEEDSTOCK, 2, "Thanks, looks good!", "OWNER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-chat", DeliveryState::Ignored, WAIT)
        .await;

    let bodies: Vec<String> = h.github.comments().into_iter().map(|c| c.body).collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(
        bodies[0].contains("`/deploy` is not a command"),
        "{}",
        bodies[0]
    );
    assert!(bodies[0].contains("`/run <recipe_id>`"), "{}", bodies[0]);
    assert!(
        bodies[1].contains("no recipe `gpcp-dialy`"),
        "{}",
        bodies[1]
    );
    assert!(
        bodies[1].contains("`gpcp-daily`, `gpcp-monthly`"),
        "{}",
        bodies[1]
    );
    assert_eq!(
        reactions(&h),
        ["eyes", "eyes"],
        "plain comments get no reaction"
    );
    assert!(h.runner_calls().is_empty());
    h.finish().await;
}

async fn a_failed_submission_fails_the_run_and_keeps_the_masked_trace(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, _) = synchronized(&h, &["recipe-that-fails"]).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-fails",
            &pr_comment(FEEDSTOCK, 2, "/run recipe-that-fails", "MEMBER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-fails", DeliveryState::Done, WAIT)
        .await;
    assert_eq!(reactions(&h), ["eyes", "rocket", "confused"]);
    let run = runs_of(&h.app, feedstock.id).await.remove(0);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.conclusion, Some(RunConclusion::Failure));
    let trace = run.error_trace.expect("trace kept");
    assert!(trace.contains("Traceback"), "{trace}");
    assert!(
        !trace.contains(BAKERY_SECRET),
        "the bakery secret leaked: {trace}"
    );
    let comments = h.github.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("could not be submitted"),
        "{}",
        comments[0].body
    );
    assert!(!comments[0].body.contains(BAKERY_SECRET));
    h.finish().await;
}

async fn a_failed_run_masks_the_servers_own_secrets(app: TestApp) {
    use crate::support::fake_github::TEST_KEY_PEM;
    use crate::support::{ADMIN_KEY, WEBHOOK_SECRET};
    let h = GithubAppHarness::start(app).await;
    let (feedstock, _) = synchronized(&h, &["recipe-leaks"]).await;
    // A JWT as the server makes them (signed with the App's key) and an installation token
    // as the fake GitHub mints them.
    let now = chrono::Utc::now().timestamp();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"iat": now - 60, "exp": now + 540, "iss": "1"}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(TEST_KEY_PEM.as_bytes()).expect("key"),
    )
    .expect("jwt");
    let token = "ghs_fake_1_00000000000000000042";
    let key_line = TEST_KEY_PEM
        .lines()
        .nth(3)
        .expect("a line inside the key")
        .to_owned();
    let leaked = [
        ("the webhook secret", WEBHOOK_SECRET.to_owned()),
        ("an admin key", ADMIN_KEY.to_owned()),
        ("a line of the App's private key", key_line),
        ("an installation token", token.to_owned()),
        ("a JWT", jwt),
    ];
    h.leak(
        &leaked
            .iter()
            .map(|(what, value)| format!("{what}={value}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    h.app
        .deliver(
            "issue_comment",
            "guid-leaks",
            &pr_comment(FEEDSTOCK, 2, "/run recipe-leaks", "MEMBER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-leaks", DeliveryState::Done, WAIT)
        .await;
    let run = runs_of(&h.app, feedstock.id).await.remove(0);
    assert_eq!(run.conclusion, Some(RunConclusion::Failure));
    let trace = run.error_trace.clone().expect("trace kept");
    let logs = run.logs.clone().unwrap_or_default();
    let comments = h.github.comments();
    assert_eq!(comments.len(), 1);
    assert!(trace.contains("the webhook secret=***"), "{trace}");
    for (what, value) in &leaked {
        for (place, text) in [
            ("trace", &trace),
            ("logs", &logs),
            ("comment", &comments[0].body),
        ] {
            assert!(
                !text.contains(value.as_str()),
                "{what} leaked into the {place}: {text}"
            );
        }
    }
    h.finish().await;
}

async fn a_recipe_id_with_spaces_runs_as_written_and_stores_encoded(app: TestApp) {
    // A real staged-recipes id, which the original accepted.
    let id = "AWS NOAA Ocean Nearsurface Atmos Profiles";
    let h = GithubAppHarness::start(app).await;
    let (feedstock, _) = synchronized(&h, &[id]).await;
    assert_eq!(
        h.github.check_runs()[0].conclusion.as_deref(),
        Some("success")
    );
    h.app
        .deliver(
            "issue_comment",
            "guid-spaces",
            &pr_comment(FEEDSTOCK, 2, &format!("/run \"{id}\""), "MEMBER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-spaces", DeliveryState::Done, WAIT)
        .await;
    let run = runs_of(&h.app, feedstock.id).await.remove(0);
    assert_eq!(run.recipe_id, id, "stored exactly as written");
    assert_eq!(run.status, RunStatus::InProgress);
    let calls = h.runner_calls();
    let argv: Vec<&str> = calls[0]["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    let expected = format!("--Bake.recipe_id={id}");
    assert!(argv.contains(&expected.as_str()), "one argument: {argv:?}");
    let root = calls[0]["config"]["TargetStorage"]["root_path"]
        .as_str()
        .expect("root_path");
    assert!(
        root.ends_with("/AWS%20NOAA%20Ocean%20Nearsurface%20Atmos%20Profiles.zarr"),
        "{root}"
    );
    h.finish().await;
}

async fn a_hanging_runner_is_killed_at_the_timeout_and_the_run_fails(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let (feedstock, _) = synchronized(&h, &["recipe-hangs"]).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-hangs",
            &pr_comment(FEEDSTOCK, 2, "/run recipe-hangs", "OWNER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-hangs", DeliveryState::Done, WAIT)
        .await;
    let run = runs_of(&h.app, feedstock.id).await.remove(0);
    assert_eq!(run.conclusion, Some(RunConclusion::Failure));
    let trace = run.error_trace.expect("reason kept");
    assert!(trace.contains("did not finish within 3 s"), "{trace}");
    assert_eq!(reactions(&h), ["eyes", "rocket", "confused"]);
    h.finish().await;
}

both_engines!(
    a_recipe_id_with_spaces_runs_as_written_and_stores_encoded,
    a_failed_run_masks_the_servers_own_secrets,
    run_by_a_collaborator_submits_a_pruned_test_job,
    run_by_someone_without_write_access_submits_nothing,
    unknown_commands_and_recipes_get_a_reply_listing_what_exists,
    a_failed_submission_fails_the_run_and_keeps_the_masked_trace,
    a_hanging_runner_is_killed_at_the_timeout_and_the_run_fails,
);

/// A crash after the job was submitted but before the delivery was marked done: the
/// delivery is taken up again, sees its own submission, and neither submits again nor
/// tells the contributor the run is "already" running.
async fn a_run_command_taken_up_again_after_a_crash_does_not_resubmit(app: TestApp) {
    use sea_orm::ConnectionTrait;
    let h = GithubAppHarness::start(app).await;
    synchronized(&h, &["gpcp"]).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-run-once",
            &pr_comment(FEEDSTOCK, 2, "/run gpcp", "OWNER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-run-once", DeliveryState::Done, WAIT)
        .await;
    // The state a process killed at that moment leaves: still claimed, lease run out.
    let expired = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    h.app
        .db()
        .connection()
        .execute_unprepared(&format!(
            "UPDATE webhook_delivery SET state = 'processing', claimed_until = '{expired}' \
             WHERE guid = 'guid-run-once'"
        ))
        .await
        .expect("simulate the crash");
    h.app.queue.notify_waiters();
    let row = h
        .app
        .wait_for_delivery_where(
            "guid-run-once",
            "done again",
            |row| row.state == DeliveryState::Done && row.attempts == 2,
            WAIT,
        )
        .await;
    assert!(
        row.note.unwrap_or_default().contains("before a restart"),
        "the second attempt saw its own submission"
    );
    assert_eq!(h.runner_calls().len(), 1, "submitted once");
    assert!(h.github.comments().is_empty(), "{:?}", h.github.comments());
    assert_eq!(reactions(&h), ["eyes", "rocket"]);
    h.finish().await;
}

both_engines!(a_run_command_taken_up_again_after_a_crash_does_not_resubmit);
