//! Store URLs: parsed, checked and normalised before anything is read, and the rule that
//! says whether one may be read at all (a configured prefix, compared origin first, then path).

use super::ReprError;
use crate::config::REPR_SCHEMES;
use url::Url;

/// The kinds of storage the preview reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http://` or `https://`.
    Http,
    /// `s3://bucket/key`.
    S3,
    /// `gs://bucket/key` (or `gcs://`).
    Gcs,
    /// `file:///path` on this machine.
    File,
}

/// A store URL that passed the checks: an absolute URL of a readable scheme, no credentials,
/// no query or fragment, `.`/`..` resolved, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    url: Url,
    scheme: Scheme,
}

impl StoreUrl {
    /// Parses `text` as a store URL or says why it is not one.
    pub fn parse(text: &str) -> Result<StoreUrl, ReprError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ReprError::Invalid(
                "give the store's URL: /repr/xarray/?url=https://…/store.zarr".into(),
            ));
        }
        let mut url = Url::parse(text)
            .map_err(|e| ReprError::Invalid(format!("`{text}` is not a URL ({e})")))?;
        let scheme = match url.scheme() {
            "http" | "https" => Scheme::Http,
            "s3" => Scheme::S3,
            "gs" | "gcs" => Scheme::Gcs,
            "file" => Scheme::File,
            other => {
                return Err(ReprError::Invalid(format!(
                    "`{other}://` stores are not read; the preview reads {}",
                    REPR_SCHEMES.join(", ")
                )));
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ReprError::Refused(
                "URLs with credentials in them are refused: give the dataset's public URL".into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ReprError::Invalid(
                "a store URL has no query or fragment (`?…`, `#…`)".into(),
            ));
        }
        let host = url.host_str().unwrap_or("");
        match scheme {
            Scheme::File if !host.is_empty() && host != "localhost" => {
                return Err(ReprError::Invalid(format!(
                    "`file://{host}/…` names another machine; local stores are file:///path"
                )));
            }
            Scheme::File => {}
            _ if host.is_empty() => {
                return Err(ReprError::Invalid(format!(
                    "`{text}` names no host or bucket"
                )));
            }
            _ => {}
        }
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(if trimmed.is_empty() { "/" } else { &trimmed });
        Ok(StoreUrl { url, scheme })
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// What kind of storage this is.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host (the bucket for `s3://` and `gs://`), empty for `file://`.
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }

    /// The path, percent-decoded, without leading or trailing `/`.
    pub fn key(&self) -> String {
        let decoded = percent_encoding::percent_decode_str(self.url.path()).decode_utf8_lossy();
        decoded.trim_matches('/').to_owned()
    }

    /// Whether this URL starts with `prefix`: the same scheme, host and port, and a path that
    /// starts with the prefix's path (taken literally, so `…/Pangeo/` admits only what is
    /// inside that directory).
    pub fn starts_with(&self, prefix: &Prefix) -> bool {
        let (a, b) = (&self.url, &prefix.0);
        a.scheme() == b.scheme()
            && a.host_str() == b.host_str()
            && a.port_or_known_default() == b.port_or_known_default()
            && (a.path().starts_with(b.path()) || format!("{}/", a.path()) == b.path())
    }

    /// The ways a stored row may have written this URL (as given, with and without a
    /// trailing slash, normalised), to find it in the database.
    pub fn spellings(&self, given: &str) -> Vec<String> {
        let given = given.trim();
        let bare = given.trim_end_matches('/');
        let mut out = vec![
            given.to_owned(),
            bare.to_owned(),
            format!("{bare}/"),
            self.as_str().to_owned(),
        ];
        out.sort();
        out.dedup();
        out
    }
}

/// A URL prefix the preview may read under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(Url);

impl Prefix {
    /// Parses a configured prefix; `None` (logged) when it cannot be one.
    pub fn parse(text: &str) -> Option<Prefix> {
        let url = Url::parse(text.trim()).ok()?;
        let fine = REPR_SCHEMES.contains(&url.scheme())
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
            && if url.scheme() == "file" {
                !url.path().trim_matches('/').is_empty()
            } else {
                url.host_str().is_some_and(|h| !h.is_empty())
            };
        if !fine {
            tracing::warn!(prefix = %text, "not a usable preview prefix; ignored");
            return None;
        }
        Some(Prefix(url))
    }

    /// The prefix as a URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_checked_and_normalised() {
        let url = StoreUrl::parse(" https://ncsa.osn.xsede.org/Pangeo/a/../gpcp.zarr/ ").unwrap();
        assert_eq!(url.as_str(), "https://ncsa.osn.xsede.org/Pangeo/gpcp.zarr");
        assert_eq!(url.key(), "Pangeo/gpcp.zarr");
        assert_eq!(url.scheme(), Scheme::Http);
        assert_eq!(
            StoreUrl::parse("s3://bucket/x/y.zarr").unwrap().host(),
            "bucket"
        );
        assert_eq!(
            StoreUrl::parse("file:///tmp/a%20b.zarr").unwrap().key(),
            "tmp/a b.zarr"
        );
        for (bad, status) in [
            ("", 422),
            ("gpcp.zarr", 422),
            ("ftp://host/x", 422),
            ("https://user:secret@host/x.zarr", 403),
            ("https://token@host/x.zarr", 403),
            ("https://host/x.zarr?X-Amz-Signature=1", 422),
            ("file://otherhost/x", 422),
            ("s3:///x", 422),
        ] {
            let err = StoreUrl::parse(bad).unwrap_err();
            assert_eq!(err.status(), status, "{bad}: {err}");
        }
    }

    #[test]
    fn prefixes_match_origin_then_path() {
        let prefix = Prefix::parse("https://ncsa.osn.xsede.org/Pangeo/").unwrap();
        let ok = |u: &str| StoreUrl::parse(u).unwrap().starts_with(&prefix);
        assert!(ok(
            "https://ncsa.osn.xsede.org/Pangeo/pangeo-forge/gpcp.zarr"
        ));
        assert!(ok("https://ncsa.osn.xsede.org/Pangeo"));
        assert!(ok("https://NCSA.osn.xsede.org:443/Pangeo/x"));
        assert!(!ok("https://ncsa.osn.xsede.org/Pangeo-other/x"));
        assert!(!ok("https://ncsa.osn.xsede.org/Pangeo/../secret/x"));
        assert!(!ok("https://ncsa.osn.xsede.org.evil.example/Pangeo/x"));
        assert!(!ok("http://ncsa.osn.xsede.org/Pangeo/x"));
        assert!(!ok("https://ncsa.osn.xsede.org:8443/Pangeo/x"));
        assert!(!ok("https://ncsa.osn.xsede.org/%50angeo/x"));
        assert!(Prefix::parse("file:///").is_none());
        assert!(Prefix::parse("").is_none());
        assert!(Prefix::parse("https://u:p@h/x").is_none());
    }
}
