//! Installation tokens: minted once per installation, reused, replaced near expiry, and
//! refused when the App signs with the wrong key.

use super::{INSTALLATION, REPO, setup};
use crate::support::fake_github::{FakeGithub, WRONG_KEY_PEM};
use pangeo_forge_orchestrator::github::{ACCEPT_GITHUB_JSON, GithubApp, GithubError};
use std::time::Duration;

#[tokio::test]
async fn one_token_is_minted_per_installation_and_reused() {
    let (fake, gh) = setup().await;
    fake.add_repository(REPO);
    assert!(gh.repository_exists(REPO).await.unwrap());
    assert!(gh.repository_exists(REPO).await.unwrap());
    // Another client for the same installation shares the token.
    let again = fake.app();
    let same = again.installation(INSTALLATION).unwrap();
    same.repository_exists(REPO).await.unwrap();
    assert_eq!(fake.tokens_minted(), 2, "a new GithubApp has its own cache");
    let app = fake.app();
    app.installation(INSTALLATION)
        .unwrap()
        .repository_exists(REPO)
        .await
        .unwrap();
    app.installation(INSTALLATION)
        .unwrap()
        .repository_exists(REPO)
        .await
        .unwrap();
    assert_eq!(fake.tokens_minted(), 3);

    let calls = fake.calls();
    assert!(calls.iter().all(|c| c.installation == Some(INSTALLATION)));
    assert!(
        calls
            .iter()
            .all(|c| c.accept.as_deref() == Some(ACCEPT_GITHUB_JSON)),
        "{calls:#?}"
    );
    assert_eq!(fake.summary(), vec![format!("GET /repos/{REPO}"); 5]);
}

#[tokio::test]
async fn installations_get_their_own_tokens() {
    let fake = FakeGithub::start().await;
    fake.add_repository(REPO);
    let app = fake.app();
    app.installation(1)
        .unwrap()
        .repository_exists(REPO)
        .await
        .unwrap();
    app.installation(2)
        .unwrap()
        .repository_exists(REPO)
        .await
        .unwrap();
    let owners: Vec<_> = fake
        .calls_to("GET", "/repos/")
        .iter()
        .map(|c| c.installation)
        .collect();
    assert_eq!(owners, vec![Some(1), Some(2)]);
    assert_eq!(fake.tokens_minted(), 2);
}

#[tokio::test]
async fn a_token_close_to_expiry_is_reminted() {
    let (fake, gh) = setup().await;
    // Within the five-minute refresh margin: every call mints first.
    fake.set_token_lifetime(Duration::from_secs(4 * 60));
    gh.repository_exists(REPO).await.unwrap();
    gh.repository_exists(REPO).await.unwrap();
    assert_eq!(fake.tokens_minted(), 2);
    fake.set_token_lifetime(Duration::from_secs(3600));
    gh.repository_exists(REPO).await.unwrap();
    gh.repository_exists(REPO).await.unwrap();
    assert_eq!(fake.tokens_minted(), 3);
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_the_error_is_permanent() {
    let fake = FakeGithub::start().await;
    let app = GithubApp::new(&fake.app_config_with_key(WRONG_KEY_PEM)).unwrap();
    let err = app
        .installation(INSTALLATION)
        .unwrap()
        .repository_exists(REPO)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("access_tokens"), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    let mints = fake.calls_to("POST", "/app/installations/7/access_tokens");
    assert_eq!(mints.len(), 1);
    assert_eq!(mints[0].status, 401);
    assert!(
        fake.summary().is_empty(),
        "no call went out without a token"
    );
}

#[tokio::test]
async fn a_key_that_is_not_pem_is_a_configuration_error() {
    let fake = FakeGithub::start().await;
    let err = GithubApp::new(&fake.app_config_with_key("not a key")).unwrap_err();
    assert!(matches!(err, GithubError::Invalid(_)), "{err}");
    assert!(!err.to_string().contains("not a key"));
}
