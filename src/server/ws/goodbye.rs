//! Saying goodbye to every open websocket when the server stops. axum's graceful shutdown
//! waits for HTTP requests, but an upgraded connection has left hyper: without this, a
//! stopping server would drop its subscribers' TCP connections, and their clients would
//! see 1006 (abnormal closure) instead of 1001 (going away).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The close code of a server going away (RFC 6455 §7.4.1).
pub const GOING_AWAY: u16 = 1001;
/// The close code of a normal closure.
pub const NORMAL: u16 = 1000;

/// The open websockets, and the signal that tells them to close.
#[derive(Clone)]
pub struct Goodbyes {
    inner: Arc<Inner>,
}

struct Inner {
    closing: watch::Sender<bool>,
    open: AtomicUsize,
    all_closed: Notify,
}

impl Default for Goodbyes {
    fn default() -> Self {
        Goodbyes {
            inner: Arc::new(Inner {
                closing: watch::channel(false).0,
                open: AtomicUsize::new(0),
                all_closed: Notify::new(),
            }),
        }
    }
}

/// Held by one open websocket; counts it as open until dropped.
pub struct Open {
    inner: Arc<Inner>,
    /// Turns true when the server is stopping.
    pub closing: watch::Receiver<bool>,
}

impl Drop for Open {
    fn drop(&mut self) {
        if self.inner.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.all_closed.notify_waiters();
        }
    }
}

impl Open {
    /// Resolves once the server starts stopping (at once if it already has).
    pub async fn stopping(&mut self) {
        // An error means the sender is gone: the server is gone too.
        let _ = self.closing.wait_for(|closing| *closing).await;
    }
}

impl Goodbyes {
    /// Counts a websocket as open.
    pub fn open(&self) -> Open {
        self.inner.open.fetch_add(1, Ordering::SeqCst);
        Open {
            inner: self.inner.clone(),
            closing: self.inner.closing.subscribe(),
        }
    }

    /// How many websockets are open.
    pub fn open_count(&self) -> usize {
        self.inner.open.load(Ordering::SeqCst)
    }

    /// Tells every open websocket to close (1001), then waits up to `grace` for all of them
    /// to have sent it; returns how many were still open.
    pub async fn say_goodbye(&self, grace: Duration) -> usize {
        self.inner.closing.send_replace(true);
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        loop {
            let closed = self.inner.all_closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if self.open_count() == 0 {
                return 0;
            }
            tokio::select! {
                () = &mut closed => {}
                () = &mut deadline => return self.open_count(),
            }
        }
    }
}
