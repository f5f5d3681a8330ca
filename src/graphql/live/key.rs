//! Which subscriptions share one execution, and the key they share it by.
//!
//! The rule, decided on the parsed document and the variables (never on the text): a
//! request is shared when its selected operation is a `subscription`, it carries no
//! extensions or uploads, and no field anywhere in the operation (fragments included) gives
//! an argument of [`START_DEPENDENT_ARGUMENTS`] a value other than `null` — literally, or
//! through a variable that is set, or defaulted, to something else. Everything else (queries,
//! mutations, documents that do not parse or name no operation, `since` subscriptions) runs
//! privately, exactly as before: those results depend on when the execution starts, or
//! must happen once per request.

use crate::graphql::auth::Caller;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet, VariableDefinition,
};
use async_graphql::{Name, Request, Value, Variables};
use std::collections::HashSet;
use std::convert::Infallible;

/// Arguments whose results depend on when the execution starts (`since` replays from the
/// database what changed after it): a subscription that sets one runs privately.
pub const START_DEPENDENT_ARGUMENTS: &[&str] = &["since"];

/// What subscribers share one execution by: the same document text, operation name,
/// variables (as canonical JSON: object keys sorted) and caller.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub(super) query: String,
    pub(super) operation_name: Option<String>,
    pub(super) variables: String,
    pub(super) caller: Caller,
}

impl Key {
    /// A fresh request for this key (parsed again when executed).
    pub(super) fn request(&self) -> Request {
        let variables = serde_json::from_str(&self.variables)
            .map(Variables::from_json)
            .unwrap_or_default();
        let request = Request::new(self.query.clone()).variables(variables);
        match &self.operation_name {
            Some(name) => request.operation_name(name.clone()),
            None => request,
        }
        .data(self.caller)
    }
}

/// The key `request` shares an execution by, or `None` when it must run privately (see the
/// module's rule). Parses the document; the request keeps it, so a private execution does
/// not parse it again.
pub fn shared_key(request: &mut Request, caller: Caller) -> Option<Key> {
    if !request.extensions.0.is_empty() || !request.uploads.is_empty() {
        return None;
    }
    let operation_name = request.operation_name.clone();
    let variables = request.variables.clone();
    let query = request.query.clone();
    let document = request.parsed_query().ok()?;
    let operation = selected(document, operation_name.as_deref())?;
    if operation.ty != OperationType::Subscription {
        return None;
    }
    let walk = Walk {
        document,
        definitions: &operation.variable_definitions,
        variables: &variables,
    };
    if walk.sets_start_dependent(&operation.selection_set, &mut HashSet::new()) {
        return None;
    }
    let json = variables.into_value().into_json().ok()?;
    Some(Key {
        query,
        operation_name,
        variables: canonical(json).to_string(),
        caller,
    })
}

/// The operation a request runs (as async-graphql chooses it), if any.
fn selected<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => Some(&operation.node),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    definitions: &'a [Positioned<VariableDefinition>],
    variables: &'a Variables,
}

impl Walk<'_> {
    /// Whether a field of `set` (or of the fragments it spreads) sets a start-dependent
    /// argument. `seen` guards against fragment cycles (validation refuses those later).
    fn sets_start_dependent(
        &self,
        set: &Positioned<SelectionSet>,
        seen: &mut HashSet<Name>,
    ) -> bool {
        set.node
            .items
            .iter()
            .any(|selection| match &selection.node {
                Selection::Field(field) => {
                    field.node.arguments.iter().any(|(name, value)| {
                        START_DEPENDENT_ARGUMENTS.contains(&name.node.as_str())
                        // Anything but `null` once the variables are applied.
                    && value
                        .node
                        .clone()
                        .into_const_with(|name| Ok::<_, Infallible>(self.variable(&name)))
                        .is_ok_and(|value| value != Value::Null)
                    }) || self.sets_start_dependent(&field.node.selection_set, seen)
                }
                Selection::InlineFragment(fragment) => {
                    self.sets_start_dependent(&fragment.node.selection_set, seen)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if !seen.insert(name.clone()) {
                        return false;
                    }
                    self.document.fragments.get(name).is_some_and(|fragment| {
                        self.sets_start_dependent(&fragment.node.selection_set, seen)
                    })
                }
            })
    }

    /// A variable's value: as set, else its default, else `null`.
    fn variable(&self, name: &Name) -> Value {
        self.variables.get(name).cloned().unwrap_or_else(|| {
            self.definitions
                .iter()
                .find(|definition| definition.node.name.node == *name)
                .and_then(|definition| definition.node.default_value.as_ref())
                .map_or(Value::Null, |default| default.node.clone())
        })
    }
}

/// `value` with every object's keys in order, so equal variables give equal text.
fn canonical(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, canonical(value)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(query: &str, variables: serde_json::Value) -> Option<Key> {
        let mut request = Request::new(query).variables(Variables::from_json(variables));
        shared_key(&mut request, Caller::Anonymous)
    }

    const RUNS: &str = "subscription($since: DateTime, $id: Int) { recipeRunUpdated(id: $id, since: $since) { id } }";

    #[test]
    fn subscriptions_without_since_are_shared() {
        assert!(key(RUNS, json!({})).is_some());
        assert!(key(RUNS, json!({"since": null, "id": 1})).is_some());
        assert!(key("subscription { datasetCreated { id } }", json!({})).is_some());
        assert!(
            key(
                "subscription { recipeRunUpdated(since: null) { id } }",
                json!({})
            )
            .is_some()
        );
    }

    #[test]
    fn since_runs_privately() {
        assert!(key(RUNS, json!({"since": "2026-01-01T00:00:00Z"})).is_none());
        let literal = "subscription { recipeRunUpdated(since: \"2026-01-01T00:00:00Z\") { id } }";
        assert!(key(literal, json!({})).is_none());
        let defaulted = "subscription($s: DateTime = \"2026-01-01T00:00:00Z\") { recipeRunUpdated(since: $s) { id } }";
        assert!(key(defaulted, json!({})).is_none());
        let fragment = "subscription { ...F } fragment F on SubscriptionRoot { recipeRunUpdated(since: \"x\") { id } }";
        assert!(key(fragment, json!({})).is_none());
        // A field merely named like the argument is no reason to run privately.
        assert!(key("subscription { since: recipeRunUpdated { id } }", json!({})).is_some());
    }

    #[test]
    fn others_run_privately() {
        assert!(key("{ stats { bakeries } }", json!({})).is_none());
        assert!(key("mutation { x }", json!({})).is_none());
        assert!(key("subscription {", json!({})).is_none());
        let two =
            "subscription A { datasetCreated { id } } subscription B { datasetCreated { id } }";
        assert!(key(two, json!({})).is_none());
        let mut named = Request::new(two).operation_name("B");
        assert!(shared_key(&mut named, Caller::Anonymous).is_some());
    }

    #[test]
    fn equal_variables_give_equal_keys() {
        let a = key(RUNS, json!({"id": 1, "x": {"b": 1, "a": 2}}));
        let b = key(RUNS, json!({"x": {"a": 2, "b": 1}, "id": 1}));
        assert_eq!(a, b);
        assert_ne!(a, key(RUNS, json!({"id": 2})));
        let mut admin = Request::new(RUNS);
        assert_ne!(shared_key(&mut admin, Caller::Admin), key(RUNS, json!({})));
    }
}
