//! `dict_object` recipes, as the CMIP6 feedstocks and staged-recipes' `daymet` write them:
//! the ids are the keys of a dictionary the recipe module builds. synchronize copies the
//! recipe directory from the fork and has the runner's `expand-meta` import the module (the
//! fake runner executes it as runner 0.10 does, and refuses the mapping form as 0.10 does);
//! one test run is queued per key; `/run` of a mapping-form recipe bakes from a copy whose
//! meta.yaml is in the list form; a module that fails to import, hangs or prints a secret
//! fails the check run with the runner's own last line, masked.

use super::*;
use crate::both_engines;
use crate::support::WEBHOOK_SECRET;
use crate::support::fake_github::FakePull;
use crate::support::github_app::BAKERY;
use crate::support::webhooks::pr_comment;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use serde_json::Value;

/// The fork the PR comes from.
const FORK: &str = "contributor/staged-recipes";

/// meta.yaml with `dict_object: recipe:recipes`, in the mapping or the list form.
fn dict_meta(mapping_form: bool) -> String {
    let recipes = if mapping_form {
        "recipes:\n  dict_object: 'recipe:recipes'\n"
    } else {
        "recipes:\n  - dict_object: 'recipe:recipes'\n"
    };
    format!("title: CMIP6 subset\n{recipes}bakery:\n  id: {BAKERY}\n")
}

/// A staged-recipes PR from [`FORK`] adding `recipes/cmip6/` with `meta` and a
/// `recipe.py` of `module_source`, synchronized; the check run it got.
async fn synchronized(
    h: &GithubAppHarness,
    meta: &str,
    module_source: &str,
) -> crate::support::fake_github::CheckRun {
    let mut payload = pull_request("opened.payload.json", STAGED);
    payload["pull_request"]["head"]["repo"]["full_name"] = FORK.into();
    payload["pull_request"]["head"]["repo"]["html_url"] =
        format!("https://github.com/{FORK}").into();
    let sha = head_sha(&payload);
    let number = payload["number"].as_u64().expect("number");
    let files = [
        "recipes/cmip6/meta.yaml",
        "recipes/cmip6/recipe.py",
        "recipes/cmip6/requirements.txt",
        "recipes/cmip6/helpers/grids.py",
    ];
    h.github.set_pull_files(STAGED, number, &files);
    h.github.add_pull(
        STAGED,
        FakePull {
            fork: Some(FORK.into()),
            ..FakePull::open(number, "Add CMIP6", "add-cmip6", &sha)
        },
    );
    let contents = [
        meta,
        module_source,
        "pangeo-forge-recipes==0.10.8\n",
        "GRIDS = 2\n",
    ];
    for (file, text) in files.iter().zip(contents) {
        h.github
            .set_file(FORK, file, &sha, text.as_bytes().to_vec());
    }
    h.app.deliver("pull_request", "guid-dict", &payload).await;
    h.app
        .wait_for_delivery("guid-dict", DeliveryState::Done, WAIT)
        .await;
    h.github
        .check_runs()
        .into_iter()
        .find(|c| c.head_sha == sha)
        .expect("a check run")
}

const TWO_KEYS: &str = "recipes = {'cmip6-tas': object(), 'cmip6-pr': object()}\n";

