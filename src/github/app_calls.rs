//! Calls made as the App itself (JWT), not as an installation.

use super::http::{Reply, repo_path};
use super::{GithubApp, GithubError, Installation};
use http::Method;
use http_body_util::BodyExt;
use serde::Deserialize;

#[derive(Deserialize)]
struct InstallationId {
    id: u64,
}

impl GithubApp {
    /// The installation that covers `repo` (`GET /repos/{repo}/installation`), for work that
    /// no webhook names an installation for (a bakery's status report, a timeout, an admin's
    /// re-run). Looked up once per repository, then remembered.
    pub async fn installation_for_repo(&self, repo: &str) -> Result<Installation, GithubError> {
        let checked = repo_path(repo)?;
        let known = self
            .inner
            .repo_installations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(checked)
            .copied();
        if let Some(id) = known {
            return self.installation(id);
        }
        let path = format!("/repos/{checked}/installation");
        let op = format!("GET {path}");
        let crab = &self.inner.crab;
        let builder = http::Request::builder().method(Method::GET).uri(&path);
        let request = crab.build_request::<()>(builder, None).map_err(|err| {
            GithubError::Invalid(format!("{op}: cannot build the request: {err}"))
        })?;
        let response = crab
            .execute(request)
            .await
            .map_err(|err| GithubError::from_octocrab(op.clone(), err))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
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
        let reply = Reply {
            op,
            status,
            headers,
            body,
        }
        .success()?;
        let InstallationId { id } = reply.json()?;
        self.inner
            .repo_installations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(checked.to_owned(), id);
        self.installation(id)
    }
}
