//! Plain columns without a future each.
//!
//! async-graphql resolves every selected field of an object through its own boxed future,
//! a `FuturesUnordered` slot and a string match over the object's field names; a page of
//! 100 runs with their bakery and feedstock is about 1,300 of them, and that machinery was
//! most of GraphQL's cost over REST for the same rows (docs/performance.md). Most of those
//! fields are a row's own columns, known the moment the row is: [`Plain`] reads those
//! straight from the row and leaves only the others (relations, fields with arguments or a
//! guard, `__typename` aside) to async-graphql, concurrently, as it would have.
//!
//! The answer is the one async-graphql gives, field for field (a test compares the two on
//! every field of every type, on both engines): a value comes from the same
//! [`InputType::to_value`] conversion the scalar's own resolver uses, an error of a field
//! left to async-graphql is recorded the same way, and a selection with fragments is
//! resolved by async-graphql as a whole. This holds because the schema has no extension
//! and no custom directive (an extension would see every field through its `resolve`
//! hook; [`super::builder`] adds none).

use async_graphql::futures_util::future::join_all;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_container;
use async_graphql::{
    ContainerType, ContextSelectionSet, InputType, Name, OutputType, Positioned, ServerResult,
    Value,
};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// An object some of whose fields are its own columns.
pub trait PlainFields: ContainerType {
    /// The value of field `name` when it is one of the object's own columns (no arguments,
    /// no guard, never an error), as async-graphql would resolve it; `None` for every other
    /// field.
    fn plain_field(&self, name: &str) -> Option<Value>;
}

impl<T: PlainFields + ?Sized> PlainFields for &T {
    fn plain_field(&self, name: &str) -> Option<Value> {
        T::plain_field(*self, name)
    }
}

/// Turns off [`Plain`] for a schema (its data): every field is resolved by async-graphql.
/// The benchmark's and the tests' baseline, and an operator's way out
/// (`PFO_GRAPHQL_PLAIN_FIELDS=false`).
#[derive(Debug, Clone, Copy)]
pub struct PerFieldOnly;

/// `T` as GraphQL sees it (same type, same fields), its own columns read directly.
pub struct Plain<T>(pub T);

impl<T: Clone> Plain<T> {
    /// The node of a to-one relation (loaded for a whole sibling group) under `key`; when
    /// its row is gone, `NOT_FOUND` saying which (`bakery 3`).
    pub fn found<K: std::hash::Hash + Eq>(
        nodes: &std::collections::HashMap<K, T>,
        key: &K,
        which: impl FnOnce() -> String,
    ) -> async_graphql::Result<Plain<T>> {
        use async_graphql::ErrorExtensions;
        nodes.get(key).cloned().map(Plain).ok_or_else(|| {
            super::error::ApiError::NotFound(format!("{} not found", which())).extend()
        })
    }

    /// Each of `nodes` (none when absent).
    pub fn all(nodes: Option<&Vec<T>>) -> Vec<Plain<T>> {
        nodes
            .map(|nodes| nodes.iter().cloned().map(Plain).collect())
            .unwrap_or_default()
    }
}

impl<T: PlainFields + Send + Sync> OutputType for Plain<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if ctx.data_opt::<PerFieldOnly>().is_some() {
            return self.0.resolve(ctx, field).await;
        }
        resolve_plain(ctx, &self.0).await
    }
}

/// A field's value as async-graphql resolves it, type-erased.
type FieldFuture<'a> = Pin<Box<dyn Future<Output = ServerResult<Option<Value>>> + Send + 'a>>;

/// A response key whose value async-graphql resolves.
struct Later<'a> {
    key: Name,
    field: &'a Positioned<Field>,
}

