//! The whole GitHub App under test: the real router and database, workers running the real
//! flows, the fake GitHub (over HTTP) and the stand-in runner (a real child process).

use super::fake_github::FakeGithub;
use super::http::TestApp;
use super::test_config;
use pangeo_forge_orchestrator::app::App;
use pangeo_forge_orchestrator::bakery::BakeryRegistry;
use pangeo_forge_orchestrator::config::{AppSettings, Config, DEFAULT_DASHBOARD_URL};
use pangeo_forge_orchestrator::db::entities::{bakery, feedstock, recipe_run};
use pangeo_forge_orchestrator::db::enums::RunStatus;
use pangeo_forge_orchestrator::db::{NewBakery, NewFeedstock, NewRecipeRun};
use pangeo_forge_orchestrator::flows::FlowContext;
use pangeo_forge_orchestrator::queue::Workers;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The bakery (a Dataflow one) that test meta.yaml files name.
pub const BAKERY: &str = "pangeo-ldeo-nsf-earthcube";
/// A secret in that bakery's secrets file: it must never show up unmasked.
pub const BAKERY_SECRET: &str = "osn-secret-5be1d2";
/// The base URL the job names encode.
pub const PUBLIC_URL: &str = "https://pfo.example.org";
/// How long the stand-in runner may run.
pub const RUNNER_TIMEOUT: Duration = Duration::from_secs(3);

/// The runner timeout with a real runner.
pub const REAL_RUNNER_TIMEOUT: Duration = Duration::from_secs(300);

/// The deployment's name (`PFO_APP_NAME`): storage paths, and which of the original
/// layout's bakery files load.
pub const APP_NAME: &str = "pfo-test";

/// A local bakery (`LocalDirectBakery`): its jobs run inside the runner process.
pub const LOCAL_BAKERY: &str = "local-test";

/// A meta.yaml naming [`BAKERY`] with these recipe ids.
pub fn meta_yaml(recipe_ids: &[&str]) -> String {
    meta_yaml_for(BAKERY, recipe_ids)
}

/// A meta.yaml naming `bakery` with these recipe ids, complete as the schema asks (so it
/// has no warnings); the objects are `recipe:<id>`, in `recipe.py`.
pub fn meta_yaml_for(bakery: &str, recipe_ids: &[&str]) -> String {
    let mut text = String::from("title: Global Precipitation Climatology Project\n");
    text.push_str("description: Test dataset\n");
    text.push_str("pangeo_forge_version: \"0.9.2\"\npangeo_notebook_version: \"2022.06.02\"\n");
    text.push_str("recipes:\n");
    for id in recipe_ids {
        text.push_str(&format!("  - id: {id}\n    object: \"recipe:{id}\"\n"));
    }
    text.push_str(
        "provenance:\n  providers:\n    - name: NOAA NCEI\n      description: National Centers \
         for Environmental Information\n      roles: [host, licensor]\n      url: \
         https://www.ncei.noaa.gov/\n  license: CC-BY-4.0\n",
    );
    text.push_str(&format!("bakery:\n  id: {bakery}\n"));
    text.push_str(
        "maintainers:\n  - name: Jane Doe\n    orcid: 0000-0002-1825-0097\n    github: janedoe\n",
    );
    text
}

/// The app, GitHub and the bakery, wired together.
pub struct GithubAppHarness {
    pub app: TestApp,
    pub github: FakeGithub,
    pub bakeries: BakeryRegistry,
    workers: Option<Workers>,
    dir: tempfile::TempDir,
    /// The runner command (the stand-in unless a test says otherwise).
    runner: String,
    /// Where bakery files are read from (the harness's own unless a test says otherwise).
    bakeries_dir: PathBuf,
    /// Whether the dataset preview is on (it reads the bakeries' storage).
    previews: bool,
}

fn fake_runner() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fake-pangeo-forge-runner")
        .display()
        .to_string()
}

impl GithubAppHarness {
    /// Starts the fake GitHub, writes a bakeries directory, registers it and starts workers.
    pub async fn start(app: TestApp) -> GithubAppHarness {
        GithubAppHarness::start_with(app, None, None).await
    }

    /// Like [`GithubAppHarness::start`], with another runner command and bakeries directory.
    pub async fn start_with(
        app: TestApp,
        runner: Option<String>,
        bakeries_dir: Option<PathBuf>,
    ) -> GithubAppHarness {
        GithubAppHarness::start_inner(app, runner, bakeries_dir, false).await
    }

    /// Like [`GithubAppHarness::start_with`], with the dataset preview on: use only bakeries
    /// whose storage is on this machine.
    pub async fn start_with_previews(
        app: TestApp,
        runner: Option<String>,
        bakeries_dir: Option<PathBuf>,
    ) -> GithubAppHarness {
        GithubAppHarness::start_inner(app, runner, bakeries_dir, true).await
    }

