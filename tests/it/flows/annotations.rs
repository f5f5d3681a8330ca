//! meta.yaml problems as a contributor sees them: check-run annotations on the exact line
//! and column of the file in the PR, failures stopping the runs and warnings not, in
//! batches of at most 50 (the fake GitHub refuses more, as GitHub does).

use super::*;
use crate::both_engines;
use crate::support::fake_github::{Annotation, CheckRun, Fault};
use crate::support::github_app::{BAKERY, meta_yaml};
use pangeo_forge_orchestrator::db::enums::DeliveryState;

/// Synchronizes a feedstock PR whose `feedstock/` holds `files` at a fresh sha; returns
/// its check run.
async fn synchronized(h: &GithubAppHarness, files: &[(&str, &str)], guid: &str) -> CheckRun {
    let mut payload = pull_request("opened.payload.json", FEEDSTOCK);
    let sha = format!(
        "{:040x}",
        guid.len() * 7919 + guid.bytes().map(u64::from).sum::<u64>() as usize
    );
    payload["pull_request"]["head"]["sha"] = sha.clone().into();
    for (path, text) in files {
        h.github
            .set_file(FEEDSTOCK, path, &sha, text.as_bytes().to_vec());
    }
    h.app.deliver("pull_request", guid, &payload).await;
    h.app
        .wait_for_delivery(guid, DeliveryState::Done, WAIT)
        .await;
    h.github
        .check_runs()
        .into_iter()
        .find(|c| c.head_sha == sha)
        .expect("a check run")
}

/// `(line, column, level, title)` of each annotation, all on `feedstock/meta.yaml`.
fn placed(annotations: &[Annotation]) -> Vec<(u64, Option<u64>, &str, &str)> {
    for a in annotations {
        assert_eq!(a.path, "feedstock/meta.yaml", "{a:?}");
        assert_eq!(a.start_line, a.end_line, "{a:?}");
    }
    annotations
        .iter()
        .map(|a| {
            (
                a.start_line,
                a.start_column,
                a.level.as_str(),
                a.title.as_str(),
            )
        })
        .collect()
}

/// A real contributor's meta.yaml, with what the original tolerated and one failure.
fn mistaken_meta() -> String {
    format!(
        r#"title: "GPCP"
description: Daily precipitation
pangeo_forge_version: "0.9.2"
recipes:
  - id: gpcp
    object: "recipe:recipe"
  - id: gpcp
    object: "recipe:monthly"
provenance:
  providers:
    - name: NOAA NCEI
      url: ftp.ncei.noaa.gov
  license: CC-BY-4.0
maintainer:
  - name: Jane Doe
    orcid: 0000-0002-1825-009
    github: "@janedoe"
bakery:
  id: {BAKERY}
"#
    )
}

async fn every_problem_is_annotated_on_its_line_and_failures_stop_the_runs(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let meta = mistaken_meta();
    let files = [
        ("feedstock/meta.yaml", meta.as_str()),
        ("feedstock/recipe.py", ""),
    ];
    let check = synchronized(&h, &files, "guid-mistakes").await;
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    assert_eq!(placed(&check.annotations), expected_mistakes());
    let unknown = check
        .annotations
        .iter()
        .find(|a| a.title == "Unknown key `maintainer`")
        .expect("the misspelt key");
    assert!(
        unknown.message.contains("did you mean `maintainers`?"),
        "{}",
        unknown.message
    );
    assert_eq!(check.title, "meta.yaml: 1 problem, 5 warnings");
    assert!(
        check
            .summary
            .contains("**Fix first**, line 7: Recipe id `gpcp` is already used on line 5"),
        "{}",
        check.summary
    );
    assert!(runs_of(&h.app, feedstock.id).await.is_empty());
    h.finish().await;
}

/// The problems of [`mistaken_meta`], in file order (those of the whole file, on line 1,
/// first).
fn expected_mistakes() -> Vec<(u64, Option<u64>, &'static str, &'static str)> {
    vec![
        (
            1,
            Some(1),
            "warning",
            "`pangeo_notebook_version` is missing",
        ),
        (1, Some(1), "warning", "`maintainers` is missing"),
        (7, Some(9), "failure", "Duplicate recipe id"),
        (11, Some(7), "warning", "Provider without description"),
        (12, Some(12), "warning", "Provider URL is not http(s)"),
        (14, Some(1), "warning", "Unknown key `maintainer`"),
    ]
}

