//! The typed boundary: GitHub payloads become our own event types here, so flows never
//! read raw JSON. Only the fields the flows use are parsed; a payload lacking one of them
//! is refused with a message naming the field.

use serde::Deserialize;

/// A repository as the flows see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// `https://github.com/owner/name`, handed to the runner as `--repo`.
    pub html_url: String,
}

impl Repository {
    /// The owner (user or organisation) part of the full name.
    pub fn owner(&self) -> &str {
        self.full_name.split('/').next().unwrap_or_default()
    }

    /// The name part of the full name.
    pub fn name(&self) -> &str {
        self.full_name.rsplit('/').next().unwrap_or_default()
    }

    /// Which kind of Pangeo Forge repository this is, if any.
    pub fn kind(&self) -> Option<RepoKind> {
        repo_kind(&self.full_name)
    }
}

/// The repositories Pangeo Forge acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// `*staged-recipes`: where new recipes are proposed.
    StagedRecipes,
    /// `*-feedstock`: one dataset's recipes.
    Feedstock,
}

/// The kind of `owner/name`, from its name alone.
pub fn repo_kind(full_name: &str) -> Option<RepoKind> {
    let name = full_name.rsplit('/').next().unwrap_or_default();
    if name.ends_with("staged-recipes") {
        Some(RepoKind::StagedRecipes)
    } else if name.ends_with("-feedstock") && name.len() > "-feedstock".len() {
        Some(RepoKind::Feedstock)
    } else {
        None
    }
}

/// What happened to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullRequestAction {
    Opened,
    Reopened,
    Synchronize,
    Closed,
}

/// A `pull_request` delivery.
#[derive(Debug, Clone)]
pub struct PullRequestEvent {
    pub action: PullRequestAction,
    pub number: u64,
    pub title: String,
    /// The login of who opened it (`pull_request.user.login`).
    pub author: Option<String>,
    pub head_sha: String,
    pub base_ref: String,
    pub merged: bool,
    /// The commit the merge created (set when `merged`).
    pub merge_commit_sha: Option<String>,
    /// The base repository: the one the PR is merged into.
    pub repository: Repository,
    /// Where the head commit lives: the base repository, or (as for almost every
    /// staged-recipes PR) the contributor's fork. `None` when that fork was deleted.
    pub head_repository: Option<Repository>,
}

/// An `issue_comment` delivery (action `created`).
#[derive(Debug, Clone)]
pub struct IssueCommentEvent {
    pub comment_id: u64,
    pub body: String,
    /// `OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, `NONE`, …
    pub author_association: String,
    pub author: String,
    /// The issue or pull request number.
    pub number: u64,
    /// Whether the issue is a pull request.
    pub on_pull_request: bool,
    pub repository: Repository,
}

impl IssueCommentEvent {
    /// Whether the author may trigger compute: write access to the repository.
    pub fn author_can_write(&self) -> bool {
        matches!(
            self.author_association.as_str(),
            "OWNER" | "MEMBER" | "COLLABORATOR"
        )
    }
}

/// Repositories an installation was given access to (`installation` created,
/// `installation_repositories` added).
#[derive(Debug, Clone)]
pub struct RepositoriesAdded {
    /// `owner/name` of each repository.
    pub repositories: Vec<String>,
}

/// A delivery the flows act on.
#[derive(Debug, Clone)]
pub enum GithubEvent {
    PullRequest(PullRequestEvent),
    IssueComment(IssueCommentEvent),
    RepositoriesAdded(RepositoriesAdded),
}

/// How a delivery is handled, decided from its event name and action alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Answered on the spot (`ping`).
    Answer,
    /// Stored and queued for a worker.
    Queue,
    /// Stored and acknowledged; nothing to do.
    Ignore,
}

/// Which deliveries we act on.
pub fn handling(event: &str, action: Option<&str>) -> Handling {
    match (event, action.unwrap_or_default()) {
        ("ping", _) => Handling::Answer,
        ("pull_request", "opened" | "reopened" | "synchronize" | "closed") => Handling::Queue,
        ("issue_comment", "created") => Handling::Queue,
        ("installation", "created") => Handling::Queue,
        ("installation_repositories", "added") => Handling::Queue,
        _ => Handling::Ignore,
    }
}

/// A payload that lacks what its event needs.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the {event} payload cannot be read: {reason}")]
pub struct EventError {
    pub event: String,
    pub reason: String,
}

/// Parses a queued delivery into a typed event; `Ok(None)` for deliveries we do not act on.
pub fn parse(event: &str, payload: &str) -> Result<Option<GithubEvent>, EventError> {
    let fail = |e: serde_json::Error| EventError {
        event: event.to_owned(),
        reason: e.to_string(),
    };
    let parsed = match event {
        "pull_request" => {
            let raw: raw::PullRequestPayload = serde_json::from_str(payload).map_err(fail)?;
            raw.into_event().map(GithubEvent::PullRequest)
        }
        "issue_comment" => {
            let raw: raw::IssueCommentPayload = serde_json::from_str(payload).map_err(fail)?;
            (raw.action == "created").then(|| GithubEvent::IssueComment(raw.into_event()))
        }
        "installation" => {
            let raw: raw::InstallationPayload = serde_json::from_str(payload).map_err(fail)?;
            (raw.action == "created").then(|| {
                GithubEvent::RepositoriesAdded(RepositoriesAdded {
                    repositories: raw.repositories.into_iter().map(|r| r.full_name).collect(),
                })
            })
        }
        "installation_repositories" => {
            let raw: raw::InstallationRepositoriesPayload =
                serde_json::from_str(payload).map_err(fail)?;
            (raw.action == "added").then(|| {
                GithubEvent::RepositoriesAdded(RepositoriesAdded {
                    repositories: raw
                        .repositories_added
                        .into_iter()
                        .map(|r| r.full_name)
                        .collect(),
                })
            })
        }
        _ => None,
    };
    Ok(parsed)
}

