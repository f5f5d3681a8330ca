//! Keyset pages: the rows that follow a given row in an ordering, found by comparing sort
//! keys (`WHERE (sort_col, id) > (:key, :id)`) instead of skipping rows (`OFFSET`), so page
//! 1,000 costs what page 1 costs and rows written meanwhile neither repeat nor hide others.
//!
//! An ordering is a sort column and a direction; ties are broken by `id` in the same
//! direction, so every row has one place. Where NULLs go is defined here, the same on both
//! engines (SQLite puts NULLs first, PostgreSQL last, so neither default is used): **NULLs
//! come after every value, in both directions**, and among themselves by `id` in the
//! direction asked. A nullable column's list is therefore two segments, fetched one after
//! the other, each with an index range scan on `(sort_col, id)`:
//!
//! 1. the rows with a value: `sort_col IS NOT NULL AND (sort_col, id) > (:key, :id)`
//!    (`<` for descending), `ORDER BY sort_col, id`;
//! 2. the rows without: `sort_col IS NULL AND id > :id` (`<` for descending), `ORDER BY id`.
//!
//! A position (the last row a page returned) lies in the segment of its key: a NULL key
//! starts in the second. A page that runs past the end of the first segment takes the rest
//! from the second, so such a page costs two statements instead of one.

use super::DbError;
use super::listing::{Sort, SortDirection};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, QueryFilter, QuerySelect, Select, Value,
};

/// What kind of values a sort column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An integer (ids, foreign keys).
    Int,
    /// Text, compared as the database compares it (enums are stored as their text).
    Text,
    /// A timestamp.
    Time,
    /// A boolean (`false` before `true`).
    Bool,
}

/// One row's value in a sort column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    /// The column is NULL in this row.
    Null,
    /// An integer.
    Int(i32),
    /// Text (an enum's stored text).
    Text(String),
    /// A timestamp.
    Time(DateTime<Utc>),
    /// A boolean.
    Bool(bool),
}

impl KeyValue {
    /// The kind of this value; `None` for NULL, which fits any nullable column.
    pub fn kind(&self) -> Option<KeyKind> {
        match self {
            KeyValue::Null => None,
            KeyValue::Int(_) => Some(KeyKind::Int),
            KeyValue::Text(_) => Some(KeyKind::Text),
            KeyValue::Time(_) => Some(KeyKind::Time),
            KeyValue::Bool(_) => Some(KeyKind::Bool),
        }
    }

    fn bind(&self) -> Value {
        match self {
            KeyValue::Null => Value::Int(None),
            KeyValue::Int(v) => (*v).into(),
            KeyValue::Text(v) => v.clone().into(),
            KeyValue::Time(v) => (*v).into(),
            KeyValue::Bool(v) => (*v).into(),
        }
    }
}

/// A column a list can be ordered by, with what a keyset page needs to know of it.
pub trait SortKey: Copy + Send + Sync + 'static {
    /// The table the column belongs to.
    type Entity: EntityTrait;
    /// The column.
    fn column(self) -> <Self::Entity as EntityTrait>::Column;
    /// The table's `id` column (the tie-breaker).
    fn id_column() -> <Self::Entity as EntityTrait>::Column;
    /// What the column holds.
    fn kind(self) -> KeyKind;
    /// Whether the column may be NULL.
    fn nullable(self) -> bool;
    /// `row`'s value in the column.
    fn key(self, row: &<Self::Entity as EntityTrait>::Model) -> KeyValue;
    /// `row`'s id.
    fn id_of(row: &<Self::Entity as EntityTrait>::Model) -> i32;
    /// The column's name (REST's `order_by` value), e.g. `started_at`.
    fn name(self) -> &'static str;
}

/// A row's place in an ordering: its sort key and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub key: KeyValue,
    pub id: i32,
}

/// A keyset page: at most `limit` rows, those right after `after` (from the start when
/// `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysetPage {
    pub after: Option<Position>,
    pub limit: u64,
}

/// The segments of an ordering, in list order (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    /// A column that cannot be NULL: one segment.
    All,
    /// The rows with a value in a nullable column.
    Values,
    /// The rows where it is NULL, after all others.
    Nulls,
}

/// The rows of `select` (already filtered) on the keyset page `page` of ordering `sort`.
pub(crate) async fn fetch<F: SortKey>(
    conn: &impl ConnectionTrait,
    select: Select<F::Entity>,
    sort: Sort<F>,
    page: &KeysetPage,
) -> Result<Vec<<F::Entity as EntityTrait>::Model>, DbError> {
    let field = sort.field;
    let segments: &[Segment] = if field.nullable() {
        &[Segment::Values, Segment::Nulls]
    } else {
        &[Segment::All]
    };
    let mut after = page.after.as_ref();
    let start = match after {
        None => 0,
        Some(position) => match position.key.kind() {
            Some(kind) if kind == field.kind() => 0,
            None if field.nullable() => 1,
            _ => {
                return Err(DbError::Invalid(format!(
                    "the position {:?} does not fit the ordering by `{}`",
                    position.key,
                    field.name()
                )));
            }
        },
    };
    let mut rows = Vec::new();
    for &segment in &segments[start..] {
        let wanted = page.limit.saturating_sub(rows.len() as u64);
        if wanted == 0 {
            break;
        }
        let query = segment_query(select.clone(), sort, segment, after.take());
        rows.extend(query.limit(wanted).all(conn).await?);
    }
    Ok(rows)
}

/// One segment's query: its rows, after `after` when the position lies in it, in order.
fn segment_query<F: SortKey>(
    select: Select<F::Entity>,
    sort: Sort<F>,
    segment: Segment,
    after: Option<&Position>,
) -> Select<F::Entity> {
    let column = sort.field.column();
    let id = F::id_column();
    let by_id = column.as_str() == id.as_str();
    let select = match segment {
        Segment::All => select,
        Segment::Values => select.filter(column.is_not_null()),
        Segment::Nulls => select.filter(column.is_null()),
    };
    let select = match after {
        None => select,
        // Within the NULLs, and when the sort column is the id itself, only the id orders.
        Some(position) if by_id || segment == Segment::Nulls => {
            select.filter(match sort.direction {
                SortDirection::Asc => id.gt(position.id),
                SortDirection::Desc => id.lt(position.id),
            })
        }
        Some(position) => {
            let rows = Expr::tuple([
                Expr::col(column.as_column_ref()),
                Expr::col(id.as_column_ref()),
            ]);
            let bound = Expr::tuple([Expr::val(position.key.bind()), Expr::val(position.id)]);
            select.filter(match sort.direction {
                SortDirection::Asc => rows.gt(bound),
                SortDirection::Desc => rows.lt(bound),
            })
        }
    };
    let order_column = if segment == Segment::Nulls {
        id
    } else {
        column
    };
    super::sorted(select, order_column, id, sort.direction)
}
