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

// ---- The two layouts of the bakeries directory (ours and the original orchestrator's) ----

use super::layout::{BakeryFileName, classify};

/// The bakery every file of the original's `bakeries/` configures.
const LDEO: &str = "pangeo-ldeo-nsf-earthcube";
/// The made-up secrets of tests/fixtures/original-bakeries/secrets.
const LDEO_KEY: &str = "made-up-osn-key-0a1b2c";
const LDEO_SECRET: &str = "made-up-osn-secret-3d4e5f";
/// Every deployment the original had a bakery file for, with that file's Dataflow temp
/// location (which tells the files apart).
const ORIGINAL_DEPLOYMENTS: [(&str, &str); 7] = [
    ("pangeo-forge", "gs://pangeo-forge-prod-dataflow/temp"),
    (
        "pangeo-forge-staging",
        "gs://pangeo-forge-staging-dataflow/temp",
    ),
    ("dev-app-proxy", "gs://pangeo-forge-dev-dataflow/temp"),
    (
        "pforge-local-cisaacstern",
        "gs://pangeo-forge-dev-dataflow/temp",
    ),
    ("pforge-pr-150", "gs://pangeo-forge-dev-dataflow/temp"),
    ("pforge-pr-80", "gs://beam-dataflow-test/temp"),
    ("local", "gs://beam-dataflow-test/temp"),
];

/// tests/fixtures/original-bakeries: the original's `bakeries/` and made-up `secrets/`.
fn original_fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/original-bakeries")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the fixture in a temporary directory: `<tmp>/bakeries`, `<tmp>/secrets`.
fn original_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&original_fixture(), dir.path());
    dir
}

fn load_err(dir: &Path, deployment: &str) -> String {
    BakeryRegistry::load(dir, deployment)
        .unwrap_err()
        .to_string()
}

#[test]
fn file_names_are_classified_by_the_documented_rule() {
    let bakery = |name: &str, layout| BakeryFileName::Bakery {
        name: name.into(),
        layout,
    };
    let other = |name: &str, deployment: &str| BakeryFileName::OtherDeployment {
        name: name.into(),
        deployment: deployment.into(),
    };
    let cases = [
        ("osn.yaml", bakery("osn", BakeryLayout::Ours)),
        ("osn.yml", bakery("osn", BakeryLayout::Ours)),
        (
            "pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml",
            bakery(LDEO, BakeryLayout::Original),
        ),
        ("x.pangeo-forge.yml", bakery("x", BakeryLayout::Original)),
        (
            "pangeo-ldeo-nsf-earthcube.pangeo-forge-staging.yaml",
            other(LDEO, "pangeo-forge-staging"),
        ),
        ("pangeo-ldeo-nsf-earthcube.local.yaml", other(LDEO, "local")),
        ("x.pforge-pr-80.yaml", other("x", "pforge-pr-80")),
        // Split at the first dot, as the original did: `a.b.pangeo-forge` is deployment
        // `b.pangeo-forge`'s.
        ("a.b.pangeo-forge.yaml", other("a", "b.pangeo-forge")),
        ("a..yaml", other("a", "")),
        ("osn.secrets.yaml", BakeryFileName::NotABakery),
        ("osn.secrets.yml", BakeryFileName::NotABakery),
        (".hidden.yaml", BakeryFileName::NotABakery),
        (".pangeo-forge.yaml", BakeryFileName::NotABakery),
        ("README.md", BakeryFileName::NotABakery),
        ("x.pangeo-forge.json", BakeryFileName::NotABakery),
        ("x.yaml.bak", BakeryFileName::NotABakery),
    ];
    for (file, expected) in cases {
        assert_eq!(classify(file, "pangeo-forge"), expected, "{file}");
    }
    // A deployment name with dots is the whole rest of the name.
    assert_eq!(
        classify("x.pforge.dev.yaml", "pforge.dev"),
        bakery("x", BakeryLayout::Original)
    );
    assert_eq!(
        classify("x.pforge.dev.yaml", "pforge"),
        other("x", "pforge.dev")
    );
}

