//! Masking secret values in text that leaves the process (run logs and traces, PR comments,
//! log lines): the server's own secrets here, each bakery's in [`crate::bakery::secrets`],
//! by the same rules.

use regex::Regex;
use std::sync::{Arc, LazyLock};

/// Lines of a multi-line secret shorter than this are not masked on their own (a lone `}`
/// or `-----END KEY-----` line would mask unrelated output).
pub const MIN_MASKED_LINE_LEN: usize = 8;

/// What a masked value becomes.
pub const MASK: &str = "***";

/// The strings to mask for one secret `value`: itself, its form inside a JSON string
/// (quotes, backslashes and newlines escaped) and, for a multi-line value (a key file),
/// each line of at least [`MIN_MASKED_LINE_LEN`] characters, since output is masked one
/// line at a time.
pub fn masked_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    let quoted = serde_json::to_string(value).unwrap_or_default();
    if let Some(escaped) = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'))
        && escaped != value
    {
        forms.push(escaped.to_owned());
    }
    if value.contains('\n') {
        forms.extend(
            value
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= MIN_MASKED_LINE_LEN)
                .map(str::to_owned),
        );
    }
    forms.retain(|f| !f.is_empty());
    forms
}

/// Every form of `values`, longest first (so a secret containing another is masked whole).
pub fn masked_set(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut all: Vec<String> = values.into_iter().flat_map(|v| masked_forms(&v)).collect();
    all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    all.dedup();
    all
}

/// `text` with every string of `set` (from [`masked_set`]) replaced by [`MASK`].
pub fn mask_with(set: &[String], text: &str) -> String {
    let mut out = text.to_owned();
    for secret in set {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// The credentials the server makes at run time, by their shape: the App's JWTs (three
/// base64url parts, the first two JSON objects) and GitHub installation tokens (`ghs_`).
/// Their values change every hour, so they are masked wherever they appear.
static CREDENTIAL_SHAPES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}|\bghs_[A-Za-z0-9_]{20,}",
    )
    .ok()
});

/// The secrets the server itself holds — the webhook secret, the admin keys, the App's
/// private key (and each line of it) — plus the shapes of the tokens and JWTs it makes.
/// Cheap to clone; `Debug` shows only how many values it holds.
#[derive(Clone, Default)]
pub struct ServerSecrets(Arc<Vec<String>>);

impl ServerSecrets {
    /// Masks `values` (and their forms) and the credential shapes.
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        ServerSecrets(Arc::new(masked_set(values)))
    }

    /// `text` with every server secret, installation token and JWT replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        let out = mask_with(&self.0, text);
        match CREDENTIAL_SHAPES.as_ref() {
            Some(shapes) if shapes.is_match(&out) => shapes.replace_all(&out, MASK).into_owned(),
            _ => out,
        }
    }
}

impl std::fmt::Debug for ServerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerSecrets({} redacted)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::ServerSecrets;

    #[test]
    fn values_their_lines_and_credential_shapes_are_masked() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx0abcdefghij\n-----END RSA PRIVATE KEY-----\n";
        let secrets = ServerSecrets::new(["webhook-s3cret".to_owned(), pem.to_owned()]);
        assert_eq!(secrets.mask("sig=webhook-s3cret!"), "sig=***!");
        assert_eq!(
            secrets.mask("key line MIIEowIBAAKCAQEAx0abcdefghij"),
            "key line ***"
        );
        let token = format!("ghs_{}", "a1B2".repeat(9));
        assert_eq!(
            secrets.mask(&format!("token {token} used")),
            "token *** used"
        );
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMiLCJleHAiOjF9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        assert_eq!(secrets.mask(&format!("Bearer {jwt}")), "Bearer ***");
        assert_eq!(secrets.mask("ghs_short and a } b"), "ghs_short and a } b");
    }
}
