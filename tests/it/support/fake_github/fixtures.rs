//! The fake's answers: GitHub's REST examples (tests/fixtures/github-rest/), with ids,
//! numbers and names patched to the fake's state.

use super::state::{CheckRun, Comment, Deployment, DeploymentStatus, FakePull};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// The primary response example of operation `op` (e.g. `"checks/create"`).
pub fn response(op: &str) -> Value {
    example(op)["response_example"].clone()
}

/// The named response example for `status` of operation `op`.
pub fn named_response(op: &str, status: u16, name: &str) -> Value {
    example(op)["response_examples"][status.to_string()][name].clone()
}

fn example(op: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/github-rest/{op}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

fn api(path: &str) -> String {
    format!("https://api.github.com{path}")
}

pub fn token(token: &str, expires_at: &str) -> Value {
    let mut body = response("apps/create-installation-access-token");
    body["token"] = json!(token);
    body["expires_at"] = json!(expires_at);
    body
}

pub fn repository(full_name: &str) -> Value {
    let mut body = response("repos/get");
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
    body["name"] = json!(name);
    body["full_name"] = json!(full_name);
    body["owner"]["login"] = json!(owner);
    body["url"] = json!(api(&format!("/repos/{full_name}")));
    body
}

pub fn created_repository(full_name: &str, description: &str) -> Value {
    let mut body = repository(full_name);
    let created = response("repos/create-in-org");
    body["id"] = created["id"].clone();
    body["description"] = json!(description);
    body
}

pub fn check_run(run: &CheckRun, op: &str) -> Value {
    let mut body = response(op);
    body["id"] = json!(run.id);
    body["name"] = json!(run.name);
    body["head_sha"] = json!(run.head_sha);
    body["status"] = json!(run.status);
    body["conclusion"] = json!(run.conclusion);
    body["output"]["title"] = json!(run.title);
    body["output"]["summary"] = json!(run.summary);
    body["details_url"] = json!(run.details_url);
    body["url"] = json!(api(&format!("/repos/{}/check-runs/{}", run.repo, run.id)));
    body
}

/// `op` is `pulls/get`, `pulls/create` or `pulls/list` (an element of the list is patched).
pub fn pull(repo: &str, pull: &FakePull, op: &str) -> Value {
    let mut body = response(op);
    if let Some(first) = body.as_array().and_then(|items| items.first()).cloned() {
        body = first;
    }
    body["number"] = json!(pull.number);
    body["title"] = json!(pull.title);
    body["body"] = json!(pull.body);
    body["state"] = json!(pull.state);
    body["head"]["ref"] = json!(pull.head_ref);
    body["head"]["sha"] = json!(pull.head_sha);
    let head_repo = pull.fork.as_deref().unwrap_or(repo);
    let head_owner = head_repo.split('/').next().unwrap_or(head_repo);
    body["head"]["label"] = json!(format!("{head_owner}:{}", pull.head_ref));
    if pull.head_repo_deleted {
        body["head"]["repo"] = Value::Null;
    } else {
        body["head"]["repo"]["full_name"] = json!(head_repo);
        body["head"]["repo"]["name"] = json!(head_repo.rsplit('/').next().unwrap_or(head_repo));
        body["head"]["repo"]["html_url"] = json!(
            pull.fork_url
                .clone()
                .unwrap_or_else(|| format!("https://github.com/{head_repo}"))
        );
        body["head"]["repo"]["fork"] = json!(pull.fork.is_some());
    }
    body["base"]["repo"]["full_name"] = json!(repo);
    body["base"]["repo"]["html_url"] = json!(format!("https://github.com/{repo}"));
    body["base"]["ref"] = json!(pull.base_ref);
    body["url"] = json!(api(&format!("/repos/{repo}/pulls/{}", pull.number)));
    body["merged_at"] = if pull.merged {
        json!("2011-01-26T19:01:12Z")
    } else {
        Value::Null
    };
    if body.get("merged").is_some() || op == "pulls/get" {
        body["merged"] = json!(pull.merged);
    }
    body
}

pub fn pull_file(filename: &str) -> Value {
    let mut body = response("pulls/list-files")[0].clone();
    body["filename"] = json!(filename);
    body
}

pub fn comment(comment: &Comment) -> Value {
    let mut body = response("issues/create-comment");
    body["id"] = json!(comment.id);
    body["body"] = json!(comment.body);
    body["url"] = json!(api(&format!(
        "/repos/{}/issues/comments/{}",
        comment.repo, comment.id
    )));
    body
}

pub fn reaction(id: u64, content: &str) -> Value {
    let mut body = response("reactions/create-for-issue-comment");
    body["id"] = json!(id);
    body["content"] = json!(content);
    body
}

pub fn deployment(deployment: &Deployment) -> Value {
    let mut body = response("repos/create-deployment");
    body["id"] = json!(deployment.id);
    body["ref"] = json!(deployment.git_ref);
    body["environment"] = json!(deployment.environment);
    body["description"] = json!(deployment.description);
    body["url"] = json!(api(&format!(
        "/repos/{}/deployments/{}",
        deployment.repo, deployment.id
    )));
    body
}

pub fn deployment_status(status: &DeploymentStatus) -> Value {
    let mut body = response("repos/create-deployment-status");
    body["id"] = json!(status.id);
    body["state"] = json!(status.state);
    body["description"] = json!(status.description);
    body["environment_url"] = json!(status.environment_url);
    body
}

/// A blob sha for `content` (not git's, but stable and 40 hex digits).
pub fn blob_sha(content: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(content))[..40].to_owned()
}

