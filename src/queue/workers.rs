//! The workers: each claims the next due delivery, runs the [`Handler`] on it while
//! renewing its claim, and records how it ended.

use super::outcome::{FlowError, Outcome};
use super::retry::{MAX_ATTEMPTS, backoff};
use crate::db::entities::webhook_delivery;
use crate::db::enums::DeliveryState;
use crate::db::{Database, Finish};
use chrono::Utc;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

/// How often an idle worker looks for due work without being woken (deliveries queued by
/// other processes, retries coming due).
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// What the workers do with a claimed delivery (the flows implement it).
pub trait Handler: Clone + Send + Sync + 'static {
    /// Processes one claimed delivery.
    fn handle(
        &self,
        delivery: &webhook_delivery::Model,
    ) -> impl Future<Output = Result<Outcome, FlowError>> + Send;
}

/// A pool of workers sharing this process's queue wake-up signal, and the background
/// tasks that stop with them.
pub struct Workers {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

impl Workers {
    /// Starts `count` workers named `<process>-<n>`, whose claims last `lease` unrenewed
    /// (`PFO_CLAIM_LEASE_SECS`) and are renewed every third of it while a flow runs.
    pub fn start<H: Handler>(
        db: Database,
        handler: H,
        count: usize,
        lease: Duration,
        wakeup: Arc<Notify>,
    ) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let process = process_name();
        let mut tasks = JoinSet::new();
        for n in 0..count {
            let worker = Worker {
                name: format!("{process}-{n}"),
                db: db.clone(),
                handler: handler.clone(),
                lease,
                wakeup: wakeup.clone(),
                stopped: stopped.clone(),
            };
            tasks.spawn(worker.run());
        }
        Workers { tasks, stop }
    }

    /// Runs `task` beside the workers (the timeout sweep): it is given the stop signal,
    /// and [`Workers::shutdown`] waits for it too.
    pub fn run_beside<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task(self.stop.subscribe()));
    }

    /// Stops taking work and waits for the flows in progress to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A name unique to this process: its pid, plus a random suffix for restarts (or other
/// hosts) that reuse a pid.
fn process_name() -> String {
    format!("pfo-{}-{:08x}", std::process::id(), rand_u32())
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Utc::now().timestamp_nanos_opt().unwrap_or_default() as u128);
    hasher.finish() as u32
}

struct Worker<H> {
    name: String,
    db: Database,
    handler: H,
    lease: Duration,
    wakeup: Arc<Notify>,
    stopped: watch::Receiver<bool>,
}

impl<H: Handler> Worker<H> {
    /// How long a claim lasts before another worker may take the delivery over
    /// (`PFO_CLAIM_LEASE_SECS`); renewed every third of it while the flow runs.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or_else(|_| chrono::Duration::seconds(120))
    }

    async fn run(mut self) {
        tracing::debug!(worker = %self.name, "worker started");
        while !*self.stopped.borrow() {
            let lease_until = Utc::now() + self.lease();
            match self.db.claim_next_delivery(&self.name, lease_until).await {
                Ok(Some(delivery)) => self.process(delivery).await,
                Ok(None) => self.idle(POLL_INTERVAL).await,
                Err(e) => {
                    tracing::warn!(worker = %self.name, error = %e, "cannot claim work; retrying");
                    self.idle(Duration::from_secs(2)).await;
                }
            }
        }
        tracing::debug!(worker = %self.name, "worker stopped");
    }

    async fn idle(&mut self, at_most: Duration) {
        tokio::select! {
            _ = self.wakeup.notified() => {}
            _ = tokio::time::sleep(at_most) => {}
            _ = self.stopped.changed() => {}
        }
    }

    async fn process(&self, delivery: webhook_delivery::Model) {
        let span = tracing::info_span!(
            "delivery",
            delivery = %delivery.guid,
            event = %delivery.event,
            action = delivery.action.as_deref().unwrap_or("-"),
            attempt = delivery.attempts,
            // Recorded by the flow once it knows which run it works on.
            run = tracing::field::Empty,
        );
        let finish = if delivery.attempts > MAX_ATTEMPTS {
            Err(FlowError::fail(format!(
                "gave up after {MAX_ATTEMPTS} attempts; last error: {}",
                delivery
                    .last_error
                    .as_deref()
                    .unwrap_or("the process died while working on it")
            )))
        } else {
            self.run_flow(&delivery).instrument(span.clone()).await
        };
        let db = &self.db;
        let recorded = match finish {
            Ok(Outcome::Done(note)) => {
                tracing::info!(parent: &span, %note, "delivery done");
                db.finish_delivery(delivery.id, &self.name, finished(DeliveryState::Done, note))
                    .await
                    .map(|_| ())
            }
            Ok(Outcome::Ignored(note)) => {
                tracing::info!(parent: &span, %note, "delivery ignored");
                db.finish_delivery(
                    delivery.id,
                    &self.name,
                    finished(DeliveryState::Ignored, note),
                )
                .await
                .map(|_| ())
            }
            Err(FlowError::Retry { error, wait }) if delivery.attempts < MAX_ATTEMPTS => {
                let delay = backoff(delivery.attempts).max(wait.unwrap_or_default());
                tracing::warn!(parent: &span, %error, retry_in_secs = delay.as_secs_f64(), "delivery will be retried");
                let at = Utc::now()
                    + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
                db.retry_delivery(delivery.id, &self.name, error, at).await
            }
            Err(err) => {
                let error = match err {
                    FlowError::Retry { error, .. } => {
                        format!("gave up after {} attempts: {error}", delivery.attempts)
                    }
                    FlowError::Fail(error) => error,
                };
                tracing::error!(parent: &span, %error, "delivery failed");
                db.finish_delivery(
                    delivery.id,
                    &self.name,
                    Finish {
                        state: DeliveryState::Failed,
                        note: None,
                        error: Some(error),
                    },
                )
                .await
                .map(|_| ())
            }
        };
        if let Err(e) = recorded {
            // The claim runs out and another worker takes the delivery up again.
            tracing::error!(parent: &span, error = %e, "cannot record how the delivery ended");
        }
    }

    /// Runs the flow while renewing the claim, so a long flow keeps its delivery.
    async fn run_flow(&self, delivery: &webhook_delivery::Model) -> Result<Outcome, FlowError> {
        let flow = self.handler.handle(delivery);
        tokio::pin!(flow);
        let mut renew = tokio::time::interval(self.lease / 3);
        renew.tick().await;
        loop {
            tokio::select! {
                outcome = &mut flow => return outcome,
                _ = renew.tick() => {
                    let until = Utc::now() + self.lease();
                    match self.db.extend_claim(delivery.id, &self.name, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(delivery = %delivery.guid, "claim lost to another worker"),
                        Err(e) => tracing::warn!(delivery = %delivery.guid, error = %e, "cannot renew the claim"),
                    }
                }
            }
        }
    }
}

fn finished(state: DeliveryState, note: String) -> Finish {
    Finish {
        state,
        note: Some(note),
        error: None,
    }
}
