//! The subscription multiplexer both websocket protocols execute through: subscribers of
//! the same selection (same document, operation, variables and caller — [`key`]) share one
//! `execute_stream`, and each of its results is serialised once; each connection wraps the
//! shared text in its own protocol's envelope ([`Output::payload`]).
//!
//! A shared execution is a group ([`group`]): one task runs the execution and broadcasts
//! every result to the group's members over a bounded channel. A member that joins later
//! receives only what is produced after it joined, as a fresh execution would. A member
//! too slow to keep up (its channel overflows) leaves the group and goes on privately,
//! started with a [`hooks::Resync`]: the resolver reports the lag and catches up from the
//! last result that member received. The last member to leave stops the execution.
//!
//! What cannot be shared (see [`key`]: `since`, queries, mutations, anything that does not
//! parse) runs privately, once per subscriber, as before. Groups live in one process and are
//! fed by the change bus, so replicas need share nothing but the database.

mod group;
pub mod hooks;
pub mod key;

use crate::graphql::AppSchema;
use crate::graphql::auth::Caller;
use crate::metrics::SubscriptionCounts;
use async_graphql::futures_util::stream::{BoxStream, StreamExt};
use async_graphql::{Request, Response};
use hooks::{OnListening, Resume, Resync};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One result, serialised once for every subscriber that receives it.
#[derive(Debug)]
pub struct Output {
    /// The GraphQL response as JSON text (the `payload` of a `next` / `data` message).
    pub payload: String,
    /// The errors as a JSON array, when this is an execution's first result and the request
    /// was refused before executing (parse or validation): graphql-transport-ws sends them
    /// as an `error` message.
    pub refusal: Option<String>,
    /// Where a `recipeRunUpdated` execution stood after this result (shared executions only).
    pub(crate) resume: Option<Resume>,
}

impl Output {
    /// Serialises `response`, the `first` of its execution.
    fn of(first: bool, response: &Response, resume: Option<Resume>) -> Output {
        let payload = serde_json::to_string(response).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialise a result");
            r#"{"data":null,"errors":[{"message":"the result could not be serialised"}]}"#.into()
        });
        let refusal = (first && refused(response))
            .then(|| serde_json::to_string(&response.errors).unwrap_or_else(|_| "[]".into()));
        Output {
            payload,
            refusal,
            resume,
        }
    }
}

/// A request refused before execution (parse or validation): no data, no error on a field.
fn refused(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The multiplexer; cheap to clone, one per server.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    /// `false` (`PFO_SUBSCRIPTIONS_SHARED=false`): every request runs privately.
    shared: bool,
    groups: Mutex<HashMap<key::Key, group::Entry>>,
    next_group: std::sync::atomic::AtomicU64,
    private: AtomicUsize,
    private_listening: AtomicUsize,
}

impl Live {
    /// A multiplexer that shares executions when `shared` (else it only counts them).
    pub fn new(shared: bool) -> Live {
        Live {
            inner: Arc::new(Inner {
                shared,
                groups: Mutex::new(HashMap::new()),
                next_group: Default::default(),
                private: AtomicUsize::new(0),
                private_listening: AtomicUsize::new(0),
            }),
        }
    }

    /// Whether subscriptions are shared.
    pub fn is_shared(&self) -> bool {
        self.inner.shared
    }

    /// The results of `request` made by `caller`, shared with the subscribers of the same
    /// selection when the rule allows ([`key::shared_key`]); ends when the execution does.
    pub fn stream(
        &self,
        schema: &AppSchema,
        mut request: Request,
        caller: Caller,
    ) -> BoxStream<'static, Arc<Output>> {
        if self.inner.shared
            && let Some(key) = key::shared_key(&mut request, caller)
        {
            return group::join(self.clone(), schema.clone(), key, request);
        }
        self.private(schema, request.data(caller), None)
    }

    /// A private execution of `request` (which carries its caller), as a resync when
    /// `resync` is given.
    fn private(
        &self,
        schema: &AppSchema,
        mut request: Request,
        resync: Option<Resync>,
    ) -> BoxStream<'static, Arc<Output>> {
        let tracked = Arc::new(Private {
            live: self.clone(),
            listening: AtomicBool::new(false),
        });
        self.inner.private.fetch_add(1, Ordering::SeqCst);
        if let Some(resync) = resync {
            request = request.data(resync);
        }
        let on_listening = {
            let tracked = Arc::downgrade(&tracked);
            OnListening(Arc::new(move || {
                if let Some(tracked) = tracked.upgrade()
                    && !tracked.listening.swap(true, Ordering::SeqCst)
                {
                    tracked
                        .live
                        .inner
                        .private_listening
                        .fetch_add(1, Ordering::SeqCst);
                }
            }))
        };
        schema
            .execute_stream(request.data(on_listening))
            .enumerate()
            .map(move |(n, response)| {
                // Kept alive (and counted) as long as the stream.
                let _ = &tracked;
                Arc::new(Output::of(n == 0, &response, None))
            })
            .boxed()
    }

    /// The subscriptions held and the executions serving them.
    pub fn counts(&self) -> SubscriptionCounts {
        let groups = self.groups();
        SubscriptionCounts {
            subscribers: groups
                .values()
                .map(group::Entry::listening_members)
                .sum::<usize>()
                + self.inner.private_listening.load(Ordering::SeqCst),
            shared: groups.len(),
            private: self.inner.private.load(Ordering::SeqCst),
        }
    }

    fn groups(&self) -> MutexGuard<'_, HashMap<key::Key, group::Entry>> {
        self.inner
            .groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A private execution, counted while its stream lives.
struct Private {
    live: Live,
    listening: AtomicBool,
}

impl Drop for Private {
    fn drop(&mut self) {
        let inner = &self.live.inner;
        inner.private.fetch_sub(1, Ordering::SeqCst);
        if *self.listening.get_mut() {
            inner.private_listening.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
