//! Connection cursors: opaque to clients, a row's place in one ordering of one list.
//!
//! A cursor is base64 of `k1:` and a small JSON object: the list (`recipeRuns`), the
//! ordering's column and direction, the row's sort key and its id, e.g.
//! `k1:{"l":"recipeRuns","f":"started_at","d":"desc","k":"2026-11-01T00:00:00Z","i":42}`.
//! `k1` is the format's version. A cursor is only accepted by the list and ordering it came
//! from; the filter is not part of it (a position in an ordering means the same whatever
//! the filter). Cursors of the offset paging this server used before (`offset:<n>`) and
//! anything else are refused with `BAD_USER_INPUT` and a message saying which it was.

use super::error::ApiError;
use crate::db::keyset::{KeyKind, KeyValue, Position, SortKey};
use crate::db::listing::{Sort, SortDirection};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The prefix (and version) of this format.
const PREFIX: &str = "k1:";
/// The prefix of the offset cursors this server no longer accepts.
const OFFSET_PREFIX: &str = "offset:";

/// One list in one ordering: what a cursor is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Ordering<F> {
    /// The connection's field name, e.g. `recipeRuns`.
    pub list: &'static str,
    pub sort: Sort<F>,
}

#[derive(Serialize, Deserialize)]
struct Body<'a> {
    #[serde(rename = "l")]
    list: std::borrow::Cow<'a, str>,
    #[serde(rename = "f")]
    field: std::borrow::Cow<'a, str>,
    #[serde(rename = "d")]
    direction: std::borrow::Cow<'a, str>,
    #[serde(rename = "k")]
    key: Value,
    #[serde(rename = "i")]
    id: i32,
}

fn direction_name(direction: SortDirection) -> &'static str {
    match direction {
        SortDirection::Asc => "asc",
        SortDirection::Desc => "desc",
    }
}

/// How an ordering reads in a message: `recipeRuns` ordered by STARTED_AT DESC.
fn describe(list: &str, field: &str, direction: &str) -> String {
    format!(
        "`{list}` ordered by {} {}",
        field.to_uppercase(),
        direction.to_uppercase()
    )
}

/// A row's cursor before it is written out: its ordering's names and its position. A
/// page keeps these and writes out only the cursors a query selects (minting one is a JSON
/// object and base64; a page of 100 rows whose `cursor` nobody asked for minted 100).
#[derive(Debug, Clone)]
pub struct Place {
    list: &'static str,
    field: &'static str,
    direction: SortDirection,
    at: Position,
}

impl Place {
    /// The cursor, as clients see it.
    pub fn encode(&self) -> String {
        let key = match &self.at.key {
            KeyValue::Null => Value::Null,
            KeyValue::Int(v) => (*v).into(),
            KeyValue::Text(v) => v.as_str().into(),
            KeyValue::Time(v) => v.to_rfc3339_opts(SecondsFormat::AutoSi, true).into(),
            KeyValue::Bool(v) => (*v).into(),
        };
        let body = Body {
            list: self.list.into(),
            field: self.field.into(),
            direction: direction_name(self.direction).into(),
            key,
            id: self.at.id,
        };
        // Serialising a struct of strings, numbers and booleans cannot fail.
        let json = serde_json::to_string(&body).unwrap_or_default();
        STANDARD.encode(format!("{PREFIX}{json}"))
    }
}

impl<F: SortKey> Ordering<F> {
    /// Where `row` stands in this ordering (its cursor, not yet written out).
    pub fn place(&self, row: &<F::Entity as sea_orm::EntityTrait>::Model) -> Place {
        Place {
            list: self.list,
            field: self.sort.field.name(),
            direction: self.sort.direction,
            at: Position {
                key: self.sort.field.key(row),
                id: F::id_of(row),
            },
        }
    }

    /// The position `cursor` stands for, if it is a cursor of this ordering.
    pub fn position(&self, cursor: &str) -> Result<Position, ApiError> {
        let text = STANDARD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| not_a_cursor(cursor))?;
        if text.starts_with(OFFSET_PREFIX) {
            return Err(ApiError::BadUserInput(format!(
                "`{}` is a cursor from the offset paging this server no longer uses; \
                 start again from the first page (leave `after` out)",
                shorten(cursor)
            )));
        }
        let body: Body = text
            .strip_prefix(PREFIX)
            .and_then(|json| serde_json::from_str(json).ok())
            .ok_or_else(|| not_a_cursor(cursor))?;
        let field = self.sort.field.name();
        let direction = direction_name(self.sort.direction);
        if (
            body.list.as_ref(),
            body.field.as_ref(),
            body.direction.as_ref(),
        ) != (self.list, field, direction)
        {
            return Err(ApiError::BadUserInput(format!(
                "this cursor is from {}, not {}: a cursor only works with the list and \
                 ordering it came from; start again from the first page for another ordering",
                describe(&body.list, &body.field, &body.direction),
                describe(self.list, field, direction),
            )));
        }
        let key = key_of(body.key, self.sort.field.kind(), self.sort.field.nullable())
            .ok_or_else(|| not_a_cursor(cursor))?;
        Ok(Position { key, id: body.id })
    }
}