/// Resolves `root`'s selection: its own columns at once, the other fields concurrently
/// through async-graphql, the keys in the selection's order.
async fn resolve_plain<T: PlainFields + Send + Sync>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
) -> ServerResult<Value> {
    let items = &ctx.item.node.items;
    if items.iter().any(|s| !matches!(s.node, Selection::Field(_))) {
        // Fragments: async-graphql merges them by type condition.
        return resolve_container(ctx, root).await;
    }
    let mut values: IndexMap<Name, Value> = IndexMap::with_capacity(items.len());
    let mut later: Vec<Later<'_>> = Vec::new();
    for selection in items {
        let Selection::Field(field) = &selection.node else {
            continue;
        };
        let key = field.node.response_key().node.clone();
        if values.contains_key(&key) {
            // The same key again (validation made it the same field): a column is already
            // there; a relation's second selection is resolved too and merged below.
            if later.iter().any(|l| l.key == key) {
                later.push(Later { key, field });
            }
            continue;
        }
        match own_column(root, &field.node) {
            Some(value) => {
                values.insert(key, value);
            }
            None => {
                values.insert(key.clone(), Value::Null);
                later.push(Later { key, field });
            }
        }
    }
    if !later.is_empty() {
        let resolved = join_all(later.iter().map(|l| async move {
            let ctx_field = ctx.with_field(l.field);
            // Boxed, as async-graphql boxes each field: a run's feedstock has runs, whose
            // feedstock…, and a future's type must not contain itself.
            let value: FieldFuture<'_> = Box::pin(root.resolve_field(&ctx_field));
            (&l.key, value.await)
        }))
        .await;
        let mut answered: Vec<&Name> = Vec::with_capacity(resolved.len());
        let mut failed: Vec<&Name> = Vec::new();
        for (key, outcome) in resolved {
            match outcome {
                Ok(value) => {
                    merge(&mut values, key, value.unwrap_or_default());
                    answered.push(key);
                }
                Err(e) => {
                    // async-graphql records the error and leaves the key out.
                    ctx.add_error(e);
                    failed.push(key);
                }
            }
        }
        for key in failed {
            if !answered.contains(&key) {
                values.shift_remove(key);
            }
        }
    }
    Ok(if values.is_empty() {
        Value::Null
    } else {
        Value::Object(values)
    })
}

/// The value of `field` when it is one of `root`'s own columns.
fn own_column<T: PlainFields>(root: &T, field: &Field) -> Option<Value> {
    if !field.arguments.is_empty()
        || !field.directives.is_empty()
        || !field.selection_set.node.items.is_empty()
    {
        return None;
    }
    let name = field.name.node.as_str();
    if name == "__typename" {
        return Some(Value::String(root.introspection_type_name().into_owned()));
    }
    root.plain_field(name)
}

/// Puts `value` at `key`, merging it into an object already there (a relation selected
/// twice under one key), as async-graphql merges the same key.
fn merge(values: &mut IndexMap<Name, Value>, key: &Name, value: Value) {
    match (values.get_mut(key), value) {
        (Some(Value::Object(there)), Value::Object(more)) => {
            for (k, v) in more {
                merge(there, &k, v);
            }
        }
        (Some(Value::List(there)), Value::List(more)) if !there.is_empty() => {
            for (item, more) in there.iter_mut().zip(more) {
                if let (Value::Object(item), Value::Object(more)) = (item, more) {
                    for (k, v) in more {
                        merge(item, &k, v);
                    }
                }
            }
        }
        (Some(Value::Null) | None, value) => {
            values.insert(key.clone(), value);
        }
        (Some(_), _) => {}
    }
}

/// A column as async-graphql's own resolver for its scalar type gives it.
pub fn column<V: InputType>(value: &V) -> Value {
    value.to_value()
}

/// Declares which fields of a node type are its row's own columns, and how each reads:
/// `plain_fields!(Bakery, self.row => row { "id" => row.id, "name" => row.name })`.
macro_rules! plain_fields {
    ($node:ty, self.$field:tt => $row:ident { $($name:literal => $value:expr),* $(,)? }) => {
        impl $crate::graphql::plain::PlainFields for $node {
            fn plain_field(&self, name: &str) -> Option<async_graphql::Value> {
                let $row = &*self.$field;
                Some(match name {
                    $($name => $crate::graphql::plain::column(&$value),)*
                    _ => return None,
                })
            }
        }
    };
}
pub(crate) use plain_fields;
