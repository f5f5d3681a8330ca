//! Job submission against a stand-in runner (tests/fixtures/fake-pangeo-forge-runner, a
//! Python script that records its argv and config and behaves by recipe id), loading a
//! bakeries directory, and registering its bakeries in the database.

use crate::both_engines;
use crate::support::TestApp;
use pangeo_forge_orchestrator::bakery::{
    BakeryConfig, BakeryRegistry, FailureReason, Registration, RunnerOutcome, RunnerRequest,
    encode_job_name, storage_subpath, submit,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The secret value the bakery's secrets file holds; it must never come back unmasked.
const SECRET: &str = "osn-secret-7f3a9c2e";
const KEY: &str = "osn-key-AKIA0042";

fn fake_runner() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fake-pangeo-forge-runner")
        .display()
        .to_string()
}

/// A bakeries directory in a temporary directory: a Dataflow bakery with a secrets file
/// and a local bakery, both recording the runner's invocations.
struct Bakeries {
    dir: tempfile::TempDir,
    registry: BakeryRegistry,
}

impl Bakeries {
    fn new() -> Bakeries {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("record.jsonl");
        let dataflow = format!(
            r#"Bake:
  bakery_class: pangeo_forge_runner.bakery.dataflow.DataflowBakery
DataflowBakery:
  temp_gcs_location: gs://pangeo-forge-test/temp
TargetStorage:
  fsspec_class: s3fs.S3FileSystem
  fsspec_args:
    client_kwargs: {{endpoint_url: 'https://ncsa.osn.xsede.org'}}
    anon: false
  root_path: Pangeo/{{subpath}}
  public_url: https://ncsa.osn.xsede.org/{{root_path}}
InputCacheStorage: {{fsspec_class: gcsfs.GCSFileSystem, fsspec_args: {{bucket: cache}}, root_path: cache}}
MetadataCacheStorage: {{fsspec_class: gcsfs.GCSFileSystem, fsspec_args: {{}}, root_path: 'cache/metadata/{{subpath}}'}}
FakeRunner:
  record_to: '{}'
Orchestrator:
  region: us-central1
  description: Dataflow on OSN storage
  secrets_file: secrets/osn.yaml
"#,
            record.display()
        );
        std::fs::write(dir.path().join("pangeo-ldeo-nsf-earthcube.yaml"), dataflow).unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        std::fs::write(
            dir.path().join("secrets/osn.yaml"),
            format!("TargetStorage:\n  fsspec_args:\n    key: {KEY}\n    secret: {SECRET}\n"),
        )
        .unwrap();
        let local = format!(
            "Bake: {{bakery_class: pangeo_forge_runner.bakery.local.LocalDirectBakery}}\nTargetStorage: {{fsspec_class: fsspec.implementations.local.LocalFileSystem, fsspec_args: {{}}, root_path: '/tmp/out/{{subpath}}'}}\nFakeRunner: {{record_to: '{}'}}\n",
            record.display()
        );
        std::fs::write(dir.path().join("local.yml"), local).unwrap();
        // Neither of these is a bakery.
        std::fs::write(dir.path().join("local.secrets.yaml"), "x: 1\n").unwrap();
        std::fs::write(dir.path().join("README.md"), "bakeries\n").unwrap();
        let registry = BakeryRegistry::load(dir.path(), "pangeo-forge").unwrap();
        Bakeries { dir, registry }
    }

    fn bakery(&self, name: &str) -> Arc<BakeryConfig> {
        self.registry.get(name).unwrap()
    }

