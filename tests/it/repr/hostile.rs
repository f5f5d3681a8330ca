//! Stores that are broken or hostile, and URLs that must not be read: every case a clear JSON
//! error (or an escaped, bounded preview), never a panic, never a request where none may go.

use super::{app_reading, repr};
use crate::on_both_engines;
use crate::support::Engine;
use crate::support::stores::{SilentListener, StaticServer, Stores};
use crate::support::ws::{Served, serve};
use axum::http::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(5);

/// A v2 store holding one consolidated document, `metadata` entries as given.
fn consolidated(stores: &Stores, name: &str, metadata: serde_json::Value) -> String {
    let mut entries = json!({".zgroup": {"zarr_format": 2}});
    for (key, value) in metadata.as_object().expect("object") {
        entries[key] = value.clone();
    }
    let doc = json!({"metadata": entries, "zarr_consolidated_format": 1});
    stores.write(name, ".zmetadata", &doc.to_string());
    stores.url(name)
}

fn zarray(shape: &[u64]) -> serde_json::Value {
    json!({"zarr_format": 2, "shape": shape, "chunks": shape, "dtype": "<f4",
           "compressor": null, "fill_value": "NaN", "filters": null, "order": "C"})
}

fn detail(reply: &crate::support::http::Reply) -> String {
    reply.json()["detail"]
        .as_str()
        .expect("a JSON detail")
        .to_owned()
}

async fn broken_metadata_is_a_clear_502(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[stores.prefix()], TIMEOUT).await;
    stores.write(
        "invalid.zarr",
        ".zmetadata",
        "{\"metadata\": {\".zgroup\": ",
    );
    let not_json = repr(&app, &stores.url("invalid.zarr")).await;
    assert_eq!(
        not_json.status,
        StatusCode::BAD_GATEWAY,
        "{}",
        not_json.text()
    );
    assert!(
        detail(&not_json).contains(".zmetadata is not valid JSON"),
        "{}",
        not_json.text()
    );

    let wrong = consolidated(
        &stores,
        "wrong.zarr",
        json!({"a/.zarray": {"zarr_format": 2, "shape": "three"}}),
    );
    let reply = repr(&app, &wrong).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.text());
    assert!(
        detail(&reply).contains("is not Zarr v2 array metadata"),
        "{}",
        reply.text()
    );

    let conflicting = consolidated(
        &stores,
        "conflict.zarr",
        json!({"a/.zarray": zarray(&[3]), "a/.zattrs": {"_ARRAY_DIMENSIONS": ["x"]},
               "b/.zarray": zarray(&[4]), "b/.zattrs": {"_ARRAY_DIMENSIONS": ["x"]}}),
    );
    let reply = repr(&app, &conflicting).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(
        detail(&reply).contains("dimension `x` has size 3 and 4"),
        "{}",
        reply.text()
    );

    stores.write(
        "array.zarr",
        "zarr.json",
        &json!({"zarr_format": 3, "node_type": "array", "shape": [1]}).to_string(),
    );
    let reply = repr(&app, &stores.url("array.zarr")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        detail(&reply).contains("is a Zarr array, not a group"),
        "{}",
        reply.text()
    );
    app.finish().await;
}

async fn huge_and_deep_attributes_are_bounded(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[stores.prefix()], TIMEOUT).await;
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!({"inner": deep});
    }
    let huge = "x".repeat(1536 * 1024);
    let many: Vec<u32> = (0..100_000).collect();
    let url = consolidated(
        &stores,
        "big.zarr",
        json!({".zattrs": {"huge": huge, "deep": deep, "many": many},
               "v/.zarray": zarray(&[2]), "v/.zattrs": {"_ARRAY_DIMENSIONS": ["x"], "huge": huge}}),
    );
    let reply = repr(&app, &url).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        &reply.text()[..500.min(reply.text().len())]
    );
    let html = reply.json()["html"].as_str().expect("html").to_owned();
    assert!(html.len() < 200_000, "the HTML is {} bytes", html.len());
    assert!(html.contains("x…</dd>"), "long values are cut");
    assert!(
        html.contains("&quot;inner&quot;:&quot;…&quot;"),
        "deep values are cut"
    );
    assert!(!html.contains("&quot;bottom&quot;"), "deep values are cut");

    // Past the metadata budget: refused, saying why.
    let over = "y".repeat(5 * 1024 * 1024);
    let url = consolidated(&stores, "over.zarr", json!({".zattrs": {"over": over}}));
    let reply = repr(&app, &url).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(
        detail(&reply).contains("larger than 4 MiB"),
        "{}",
        reply.text()
    );

    // Nesting past what the JSON parser accepts (128 levels): not JSON it will read.
    let text = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    stores.write(
        "nested.zarr",
        ".zmetadata",
        &format!("{{\"metadata\": {{\".zattrs\": {{\"a\": {text}}}}}}}"),
    );
    let reply = repr(&app, &stores.url("nested.zarr")).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(
        detail(&reply).contains("recursion limit"),
        "{}",
        reply.text()
    );
    app.finish().await;
}

