//! Retry policy for failures that may pass.

use std::time::Duration;

/// A delivery is tried at most this many times before it ends as `failed`.
pub const MAX_ATTEMPTS: i32 = 8;
/// The first retry waits this long; each next one twice as long.
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
/// No retry waits longer than this (unless GitHub's `Retry-After` says so).
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// The wait before retry number `attempts` (1-based): 2 s, 4 s, 8 s, … capped at 10 min.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 16) as u32 - 1;
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(30), MAX_BACKOFF);
        assert_eq!(backoff(0), Duration::from_secs(2));
    }
}
