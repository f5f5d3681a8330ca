//! Calls made as the App itself (JWT), not as an installation.

use super::http::{repo_path, send_with};
use super::{GithubApp, GithubError, Installation};
use http::Method;
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
        let reply = send_with(&self.inner.crab, Method::GET, &path, None, op)
            .await?
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
