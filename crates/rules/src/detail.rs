//! A finding's one sentence on why, kept as its parts and put into words
//! only when someone reads it: a national evaluation makes millions of
//! findings, and most are counted, not read.

use crate::duration::Duration;
use domain::{DeviceId, EventType, PersonId, ResourceId};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// An obligation's clock, and what ended it if something has.
    Clock {
        words: Arc<ClockWords>,
        person: Option<PersonId>,
        of: Of,
        ended: Option<Ended>,
    },
    /// A recurrence's cycle, and what ended it if something has.
    Cycle {
        every: Duration,
        from: EventType,
        done_by: Option<EventType>,
    },
    /// A precondition or permission checked before an event; `lacking`
    /// says what was missing when it did not hold.
    Checked {
        before: EventType,
        lacking: Option<String>,
    },
    /// Already in words (limits, prohibitions).
    Text(String),
}

/// What one obligation's clocks say, the same for all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockWords {
    pub trigger: EventType,
    /// The events that discharge it (device_returned, device_lost).
    pub needed: Vec<EventType>,
    pub within: Duration,
    /// Where the clock counts from when not the trigger: " of discovery".
    pub counted: &'static str,
}

/// What a fanned-out clock is about besides its person.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Of {
    Nothing,
    Device(DeviceId),
    Resource(ResourceId),
}

/// The event that ended a clock, and whether it came after the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ended {
    pub late: bool,
    pub by: EventType,
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::Clock {
                words,
                person,
                of,
                ended,
            } => {
                let ClockWords {
                    trigger,
                    needed,
                    within,
                    counted,
                } = words.as_ref();
                let needed = joined(needed, EventType::name);
                match (person, of) {
                    (Some(p), Of::Device(d)) => write!(f, "{trigger} {p}: {needed} of device {d}")?,
                    (Some(p), Of::Resource(r)) => write!(f, "{trigger} {p}: {needed} of {r}")?,
                    _ => write!(f, "{trigger}: {needed}")?,
                }
                write!(f, " due within {within}{counted}")?;
                if let Some(Ended { late, by }) = ended {
                    let how = if *late { "late" } else { "in time" };
                    write!(f, "; discharged {how} by {by}")?;
                }
                Ok(())
            }
            Detail::Cycle {
                every,
                from,
                done_by,
            } => {
                write!(f, "due again within {every} of {from}")?;
                if let Some(by) = done_by {
                    write!(f, "; done by {by}")?;
                }
                Ok(())
            }
            Detail::Checked {
                before,
                lacking: None,
            } => write!(f, "checked before {before}"),
            Detail::Checked {
                before,
                lacking: Some(why),
            } => write!(f, "before {before}: {why}"),
            Detail::Text(text) => f.write_str(text),
        }
    }
}

/// The types, named by `name`, as "a or b or c".
fn joined(types: &[EventType], name: fn(EventType) -> &'static str) -> String {
    types
        .iter()
        .map(|t| name(*t))
        .collect::<Vec<_>>()
        .join(" or ")
}