#[test]
fn the_pangeo_forge_deployment_loads_exactly_its_original_bakery_with_secrets_masked() {
    let fixture = original_fixture();
    let registry = BakeryRegistry::load(&fixture.join("bakeries"), "pangeo-forge").unwrap();
    assert_eq!(registry.names(), [LDEO]);
    let bakery = registry.get(LDEO).unwrap();
    assert_eq!(bakery.layout, BakeryLayout::Original);
    assert_eq!(
        bakery.source.file_name().unwrap(),
        "pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml"
    );
    // The secrets file beside the bakeries directory, as in the original repository.
    let secrets_source = bakery.secrets_source.clone().unwrap();
    assert_eq!(
        secrets_source,
        fixture
            .canonicalize()
            .unwrap()
            .join("secrets/bakery-args.pangeo-ldeo-nsf-earthcube.yaml")
    );
    assert!(bakery.is_dataflow());
    assert_eq!(
        bakery.runner_config["DataflowBakery"]["temp_gcs_location"],
        "gs://pangeo-forge-prod-dataflow/temp"
    );
    // Merged into the file's own fsspec_args, which stay.
    let args = &bakery.runner_config["TargetStorage"]["fsspec_args"];
    assert_eq!(args["key"], LDEO_KEY);
    assert_eq!(args["secret"], LDEO_SECRET);
    assert_eq!(
        args["client_kwargs"]["endpoint_url"],
        "https://ncsa.osn.xsede.org"
    );
    assert_eq!(args["use_listings_cache"], false);
    assert_eq!(
        bakery.target_public_url(),
        Some("https://ncsa.osn.xsede.org/{root_path}")
    );
    // No `Orchestrator:` section: the defaults.
    assert_eq!(bakery.region, "unknown");
    assert_eq!(bakery.description, "DataflowBakery");
    assert_eq!((bakery.max_concurrent_jobs, bakery.timeout), (None, None));
    // Every string of the secrets file is a secret.
    assert_eq!(bakery.secrets.len(), 2);
    assert_eq!(
        bakery
            .secrets
            .mask(&format!("key={LDEO_KEY} secret={LDEO_SECRET}")),
        "key=*** secret=***"
    );
    let debug = format!("{bakery:?}");
    assert!(
        !debug.contains(LDEO_KEY) && !debug.contains(LDEO_SECRET),
        "{debug}"
    );
    let masked = bakery.masked_runner_config();
    assert_eq!(masked["TargetStorage"]["fsspec_args"]["secret"], "***");
    assert_eq!(masked["TargetStorage"]["fsspec_args"]["key"], "***");
}