    fn request(&self, config: &Arc<BakeryConfig>, recipe_id: &str) -> RunnerRequest {
        RunnerRequest {
            command: fake_runner(),
            repo_url: "https://github.com/pangeo-forge/gpcp-feedstock".into(),
            checkout: None,
            git_ref: "35d889f7c89e9f0d72353a0649ed1cd8da04826b".into(),
            recipe_id: recipe_id.into(),
            feedstock_subdir: None,
            prune: false,
            job_name: None,
            subpath: Some(storage_subpath(
                "pangeo-forge",
                "pangeo-forge/gpcp-feedstock",
                7,
                recipe_id,
                true,
            )),
            config: config.clone(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Every invocation the stand-in recorded: (argv, config).
    fn recorded(&self) -> Vec<(Vec<String>, Value)> {
        let text =
            std::fs::read_to_string(self.dir.path().join("record.jsonl")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line).unwrap();
                let argv = v["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect();
                (argv, v["config"].clone())
            })
            .collect()
    }
}

fn config_file_of(argv: &[String]) -> PathBuf {
    let arg = argv.iter().find(|a| a.starts_with("-f=")).unwrap();
    PathBuf::from(&arg[3..])
}

fn assert_no_secret(text: &str) {
    assert!(
        !text.contains(SECRET) && !text.contains(KEY),
        "a secret leaked: {text}"
    );
}

#[tokio::test]
async fn a_submitted_job_reports_its_name_and_id() {
    let bakeries = Bakeries::new();
    let osn = bakeries.bakery("pangeo-ldeo-nsf-earthcube");
    let mut request = bakeries.request(&osn, "gpcp");
    let job_name = encode_job_name("https://api.pangeo-forge.org/github/hooks/", 7).unwrap();
    request.job_name = Some(job_name.clone());
    request.prune = true;
    request.feedstock_subdir = Some("recipes/gpcp".into());
    let outcome = submit(&request).await;
    let RunnerOutcome::Submitted {
        job_name: name,
        job_id,
        log,
    } = outcome
    else {
        panic!("expected a submitted job, got {outcome:?}");
    };
    assert_eq!(name, job_name);
    assert_eq!(job_id, "fake-job-1");
    assert!(log.contains("Collecting pangeo-forge-recipes"), "{log}");
    assert!(
        log.contains("fake runner: starting"),
        "stderr is kept too: {log}"
    );

    let recorded = bakeries.recorded();
    assert_eq!(recorded.len(), 1);
    let (argv, config) = &recorded[0];
    let file = config_file_of(argv);
    let expected = [
        "bake".to_owned(),
        "--repo=https://github.com/pangeo-forge/gpcp-feedstock".to_owned(),
        "--ref=35d889f7c89e9f0d72353a0649ed1cd8da04826b".to_owned(),
        "--json".to_owned(),
        "--prune".to_owned(),
        "--Bake.recipe_id=gpcp".to_owned(),
        format!("--Bake.job_name={job_name}"),
        format!("-f={}", file.display()),
        "--feedstock-subdir=recipes/gpcp".to_owned(),
    ];
    assert_eq!(argv, &expected);
    assert!(
        !file.exists(),
        "the config file {} is left behind",
        file.display()
    );

    // The runner got the secrets, our section removed, and the paths filled.
    assert_eq!(config["TargetStorage"]["fsspec_args"]["secret"], SECRET);
    assert_eq!(config["TargetStorage"]["fsspec_args"]["anon"], false);
    assert!(config.get("Orchestrator").is_none());
    assert_eq!(
        config["TargetStorage"]["root_path"],
        "Pangeo/pangeo-forge/test/pangeo-forge/gpcp-feedstock/recipe-run-7/gpcp.zarr"
    );
    assert_eq!(
        config["MetadataCacheStorage"]["root_path"],
        "cache/metadata/pangeo-forge/test/pangeo-forge/gpcp-feedstock/recipe-run-7/gpcp.zarr"
    );

    // A second job gets the next id.
    let outcome =
        submit(&bakeries.request(&bakeries.bakery("pangeo-ldeo-nsf-earthcube"), "gpcp")).await;
    assert!(
        matches!(&outcome, RunnerOutcome::Submitted { job_id, .. } if job_id == "fake-job-2"),
        "{outcome:?}"
    );
    let argv = &bakeries.recorded()[1].0;
    assert!(
        !argv
            .iter()
            .any(|a| a == "--prune" || a.starts_with("--Bake.job_name"))
    );
    assert!(!argv.iter().any(|a| a.starts_with("--feedstock-subdir")));
}

#[tokio::test]
async fn a_failure_keeps_the_trace_with_secrets_masked() {
    let bakeries = Bakeries::new();
    let outcome =
        submit(&bakeries.request(&bakeries.bakery("pangeo-ldeo-nsf-earthcube"), "gpcp-fails"))
            .await;
    let RunnerOutcome::Failed {
        reason,
        message,
        trace,
        log,
    } = outcome
    else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert_eq!(reason, FailureReason::Reported);
    assert_eq!(message, "Error during running: denied for secret=***");
    let trace = trace.unwrap();
    assert!(
        trace.starts_with("Traceback (most recent call last):\n"),
        "{trace}"
    );
    assert!(
        trace.ends_with("PermissionError: denied for secret=***"),
        "{trace}"
    );
    assert_no_secret(&trace);
    assert_no_secret(&log);
    assert!(log.contains("\"status\": \"failed\""), "{log}");
    let argv = &bakeries.recorded()[0].0;
    assert!(!config_file_of(argv).exists());
}

#[tokio::test]
async fn junk_and_a_bad_exit_is_a_failure_with_the_exit_code() {
    let bakeries = Bakeries::new();
    let outcome =
        submit(&bakeries.request(&bakeries.bakery("pangeo-ldeo-nsf-earthcube"), "garbage")).await;
    let RunnerOutcome::Failed {
        reason,
        message,
        log,
        ..
    } = outcome
    else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert_eq!(reason, FailureReason::Exit(Some(3)));
    assert!(message.contains("without saying why"), "{message}");
    assert!(log.contains("Segmentation fault"), "{log}");
}

#[tokio::test]
async fn a_hanging_runner_is_killed_at_the_timeout() {
    let bakeries = Bakeries::new();
    let osn = bakeries.bakery("pangeo-ldeo-nsf-earthcube");
    let mut request = bakeries.request(&osn, "hangs");
    request.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let outcome = submit(&request).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let RunnerOutcome::Failed {
        reason,
        message,
        log,
        ..
    } = outcome
    else {
        panic!("expected a timeout, got {outcome:?}");
    };
    assert_eq!(reason, FailureReason::TimedOut);
    assert!(message.contains("did not finish within 2 s"), "{message}");
    assert!(
        log.contains("Collecting"),
        "output before the hang is kept: {log}"
    );
    // What the runner started is stopped too.
    let pid = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v["grandchild_pid"].as_u64())
        .expect("the stand-in prints its child's pid");
    // The kill is sent before `submit` returns; a loaded machine may take a moment to act on it.
    let gone = |stat: &str| {
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .chars()
            .next();
        matches!(state, None | Some('Z') | Some('X'))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    while !gone(&stat) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    }
    assert!(gone(&stat), "the runner's child {pid} still runs: {stat}");
    let argv = &bakeries.recorded()[0].0;
    assert!(!config_file_of(argv).exists());
}

#[tokio::test]
async fn a_local_bakery_finishes_with_its_exit_status() {
    let bakeries = Bakeries::new();
    let outcome = submit(&bakeries.request(&bakeries.bakery("local"), "tiny-local")).await;
    let RunnerOutcome::Finished { success, log } = outcome else {
        panic!("expected a finished local job, got {outcome:?}");
    };
    assert!(success);
    assert!(log.contains("Running job for recipe tiny-local"), "{log}");
    let (_, config) = &bakeries.recorded()[0];
    assert_eq!(
        config["TargetStorage"]["root_path"],
        "/tmp/out/pangeo-forge/test/pangeo-forge/gpcp-feedstock/recipe-run-7/tiny-local.zarr"
    );
}

#[tokio::test]
async fn a_missing_command_is_named() {
    let bakeries = Bakeries::new();
    let osn = bakeries.bakery("pangeo-ldeo-nsf-earthcube");
    let mut request = bakeries.request(&osn, "gpcp");
    request.command = "/nonexistent/pangeo-forge-runner".into();
    let outcome = submit(&request).await;
    let RunnerOutcome::Failed {
        reason, message, ..
    } = outcome
    else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert_eq!(reason, FailureReason::CommandNotFound);
    assert!(
        message.contains("/nonexistent/pangeo-forge-runner"),
        "{message}"
    );
}

#[test]
fn the_directory_loads_bakeries_and_skips_secrets_files() {
    let bakeries = Bakeries::new();
    assert_eq!(
        bakeries.registry.names(),
        ["local", "pangeo-ldeo-nsf-earthcube"]
    );
    let osn = bakeries.registry.get("pangeo-ldeo-nsf-earthcube").unwrap();
    assert_eq!(osn.secrets.len(), 2);
    assert_eq!(osn.region, "us-central1");
    // FakeRunner is the runner's business: it stays.
    assert!(osn.runner_config.get("FakeRunner").is_some());
    assert_no_secret(&format!("{osn:?}"));
    assert!(bakeries.registry.get("local.secrets").is_none());
}

#[test]
fn a_bad_file_stops_loading_and_is_named() {
    let bakeries = Bakeries::new();
    std::fs::write(
        bakeries.dir.path().join("broken.yaml"),
        "Bake: {bakery_class: a.B}\n",
    )
    .unwrap();
    let err = BakeryRegistry::load(bakeries.dir.path(), "pangeo-forge")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("broken.yaml") && err.contains("TargetStorage.root_path"),
        "{err}"
    );
}

