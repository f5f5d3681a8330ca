//! The GitHub client against the fake GitHub: tokens, every call's route and body, and how
//! failures are classified. No database.

mod failures;
mod tokens;

use crate::support::fake_github::{DeploymentStatus, FakeGithub, FakePull};
use pangeo_forge_orchestrator::github::{HeadRepository, Installation, NewCheckRun, PullRequest};
use serde_json::json;

pub(super) const REPO: &str = "pangeo-forge/staged-recipes";
const SHA: &str = "ce587453ced02b1526dfb4cb910479d431683101";
pub(super) const INSTALLATION: u64 = 7;

pub(super) async fn setup() -> (FakeGithub, Installation) {
    let fake = FakeGithub::start().await;
    let installation = fake.app().installation(INSTALLATION).expect("installation");
    (fake, installation)
}

fn check_run() -> NewCheckRun {
    NewCheckRun {
        name: "synchronize".into(),
        head_sha: SHA.into(),
        status: "in_progress".into(),
        title: "Syncing latest commit to Pangeo Forge Cloud".into(),
        summary: "".into(),
        details_url: Some("https://pangeo-forge.org/dashboard/feedstock/1".into()),
    }
}

#[tokio::test]
async fn check_runs_are_created_and_completed() {
    let (fake, gh) = setup().await;
    let first = gh.create_check_run(REPO, &check_run()).await.unwrap();
    let second = gh.create_check_run(REPO, &check_run()).await.unwrap();
    assert_eq!((first, second), (1, 2));
    gh.complete_check_run(REPO, first, "success", "Done", "All good", &[])
        .await
        .unwrap();

    assert_eq!(
        fake.summary(),
        [
            format!("POST /repos/{REPO}/check-runs"),
            format!("POST /repos/{REPO}/check-runs"),
            format!("PATCH /repos/{REPO}/check-runs/1"),
        ]
    );
    let created = &fake.calls_to("POST", "/repos/")[0];
    assert_eq!(
        created.body,
        json!({
            "name": "synchronize", "head_sha": SHA, "status": "in_progress",
            "output": { "title": "Syncing latest commit to Pangeo Forge Cloud", "summary": "" },
            "details_url": "https://pangeo-forge.org/dashboard/feedstock/1",
        })
    );
    let patch = &fake.calls_to("PATCH", "/repos/")[0].body;
    assert_eq!(patch["status"], "completed");
    assert_eq!(patch["conclusion"], "success");
    assert!(patch["completed_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        patch["output"],
        json!({ "title": "Done", "summary": "All good" })
    );
    let run = &fake.check_runs()[0];
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("success"))
    );
}

#[tokio::test]
async fn file_contents_are_decoded_and_missing_files_are_none() {
    let (fake, gh) = setup().await;
    let meta = "title: Test\nrecipes:\n  - id: a\n".repeat(20);
    fake.set_file(REPO, "recipes/my recipe/meta.yaml", SHA, meta.clone());
    let got = gh
        .file_contents(REPO, "recipes/my recipe/meta.yaml", SHA)
        .await
        .unwrap();
    assert_eq!(got.as_deref(), Some(meta.as_bytes()));
    assert_eq!(
        gh.file_contents(REPO, "feedstock/meta.yaml", SHA)
            .await
            .unwrap(),
        None
    );
    let calls = fake.calls_to("GET", "/repos/");
    assert_eq!(
        calls[0].path,
        format!("/repos/{REPO}/contents/recipes/my%20recipe/meta.yaml")
    );
    assert_eq!(calls[0].query_param("ref").as_deref(), Some(SHA));
}

