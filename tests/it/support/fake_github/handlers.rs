//! The fake's routes: each reads or changes the state and answers like GitHub.

use super::FakeGithub;
use super::fixtures as fx;
use super::routes::{Request, error, json_reply};
use super::state::{
    Annotation, CheckRun, Comment, Deployment, DeploymentStatus, FakePull, Reaction, State,
};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// Answers one authenticated request.
pub fn dispatch(fake: &FakeGithub, req: Request) -> Response {
    let mut state = fake.state();
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let m = &req.method;
    match segs.as_slice() {
        ["app", "installations", id, "access_tokens"] if m == Method::POST => {
            mint_token(&mut state, id)
        }
        ["orgs", org, "repos"] if m == Method::POST => create_repo(&mut state, org, &req),
        ["repos", o, r, "installation"] if m == Method::GET => {
            // Every repository is in installation 1, the id the webhook fixtures carry.
            let mut body = fx::response("apps/get-repo-installation");
            body["id"] = 1.into();
            body["account"]["login"] = (*o).into();
            let _ = r;
            json_reply(200, body)
        }
        ["repos", o, r, rest @ ..] => {
            let repo = format!("{o}/{r}");
            repo_route(&mut state, &repo, m, rest, &req)
        }
        _ => not_found(),
    }
}

fn not_found() -> Response {
    error(404, "Not Found")
}

