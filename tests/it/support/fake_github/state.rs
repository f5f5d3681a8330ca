//! What the fake GitHub remembers between calls.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// A pull request the fake knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub head_sha: String,
    pub head_ref: String,
    pub base_ref: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    /// Where the head commit lives: `None` for the base repository itself, `Some(fork)`
    /// for a contributor's fork (`owner/name`).
    pub fork: Option<String>,
    /// The fork's `html_url` when it is not `https://github.com/<fork>` (the real-runner
    /// test's fork is a local directory).
    pub fork_url: Option<String>,
    /// The head repository was deleted: GitHub then sends `head.repo: null`.
    pub head_repo_deleted: bool,
}

impl FakePull {
    /// An open, unmerged pull request from `head_ref` (at `head_sha`) into `main`.
    pub fn open(number: u64, title: &str, head_ref: &str, head_sha: &str) -> FakePull {
        FakePull {
            number,
            title: title.to_owned(),
            body: String::new(),
            head_sha: head_sha.to_owned(),
            head_ref: head_ref.to_owned(),
            base_ref: "main".to_owned(),
            state: "open".to_owned(),
            merged: false,
            fork: None,
            fork_url: None,
            head_repo_deleted: false,
        }
    }
}

/// A check run, with its latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    pub id: u64,
    pub repo: String,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: String,
    pub summary: String,
    pub details_url: Option<String>,
    /// Every annotation received, in order (GitHub appends those of each update).
    pub annotations: Vec<Annotation>,
}

/// A check-run annotation as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub path: String,
    pub start_line: u64,
    pub end_line: u64,
    pub start_column: Option<u64>,
    pub end_column: Option<u64>,
    pub level: String,
    pub title: String,
    pub message: String,
}

/// A comment posted on an issue or pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub repo: String,
    pub number: u64,
    pub body: String,
}

/// A reaction posted on an issue comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub repo: String,
    pub comment_id: u64,
    pub content: String,
}

/// A deployment and the statuses posted to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: i64,
    pub repo: String,
    pub git_ref: String,
    pub environment: String,
    pub description: String,
    pub statuses: Vec<DeploymentStatus>,
}

/// A status posted to a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: String,
    pub environment_url: Option<String>,
    pub description: String,
}

/// The fake's whole state.
pub struct State {
    pub token_lifetime: Duration,
    /// Issued token → installation id.
    pub tokens: HashMap<String, u64>,
    /// (repo, path, ref) → content.
    pub files: HashMap<(String, String, String), Vec<u8>>,
    /// (repo, PR number) → changed file names.
    pub pull_files: HashMap<(String, u64), Vec<String>>,
    /// The author login of each commit of a PR (`None`: an email GitHub does not know).
    pub pull_commit_authors: HashMap<(String, u64), Vec<Option<String>>>,
    /// `(repo, login)` of every collaborator invited, in order.
    pub invitations: Vec<(String, String)>,
    pub pulls: HashMap<String, Vec<FakePull>>,
    pub repos: BTreeSet<String>,
    /// Settings sent when a repository was created or edited (`homepage`, `has_wiki`, …).
    pub repo_settings: HashMap<String, serde_json::Map<String, Value>>,
    /// repo → branch → sha.
    pub branches: HashMap<String, BTreeMap<String, String>>,
    pub check_runs: Vec<CheckRun>,
    pub comments: Vec<Comment>,
    pub reactions: Vec<Reaction>,
    pub deployments: Vec<Deployment>,
    /// Last id handed out, per kind of object.
    counters: HashMap<&'static str, u64>,
}

impl Default for State {
    fn default() -> Self {
        State {
            token_lifetime: Duration::from_secs(3600),
            tokens: HashMap::new(),
            files: HashMap::new(),
            pull_files: HashMap::new(),
            pull_commit_authors: HashMap::new(),
            invitations: Vec::new(),
            pulls: HashMap::new(),
            repos: BTreeSet::new(),
            repo_settings: HashMap::new(),
            branches: HashMap::new(),
            check_runs: Vec::new(),
            comments: Vec::new(),
            reactions: Vec::new(),
            deployments: Vec::new(),
            counters: HashMap::new(),
        }
    }
}

impl State {
    /// The next id for `kind` (1, 2, 3, … per kind).
    pub fn next_id(&mut self, kind: &'static str) -> u64 {
        let counter = self.counters.entry(kind).or_insert(0);
        *counter += 1;
        *counter
    }

    /// A fresh, unique 40-hex-digit sha.
    pub fn next_sha(&mut self) -> String {
        let n = self.next_id("sha");
        format!("{n:040x}")
    }

    pub fn pull(&self, repo: &str, number: u64) -> Option<&FakePull> {
        self.pulls.get(repo)?.iter().find(|p| p.number == number)
    }

    pub fn pull_mut(&mut self, repo: &str, number: u64) -> Option<&mut FakePull> {
        self.pulls
            .get_mut(repo)?
            .iter_mut()
            .find(|p| p.number == number)
    }

    pub fn branch(&self, repo: &str, branch: &str) -> Option<String> {
        self.branches.get(repo)?.get(branch).cloned()
    }

    /// Makes `repo` exist with a `main` branch at a fresh sha.
    pub fn add_repository(&mut self, repo: &str) {
        self.repos.insert(repo.to_owned());
        let sha = self.next_sha();
        self.branches
            .entry(repo.to_owned())
            .or_default()
            .entry("main".to_owned())
            .or_insert(sha);
    }

    /// Moves `branch` of `repo` to a fresh sha, as a commit on it would (when it exists).
    pub fn commit_on(&mut self, repo: &str, branch: &str) {
        let sha = self.next_sha();
        if let Some(head) = self
            .branches
            .get_mut(repo)
            .and_then(|branches| branches.get_mut(branch))
        {
            *head = sha;
        }
    }
}
