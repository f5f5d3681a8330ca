//! `Dataset.summary` and `Dataset.reprHtml`: the preview typed in GraphQL, with field errors
//! carrying `extensions.code` and `extensions.status` while the rest of the page answers.

use super::{app_reading, record_dataset};
use crate::on_both_engines;
use crate::support::stores::Stores;
use crate::support::{Engine, TestApp};
use serde_json::{Value, json};
use std::time::Duration;

const QUERY: &str = "{ datasets { edges { node { url
    summary { zarrFormat consolidated sizeBytes variablesNotShown attrs
      dims { name size hasIndex }
      coords { name dims dtype shape chunks isIndex timeUnits attrs }
      variables { name dims dtype storedDtype shape chunks sizeBytes attrs } }
    reprHtml } } } }";

async fn datasets_have_a_typed_summary_and_html(engine: Engine) {
    let stores = Stores::new();
    // No prefix: recorded datasets are what GraphQL previews.
    let app = app_reading(engine, &[], Duration::from_secs(5)).await;
    let v2 = stores.copy("gpcp-v2.zarr", "gpcp.zarr");
    let v3 = stores.copy("gpcp-v3-plain.zarr", "gpcp-v3.zarr");
    record_dataset(&app, "gpcp", &v2).await;
    record_dataset(&app, "gpcp-v3", &v3).await;
    record_dataset(&app, "gone", &stores.url("gone.zarr")).await;
    let response = app.gql(QUERY, json!({})).await;
    let nodes: Vec<Value> = response["data"]["datasets"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(nodes.len(), 3, "{response}");
    for (node, format, consolidated) in [(&nodes[0], 2, true), (&nodes[1], 3, false)] {
        let summary = &node["summary"];
        assert_eq!(summary["zarrFormat"], format, "{node}");
        assert_eq!(summary["consolidated"], consolidated);
        assert_eq!(summary["sizeBytes"], 720 + 1440 + 1440 + 24 + 777_600);
        assert_eq!(summary["variablesNotShown"], 0);
        assert_eq!(
            summary["dims"],
            json!([
                {"name": "lat", "size": 180, "hasIndex": true},
                {"name": "nv", "size": 2, "hasIndex": false},
                {"name": "lon", "size": 360, "hasIndex": true},
                {"name": "time", "size": 3, "hasIndex": true},
            ])
        );
        let coords: Vec<&str> = summary["coords"]
            .as_array()
            .expect("coords")
            .iter()
            .map(|c| c["name"].as_str().expect("name"))
            .collect();
        assert_eq!(coords, ["lat", "lat_bounds", "lon", "time"]);
        assert_eq!(
            summary["coords"][3],
            json!({"name": "time", "dims": ["time"], "dtype": "datetime64[ns]", "shape": [3],
                   "chunks": [3], "isIndex": true, "timeUnits": "days since 1996-10-01",
                   "attrs": {}})
        );
        assert_eq!(summary["coords"][1]["isIndex"], false);
        let precip = &summary["variables"][0];
        assert_eq!(precip["name"], "precip");
        assert_eq!(precip["dims"], json!(["time", "lat", "lon"]));
        assert_eq!(precip["dtype"], "float32");
        assert_eq!(precip["shape"], json!([3, 180, 360]));
        assert_eq!(precip["chunks"], json!([1, 180, 360]));
        assert_eq!(precip["sizeBytes"], 777_600);
        assert_eq!(
            precip["attrs"],
            json!({"long_name": "Daily Precipitation", "units": "mm/day"})
        );
        assert_eq!(
            summary["attrs"],
            json!({"institution": "pangeo-forge tests", "title": "GPCP Daily (a test copy)"})
        );
        let html = node["reprHtml"].as_str().expect("html");
        assert!(html.contains("<div class='xr-obj-type'>xarray.Dataset</div>"));
        assert!(html.contains("Daily Precipitation"));
    }
    // The third store is gone: its fields are null with an error saying why; the page stands.
    assert_eq!(nodes[2]["summary"], Value::Null);
    assert_eq!(nodes[2]["reprHtml"], Value::Null);
    assert_eq!(nodes[2]["url"], stores.url("gone.zarr").as_str());
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{response}");
    for error in errors {
        assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
        assert_eq!(error["extensions"]["status"], 404);
        assert!(
            error["message"]
                .as_str()
                .expect("message")
                .contains("no Zarr store")
        );
        assert_eq!(error["path"][2], 2, "{error}");
    }
    app.finish().await;
}

async fn a_server_without_previews_says_so(engine: Engine) {
    // The test configuration's default: the preview off.
    let app = TestApp::start(engine).await;
    record_dataset(&app, "gpcp", "https://ncsa.osn.xsede.org/Pangeo/gpcp.zarr").await;
    let response = app
        .gql(
            "{ datasets { edges { node { summary { sizeBytes } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response["data"]["datasets"]["edges"][0]["node"]["summary"],
        Value::Null
    );
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{response}"
    );
    let rest = app
        .get("/repr/xarray/?url=https://ncsa.osn.xsede.org/Pangeo/gpcp.zarr")
        .await;
    assert_eq!(rest.status.as_u16(), 503);
    assert!(
        rest.json()["detail"]
            .as_str()
            .expect("detail")
            .contains("PFO_REPR_ENABLED")
    );
    app.finish().await;
}

async fn one_request_previews_at_most_twenty_listed_datasets(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[], Duration::from_secs(5)).await;
    for n in 0..25 {
        let url = stores.copy("gpcp-v2.zarr", &format!("gpcp-{n}.zarr"));
        record_dataset(&app, &format!("gpcp-{n}"), &url).await;
    }
    let response = app
        .gql(
            "{ datasets { edges { node { reprHtml summary { sizeBytes } } } } }",
            json!({}),
        )
        .await;
    let edges = response["data"]["datasets"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(edges.len(), 25);
    let previewed = edges
        .iter()
        .filter(|e| {
            e["node"]["summary"]["sizeBytes"].is_number() && e["node"]["reprHtml"].is_string()
        })
        .count();
    assert_eq!(
        previewed, 20,
        "summary and HTML of one store count once: {response}"
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 10, "{response}");
    assert!(
        errors
            .iter()
            .all(|e| e["extensions"]["code"] == "PREVIEW_LIMIT")
    );
    app.finish().await;
}

on_both_engines!(
    datasets_have_a_typed_summary_and_html,
    a_server_without_previews_says_so,
    one_request_previews_at_most_twenty_listed_datasets,
);
