//! Group commit for webhook deliveries: deliveries that arrive while this process is writing
//! others are stored together, in ONE multi-row statement and one commit, when that write ends.
//!
//! - **Durability unchanged.** [`Database::record_delivery`] returns only after the statement
//!   holding its row has committed, so a 2xx still means "stored".
//! - **No timer.** When nothing is being written, a delivery is written at once, alone: a
//!   lone delivery waits for nobody. Only deliveries that arrive during a write wait, and
//!   only for that write (at most one batch statement is in flight per process).
//! - **Bounded.** A batch holds at most [`MAX_BATCH_ROWS`] rows and [`MAX_BATCH_BYTES`] of
//!   payload (a larger delivery — GitHub sends up to 25 MB — goes alone).
//! - **Same answers.** A GUID is in a batch at most once; a later copy (or a GUID stored
//!   before) takes the known-GUID path as before: a duplicate, or requeued once when the
//!   stored one failed for good. If a batch statement fails, each of its deliveries is
//!   retried with a statement of its own ([`Database::record_delivery_alone`]), so one
//!   delivery the database refuses fails only itself, with its own error.
//!
//! Nothing shared lives here: the rows are the queue, in the database; this is only the
//! write path of one process, and every replica has its own.

use super::entities::webhook_delivery;
use super::{Database, DbError, NewDelivery, Recorded};
use sea_orm::DbErr;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

/// The most deliveries one statement stores.
pub const MAX_BATCH_ROWS: usize = 64;
/// The most payload bytes one statement carries (a delivery over it is written alone).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// This process's deliveries waiting to be written, for `/metrics` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Deliveries waiting for the statement in flight to end.
    pub waiting: usize,
    /// Deliveries in the statement in flight.
    pub writing: usize,
    /// Statements that stored deliveries (batches of one included) since start.
    pub batches: u64,
    /// Deliveries those statements carried.
    pub rows: u64,
}

/// One process's group-commit queue. Shared by every clone of its [`Database`].
#[derive(Debug, Default)]
pub(crate) struct DeliveryBatcher {
    state: Mutex<State>,
    batches: AtomicU64,
    rows: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    waiting: VecDeque<Waiting>,
    /// Rows in the statement in flight; `None` when no writer runs.
    writing: Option<usize>,
}

#[derive(Debug)]
struct Waiting {
    new: NewDelivery,
    reply: oneshot::Sender<Written>,
}

/// What the writer tells a delivery's caller.
#[derive(Debug)]
enum Written {
    /// Stored by the batch (committed).
    Stored(webhook_delivery::Model),
    /// Its GUID was known (stored before, or by an earlier copy in the same batch).
    Known(NewDelivery),
    /// The batch statement failed: write it alone.
    Retry(NewDelivery),
    /// Written alone, and that failed.
    Failed(DbError),
}

impl DeliveryBatcher {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the queue is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `waiting`; `true` when the caller must start the writer (none runs).
    fn push(&self, waiting: Waiting) -> bool {
        let mut state = self.lock();
        state.waiting.push_back(waiting);
        let start = state.writing.is_none();
        if start {
            state.writing = Some(0);
        }
        start
    }

    /// The next batch, oldest first; `None` (and the writer stops) when nothing waits.
    fn next_batch(&self) -> Option<Vec<Waiting>> {
        let mut state = self.lock();
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(next) = state.waiting.front() {
            let size = next.new.payload.len();
            if batch.len() == MAX_BATCH_ROWS
                || (!batch.is_empty() && bytes + size > MAX_BATCH_BYTES)
            {
                break;
            }
            bytes += size;
            batch.extend(state.waiting.pop_front());
        }
        if batch.is_empty() {
            state.writing = None;
            return None;
        }
        state.writing = Some(batch.len());
        Some(batch)
    }

    fn stopped(&self) {
        self.lock().writing = None;
    }

    fn stats(&self) -> IngestStats {
        let state = self.lock();
        IngestStats {
            waiting: state.waiting.len(),
            writing: state.writing.unwrap_or(0),
            batches: self.batches.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
        }
    }
}

impl Database {
    /// Stores a delivery unless its GUID is known; a known GUID that failed for good is
    /// queued again (GitHub's manual redelivery), any other is a duplicate. Returns once the
    /// row is committed, written together with the deliveries that arrived meanwhile (see
    /// [`super::delivery_batch`]).
    pub async fn record_delivery(&self, new: NewDelivery) -> Result<Recorded, DbError> {
        let (reply, written) = oneshot::channel();
        if self.batcher.push(Waiting { new, reply }) {
            tokio::spawn(write_batches(self.clone()));
        }
        match written.await {
            Ok(Written::Stored(row)) => Ok(self.stored(row).await),
            Ok(Written::Known(new)) => self.known_delivery(&new.guid).await,
            Ok(Written::Retry(new)) => self.record_delivery_alone(new).await,
            Ok(Written::Failed(err)) => Err(err),
            Err(_) => Err(DbError::Db(DbErr::Custom(
                "the delivery's write was abandoned (the process is stopping)".into(),
            ))),
        }
    }

    /// This process's group-commit figures.
    pub fn ingest_stats(&self) -> IngestStats {
        self.batcher.stats()
    }
}

/// Marks the writer stopped if its task ends without [`DeliveryBatcher::next_batch`] saying
/// so (a panic, or the runtime shutting down), so the next delivery starts a new one.
struct Running<'a>(&'a DeliveryBatcher, bool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.stopped();
        }
    }
}

/// The writer: one batch statement after another until nothing waits.
async fn write_batches(db: Database) {
    let mut running = Running(&db.batcher, false);
    loop {
        let Some(batch) = running.0.next_batch() else {
            running.1 = true;
            return;
        };
        write_batch(&db, batch).await;
    }
}

/// Writes one batch and tells each caller what became of its delivery.
async fn write_batch(db: &Database, batch: Vec<Waiting>) {
    let mut seen = HashSet::new();
    let (firsts, repeats): (Vec<Waiting>, Vec<Waiting>) = batch
        .into_iter()
        .partition(|w| seen.insert(w.new.guid.clone()));
    let (news, replies): (Vec<NewDelivery>, Vec<_>) =
        firsts.into_iter().map(|w| (w.new, w.reply)).unzip();
    let written = db.insert_deliveries(&news).await;
    // A later copy of a GUID learns of it only now, once the first copy's row is committed
    // (or its statement failed).
    for repeat in repeats {
        let _ = repeat.reply.send(match &written {
            Ok(_) => Written::Known(repeat.new),
            Err(_) => Written::Retry(repeat.new),
        });
    }
    match written {
        Ok(rows) => {
            db.batcher.batches.fetch_add(1, Ordering::Relaxed);
            db.batcher
                .rows
                .fetch_add(news.len() as u64, Ordering::Relaxed);
            let mut stored: HashMap<String, webhook_delivery::Model> = rows
                .into_iter()
                .map(|row| (row.guid.clone(), row))
                .collect();
            for (new, reply) in news.into_iter().zip(replies) {
                let _ = reply.send(match stored.remove(&new.guid) {
                    Some(row) => Written::Stored(row),
                    None => Written::Known(new),
                });
            }
        }
        Err(err) if news.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Written::Failed(err));
            }
        }
        Err(err) => {
            tracing::warn!(
                deliveries = news.len(),
                error = %err,
                "a batch of deliveries was refused; writing each alone"
            );
            for (new, reply) in news.into_iter().zip(replies) {
                let _ = reply.send(Written::Retry(new));
            }
        }
    }
}
