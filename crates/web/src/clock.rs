//! The web service's one reading of the clock. Everything it evaluates is
//! handed this "now"; `domain` and `rules` never read the clock themselves.

use jiff::Timestamp;

#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// Monotonic time, for request latency only.
#[allow(clippy::disallowed_methods)]
pub fn instant() -> std::time::Instant {
    std::time::Instant::now()
}
