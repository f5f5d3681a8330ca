//! One request helper for every GitHub call: it sends through octocrab's raw interface (so we
//! see every status and header ourselves), reads the whole answer and sorts failures into
//! [`GithubError`]s.

use super::{GithubError, Installation};
use http::{HeaderMap, Method};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A GitHub answer, read whole.
pub(crate) struct Reply {
    /// The call, as `METHOD /path`, for error messages.
    pub op: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// GitHub's `message` field, or the start of the body when there is none.
    pub fn message(&self) -> String {
        #[derive(Deserialize)]
        struct ErrorBody {
            message: String,
        }
        match serde_json::from_slice::<ErrorBody>(&self.body) {
            Ok(body) => body.message,
            Err(_) => String::from_utf8_lossy(&self.body)
                .chars()
                .take(200)
                .collect(),
        }
    }

    /// Whether GitHub's `message` contains `text` (case-insensitive).
    pub fn message_contains(&self, text: &str) -> bool {
        self.message()
            .to_ascii_lowercase()
            .contains(&text.to_ascii_lowercase())
    }

    /// The error this answer means (call only when it is not 2xx).
    pub fn into_error(self) -> GithubError {
        let message = self.message();
        GithubError::from_status(self.op, self.status, &self.headers, message)
    }

    /// Itself when 2xx, else the error it means.
    pub fn success(self) -> Result<Reply, GithubError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }

    /// The body decoded as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GithubError> {
        serde_json::from_slice(&self.body).map_err(|err| GithubError::Unexpected {
            op: self.op.clone(),
            detail: format!("the body does not fit the expected shape: {err}"),
        })
    }
}

/// Sends one request through `crab` (as the App or as an installation) and reads the whole
/// answer, whatever its status, counting the call in `/metrics`.
pub(crate) async fn send_with(
    crab: &octocrab::Octocrab,
    method: Method,
    path: &str,
    body: Option<&Value>,
    op: String,
) -> Result<Reply, GithubError> {
    let builder = http::Request::builder().method(method).uri(path);
    let request = crab
        .build_request(builder, body)
        .map_err(|err| GithubError::Invalid(format!("{op}: cannot build the request: {err}")))?;
    let response = crab.execute(request).await.map_err(|err| {
        crate::metrics::github_call(None, None);
        GithubError::from_octocrab(op.clone(), err)
    })?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let remaining = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    crate::metrics::github_call(Some(status), remaining);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|err| GithubError::Network {
            op: op.clone(),
            detail: format!("reading the answer failed: {err}"),
        })?
        .to_bytes()
        .to_vec();
    Ok(Reply {
        op,
        status,
        headers,
        body,
    })
}

impl Installation {
    /// Sends one request and reads the whole answer, whatever its status. Errors only when no
    /// answer came (network, token minting) or the request could not be built.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, GithubError> {
        let op = format!("{method} {}", strip_query(path));
        self.ensure_token(&op).await?;
        let reply = send_with(self.crab(), method, path, body, op).await?;
        tracing::debug!(installation = self.id(), op = %reply.op, status = reply.status, "GitHub call");
        Ok(reply)
    }

    /// Sends a request and decodes a 2xx answer as `T`; any other status is an error.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, GithubError> {
        self.send(method, path, body).await?.success()?.json()
    }
}

fn strip_query(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// Checks that `repo` is `owner/name` in GitHub's alphabet, and returns it for a URL path.
pub(crate) fn repo_path(repo: &str) -> Result<&str, GithubError> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if valid_part(owner) && valid_part(name) => Ok(repo),
        _ => Err(GithubError::Invalid(format!(
            "`{repo}` is not a repository name of the form owner/name"
        ))),
    }
}

/// Percent-encodes `text` for a URL path (keeping `/` when `keep_slash`) or a query value.
pub(crate) fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/');
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_are_checked() {
        assert!(repo_path("pangeo-forge/staged-recipes").is_ok());
        assert!(repo_path("a/b/c").is_err());
        assert!(repo_path("noslash").is_err());
        assert!(repo_path("o/r?x=1").is_err());
    }

    #[test]
    fn paths_and_refs_are_encoded() {
        assert_eq!(
            encode("recipes/my recipe/meta.yaml", true),
            "recipes/my%20recipe/meta.yaml"
        );
        assert_eq!(encode("feature/x", false), "feature%2Fx");
    }
}