/// The payload shapes, as GitHub sends them (only the fields we read).
mod raw {
    use super::*;

    #[derive(Deserialize)]
    pub struct Repo {
        pub full_name: String,
        pub html_url: String,
    }

    impl From<Repo> for Repository {
        fn from(r: Repo) -> Self {
            Repository {
                full_name: r.full_name,
                html_url: r.html_url,
            }
        }
    }

    #[derive(Deserialize)]
    pub struct RepoName {
        pub full_name: String,
    }

    #[derive(Deserialize)]
    pub struct Head {
        pub sha: String,
        /// `null` when the head repository (a fork) was deleted.
        #[serde(default)]
        pub repo: Option<Repo>,
    }

    #[derive(Deserialize)]
    pub struct Base {
        #[serde(rename = "ref")]
        pub git_ref: String,
    }

    #[derive(Deserialize)]
    pub struct PullRequest {
        pub title: String,
        /// Absent in hand-made payloads; GitHub always sends it.
        #[serde(default)]
        pub user: Option<User>,
        pub head: Head,
        pub base: Base,
        #[serde(default)]
        pub merged: Option<bool>,
        pub merge_commit_sha: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct PullRequestPayload {
        pub action: String,
        pub number: u64,
        pub pull_request: PullRequest,
        pub repository: Repo,
    }

    impl PullRequestPayload {
        pub fn into_event(self) -> Option<PullRequestEvent> {
            let action = match self.action.as_str() {
                "opened" => PullRequestAction::Opened,
                "reopened" => PullRequestAction::Reopened,
                "synchronize" => PullRequestAction::Synchronize,
                "closed" => PullRequestAction::Closed,
                _ => return None,
            };
            Some(PullRequestEvent {
                action,
                number: self.number,
                title: self.pull_request.title,
                author: self.pull_request.user.map(|u| u.login),
                head_sha: self.pull_request.head.sha,
                base_ref: self.pull_request.base.git_ref,
                merged: self.pull_request.merged.unwrap_or(false),
                merge_commit_sha: self.pull_request.merge_commit_sha,
                repository: self.repository.into(),
                head_repository: self.pull_request.head.repo.map(Into::into),
            })
        }
    }

    #[derive(Deserialize)]
    pub struct User {
        pub login: String,
    }

    #[derive(Deserialize)]
    pub struct Comment {
        pub id: u64,
        #[serde(default)]
        pub body: Option<String>,
        pub author_association: String,
        pub user: User,
    }

    #[derive(Deserialize)]
    pub struct Issue {
        pub number: u64,
        #[serde(default)]
        pub pull_request: Option<serde_json::Value>,
    }

    #[derive(Deserialize)]
    pub struct IssueCommentPayload {
        pub action: String,
        pub comment: Comment,
        pub issue: Issue,
        pub repository: Repo,
    }

    impl IssueCommentPayload {
        pub fn into_event(self) -> IssueCommentEvent {
            IssueCommentEvent {
                comment_id: self.comment.id,
                body: self.comment.body.unwrap_or_default(),
                author_association: self.comment.author_association,
                author: self.comment.user.login,
                number: self.issue.number,
                on_pull_request: self.issue.pull_request.is_some_and(|v| !v.is_null()),
                repository: self.repository.into(),
            }
        }
    }

    #[derive(Deserialize)]
    pub struct InstallationPayload {
        pub action: String,
        #[serde(default)]
        pub repositories: Vec<RepoName>,
    }

    #[derive(Deserialize)]
    pub struct InstallationRepositoriesPayload {
        pub action: String,
        #[serde(default)]
        pub repositories_added: Vec<RepoName>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_kinds_come_from_the_name() {
        assert_eq!(
            repo_kind("pangeo-forge/staged-recipes"),
            Some(RepoKind::StagedRecipes)
        );
        assert_eq!(
            repo_kind("someone/my-staged-recipes"),
            Some(RepoKind::StagedRecipes)
        );
        assert_eq!(
            repo_kind("pangeo-forge/gpcp-feedstock"),
            Some(RepoKind::Feedstock)
        );
        assert_eq!(repo_kind("pangeo-forge/-feedstock"), None);
        assert_eq!(repo_kind("pangeo-forge/feedstock-tools"), None);
        assert_eq!(repo_kind("Codertocat/Hello-World"), None);
    }

    #[test]
    fn only_write_access_may_run() {
        let mut comment = IssueCommentEvent {
            comment_id: 1,
            body: "/run x".into(),
            author_association: "COLLABORATOR".into(),
            author: "a".into(),
            number: 1,
            on_pull_request: true,
            repository: Repository {
                full_name: "o/r".into(),
                html_url: "https://github.com/o/r".into(),
            },
        };
        for (association, allowed) in [
            ("OWNER", true),
            ("MEMBER", true),
            ("COLLABORATOR", true),
            ("CONTRIBUTOR", false),
            ("FIRST_TIME_CONTRIBUTOR", false),
            ("NONE", false),
        ] {
            comment.author_association = association.into();
            assert_eq!(comment.author_can_write(), allowed, "{association}");
        }
    }
}
