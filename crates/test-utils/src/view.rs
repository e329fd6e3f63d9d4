//! Findings in a total order, and a view of the findings kept only from
//! what each admission says it changed (the generated-log property tests).

use jiff::Timestamp;
use proptest::prelude::*;
use rules::{Change, Finding, Running};
use std::collections::HashMap;

/// Findings in a total order, so two lists compare as multisets (clocks
/// held in maps come out in no particular order among equals).
pub fn ordered(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_cached_key(|f| {
        let f = f.clone();
        let words = f.detail.to_string();
        (
            f.status,
            f.due,
            f.settled,
            f.rule,
            f.concerns,
            words,
            f.events,
            f.recorded_after,
        )
    });
    findings
}

/// Findings kept up to date from changes alone, the way a page or a stored
/// table would be kept.
#[derive(Default)]
pub struct View {
    settled: Vec<Finding>,
    running: HashMap<u64, Running>,
}

impl View {
    pub fn apply(&mut self, change: Change) -> Result<(), TestCaseError> {
        for finding in &change.withdrawn {
            let at = self.settled.iter().position(|f| f == finding);
            prop_assert!(at.is_some(), "withdrawn finding was not there: {finding:?}");
            if let Some(i) = at {
                self.settled.swap_remove(i);
            }
        }
        for id in &change.stopped {
            prop_assert!(
                self.running.remove(id).is_some(),
                "stopped clock {id} was not running"
            );
        }
        for clock in change.started {
            prop_assert!(
                self.running.insert(clock.id, clock).is_none(),
                "clock started twice"
            );
        }
        self.settled.extend(change.settled);
        Ok(())
    }

    pub fn findings(&self, now: Timestamp) -> Vec<Finding> {
        let running = self.running.values().map(|c| c.finding(now));
        ordered(self.settled.iter().cloned().chain(running).collect())
    }
}
