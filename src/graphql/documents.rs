//! Parsed GraphQL documents, kept by their text. The website sends the same few documents
//! over and over; each was parsed twice per request (once to tell introspection apart, once
//! by async-graphql), and parsing (pest) costs more than executing a small query such as
//! `stats`. A document is parsed once, then handed to async-graphql already parsed
//! ([`async_graphql::Request::set_parsed_query`]): validation, limits and execution are
//! unchanged, so nothing about the answer depends on the cache.
//!
//! Bounded in entries and in the length of a document it keeps; a document that does not
//! parse is never kept (async-graphql reports its error each time). Per process: the cache
//! only saves work, every replica gives the same answers without it.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::parser::{self, types::DocumentOperations};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// How many documents are kept.
pub const MAX_DOCUMENTS: usize = 512;
/// Documents longer than this (bytes) are parsed every time, not kept.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;

/// The parsed documents, shared by every request of a process.
#[derive(Clone)]
pub struct Documents(Arc<Mutex<LruCache<String, Arc<ExecutableDocument>>>>);

impl Default for Documents {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(MAX_DOCUMENTS).unwrap_or(NonZeroUsize::MIN);
        Documents(Arc::new(Mutex::new(LruCache::new(capacity))))
    }
}

impl Documents {
    /// `query` parsed, from the cache when it was parsed before; `None` when it does not
    /// parse.
    pub fn parse(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(found) = self.lock().get(query) {
            return Some(found.clone());
        }
        let document = Arc::new(parser::parse_query(query).ok()?);
        if query.len() <= MAX_DOCUMENT_BYTES {
            self.lock().put(query.to_owned(), document.clone());
        }
        Some(document)
    }

    /// How many documents are kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<ExecutableDocument>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The operation of `document` a request runs: the one named `operation_name`, or its only
/// one; `None` when there is no such operation (async-graphql reports that).
pub fn operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a parser::types::OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, op)| &op.node),
        // A lone named operation may be run without naming it.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_and_errors_are_not_kept() {
        let documents = Documents::default();
        let first = documents.parse("{ stats { bakeries } }").expect("parses");
        let again = documents.parse("{ stats { bakeries } }").expect("parses");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(documents.parse("{ stats { ").is_none());
        assert_eq!(documents.len(), 1);
        let long = format!(
            "{{ stats {{ {} }} }}",
            "bakeries ".repeat(MAX_DOCUMENT_BYTES)
        );
        assert!(documents.parse(&long).is_some());
        assert_eq!(documents.len(), 1, "a long document is not kept");
    }

    #[test]
    fn operations_are_found_by_name_or_alone() {
        let documents = Documents::default();
        let two = documents
            .parse("query A { stats { bakeries } } mutation B { x }")
            .expect("parses");
        assert!(operation(&two, Some("B")).is_some());
        assert!(operation(&two, Some("C")).is_none());
        assert!(operation(&two, None).is_none());
        let one = documents
            .parse("query A { stats { bakeries } }")
            .expect("parses");
        assert!(operation(&one, None).is_some());
    }
}
