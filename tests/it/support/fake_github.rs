//! A fake GitHub that the real octocrab client talks to over HTTP on 127.0.0.1.
//!
//! It checks the App's JWT with the test public key, mints installation tokens, requires one
//! of them on every other route, keeps a little state (files, branches, pull requests,
//! repositories, check runs, comments, reactions, deployments) that tests set and calls change,
//! records every call in order, and answers in the shapes of `tests/fixtures/github-rest/`.
//! Tests can make the next calls to a route fail ([`FakeGithub::fail_next`]) and wait for
//! calls without sleeping ([`FakeGithub::wait_for_calls`]).

mod fixtures;
mod handlers;
mod routes;
mod state;

pub use state::{Annotation, CheckRun, Comment, Deployment, DeploymentStatus, FakePull, Reaction};

use pangeo_forge_orchestrator::config::GithubAppConfig;
use pangeo_forge_orchestrator::config::Secret;
use pangeo_forge_orchestrator::github::GithubApp;
use serde_json::Value;
use state::State;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// The App id the fake expects in JWTs.
pub const TEST_APP_ID: u64 = 4242;

/// The App's private key (test-only, see tests/fixtures/README.md).
pub const TEST_KEY_PEM: &str = include_str!("../../fixtures/github-app-test-key.pem");

/// A valid RSA key that is not the App's: the fake refuses JWTs signed with it.
pub const WRONG_KEY_PEM: &str = include_str!("../../fixtures/github-app-wrong-key.pem");

/// The public half of [`TEST_KEY_PEM`], which the fake verifies JWTs with.
const TEST_PUBLIC_KEY_PEM: &str = include_str!("../../fixtures/github-app-test-key.pub.pem");

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, percent-encoded as sent.
    pub path: String,
    /// The query string, without `?` ("" when none).
    pub query: String,
    /// The JSON body, or `null`.
    pub body: Value,
    /// The installation whose token (or, for `/app/installations/{id}/…`, whose id) the call
    /// carried; `None` when it was not authenticated.
    pub installation: Option<u64>,
    /// The `Accept` header.
    pub accept: Option<String>,
    /// The status the fake answered.
    pub status: u16,
}

impl Call {
    /// `"METHOD /path"`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// A query parameter's (raw) value.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// Whether this is the token-minting call.
    pub fn is_token_mint(&self) -> bool {
        self.method == "POST"
            && self.path.starts_with("/app/installations/")
            && self.path.ends_with("/access_tokens")
    }
}