pub fn content(repo: &str, path: &str, bytes: &[u8]) -> Value {
    let mut body = response("repos/get-content");
    let encoded = STANDARD.encode(bytes);
    // GitHub wraps the base64 text at 60 characters.
    let wrapped: Vec<String> = encoded
        .as_bytes()
        .chunks(60)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    let name = path.rsplit('/').next().unwrap_or(path);
    body["name"] = json!(name);
    body["path"] = json!(path);
    body["size"] = json!(bytes.len());
    body["sha"] = json!(blob_sha(bytes));
    body["content"] = json!(wrapped.join("\n") + "\n");
    body["url"] = json!(api(&format!("/repos/{repo}/contents/{path}")));
    body
}

/// One commit of a PR's commit list (the fields we read, in GitHub's shape): `author` is
/// `null` when GitHub links the commit's email to no user.
pub fn pull_commit(index: usize, login: Option<&str>) -> Value {
    json!({
        "sha": format!("{:040x}", index + 1),
        "commit": {
            "author": { "name": login.unwrap_or("Unlinked Author"), "email": "author@example.org" },
            "message": format!("commit {index}")
        },
        "author": login.map(|l| json!({ "login": l, "id": 1000 + index, "type": "User" })),
        "committer": null,
        "parents": []
    })
}

/// A repository invitation, as `PUT /repos/{repo}/collaborators/{login}` answers 201.
pub fn invitation(repo: &str, login: &str) -> Value {
    json!({
        "id": 1,
        "repository": { "full_name": repo },
        "invitee": { "login": login },
        "permissions": "write",
        "html_url": format!("https://github.com/{repo}/invitations")
    })
}

/// One entry of a directory listing: a file of `size` bytes, or a directory (`None`).
pub fn directory_entry(repo: &str, path: &str, size: Option<usize>) -> Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    json!({
        "type": if size.is_some() { "file" } else { "dir" },
        "size": size.unwrap_or(0),
        "name": name,
        "path": path,
        "sha": blob_sha(path.as_bytes()),
        "url": api(&format!("/repos/{repo}/contents/{path}")),
        "git_url": null,
        "html_url": format!("https://github.com/{repo}/blob/main/{path}"),
        "download_url": null,
        "_links": {}
    })
}

pub fn written_file(repo: &str, path: &str, bytes: &[u8], commit_sha: &str) -> Value {
    let mut body = response("repos/create-or-update-file-contents");
    let name = path.rsplit('/').next().unwrap_or(path);
    body["content"]["name"] = json!(name);
    body["content"]["path"] = json!(path);
    body["content"]["sha"] = json!(blob_sha(bytes));
    body["content"]["size"] = json!(bytes.len());
    body["content"]["url"] = json!(api(&format!("/repos/{repo}/contents/{path}")));
    body["commit"]["sha"] = json!(commit_sha);
    body
}

pub fn deleted_file(commit_sha: &str) -> Value {
    let mut body = response("repos/delete-file");
    body["commit"]["sha"] = json!(commit_sha);
    body
}

pub fn branch(name: &str, sha: &str) -> Value {
    let mut body = response("repos/get-branch");
    body["name"] = json!(name);
    body["commit"]["sha"] = json!(sha);
    body
}

pub fn created_ref(repo: &str, full_ref: &str, sha: &str) -> Value {
    let mut body = response("git/create-ref");
    body["ref"] = json!(full_ref);
    body["object"]["sha"] = json!(sha);
    body["url"] = json!(api(&format!("/repos/{repo}/git/{full_ref}")));
    body
}

pub fn merged(sha: &str) -> Value {
    let mut body = response("pulls/merge");
    body["sha"] = json!(sha);
    body
}

pub fn not_mergeable() -> Value {
    named_response("pulls/merge", 405, "response-if-merge-cannot-be-performed")
}