/// The sort key a cursor's JSON value stands for, when it fits the column.
fn key_of(value: Value, kind: KeyKind, nullable: bool) -> Option<KeyValue> {
    match (value, kind) {
        (Value::Null, _) if nullable => Some(KeyValue::Null),
        (Value::Number(n), KeyKind::Int) => n
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .map(KeyValue::Int),
        (Value::String(s), KeyKind::Text) => Some(KeyValue::Text(s)),
        (Value::String(s), KeyKind::Time) => DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(|t| KeyValue::Time(t.with_timezone(&Utc))),
        (Value::Bool(b), KeyKind::Bool) => Some(KeyValue::Bool(b)),
        _ => None,
    }
}

/// At most 64 characters of what the client sent, for a message.
fn shorten(cursor: &str) -> String {
    match cursor.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &cursor[..end]),
        None => cursor.to_owned(),
    }
}

fn not_a_cursor(cursor: &str) -> ApiError {
    ApiError::BadUserInput(format!(
        "`{}` is not a cursor from this API: pass a `cursor` or `endCursor` this API \
         returned, or leave `after` out for the first page",
        shorten(cursor)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::entities::recipe_run;
    use crate::db::listing::RecipeRunField;

    fn ordering(field: RecipeRunField, direction: SortDirection) -> Ordering<RecipeRunField> {
        Ordering {
            list: "recipeRuns",
            sort: Sort { field, direction },
        }
    }

    fn run() -> recipe_run::Model {
        let at = DateTime::parse_from_rfc3339("2026-11-01T10:20:30.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        recipe_run::Model {
            id: 42,
            recipe_id: "daily".into(),
            bakery_id: 1,
            feedstock_id: 2,
            head_sha: "0".repeat(40),
            version: "1.0".into(),
            started_at: at,
            completed_at: None,
            conclusion: None,
            status: crate::db::enums::RunStatus::Queued,
            is_test: true,
            dataset_type: None,
            dataset_public_url: None,
            job_name: None,
            job_id: None,
            deployment_id: None,
            environment_url: None,
            error_trace: None,
            logs: None,
            updated_at: at,
        }
    }

    #[test]
    fn a_cursor_comes_back_as_the_position_it_was_made_from() {
        let row = run();
        for field in [
            RecipeRunField::StartedAt,
            RecipeRunField::CompletedAt,
            RecipeRunField::Status,
            RecipeRunField::IsTest,
            RecipeRunField::BakeryId,
        ] {
            let ordering = ordering(field, SortDirection::Desc);
            let position = ordering.position(&ordering.place(&row).encode());
            assert_eq!(
                position.ok(),
                Some(Position {
                    key: field.key(&row),
                    id: 42
                }),
                "{field:?}"
            );
        }
    }

    #[test]
    fn a_cursor_of_another_ordering_is_refused_naming_both() {
        let cursor = ordering(RecipeRunField::StartedAt, SortDirection::Desc)
            .place(&run())
            .encode();
        let err = ordering(RecipeRunField::StartedAt, SortDirection::Asc)
            .position(&cursor)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("STARTED_AT DESC"), "{err}");
        assert!(err.contains("STARTED_AT ASC"), "{err}");
    }

    #[test]
    fn offset_cursors_and_garbage_are_refused() {
        let ordering = ordering(RecipeRunField::Id, SortDirection::Asc);
        let old = STANDARD.encode("offset:99");
        let message = |c: &str| ordering.position(c).err().map(|e| e.to_string());
        assert!(message(&old).is_some_and(|m| m.contains("offset paging")));
        for garbage in [
            "bogus".to_owned(),
            STANDARD.encode("k1:{not json"),
            STANDARD.encode(r#"k1:{"l":"recipeRuns","f":"id","d":"asc","k":"text","i":1}"#),
            STANDARD.encode(r#"k1:{"l":"recipeRuns","f":"id","d":"asc","k":null,"i":1}"#),
            STANDARD.encode([0xff, 0xfe]),
        ] {
            assert!(
                message(&garbage).is_some_and(|m| m.contains("not a cursor")),
                "{garbage}"
            );
        }
    }
}
