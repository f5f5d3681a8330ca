//! Recent previews, by normalised store URL: at most [`CACHE_ENTRIES`] (least recently used
//! out first, `lru`'s cache), each kept for the configured time (failures that may pass, for
//! [`TRANSIENT_TTL`]), and dropped as soon as its dataset's rows change. The change bus feeds
//! that on every replica (LISTEN/NOTIFY on PostgreSQL): a run's change drops the entries of
//! its dataset URL and the entries that run's rows named; a resynchronisation or a lag drops
//! everything. A read that began before a drop is not stored (the epoch moved).

use super::{Preview, ReprError};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most previews kept.
pub const CACHE_ENTRIES: usize = 256;
/// How long a failure that may pass (storage failing, timing out) is reused, so a page
/// viewed again and again does not wait on a broken store each time.
pub const TRANSIENT_TTL: Duration = Duration::from_secs(30);

/// A preview or why there is none.
pub type Outcome = Result<Arc<Preview>, ReprError>;

struct Entry {
    until: Instant,
    /// The runs whose rows named this URL when it was read.
    runs: Vec<i32>,
    outcome: Outcome,
}

struct Inner {
    entries: LruCache<String, Entry>,
    /// Moves on every drop.
    epoch: u64,
}

/// The cache.
pub struct PreviewCache {
    inner: Mutex<Inner>,
    ttl: Duration,
}

impl PreviewCache {
    /// An empty cache keeping previews for `ttl`.
    pub fn new(ttl: Duration) -> PreviewCache {
        PreviewCache {
            inner: Mutex::new(Inner {
                entries: LruCache::new(
                    NonZeroUsize::new(CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
                ),
                epoch: 0,
            }),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves a cache that is still consistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The kept outcome for `url`, if it is still fresh.
    pub fn get(&self, url: &str) -> Option<Outcome> {
        let mut inner = self.lock();
        let fresh = inner
            .entries
            .get(url)
            .filter(|e| e.until > Instant::now())
            .map(|e| e.outcome.clone());
        if fresh.is_none() {
            inner.entries.pop(url);
        }
        fresh
    }

    /// The epoch to hand back to [`PreviewCache::put`].
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Keeps `outcome` for `url`, unless something was dropped since `epoch` (the read may
    /// predate the change) or the outcome is not worth keeping.
    pub fn put(&self, url: &str, runs: Vec<i32>, outcome: Outcome, epoch: u64) {
        let ttl = match &outcome {
            Ok(_) => self.ttl,
            Err(e) if e.is_transient() => TRANSIENT_TTL.min(self.ttl),
            Err(ReprError::Refused(_) | ReprError::Invalid(_)) => return,
            Err(_) => self.ttl,
        };
        if ttl.is_zero() {
            return;
        }
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        inner.entries.put(
            url.to_owned(),
            Entry {
                until: Instant::now() + ttl,
                runs,
                outcome,
            },
        );
    }

    /// Drops the entries of `url` and those run `run` named.
    pub fn drop_run(&self, run: i32, url: Option<&str>) {
        let mut inner = self.lock();
        inner.epoch += 1;
        let stale: Vec<String> = inner
            .entries
            .iter()
            .filter(|(key, entry)| entry.runs.contains(&run) || Some(key.as_str()) == url)
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            inner.entries.pop(&key);
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.clear();
    }

    /// How many previews are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> Outcome {
        Err(ReprError::NotFound("none".into()))
    }

    #[test]
    fn entries_go_when_their_run_changes_or_a_drop_raced_the_read() {
        let cache = PreviewCache::new(Duration::from_secs(60));
        let epoch = cache.epoch();
        cache.put("a", vec![1], refused(), epoch);
        cache.put("b", vec![2], refused(), epoch);
        assert!(cache.get("a").is_some());
        cache.drop_run(1, None);
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some());
        cache.drop_run(7, Some("b"));
        assert!(cache.get("b").is_none());
        // A read that started before the drop is not kept.
        cache.put("c", vec![], refused(), epoch);
        assert!(cache.get("c").is_none());
        let now = cache.epoch();
        cache.put("c", vec![], Err(ReprError::Refused("no".into())), now);
        assert!(cache.get("c").is_none(), "refusals are never kept");
        for n in 0..(CACHE_ENTRIES + 10) {
            cache.put(&format!("u{n}"), vec![], refused(), now);
        }
        assert_eq!(cache.len(), CACHE_ENTRIES);
        assert!(
            cache.get("u0").is_none(),
            "the least recently used went first"
        );
        cache.clear();
        assert!(cache.is_empty());
    }
}