async fn registering_bakeries_upserts_rows(app: TestApp) {
    let bakeries = Bakeries::new();
    let db = app.db();
    let first = bakeries.registry.register(db).await.unwrap();
    assert_eq!(
        first,
        Registration {
            created: vec!["local".into(), "pangeo-ldeo-nsf-earthcube".into()],
            ..Default::default()
        }
    );
    let row = db
        .bakery_by_name("pangeo-ldeo-nsf-earthcube")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.region, "us-central1");
    assert_eq!(row.description, "Dataflow on OSN storage");

    let again = bakeries.registry.register(db).await.unwrap();
    assert_eq!(again.unchanged.len(), 2);
    assert!(again.created.is_empty() && again.updated.is_empty());

    // A changed description updates the same row.
    let path = bakeries.dir.path().join("pangeo-ldeo-nsf-earthcube.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("Dataflow on OSN storage", "Dataflow, OSN storage"),
    )
    .unwrap();
    let reloaded = BakeryRegistry::load(bakeries.dir.path(), "pangeo-forge").unwrap();
    let third = reloaded.register(db).await.unwrap();
    assert_eq!(third.updated, ["pangeo-ldeo-nsf-earthcube"]);
    let updated = db
        .bakery_by_name("pangeo-ldeo-nsf-earthcube")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.id, row.id);
    assert_eq!(updated.description, "Dataflow, OSN storage");
    assert_eq!(db.count_bakeries().await.unwrap(), 2);
}

both_engines!(registering_bakeries_upserts_rows);
