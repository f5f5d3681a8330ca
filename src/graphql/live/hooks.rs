//! What a live execution and the subscription resolvers tell each other through request
//! data. The resolvers (`graphql::subscriptions`) read these with `ctx.data_opt`, so an
//! execution without them (a plain `execute_stream`) behaves exactly as before.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex, PoisonError};

/// Where a `recipeRunUpdated` stream stands after an item: the newest `updatedAt` it sent
/// and the runs it sent with exactly that time. A replay from `at` (which is inclusive)
/// skips those runs and nothing else, so it repeats and loses nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// The newest `updatedAt` sent.
    pub at: DateTime<Utc>,
    /// The runs sent at exactly `at`.
    pub runs_at: Vec<i32>,
}

/// Request data of a shared execution: the resolver writes its resume point here before
/// each item it yields, and the execution reads it with the item's result (async-graphql
/// resolves one item at a time, so the two stay in step).
#[derive(Clone, Default)]
pub struct ResumeTap(Arc<Mutex<Option<Resume>>>);

impl ResumeTap {
    /// Records the resume point of the item about to be yielded.
    pub fn set(&self, resume: Resume) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(resume);
    }

    /// The resume point of the last item yielded (`None`: the resolver keeps none).
    pub fn get(&self) -> Option<Resume> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Request data of the private execution that takes over from a shared one when its
/// subscriber fell behind: the resolver first yields the lag error (`missed` results lost),
/// then catches up from `resume` (the last result the subscriber received), then goes live.
#[derive(Clone, Debug)]
pub struct Resync {
    /// Results of the shared execution this subscriber did not receive.
    pub missed: u64,
    /// Where it stood (`None`: the resolver keeps no resume point, or none was known yet).
    pub resume: Option<Resume>,
}

/// Request data: called once, when the resolver has subscribed to the change bus (from then
/// on every committed change reaches the execution).
#[derive(Clone)]
pub struct OnListening(pub Arc<dyn Fn() + Send + Sync>);

impl OnListening {
    /// Tells the execution it is listening.
    pub fn call(&self) {
        (self.0)();
    }
}