/// A failure the fake gives instead of its normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this status with a GitHub-shaped body.
    Status(u16),
    /// 403, "You have exceeded a secondary rate limit", `Retry-After: <secs>`.
    SecondaryRateLimit { retry_after_secs: u64 },
    /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` = now + `reset_in_secs`.
    RateLimited { reset_in_secs: u64 },
    /// Wait this long, then answer normally.
    Delay(Duration),
}

struct FaultRule {
    method: String,
    path_prefix: String,
    /// Matching calls let through before the faults start.
    skip: usize,
    remaining: usize,
    fault: Fault,
}

struct Inner {
    url: String,
    state: Mutex<State>,
    faults: Mutex<Vec<FaultRule>>,
    calls: Mutex<Vec<Call>>,
    /// Woken on every recorded call.
    called: Notify,
}

/// The fake GitHub server. Cheap to clone; it serves until the test's runtime ends.
#[derive(Clone)]
pub struct FakeGithub {
    inner: Arc<Inner>,
}

impl FakeGithub {
    /// Starts a fake on a free port of 127.0.0.1.
    pub async fn start() -> FakeGithub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake GitHub");
        let addr = listener.local_addr().expect("fake GitHub address");
        let fake = FakeGithub {
            inner: Arc::new(Inner {
                url: format!("http://{addr}"),
                state: Mutex::new(State::default()),
                faults: Mutex::new(Vec::new()),
                calls: Mutex::new(Vec::new()),
                called: Notify::new(),
            }),
        };
        let router = routes::router(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        fake
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The App configuration that points at this fake, with the test key.
    pub fn app_config(&self) -> GithubAppConfig {
        self.app_config_with_key(TEST_KEY_PEM)
    }

    /// The App configuration that points at this fake, signing with `pem`.
    pub fn app_config_with_key(&self, pem: &str) -> GithubAppConfig {
        GithubAppConfig {
            app_id: TEST_APP_ID,
            private_key_pem: Secret::new(pem),
            api_url: self.inner.url.clone(),
        }
    }

    /// A real [`GithubApp`] talking to this fake.
    pub fn app(&self) -> GithubApp {
        GithubApp::new(&self.app_config()).expect("GitHub App over the fake")
    }

    /// How long tokens minted from now on are valid (default one hour).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state().token_lifetime = lifetime;
    }

    /// Serves `content` as `path` of `repo` at `git_ref` (a branch name or a sha).
    pub fn set_file(&self, repo: &str, path: &str, git_ref: &str, content: impl Into<Vec<u8>>) {
        self.state().files.insert(
            (repo.to_owned(), path.to_owned(), git_ref.to_owned()),
            content.into(),
        );
    }

    /// Serves a recipe directory as a contributor pushes it: `meta_path` (e.g.
    /// `feedstock/meta.yaml`) with `meta`, and beside it the `recipe.py` module that the
    /// `recipe:<id>` objects of [`super::github_app::meta_yaml`] name.
    pub fn set_recipe(&self, repo: &str, meta_path: &str, git_ref: &str, meta: impl Into<Vec<u8>>) {
        let dir = meta_path.rsplit_once('/').map_or("", |(dir, _)| dir);
        self.set_file(
            repo,
            &format!("{dir}/recipe.py"),
            git_ref,
            "recipe = None\n",
        );
        self.set_file(repo, meta_path, git_ref, meta);
    }

    /// The content of `path` in `repo` at `git_ref`, as set or written through the API.
    pub fn file(&self, repo: &str, path: &str, git_ref: &str) -> Option<Vec<u8>> {
        self.state()
            .files
            .get(&(repo.to_owned(), path.to_owned(), git_ref.to_owned()))
            .cloned()
    }

    /// The files pull request `number` of `repo` changes.
    pub fn set_pull_files(&self, repo: &str, number: u64, files: &[&str]) {
        self.state().pull_files.insert(
            (repo.to_owned(), number),
            files.iter().map(|f| (*f).to_owned()).collect(),
        );
    }

    /// The author logins of the commits of PR `number` (`None`: GitHub knows no user).
    pub fn set_pull_commit_authors(&self, repo: &str, number: u64, authors: &[Option<&str>]) {
        self.state().pull_commit_authors.insert(
            (repo.to_owned(), number),
            authors.iter().map(|a| a.map(str::to_owned)).collect(),
        );
    }

    /// `(repo, login)` of every collaborator invited, in order.
    pub fn invitations(&self) -> Vec<(String, String)> {
        self.state().invitations.clone()
    }

    /// Adds (or replaces) a pull request of `repo`.
    pub fn add_pull(&self, repo: &str, pull: FakePull) {
        let mut state = self.state();
        let pulls = state.pulls.entry(repo.to_owned()).or_default();
        pulls.retain(|p| p.number != pull.number);
        pulls.push(pull);
    }

    /// Pull request `number` of `repo`.
    pub fn pull(&self, repo: &str, number: u64) -> Option<FakePull> {
        self.state().pull(repo, number).cloned()
    }

    /// Every pull request of `repo`, in the order they were added or opened.
    pub fn pulls(&self, repo: &str) -> Vec<FakePull> {
        self.state().pulls.get(repo).cloned().unwrap_or_default()
    }

    /// Makes `repo` exist, with a `main` branch.
    pub fn add_repository(&self, repo: &str) {
        self.state().add_repository(repo);
    }

    /// Whether `repo` exists.
    pub fn has_repository(&self, repo: &str) -> bool {
        self.state().repos.contains(repo)
    }

    /// Points `branch` of `repo` at `sha`.
    pub fn set_branch(&self, repo: &str, branch: &str, sha: &str) {
        self.state()
            .branches
            .entry(repo.to_owned())
            .or_default()
            .insert(branch.to_owned(), sha.to_owned());
    }

    /// Where `branch` of `repo` points.
    pub fn branch(&self, repo: &str, branch: &str) -> Option<String> {
        self.state().branch(repo, branch)
    }

    /// Check runs created, with their latest state.
    pub fn check_runs(&self) -> Vec<CheckRun> {
        self.state().check_runs.clone()
    }

    /// Comments posted.
    pub fn comments(&self) -> Vec<Comment> {
        self.state().comments.clone()
    }

    /// Reactions posted.
    pub fn reactions(&self) -> Vec<Reaction> {
        self.state().reactions.clone()
    }

    /// Deployments created, each with its statuses.
    /// The settings `repo` was created or edited with.
    pub fn repo_settings(&self, repo: &str) -> serde_json::Map<String, serde_json::Value> {
        self.state()
            .repo_settings
            .get(repo)
            .cloned()
            .unwrap_or_default()
    }

    pub fn deployments(&self) -> Vec<Deployment> {
        self.state().deployments.clone()
    }

    /// The next `n` calls of `method` to a path starting with `path_prefix` get `fault`.
    pub fn fail_next(&self, method: &str, path_prefix: &str, n: usize, fault: Fault) {
        self.fail_after(method, path_prefix, 0, n, fault);
    }

    /// Like [`FakeGithub::fail_next`], after letting `skip` such calls through.
    pub fn fail_after(&self, method: &str, path_prefix: &str, skip: usize, n: usize, fault: Fault) {
        lock(&self.inner.faults).push(FaultRule {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_owned(),
            skip,
            remaining: n,
            fault,
        });
    }

    /// How many faults set for `method` and `path_prefix` are still to be served: 0 once the
    /// faulted calls arrived (a delayed one is recorded only when it answers).
    pub fn faults_left(&self, method: &str, path_prefix: &str) -> usize {
        lock(&self.inner.faults)
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path_prefix == path_prefix)
            .map(|r| r.remaining)
            .sum()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.inner.calls).clone()
    }

    /// The calls of `method` to paths starting with `path_prefix`.
    pub fn calls_to(&self, method: &str, path_prefix: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method) && c.path.starts_with(path_prefix))
            .collect()
    }

    /// `"METHOD /path"` for every call except token minting, in order.
    pub fn summary(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter(|c| !c.is_token_mint())
            .map(Call::line)
            .collect()
    }

    /// How many installation tokens were minted successfully.
    pub fn tokens_minted(&self) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.is_token_mint() && c.status == 201)
            .count()
    }

    /// Waits until `pred` holds for the calls so far (checked on every new call); panics with
    /// the summary after `timeout`.
    pub async fn wait_for_calls(
        &self,
        pred: impl Fn(&[Call]) -> bool,
        timeout: Duration,
    ) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.called.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let calls = self.calls();
            if pred(&calls) {
                return calls;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out after {timeout:?} waiting for GitHub calls; got {:#?}",
                    self.summary()
                );
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// Takes the fault for this call, if a rule matches.
    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.inner.faults);
        let rule = faults.iter_mut().find(|rule| {
            rule.remaining > 0 && rule.method == method && path.starts_with(&rule.path_prefix)
        })?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.remaining -= 1;
        Some(rule.fault.clone())
    }

    fn record(&self, call: Call) {
        lock(&self.inner.calls).push(call);
        self.inner.called.notify_waiters();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
