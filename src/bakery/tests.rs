//! Bakery files as a deployment writes them, and what is refused.

use super::config::load_bakery_file;
use super::runner::{RunnerRequest, runner_args, runner_config_for};
use super::*;
use std::path::Path;
use std::time::Duration;

/// The production bakery of the original orchestrator, plus our section.
const OSN: &str = r#"Bake:
  bakery_class: 'pangeo_forge_runner.bakery.dataflow.DataflowBakery'
DataflowBakery:
  temp_gcs_location: 'gs://pangeo-forge-prod-dataflow/temp'
TargetStorage:
  fsspec_class: 's3fs.S3FileSystem'
  fsspec_args:
    client_kwargs:
      endpoint_url: 'https://ncsa.osn.xsede.org'
    default_cache_type: 'none'
    default_fill_cache: False
  root_path: 'Pangeo/{subpath}'
  public_url: 'https://ncsa.osn.xsede.org/{root_path}'
InputCacheStorage:
  fsspec_class: 'gcsfs.GCSFileSystem'
  fsspec_args:
    bucket: 'pangeo-forge-prod-cache'
  root_path: 'pangeo-forge-prod-cache'
MetadataCacheStorage:
  fsspec_class: 'gcsfs.GCSFileSystem'
  fsspec_args: {}
  root_path: 'pangeo-forge-prod-cache/metadata/{subpath}'
Orchestrator:
  region: us-central1
  description: Pangeo LDEO NSF EarthCube on Dataflow
  secrets_file: osn.secrets.yaml
  max_concurrent_jobs: 4
  timeout_hours: 1.5
"#;

const OSN_SECRETS: &str =
    "TargetStorage:\n  fsspec_args:\n    key: AKIA-key-value\n    secret: s3cr3t-value-XYZ\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn osn(dir: &Path) -> BakeryConfig {
    write(dir, "osn.secrets.yaml", OSN_SECRETS);
    load_bakery_file(&write(dir, "pangeo-ldeo-nsf-earthcube.yaml", OSN)).unwrap()
}

#[test]
fn loads_the_original_bakery_with_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let bakery = osn(dir.path());
    assert_eq!(bakery.name, "pangeo-ldeo-nsf-earthcube");
    assert_eq!(bakery.region, "us-central1");
    assert_eq!(bakery.max_concurrent_jobs, Some(4));
    assert_eq!(bakery.timeout, Some(Duration::from_secs(5400)));
    assert!(bakery.is_dataflow() && !bakery.is_local());
    assert!(bakery.runner_config.get("Orchestrator").is_none());
    let args = &bakery.runner_config["TargetStorage"]["fsspec_args"];
    assert_eq!(args["secret"], "s3cr3t-value-XYZ");
    assert_eq!(
        args["client_kwargs"]["endpoint_url"],
        "https://ncsa.osn.xsede.org"
    );
    assert_eq!(args["default_fill_cache"], false);
    assert_eq!(bakery.secrets.len(), 2);

    let debug = format!("{bakery:?}");
    assert!(!debug.contains("s3cr3t-value-XYZ") && !debug.contains("AKIA-key-value"));
    assert!(debug.contains("***"));
    assert_eq!(
        bakery
            .secrets
            .mask("key=AKIA-key-value secret=s3cr3t-value-XYZ"),
        "key=*** secret=***"
    );
}

#[test]
fn dataset_url_as_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let bakery = osn(dir.path());
    let subpath = storage_subpath(
        "pangeo-forge",
        "pangeo-forge/gpcp-feedstock",
        3,
        "gpcp",
        false,
    );
    assert_eq!(
        dataset_public_url(&bakery, &subpath).as_deref(),
        Some(
            "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp.zarr"
        )
    );
}

#[test]
fn the_runner_gets_filled_paths_and_the_documented_argv() {
    let dir = tempfile::tempdir().unwrap();
    let bakery = osn(dir.path());
    let request = RunnerRequest {
        command: "pangeo-forge-runner".into(),
        repo_url: "https://github.com/pangeo-forge/staged-recipes".into(),
        checkout: None,
        git_ref: "35d889f7c89e9f0d72353a0649ed1cd8da04826b".into(),
        recipe_id: "gpcp".into(),
        feedstock_subdir: Some("recipes/gpcp".into()),
        prune: true,
        job_name: Some("a61".into()),
        subpath: Some("app/test/x/recipe-run-1/gpcp.zarr".into()),
        config: std::sync::Arc::new(bakery),
        timeout: Duration::from_secs(5),
    };
    let config = runner_config_for(&request);
    assert_eq!(
        config["TargetStorage"]["root_path"],
        "Pangeo/app/test/x/recipe-run-1/gpcp.zarr"
    );
    assert_eq!(
        config["MetadataCacheStorage"]["root_path"],
        "pangeo-forge-prod-cache/metadata/app/test/x/recipe-run-1/gpcp.zarr"
    );
    assert_eq!(
        runner_args(&request, "/tmp/c.json"),
        [
            "bake",
            "--repo=https://github.com/pangeo-forge/staged-recipes",
            "--ref=35d889f7c89e9f0d72353a0649ed1cd8da04826b",
            "--json",
            "--prune",
            "--Bake.recipe_id=gpcp",
            "--Bake.job_name=a61",
            "-f=/tmp/c.json",
            "--feedstock-subdir=recipes/gpcp",
        ]
    );
}

