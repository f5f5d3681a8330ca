//! The dataset preview's settings (`GET /repr/xarray/`, `Dataset.summary`): whether it reads
//! storage at all (`PFO_REPR_ENABLED`), which store URLs it may read besides the recorded
//! datasets (`PFO_REPR_ALLOWED_PREFIXES`), how long one read may take
//! (`PFO_REPR_TIMEOUT_SECS`) and how long a preview is reused (`PFO_REPR_CACHE_TTL_SECS`).

use super::{ConfigError, bad, bounded_number};
use std::time::Duration;

/// Seconds one preview may take to read a store's metadata.
pub const DEFAULT_REPR_TIMEOUT_SECS: u64 = 10;
/// Seconds a preview is reused before the store is read again.
pub const DEFAULT_REPR_CACHE_TTL_SECS: u64 = 600;

/// The URL schemes the preview reads.
pub const REPR_SCHEMES: [&str; 6] = ["https", "http", "s3", "gs", "gcs", "file"];

/// What the dataset preview may read, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReprSettings {
    /// Whether the preview reads storage at all (off: it answers 503 and the test-run comment
    /// lists no variables).
    pub enabled: bool,
    /// URL prefixes a store may start with besides the recorded datasets' URLs; `None`: the
    /// configured bakeries' public storage prefixes (`TargetStorage.public_url`).
    pub allowed_prefixes: Option<Vec<String>>,
    /// How long reading one store's metadata may take.
    pub timeout: Duration,
    /// How long a preview is reused (changes of its dataset drop it sooner).
    pub cache_ttl: Duration,
}

impl Default for ReprSettings {
    fn default() -> Self {
        ReprSettings {
            enabled: true,
            allowed_prefixes: None,
            timeout: Duration::from_secs(DEFAULT_REPR_TIMEOUT_SECS),
            cache_ttl: Duration::from_secs(DEFAULT_REPR_CACHE_TTL_SECS),
        }
    }
}

/// The raw values, from flags/environment or the file.
pub(super) struct ReprInput<'a> {
    pub(super) enabled: Option<&'a str>,
    pub(super) file_enabled: Option<bool>,
    pub(super) prefixes: Option<&'a str>,
    pub(super) file_prefixes: Option<Vec<String>>,
    pub(super) timeout: Option<&'a str>,
    pub(super) file_timeout: Option<u64>,
    pub(super) cache_ttl: Option<&'a str>,
    pub(super) file_cache_ttl: Option<u64>,
}

/// Reads and checks the preview settings.
pub(super) fn repr_settings(input: ReprInput<'_>) -> Result<ReprSettings, ConfigError> {
    let enabled = match (input.enabled, input.file_enabled) {
        (Some(text), _) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                return Err(bad(
                    "PFO_REPR_ENABLED",
                    format!("`{text}` is not true or false"),
                ));
            }
        },
        (None, Some(enabled)) => enabled,
        (None, None) => true,
    };
    let prefixes: Option<Vec<String>> = match (input.prefixes, input.file_prefixes) {
        (Some(list), _) => Some(list.split(',').map(|s| s.trim().to_owned()).collect()),
        (None, Some(list)) => Some(list.into_iter().map(|s| s.trim().to_owned()).collect()),
        (None, None) => None,
    };
    let prefixes = match prefixes {
        Some(items) => {
            let items: Vec<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
            for item in &items {
                check_prefix(item)?;
            }
            Some(items)
        }
        None => None,
    };
    let timeout = bounded_number(
        "PFO_REPR_TIMEOUT_SECS",
        input.timeout,
        input.file_timeout,
        1..=300,
        DEFAULT_REPR_TIMEOUT_SECS,
    )?;
    let cache_ttl = bounded_number(
        "PFO_REPR_CACHE_TTL_SECS",
        input.cache_ttl,
        input.file_cache_ttl,
        0..=86_400,
        DEFAULT_REPR_CACHE_TTL_SECS,
    )?;
    Ok(ReprSettings {
        enabled,
        allowed_prefixes: prefixes,
        timeout: Duration::from_secs(timeout),
        cache_ttl: Duration::from_secs(cache_ttl),
    })
}

/// A prefix must be an absolute URL of a scheme the preview reads, without credentials,
/// query or fragment, and (but for `file://`) with a host.
fn check_prefix(item: &str) -> Result<(), ConfigError> {
    let wanted = "a URL prefix such as https://ncsa.osn.xsede.org/Pangeo/ (schemes https, http, s3, gs, file)";
    let url = url::Url::parse(item).map_err(|_| {
        bad(
            "PFO_REPR_ALLOWED_PREFIXES",
            format!("`{item}` is not {wanted}"),
        )
    })?;
    if !REPR_SCHEMES.contains(&url.scheme()) {
        return Err(bad(
            "PFO_REPR_ALLOWED_PREFIXES",
            format!("`{item}` is not {wanted}"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "PFO_REPR_ALLOWED_PREFIXES",
            format!("`{item}` holds credentials; list public URLs only"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "PFO_REPR_ALLOWED_PREFIXES",
            format!("`{item}` has a query or fragment; list URL prefixes only"),
        ));
    }
    let has_host = url.host_str().is_some_and(|h| !h.is_empty());
    if url.scheme() == "file" {
        if url.path().trim_matches('/').is_empty() {
            return Err(bad(
                "PFO_REPR_ALLOWED_PREFIXES",
                format!("`{item}` would open the whole file system; name a directory"),
            ));
        }
    } else if !has_host {
        return Err(bad(
            "PFO_REPR_ALLOWED_PREFIXES",
            format!("`{item}` names no host"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(prefixes: Option<&str>) -> ReprInput<'_> {
        ReprInput {
            enabled: None,
            file_enabled: None,
            prefixes,
            file_prefixes: None,
            timeout: None,
            file_timeout: None,
            cache_ttl: None,
            file_cache_ttl: None,
        }
    }

    #[test]
    fn repr_prefixes_default_to_the_bakeries_and_are_checked() {
        let default = repr_settings(input(None)).unwrap();
        assert_eq!(default, ReprSettings::default());
        let listed = repr_settings(input(Some(
            "https://ncsa.osn.xsede.org/Pangeo/, s3://bucket/data/ ,file:///srv/zarr",
        )))
        .unwrap();
        assert_eq!(
            listed.allowed_prefixes.unwrap(),
            [
                "https://ncsa.osn.xsede.org/Pangeo/",
                "s3://bucket/data/",
                "file:///srv/zarr"
            ]
        );
        assert_eq!(
            repr_settings(input(Some(""))).unwrap().allowed_prefixes,
            Some(vec![])
        );
        let off = ReprInput {
            enabled: Some("false"),
            ..input(None)
        };
        assert!(!repr_settings(off).unwrap().enabled);
        let bad = ReprInput {
            enabled: Some("maybe"),
            ..input(None)
        };
        assert_eq!(repr_settings(bad).unwrap_err().setting, "PFO_REPR_ENABLED");
        for refused in [
            "ncsa.osn.xsede.org",
            "ftp://host/x",
            "https://user:pw@host/x",
            "https://host/x?sig=1",
            "file:///",
            "s3:///nobucket",
        ] {
            let err = repr_settings(input(Some(refused))).unwrap_err();
            assert_eq!(err.setting, "PFO_REPR_ALLOWED_PREFIXES", "{refused}");
        }
    }
}
