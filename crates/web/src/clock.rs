//! The web service's clock. Everything it evaluates or records is handed
//! "now" from here; `domain` and `rules` never read the clock themselves.
//! The service holds one [`Clock`] in its state, so a test can set the time.

use jiff::Timestamp;
use std::sync::Mutex;

/// The system clock, or a time a test has set.
#[derive(Debug, Default)]
pub struct Clock {
    fixed: Mutex<Option<Timestamp>>,
}

impl Clock {
    /// The time now.
    pub fn now(&self) -> Timestamp {
        let fixed = *self.fixed.lock().unwrap_or_else(|p| p.into_inner());
        fixed.unwrap_or_else(now)
    }

    /// Stops the clock at `at` (tests), or lets it run again with None.
    pub fn set(&self, at: Option<Timestamp>) {
        *self.fixed.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

/// The system's time: what a [`Clock`] says unless a test has set it.
#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// Monotonic time, for durations only (request latency, start-up).
#[allow(clippy::disallowed_methods)]
pub fn instant() -> std::time::Instant {
    std::time::Instant::now()
}
