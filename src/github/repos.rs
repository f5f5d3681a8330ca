//! Repositories and branches: create a feedstock repository, branch off, clean up.

use super::http::{encode, repo_path};
use super::{GithubError, Installation};
use http::Method;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Branch {
    commit: Commit,
}

#[derive(Deserialize)]
struct Commit {
    sha: String,
}

impl Installation {
    /// Whether `repo` exists (and this installation can see it).
    pub async fn repository_exists(&self, repo: &str) -> Result<bool, GithubError> {
        let repo = repo_path(repo)?;
        let reply = self
            .send(Method::GET, &format!("/repos/{repo}"), None)
            .await?;
        if reply.status == 404 {
            return Ok(false);
        }
        reply.success()?;
        Ok(true)
    }

    /// Creates public repository `org/name` with a first commit, the Apache-2.0 licence and
    /// the Python `.gitignore`, its wiki and projects off.
    pub async fn create_org_repository(
        &self,
        org: &str,
        name: &str,
        description: &str,
    ) -> Result<(), GithubError> {
        repo_path(&format!("{org}/{name}"))?;
        let body = json!({
            "name": name,
            "description": description,
            "private": false,
            "auto_init": true,
            "license_template": "apache-2.0",
            "gitignore_template": "Python",
            "has_wiki": false,
            "has_projects": false,
        });
        self.send(Method::POST, &format!("/orgs/{org}/repos"), Some(&body))
            .await?
            .success()?;
        Ok(())
    }

    /// Sets `repo`'s homepage (its dataset page) and turns its wiki and projects off.
    pub async fn set_repository_homepage(
        &self,
        repo: &str,
        homepage: &str,
    ) -> Result<(), GithubError> {
        let path = repo_path(repo)?;
        let body = json!({ "homepage": homepage, "has_wiki": false, "has_projects": false });
        self.send(Method::PATCH, &format!("/repos/{path}"), Some(&body))
            .await?
            .success()?;
        Ok(())
    }

    /// Invites `login` to `repo` with push access. `false` when GitHub refuses the login
    /// (no such user, or one that cannot be a collaborator, such as a bot): nothing to do.
    pub async fn invite_collaborator(&self, repo: &str, login: &str) -> Result<bool, GithubError> {
        let path = repo_path(repo)?;
        let url = format!("/repos/{path}/collaborators/{}", encode(login, true));
        let reply = self
            .send(Method::PUT, &url, Some(&json!({ "permission": "push" })))
            .await?;
        if reply.status == 404 || reply.status == 422 {
            tracing::warn!(
                repo,
                login,
                status = reply.status,
                "GitHub refused the invitation"
            );
            return Ok(false);
        }
        // 201: invited; 204: already a collaborator.
        reply.success()?;
        Ok(true)
    }

    /// The sha `branch` points at, or `None` when there is no such branch.
    pub async fn branch_head(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<Option<String>, GithubError> {
        let repo = repo_path(repo)?;
        let reply = self
            .send(
                Method::GET,
                &format!("/repos/{repo}/branches/{}", encode(branch, true)),
                None,
            )
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        let branch: Branch = reply.success()?.json()?;
        Ok(Some(branch.commit.sha))
    }

    /// Creates `branch` at `sha`. A branch that already exists counts as success.
    pub async fn create_branch(
        &self,
        repo: &str,
        branch: &str,
        sha: &str,
    ) -> Result<(), GithubError> {
        let repo = repo_path(repo)?;
        let body = json!({ "ref": format!("refs/heads/{branch}"), "sha": sha });
        let reply = self
            .send(
                Method::POST,
                &format!("/repos/{repo}/git/refs"),
                Some(&body),
            )
            .await?;
        if reply.status == 422 && reply.message_contains("reference already exists") {
            tracing::debug!(repo, branch, "branch already exists");
            return Ok(());
        }
        reply.success()?;
        Ok(())
    }

    /// Deletes `branch`. A branch that does not exist counts as success.
    pub async fn delete_branch(&self, repo: &str, branch: &str) -> Result<(), GithubError> {
        let repo = repo_path(repo)?;
        let reply = self
            .send(
                Method::DELETE,
                &format!("/repos/{repo}/git/refs/heads/{}", encode(branch, true)),
                None,
            )
            .await?;
        if matches!(reply.status, 404 | 422) {
            tracing::debug!(repo, branch, status = reply.status, "branch already gone");
            return Ok(());
        }
        reply.success()?;
        Ok(())
    }
}
