//! The test-run success comment lists the dataset's dimensions and variables when its store
//! can be read, and is posted without the list when it cannot.

use crate::both_engines;
use crate::flows::{FEEDSTOCK, WAIT, head_sha, pull_request, register, runs_of};
use crate::support::TestApp;
use crate::support::fake_github::FakePull;
use crate::support::github_app::{GithubAppHarness, meta_yaml_for};
use crate::support::stores::copy_dir;
use crate::support::stores::fixture;
use crate::support::webhooks::{Delivery, pr_comment};
use pangeo_forge_orchestrator::db::enums::DeliveryState;

/// A Dataflow bakery whose storage is a directory of this machine (its public URL `file://`).
const BAKERY: &str = "file-storage";

async fn deliver_and_wait(
    h: &GithubAppHarness,
    event: &str,
    guid: &str,
    payload: &serde_json::Value,
) {
    h.app.deliver(event, guid, payload).await;
    h.app
        .wait_for_delivery(guid, DeliveryState::Done, WAIT)
        .await;
}

async fn the_success_comment_lists_the_datasets_variables(app: TestApp) {
    let bakeries = tempfile::tempdir().expect("tempdir");
    let out = bakeries.path().join("out");
    std::fs::write(
        bakeries.path().join(format!("{BAKERY}.yaml")),
        format!(
            "Bake:\n  bakery_class: pangeo_forge_runner.bakery.dataflow.DataflowBakery\n\
             DataflowBakery:\n  temp_gcs_location: gs://pfo-test/temp\n\
             TargetStorage:\n  fsspec_class: fsspec.implementations.local.LocalFileSystem\n  fsspec_args: {{}}\n  \
             root_path: '{}/{{subpath}}'\n  public_url: 'file://{{root_path}}'\n\
             Orchestrator:\n  region: local\n  description: Dataflow writing to this machine\n",
            out.display()
        ),
    )
    .expect("bakery");
    let h =
        GithubAppHarness::start_with_previews(app, None, Some(bakeries.path().to_owned())).await;
    let feedstock = register(&h.app, FEEDSTOCK).await;
    let payload = pull_request("opened.payload.json", FEEDSTOCK);
    let sha = head_sha(&payload);
    h.github.set_recipe(
        FEEDSTOCK,
        "feedstock/meta.yaml",
        &sha,
        meta_yaml_for(BAKERY, &["gpcp", "missing"]),
    );
    h.github
        .add_pull(FEEDSTOCK, FakePull::open(2, "Add GPCP", "changes", &sha));
    deliver_and_wait(&h, "pull_request", "guid-opened", &payload).await;
    for recipe in ["gpcp", "missing"] {
        let comment = pr_comment(FEEDSTOCK, 2, &format!("/run {recipe}"), "MEMBER");
        deliver_and_wait(&h, "issue_comment", &format!("guid-run-{recipe}"), &comment).await;
    }
    let runs = runs_of(&h.app, feedstock.id).await;
    let id_of = |recipe: &str| runs.iter().find(|r| r.recipe_id == recipe).expect("run").id;
    // The bakery wrote the `gpcp` store; `missing` wrote nothing readable.
    let store = out.join(format!(
        "pfo-test/test/{FEEDSTOCK}/recipe-run-{}/gpcp.zarr",
        id_of("gpcp")
    ));
    copy_dir(&fixture("gpcp-v2.zarr"), &store);
    for recipe in ["gpcp", "missing"] {
        let reply = h
            .app
            .post_hook(Delivery {
                event: Some("dataflow"),
                guid: None,
                signature: None,
                body: format!(
                    "action=completed&recipe_run_id={}&conclusion=success",
                    id_of(recipe)
                )
                .into_bytes(),
            })
            .await;
        let guid = reply.json()["delivery"].as_str().expect("guid").to_owned();
        h.app
            .wait_for_delivery(&guid, DeliveryState::Done, WAIT)
            .await;
    }
    let comments = h.github.comments();
    assert_eq!(comments.len(), 2, "both reports posted");
    let listed = comments
        .iter()
        .find(|c| c.body.contains("`gpcp` at"))
        .expect("gpcp's comment");
    for line in [
        "The dataset (Zarr v2, 781kB): dimensions `lat` 180, `nv` 2, `lon` 360, `time` 3.",
        "| coordinate | `time` | `time` | `datetime64[ns]` |",
        "| coordinate | `lat_bounds` | `lat`, `nv` | `float32` |",
        "| data | `precip` | `time`, `lat`, `lon` | `float32` |",
    ] {
        assert!(
            listed.body.contains(line),
            "missing {line:?} in\n{}",
            listed.body
        );
    }
    assert!(
        listed.body.contains("xr.open_dataset(store"),
        "{}",
        listed.body
    );
    let unlisted = comments
        .iter()
        .find(|c| c.body.contains("`missing` at"))
        .expect("missing's comment");
    assert!(unlisted.body.contains(":tada:"), "{}", unlisted.body);
    assert!(
        !unlisted.body.contains("The dataset ("),
        "{}",
        unlisted.body
    );
    h.finish().await;
}

both_engines!(the_success_comment_lists_the_datasets_variables);
