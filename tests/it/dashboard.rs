//! The dashboard at `GET /`: the page, and every file it references served from the binary
//! with the right content type (nothing from another host).

use crate::support::{Engine, TestApp};
use axum::http::StatusCode;

/// The values of every `src="…"` and `href="…"` attribute in `html`.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("a closing quote");
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_are_served_offline() {
    let app = TestApp::start(Engine::Sqlite).await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("<table id=\"runs\""), "{html}");
    assert!(
        !html.contains("://"),
        "no absolute (external) URL in the page: {html}"
    );

    let references = references(&html);
    for link in ["/graphql", "/recipe_runs/"] {
        assert!(references.iter().any(|r| r == link), "links to {link}");
    }
    let mut assets = 0;
    for reference in &references {
        if reference.starts_with("data:") {
            continue;
        }
        assert!(
            reference.starts_with('/') && !reference.starts_with("//"),
            "{reference} is a path on this server"
        );
        let Some(file) = reference.strip_prefix("/dashboard/assets/") else {
            continue;
        };
        let expected = match file.rsplit_once('.').map(|(_, ext)| ext) {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            other => panic!("unexpected asset type {other:?}: {reference}"),
        };
        let reply = app.get(reference).await;
        assert_eq!(reply.status, StatusCode::OK, "{reference}");
        assert!(
            reply.header("content-type").starts_with(expected),
            "{reference}: {}",
            reply.header("content-type")
        );
        assert!(!reply.body.is_empty(), "{reference} is not empty");
        let text = reply.text();
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{reference} loads nothing from another host"
        );
        assets += 1;
    }
    assert_eq!(assets, 2, "the script and the stylesheet: {references:?}");
    let script = app.get("/dashboard/assets/dashboard.js").await.text();
    assert!(script.contains("/graphql/ws") && script.contains("graphql-transport-ws"));
    assert!(script.contains("recipeRunUpdated"));

    let missing = app.get("/dashboard/assets/nope.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let escape = app.get("/dashboard/assets/..%2Findex.html").await;
    assert_eq!(escape.status, StatusCode::NOT_FOUND);
    app.finish().await;
}
