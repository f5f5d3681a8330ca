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

/// GitHub takes at most this many annotations in one request; more go in further updates,
/// which GitHub appends.
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;

/// A problem on lines of a file, shown beside them in the PR (`output.annotations`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Annotation {
    /// The file, from the repository's root.
    pub path: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// First column; GitHub takes columns only when the annotation is on one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    /// Last column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
    /// `failure`, `warning` or `notice`.
    pub annotation_level: &'static str,
    /// A short title.
    pub title: String,
    /// What is wrong and how to fix it.
    pub message: String,
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

    /// The newest check run named `name` on commit `sha` of `repo` that is not completed,
    /// if any: how a later delivery finds the check run an earlier one created.
    pub async fn open_check_run_named(
        &self,
        repo: &str,
        sha: &str,
        name: &str,
    ) -> Result<Option<u64>, GithubError> {
        #[derive(Deserialize)]
        struct Listed {
            check_runs: Vec<Listing>,
        }
        #[derive(Deserialize)]
        struct Listing {
            id: u64,
            name: String,
            status: String,
        }
        let path = repo_path(repo)?;
        let query = serde_urlencoded::to_string([("check_name", name), ("per_page", "100")])
            .map_err(|e| GithubError::Unexpected {
                op: "listing check runs".into(),
                detail: e.to_string(),
            })?;
        let listed: Listed = self
            .call(
                Method::GET,
                &format!("/repos/{path}/commits/{sha}/check-runs?{query}"),
                None,
            )
            .await?;
        Ok(listed
            .check_runs
            .into_iter()
            .filter(|r| r.name == name && r.status != "completed")
            .map(|r| r.id)
            .max())
    }

    /// Adds `annotations` (at most [`MAX_ANNOTATIONS_PER_REQUEST`]) to check run `id`,
    /// with its output's title and summary; the status does not change.
    pub async fn annotate_check_run(
        &self,
        repo: &str,
        id: u64,
        title: &str,
        summary: &str,
        annotations: &[Annotation],
    ) -> Result<(), GithubError> {
        let repo = repo_path(repo)?;
        let body = json!({
            "output": { "title": title, "summary": summary, "annotations": annotations },
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

    /// Completes check run `id` with `conclusion` (`success`, `failure`, `neutral`, …) and a
    /// new output, with the last of its annotations (at most
    /// [`MAX_ANNOTATIONS_PER_REQUEST`]; send the others first with
    /// [`Installation::annotate_check_run`]).
    pub async fn complete_check_run(
        &self,
        repo: &str,
        id: u64,
        conclusion: &str,
        title: &str,
        summary: &str,
        annotations: &[Annotation],
    ) -> Result<(), GithubError> {
        let repo = repo_path(repo)?;
        let mut output = json!({ "title": title, "summary": summary });
        if !annotations.is_empty() {
            output["annotations"] = json!(annotations);
        }
        let body = json!({
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "output": output,
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
