//! Two server processes (the real binary) on one PostgreSQL: they share the durable queue,
//! take up work queued before they started, and do each delivery exactly once.

use crate::support::fake_github::FakeGithub;
use crate::support::github_app::{meta_yaml, register_feedstock_and_bakery, serve_binary};
use crate::support::process::{Server, http_with};
use crate::support::webhooks::{fixture, with_repository};
use crate::support::{Engine, TestApp, WEBHOOK_SECRET};
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::webhooks::signature::sign;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const FEEDSTOCK: &str = "pangeo-forge/gpcp-feedstock";
const QUEUED_BEFORE_START: usize = 8;
const BURST: usize = 16;

fn replica(url: &str, github: &FakeGithub, dir: &Path) -> Server {
    serve_binary(url, github, dir, &[("PFO_WORKERS", "3")])
}

/// A pull_request delivery for a commit of its own, with its meta.yaml in the fake.
fn delivery(github: &FakeGithub, n: usize) -> (String, Vec<u8>) {
    let sha = format!("{n:040x}");
    github.set_recipe(FEEDSTOCK, "feedstock/meta.yaml", &sha, meta_yaml(&["gpcp"]));
    let mut payload = with_repository(fixture("pull_request/opened.payload.json"), FEEDSTOCK);
    payload["pull_request"]["head"]["sha"] = sha.into();
    (
        format!("guid-replica-{n}"),
        serde_json::to_vec(&payload).expect("json"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_the_queue_and_do_each_delivery_once() {
    let app = TestApp::start(Engine::Postgres).await;
    let github = FakeGithub::start().await;
    register_feedstock_and_bakery(&app, FEEDSTOCK).await;

    // Accepted while no worker ran (the server died right after answering).
    for n in 0..QUEUED_BEFORE_START {
        let (guid, body) = delivery(&github, n);
        let payload: serde_json::Value = serde_json::from_slice(&body).expect("json");
        app.deliver("pull_request", &guid, &payload).await;
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.test_db.url.clone();
    let replicas = [
        replica(&url, &github, dir.path()),
        replica(&url, &github, dir.path()),
    ];
    let addresses: Vec<String> = replicas.iter().map(|r| r.address.clone()).collect();
    let burst: Vec<(String, Vec<u8>)> = (QUEUED_BEFORE_START..QUEUED_BEFORE_START + BURST)
        .map(|n| delivery(&github, n))
        .collect();
    tokio::task::spawn_blocking(move || {
        for (i, (guid, body)) in burst.iter().enumerate() {
            let signature = sign(WEBHOOK_SECRET.as_bytes(), body);
            let text = String::from_utf8(body.clone()).expect("utf-8");
            let (status, reply) = http_with(
                &addresses[i % 2],
                "POST",
                "/github/hooks/",
                &text,
                "application/json",
                &[
                    ("X-GitHub-Event", "pull_request"),
                    ("X-GitHub-Delivery", guid),
                    ("X-Hub-Signature-256", &signature),
                ],
            );
            assert_eq!(status, 202, "{reply}");
        }
    })
    .await
    .expect("burst");

    let mut workers = BTreeSet::new();
    for n in 0..QUEUED_BEFORE_START + BURST {
        let row = app
            .wait_for_delivery(
                &format!("guid-replica-{n}"),
                DeliveryState::Done,
                Duration::from_secs(60),
            )
            .await;
        assert_eq!(row.attempts, 1, "delivery {n} was claimed twice");
        let worker = row.claimed_by.expect("claimed");
        // `pfo-<pid>-<nonce>-<n>`: the process is all but the worker number.
        workers.insert(worker.rsplit_once('-').expect("worker name").0.to_owned());
    }
    drop(replicas);
    let checks = github.check_runs();
    assert_eq!(
        checks.len(),
        QUEUED_BEFORE_START + BURST,
        "one check run per delivery"
    );
    let shas: BTreeSet<&str> = checks.iter().map(|c| c.head_sha.as_str()).collect();
    assert_eq!(shas.len(), QUEUED_BEFORE_START + BURST, "no commit twice");
    assert!(
        checks
            .iter()
            .all(|c| c.conclusion.as_deref() == Some("success")),
        "{checks:?}"
    );
    assert_eq!(workers.len(), 2, "both replicas took work: {workers:?}");
    app.finish().await;
}

/// `GET path` on `address` with `If-None-Match: tag` (when given): status, ETag, body.
fn conditional_get(address: &str, path: &str, tag: Option<&str>) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let condition = tag
        .map(|t| format!("If-None-Match: {t}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n{condition}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response[9..12].parse().expect("status");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let etag = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (status, etag, body.to_owned())
}

/// The tag of `path` on `address` once it holds: a replica tags nothing until its listener
/// is LISTENing, and the notices of earlier writes arrive a moment after their commits.
fn settled_tag(address: &str, path: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut tag = String::new();
    loop {
        let (status, etag, body) = conditional_get(
            address,
            path,
            Some(&tag).filter(|t| !t.is_empty()).map(String::as_str),
        );
        if status == 304 {
            return tag;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "{path}: no tag holds on {address}"
        );
        tag = etag;
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asks `address` with `tag` until the answer is full (at most 10 s); returns it.
fn until_full(address: &str, path: &str, tag: &str) -> (u16, String, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = conditional_get(address, path, Some(tag));
        if answer.0 != 304 || std::time::Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn a_replica_answers_in_full_once_another_writers_change_reached_it() {
    let app = TestApp::start(Engine::Postgres).await;
    let github = FakeGithub::start().await;
    register_feedstock_and_bakery(&app, FEEDSTOCK).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.test_db.url.clone();
    let replicas = [
        replica(&url, &github, dir.path()),
        replica(&url, &github, dir.path()),
    ];
    let (a, b) = (replicas[0].address.clone(), replicas[1].address.clone());
    let a2 = a.clone();
    let tag = tokio::task::spawn_blocking(move || {
        let tag = settled_tag(&a2, "/feedstocks/");
        assert!(tag.starts_with("W/"), "{tag:?}");
        tag
    })
    .await
    .expect("first read");

    // Replica B writes: A hears of it and answers in full with the new row.
    let (a2, b2, tag2) = (a.clone(), b.clone(), tag.clone());
    let tag = tokio::task::spawn_blocking(move || {
        let body = r#"{"spec": "pangeo-forge/written-on-b-feedstock"}"#;
        let (status, reply) = http_with(
            &b2,
            "POST",
            "/feedstocks/",
            body,
            "application/json",
            &[("X-API-Key", crate::support::ADMIN_KEY)],
        );
        assert!(status == 200 || status == 201, "{status}: {reply}");
        let (status, tag, body) = until_full(&a2, "/feedstocks/", &tag2);
        assert_eq!(status, 200, "A answered 304 after B's change: {body}");
        assert!(body.contains("written-on-b-feedstock"), "{body}");
        assert_ne!(tag, tag2);
        settled_tag(&a2, "/feedstocks/")
    })
    .await
    .expect("write on B");

    // A writer that is neither replica (a script, psql): the tables' own triggers tell A.
    app.db()
        .create_feedstock(pangeo_forge_orchestrator::db::NewFeedstock {
            spec: "pangeo-forge/written-by-a-script-feedstock".into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    let a2 = a.clone();
    tokio::task::spawn_blocking(move || {
        let (status, _, body) = until_full(&a2, "/feedstocks/", &tag);
        assert_eq!(status, 200, "A answered 304 after a script's change");
        assert!(body.contains("written-by-a-script-feedstock"), "{body}");
    })
    .await
    .expect("script write");
    drop(replicas);
    app.finish().await;
}
