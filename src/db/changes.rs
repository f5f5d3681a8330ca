//! One stream of committed changes for every writer. Every change to a run (created, status, conclusion,
//! dataset, logs), a dataset created, or a webhook delivery's state is published after its
//! transaction commits, and reaches every subscriber of every replica:
//!
//! - SQLite (one process): the writer sends on an in-process broadcast channel.
//! - PostgreSQL (any number of replicas): the writer runs `pg_notify('pfo_events', 'run:42')`;
//!   each replica that has subscribers LISTENs, loads the row once, and broadcasts it to its
//!   own subscribers — one read per change per replica, not per subscriber.
//!
//! Every committed change also advances this process's data version ([`ChangeBus::version`]),
//! from which conditional HTTP requests are answered without a query (`server::conditional`):
//! the writer advances it after its commit, and on PostgreSQL every notice from another
//! replica (or from the tables' own triggers) advances it as it arrives.
//!
//! The broadcast channel is bounded ([`CHANNEL_CAPACITY`]): a slow subscriber never delays
//! the writer or the others; it lags, is told so, and resynchronises from the database
//! (see `graphql::subscriptions`). After the PostgreSQL listener reconnects, a
//! [`Change::Resync`] tells every subscriber to do the same, since notifications sent while
//! it was away are lost.

use crate::db::Database;
use crate::db::entities::{dataset, recipe_run, webhook_delivery};
use sea_orm::DbBackend;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Changes buffered per replica before the slowest subscriber starts lagging.
pub const CHANNEL_CAPACITY: usize = 4096;
/// The PostgreSQL notification channel.
pub const PG_CHANNEL: &str = "pfo_events";
/// How long a first subscriber waits for this replica's listener to be LISTENing before it
/// goes on without (the listener keeps retrying; changes until then are not seen live).
pub const LISTENER_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// A change, as subscribers receive it.
#[derive(Debug, Clone)]
pub enum Change {
    /// A run was created or changed; the row as committed.
    Run(Arc<recipe_run::Model>),
    /// A successful run's dataset was recorded.
    Dataset(Arc<dataset::Model>),
    /// A webhook delivery (or queued task) changed state.
    Delivery(Arc<webhook_delivery::Model>),
    /// Changes may have been missed (the listener reconnected): reload what you show.
    Resync,
}

/// Publishes changes and hands out subscriptions. Cheap to clone; one per database handle.
#[derive(Clone, Debug)]
pub struct ChangeBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: broadcast::Sender<Change>,
    listening: AtomicBool,
    /// `true` while the PostgreSQL listener is LISTENing.
    ready: watch::Sender<bool>,
    /// Advanced by every committed change this process writes or hears of.
    version: AtomicU64,
    /// Tells this process's versions from another's (and from before a restart).
    epoch: u64,
    /// Other processes may write (PostgreSQL): versions count only while LISTENing.
    shared: bool,
}

impl Default for ChangeBus {
    fn default() -> Self {
        ChangeBus::for_backend(DbBackend::Sqlite)
    }
}

/// A point in this process's stream of changes: equal versions saw the same data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion {
    /// The process's epoch.
    pub epoch: u64,
    /// Changes counted so far.
    pub counter: u64,
}

impl ChangeBus {
    /// The bus of a database on `backend`.
    pub fn for_backend(backend: DbBackend) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        ChangeBus {
            inner: Arc::new(Inner {
                sender,
                listening: AtomicBool::new(false),
                ready: watch::Sender::new(false),
                version: AtomicU64::new(0),
                epoch: now ^ (u64::from(std::process::id()) << 32),
                shared: backend == DbBackend::Postgres,
            }),
        }
    }

    /// Counts a committed change (the writer calls it after its commit).
    pub fn touched(&self) {
        self.inner.version.fetch_add(1, Ordering::SeqCst);
    }

    /// The data version, when it can be trusted: always with SQLite (this process is the
    /// only writer); with PostgreSQL only while this replica's listener is LISTENing, since
    /// other replicas' changes reach it only so. `None`: answer in full.
    pub fn version(&self) -> Option<DataVersion> {
        if self.inner.shared && !*self.inner.ready.borrow() {
            return None;
        }
        Some(DataVersion {
            epoch: self.inner.epoch,
            counter: self.inner.version.load(Ordering::SeqCst),
        })
    }

    /// Starts this replica's PostgreSQL listener now rather than with the first subscriber
    /// (the data version needs it); nothing on SQLite.
    pub fn listen(&self, db: &Database) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self.inner.shared && !self.inner.listening.swap(true, Ordering::SeqCst) {
            tokio::spawn(listen(db.clone(), self.clone()));
        }
    }
}

/// The kind of a delivery's notice (`delivery:<id>`); SQL builds it too.
const DELIVERY_NOTICE: &str = "delivery";

/// What a PostgreSQL notification names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    Run(i32),
    /// The dataset of this run.
    Dataset(i32),
    Delivery(i32),
}

impl Notice {
    fn encode(self) -> String {
        match self {
            Notice::Run(id) => format!("run:{id}"),
            Notice::Dataset(run_id) => format!("dataset:{run_id}"),
            Notice::Delivery(id) => format!("{DELIVERY_NOTICE}:{id}"),
        }
    }

    fn decode(text: &str) -> Option<Notice> {
        let (kind, id) = text.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "run" => Some(Notice::Run(id)),
            "dataset" => Some(Notice::Dataset(id)),
            DELIVERY_NOTICE => Some(Notice::Delivery(id)),
            _ => None,
        }
    }
}

