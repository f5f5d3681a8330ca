//! A result's message, written around the text the subscribers of an execution share: only
//! the operation's id is this connection's own.

/// `{"type":<kind>,"id":<id>,"payload":<payload>}`, with `id` JSON-escaped and `payload`
/// (JSON text, serialised once per result) copied in as it is.
pub(super) fn envelope(kind: &str, id: &str, payload: &str) -> String {
    let id = serde_json::Value::from(id).to_string();
    let mut text = String::with_capacity(kind.len() + id.len() + payload.len() + 32);
    text.push_str(r#"{"type":""#);
    text.push_str(kind);
    text.push_str(r#"","id":"#);
    text.push_str(&id);
    text.push_str(r#","payload":"#);
    text.push_str(payload);
    text.push('}');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn ids_are_escaped_and_payloads_kept() {
        let text = envelope("next", "a\"b\\c\n\u{1}é", r#"{"data":{"x":1}}"#);
        let value: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            value,
            json!({"type": "next", "id": "a\"b\\c\n\u{1}é", "payload": {"data": {"x": 1}}})
        );
    }
}