#[tokio::test]
async fn pull_requests_and_their_files_are_read() {
    let (fake, gh) = setup().await;
    fake.add_pull(REPO, FakePull::open(3, "Add recipe", "add-recipe", SHA));
    fake.add_pull(
        REPO,
        FakePull {
            state: "closed".into(),
            merged: true,
            ..FakePull::open(2, "Old", "old", SHA)
        },
    );
    let files: Vec<String> = (0..150).map(|i| format!("recipes/x/file{i}.py")).collect();
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    fake.set_pull_files(REPO, 3, &names);

    let pull = gh.pull_request(REPO, 3).await.unwrap();
    assert_eq!(
        pull,
        PullRequest {
            number: 3,
            title: "Add recipe".into(),
            head_sha: SHA.into(),
            head_ref: "add-recipe".into(),
            base_ref: "main".into(),
            state: "open".into(),
            merged: false,
            head_repository: Some(HeadRepository {
                full_name: REPO.into(),
                html_url: format!("https://github.com/{REPO}"),
            }),
        }
    );
    assert!(gh.pull_request(REPO, 2).await.unwrap().merged);
    let open = gh.open_pull_requests(REPO).await.unwrap();
    assert_eq!(open.iter().map(|p| p.number).collect::<Vec<_>>(), [3]);
    assert_eq!(gh.pull_request_files(REPO, 3).await.unwrap(), files);

    let pages: Vec<_> = fake
        .calls_to("GET", &format!("/repos/{REPO}/pulls/3/files"))
        .iter()
        .map(|c| (c.query_param("per_page"), c.query_param("page")))
        .collect();
    let page = |n: &str| (Some("100".to_owned()), Some(n.to_owned()));
    assert_eq!(pages, [page("1"), page("2")]);
}

#[tokio::test]
async fn comments_and_reactions_are_posted() {
    let (fake, gh) = setup().await;
    gh.react_to_comment(REPO, 55, "eyes").await.unwrap();
    let id = gh.comment_on_issue(REPO, 3, "Hello").await.unwrap();
    assert_eq!(id, 1);
    assert_eq!(
        fake.summary(),
        [
            format!("POST /repos/{REPO}/issues/comments/55/reactions"),
            format!("POST /repos/{REPO}/issues/3/comments"),
        ]
    );
    assert_eq!(fake.calls()[1].body, json!({ "content": "eyes" }));
    assert_eq!(fake.reactions()[0].content, "eyes");
    assert_eq!(fake.comments()[0].body, "Hello");
}

#[tokio::test]
async fn repositories_and_branches_are_created_and_deleted() {
    let (fake, gh) = setup().await;
    let repo = "pangeo-forge/gpcp-feedstock";
    assert!(!gh.repository_exists(repo).await.unwrap());
    gh.create_org_repository(
        "pangeo-forge",
        "gpcp-feedstock",
        "Pangeo Forge feedstock for gpcp.",
    )
    .await
    .unwrap();
    let create = &fake.calls_to("POST", "/orgs/pangeo-forge/repos")[0];
    assert_eq!(
        create.body,
        json!({
            "name": "gpcp-feedstock", "description": "Pangeo Forge feedstock for gpcp.",
            "private": false, "auto_init": true, "license_template": "apache-2.0",
            "gitignore_template": "Python", "has_wiki": false, "has_projects": false,
        })
    );
    assert!(gh.repository_exists(repo).await.unwrap());
    assert!(fake.has_repository(repo));
    let again = gh
        .create_org_repository("pangeo-forge", "gpcp-feedstock", "")
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(422));
    assert!(!again.is_retryable());
    assert!(again.to_string().contains("name already exists"), "{again}");

    let main = gh.branch_head(repo, "main").await.unwrap().expect("main");
    gh.create_branch(repo, "create-feedstock", &main)
        .await
        .unwrap();
    // Already there: fine.
    gh.create_branch(repo, "create-feedstock", &main)
        .await
        .unwrap();
    assert_eq!(fake.branch(repo, "create-feedstock"), Some(main.clone()));
    let refs = fake.calls_to("POST", &format!("/repos/{repo}/git/refs"));
    assert_eq!(
        refs[0].body,
        json!({ "ref": "refs/heads/create-feedstock", "sha": main })
    );
    assert_eq!(refs[1].status, 422);

    gh.delete_branch(repo, "create-feedstock").await.unwrap();
    gh.delete_branch(repo, "create-feedstock").await.unwrap();
    assert_eq!(
        gh.branch_head(repo, "create-feedstock").await.unwrap(),
        None
    );
    assert_eq!(
        fake.calls_to("DELETE", "/repos/")
            .iter()
            .map(|c| (c.path.as_str(), c.status))
            .collect::<Vec<_>>(),
        [
            (
                format!("/repos/{repo}/git/refs/heads/create-feedstock").as_str(),
                204
            ),
            (
                format!("/repos/{repo}/git/refs/heads/create-feedstock").as_str(),
                422
            ),
        ]
    );
}

