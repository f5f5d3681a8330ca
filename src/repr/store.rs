//! Reading a store's metadata files through `object_store`: HTTP(S), S3 and GCS anonymously
//! (public data only; no credential of the server's is ever used), local `file://` paths;
//! every read counted against one byte budget ([`MAX_METADATA_BYTES`]), redirects not followed
//! (a redirect could lead anywhere, past the allowed prefixes), no retries (the caller's
//! timeout bounds the whole read).

use super::ReprError;
use super::location::{Scheme, StoreUrl};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The most metadata one preview reads, all files together.
pub const MAX_METADATA_BYTES: u64 = 4 * 1024 * 1024;
/// The most entries one listing of a store's top level may hold.
pub const MAX_LISTED: usize = 5_000;

/// One store, opened for one preview.
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    url: StoreUrl,
    left: AtomicU64,
}

impl Store {
    /// Opens the store at `url`; sends nothing yet.
    pub fn open(url: &StoreUrl, timeout: Duration) -> Result<Store, ReprError> {
        let inner: Arc<dyn ObjectStore> = match url.scheme() {
            Scheme::Http => Arc::new(
                object_store::http::HttpBuilder::new()
                    .with_url(url.as_str())
                    .with_client_options(client_options(timeout))
                    .with_retry(no_retries(timeout))
                    .with_http_connector(NoRedirects { timeout })
                    .build()
                    .map_err(|e| storage(url, &e))?,
            ),
            Scheme::S3 => {
                let bucket = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(url.host())
                    .with_region("us-east-1")
                    .with_skip_signature(true)
                    .with_client_options(client_options(timeout))
                    .with_retry(no_retries(timeout))
                    .with_http_connector(NoRedirects { timeout })
                    .build()
                    .map_err(|e| storage(url, &e))?;
                Arc::new(object_store::prefix::PrefixStore::new(bucket, url.key()))
            }
            Scheme::Gcs => {
                let bucket = object_store::gcp::GoogleCloudStorageBuilder::new()
                    .with_bucket_name(url.host())
                    .with_skip_signature(true)
                    .with_client_options(client_options(timeout))
                    .with_retry(no_retries(timeout))
                    .with_http_connector(NoRedirects { timeout })
                    .build()
                    .map_err(|e| storage(url, &e))?;
                Arc::new(object_store::prefix::PrefixStore::new(bucket, url.key()))
            }
            Scheme::File => {
                let path = url.url().to_file_path().map_err(|_| {
                    ReprError::Invalid(format!("`{}` is not a local path", url.as_str()))
                })?;
                if !path.is_dir() {
                    return Err(not_found(url));
                }
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(&path)
                        .map_err(|e| storage(url, &e))?,
                )
            }
        };
        Ok(Store {
            inner,
            url: url.clone(),
            left: AtomicU64::new(MAX_METADATA_BYTES),
        })
    }

    /// The store's URL.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// The file at `key` (relative to the store, `/`-separated), or `None` when there is
    /// none. Refused once the budget is spent.
    pub async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, ReprError> {
        let location = Path::from(key);
        let result = match self.inner.get(&location).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.failed(key, &e)),
        };
        self.take(result.meta.size, key)?;
        let mut taken = result.meta.size;
        let mut bytes = Vec::with_capacity(usize::try_from(taken).unwrap_or(0).min(1 << 20));
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.failed(key, &e))?;
            let read = bytes.len() as u64 + chunk.len() as u64;
            if read > taken {
                // The size was not known up front (or was wrong): count what came.
                self.take(read - taken, key)?;
                taken = read;
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    /// The names of the directories (groups and arrays) directly under `base` (`""` or
    /// `name/`), sorted.
    pub async fn list_children(&self, base: &str) -> Result<Vec<String>, ReprError> {
        let prefix = Path::from(base.trim_end_matches('/'));
        let prefix = (!base.is_empty()).then_some(&prefix);
        let listed = self.inner.list_with_delimiter(prefix).await.map_err(|e| {
            if matches!(e, object_store::Error::NotFound { .. }) {
                return not_found(&self.url);
            }
            let mut err = self.failed("", &e);
            if let ReprError::Storage(text) = &mut err
                && self.url.scheme() == Scheme::Http
            {
                text.push_str(
                    " (the store has no consolidated metadata, and its server does not list directories)",
                );
            }
            err
        })?;
        if self.url.scheme() == Scheme::Http && listed.common_prefixes.is_empty() {
            // A plain HTTP server answers a listing with 404, which reads as "empty".
            return Err(ReprError::Storage(format!(
                "{} has no consolidated metadata, and its server does not list directories (WebDAV), so its arrays cannot be found",
                self.url.as_str()
            )));
        }
        if listed.common_prefixes.len() + listed.objects.len() > MAX_LISTED {
            return Err(ReprError::BadMetadata(format!(
                "{} lists more than {MAX_LISTED} entries at its top level; consolidate its metadata",
                self.url.as_str()
            )));
        }
        let mut names: Vec<String> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    fn take(&self, bytes: u64, key: &str) -> Result<(), ReprError> {
        let mut left = self.left.load(Ordering::SeqCst);
        loop {
            let Some(rest) = left.checked_sub(bytes) else {
                return Err(ReprError::BadMetadata(format!(
                    "the metadata of {} is larger than {} MiB (at {key}); the preview reads no more",
                    self.url.as_str(),
                    MAX_METADATA_BYTES / (1024 * 1024)
                )));
            };
            match self
                .left
                .compare_exchange(left, rest, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Ok(()),
                Err(now) => left = now,
            }
        }
    }

    fn failed(&self, key: &str, err: &object_store::Error) -> ReprError {
        classify(&self.url, key, err)
    }
}

/// What an `object_store` error means for the person asking.
fn classify(url: &StoreUrl, key: &str, err: &object_store::Error) -> ReprError {
    use object_store::Error as E;
    let at = if key.is_empty() {
        url.as_str().to_owned()
    } else {
        format!("{}/{key}", url.as_str())
    };
    match err {
        E::NotFound { .. } => not_found(url),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => ReprError::Denied(format!(
            "the storage denied reading {at}: the dataset is not public"
        )),
        _ if timed_out(err) => {
            ReprError::Timeout(format!("the storage did not answer in time for {at}"))
        }
        _ => {
            tracing::info!(url = %at, error = %err, "reading a store's metadata failed");
            ReprError::Storage(format!("reading {at} failed: {}", first_line(err)))
        }
    }
}

/// Whether the error (or one of its causes) is a timeout.
fn timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(http) = e.downcast_ref::<object_store::client::HttpError>()
            && http.kind() == object_store::client::HttpErrorKind::Timeout
        {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        cause = e.source();
    }
    false
}

