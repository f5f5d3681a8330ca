//! Check runs: the status line a pull request shows for each piece of our work.

use super::http::repo_path;
use super::{GithubError, Installation};
use http::Method;
use serde::Deserialize;
use serde_json::json;

/// A check run to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckRun {
    /// The check's name (`synchronize`).
    pub name: String,
    /// The commit the check is about.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// The output's title.
    pub title: String,
    /// The output's summary (Markdown).
    pub summary: String,
    /// The page the check's "Details" link opens (our dashboard).
    pub details_url: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: u64,
}

impl Installation {
    /// Creates a check run on `repo` and returns its id.
    pub async fn create_check_run(
        &self,
        repo: &str,
        check: &NewCheckRun,
    ) -> Result<u64, GithubError> {
        let repo = repo_path(repo)?;
        let body = json!({
            "name": check.name,
            "head_sha": check.head_sha,
            "status": check.status,
            "output": { "title": check.title, "summary": check.summary },
        });
        let mut body = body;
        if let Some(url) = &check.details_url {
            body["details_url"] = json!(url);
        }
        let created: Created = self
            .call(
                Method::POST,
                &format!("/repos/{repo}/check-runs"),
                Some(&body),
            )
            .await?;
        Ok(created.id)
    }

    /// The check runs GitHub holds for commit `sha` of `repo`, as GitHub sends them
    /// (`{"total_count": …, "check_runs": […]}`): the original's route passed them through.
    pub async fn check_runs_for_commit(
        &self,
        repo: &str,
        sha: &str,
    ) -> Result<serde_json::Value, GithubError> {
        let repo = repo_path(repo)?;
        self.call(
            Method::GET,
            &format!("/repos/{repo}/commits/{sha}/check-runs"),
            None,
        )
        .await
    }

    /// Completes check run `id` with `conclusion` (`success`, `failure`, `neutral`, …) and a
    /// new output.
    pub async fn complete_check_run(
        &self,
        repo: &str,
        id: u64,
        conclusion: &str,
        title: &str,
        summary: &str,
    ) -> Result<(), GithubError> {
        let repo = repo_path(repo)?;
        let body = json!({
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "output": { "title": title, "summary": summary },
        });
        self.send(
            Method::PATCH,
            &format!("/repos/{repo}/check-runs/{id}"),
            Some(&body),
        )
        .await?
        .success()?;
        Ok(())
    }
}