#[tokio::test]
async fn files_are_written_updated_and_deleted() {
    let (fake, gh) = setup().await;
    let repo = "pangeo-forge/gpcp-feedstock";
    fake.add_repository(repo);
    gh.put_file(repo, "feedstock/meta.yaml", "main", "Add meta", b"one")
        .await
        .unwrap();
    gh.put_file(repo, "feedstock/meta.yaml", "main", "Update meta", b"two")
        .await
        .unwrap();
    assert_eq!(
        fake.file(repo, "feedstock/meta.yaml", "main").as_deref(),
        Some(&b"two"[..])
    );
    let puts = fake.calls_to("PUT", "/repos/");
    assert_eq!(
        puts[0].body,
        json!({ "message": "Add meta", "content": "b25l", "branch": "main" })
    );
    assert!(
        puts[1].body["sha"].is_string(),
        "an update names the old blob"
    );

    gh.delete_file(repo, "feedstock/meta.yaml", "main", "Remove meta")
        .await
        .unwrap();
    assert_eq!(fake.file(repo, "feedstock/meta.yaml", "main"), None);
    // Already gone: fine, and no DELETE is sent.
    gh.delete_file(repo, "feedstock/meta.yaml", "main", "Remove meta")
        .await
        .unwrap();
    let deletes = fake.calls_to("DELETE", "/repos/");
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].body["branch"], "main");
    assert_eq!(deletes[0].body["message"], "Remove meta");
}

#[tokio::test]
async fn pull_requests_are_opened_found_and_merged() {
    let (fake, gh) = setup().await;
    fake.add_repository(REPO);
    fake.set_branch(REPO, "cleanup-1", SHA);
    let number = gh
        .create_pull_request(REPO, "Cleanup gpcp", "cleanup-1", "main", "Removes files")
        .await
        .unwrap();
    assert_eq!(number, 1);
    let opened = &fake.pulls(REPO)[0];
    assert_eq!(
        (opened.head_ref.as_str(), opened.body.as_str()),
        ("cleanup-1", "Removes files")
    );
    assert_eq!(
        gh.find_open_pull_request(REPO, "cleanup-1").await.unwrap(),
        Some(1)
    );
    assert_eq!(
        gh.find_open_pull_request(REPO, "other").await.unwrap(),
        None
    );
    let find = &fake.calls_to("GET", &format!("/repos/{REPO}/pulls"))[0];
    assert_eq!(
        find.query_param("head").as_deref(),
        Some("pangeo-forge%3Acleanup-1")
    );
    assert_eq!(find.query_param("state").as_deref(), Some("open"));

    gh.merge_pull_request(REPO, number).await.unwrap();
    assert!(fake.pull(REPO, number).unwrap().merged);
    // Merging again: GitHub says 405, the PR is merged, so it is a success.
    gh.merge_pull_request(REPO, number).await.unwrap();
    assert_eq!(
        fake.summary()[3..],
        [
            format!("PUT /repos/{REPO}/pulls/1/merge"),
            format!("PUT /repos/{REPO}/pulls/1/merge"),
            format!("GET /repos/{REPO}/pulls/1"),
        ]
    );

    // A closed, unmerged PR cannot be merged: a permanent error.
    fake.add_pull(
        REPO,
        FakePull {
            state: "closed".into(),
            ..FakePull::open(9, "Closed", "x", SHA)
        },
    );
    let err = gh.merge_pull_request(REPO, 9).await.unwrap_err();
    assert_eq!(err.status(), Some(405));
    assert!(err.to_string().contains("not mergeable"), "{err}");
}

#[tokio::test]
async fn deployments_and_statuses_are_posted() {
    let (fake, gh) = setup().await;
    let repo = "pangeo-forge/gpcp-feedstock";
    let id = gh
        .create_deployment(repo, "main", "gpcp", "Production run")
        .await
        .unwrap();
    assert_eq!(id, 1);
    gh.create_deployment_status(
        repo,
        id,
        "in_progress",
        Some("https://x/recipe-run/1"),
        "Running",
    )
    .await
    .unwrap();
    gh.create_deployment_status(repo, id, "failure", None, "Submission failed")
        .await
        .unwrap();
    let create = &fake.calls_to("POST", &format!("/repos/{repo}/deployments"))[0];
    assert_eq!(
        create.body,
        json!({
            "ref": "main", "environment": "gpcp", "description": "Production run",
            "auto_merge": false, "required_contexts": [],
        })
    );
    let deployment = &fake.deployments()[0];
    let statuses: &[DeploymentStatus] = &deployment.statuses;
    let states: Vec<_> = statuses
        .iter()
        .map(|s| (s.state.as_str(), s.environment_url.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            ("in_progress", Some("https://x/recipe-run/1")),
            ("failure", None)
        ]
    );
}
