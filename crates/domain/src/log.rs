//! Reading a log: JSON Lines in, validated events out, or every error with
//! its line number. Nothing is returned unless the whole log is sound.

use crate::estate::{Estate, PolicyCatalogue, Refusal};
use crate::event::{Event, EventKind, EventType};
use crate::ids::PersonId;
use jiff::Timestamp;

/// Why one line of a log is not an event Warden can accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("expected a JSON object, one event a line, with `at` and `type`")]
    NotAnObject,
    #[error("missing `type`: every event needs one, e.g. \"type\": \"person_joined\"")]
    MissingType,
    #[error("unknown event type `{0}` (docs/events.md lists the vocabulary)")]
    UnknownType(String),
    #[error(
        "missing `at`: every event needs the time it happened, e.g. \"at\": \"2025-04-01T09:00:00+01:00\""
    )]
    MissingAt,
    #[error(
        "`at` is {0}, not an RFC 3339 timestamp with an offset, e.g. \"2025-04-01T09:00:00+01:00\""
    )]
    BadAt(String),
    #[error("`by` must be a person id (a string)")]
    BadBy,
    #[error("in a `{event_type}` event: {message}")]
    Fields {
        event_type: EventType,
        message: String,
    },
    #[error("`at` {at} is earlier than {} ({previous_at}): the log must be in time order", previous(*previous_line))]
    OutOfOrder {
        at: Timestamp,
        previous_line: usize,
        previous_at: Timestamp,
    },
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Line 0 stands for the stored log that an import continues.
fn previous(line: usize) -> String {
    if line == 0 {
        "the last event already stored".to_owned()
    } else {
        format!("the event on line {line}")
    }
}

/// An error and the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct LineError {
    pub line: usize,
    pub error: EventError,
}

/// An event and the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedEvent {
    pub line: usize,
    pub event: Event,
}

/// Decodes one JSON object into an event, checking its shape only.
pub fn parse_event(text: &str) -> Result<Event, EventError> {
    // The fast path decodes well-formed events in one typed pass; anything
    // else takes the careful path below, which says what is wrong.
    crate::fast::parse(text).map_or_else(|| parse_event_carefully(text), Ok)
}

/// Decodes through a JSON value, so each kind of mistake gets its own message.
pub(crate) fn parse_event_carefully(text: &str) -> Result<Event, EventError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| EventError::Json(e.to_string()))?;
    let serde_json::Value::Object(mut fields) = value else {
        return Err(EventError::NotAnObject);
    };
    let type_name = match fields.remove("type") {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => return Err(EventError::UnknownType(other.to_string())),
        None => return Err(EventError::MissingType),
    };
    let event_type = EventType::from_name(&type_name)
        .ok_or_else(|| EventError::UnknownType(type_name.clone()))?;
    let at = match fields.remove("at") {
        Some(serde_json::Value::String(s)) => s
            .parse::<Timestamp>()
            .map_err(|_| EventError::BadAt(format!("\"{s}\"")))?,
        Some(other) => return Err(EventError::BadAt(other.to_string())),
        None => return Err(EventError::MissingAt),
    };
    let by = match fields.remove("by") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(PersonId::from(s)),
        Some(_) => return Err(EventError::BadBy),
    };
    let kind = EventKind::from_fields(event_type, fields).map_err(|e| EventError::Fields {
        event_type,
        message: e.to_string(),
    })?;
    Ok(Event { at, by, kind })
}

/// Reads a whole log from the beginning. Blank lines are allowed;
/// everything else must be an event, in time order, about people, devices
/// and incidents the log has introduced and policies the pack declares.
/// Returns every error, not the first, and no events at all when there is any.
pub fn read_log(
    text: &str,
    policies: &dyn PolicyCatalogue,
) -> Result<Vec<LoggedEvent>, Vec<LineError>> {
    LogReader::new(policies).read(text)
}

/// Validates events against the estate they would extend: a whole log from
/// the start, or an import continuing a stored log.
pub struct LogReader<'a> {
    policies: &'a dyn PolicyCatalogue,
    estate: Estate,
    /// The line and time of the last accepted event (line 0: before the text).
    previous: Option<(usize, Timestamp)>,
}

impl<'a> LogReader<'a> {
    /// A reader for a log that starts empty.
    pub fn new(policies: &'a dyn PolicyCatalogue) -> Self {
        LogReader {
            policies,
            estate: Estate::default(),
            previous: None,
        }
    }

    /// A reader continuing from a known estate whose last event was at `last`
    /// (a snapshot plus its tail, say).
    pub fn resume(
        policies: &'a dyn PolicyCatalogue,
        estate: Estate,
        last: Option<Timestamp>,
    ) -> Self {
        LogReader {
            policies,
            estate,
            previous: last.map(|at| (0, at)),
        }
    }

    /// Reads `text`, returning its events or every error in it. On error the
    /// reader should be dropped: it has applied what it could to find more.
    pub fn read(mut self, text: &str) -> Result<Vec<LoggedEvent>, Vec<LineError>> {
        let mut events = Vec::new();
        let mut errors = Vec::new();
        // Spreadsheet tools on Windows start UTF-8 files with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let event = match parse_event(raw) {
                Ok(event) => event,
                Err(error) => {
                    errors.push(LineError { line, error });
                    continue;
                }
            };
            if let Some((previous_line, previous_at)) = self.previous
                && event.at < previous_at
            {
                let error = EventError::OutOfOrder {
                    at: event.at,
                    previous_line,
                    previous_at,
                };
                errors.push(LineError { line, error });
            }
            self.previous = Some((line, event.at));
            for refusal in self.estate.check(&event, self.policies) {
                errors.push(LineError {
                    line,
                    error: refusal.into(),
                });
            }
            self.estate.apply(&event);
            events.push(LoggedEvent { line, event });
        }
        if errors.is_empty() {
            Ok(events)
        } else {
            Err(errors)
        }
    }
}
