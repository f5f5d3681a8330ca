//! Storage the dataset-preview tests read: Zarr fixtures copied into a temporary directory,
//! served as `file://` URLs or over HTTP by a small static server that records what it was
//! asked, and a listener that accepts connections and never answers.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A fixture store of tests/fixtures/zarr/.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zarr")
        .join(name)
}

/// A temporary directory of stores.
pub struct Stores {
    pub dir: tempfile::TempDir,
}

impl Stores {
    /// An empty directory.
    pub fn new() -> Stores {
        Stores {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// `file:///…/` of the directory (with the trailing slash a prefix has).
    pub fn prefix(&self) -> String {
        format!("file://{}/", self.dir.path().display())
    }

    /// The path of `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The `file://` URL of `name` inside the directory.
    pub fn url(&self, name: &str) -> String {
        format!("file://{}", self.path(name).display())
    }

    /// Copies fixture `fixture_name` in as `name`; returns its `file://` URL.
    pub fn copy(&self, fixture_name: &str, name: &str) -> String {
        copy_dir(&fixture(fixture_name), &self.path(name));
        self.url(name)
    }

    /// Writes `text` to `name/key` (creating directories).
    pub fn write(&self, name: &str, key: &str, text: &str) {
        let path = self.path(name).join(key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

/// Copies the directory `from` to `to`, subdirectories included (a fixture into a test's
/// scratch directory).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A static HTTP server over a directory: `GET /<path>` answers the file or 404, and every
/// path asked is recorded.
pub struct StaticServer {
    pub address: String,
    pub asked: Arc<Mutex<Vec<String>>>,
    /// Stops serving when the server is dropped.
    _serving: super::ws::Served,
}

#[derive(Clone)]
struct Served {
    root: PathBuf,
    asked: Arc<Mutex<Vec<String>>>,
}

async fn serve_file(State(served): State<Served>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    served.asked.lock().expect("lock").push(path.clone());
    let decoded = percent_encoding::percent_decode_str(&path).decode_utf8_lossy();
    let relative = decoded.trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match std::fs::read(served.root.join(relative)) {
        Ok(bytes) if !served.root.join(relative).is_dir() => bytes.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

impl StaticServer {
    /// Serves `root` on a free local port.
    pub async fn start(root: &Path) -> StaticServer {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new().fallback(serve_file).with_state(Served {
            root: root.to_owned(),
            asked: asked.clone(),
        });
        let serving = super::ws::serve(app).await;
        StaticServer {
            address: serving.address.to_string(),
            asked,
            _serving: serving,
        }
    }

    /// `http://<address>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.address, path.trim_start_matches('/'))
    }

    /// The paths asked so far.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("lock").clone()
    }
}

/// A listener that accepts every connection, counts it and never answers (a store that
/// hangs; or, for a refused URL, proof that nothing was sent).
pub struct SilentListener {
    pub address: String,
    connections: Arc<AtomicUsize>,
}

impl SilentListener {
    /// Listens on a free local port.
    pub async fn start() -> SilentListener {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                // Keep it open, say nothing.
                held.push(socket);
            }
        });
        SilentListener {
            address,
            connections,
        }
    }

    /// How many connections it accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