async fn warnings_alone_let_the_runs_go_ahead_and_are_annotated(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let meta = meta_yaml(&["gpcp"])
        .replace(
            "0000-0002-1825-0097",
            "https://orcid.org/0000-0002-1825-0097",
        )
        .replace("  license: CC-BY-4.0\n", "");
    let orcid_line = meta
        .lines()
        .position(|l| l.contains("orcid:"))
        .expect("orcid") as u64
        + 1;
    let provenance_line = meta
        .lines()
        .position(|l| l == "provenance:")
        .expect("provenance") as u64
        + 1;
    let files = [
        ("feedstock/meta.yaml", meta.as_str()),
        ("feedstock/recipe.py", ""),
    ];
    let check = synchronized(&h, &files, "guid-warnings").await;
    assert_eq!(
        check.conclusion.as_deref(),
        Some("success"),
        "{}",
        check.summary
    );
    assert_eq!(
        placed(&check.annotations),
        vec![
            (
                provenance_line,
                Some(1),
                "warning",
                "`provenance.license` is missing"
            ),
            (orcid_line, Some(12), "warning", "Not an ORCID iD"),
        ]
    );
    assert!(
        check.summary.contains("has 2 warnings;"),
        "{}",
        check.summary
    );
    assert_eq!(runs_of(&h.app, feedstock.id).await.len(), 1);
    h.finish().await;
}

async fn a_module_file_missing_from_the_recipe_directory_is_a_failure_on_its_object(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    // `recipe:<id>` names `recipe.py`, which this commit lacks (a `recipes.py` is there).
    let meta = meta_yaml(&["gpcp"]);
    let object_line = meta
        .lines()
        .position(|l| l.contains("object:"))
        .expect("object") as u64
        + 1;
    let files = [
        ("feedstock/meta.yaml", meta.as_str()),
        ("feedstock/recipes.py", ""),
    ];
    let check = synchronized(&h, &files, "guid-module").await;
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        placed(&check.annotations),
        vec![(object_line, Some(13), "failure", "Recipe module not found")]
    );
    assert!(
        check.annotations[0]
            .message
            .contains("names the module file `feedstock/recipe.py`, which is not in this commit"),
        "{}",
        check.annotations[0].message
    );
    assert!(runs_of(&h.app, feedstock.id).await.is_empty());
    h.finish().await;
}

/// A meta.yaml with `n` maintainers whose ORCIDs are all mistyped: `n` warnings.
fn many_maintainers(n: usize) -> String {
    let mut meta = meta_yaml(&["gpcp"]);
    for i in 0..n {
        meta.push_str(&format!("  - name: M{i}\n    orcid: {i}\n"));
    }
    meta
}

async fn more_than_fifty_annotations_go_in_batches_and_a_retry_does_not_repeat_them(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let meta = many_maintainers(120);
    // The completion (the third PATCH) fails once: the delivery is retried after two
    // batches were sent.
    h.github.fail_after(
        "PATCH",
        &format!("/repos/{FEEDSTOCK}/check-runs/"),
        2,
        1,
        Fault::Status(502),
    );
    let files = [
        ("feedstock/meta.yaml", meta.as_str()),
        ("feedstock/recipe.py", ""),
    ];
    let check = synchronized(&h, &files, "guid-many").await;
    assert_eq!(check.conclusion.as_deref(), Some("success"));
    assert_eq!(check.annotations.len(), 120, "each annotation exactly once");
    let lines: Vec<u64> = check.annotations.iter().map(|a| a.start_line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, lines, "in file order, none twice");
    let patches = h
        .github
        .calls_to("PATCH", &format!("/repos/{FEEDSTOCK}/check-runs/"));
    let sizes: Vec<usize> = patches
        .iter()
        .map(|c| {
            c.body["output"]["annotations"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .collect();
    // 50 + 50 + the failed completion's 20, then (retried) only the completion again.
    assert_eq!(sizes, vec![50, 50, 20, 20], "{sizes:?}");
    assert!(check.summary.contains("…and 70 more"), "{}", check.summary);
    assert_eq!(runs_of(&h.app, feedstock.id).await.len(), 1);
    h.finish().await;
}

both_engines!(
    every_problem_is_annotated_on_its_line_and_failures_stop_the_runs,
    warnings_alone_let_the_runs_go_ahead_and_are_annotated,
    a_module_file_missing_from_the_recipe_directory_is_a_failure_on_its_object,
    more_than_fifty_annotations_go_in_batches_and_a_retry_does_not_repeat_them,
);
