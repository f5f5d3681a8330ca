//! Secrets and the admin API keys that guard mutations.

use subtle::ConstantTimeEq;

/// A secret value: never printed by `Debug`, never logged.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The admin API keys (`PFO_ADMIN_API_KEYS`). Empty means nobody may run mutations.
#[derive(Clone, Debug, Default)]
pub struct AdminKeys(Vec<Secret>);

/// Shorter keys than this are refused at start-up: they could be guessed.
pub const MIN_ADMIN_KEY_LEN: usize = 16;

impl AdminKeys {
    /// Validates and keeps the keys (surrounding whitespace and empty entries are dropped).
    pub fn new(keys: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut kept = Vec::new();
        for key in keys {
            let key = key.trim();
            if key.is_empty() {
                continue;
            }
            if key.len() < MIN_ADMIN_KEY_LEN {
                return Err(format!(
                    "each key must be at least {MIN_ADMIN_KEY_LEN} characters long"
                ));
            }
            kept.push(Secret::new(key));
        }
        Ok(AdminKeys(kept))
    }

    /// The keys themselves, for masking them in output.
    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(Secret::expose)
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `candidate` is one of the keys. Every key is compared, each in constant
    /// time, so the answer's timing does not tell which bytes matched.
    pub fn accepts(&self, candidate: &str) -> bool {
        let mut found = subtle::Choice::from(0);
        for key in &self.0 {
            found |= key.expose().as_bytes().ct_eq(candidate.as_bytes());
        }
        bool::from(found)
    }
}
