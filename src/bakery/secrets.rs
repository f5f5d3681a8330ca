//! A bakery's secret values, and masking them in whatever leaves the process.

use serde_json::Value;

use crate::config::ServerSecrets;
use crate::config::masking::{mask_with, masked_set};

/// The secret values of one bakery, and the server's own ([`ServerSecrets`]), masked
/// together. `Debug` shows only how many there are.
#[derive(Clone, Default)]
pub struct Secrets {
    own: Vec<String>,
    server: ServerSecrets,
}

impl Secrets {
    /// Keeps the non-empty `values`, longest first (so a secret containing another is
    /// masked whole), each also in its JSON-escaped form and, for a multi-line value (a
    /// key file), line by line (see [`crate::config::masking::masked_forms`]).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        Secrets {
            own: masked_set(values),
            server: ServerSecrets::default(),
        }
    }

    /// The same secrets, masked together with the server's own.
    pub fn with_server(mut self, server: ServerSecrets) -> Self {
        self.server = server;
        self
    }

    /// How many of the bakery's strings are masked (each secret, its escaped form, lines).
    pub fn len(&self) -> usize {
        self.own.len()
    }

    /// Whether the bakery has none.
    pub fn is_empty(&self) -> bool {
        self.own.is_empty()
    }

    /// `text` with every bakery secret, then every server secret, replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        self.server.mask(&mask_with(&self.own, text))
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.own.len())
    }
}

pub(crate) fn mask_json(value: &mut Value, secrets: &Secrets) {
    match value {
        Value::String(s) => *s = secrets.mask(s),
        Value::Array(items) => items.iter_mut().for_each(|v| mask_json(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| mask_json(v, secrets)),
        _ => {}
    }
}
