//! Pull requests: read them, list their files, open and merge them.

use super::http::{encode, repo_path};
use super::{GithubError, Installation};
use http::Method;
use serde::Deserialize;
use serde_json::json;

/// GitHub's largest page size.
const PER_PAGE: usize = 100;

/// GitHub lists at most 3000 files of a pull request: 30 pages of 100.
const MAX_PAGES: usize = 30;

/// A pull request, as the flows need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// The PR number.
    pub number: u64,
    /// Its title.
    pub title: String,
    /// The sha of the head commit.
    pub head_sha: String,
    /// The head branch's name.
    pub head_ref: String,
    /// The base branch's name.
    pub base_ref: String,
    /// `open` or `closed`.
    pub state: String,
    /// Whether it was merged.
    pub merged: bool,
    /// Where the head commit lives (the base repository or a fork); `None` when the fork
    /// was deleted.
    pub head_repository: Option<HeadRepository>,
}

/// The repository a pull request's head commit lives in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HeadRepository {
    /// `owner/name`.
    pub full_name: String,
    /// `https://github.com/owner/name`, what the runner clones.
    pub html_url: String,
}

#[derive(Deserialize)]
struct WireCommit {
    author: Option<WireLogin>,
}

#[derive(Deserialize)]
struct WireLogin {
    login: String,
}

#[derive(Deserialize)]
struct WirePull {
    number: u64,
    #[serde(default)]
    title: String,
    head: WireRef,
    base: WireRef,
    state: String,
    /// Only the single-PR answer has `merged`; lists have `merged_at`.
    #[serde(default)]
    merged: Option<bool>,
    #[serde(default)]
    merged_at: Option<String>,
}

#[derive(Deserialize)]
struct WireRef {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    #[serde(default)]
    repo: Option<HeadRepository>,
}

impl From<WirePull> for PullRequest {
    fn from(pull: WirePull) -> Self {
        PullRequest {
            number: pull.number,
            title: pull.title,
            head_sha: pull.head.sha,
            head_ref: pull.head.name,
            base_ref: pull.base.name,
            state: pull.state,
            merged: pull.merged.unwrap_or(pull.merged_at.is_some()),
            head_repository: pull.head.repo,
        }
    }
}

#[derive(Deserialize)]
struct Numbered {
    number: u64,
}

#[derive(Deserialize)]
struct WireFile {
    filename: String,
}

impl Installation {
    /// Pull request `number` of `repo`.
    pub async fn pull_request(&self, repo: &str, number: u64) -> Result<PullRequest, GithubError> {
        let repo = repo_path(repo)?;
        let pull: WirePull = self
            .call(Method::GET, &format!("/repos/{repo}/pulls/{number}"), None)
            .await?;
        Ok(pull.into())
    }

    /// Every open pull request of `repo`.
    pub async fn open_pull_requests(&self, repo: &str) -> Result<Vec<PullRequest>, GithubError> {
        let repo = repo_path(repo)?;
        let pulls: Vec<WirePull> = self
            .all_pages(&format!("/repos/{repo}/pulls?state=open"))
            .await?;
        Ok(pulls.into_iter().map(PullRequest::from).collect())
    }

    /// The names of the files pull request `number` changes.
    pub async fn pull_request_files(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Vec<String>, GithubError> {
        let repo = repo_path(repo)?;
        let files: Vec<WireFile> = self
            .all_pages(&format!("/repos/{repo}/pulls/{number}/files"))
            .await?;
        Ok(files.into_iter().map(|file| file.filename).collect())
    }

    /// The GitHub logins of the authors of the PR's commits, in commit order, each once;
    /// commits whose author GitHub does not know (an unlinked email) are left out.
    pub async fn pull_request_commit_authors(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Vec<String>, GithubError> {
        let repo = repo_path(repo)?;
        let commits: Vec<WireCommit> = self
            .all_pages(&format!("/repos/{repo}/pulls/{number}/commits"))
            .await?;
        let mut logins: Vec<String> = Vec::new();
        for login in commits
            .into_iter()
            .filter_map(|c| c.author.map(|a| a.login))
        {
            if !logins.contains(&login) {
                logins.push(login);
            }
        }
        Ok(logins)
    }

    /// Opens a pull request from branch `head` into `base` and returns its number.
    pub async fn create_pull_request(
        &self,
        repo: &str,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
    ) -> Result<u64, GithubError> {
        let repo = repo_path(repo)?;
        let request = json!({ "title": title, "head": head, "base": base, "body": body });
        let created: Numbered = self
            .call(
                Method::POST,
                &format!("/repos/{repo}/pulls"),
                Some(&request),
            )
            .await?;
        Ok(created.number)
    }

    /// The number of the open pull request whose head is `head_branch` (in `repo` itself).
    pub async fn find_open_pull_request(
        &self,
        repo: &str,
        head_branch: &str,
    ) -> Result<Option<u64>, GithubError> {
        let repo = repo_path(repo)?;
        let owner = repo.split('/').next().unwrap_or(repo);
        let head = encode(&format!("{owner}:{head_branch}"), false);
        let pulls: Vec<Numbered> = self
            .call(
                Method::GET,
                &format!("/repos/{repo}/pulls?head={head}&state=open&per_page={PER_PAGE}"),
                None,
            )
            .await?;
        Ok(pulls.first().map(|pull| pull.number))
    }

    /// Merges pull request `number`. One that is already merged counts as success.
    pub async fn merge_pull_request(&self, repo: &str, number: u64) -> Result<(), GithubError> {
        let repo_checked = repo_path(repo)?;
        let reply = self
            .send(
                Method::PUT,
                &format!("/repos/{repo_checked}/pulls/{number}/merge"),
                Some(&json!({})),
            )
            .await?;
        if reply.is_success() {
            return Ok(());
        }
        if matches!(reply.status, 405 | 409) && self.pull_request(repo, number).await?.merged {
            tracing::debug!(repo, number, "pull request was already merged");
            return Ok(());
        }
        Err(reply.into_error())
    }

    /// Every item of a listing, page by page (`per_page=100`) until a short page.
    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Vec<T>, GithubError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let items: Vec<T> = self
                .call(
                    Method::GET,
                    &format!("{path}{separator}per_page={PER_PAGE}&page={page}"),
                    None,
                )
                .await?;
            let short = items.len() < PER_PAGE;
            all.extend(items);
            if short {
                break;
            }
        }
        Ok(all)
    }
}
