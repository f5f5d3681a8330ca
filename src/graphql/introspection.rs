//! Telling the standard introspection query apart. graphql-js's `getIntrospectionQuery()`
//! (what GraphiQL, codegen, Apollo tooling, Postman and Insomnia send) nests 15 deep
//! through its `ofType` chain, deeper than data queries may ([`super::MAX_DEPTH`]). An
//! operation that selects only introspection fields (`__schema`, `__type`, `__typename`)
//! runs on a schema without data access and with its own, still finite, depth limit
//! ([`super::MAX_INTROSPECTION_DEPTH`]).

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Whether the operation `query` would run (named `operation_name`, or its only one)
/// selects nothing but introspection fields at its top level. Unparsable documents are
/// not: the data schema reports their errors.
pub fn is_introspection_only(query: &str, operation_name: Option<&str>) -> bool {
    parse_query(query).is_ok_and(|document| introspection_only_in(&document, operation_name))
}

/// [`is_introspection_only`] for a document already parsed.
pub fn introspection_only_in(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    super::documents::operation(document, operation_name)
        .is_some_and(|op| only_meta_fields(&op.selection_set.node, document, 0))
}

/// Fragments may spread fragments; past this many levels the answer is "no".
const MAX_FRAGMENT_NESTING: usize = 8;

fn only_meta_fields(set: &SelectionSet, document: &ExecutableDocument, nesting: usize) -> bool {
    if nesting > MAX_FRAGMENT_NESTING || set.items.is_empty() {
        return false;
    }
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => field.node.name.node.starts_with("__"),
        Selection::InlineFragment(inline) => {
            only_meta_fields(&inline.node.selection_set.node, document, nesting + 1)
        }
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|fragment| {
                only_meta_fields(&fragment.node.selection_set.node, document, nesting + 1)
            }),
    })
}

#[cfg(test)]
mod tests {
    use super::is_introspection_only;

    #[test]
    fn only_operations_of_meta_fields_count() {
        assert!(is_introspection_only(
            "query IntrospectionQuery { __schema { types { name } } }",
            None
        ));
        assert!(is_introspection_only(
            "{ __type(name: \"Feedstock\") { name } __typename }",
            None
        ));
        assert!(is_introspection_only(
            "query A { ...S } fragment S on Query { __schema { queryType { name } } }",
            None
        ));
        assert!(!is_introspection_only(
            "{ __schema { types { name } } feedstocks { totalCount } }",
            None
        ));
        assert!(!is_introspection_only(
            "query A { __typename } query B { stats { bakeries } }",
            Some("B")
        ));
        assert!(is_introspection_only(
            "query A { __typename } query B { stats { bakeries } }",
            Some("A")
        ));
        assert!(!is_introspection_only(
            "query A { __typename } query B { __typename }",
            None
        ));
        assert!(!is_introspection_only("{ __schema {", None));
        assert!(!is_introspection_only(
            "query A { ...S } fragment S on Query { ...S }",
            None
        ));
    }
}