fn refusal(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "b.yaml", text);
    load_bakery_file(&path).unwrap_err().to_string()
}

#[test]
fn bad_files_are_refused_naming_file_and_key() {
    let target = "TargetStorage: {root_path: 'x/{subpath}'}\n";
    let local = "Bake: {bakery_class: pangeo_forge_runner.bakery.local.LocalDirectBakery}\n";
    let err = refusal(target);
    assert!(
        err.contains("b.yaml") && err.contains("`Bake.bakery_class` is missing"),
        "{err}"
    );
    let err = refusal(&format!("Bake: {{bakery_class: Dataflow}}\n{target}"));
    assert!(err.contains("not a dotted Python class name"), "{err}");
    let err = refusal(local);
    assert!(
        err.contains("`TargetStorage.root_path` is missing"),
        "{err}"
    );
    let err = refusal(&format!("{local}TargetStorage: {{root_path: 'fixed'}}\n"));
    assert!(err.contains("{subpath}"), "{err}");
    let err = refusal(&format!("{local}{target}Orchestrator: {{regoin: x}}\n"));
    assert!(
        err.contains("Orchestrator") && err.contains("regoin"),
        "{err}"
    );
    let err = refusal(&format!(
        "{local}{target}Orchestrator: {{timeout_hours: -1}}\n"
    ));
    assert!(err.contains("timeout_hours"), "{err}");
    let err = refusal(&format!(
        "{local}{target}Orchestrator: {{secrets_file: none.yaml}}\n"
    ));
    assert!(
        err.contains("none.yaml") && err.contains("cannot read the secrets file"),
        "{err}"
    );
    let err = refusal("Bake: [unclosed\n");
    assert!(err.contains("not valid YAML"), "{err}");
    let err = refusal("- a list\n");
    assert!(err.contains("expected a mapping"), "{err}");
}

#[test]
fn a_broken_secrets_file_is_reported_without_its_text() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.secrets.yaml",
        "TargetStorage:\n  fsspec_args: {secret: \"hunter2-very-secret\n",
    );
    let text = "Bake: {bakery_class: a.B}\nTargetStorage: {root_path: '{subpath}'}\nOrchestrator: {secrets_file: s.secrets.yaml}\n";
    let err = load_bakery_file(&write(dir.path(), "b.yaml", text))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not valid YAML"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn defaults_without_our_section() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Bake: {bakery_class: pangeo_forge_runner.bakery.local.LocalDirectBakery}\nTargetStorage: {root_path: '/data/{subpath}'}\n";
    let bakery = load_bakery_file(&write(dir.path(), "local-test.yml", text)).unwrap();
    assert_eq!(bakery.name, "local-test");
    assert!(bakery.is_local());
    assert_eq!(bakery.description, "LocalDirectBakery");
    assert_eq!(bakery.region, "unknown");
    assert_eq!((bakery.max_concurrent_jobs, bakery.timeout), (None, None));
    assert!(bakery.secrets.is_empty());
    assert_eq!(dataset_public_url(&bakery, "s"), None);
}

#[test]
fn multi_line_and_escaped_secrets_are_masked_too() {
    let pem =
        "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASC\n-----END KEY-----".to_owned();
    let secrets = Secrets::new([pem.clone(), "pa\"ss\\word".to_owned(), String::new()]);
    assert_eq!(secrets.mask(&format!("key={pem}")), "key=***");
    assert_eq!(secrets.mask("line: MIIEvQIBADANBgkqhkiG9w0B"), "line: ***");
    assert_eq!(
        secrets.mask(r#"{"exc_info": "pa\"ss\\word"}"#),
        r#"{"exc_info": "***"}"#
    );
    assert_eq!(secrets.mask("pa\"ss\\word"), "***");
    assert_eq!(secrets.mask("a } b"), "a } b");
    assert_eq!(
        format!("{secrets:?}"),
        format!("Secrets({} redacted)", secrets.len())
    );
}
