//! `GET /repr/xarray/?url=` over good stores: Zarr v2 and v3, consolidated or not, on disk
//! and over HTTP, as pangeo-forge.org asks for them; its errors and its CORS.

use super::{app_reading, names_in, record_dataset, repr};
use crate::on_both_engines;
use crate::support::Engine;
use crate::support::stores::{StaticServer, Stores};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::time::Duration;

/// The fixture's variables as xarray lists them: coordinates (by name), then data variables.
const GPCP: [&str; 5] = ["lat", "lat_bounds", "lon", "time", "precip"];
const TIMEOUT: Duration = Duration::from_secs(5);

/// What every preview of the GPCP fixture shows, whatever its format.
fn assert_gpcp(html: &str) {
    assert_eq!(names_in(html), GPCP, "{html}");
    for shown in [
        "<div class='xr-obj-type'>xarray.Dataset</div>",
        "Size: 781kB",
        "<li><span class='xr-has-index'>lat</span>: 180</li>",
        "<li><span>nv</span>: 2</li>",
        "<li><span class='xr-has-index'>time</span>: 3</li>",
        "<div class='xr-var-dims'>(time, lat, lon)</div>",
        "<div class='xr-var-dtype'>datetime64[ns]</div>",
        "… days since 1996-10-01",
        "dask.array&lt;chunksize=(1, 180, 360), meta=np.ndarray&gt;",
        "<dt><span>long_name :</span></dt><dd>Daily Precipitation</dd>",
        "<dd>GPCP Daily (a test copy)</dd>",
        "Coordinates: <span>(4)</span>",
        "Data variables: <span>(1)</span>",
        "&lt;xarray.Dataset&gt; Size: 781kB\nDimensions:     (lat: 180, nv: 2, lon: 360, time: 3)",
        "Dimensions without coordinates: nv",
        "  * time        (time) datetime64[ns] 24B … days since 1996-10-01",
    ] {
        assert!(html.contains(shown), "missing {shown:?} in\n{html}");
    }
    assert!(!html.contains("_ARRAY_DIMENSIONS"), "{html}");
}

async fn repr_shows_v2_and_v3_stores_as_xarray_does(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[stores.prefix()], TIMEOUT).await;
    for fixture in [
        "gpcp-v2.zarr",
        "gpcp-v2-plain.zarr",
        "gpcp-v3.zarr",
        "gpcp-v3-plain.zarr",
    ] {
        let url = stores.copy(fixture, fixture);
        let reply = repr(&app, &url).await;
        assert_eq!(reply.status, StatusCode::OK, "{fixture}: {}", reply.text());
        let body = reply.json();
        assert_eq!(body["dataset"], url.as_str());
        assert_gpcp(body["html"].as_str().expect("html"));
        // Without the trailing slash, and with it on the store URL.
        let again = app.get(&format!("/repr/xarray?url={url}/")).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text());
        assert_eq!(again.json()["dataset"], format!("{url}/"));
    }
    app.finish().await;
}

async fn repr_reads_only_metadata_over_http(engine: Engine) {
    let stores = Stores::new();
    stores.copy("gpcp-v2.zarr", "gpcp.zarr");
    stores.copy("gpcp-v3.zarr", "v3.zarr");
    stores.copy("gpcp-v3-plain.zarr", "v3-plain.zarr");
    let server = StaticServer::start(stores.dir.path()).await;
    let app = app_reading(engine, &[server.url("")], TIMEOUT).await;
    for name in ["gpcp.zarr", "v3.zarr"] {
        let reply = repr(&app, &server.url(name)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_gpcp(reply.json()["html"].as_str().expect("html"));
    }
    // Without consolidated metadata a plain HTTP server cannot say which arrays there are.
    let plain = repr(&app, &server.url("v3-plain.zarr")).await;
    assert_eq!(plain.status, StatusCode::BAD_GATEWAY, "{}", plain.text());
    assert!(
        plain.text().contains("does not list directories"),
        "{}",
        plain.text()
    );
    let asked = server.asked();
    assert!(!asked.is_empty());
    for path in &asked {
        if path == "/v3-plain.zarr" {
            continue; // the listing it tried
        }
        let file = path.rsplit('/').next().unwrap_or("");
        assert!(
            [".zmetadata", "zarr.json", ".zgroup", ".zattrs", ".zarray"].contains(&file),
            "read more than metadata: {asked:?}"
        );
    }
    app.finish().await;
}

async fn a_recorded_dataset_is_read_without_any_prefix(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[], TIMEOUT).await;
    let url = stores.copy("gpcp-v2.zarr", "gpcp.zarr");
    let refused = repr(&app, &url).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(
        refused.json()["detail"]
            .as_str()
            .expect("detail")
            .contains("is not a dataset of this server"),
        "{}",
        refused.text()
    );
    record_dataset(&app, "gpcp", &format!("{url}/")).await;
    let reply = repr(&app, &url).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_gpcp(reply.json()["html"].as_str().expect("html"));
    app.finish().await;
}

async fn bad_requests_get_json_errors(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[stores.prefix()], TIMEOUT).await;
    for (path, status, says) in [
        ("/repr/xarray/", 422, "`url` is required"),
        ("/repr/xarray/?url=", 422, "give the store's URL"),
        ("/repr/xarray/?url=gpcp.zarr", 422, "is not a URL"),
        ("/repr/xarray/?url=ftp://host/x.zarr", 422, "are not read"),
        (
            "/repr/xarray/?url=https://user:secret@ncsa.osn.xsede.org/Pangeo/x.zarr",
            403,
            "credentials",
        ),
        (
            "/repr/xarray/?url=https://ncsa.osn.xsede.org/Pangeo/gpcp.zarr",
            403,
            "not a dataset of this server",
        ),
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status.as_u16(), status, "{path}: {}", reply.text());
        let detail = reply.json()["detail"].as_str().expect("detail").to_owned();
        assert!(detail.contains(says), "{path}: {detail}");
        assert!(!detail.contains("secret"), "{detail}");
    }
    let missing = repr(&app, &stores.url("nothing-here.zarr")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text());
    assert!(
        missing.json()["detail"]
            .as_str()
            .expect("detail")
            .contains("no Zarr store")
    );
    app.finish().await;
}

async fn the_preview_answers_other_origins(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[stores.prefix()], TIMEOUT).await;
    let url = stores.copy("gpcp-v2.zarr", "gpcp.zarr");
    let reply = app
        .send(
            Request::get(format!("/repr/xarray/?url={url}"))
                .header("origin", "https://pangeo-forge.org")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    let refused = app
        .send(
            Request::get("/repr/xarray/?url=https://elsewhere.example/x.zarr")
                .header("origin", "https://pangeo-forge.org")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.header("access-control-allow-origin"),
        "*",
        "errors are readable too"
    );
    let preflight = app
        .send(
            Request::options("/repr/xarray/?url=x")
                .header("origin", "https://pangeo-forge.org")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert!(
        preflight
            .header("access-control-allow-headers")
            .contains("authorization")
    );
    app.finish().await;
}

on_both_engines!(
    repr_shows_v2_and_v3_stores_as_xarray_does,
    repr_reads_only_metadata_over_http,
    a_recorded_dataset_is_read_without_any_prefix,
    bad_requests_get_json_errors,
    the_preview_answers_other_origins,
);