impl ChangeBus {
    /// How many subscribers this process holds.
    pub fn subscriber_count(&self) -> usize {
        self.inner.sender.receiver_count()
    }

    /// A new subscription to every change. On PostgreSQL, starts this replica's listener on
    /// first use and waits (at most [`LISTENER_READY_TIMEOUT`]) until it is LISTENing, so a
    /// change committed after this returns is seen — on any replica.
    pub async fn subscribe(&self, db: &Database) -> broadcast::Receiver<Change> {
        if db.backend() == DbBackend::Postgres {
            self.listen(db);
            let mut ready = self.inner.ready.subscribe();
            let waited =
                tokio::time::timeout(LISTENER_READY_TIMEOUT, ready.wait_for(|ready| *ready)).await;
            if !matches!(waited, Ok(Ok(_))) {
                tracing::warn!(
                    "the change listener is not LISTENing yet; this subscription may miss changes until it is"
                );
            }
        }
        self.inner.sender.subscribe()
    }

    /// Publishes a committed run change (and its new dataset, if the change created one).
    pub async fn run_changed(&self, db: &Database, run: &recipe_run::Model, dataset_created: bool) {
        self.touched();
        if db.backend() == DbBackend::Postgres {
            notify(db, Notice::Run(run.id)).await;
            if dataset_created {
                notify(db, Notice::Dataset(run.id)).await;
            }
            return;
        }
        let _ = self.inner.sender.send(Change::Run(Arc::new(run.clone())));
        if dataset_created {
            load_and_send(db, &self.inner.sender, Notice::Dataset(run.id)).await;
        }
    }

    /// Publishes a committed change of delivery `id`.
    pub async fn delivery_changed(&self, db: &Database, id: i32) {
        self.touched();
        if db.backend() == DbBackend::Postgres {
            notify(db, Notice::Delivery(id)).await;
        } else if self.subscriber_count() > 0 {
            load_and_send(db, &self.inner.sender, Notice::Delivery(id)).await;
        }
    }
}

/// PostgreSQL: `statement` (an `INSERT … RETURNING *` into `webhook_delivery`) rewritten to
/// publish each row it returns as a delivery change from within the same statement, so the
/// notice is sent at commit with the row and costs no second round trip.
pub(crate) fn insert_publishing_deliveries(statement: sea_orm::Statement) -> sea_orm::Statement {
    sea_orm::Statement {
        sql: format!(
            "WITH stored AS ({}) SELECT stored.* FROM stored, \
             LATERAL (SELECT pg_notify('{PG_CHANNEL}', '{DELIVERY_NOTICE}:' || stored.id)) AS published",
            statement.sql
        ),
        ..statement
    }
}

async fn notify(db: &Database, notice: Notice) {
    use sea_orm::{ConnectionTrait, Statement};
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [PG_CHANNEL.into(), notice.encode().into()],
    );
    if let Err(e) = db.connection().execute_raw(statement).await {
        // The change is committed; subscribers resynchronise from the database.
        tracing::warn!(error = %e, notice = %notice.encode(), "cannot publish a change");
    }
}

async fn load_and_send(db: &Database, sender: &broadcast::Sender<Change>, notice: Notice) {
    // Nobody listens in this process: no row to load.
    if sender.receiver_count() == 0 {
        return;
    }
    let event = match notice {
        Notice::Run(id) => db
            .recipe_run(id)
            .await
            .ok()
            .flatten()
            .map(|r| Change::Run(Arc::new(r))),
        Notice::Dataset(run_id) => db
            .dataset_of_run(run_id)
            .await
            .ok()
            .flatten()
            .map(|d| Change::Dataset(Arc::new(d))),
        Notice::Delivery(id) => db
            .delivery(id)
            .await
            .ok()
            .flatten()
            .map(|d| Change::Delivery(Arc::new(d))),
    };
    if let Some(event) = event {
        let _ = sender.send(event);
    }
}

/// This replica's PostgreSQL listener: reconnects forever, announcing a resync after each
/// reconnection. Every notification advances the data version, and so does losing the
/// connection (and the version is not trusted until it is back).
async fn listen(db: Database, bus: ChangeBus) {
    use sea_orm::sqlx::postgres::PgListener;
    let sender = &bus.inner.sender;
    let mut first = true;
    loop {
        let pool = db.connection().get_postgres_connection_pool();
        let listener = match PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(PG_CHANNEL).await {
                Ok(()) => Some(listener),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for changes");
                    None
                }
            },
            // The database handle was closed (shutdown): nothing left to listen for.
            Err(sea_orm::sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect the change listener");
                None
            }
        };
        let Some(mut listener) = listener else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        bus.touched();
        if !first {
            let _ = sender.send(Change::Resync);
        }
        first = false;
        bus.inner.ready.send_replace(true);
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    bus.touched();
                    if let Some(notice) = Notice::decode(notification.payload()) {
                        load_and_send(&db, sender, notice).await;
                    }
                }
                Err(e) => {
                    bus.inner.ready.send_replace(false);
                    bus.touched();
                    tracing::warn!(error = %e, "the change listener lost its connection");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip() {
        for notice in [Notice::Run(1), Notice::Dataset(22), Notice::Delivery(333)] {
            assert_eq!(Notice::decode(&notice.encode()), Some(notice));
        }
        assert_eq!(Notice::decode("run:x"), None);
        assert_eq!(Notice::decode("other:1"), None);
    }
}