fn first_line(err: &dyn std::error::Error) -> String {
    let text = err.to_string();
    super::attrs::cut_chars(text.lines().next().unwrap_or(""), 300)
}

/// No Zarr store at `url`.
pub fn not_found(url: &StoreUrl) -> ReprError {
    ReprError::NotFound(format!(
        "no Zarr store at {} (neither zarr.json nor .zmetadata nor .zgroup)",
        url.as_str()
    ))
}

fn storage(url: &StoreUrl, err: &object_store::Error) -> ReprError {
    ReprError::Storage(format!("cannot open {}: {}", url.as_str(), first_line(err)))
}

fn client_options(timeout: Duration) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(true)
        .with_timeout(timeout)
        .with_connect_timeout(timeout)
}

fn no_retries(timeout: Duration) -> RetryConfig {
    RetryConfig {
        max_retries: 0,
        retry_timeout: timeout,
        ..RetryConfig::default()
    }
}

/// The HTTP client of every store: `reqwest` over rustls (the tree's TLS stack), no system
/// proxy, no redirects followed, the preview's timeout on connecting and on each request.
#[derive(Debug)]
struct NoRedirects {
    timeout: Duration,
}

impl object_store::client::HttpConnector for NoRedirects {
    fn connect(
        &self,
        _options: &ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(concat!(
                "pangeo-forge-orchestrator/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| object_store::Error::Generic {
                store: "HTTP",
                source: Box::new(e),
            })?;
        Ok(object_store::client::HttpClient::new(client))
    }
}
