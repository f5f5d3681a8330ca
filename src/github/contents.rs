//! Files through the contents API: read one, list a directory, write one, delete one.

use super::http::{Reply, encode, repo_path};
use super::{GithubError, Installation};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde::Deserialize;
use serde_json::json;

/// The parts of a contents-API answer we use.
#[derive(Deserialize)]
struct FileEntry {
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

impl FileEntry {
    /// The file's bytes, when the entry carries them as base64.
    fn decoded(&self) -> Option<Vec<u8>> {
        match (self.encoding.as_deref(), &self.content) {
            (Some("base64"), Some(content)) => {
                let compact: String = content.split_whitespace().collect();
                STANDARD.decode(compact).ok()
            }
            _ => None,
        }
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DirEntry {
    /// `file`, `dir`, `symlink` or `submodule`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The path from the repository's root.
    pub path: String,
    /// Its size in bytes (0 for a directory).
    #[serde(default)]
    pub size: u64,
}

impl Installation {
    /// The entries of directory `path` in `repo` at `git_ref`, or `None` when there is no
    /// such directory.
    pub async fn directory(
        &self,
        repo: &str,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<DirEntry>>, GithubError> {
        let Some(reply) = self.contents_at(repo, path, git_ref).await? else {
            return Ok(None);
        };
        if reply.body.first() != Some(&b'[') {
            return Err(GithubError::Unexpected {
                op: reply.op.clone(),
                detail: format!("`{path}` is a file, not a directory"),
            });
        }
        reply.json().map(Some)
    }

    /// The bytes of `path` in `repo` at `git_ref` (a branch, tag or sha), or `None` when there
    /// is no such file.
    pub async fn file_contents(
        &self,
        repo: &str,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>, GithubError> {
        let Some((op, entry)) = self.file_entry(repo, path, git_ref).await? else {
            return Ok(None);
        };
        match (entry.encoding.as_deref(), entry.content) {
            (Some("base64"), Some(content)) => {
                // GitHub wraps the base64 text in lines.
                let compact: String = content.split_whitespace().collect();
                STANDARD
                    .decode(compact)
                    .map(Some)
                    .map_err(|err| GithubError::Unexpected {
                        op,
                        detail: format!("the file's content is not valid base64: {err}"),
                    })
            }
            (encoding, _) => Err(GithubError::Unexpected {
                op,
                detail: format!(
                    "the file comes without base64 content (encoding {encoding:?}; \
                     files over 1 MB are not served this way)"
                ),
            }),
        }
    }

    /// Creates or replaces `path` on `branch` with `content`, committing with `message`. A
    /// file that already has exactly this content is left alone (no empty commit), so a
    /// retried flow does not write it again.
    pub async fn put_file(
        &self,
        repo: &str,
        path: &str,
        branch: &str,
        message: &str,
        content: &[u8],
    ) -> Result<(), GithubError> {
        let existing = self.file_entry(repo, path, branch).await?;
        let mut body = json!({
            "message": message,
            "content": STANDARD.encode(content),
            "branch": branch,
        });
        if let Some((_, entry)) = existing {
            if entry.decoded().as_deref() == Some(content) {
                return Ok(());
            }
            body["sha"] = json!(entry.sha);
        }
        self.send(Method::PUT, &contents_path(repo, path)?, Some(&body))
            .await?
            .success()?;
        Ok(())
    }

    /// Deletes `path` on `branch`, committing with `message`. A missing file is not an error.
    pub async fn delete_file(
        &self,
        repo: &str,
        path: &str,
        branch: &str,
        message: &str,
    ) -> Result<(), GithubError> {
        let Some((_, entry)) = self.file_entry(repo, path, branch).await? else {
            return Ok(());
        };
        let body = json!({ "message": message, "sha": entry.sha, "branch": branch });
        let reply = self
            .send(Method::DELETE, &contents_path(repo, path)?, Some(&body))
            .await?;
        if reply.status == 404 {
            // Deleted meanwhile.
            return Ok(());
        }
        reply.success()?;
        Ok(())
    }

    /// The contents API's successful answer for `path` at `git_ref`; `None` on 404.
    async fn contents_at(
        &self,
        repo: &str,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Reply>, GithubError> {
        let url = format!(
            "{}?ref={}",
            contents_path(repo, path)?,
            encode(git_ref, false)
        );
        let reply = self.send(Method::GET, &url, None).await?;
        if reply.status == 404 {
            return Ok(None);
        }
        reply.success().map(Some)
    }

    /// The contents-API entry of a file, with the call's name; `None` when it does not exist.
    async fn file_entry(
        &self,
        repo: &str,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<(String, FileEntry)>, GithubError> {
        let Some(reply) = self.contents_at(repo, path, git_ref).await? else {
            return Ok(None);
        };
        let entry = file_entry_of(&reply)?;
        Ok(Some((reply.op, entry)))
    }
}

fn file_entry_of(reply: &Reply) -> Result<FileEntry, GithubError> {
    if reply.body.first() == Some(&b'[') {
        return Err(GithubError::Unexpected {
            op: reply.op.clone(),
            detail: "the path is a directory, not a file".into(),
        });
    }
    let entry: FileEntry = reply.json()?;
    if entry.kind != "file" {
        return Err(GithubError::Unexpected {
            op: reply.op.clone(),
            detail: format!("the path is a {}, not a file", entry.kind),
        });
    }
    Ok(entry)
}

fn contents_path(repo: &str, path: &str) -> Result<String, GithubError> {
    let repo = repo_path(repo)?;
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return Err(GithubError::Invalid("a file path must not be empty".into()));
    }
    Ok(format!("/repos/{repo}/contents/{}", encode(path, true)))
}
