//! The original orchestrator's bakery files (tests/fixtures/original-bakeries, copied from
//! its repository) beside ours in one bakeries directory: registered in the database,
//! handed to the runner with their secrets merged and masked, and selected by the
//! deployment name of the running binary (`PFO_APP_NAME`).

use crate::both_engines;
use crate::support::TestApp;
use crate::support::process::{command, http, parse, serve};
use crate::support::stores::copy_dir;
use pangeo_forge_orchestrator::bakery::{
    BakeryLayout, BakeryRegistry, FailureReason, Registration, RunnerOutcome, RunnerRequest,
    storage_subpath, submit,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The bakery all of the original's files configure.
const LDEO: &str = "pangeo-ldeo-nsf-earthcube";
/// The made-up secret of the fixture's secrets file.
const LDEO_SECRET: &str = "made-up-osn-secret-3d4e5f";
const LDEO_KEY: &str = "made-up-osn-key-0a1b2c";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/original-bakeries")
}

/// A copy of the fixture (`bakeries/`, `secrets/`) plus a local bakery of ours,
/// `local-test.yaml`, in `bakeries/`.
fn both_layouts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    std::fs::write(
        dir.path().join("bakeries/local-test.yaml"),
        "Bake: {bakery_class: pangeo_forge_runner.bakery.local.LocalDirectBakery}\n\
         TargetStorage: {fsspec_class: fsspec.implementations.local.LocalFileSystem, fsspec_args: {}, root_path: '/tmp/out/{subpath}'}\n\
         Orchestrator: {region: local, description: Local test bakery}\n",
    )
    .unwrap();
    dir
}

fn fake_runner() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fake-pangeo-forge-runner")
        .display()
        .to_string()
}

async fn both_layouts_are_registered(app: TestApp) {
    let dir = both_layouts();
    let bakeries = dir.path().join("bakeries");
    let registry = BakeryRegistry::load(&bakeries, "pangeo-forge").unwrap();
    let db = app.db();
    assert_eq!(
        registry.register(db).await.unwrap(),
        Registration {
            created: vec!["local-test".into(), LDEO.into()],
            ..Default::default()
        }
    );
    let row = db.bakery_by_name(LDEO).await.unwrap().unwrap();
    assert_eq!(row.region, "unknown");
    assert_eq!(row.description, "DataflowBakery");
    let local = db.bakery_by_name("local-test").await.unwrap().unwrap();
    assert_eq!(local.region, "local");

    // The staging deployment registers the same bakery from its own file: the same row.
    let staging = BakeryRegistry::load(&bakeries, "pangeo-forge-staging").unwrap();
    assert_eq!(
        staging.get(LDEO).unwrap().runner_config["InputCacheStorage"]["root_path"],
        "pangeo-forge-staging-cache"
    );
    let again = staging.register(db).await.unwrap();
    assert_eq!(again.unchanged, ["local-test", LDEO]);
    assert_eq!(db.count_bakeries().await.unwrap(), 2);
}

both_engines!(both_layouts_are_registered);

#[tokio::test]
async fn an_original_bakery_reaches_the_runner_with_its_secrets_merged_and_masked() {
    let registry = BakeryRegistry::load(&fixture().join("bakeries"), "pangeo-forge").unwrap();
    let bakery = registry.get(LDEO).unwrap();
    assert_eq!(bakery.layout, BakeryLayout::Original);
    let request = RunnerRequest {
        command: fake_runner(),
        repo_url: "https://github.com/pangeo-forge/gpcp-feedstock".into(),
        checkout: None,
        git_ref: "35d889f7c89e9f0d72353a0649ed1cd8da04826b".into(),
        // The stand-in fails printing `TargetStorage.fsspec_args.secret` of the config
        // it was given: the merged secret reached it.
        recipe_id: "gpcp-fails".into(),
        feedstock_subdir: None,
        prune: true,
        job_name: None,
        subpath: Some(storage_subpath(
            "pangeo-forge",
            "pangeo-forge/gpcp-feedstock",
            7,
            "gpcp-fails",
            true,
        )),
        config: bakery,
        timeout: Duration::from_secs(30),
    };
    let RunnerOutcome::Failed {
        reason,
        message,
        trace,
        log,
    } = submit(&request).await
    else {
        panic!("the stand-in fails recipes named *fails*");
    };
    assert_eq!(reason, FailureReason::Reported);
    assert_eq!(message, "Error during running: denied for secret=***");
    let trace = trace.unwrap_or_default();
    for text in [&message, &trace, &log] {
        assert!(
            !text.contains(LDEO_SECRET) && !text.contains(LDEO_KEY),
            "a secret leaked: {text}"
        );
    }
    assert!(trace.ends_with("denied for secret=***"), "{trace}");
}

const STATS: &str = r#"{"query": "{ bakeries(first: 10) { nodes { name region description } } }"}"#;

#[test]
fn the_binary_loads_the_files_of_its_own_deployment() {
    let dir = both_layouts();
    let bakeries = dir.path().join("bakeries");
    let mut cmd = command(dir.path());
    cmd.env("PFO_BAKERIES_DIR", &bakeries)
        .env("PFO_APP_NAME", "pangeo-forge-staging");
    let (server, seen) = serve(cmd);
    let log = seen.join("\n");
    assert!(
        log.contains("pangeo-ldeo-nsf-earthcube.pangeo-forge-staging.yaml")
            && log.contains("bakery configured"),
        "{log}"
    );
    // The other six deployments' files are skipped, said at info.
    let skipped = seen
        .iter()
        .filter(|l| l.contains("bakery file of another deployment skipped"))
        .count();
    assert_eq!(skipped, 6, "{log}");
    assert!(!log.contains("ERROR") && !log.contains("WARN"), "{log}");
    let (status, body) = http(
        &server.address,
        "POST",
        "/graphql",
        STATS,
        "application/json",
    );
    assert_eq!(status, 200);
    assert_eq!(
        parse(&body),
        json!({"data": {"bakeries": {"nodes": [
            {"name": "local-test", "region": "local", "description": "Local test bakery"},
            {"name": LDEO, "region": "unknown", "description": "DataflowBakery"},
        ]}}})
    );
    assert!(!log.contains(LDEO_SECRET) && !log.contains(LDEO_KEY));
}

#[test]
fn the_binary_refuses_to_start_without_the_original_secrets_file() {
    let dir = both_layouts();
    std::fs::remove_dir_all(dir.path().join("secrets")).unwrap();
    let bakeries = dir.path().join("bakeries");
    let out = command(dir.path())
        .env("PFO_BAKERIES_DIR", &bakeries)
        .env("PFO_APP_NAME", "pangeo-forge")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = dir
        .path()
        .canonicalize()
        .unwrap()
        .join("secrets/bakery-args.pangeo-ldeo-nsf-earthcube.yaml");
    assert!(
        stderr.contains("loading the bakeries directory")
            && stderr.contains("pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml")
            && stderr.contains(&expected.display().to_string()),
        "{stderr}"
    );
}