impl Detail {
    /// The sentence in a council's words, for pages: what the `Display`
    /// form (the CLI's and the API's `detail`) says with event type names.
    pub fn in_words(&self) -> String {
        match self {
            Detail::Clock {
                words,
                person,
                of,
                ended,
            } => {
                let ClockWords {
                    trigger,
                    needed,
                    within,
                    counted,
                } = words.as_ref();
                let mut text = match person {
                    Some(p) => format!("{p}: "),
                    None => String::new(),
                };
                text.push_str(&joined(needed, EventType::words));
                match of {
                    Of::Device(d) => text.push_str(&format!(" (device {d})")),
                    Of::Resource(r) => text.push_str(&format!(" ({r})")),
                    Of::Nothing => {}
                }
                let from = match *counted {
                    "" => trigger.words(),
                    other => other.trim_start_matches(" of "),
                };
                text.push_str(&format!(" due within {within} of {from}"));
                if let Some(Ended { late, by }) = ended {
                    let how = if *late { "late" } else { "in time" };
                    text.push_str(&format!("; done {how} ({})", by.words()));
                }
                text
            }
            Detail::Cycle {
                every,
                from,
                done_by,
            } => {
                let mut text = format!("due again within {every} of {}", from.words());
                if let Some(by) = done_by {
                    text.push_str(&format!("; done ({})", by.words()));
                }
                text
            }
            Detail::Checked {
                before,
                lacking: None,
            } => format!("checked before {}", before.words()),
            Detail::Checked {
                before,
                lacking: Some(why),
            } => format!("before {}: {why}", before.words()),
            Detail::Text(text) => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Arc<ClockWords> {
        Arc::new(ClockWords {
            trigger: EventType::PersonLeft,
            needed: vec![EventType::DeviceReturned, EventType::DeviceLost],
            within: Duration::Hours(48),
            counted: "",
        })
    }

    #[test]
    fn each_kind_of_detail_reads_as_the_sentence_people_see() {
        let clock = Detail::Clock {
            words: words(),
            person: Some("c12".into()),
            of: Of::Device("LAP-1".into()),
            ended: None,
        };
        assert_eq!(
            clock.to_string(),
            "person_left c12: device_returned or device_lost of device LAP-1 due within 48 hours"
        );
        let Detail::Clock {
            words, person, of, ..
        } = clock
        else {
            unreachable!()
        };
        let ended = Detail::Clock {
            words,
            person,
            of,
            ended: Some(Ended {
                late: true,
                by: EventType::DeviceReturned,
            }),
        };
        assert!(
            ended
                .to_string()
                .ends_with("due within 48 hours; discharged late by device_returned"),
            "{ended}"
        );
        let cycle = Detail::Cycle {
            every: Duration::Hours(72),
            from: EventType::PolicyApproved,
            done_by: Some(EventType::PolicyReviewed),
        };
        assert_eq!(
            cycle.to_string(),
            "due again within 72 hours of policy_approved; done by policy_reviewed"
        );
        let checked = Detail::Checked {
            before: EventType::AccessGranted,
            lacking: Some("c12 has not enrolled in MFA".into()),
        };
        assert_eq!(
            checked.to_string(),
            "before access_granted: c12 has not enrolled in MFA"
        );
        let met = Detail::Checked {
            before: EventType::AccessGranted,
            lacking: None,
        };
        assert_eq!(met.to_string(), "checked before access_granted");
    }

    #[test]
    fn in_words_a_detail_names_no_event_type() {
        let ended = Detail::Clock {
            words: words(),
            person: Some("c12".into()),
            of: Of::Device("LAP-1".into()),
            ended: Some(Ended {
                late: true,
                by: EventType::DeviceReturned,
            }),
        };
        assert_eq!(
            ended.in_words(),
            "c12: the device returned or a loss reported (device LAP-1) due within 48 hours of leaving; done late (the device returned)"
        );
        let discovery = Detail::Clock {
            words: Arc::new(ClockWords {
                trigger: EventType::IncidentReported,
                needed: vec![EventType::IncidentRegulatorNotified],
                within: Duration::Hours(72),
                counted: " of discovery",
            }),
            person: None,
            of: Of::Nothing,
            ended: None,
        };
        assert_eq!(
            discovery.in_words(),
            "the regulator told due within 72 hours of discovery"
        );
        let cycle = Detail::Cycle {
            every: Duration::Hours(72),
            from: EventType::PolicyApproved,
            done_by: Some(EventType::PolicyReviewed),
        };
        assert_eq!(
            cycle.in_words(),
            "due again within 72 hours of approval; done (a review)"
        );
        let checked = Detail::Checked {
            before: EventType::AccessGranted,
            lacking: Some("c12 had not enrolled in MFA then".into()),
        };
        assert_eq!(
            checked.in_words(),
            "before access granted: c12 had not enrolled in MFA then"
        );
        for detail in [ended, discovery, cycle, checked] {
            let text = detail.in_words();
            assert!(
                EventType::ALL.iter().all(|t| !text.contains(t.name())),
                "{text}"
            );
        }
    }
}
