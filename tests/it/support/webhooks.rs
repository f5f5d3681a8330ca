//! Delivering webhooks to the test app: real fixture payloads, signed as GitHub signs them.

use super::WEBHOOK_SECRET;
use super::http::{Reply, TestApp};
use axum::body::Body;
use axum::http::{Method, Request};
use pangeo_forge_orchestrator::db::entities::webhook_delivery;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::webhooks::signature::sign;
use serde_json::Value;
use std::time::Duration;

/// The `X-Hub-Signature-256` the test secret gives `body`.
pub fn signature_of(body: &[u8]) -> String {
    sign(WEBHOOK_SECRET.as_bytes(), body)
}

/// A webhook payload from `tests/fixtures/github-webhooks/<path>`.
pub fn fixture(path: &str) -> Value {
    let file = format!(
        "{}/tests/fixtures/github-webhooks/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Renames the payload's repository (fixtures are about `Codertocat/Hello-World`).
pub fn with_repository(mut payload: Value, full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').expect("owner/name");
    for repo in [
        "/repository",
        "/pull_request/base/repo",
        "/pull_request/head/repo",
    ] {
        if let Some(repo) = payload.pointer_mut(repo) {
            repo["full_name"] = full_name.into();
            repo["name"] = name.into();
            repo["html_url"] = format!("https://github.com/{full_name}").into();
            repo["owner"]["login"] = owner.into();
        }
    }
    payload
}

/// The `issue_comment` fixture as a comment on PR #`number` of `repo` (the fixtures'
/// comments are on plain issues and carry no installation).
pub fn pr_comment(repo: &str, number: u64, body: &str, association: &str) -> Value {
    let mut payload = with_repository(fixture("issue_comment/created.payload.json"), repo);
    payload["installation"] = serde_json::json!({"id": 1});
    payload["issue"]["number"] = number.into();
    payload["issue"]["pull_request"] =
        serde_json::json!({"url": format!("https://api.github.com/repos/{repo}/pulls/{number}")});
    payload["comment"]["body"] = body.into();
    payload["comment"]["author_association"] = association.into();
    payload
}

/// One request to `/github/hooks/`.
pub struct Delivery<'a> {
    pub event: Option<&'a str>,
    pub guid: Option<&'a str>,
    /// `None`: signed with the test secret.
    pub signature: Option<String>,
    pub body: Vec<u8>,
}

impl<'a> Delivery<'a> {
    /// A correctly signed delivery of `payload`.
    pub fn signed(event: &'a str, guid: &'a str, payload: &Value) -> Self {
        Delivery {
            event: Some(event),
            guid: Some(guid),
            signature: None,
            body: serde_json::to_vec(payload).expect("payload"),
        }
    }
}

impl TestApp {
    /// Sends a delivery to `/github/hooks/`.
    pub async fn post_hook(&self, delivery: Delivery<'_>) -> Reply {
        let signature = delivery
            .signature
            .unwrap_or_else(|| sign(WEBHOOK_SECRET.as_bytes(), &delivery.body));
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/github/hooks/")
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature);
        if let Some(event) = delivery.event {
            request = request.header("x-github-event", event);
        }
        if let Some(guid) = delivery.guid {
            request = request.header("x-github-delivery", guid);
        }
        self.send(request.body(Body::from(delivery.body)).expect("request"))
            .await
    }

    /// Sends a correctly signed delivery.
    pub async fn deliver(&self, event: &str, guid: &str, payload: &Value) -> Reply {
        self.post_hook(Delivery::signed(event, guid, payload)).await
    }

    /// The stored delivery with this GUID.
    pub async fn delivery(&self, guid: &str) -> webhook_delivery::Model {
        self.db()
            .delivery_by_guid(guid)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("delivery {guid} was not stored"))
    }

    /// Waits until the delivery reaches `state` (panics after `timeout`, showing where it is).
    pub async fn wait_for_delivery(
        &self,
        guid: &str,
        state: DeliveryState,
        timeout: Duration,
    ) -> webhook_delivery::Model {
        self.wait_for_delivery_where(
            guid,
            &format!("{state:?}"),
            |row| row.state == state,
            timeout,
        )
        .await
    }

    /// Waits until the delivery satisfies `done` (described by `what` in the panic).
    pub async fn wait_for_delivery_where(
        &self,
        guid: &str,
        what: &str,
        done: impl Fn(&webhook_delivery::Model) -> bool,
        timeout: Duration,
    ) -> webhook_delivery::Model {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(row)) = self.db().delivery_by_guid(guid).await
                && done(&row)
            {
                return row;
            }
            if tokio::time::Instant::now() > deadline {
                let row = self.db().delivery_by_guid(guid).await;
                panic!("delivery {guid} did not reach {what} within {timeout:?}: {row:?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