#[test]
fn each_deployment_selects_its_own_original_file() {
    let bakeries = original_fixture().join("bakeries");
    for (deployment, temp_location) in ORIGINAL_DEPLOYMENTS {
        let registry = BakeryRegistry::load(&bakeries, deployment).unwrap();
        assert_eq!(registry.names(), [LDEO], "{deployment}");
        let bakery = registry.get(LDEO).unwrap();
        assert_eq!(
            bakery.source.file_name().unwrap().to_str().unwrap(),
            format!("{LDEO}.{deployment}.yaml")
        );
        assert_eq!(
            bakery.runner_config["DataflowBakery"]["temp_gcs_location"], temp_location,
            "{deployment}"
        );
        assert_eq!(
            bakery.runner_config["TargetStorage"]["fsspec_args"]["secret"],
            LDEO_SECRET
        );
    }
    // A deployment the original had no file for has no bakery from it.
    assert!(
        BakeryRegistry::load(&bakeries, "pfo-test")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_missing_original_secrets_file_names_the_paths_it_expected() {
    let dir = original_copy();
    std::fs::remove_dir_all(dir.path().join("secrets")).unwrap();
    let bakeries = dir.path().join("bakeries");
    let err = load_err(&bakeries, "pangeo-forge");
    let beside = dir
        .path()
        .canonicalize()
        .unwrap()
        .join("secrets/bakery-args.pangeo-ldeo-nsf-earthcube.yaml");
    let inside = bakeries.join("secrets/bakery-args.pangeo-ldeo-nsf-earthcube.yaml");
    assert!(
        err.contains("pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml")
            && err.contains("is missing")
            && err.contains(&beside.display().to_string())
            && err.contains(&inside.display().to_string()),
        "{err}"
    );
    // Inside the bakeries directory does too; both at once is ambiguous.
    std::fs::create_dir(bakeries.join("secrets")).unwrap();
    std::fs::copy(
        original_fixture().join("secrets/bakery-args.pangeo-ldeo-nsf-earthcube.yaml"),
        &inside,
    )
    .unwrap();
    let registry = BakeryRegistry::load(&bakeries, "pangeo-forge").unwrap();
    assert_eq!(
        registry.get(LDEO).unwrap().secrets_source.as_deref(),
        Some(inside.as_path())
    );
    copy_dir(
        &original_fixture().join("secrets"),
        &dir.path().join("secrets"),
    );
    let err = load_err(&bakeries, "pangeo-forge");
    assert!(
        err.contains("two secrets files") && err.contains(&inside.display().to_string()),
        "{err}"
    );
    // Only this deployment's bakeries need one.
    std::fs::remove_file(&inside).unwrap();
    std::fs::remove_dir_all(dir.path().join("secrets")).unwrap();
    assert!(
        BakeryRegistry::load(&bakeries, "pfo-test")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_encrypted_secrets_file_is_refused_without_its_values() {
    let dir = original_copy();
    let secrets = dir
        .path()
        .join("secrets/bakery-args.pangeo-ldeo-nsf-earthcube.yaml");
    std::fs::write(
        &secrets,
        "TargetStorage:\n  fsspec_args:\n    secret: ENC[AES256_GCM,data:bWFkZS11cA==,type:str]\nsops:\n  version: 3.7.3\n",
    )
    .unwrap();
    let err = load_err(&dir.path().join("bakeries"), "pangeo-forge");
    assert!(
        err.contains("bakery-args.pangeo-ldeo-nsf-earthcube.yaml")
            && err.contains("sops-encrypted")
            && !err.contains("bWFkZS11cA"),
        "{err}"
    );
}

/// The fixture's production file with the key at `pointer` removed, as JSON (which YAML
/// reads), in a copy of the fixture.
fn original_without(pointer: &str) -> (tempfile::TempDir, String) {
    let dir = original_copy();
    let file = dir
        .path()
        .join("bakeries/pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml");
    let mut value: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let removed = value
        .pointer_mut(parent)
        .and_then(|v| v.as_object_mut())
        .and_then(|map| map.remove(key));
    assert!(removed.is_some(), "{pointer} is in the original's file");
    std::fs::write(&file, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let err = load_err(&dir.path().join("bakeries"), "pangeo-forge");
    (dir, err)
}

#[test]
fn a_missing_required_section_of_the_original_names_file_and_key() {
    let cases = [
        ("/Bake", "`Bake` is missing"),
        ("/Bake/bakery_class", "`Bake.bakery_class` is missing"),
        ("/TargetStorage", "`TargetStorage` is missing"),
        ("/InputCacheStorage", "`InputCacheStorage` is missing"),
        ("/MetadataCacheStorage", "`MetadataCacheStorage` is missing"),
        (
            "/TargetStorage/fsspec_class",
            "`TargetStorage.fsspec_class` is missing",
        ),
        (
            "/InputCacheStorage/fsspec_args",
            "`InputCacheStorage.fsspec_args` is missing",
        ),
        (
            "/MetadataCacheStorage/root_path",
            "`MetadataCacheStorage.root_path` is missing",
        ),
        (
            "/DataflowBakery/temp_gcs_location",
            "`DataflowBakery.temp_gcs_location` is missing",
        ),
    ];
    for (pointer, expected) in cases {
        let (_dir, err) = original_without(pointer);
        assert!(
            err.contains("pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml") && err.contains(expected),
            "{pointer}: {err}"
        );
    }
    // Our layout keeps its own rules: a local bakery needs no cache sections.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "local.yaml",
        "Bake: {bakery_class: pangeo_forge_runner.bakery.local.LocalDirectBakery}\nTargetStorage: {root_path: '/data/{subpath}'}\n",
    );
    assert_eq!(
        BakeryRegistry::load(dir.path(), "pangeo-forge")
            .unwrap()
            .names(),
        ["local"]
    );
}

#[test]
fn ours_and_the_original_layout_load_side_by_side() {
    let dir = original_copy();
    let bakeries = dir.path().join("bakeries");
    write(&bakeries, "osn.yaml", OSN);
    write(&bakeries, "osn.secrets.yaml", OSN_SECRETS);
    write(
        &bakeries,
        "local-test.yml",
        "Bake: {bakery_class: pangeo_forge_runner.bakery.local.LocalDirectBakery}\nTargetStorage: {root_path: '/data/{subpath}'}\n",
    );
    let registry = BakeryRegistry::load(&bakeries, "pangeo-forge").unwrap();
    assert_eq!(registry.names(), ["local-test", "osn", LDEO]);
    let osn = registry.get("osn").unwrap();
    assert_eq!(osn.layout, BakeryLayout::Ours);
    assert_eq!(osn.region, "us-central1");
    assert_eq!(
        osn.runner_config["TargetStorage"]["fsspec_args"]["secret"],
        "s3cr3t-value-XYZ"
    );
    let original = registry.get(LDEO).unwrap();
    assert_eq!(original.layout, BakeryLayout::Original);
    assert_eq!(
        original.runner_config["TargetStorage"]["fsspec_args"]["secret"],
        LDEO_SECRET
    );
    // Each masks its own secrets.
    assert_eq!(osn.secrets.mask(LDEO_SECRET), LDEO_SECRET);
    assert_eq!(original.secrets.mask(LDEO_SECRET), "***");
}

#[test]
fn one_name_in_both_layouts_is_an_error_naming_both_files() {
    let dir = original_copy();
    let bakeries = dir.path().join("bakeries");
    write(
        &bakeries,
        "pangeo-ldeo-nsf-earthcube.yaml",
        "Bake: {bakery_class: a.B}\nTargetStorage: {root_path: '{subpath}'}\n",
    );
    let err = load_err(&bakeries, "pangeo-forge");
    assert!(
        err.contains("define the bakery `pangeo-ldeo-nsf-earthcube`")
            && err.contains(
                &bakeries
                    .join("pangeo-ldeo-nsf-earthcube.yaml")
                    .display()
                    .to_string()
            )
            && err.contains(
                &bakeries
                    .join("pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml")
                    .display()
                    .to_string()
            ),
        "{err}"
    );
    // Another deployment's file of that name is no conflict: ours loads alone.
    let registry = BakeryRegistry::load(&bakeries, "pfo-test").unwrap();
    assert_eq!(registry.get(LDEO).unwrap().layout, BakeryLayout::Ours);
    // Nor `.yaml` and `.yml` of one name in our layout.
    write(
        dir.path(),
        "x.yaml",
        "Bake: {bakery_class: a.B}\nTargetStorage: {root_path: '{subpath}'}\n",
    );
    write(
        dir.path(),
        "x.yml",
        "Bake: {bakery_class: a.B}\nTargetStorage: {root_path: '{subpath}'}\n",
    );
    let err = load_err(dir.path(), "pangeo-forge");
    assert!(err.contains("x.yaml") && err.contains("x.yml"), "{err}");
}

#[test]
fn an_original_file_may_carry_our_section_but_not_a_secrets_file() {
    let dir = original_copy();
    let file = dir
        .path()
        .join("bakeries/pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{text}\nOrchestrator:\n  region: us-central1\n  max_concurrent_jobs: 3\n"),
    )
    .unwrap();
    let registry = BakeryRegistry::load(&dir.path().join("bakeries"), "pangeo-forge").unwrap();
    let bakery = registry.get(LDEO).unwrap();
    assert_eq!(bakery.region, "us-central1");
    assert_eq!(bakery.max_concurrent_jobs, Some(3));
    assert!(bakery.runner_config.get("Orchestrator").is_none());

    std::fs::write(
        &file,
        format!("{text}\nOrchestrator:\n  secrets_file: other.yaml\n"),
    )
    .unwrap();
    let err = load_err(&dir.path().join("bakeries"), "pangeo-forge");
    assert!(
        err.contains("pangeo-ldeo-nsf-earthcube.pangeo-forge.yaml")
            && err.contains("`Orchestrator.secrets_file`")
            && err.contains("bakery-args.pangeo-ldeo-nsf-earthcube.yaml"),
        "{err}"
    );
}

/// The ```yaml blocks of docs/bakeries.md: (file name of its first `# <file>` line, text).
fn documented_files() -> Vec<(String, String)> {
    let doc = include_str!("../../docs/bakeries.md");
    let mut files = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```yaml" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let first = block.first().copied().unwrap_or_default();
        let name = first
            .strip_prefix("# ")
            .and_then(|rest| rest.split_whitespace().next())
            .map(|name| name.trim_end_matches(':'))
            .unwrap_or_else(|| {
                panic!("a yaml block of docs/bakeries.md starts `{first}`, not `# <file name>`")
            });
        assert!(
            !name.split('/').any(|part| part == ".." || part.is_empty()),
            "{name}"
        );
        files.push((name.to_owned(), block.join("\n") + "\n"));
    }
    files
}

