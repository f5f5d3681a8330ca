//! One shared execution (a group) and its members.
//!
//! The group's task runs the execution and broadcasts each result, serialised once, on a
//! bounded channel ([`CAPACITY`]); members are that channel's receivers. Joining and leaving
//! happen under the multiplexer's lock, so a member either joins a running group or starts
//! a new one, and the last one to leave removes the group and stops its execution.

use super::hooks::{OnListening, Resume, ResumeTap, Resync};
use super::key::Key;
use super::{Live, Output};
use crate::graphql::AppSchema;
use async_graphql::Request;
use async_graphql::futures_util::stream::{BoxStream, StreamExt};
use chrono::Utc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast::{self, error::RecvError};

/// Results a member may fall behind its group before it is resynchronised on its own (the
/// channel's slots are the group's, not the member's: one pointer each).
pub const CAPACITY: usize = 256;

/// A running group, as the multiplexer's map holds it.
pub(super) struct Entry {
    /// Tells this group from a later one of the same key.
    id: u64,
    key: Arc<Key>,
    sender: broadcast::Sender<Arc<Output>>,
    members: usize,
    /// The resolver has subscribed to the change bus.
    listening: Arc<AtomicBool>,
    /// The resume point of the last result broadcast: where a member that joins now stands.
    last: Arc<Mutex<Option<Resume>>>,
    task: tokio::task::AbortHandle,
}

impl Entry {
    /// The members the next change reaches.
    pub(super) fn listening_members(&self) -> usize {
        if self.listening.load(Ordering::SeqCst) {
            self.members
        } else {
            0
        }
    }
}

/// Joins the group of `key` (starting it with `request` when there is none); the member's
/// results.
pub(super) fn join(
    live: Live,
    schema: AppSchema,
    key: Key,
    request: Request,
) -> BoxStream<'static, Arc<Output>> {
    let mut groups = live.groups();
    let (membership, receiver, resume) = match groups.get_mut(&key) {
        Some(entry) => {
            entry.members += 1;
            // Read before subscribing: the group writes it after sending (see `Execution`).
            let resume = lock(&entry.last).clone();
            let membership = Membership {
                live: live.clone(),
                key: entry.key.clone(),
                id: entry.id,
            };
            (membership, entry.sender.subscribe(), resume)
        }
        None => {
            let key = Arc::new(key);
            let id = live.inner.next_group.fetch_add(1, Ordering::SeqCst);
            let (sender, receiver) = broadcast::channel(CAPACITY);
            let listening = Arc::new(AtomicBool::new(false));
            // Before the resolver's own cursor starts: a resync from here misses nothing.
            let start = Some(Resume {
                at: Utc::now(),
                runs_at: Vec::new(),
            });
            let last = Arc::new(Mutex::new(start.clone()));
            let execution = Execution {
                live: live.clone(),
                key: key.clone(),
                id,
                sender: sender.clone(),
                listening: listening.clone(),
                last: last.clone(),
            };
            let task = tokio::spawn(execution.run(schema.clone(), request)).abort_handle();
            tracing::debug!(group = id, "shared execution started");
            groups.insert(
                (*key).clone(),
                Entry {
                    id,
                    key: key.clone(),
                    sender,
                    members: 1,
                    listening,
                    last,
                    task,
                },
            );
            (
                Membership {
                    live: live.clone(),
                    key,
                    id,
                },
                receiver,
                start,
            )
        }
    };
    drop(groups);
    member(live, schema, membership, receiver, resume)
}

/// A member's results: the group's, until the group ends or the member falls behind; then,
/// on its own, a private execution (a resync after a lag; its own run when the group ended
/// before giving it anything, so it gets what its own execution would have).
fn member(
    live: Live,
    schema: AppSchema,
    membership: Membership,
    mut receiver: broadcast::Receiver<Arc<Output>>,
    mut resume: Option<Resume>,
) -> BoxStream<'static, Arc<Output>> {
    async_stream::stream! {
        let mut received = false;
        let resync = loop {
            match receiver.recv().await {
                Ok(output) => {
                    received = true;
                    if output.resume.is_some() {
                        resume.clone_from(&output.resume);
                    }
                    yield output;
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "a subscriber fell behind its shared execution; it resynchronises on its own");
                    break Some(Resync { missed, resume });
                }
                Err(RecvError::Closed) if received => return,
                Err(RecvError::Closed) => break None,
            }
        };
        drop(receiver);
        let request = membership.key.request();
        drop(membership);
        let mut private = live.private(&schema, request, resync);
        while let Some(output) = private.next().await {
            yield output;
        }
    }
    .boxed()
}

/// A member's place in its group; leaving (drop) stops the group when it was the last.
struct Membership {
    live: Live,
    key: Arc<Key>,
    id: u64,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut groups = self.live.groups();
        let Some(entry) = groups.get_mut(&*self.key) else {
            return;
        };
        if entry.id != self.id {
            return;
        }
        entry.members -= 1;
        if entry.members == 0
            && let Some(entry) = groups.remove(&*self.key)
        {
            entry.task.abort();
            tracing::debug!(
                group = entry.id,
                "shared execution stopped: its last subscriber left"
            );
        }
    }
}

/// What a group's task needs besides the schema and the request.
struct Execution {
    live: Live,
    key: Arc<Key>,
    id: u64,
    sender: broadcast::Sender<Arc<Output>>,
    listening: Arc<AtomicBool>,
    last: Arc<Mutex<Option<Resume>>>,
}

impl Execution {
    /// Runs the execution, broadcasting each result; removes the group when it ends.
    async fn run(self, schema: AppSchema, request: Request) {
        let tap = ResumeTap::default();
        let on_listening = {
            let listening = self.listening.clone();
            OnListening(Arc::new(move || listening.store(true, Ordering::SeqCst)))
        };
        let request = request
            .data(self.key.caller)
            .data(tap.clone())
            .data(on_listening);
        let mut responses = schema.execute_stream(request);
        let mut first = true;
        while let Some(response) = responses.next().await {
            let output = Arc::new(Output::of(first, &response, tap.get()));
            first = false;
            if output.refusal.is_some() {
                // Refused: this is its only result. Later subscribers start their own.
                self.remove();
            }
            let _ = self.sender.send(output.clone());
            // After sending: a member joining now reads this and receives nothing older.
            if output.resume.is_some() {
                lock(&self.last).clone_from(&output.resume);
            }
        }
        self.remove();
        tracing::debug!(group = self.id, "shared execution ended");
    }

    /// Removes this group from the map (members keep receiving what was sent).
    fn remove(&self) {
        let mut groups = self.live.groups();
        if groups
            .get(&*self.key)
            .is_some_and(|entry| entry.id == self.id)
        {
            groups.remove(&*self.key);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
