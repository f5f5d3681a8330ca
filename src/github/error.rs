//! The errors GitHub calls return, sorted by what a caller does about them: wait and retry
//! ([`GithubError::is_retryable`]), or give up and report.
//!
//! Messages name the call (`GET /repos/o/r/pulls/1`) and GitHub's own `message`; they never
//! contain a token or the App's private key.

use http::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What went wrong in a GitHub call.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// GitHub is limiting our request rate (429, or 403 with a rate-limit sign). Retryable.
    #[error("{op}: rate limited by GitHub ({status}): {message}")]
    RateLimited {
        /// The call, as `METHOD /path`.
        op: String,
        /// 403 or 429.
        status: u16,
        /// GitHub's `message`.
        message: String,
        /// How long GitHub asked us to wait (`Retry-After` or `x-ratelimit-reset`).
        wait: Option<Duration>,
    },
    /// GitHub failed (5xx). Retryable.
    #[error("{op}: GitHub server error {status}: {message}")]
    Server {
        /// The call, as `METHOD /path`.
        op: String,
        /// A 5xx status.
        status: u16,
        /// GitHub's `message`, or the start of the body.
        message: String,
        /// `Retry-After`, when GitHub sent one.
        wait: Option<Duration>,
    },
    /// GitHub could not be reached or did not answer in time. Retryable.
    #[error("{op}: could not reach GitHub: {detail}")]
    Network {
        /// The call, as `METHOD /path`.
        op: String,
        /// What the transport said.
        detail: String,
    },
    /// GitHub refused the request (400, 401, 404, 422, …). Permanent: retrying does not help.
    #[error("{op}: GitHub refused with {status}: {message}")]
    Refused {
        /// The call, as `METHOD /path`.
        op: String,
        /// A 4xx status.
        status: u16,
        /// GitHub's `message`.
        message: String,
    },
    /// GitHub answered something we could not read. Permanent.
    #[error("{op}: unexpected answer from GitHub: {detail}")]
    Unexpected {
        /// The call, as `METHOD /path`.
        op: String,
        /// What did not fit.
        detail: String,
    },
    /// Our own input or configuration is unusable (bad private key, bad repository name).
    /// Permanent.
    #[error("GitHub client: {0}")]
    Invalid(String),
}

/// Advice to try a failed call again, after `wait` when GitHub said how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// How long to wait first; `None` when GitHub did not say (the caller picks a backoff).
    pub wait: Option<Duration>,
}

impl GithubError {
    /// `Some` when trying again later may succeed, with the wait GitHub asked for.
    pub fn retry_after(&self) -> Option<Retry> {
        match self {
            GithubError::RateLimited { wait, .. } | GithubError::Server { wait, .. } => {
                Some(Retry { wait: *wait })
            }
            GithubError::Network { .. } => Some(Retry { wait: None }),
            GithubError::Refused { .. }
            | GithubError::Unexpected { .. }
            | GithubError::Invalid(_) => None,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retry_after().is_some()
    }

    /// The HTTP status GitHub answered, when it answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::RateLimited { status, .. }
            | GithubError::Server { status, .. }
            | GithubError::Refused { status, .. } => Some(*status),
            GithubError::Network { .. }
            | GithubError::Unexpected { .. }
            | GithubError::Invalid(_) => None,
        }
    }

    /// How long GitHub asked us to wait before retrying, when it said.
    pub fn wait(&self) -> Option<Duration> {
        self.retry_after().and_then(|retry| retry.wait)
    }

    /// Sorts an error answer (status outside 2xx) into retryable or permanent.
    pub(crate) fn from_status(
        op: String,
        status: u16,
        headers: &HeaderMap,
        message: String,
    ) -> Self {
        let remaining_zero = header(headers, "x-ratelimit-remaining").as_deref() == Some("0");
        let secondary = message
            .to_ascii_lowercase()
            .contains("secondary rate limit");
        let wait = retry_after(headers).or_else(|| reset_wait(headers));
        match status {
            429 => GithubError::RateLimited {
                op,
                status,
                message,
                wait,
            },
            403 if secondary || remaining_zero => GithubError::RateLimited {
                op,
                status,
                message,
                wait,
            },
            500..=599 => GithubError::Server {
                op,
                status,
                message,
                wait: retry_after(headers),
            },
            _ => GithubError::Refused {
                op,
                status,
                message,
            },
        }
    }

    /// Sorts an error from octocrab itself (token minting, transport).
    pub(crate) fn from_octocrab(op: String, err: octocrab::Error) -> Self {
        match err {
            octocrab::Error::GitHub { source, .. } => {
                let empty = HeaderMap::new();
                let headers = source.headers.as_ref().unwrap_or(&empty);
                GithubError::from_status(
                    op,
                    source.status_code.as_u16(),
                    headers,
                    source.message.clone(),
                )
            }
            octocrab::Error::Service { .. } | octocrab::Error::Hyper { .. } => {
                GithubError::Network {
                    op,
                    detail: err.to_string(),
                }
            }
            octocrab::Error::JWT { source, .. } => {
                GithubError::Invalid(format!("{op}: could not sign the App's JWT: {source}"))
            }
            other => GithubError::Unexpected {
                op,
                detail: first_line(&other.to_string()),
            },
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned())
}

/// `Retry-After: <seconds>` (GitHub never sends the HTTP-date form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header(headers, "retry-after")?
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// `x-ratelimit-reset: <epoch seconds>`, as a wait from now (zero when already past).
fn reset_wait(headers: &HeaderMap) -> Option<Duration> {
    let reset = header(headers, "x-ratelimit-reset")?.parse::<u64>().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

/// octocrab's messages for some variants append a backtrace after the first line.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn classify(status: u16, headers: &[(&'static str, &str)], message: &str) -> GithubError {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.insert(*name, value);
            }
        }
        GithubError::from_status("GET /x".into(), status, &map, message.into())
    }

    #[test]
    fn github_statuses_sort_into_retryable_and_permanent() {
        assert!(classify(502, &[], "Bad Gateway").is_retryable());
        assert!(classify(429, &[], "slow down").is_retryable());
        let secondary = classify(
            403,
            &[("retry-after", "30")],
            "You have exceeded a secondary rate limit",
        );
        assert_eq!(secondary.wait(), Some(Duration::from_secs(30)));
        assert!(classify(403, &[("x-ratelimit-remaining", "0")], "API rate limit").is_retryable());
        assert!(!classify(403, &[], "Resource not accessible by integration").is_retryable());
        let not_found = classify(404, &[], "Not Found");
        assert!(!not_found.is_retryable());
        assert_eq!(not_found.status(), Some(404));
        assert_eq!(
            not_found.to_string(),
            "GET /x: GitHub refused with 404: Not Found"
        );
    }

    #[test]
    fn a_past_reset_means_no_wait() {
        let err = classify(429, &[("x-ratelimit-reset", "1")], "limit");
        assert_eq!(err.wait(), Some(Duration::ZERO));
    }
}