    async fn start_inner(
        app: TestApp,
        runner: Option<String>,
        bakeries_dir: Option<PathBuf>,
        previews: bool,
    ) -> GithubAppHarness {
        let github = FakeGithub::start().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let record = dir.path().join("runner-calls.jsonl");
        let cancelled = dir.path().join("cancelled.txt");
        let bakery = format!(
            "Bake:\n  bakery_class: pangeo_forge_runner.bakery.dataflow.DataflowBakery\n  \
             cancel_command: [sh, -c, 'echo \"$0\" >> {}']\n\
             DataflowBakery:\n  temp_gcs_location: gs://pfo-test/temp\n\
             TargetStorage:\n  fsspec_class: s3fs.S3FileSystem\n  fsspec_args: {{anon: false}}\n  \
             root_path: Pangeo/{{subpath}}\n  public_url: https://ncsa.osn.xsede.org/{{root_path}}\n\
             FakeRunner:\n  record_to: '{}'\n  leak_file: '{}'\n\
             Orchestrator:\n  region: us-central1\n  description: Dataflow test bakery\n  secrets_file: {BAKERY}.secrets.yaml\n",
            cancelled.display(),
            record.display(),
            dir.path().join("leak.txt").display()
        );
        std::fs::write(dir.path().join(format!("{BAKERY}.yaml")), bakery).expect("bakery");
        std::fs::write(
            dir.path().join(format!("{BAKERY}.secrets.yaml")),
            format!("TargetStorage:\n  fsspec_args:\n    secret: {BAKERY_SECRET}\n"),
        )
        .expect("secrets");
        let local = format!(
            "Bake:\n  bakery_class: pangeo_forge_runner.bakery.local.LocalDirectBakery\n\
             TargetStorage:\n  fsspec_class: fsspec.implementations.local.LocalFileSystem\n  fsspec_args: {{}}\n  \
             root_path: '{out}/{{subpath}}'\n  public_url: 'file://{{root_path}}'\n\
             FakeRunner:\n  record_to: '{}'\n\
             Orchestrator:\n  region: local\n  description: Local test bakery\n  max_concurrent_jobs: 1\n",
            record.display(),
            out = dir.path().join("out").display(),
        );
        std::fs::write(dir.path().join(format!("{LOCAL_BAKERY}.yaml")), local)
            .expect("local bakery");
        let bakeries_dir = bakeries_dir.unwrap_or_else(|| dir.path().to_owned());
        let bakeries = BakeryRegistry::load(&bakeries_dir, APP_NAME).expect("bakeries");
        bakeries.register(app.db()).await.expect("register");
        let mut harness = GithubAppHarness {
            app,
            github,
            bakeries,
            workers: None,
            dir,
            runner: runner.unwrap_or_else(fake_runner),
            bakeries_dir,
            previews,
        };
        let assembled = App::assemble(
            &harness.config(),
            harness.app.db().clone(),
            harness.bakeries.clone(),
        )
        .expect("assembling the app");
        harness.app.router = assembled.router();
        harness.app.queue = assembled.wakeup();
        harness.app.orchestrator = assembled;
        harness.start_workers();
        harness
    }

    /// The settings the flows run with.
    pub fn settings(&self) -> AppSettings {
        AppSettings {
            app_name: APP_NAME.into(),
            public_url: PUBLIC_URL.into(),
            dashboard_url: DEFAULT_DASHBOARD_URL.into(),
            bakeries_dir: Some(self.bakeries_dir.clone()),
            runner_command: self.runner.clone(),
            // The real runner imports Beam to expand a `dict_object` (seconds, not the
            // stand-in's milliseconds).
            runner_timeout: if self.runner == fake_runner() {
                RUNNER_TIMEOUT
            } else {
                REAL_RUNNER_TIMEOUT
            },
            claim_lease: Duration::from_secs(120),
        }
    }

    /// The configuration the app runs with: the test app's, plus the fake GitHub, the
    /// harness's bakeries and runner.
    pub fn config(&self) -> Config {
        let mut config = test_config(&self.app.test_db.url);
        config.github = Some(self.github.app_config());
        config.app = self.settings();
        config.repr.enabled = self.previews;
        config
    }

    /// What the flows can reach.
    pub fn context(&self) -> FlowContext {
        self.app.orchestrator.flows().clone()
    }

    /// Starts two workers woken by the app's webhook route (as `serve` does).
    pub fn start_workers(&mut self) {
        if self.workers.is_none() {
            self.workers = Some(self.app.orchestrator.start_workers());
        }
    }

    /// Stops the workers (as a server shutting down does).
    pub async fn stop_workers(&mut self) {
        if let Some(workers) = self.workers.take() {
            workers.shutdown().await;
        }
    }