fn argv_of(call: &Value) -> Vec<String> {
    call["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect()
}

async fn one_run_per_key(app: TestApp, mapping_form: bool) {
    let h = GithubAppHarness::start(app).await;
    let staged = register(&h.app, STAGED).await;
    let check = synchronized(&h, &dict_meta(mapping_form), TWO_KEYS).await;
    assert_eq!(check.conclusion.as_deref(), Some("success"), "{check:?}");
    let mut ids: Vec<String> = runs_of(&h.app, staged.id)
        .await
        .into_iter()
        .map(|r| r.recipe_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["cmip6-pr", "cmip6-tas"]);
    // The recipe directory was read from the fork, subdirectories included.
    let summary = h.github.summary();
    let wanted = format!("GET /repos/{FORK}/contents/recipes/cmip6/helpers/grids.py");
    assert!(summary.iter().any(|c| c.contains(&wanted)), "{summary:?}");
    h.finish().await;
}

async fn the_mapping_form_queues_one_run_per_key(app: TestApp) {
    one_run_per_key(app, true).await;
}

async fn the_list_form_queues_one_run_per_key(app: TestApp) {
    one_run_per_key(app, false).await;
}

async fn run_of_a_mapping_form_recipe_bakes_a_list_form_copy(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    register(&h.app, STAGED).await;
    synchronized(&h, &dict_meta(true), TWO_KEYS).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-run",
            &pr_comment(STAGED, 2, "/run cmip6-tas", "MEMBER"),
        )
        .await;
    let delivery = h
        .app
        .wait_for_delivery("guid-run", DeliveryState::Done, WAIT)
        .await;
    assert!(
        delivery.note.as_deref().unwrap_or("").contains("submitted"),
        "{delivery:?}"
    );
    let calls = h.runner_calls();
    let argv = argv_of(calls.last().expect("a bake"));
    let repo = argv
        .iter()
        .find_map(|a| a.strip_prefix("--repo="))
        .expect("--repo")
        .to_owned();
    // The fake runner refuses a mapping-form meta.yaml as runner 0.10 does: it baked a copy.
    assert!(
        repo.starts_with('/'),
        "a local copy, not the fork's URL: {argv:?}"
    );
    assert!(
        argv.contains(&"--Bake.recipe_id=cmip6-tas".to_owned()),
        "{argv:?}"
    );
    assert!(
        argv.contains(&"--feedstock-subdir=recipes/cmip6".to_owned()),
        "{argv:?}"
    );
    assert!(
        !std::path::Path::new(&repo).exists(),
        "the copy is deleted once the runner is done: {repo}"
    );
    h.finish().await;
}

async fn run_of_a_list_form_recipe_clones_the_fork(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    register(&h.app, STAGED).await;
    synchronized(&h, &dict_meta(false), TWO_KEYS).await;
    h.app
        .deliver(
            "issue_comment",
            "guid-run",
            &pr_comment(STAGED, 2, "/run cmip6-pr", "MEMBER"),
        )
        .await;
    h.app
        .wait_for_delivery("guid-run", DeliveryState::Done, WAIT)
        .await;
    let calls = h.runner_calls();
    let argv = argv_of(calls.last().expect("a bake"));
    assert!(
        argv.contains(&format!("--repo=https://github.com/{FORK}")),
        "runner 0.10 expands the list form itself: {argv:?}"
    );
    h.finish().await;
}

/// The check run a module of `source` gets; no run is queued.
async fn failing_expansion(app: TestApp, source: &str) -> crate::support::fake_github::CheckRun {
    let h = GithubAppHarness::start(app).await;
    let staged = register(&h.app, STAGED).await;
    let check = synchronized(&h, &dict_meta(true), source).await;
    assert_eq!(check.conclusion.as_deref(), Some("failure"), "{check:?}");
    assert!(runs_of(&h.app, staged.id).await.is_empty());
    h.finish().await;
    check
}

async fn an_import_error_fails_the_check_run_with_the_runners_line(app: TestApp) {
    let check = failing_expansion(app, "import xesmf_not_installed\nrecipes = {}\n").await;
    assert_eq!(check.title, "The dict_object recipes could not be expanded");
    assert!(
        check
            .summary
            .contains("ModuleNotFoundError: No module named 'xesmf_not_installed'"),
        "{}",
        check.summary
    );
    // And on the line of the `dict_object` (line 3 of `dict_meta`, its value at column 16).
    let annotations: Vec<_> = check
        .annotations
        .iter()
        .map(|a| {
            (
                a.path.as_str(),
                a.start_line,
                a.start_column,
                a.level.as_str(),
            )
        })
        .collect();
    assert_eq!(
        annotations,
        vec![("recipes/cmip6/meta.yaml", 3, Some(16), "failure")],
        "{:?}",
        check.annotations
    );
    assert!(
        check.annotations[0]
            .message
            .contains("No module named 'xesmf_not_installed'"),
        "{}",
        check.annotations[0].message
    );
}

