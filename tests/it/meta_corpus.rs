//! Real meta.yaml files from pangeo-forge/staged-recipes' history
//! (`tests/fixtures/staged-recipes-meta/`, one per recipe directory, 91 in all), each run
//! through the synchronize flow against the fake GitHub as a PR adding that recipe. The
//! verdict must be the original orchestrator's: what it accepted queues one run per recipe,
//! what it refused fails the check run saying why, and every file's problems are annotated
//! on their lines (`snapshots/it__meta_corpus__staged_recipes_meta_annotations.snap`). The `dict_object` files are expanded by
//! the fake runner, which executes a stand-in module with two keys per dictionary (their
//! real modules need the real runner's packages; the real-runner test expands a real one).

use crate::both_engines;
use crate::flows::{STAGED, WAIT, pull_request, register};
use crate::support::TestApp;
use crate::support::fake_github::FakePull;
use crate::support::github_app::GithubAppHarness;
use pangeo_forge_orchestrator::db::NewBakery;
use pangeo_forge_orchestrator::db::enums::DeliveryState;
use pangeo_forge_orchestrator::db::listing::RecipeRunFilter;
use pangeo_forge_orchestrator::meta::{Recipes, parse_meta};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Files the original refused too (it read `meta["bakery"]["id"]` and the recipes itself).
const REFUSED_BY_BOTH: &[(&str, &str)] = &[
    ("SODA.yaml", "an empty file"),
    (
        "example.yaml",
        "the 2020 conda-style template: no `recipes:`",
    ),
    ("oisst.yaml", "not valid YAML (a mis-indented provider)"),
    (
        "test-oisst-2.yaml",
        "the text `test meta.yaml`, not a mapping",
    ),
    ("antgg-2015.yaml", "its `bakery:` is commented out"),
    ("oisst__feedstock.yaml", "no `bakery:`"),
];

/// Files the original accepted by expanding `dict_object` with the runner (both forms).
const DICT_OBJECT: &[&str] = &[
    "CMIP6-DAMIP.yaml",
    "CMIP6-PMIP.yaml",
    "CMIP6_static_grids.yaml",
    "GIGATL.yaml",
    "HYCOM50.yaml",
    "INALT60.yaml",
    "PyQG_subgrid_forcing_Ross2022.yaml",
    "cmip6-wrf-wus.yaml",
    "daymet.yaml",
    "nasa-smap-sss.yaml",
];

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/staged-recipes-meta");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the corpus directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Whether the file's recipes are `dict_object`s (`None`: it does not parse).
fn parsed_kind(path: &Path) -> Option<bool> {
    let meta = parse_meta(&std::fs::read_to_string(path).ok()?).ok()?;
    Some(matches!(meta.recipes, Recipes::Dicts(_)))
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

async fn every_real_meta_yaml_gets_the_originals_verdict(app: TestApp) {
    let files = corpus();
    assert_eq!(files.len(), 91, "the corpus");
    let h = GithubAppHarness::start(app).await;
    let staged = register(&h.app, STAGED).await;
    // The bakeries the accepted files name, as a deployment would have registered them.
    let bakeries: BTreeSet<String> = files
        .iter()
        .filter_map(|f| parse_meta(&std::fs::read_to_string(f).ok()?).ok())
        .map(|m| m.bakery_id)
        .collect();
    for name in &bakeries {
        if h.app.db().bakery_by_name(name).await.expect("q").is_none() {
            h.app
                .db()
                .create_bakery(NewBakery {
                    name: name.clone(),
                    region: "us-central1".into(),
                    description: "from the corpus".into(),
                })
                .await
                .expect("bakery");
        }
    }

    let mut wrong = Vec::new();
    let mut annotations = Vec::new();
    let mut queued_before = 0;
    for (i, file) in files.iter().enumerate() {
        let name = name_of(file);
        let text = std::fs::read(file).expect("read");
        let number = 100 + i as u64;
        let sha = format!("{:040x}", i + 1);
        let dir = name.trim_end_matches(".yaml");
        let meta_path = format!("recipes/{dir}/meta.yaml");
        h.github
            .set_pull_files(STAGED, number, &[meta_path.as_str()]);
        h.github.set_file(STAGED, &meta_path, &sha, text.clone());
        // Two keys per dictionary, from a stand-in module the fake runner executes.
        let parsed = String::from_utf8(text.clone())
            .ok()
            .and_then(|t| parse_meta(&t).ok());
        let expected_recipes = match parsed.map(|m| m.recipes) {
            Some(Recipes::Listed(listed)) => {
                // The module files were in the real PR beside meta.yaml.
                for entry in &listed {
                    let module = entry.object.split_once(':').map_or("", |(m, _)| m).trim();
                    let path = format!("recipes/{dir}/{module}.py");
                    h.github.set_file(STAGED, &path, &sha, "recipe = None\n");
                }
                Some(listed.len())
            }
            Some(Recipes::Dicts(dicts)) => {
                for (n, object) in dicts.objects.iter().enumerate() {
                    let (module, attr) = object.split_once(':').expect("module:attr");
                    let source = format!("{attr} = {{'{dir}-{n}-a': None, '{dir}-{n}-b': None}}\n");
                    let path = format!("recipes/{dir}/{module}.py");
                    h.github.set_file(STAGED, &path, &sha, source.into_bytes());
                }
                Some(2 * dicts.objects.len())
            }
            None => None,
        };
        h.github
            .add_pull(STAGED, FakePull::open(number, dir, dir, &sha));
        let mut payload = pull_request("synchronize.payload.json", STAGED);
        payload["number"] = number.into();
        payload["pull_request"]["number"] = number.into();
        payload["pull_request"]["head"]["sha"] = sha.clone().into();
        let guid = format!("corpus-{i}");
        h.app.deliver("pull_request", &guid, &payload).await;
        h.app
            .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
            .await;

        let check = h
            .github
            .check_runs()
            .into_iter()
            .find(|c| c.head_sha == sha)
            .unwrap_or_else(|| panic!("{name}: no check run"));
        let runs = h
            .app
            .db()
            .count_recipe_runs(&RecipeRunFilter {
                feedstock_id: Some(staged.id),
                ..Default::default()
            })
            .await
            .expect("count") as usize;
        for a in &check.annotations {
            assert_eq!(a.path, meta_path, "{name}: {a:?}");
            annotations.push(format!(
                "{name}:{}:{} {} {}",
                a.start_line,
                a.start_column.unwrap_or(0),
                a.level,
                a.title
            ));
        }
        let queued = runs - queued_before;
        queued_before = runs;
        let refused_by_both = REFUSED_BY_BOTH.iter().any(|(n, _)| *n == name);
        let dict_object = DICT_OBJECT.contains(&name.as_str());
        let verdict = check.conclusion.as_deref().unwrap_or("none");
        let ok = if refused_by_both {
            verdict == "failure" && queued == 0
        } else {
            dict_object == matches!(parsed_kind(file), Some(true))
                && verdict == "success"
                && Some(queued) == expected_recipes
                && queued > 0
        };
        if !ok {
            wrong.push(format!(
                "{name}: check {verdict} ({}: {}), {queued} runs queued",
                check.title,
                check.summary.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "verdicts differing from the original's:\n{}",
        wrong.join("\n")
    );
    // What GitHub received, file by file: the expected annotations of the corpus.
    insta::assert_snapshot!("staged_recipes_meta_annotations", annotations.join("\n"));
    h.finish().await;
}

both_engines!(every_real_meta_yaml_gets_the_originals_verdict);
