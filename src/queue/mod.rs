//! The durable work queue. The queue itself is the `webhook_delivery` table (see
//! [`crate::db::Database::claim_next_delivery`]); it holds GitHub's deliveries, bakery
//! status reports and the server's own [`tasks`]. This module claims them, hands each to
//! a [`Handler`] (the flows), and records how each ended: `done`, `ignored`, queued again
//! with [`backoff`] (a failure that may pass), or `failed` (one that will not, or too
//! many tries).
//!
//! The queue knows nothing of what a delivery means: [`Workers`] run whatever handler
//! they are given, so the flows sit above this layer and import it, never the reverse.

mod outcome;
mod retry;
pub(crate) mod tasks;
mod workers;

pub use outcome::{Doing, FlowError, Outcome};
pub use retry::{MAX_ATTEMPTS, backoff};
pub use workers::{Handler, POLL_INTERVAL, Workers};