#[test]
fn every_yaml_example_of_the_docs_loads() {
    let files = documented_files();
    assert!(files.len() >= 4, "{files:?}");
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in &files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        assert!(!path.exists(), "docs/bakeries.md writes {name} twice");
        std::fs::write(&path, text).unwrap();
    }
    let bakeries = dir.path().join("bakeries");
    // Every documented bakery file is in the bakeries directory and loads.
    let registry = BakeryRegistry::load(&bakeries, "pangeo-forge").unwrap();
    assert_eq!(registry.names(), ["osn-dataflow", LDEO]);
    for (name, _) in &files {
        let in_bakeries = name.strip_prefix("bakeries/");
        let is_bakery = in_bakeries.is_some_and(|file| {
            matches!(
                classify(file, "pangeo-forge"),
                BakeryFileName::Bakery { .. }
            )
        });
        let is_secrets = registry.names().iter().any(|bakery| {
            registry
                .get(bakery)
                .unwrap()
                .secrets_source
                .as_deref()
                .is_some_and(|source| {
                    source.canonicalize().unwrap() == dir.path().join(name).canonicalize().unwrap()
                })
        });
        assert!(
            is_bakery || is_secrets,
            "docs/bakeries.md's {name} is not loaded"
        );
    }
    let ours = registry.get("osn-dataflow").unwrap();
    assert_eq!(ours.region, "us-central1");
    assert!(!ours.secrets.is_empty());
    assert_eq!(
        ours.runner_config["MetadataCacheStorage"]["root_path"],
        "cache/metadata/{subpath}"
    );
    let original = registry.get(LDEO).unwrap();
    assert_eq!(original.layout, BakeryLayout::Original);
    assert!(!original.secrets.is_empty());
}
