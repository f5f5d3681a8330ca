//! `PFO_CORS_ORIGINS`: which browser origins may read the API. The default is any origin, as
//! the original (FastAPI's `CORSMiddleware(allow_origins=["*"])`), without credentials.

use super::{ConfigError, bad};

/// The browser origins allowed to call the read routes, `/graphql` and the preview.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsOrigins {
    /// Any origin (`Access-Control-Allow-Origin: *`), never with credentials.
    #[default]
    Any,
    /// Only these origins (`scheme://host[:port]`), echoed back when they ask.
    List(Vec<String>),
}

/// Reads the setting from the flag/environment (comma-separated) or the file (a list).
pub(super) fn cors_origins(
    flag: Option<&str>,
    file: Option<Vec<String>>,
) -> Result<CorsOrigins, ConfigError> {
    let items: Vec<String> = match (flag, file) {
        (Some(list), _) => list.split(',').map(|s| s.trim().to_owned()).collect(),
        (None, Some(list)) => list.into_iter().map(|s| s.trim().to_owned()).collect(),
        (None, None) => return Ok(CorsOrigins::Any),
    };
    let items: Vec<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
    if items.is_empty() {
        return Err(bad(
            "PFO_CORS_ORIGINS",
            "list at least one origin (https://pangeo-forge.org) or `*` for any",
        ));
    }
    if items.iter().any(|o| o == "*") {
        return if items.len() == 1 {
            Ok(CorsOrigins::Any)
        } else {
            Err(bad(
                "PFO_CORS_ORIGINS",
                "`*` (any origin) cannot be combined with a list",
            ))
        };
    }
    let mut origins = Vec::new();
    for item in items {
        let origin = item.trim_end_matches('/');
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        match host {
            Some(host) if !host.is_empty() && !host.contains(['/', ' ', '?', '#']) => {
                origins.push(origin.to_owned());
            }
            _ => {
                return Err(bad(
                    "PFO_CORS_ORIGINS",
                    format!(
                        "`{item}` is not an origin such as https://pangeo-forge.org (scheme and host, no path)"
                    ),
                ));
            }
        }
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_any_by_default_a_star_or_a_checked_list() {
        assert_eq!(cors_origins(None, None).unwrap(), CorsOrigins::Any);
        assert_eq!(cors_origins(Some("*"), None).unwrap(), CorsOrigins::Any);
        assert_eq!(
            cors_origins(
                Some("https://pangeo-forge.org/, http://localhost:3000"),
                None
            )
            .unwrap(),
            CorsOrigins::List(vec![
                "https://pangeo-forge.org".into(),
                "http://localhost:3000".into()
            ])
        );
        assert_eq!(
            cors_origins(None, Some(vec!["https://a.example".into()])).unwrap(),
            CorsOrigins::List(vec!["https://a.example".into()])
        );
        for bad in [
            "",
            "pangeo-forge.org",
            "https://x.org/path",
            "*,https://a.org",
        ] {
            let err = cors_origins(Some(bad), None).unwrap_err();
            assert_eq!(err.setting, "PFO_CORS_ORIGINS", "{bad}");
        }
    }
}