    /// Every invocation the stand-in runner recorded: `{"argv": [...], "config": {...}}`.
    pub fn runner_calls(&self) -> Vec<Value> {
        let path: PathBuf = self.dir.path().join("runner-calls.jsonl");
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        text.lines()
            .map(|line| serde_json::from_str(line).expect("runner record"))
            .collect()
    }

    /// Makes a `…leaks…` recipe's runner print `text` in its failure.
    pub fn leak(&self, text: &str) {
        std::fs::write(self.dir.path().join("leak.txt"), text).expect("leak file");
    }

    /// The job ids the bakery's cancel command was given, in order.
    pub fn cancelled_jobs(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("cancelled.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Stops the workers; the app is finished by the caller.
    pub async fn finish(mut self) {
        self.stop_workers().await;
    }
}

/// Starts the real binary (`serve`) as the GitHub App over `github`, on database `url`,
/// with the test webhook secret and admin key, plus `extra` environment variables.
pub fn serve_binary(
    url: &str,
    github: &FakeGithub,
    dir: &Path,
    extra: &[(&str, &str)],
) -> super::process::Server {
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github-app-test-key.pem");
    let mut cmd = super::process::command(dir);
    cmd.env("DATABASE_URL", url)
        .env("GITHUB_APP_ID", super::fake_github::TEST_APP_ID.to_string())
        .env("GITHUB_APP_PRIVATE_KEY_PATH", key)
        .env("GITHUB_API_URL", github.url())
        .env("GITHUB_WEBHOOK_SECRET", super::WEBHOOK_SECRET)
        .env("PFO_ADMIN_API_KEYS", super::ADMIN_KEY);
    for (name, value) in extra {
        cmd.env(name, value);
    }
    super::process::serve(cmd).0
}

/// Posts a signed body to a running binary's `/github/hooks/`; returns (status, body).
/// `guid: None` sends no `X-GitHub-Delivery` (as bakery monitors may).
pub async fn post_hook_to(
    address: &str,
    event: &str,
    guid: Option<&str>,
    body: String,
    content_type: &'static str,
) -> (u16, String) {
    let signature = crate::support::webhooks::signature_of(body.as_bytes());
    let (address, event, guid) = (
        address.to_owned(),
        event.to_owned(),
        guid.map(str::to_owned),
    );
    tokio::task::spawn_blocking(move || {
        let mut headers = vec![
            ("X-GitHub-Event", event.as_str()),
            ("X-Hub-Signature-256", signature.as_str()),
        ];
        if let Some(guid) = &guid {
            headers.push(("X-GitHub-Delivery", guid.as_str()));
        }
        super::process::http_with(
            &address,
            "POST",
            "/github/hooks/",
            &body,
            content_type,
            &headers,
        )
    })
    .await
    .expect("post")
}

/// Posts a signed GitHub delivery (JSON) to a running binary; returns (status, body).
pub async fn post_to(address: &str, event: &str, guid: &str, payload: &Value) -> (u16, String) {
    post_hook_to(
        address,
        event,
        Some(guid),
        payload.to_string(),
        "application/json",
    )
    .await
}

/// Posts a bakery monitor's status report (the original's form body, no GUID).
pub async fn post_status_to(address: &str, run_id: i32, conclusion: &str) -> (u16, String) {
    let body = format!("action=completed&recipe_run_id={run_id}&conclusion={conclusion}");
    post_hook_to(
        address,
        "dataflow",
        None,
        body,
        "application/x-www-form-urlencoded",
    )
    .await
}

/// Registers the test feedstock `spec` and the bakery [`BAKERY`] in the database.
pub async fn register_feedstock_and_bakery(
    app: &TestApp,
    spec: &str,
) -> (feedstock::Model, bakery::Model) {
    let feedstock = app
        .db()
        .create_feedstock(NewFeedstock {
            spec: spec.into(),
            provider: None,
        })
        .await
        .expect("feedstock");
    let bakery = app
        .db()
        .create_bakery(NewBakery {
            name: BAKERY.into(),
            region: "us-central1".into(),
            description: "test".into(),
        })
        .await
        .expect("bakery");
    (feedstock, bakery)
}

/// A test run of recipe `gpcp` at `sha`, in progress (as after a submission).
pub async fn run_in_progress(
    app: &TestApp,
    feedstock: &feedstock::Model,
    bakery: &bakery::Model,
    sha: &str,
) -> recipe_run::Model {
    app.db()
        .create_recipe_run(NewRecipeRun {
            status: RunStatus::InProgress,
            job_id: Some("job-1".into()),
            ..NewRecipeRun::queued("gpcp".into(), bakery.id, feedstock.id, sha.into(), true)
        })
        .await
        .expect("run")
}