async fn markup_in_metadata_is_shown_not_run(engine: Engine) {
    let stores = Stores::new();
    let app = app_reading(engine, &[stores.prefix()], TIMEOUT).await;
    let script = "<script>window.pwned = 1</script>";
    let url = consolidated(
        &stores,
        "markup.zarr",
        json!({".zattrs": {"title": script, "<img src=x onerror=alert(1)>": "'quoted' & \"double\""},
               "v/.zarray": zarray(&[2]),
               "v/.zattrs": {"_ARRAY_DIMENSIONS": ["<b>dim</b>"], "units": "</dd><script>x()</script>"}}),
    );
    let reply = repr(&app, &url).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let html = reply.json()["html"].as_str().expect("html").to_owned();
    for raw in ["<script>", "<img", "<b>", "</dd><script>"] {
        assert!(!html.contains(raw), "{raw} came out raw:\n{html}");
    }
    for escaped in [
        "&lt;script&gt;window.pwned = 1&lt;/script&gt;",
        "&lt;img src=x onerror=alert(1)&gt; :",
        "&#x27;quoted&#x27; &amp; &quot;double&quot;",
        "&lt;b&gt;dim&lt;/b&gt;",
    ] {
        assert!(html.contains(escaped), "{escaped} missing:\n{html}");
    }
    app.finish().await;
}

async fn a_store_that_never_answers_times_out(engine: Engine) {
    let silent = SilentListener::start().await;
    let prefix = format!("http://{}/", silent.address);
    let app = app_reading(
        engine,
        std::slice::from_ref(&prefix),
        Duration::from_secs(1),
    )
    .await;
    let started = Instant::now();
    let reply = repr(&app, &format!("{prefix}gpcp.zarr")).await;
    let took = started.elapsed();
    assert_eq!(
        reply.status,
        StatusCode::GATEWAY_TIMEOUT,
        "{}",
        reply.text()
    );
    assert!(
        detail(&reply).contains("did not answer"),
        "{}",
        reply.text()
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(silent.connections() >= 1, "it was asked");
    app.finish().await;
}

async fn missing_stores_are_404(engine: Engine) {
    let stores = Stores::new();
    let server = StaticServer::start(stores.dir.path()).await;
    let app = app_reading(engine, &[stores.prefix(), server.url("")], TIMEOUT).await;
    for url in [stores.url("none.zarr"), server.url("none.zarr")] {
        let reply = repr(&app, &url).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{url}: {}",
            reply.text()
        );
        assert!(
            detail(&reply).contains("no Zarr store at"),
            "{}",
            reply.text()
        );
    }
    app.finish().await;
}

async fn refused_urls_send_nothing(engine: Engine) {
    let outside = SilentListener::start().await;
    let stores = Stores::new();
    // A store this server may read, which redirects to one it may not.
    let redirect = redirect_server(&format!("http://{}/secret.zarr", outside.address)).await;
    let redirecting = redirect.address.to_string();
    let app = app_reading(
        engine,
        &[stores.prefix(), format!("http://{redirecting}/")],
        TIMEOUT,
    )
    .await;
    for url in [
        format!("http://{}/gpcp.zarr", outside.address),
        format!("http://{}/", outside.address),
        format!("http://user:pw@{}/gpcp.zarr", outside.address),
        format!(
            "http://127.0.0.1.nip.example:{}/x.zarr",
            redirecting.rsplit(':').next().unwrap_or("")
        ),
        "file:///etc".to_owned(),
        format!("{}../../etc", stores.prefix()),
    ] {
        let reply = repr(&app, &url).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{url}: {}",
            reply.text()
        );
        let detail = detail(&reply);
        assert!(
            detail.contains("not a dataset of this server") || detail.contains("credentials"),
            "{url}: {detail}"
        );
        assert!(!detail.contains("pw@"), "{detail}");
    }
    let redirected = repr(&app, &format!("http://{redirecting}/gpcp.zarr")).await;
    assert_eq!(
        redirected.status,
        StatusCode::BAD_GATEWAY,
        "{}",
        redirected.text()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        outside.connections(),
        0,
        "nothing may reach a refused address"
    );
    app.finish().await;
}

/// A server that answers every request with a redirect to `to` (it stops when dropped).
async fn redirect_server(to: &str) -> Served {
    let to = to.to_owned();
    let app = axum::Router::new().fallback(move || {
        let to = to.clone();
        async move { axum::response::Redirect::temporary(&to) }
    });
    serve(app).await
}

on_both_engines!(
    broken_metadata_is_a_clear_502,
    huge_and_deep_attributes_are_bounded,
    markup_in_metadata_is_shown_not_run,
    a_store_that_never_answers_times_out,
    missing_stores_are_404,
    refused_urls_send_nothing,
);
