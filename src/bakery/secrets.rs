//! A bakery's secret values, and masking them in whatever leaves the process.

use serde_json::Value;

/// Lines of a multi-line secret shorter than this are not masked on their own (a lone `}`
/// or `-----END KEY-----` line would mask unrelated output).
pub const MIN_MASKED_LINE_LEN: usize = 8;

/// The secret values of one bakery. `Debug` shows only how many there are.
#[derive(Clone, Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Keeps the non-empty `values`, longest first (so a secret containing another is
    /// masked whole). Each value is also kept as it appears inside a JSON string (quotes,
    /// backslashes and newlines escaped) and, for a multi-line value (a key file), line by
    /// line for lines of at least [`MIN_MASKED_LINE_LEN`] characters, since output is masked
    /// one line at a time.
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values
            .into_iter()
            .flat_map(|value| {
                let mut forms = vec![value.clone()];
                let quoted = serde_json::to_string(&value).unwrap_or_default();
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
                forms
            })
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Secrets(values)
    }

    /// How many strings are masked (each secret, plus its escaped form and lines).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
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