async fn the_contributors_module_sees_none_of_the_servers_environment(app: TestApp) {
    let check = failing_expansion(
        app,
        "import os\nraise RuntimeError('env: ' + ','.join(sorted(os.environ)))\n",
    )
    .await;
    let line = check
        .summary
        .lines()
        .find(|l| l.starts_with("RuntimeError: env: "))
        .unwrap_or_else(|| panic!("{}", check.summary));
    let names: Vec<&str> = line["RuntimeError: env: ".len()..].split(',').collect();
    assert!(
        names.contains(&"PATH") && names.contains(&"HOME"),
        "{names:?}"
    );
    // What the server runs with (the test's own environment: database URLs, cargo's and
    // the CI's variables) stays with the server. Python's launcher (pyenv here) and the
    // shell it uses add their own, which are not the server's.
    let launcher =
        |n: &str| n.starts_with("PYENV") || n.starts_with("_PYENV") || n == "SHLVL" || n == "PWD";
    let leaked: Vec<&&str> = names
        .iter()
        .filter(|n| {
            !["PATH", "LANG", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE"].contains(n)
                && !launcher(n)
        })
        .filter(|n| std::env::var_os(n).is_some())
        .collect();
    assert!(
        leaked.is_empty(),
        "the server's variables reached the module: {leaked:?}"
    );
    assert!(
        std::env::vars().count() > names.len(),
        "the test runs with more variables"
    );
}

async fn a_secret_the_module_prints_is_masked(app: TestApp) {
    let source = format!("raise RuntimeError('found {WEBHOOK_SECRET}')\n");
    let check = failing_expansion(app, &source).await;
    assert!(!check.summary.contains(WEBHOOK_SECRET), "{}", check.summary);
    assert!(
        check.summary.contains("RuntimeError: found ***"),
        "{}",
        check.summary
    );
}

async fn a_module_that_hangs_is_stopped_at_the_timeout(app: TestApp) {
    let check = failing_expansion(app, "import time\ntime.sleep(600)\nrecipes = {}\n").await;
    assert!(
        check.summary.contains("did not finish within"),
        "{}",
        check.summary
    );
}

async fn keys_that_are_not_usable_ids_are_refused(app: TestApp) {
    let check = failing_expansion(app, "recipes = {}\n").await;
    assert!(
        check.summary.contains("expanded to no recipe ids"),
        "{}",
        check.summary
    );
}

async fn a_merged_feedstock_pr_runs_every_key_in_production(app: TestApp) {
    let h = GithubAppHarness::start(app).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let merge_sha = "5555555555555555555555555555555555555555";
    for (file, text) in [
        ("feedstock/meta.yaml", dict_meta(true)),
        ("feedstock/recipe.py", TWO_KEYS.to_owned()),
    ] {
        h.github
            .set_file(FEEDSTOCK, file, merge_sha, text.into_bytes());
    }
    let payload = merged_pull_request(FEEDSTOCK, merge_sha);
    let number = payload["number"].as_u64().expect("number");
    h.github.set_pull_files(
        FEEDSTOCK,
        number,
        &["feedstock/meta.yaml", "feedstock/recipe.py"],
    );
    h.app.deliver("pull_request", "guid-merged", &payload).await;
    h.app
        .wait_for_delivery("guid-merged", DeliveryState::Done, WAIT)
        .await;
    let mut ids: Vec<String> = runs_of(&h.app, feedstock.id)
        .await
        .into_iter()
        .filter(|r| !r.is_test)
        .map(|r| r.recipe_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["cmip6-pr", "cmip6-tas"]);
    let environments: Vec<String> = h
        .github
        .deployments()
        .into_iter()
        .map(|d| d.environment)
        .collect();
    assert_eq!(environments.len(), 2, "{environments:?}");
    // Both baked from a list-form copy (the fake runner refuses the mapping form).
    let calls = h.runner_calls();
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert!(
            argv_of(call).iter().any(|a| a.starts_with("--repo=/")),
            "{call}"
        );
    }
    h.finish().await;
}

both_engines!(
    a_merged_feedstock_pr_runs_every_key_in_production,
    the_mapping_form_queues_one_run_per_key,
    the_list_form_queues_one_run_per_key,
    run_of_a_mapping_form_recipe_bakes_a_list_form_copy,
    run_of_a_list_form_recipe_clones_the_fork,
    an_import_error_fails_the_check_run_with_the_runners_line,
    the_contributors_module_sees_none_of_the_servers_environment,
    a_secret_the_module_prints_is_masked,
    a_module_that_hangs_is_stopped_at_the_timeout,
    keys_that_are_not_usable_ids_are_refused,
);
