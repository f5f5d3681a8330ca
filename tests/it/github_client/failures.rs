//! How GitHub's failures come back: retryable (with GitHub's wait) or permanent.

use super::{REPO, setup};
use crate::support::fake_github::{FakeGithub, Fault};
use pangeo_forge_orchestrator::github::{GithubApp, GithubError};
use std::time::Duration;

#[tokio::test]
async fn a_502_is_retryable_and_the_next_call_succeeds() {
    let (fake, gh) = setup().await;
    fake.add_repository(REPO);
    fake.fail_next("GET", "/repos/", 1, Fault::Status(502));
    let err = gh.repository_exists(REPO).await.unwrap_err();
    assert!(
        matches!(err, GithubError::Server { status: 502, .. }),
        "{err}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.wait(), None);
    assert!(!err.to_string().contains("ghs_"), "no token in {err}");
    assert!(gh.repository_exists(REPO).await.unwrap());
    // The failed call did not cost a new token.
    assert_eq!(fake.tokens_minted(), 1);
}

#[tokio::test]
async fn a_secondary_rate_limit_is_retryable_after_the_wait_github_asks() {
    let (fake, gh) = setup().await;
    fake.fail_next(
        "POST",
        "/repos/",
        1,
        Fault::SecondaryRateLimit {
            retry_after_secs: 42,
        },
    );
    let err = gh.comment_on_issue(REPO, 1, "hi").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.wait(), Some(Duration::from_secs(42)));
    assert_eq!(
        err.retry_after().and_then(|r| r.wait),
        Some(Duration::from_secs(42))
    );
}

#[tokio::test]
async fn an_exhausted_rate_limit_waits_until_the_reset() {
    let (fake, gh) = setup().await;
    fake.fail_next(
        "GET",
        "/repos/",
        1,
        Fault::RateLimited { reset_in_secs: 600 },
    );
    let err = gh.pull_request(REPO, 1).await.unwrap_err();
    assert!(matches!(err, GithubError::RateLimited { .. }), "{err}");
    let wait = err.wait().expect("a wait");
    assert!(
        (Duration::from_secs(598)..=Duration::from_secs(600)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_plain_403_and_a_404_are_permanent() {
    let (fake, gh) = setup().await;
    fake.fail_next("POST", "/repos/", 1, Fault::Status(403));
    let forbidden = gh.comment_on_issue(REPO, 1, "hi").await.unwrap_err();
    assert!(!forbidden.is_retryable(), "{forbidden}");
    assert_eq!(forbidden.status(), Some(403));

    let missing = gh.pull_request(REPO, 404).await.unwrap_err();
    assert!(
        matches!(missing, GithubError::Refused { status: 404, .. }),
        "{missing}"
    );
    assert_eq!(missing.retry_after(), None);
    assert_eq!(
        missing.to_string(),
        format!("GET /repos/{REPO}/pulls/404: GitHub refused with 404: Not Found")
    );
}

#[tokio::test]
async fn a_failing_token_mint_is_classified_too() {
    let (fake, gh) = setup().await;
    fake.fail_next("POST", "/app/installations/", 1, Fault::Status(503));
    let err = gh.repository_exists(REPO).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.status(), Some(503));
    fake.add_repository(REPO);
    assert!(gh.repository_exists(REPO).await.unwrap());
}

#[tokio::test]
async fn no_answer_in_time_is_a_retryable_network_error() {
    let fake = FakeGithub::start().await;
    let app = GithubApp::with_timeout(&fake.app_config(), Duration::from_millis(300)).unwrap();
    let gh = app.installation(7).unwrap();
    gh.create_branch(REPO, "warm-up", "abc").await.unwrap();
    fake.fail_next("GET", "/repos/", 1, Fault::Delay(Duration::from_secs(3)));
    let err = gh.branch_head(REPO, "main").await.unwrap_err();
    assert!(matches!(err, GithubError::Network { .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn an_unreachable_github_is_a_retryable_network_error() {
    let fake = FakeGithub::start().await;
    let mut config = fake.app_config();
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.api_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    assert_ne!(config.api_url, fake.url());
    let gh = GithubApp::new(&config).unwrap().installation(7).unwrap();
    let err = gh.repository_exists(REPO).await.unwrap_err();
    assert!(matches!(err, GithubError::Network { .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn calls_can_be_awaited_without_sleeping() {
    let (fake, gh) = setup().await;
    let waiter = {
        let fake = fake.clone();
        tokio::spawn(async move {
            fake.wait_for_calls(
                |calls| calls.iter().any(|c| c.path.ends_with("/reactions")),
                Duration::from_secs(5),
            )
            .await
        })
    };
    gh.react_to_comment(REPO, 1, "rocket").await.unwrap();
    let calls = waiter.await.unwrap();
    assert!(calls.iter().any(|c| c.body["content"] == "rocket"));
}
