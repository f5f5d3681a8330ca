//! Comments on issues and pull requests, and reactions to them.

use super::http::repo_path;
use super::{GithubError, Installation};
use http::Method;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Created {
    id: u64,
}

impl Installation {
    /// Reacts to issue comment `comment_id` with `content` (`eyes`, `rocket`, `confused`, …).
    pub async fn react_to_comment(
        &self,
        repo: &str,
        comment_id: u64,
        content: &str,
    ) -> Result<(), GithubError> {
        let repo = repo_path(repo)?;
        self.send(
            Method::POST,
            &format!("/repos/{repo}/issues/comments/{comment_id}/reactions"),
            Some(&json!({ "content": content })),
        )
        .await?
        .success()?;
        Ok(())
    }

    /// Comments `body` on issue or pull request `number` and returns the comment's id.
    pub async fn comment_on_issue(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<u64, GithubError> {
        let repo = repo_path(repo)?;
        let created: Created = self
            .call(
                Method::POST,
                &format!("/repos/{repo}/issues/{number}/comments"),
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(created.id)
    }
}
