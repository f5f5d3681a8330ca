//! Attributes are written by contributors: any JSON, of any size and depth. What the preview
//! hands on is bounded — nesting cut at [`MAX_DEPTH`], strings at [`MAX_STRING_CHARS`],
//! lists and objects at [`MAX_ITEMS`] — and what it shows in HTML is one line of text cut at
//! [`MAX_SHOWN_CHARS`].

use serde_json::{Map, Value};

/// Levels of nesting kept; deeper values are replaced by [`CUT`].
pub const MAX_DEPTH: usize = 8;
/// Characters of a string value kept.
pub const MAX_STRING_CHARS: usize = 10_000;
/// Items of a list or entries of an object kept.
pub const MAX_ITEMS: usize = 500;
/// Characters of an attribute value shown in the HTML.
pub const MAX_SHOWN_CHARS: usize = 1_000;
/// What stands for what was cut.
pub const CUT: &str = "…";

/// The attributes with every value bounded.
pub fn bounded(attrs: &Map<String, Value>) -> Map<String, Value> {
    attrs
        .iter()
        .take(MAX_ITEMS)
        .map(|(k, v)| (cut_string(k), bound(v, 1)))
        .collect()
}

fn bound(value: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH && (value.is_array() || value.is_object()) {
        return Value::String(CUT.into());
    }
    match value {
        Value::String(s) => Value::String(cut_string(s)),
        Value::Array(items) => {
            let mut out: Vec<Value> = items
                .iter()
                .take(MAX_ITEMS)
                .map(|v| bound(v, depth + 1))
                .collect();
            if items.len() > MAX_ITEMS {
                out.push(Value::String(CUT.into()));
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .take(MAX_ITEMS)
                .map(|(k, v)| (cut_string(k), bound(v, depth + 1)))
                .collect();
            if map.len() > MAX_ITEMS {
                out.insert(CUT.into(), Value::String(CUT.into()));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn cut_string(s: &str) -> String {
    cut_chars(s, MAX_STRING_CHARS)
}

/// `s` cut to at most `max` characters, ending in [`CUT`] when it was cut.
pub fn cut_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}{CUT}", &s[..at]),
        None => s.to_owned(),
    }
}

/// A value as one line of text, as xarray prints attributes: strings as they are, numbers
/// and lists in JSON, cut at [`MAX_SHOWN_CHARS`]. Not escaped: the HTML writer escapes it.
pub fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    cut_chars(&text, MAX_SHOWN_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_are_bounded_in_depth_length_and_count() {
        let mut deep = json!("bottom");
        for _ in 0..40 {
            deep = json!([deep]);
        }
        let long = "x".repeat(MAX_STRING_CHARS + 50);
        let many: Vec<u32> = (0..2000).collect();
        let attrs = json!({"deep": deep, "long": long, "many": many})
            .as_object()
            .unwrap()
            .clone();
        let out = bounded(&attrs);
        let text = serde_json::to_string(&out["deep"]).unwrap();
        assert_eq!(text.matches('[').count(), MAX_DEPTH);
        assert!(text.contains(CUT));
        assert_eq!(
            out["long"].as_str().unwrap().chars().count(),
            MAX_STRING_CHARS + 1
        );
        assert_eq!(out["many"].as_array().unwrap().len(), MAX_ITEMS + 1);
        assert_eq!(shown(&json!("a b")), "a b");
        assert_eq!(shown(&json!([1, 2])), "[1,2]");
        assert_eq!(shown(&json!(long)).chars().count(), MAX_SHOWN_CHARS + 1);
    }
}
