//! `GET /feedstocks/{id}/commits/{sha}/check-runs`: the check runs GitHub holds for a commit,
//! asked as the installation and passed through, briefly cached.

use super::*;
use crate::both_engines;
use crate::support::github_app::meta_yaml;
use pangeo_forge_orchestrator::db::enums::DeliveryState;

async fn a_commits_check_runs_come_from_github_once_per_ttl(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let payload = pull_request("opened.payload.json", FEEDSTOCK);
    let sha = head_sha(&payload);
    h.github
        .set_recipe(FEEDSTOCK, "feedstock/meta.yaml", &sha, meta_yaml(&["gpcp"]));
    h.app.deliver("pull_request", "guid-opened", &payload).await;
    h.app
        .wait_for_delivery("guid-opened", DeliveryState::Done, WAIT)
        .await;

    let path = format!("/feedstocks/{}/commits/{sha}/check-runs", feedstock.id);
    let first = h.app.get(&path).await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.text());
    let body = first.json();
    assert_eq!(body["total_count"], 1, "{body}");
    assert_eq!(body["check_runs"][0]["name"], "synchronize");
    assert_eq!(body["check_runs"][0]["head_sha"], sha.as_str());
    assert_eq!(body["check_runs"][0]["conclusion"], "success");
    let again = h.app.get(&format!("{path}/")).await;
    assert_eq!(again.json(), body);
    let asked = h.github.calls_to(
        "GET",
        &format!("/repos/{FEEDSTOCK}/commits/{sha}/check-runs"),
    );
    assert_eq!(asked.len(), 1, "the second answer came from the cache");
    assert!(asked[0].installation.is_some(), "asked as the installation");

    let bad = h
        .app
        .get(&format!(
            "/feedstocks/{}/commits/not-a-sha/check-runs",
            feedstock.id
        ))
        .await;
    assert_eq!(bad.status.as_u16(), 422);
    let missing = h
        .app
        .get(&format!("/feedstocks/99999/commits/{sha}/check-runs"))
        .await;
    assert_eq!(missing.status.as_u16(), 404);
    assert!(missing.json()["detail"].is_string());
    h.finish().await;
}

async fn without_the_github_app_the_route_says_so(app: TestApp) {
    let feedstock = register(&app, FEEDSTOCK).await;
    let reply = app
        .get(&format!(
            "/feedstocks/{}/commits/{}/check-runs",
            feedstock.id,
            "a".repeat(40)
        ))
        .await;
    assert_eq!(reply.status.as_u16(), 503);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("GitHub App is not configured")
    );
}

both_engines!(
    a_commits_check_runs_come_from_github_once_per_ttl,
    without_the_github_app_the_route_says_so,
);