fn repo_route(state: &mut State, repo: &str, m: &Method, rest: &[&str], req: &Request) -> Response {
    match rest {
        [] if m == Method::GET => match state.repos.contains(repo) {
            true => json_reply(200, fx::repository(repo)),
            false => not_found(),
        },
        [] if m == Method::PATCH => {
            if !state.repos.contains(repo) {
                return not_found();
            }
            let settings = state.repo_settings.entry(repo.to_owned()).or_default();
            if let Some(fields) = req.body.as_object() {
                settings.extend(fields.clone());
            }
            json_reply(200, fx::repository(repo))
        }
        ["check-runs"] if m == Method::POST => create_check_run(state, repo, req),
        ["check-runs", id] if m == Method::PATCH => update_check_run(state, repo, id, req),
        ["commits", sha, "check-runs"] if m == Method::GET => list_check_runs(state, repo, sha),
        ["contents", path @ ..] if !path.is_empty() => {
            let path = path.join("/");
            match *m {
                Method::GET => get_content(state, repo, &path, req),
                Method::PUT => put_content(state, repo, &path, req),
                Method::DELETE => delete_content(state, repo, &path, req),
                _ => not_found(),
            }
        }
        ["pulls"] if m == Method::GET => list_pulls(state, repo, req),
        ["pulls"] if m == Method::POST => create_pull(state, repo, req),
        ["pulls", n] if m == Method::GET => match state.pull(repo, parse(n)) {
            Some(pull) => json_reply(200, fx::pull(repo, pull, "pulls/get")),
            None => not_found(),
        },
        ["pulls", n, "files"] if m == Method::GET => {
            let files = state
                .pull_files
                .get(&(repo.to_owned(), parse(n)))
                .cloned()
                .unwrap_or_default();
            let page: Vec<Value> = paginate(&files, req)
                .iter()
                .map(|f| fx::pull_file(f))
                .collect();
            json_reply(200, Value::Array(page))
        }
        ["pulls", n, "commits"] if m == Method::GET => {
            let authors = state
                .pull_commit_authors
                .get(&(repo.to_owned(), parse(n)))
                .cloned()
                .unwrap_or_default();
            let page: Vec<Value> = paginate(&authors, req)
                .iter()
                .enumerate()
                .map(|(i, login)| fx::pull_commit(i, login.as_deref()))
                .collect();
            json_reply(200, Value::Array(page))
        }
        ["collaborators", login] if m == Method::PUT => {
            if login.ends_with("[bot]") || login.starts_with("ghost-") {
                return error(422, "Validation Failed");
            }
            let already = state
                .invitations
                .iter()
                .any(|(r, l)| r == repo && l == login);
            state
                .invitations
                .push((repo.to_owned(), (*login).to_owned()));
            if already {
                axum::http::StatusCode::NO_CONTENT.into_response()
            } else {
                json_reply(201, fx::invitation(repo, login))
            }
        }
        ["pulls", n, "merge"] if m == Method::PUT => merge_pull(state, repo, parse(n)),
        ["issues", "comments", id, "reactions"] if m == Method::POST => {
            let reaction = Reaction {
                repo: repo.to_owned(),
                comment_id: parse(id),
                content: req.field("content"),
            };
            let id = state.next_id("reaction");
            let body = fx::reaction(id, &reaction.content);
            state.reactions.push(reaction);
            json_reply(201, body)
        }
        ["issues", n, "comments"] if m == Method::POST => {
            let comment = Comment {
                id: state.next_id("comment"),
                repo: repo.to_owned(),
                number: parse(n),
                body: req.field("body"),
            };
            let body = fx::comment(&comment);
            state.comments.push(comment);
            json_reply(201, body)
        }
        ["branches", branch @ ..] if m == Method::GET => {
            let branch = branch.join("/");
            match state.branch(repo, &branch) {
                Some(sha) => json_reply(200, fx::branch(&branch, &sha)),
                None => error(404, "Branch not found"),
            }
        }
        ["git", "refs"] if m == Method::POST => create_ref(state, repo, req),
        ["git", "refs", "heads", branch @ ..] if m == Method::DELETE => {
            let removed = state
                .branches
                .get_mut(repo)
                .and_then(|branches| branches.remove(&branch.join("/")));
            match removed {
                Some(_) => axum::http::StatusCode::NO_CONTENT.into_response(),
                None => error(422, "Reference does not exist"),
            }
        }
        ["deployments"] if m == Method::POST => {
            let deployment = Deployment {
                id: state.next_id("deployment") as i64,
                repo: repo.to_owned(),
                git_ref: req.field("ref"),
                environment: req.field("environment"),
                description: req.field("description"),
                statuses: Vec::new(),
            };
            let body = fx::deployment(&deployment);
            state.deployments.push(deployment);
            json_reply(201, body)
        }
        ["deployments", id, "statuses"] if m == Method::POST => {
            let status = DeploymentStatus {
                id: state.next_id("deployment_status"),
                state: req.field("state"),
                environment_url: req.body["environment_url"].as_str().map(str::to_owned),
                description: req.field("description"),
            };
            let id: i64 = id.parse().unwrap_or(-1);
            let body = fx::deployment_status(&status);
            match state
                .deployments
                .iter_mut()
                .find(|d| d.id == id && d.repo == repo)
            {
                Some(deployment) => {
                    deployment.statuses.push(status);
                    json_reply(201, body)
                }
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn parse(number: &str) -> u64 {
    number.parse().unwrap_or(0)
}

/// The `page` (from 1) of `per_page` (default 30) items.
fn paginate<'a, T>(items: &'a [T], req: &Request) -> &'a [T] {
    let per_page: usize = req
        .param("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let page: usize = req
        .param("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = start.saturating_add(per_page).min(items.len());
    &items[start..end]
}

fn mint_token(state: &mut State, installation: &str) -> Response {
    let Ok(installation) = installation.parse::<u64>() else {
        return not_found();
    };
    let n = state.next_id("token");
    let token = format!("ghs_fake_{installation}_{n:020}");
    state.tokens.insert(token.clone(), installation);
    let lifetime = chrono::Duration::from_std(state.token_lifetime).unwrap_or_default();
    let expires_at =
        (chrono::Utc::now() + lifetime).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json_reply(201, fx::token(&token, &expires_at))
}

fn create_repo(state: &mut State, org: &str, req: &Request) -> Response {
    let repo = format!("{org}/{}", req.field("name"));
    if state.repos.contains(&repo) {
        return error(
            422,
            "Repository creation failed: name already exists on this account",
        );
    }
    state.add_repository(&repo);
    let settings = state.repo_settings.entry(repo.clone()).or_default();
    for key in ["has_wiki", "has_projects", "homepage"] {
        if let Some(value) = req.body.get(key) {
            settings.insert(key.to_owned(), value.clone());
        }
    }
    json_reply(
        201,
        fx::created_repository(&repo, &req.field("description")),
    )
}

/// The annotations of a check-run request, checked as GitHub checks them: at most 50, each
/// with a path, lines, a known level and a message, columns only on one line.
fn annotations_of(body: &Value) -> Result<Vec<Annotation>, &'static str> {
    let Some(list) = body["output"].get("annotations") else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err("output.annotations must be an array");
    };
    if list.len() > 50 {
        return Err("Only 50 annotations are allowed per request");
    }
    if body["output"]["title"].as_str().is_none() || body["output"]["summary"].as_str().is_none() {
        return Err("output needs a title and a summary");
    }
    let mut annotations = Vec::new();
    for a in list {
        let (Some(path), Some(start_line), Some(end_line), Some(level), Some(message)) = (
            a["path"].as_str(),
            a["start_line"].as_u64(),
            a["end_line"].as_u64(),
            a["annotation_level"].as_str(),
            a["message"].as_str(),
        ) else {
            return Err("an annotation lacks path, lines, level or message");
        };
        if !["notice", "warning", "failure"].contains(&level) {
            return Err("annotation_level must be notice, warning or failure");
        }
        let start_column = a["start_column"].as_u64();
        let end_column = a["end_column"].as_u64();
        if (start_column.is_some() || end_column.is_some()) && start_line != end_line {
            return Err("columns are only allowed when start_line equals end_line");
        }
        if start_line == 0 || end_line < start_line || end_column < start_column {
            return Err("annotation lines or columns out of order");
        }
        annotations.push(Annotation {
            path: path.to_owned(),
            start_line,
            end_line,
            start_column,
            end_column,
            level: level.to_owned(),
            title: a["title"].as_str().unwrap_or_default().to_owned(),
            message: message.to_owned(),
        });
    }
    Ok(annotations)
}

fn create_check_run(state: &mut State, repo: &str, req: &Request) -> Response {
    let annotations = match annotations_of(&req.body) {
        Ok(annotations) => annotations,
        Err(refused) => return error(422, refused),
    };
    let run = CheckRun {
        id: state.next_id("check_run"),
        repo: repo.to_owned(),
        name: req.field("name"),
        head_sha: req.field("head_sha"),
        status: req.body["status"].as_str().unwrap_or("queued").to_owned(),
        conclusion: req.body["conclusion"].as_str().map(str::to_owned),
        title: req.body["output"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        summary: req.body["output"]["summary"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        details_url: req.body["details_url"].as_str().map(str::to_owned),
        annotations,
    };
    let body = fx::check_run(&run, "checks/create");
    state.check_runs.push(run);
    json_reply(201, body)
}

fn list_check_runs(state: &State, repo: &str, sha: &str) -> Response {
    let runs: Vec<Value> = state
        .check_runs
        .iter()
        .filter(|r| r.repo == repo && r.head_sha == sha)
        .map(|r| fx::check_run(r, "checks/create"))
        .collect();
    let mut body = fx::response("checks/list-for-ref");
    body["total_count"] = runs.len().into();
    body["check_runs"] = Value::Array(runs);
    json_reply(200, body)
}

fn update_check_run(state: &mut State, repo: &str, id: &str, req: &Request) -> Response {
    let id = parse(id);
    let Some(run) = state
        .check_runs
        .iter_mut()
        .find(|r| r.id == id && r.repo == repo)
    else {
        return not_found();
    };
    let body = &req.body;
    match annotations_of(body) {
        Ok(annotations) => run.annotations.extend(annotations),
        Err(refused) => return error(422, refused),
    }
    if let Some(status) = body["status"].as_str() {
        run.status = status.to_owned();
    }
    if let Some(conclusion) = body["conclusion"].as_str() {
        run.conclusion = Some(conclusion.to_owned());
    }
    if let Some(title) = body["output"]["title"].as_str() {
        run.title = title.to_owned();
    }
    if let Some(summary) = body["output"]["summary"].as_str() {
        run.summary = summary.to_owned();
    }
    json_reply(200, fx::check_run(run, "checks/update"))
}

fn file_key(repo: &str, path: &str, git_ref: String) -> (String, String, String) {
    (repo.to_owned(), path.to_owned(), git_ref)
}

fn get_content(state: &State, repo: &str, path: &str, req: &Request) -> Response {
    let git_ref = req.param("ref").unwrap_or_else(|| "main".into());
    if let Some(bytes) = state.files.get(&file_key(repo, path, git_ref.clone())) {
        return json_reply(200, fx::content(repo, path, bytes));
    }
    // A directory: the files set under it, its immediate children listed as GitHub does.
    let prefix = format!("{}/", path.trim_end_matches('/'));
    let mut children: std::collections::BTreeMap<String, Option<usize>> = Default::default();
    for ((r, file, at), bytes) in &state.files {
        if r != repo || *at != git_ref {
            continue;
        }
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        match rest.split_once('/') {
            Some((dir, _)) => children.entry(format!("{prefix}{dir}")).or_insert(None),
            None => children.entry(file.clone()).or_insert(Some(bytes.len())),
        };
    }
    if children.is_empty() {
        return not_found();
    }
    let entries: Vec<Value> = children
        .into_iter()
        .map(|(child, size)| fx::directory_entry(repo, &child, size))
        .collect();
    json_reply(200, Value::Array(entries))
}

fn put_content(state: &mut State, repo: &str, path: &str, req: &Request) -> Response {
    let branch = req.body["branch"].as_str().unwrap_or("main").to_owned();
    let Ok(bytes) = STANDARD.decode(req.field("content")) else {
        return error(422, "content is not valid Base64");
    };
    let key = file_key(repo, path, branch.clone());
    let existing = state.files.get(&key).map(|old| fx::blob_sha(old));
    let status = match (existing, req.body["sha"].as_str()) {
        (None, _) => 201,
        (Some(_), None) => return error(422, "Invalid request.\n\n\"sha\" wasn't supplied."),
        (Some(old), Some(sent)) if old != sent => {
            return error(409, &format!("{path} does not match {sent}"));
        }
        (Some(_), Some(_)) => 200,
    };
    state.files.insert(key, bytes.clone());
    state.commit_on(repo, &branch);
    let commit = state.branch(repo, &branch).unwrap_or_default();
    json_reply(status, fx::written_file(repo, path, &bytes, &commit))
}

fn delete_content(state: &mut State, repo: &str, path: &str, req: &Request) -> Response {
    let branch = req.body["branch"].as_str().unwrap_or("main").to_owned();
    let key = file_key(repo, path, branch.clone());
    let Some(old) = state.files.get(&key) else {
        return not_found();
    };
    if req.body["sha"].as_str() != Some(fx::blob_sha(old).as_str()) {
        return error(409, &format!("{path} does not match the sha sent"));
    }
    state.files.remove(&key);
    state.commit_on(repo, &branch);
    let commit = state.branch(repo, &branch).unwrap_or_default();
    json_reply(200, fx::deleted_file(&commit))
}

fn list_pulls(state: &State, repo: &str, req: &Request) -> Response {
    let wanted_state = req.param("state").unwrap_or_else(|| "open".into());
    let head = req.param("head");
    let pulls: Vec<FakePull> = state
        .pulls
        .get(repo)
        .into_iter()
        .flatten()
        .filter(|p| wanted_state == "all" || p.state == wanted_state)
        .filter(|p| match &head {
            Some(head) => head.split_once(':').map(|(_, b)| b) == Some(p.head_ref.as_str()),
            None => true,
        })
        .cloned()
        .collect();
    let page: Vec<Value> = paginate(&pulls, req)
        .iter()
        .map(|p| fx::pull(repo, p, "pulls/list"))
        .collect();
    json_reply(200, Value::Array(page))
}

fn create_pull(state: &mut State, repo: &str, req: &Request) -> Response {
    let head = req.field("head");
    let head_ref = head
        .split_once(':')
        .map_or(head.as_str(), |(_, b)| b)
        .to_owned();
    let Some(head_sha) = state.branch(repo, &head_ref) else {
        return error(422, "Validation Failed: head does not exist");
    };
    let number = state
        .pulls
        .get(repo)
        .and_then(|pulls| pulls.iter().map(|p| p.number).max())
        .unwrap_or(0)
        + 1;
    let pull = FakePull {
        body: req.field("body"),
        base_ref: req.field("base"),
        ..FakePull::open(number, &req.field("title"), &head_ref, &head_sha)
    };
    let body = fx::pull(repo, &pull, "pulls/create");
    state.pulls.entry(repo.to_owned()).or_default().push(pull);
    json_reply(201, body)
}

fn merge_pull(state: &mut State, repo: &str, number: u64) -> Response {
    let Some(pull) = state.pull_mut(repo, number) else {
        return not_found();
    };
    if pull.merged || pull.state != "open" {
        return json_reply(405, fx::not_mergeable());
    }
    pull.merged = true;
    pull.state = "closed".into();
    let base = pull.base_ref.clone();
    state.commit_on(repo, &base);
    let sha = state
        .branch(repo, &base)
        .unwrap_or_else(|| state.next_sha());
    json_reply(200, fx::merged(&sha))
}

fn create_ref(state: &mut State, repo: &str, req: &Request) -> Response {
    let full_ref = req.field("ref");
    let Some(branch) = full_ref.strip_prefix("refs/heads/") else {
        return error(422, "Reference name must start with refs/heads/");
    };
    let sha = req.field("sha");
    let branches = state.branches.entry(repo.to_owned()).or_default();
    if branches.contains_key(branch) {
        return error(422, "Reference already exists");
    }
    // The new branch starts with the files of every ref at that commit: the sha itself
    // and branches whose head it is.
    let same_commit: Vec<String> = branches
        .iter()
        .filter(|(_, head)| **head == sha)
        .map(|(name, _)| name.clone())
        .chain([sha.clone()])
        .collect();
    branches.insert(branch.to_owned(), sha.clone());
    let copied: Vec<((String, String, String), Vec<u8>)> = state
        .files
        .iter()
        .filter(|((r, _, git_ref), _)| r == repo && same_commit.contains(git_ref))
        .map(|((r, path, _), bytes)| ((r.clone(), path.clone(), branch.to_owned()), bytes.clone()))
        .collect();
    state.files.extend(copied);
    json_reply(201, fx::created_ref(repo, &full_ref, &sha))
}
