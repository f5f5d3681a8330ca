//! Deployments: one per production recipe run, with statuses that link to its dashboard page.

use super::http::repo_path;
use super::{GithubError, Installation};
use http::Method;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Created {
    id: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

impl Installation {
    /// Creates a deployment of `git_ref` to `environment` and returns its id. No status checks
    /// are required and the base branch is not merged in.
    pub async fn create_deployment(
        &self,
        repo: &str,
        git_ref: &str,
        environment: &str,
        description: &str,
    ) -> Result<i64, GithubError> {
        let repo = repo_path(repo)?;
        let body = json!({
            "ref": git_ref,
            "environment": environment,
            "description": description,
            "auto_merge": false,
            "required_contexts": [],
        });
        let reply = self
            .send(
                Method::POST,
                &format!("/repos/{repo}/deployments"),
                Some(&body),
            )
            .await?
            .success()?;
        let created: Created = reply.json()?;
        // A 202 answer (a merge happened instead) carries only a message.
        created.id.ok_or_else(|| GithubError::Unexpected {
            op: reply.op.clone(),
            detail: format!(
                "no deployment was created: {}",
                created.message.unwrap_or_default()
            ),
        })
    }

    /// Posts a status (`in_progress`, `success`, `failure`, …) to deployment `deployment_id`,
    /// with a link to `environment_url` when given.
    pub async fn create_deployment_status(
        &self,
        repo: &str,
        deployment_id: i64,
        state: &str,
        environment_url: Option<&str>,
        description: &str,
    ) -> Result<(), GithubError> {
        let repo = repo_path(repo)?;
        let mut body = json!({ "state": state, "description": description });
        if let Some(url) = environment_url {
            body["environment_url"] = json!(url);
        }
        self.send(
            Method::POST,
            &format!("/repos/{repo}/deployments/{deployment_id}/statuses"),
            Some(&body),
        )
        .await?
        .success()?;
        Ok(())
    }
}
