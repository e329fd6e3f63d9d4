//! Reading a log: JSON Lines in, validated events out, or every error with
//! its line number. Nothing is returned unless the whole log is sound.

use crate::estate::{PolicyCatalogue, Refusal};
use crate::event::{Event, EventKind, EventType};
use crate::ids::{BadEventRef, EventRef, PersonId};
use crate::timeline::{Objection, Timeline};
use jiff::Timestamp;

/// Why one line of a log is not an event Warden can accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error(
        "not UTF-8 text: the bytes after the first {valid_up_to} are not valid UTF-8 (save the file as UTF-8)"
    )]
    NotUtf8 { valid_up_to: usize },
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
    #[error(
        "`recorded` is {0}, not an RFC 3339 timestamp with an offset, e.g. \"2025-04-01T09:00:00+01:00\""
    )]
    BadRecorded(String),
    #[error("{0}")]
    BadId(#[from] BadEventRef),
    #[error("in a `{event_type}` event: {message}")]
    Fields {
        event_type: EventType,
        message: String,
    },
    /// A line recorded before the line above it.
    #[error("{}", backwards(*at, *recorded, *previous_line, *previous))]
    RecordedBackwards {
        at: Timestamp,
        /// The line's own `recorded`, when it gives one.
        recorded: Option<Timestamp>,
        previous_line: usize,
        previous: Timestamp,
    },
    /// Placed at its `at`, the event would leave a later line unable to fit,
    /// or (a void) take away what a later line stands on.
    #[error("{} {} on line {other_line} (at {other_at}) {}: {refusal}", if *depends { "the" } else { "it would come before the" }, other_type, if *depends { "depends on it" } else { "which would then not fit" })]
    Conflict {
        other_line: usize,
        other_type: EventType,
        /// When the other event happened, as the reader words it.
        other_at: String,
        refusal: Refusal,
        depends: bool,
    },
    /// The line does not fit where it happened, and what it needs is on a
    /// line that happened after it.
    #[error(transparent)]
    Before(Box<Before>),
    #[error(transparent)]
    Log(Box<Objection>),
    /// Said in words by whoever found it.
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

fn backwards(
    at: Timestamp,
    recorded: Option<Timestamp>,
    previous_line: usize,
    previous: Timestamp,
) -> String {
    match recorded {
        None => format!(
            "`at` {at} is earlier than the event on line {previous_line} ({previous}): a line without `recorded` counts as recorded when it happened, so such lines must be in time order; give a late record its `recorded`"
        ),
        Some(recorded) => format!(
            "`recorded` {recorded} is earlier than the event on line {previous_line} ({previous}): lines are in the order they were recorded"
        ),
    }
}

/// A line that does not fit where it happened, and the later line that
/// holds what it lacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{refusal}: the {later_type} on line {later_line} happened at {later_at}, after this line's {own_at}"
)]
pub struct Before {
    pub refusal: Refusal,
    pub later_line: usize,
    pub later_type: EventType,
    pub later_at: String,
    pub own_at: String,
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
    let recorded = match fields.remove("recorded") {
        None => None,
        Some(serde_json::Value::String(s)) => Some(
            s.parse::<Timestamp>()
                .map_err(|_| EventError::BadRecorded(format!("\"{s}\"")))?,
        ),
        Some(other) => return Err(EventError::BadRecorded(other.to_string())),
    };
    let id = match fields.remove("id") {
        None => None,
        Some(serde_json::Value::String(s)) => Some(s.parse::<EventRef>()?),
        Some(other) => return Err(BadEventRef(other.to_string()).into()),
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
    Ok(Event {
        at,
        recorded,
        id,
        by,
        kind,
    })
}

/// Reads a whole log from the beginning. Blank lines are allowed; every
/// other line must be an event, recorded in order (`recorded`, or for a v1
/// line its `at`, never going back), and fitting the estate at its place in
/// time: about people, devices and incidents introduced by then, policies
/// the pack declares. A late record is placed at its `at`, and must leave
/// every later line still fitting. Returns every error, not the first, and
/// no events at all when there is any.
pub fn read_log(
    text: &str,
    policies: &(dyn PolicyCatalogue + Sync),
) -> Result<Vec<LoggedEvent>, Vec<LineError>> {
    LogReader::new(policies).read(text)
}

/// The lines of a file as read from disk, numbered from 1, each decoded on
/// its own: a line that is not UTF-8 is an error of that line, not of the
/// file. A byte-order mark at the start is dropped, and so is the `\r` of a
/// Windows line ending.
pub fn lines_of(bytes: &[u8]) -> impl Iterator<Item = (usize, Result<&str, EventError>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !bytes.is_empty() || !line.is_empty())
        .map(|(index, line)| (index + 1, decode_line(line)))
}

/// One line's bytes as text (without a trailing `\r`).
pub fn decode_line(line: &[u8]) -> Result<&str, EventError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    std::str::from_utf8(line).map_err(|e| EventError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })
}

/// Validates the lines of a log file as the timeline they make.
pub struct LogReader<'a> {
    timeline: Timeline<'a>,
    /// The zone other events' times are given in (UTC if none).
    zone: Option<jiff::tz::TimeZone>,
}

impl<'a> LogReader<'a> {
    /// A reader for a log that starts empty.
    pub fn new(policies: &'a (dyn PolicyCatalogue + Sync)) -> Self {
        LogReader {
            timeline: Timeline::new(policies, ()),
            zone: None,
        }
    }

    /// Gives the times of other events an error names in `zone` (the
    /// council's), as "10:00 on 2 Mar 2026".
    pub fn in_zone(mut self, zone: jiff::tz::TimeZone) -> Self {
        self.zone = Some(zone);
        self
    }

    /// Reads `text`, returning its events or every error in it.
    pub fn read(self, text: &str) -> Result<Vec<LoggedEvent>, Vec<LineError>> {
        // Spreadsheet tools on Windows start UTF-8 files with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        self.read_lines(text.lines().enumerate().map(|(i, l)| (i + 1, Ok(l))))
    }

    /// Reads a file's bytes, each line decoded on its own (`lines_of`).
    pub fn read_bytes(self, bytes: &[u8]) -> Result<Vec<LoggedEvent>, Vec<LineError>> {
        self.read_lines(lines_of(bytes))
    }

    /// Reads numbered lines (or the error of a line that could not be
    /// read as text), returning the events or every error. The events are
    /// admitted together (`Timeline::admit_all`): the log is put in the
    /// order things happened once and folded once, each event checked at
    /// its place, however many late records and voids it holds.
    pub fn read_lines<'t>(
        mut self,
        lines: impl Iterator<Item = (usize, Result<&'t str, EventError>)>,
    ) -> Result<Vec<LoggedEvent>, Vec<LineError>> {
        let mut errors = Vec::new();
        let (mut numbers, mut events) = (Vec::new(), Vec::new());
        for (line, raw) in lines {
            let raw = match raw {
                Ok(raw) => raw,
                Err(error) => {
                    errors.push(LineError { line, error });
                    continue;
                }
            };
            if raw.trim().is_empty() {
                continue;
            }
            match parse_event(raw) {
                Ok(event) => {
                    numbers.push(line);
                    events.push(event);
                }
                Err(error) => errors.push(LineError { line, error }),
            }
        }
        let recorded: Vec<(Timestamp, Option<Timestamp>)> =
            events.iter().map(|e| (e.at, e.recorded)).collect();
        if let Err(objections) = self.timeline.admit_all(events) {
            let line_of = |seq: u64| {
                usize::try_from(seq)
                    .ok()
                    .and_then(|s| numbers.get(s.wrapping_sub(1)))
                    .copied()
            };
            for (i, objection) in objections {
                let (at, recorded) = recorded[i];
                let previous_line = i.checked_sub(1).map_or(0, |p| numbers[p]);
                let error = EventError::of_objection(
                    objection,
                    at,
                    recorded,
                    previous_line,
                    &line_of,
                    self.zone.as_ref(),
                );
                errors.push(LineError {
                    line: numbers[i],
                    error,
                });
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(errors);
        }
        Ok(self
            .timeline
            .into_log()
            .into_iter()
            .zip(numbers)
            .map(|(logged, line)| LoggedEvent {
                line,
                event: logged.event,
            })
            .collect())
    }
}

impl EventError {
    /// An objection of the log in the words of a file: other events by
    /// their line (`line_of` a sequence number, None for one outside the
    /// file), their times in `zone` when one is given. `at` and `recorded`
    /// are the refused line's own, `previous_line` the line before it.
    pub fn of_objection(
        objection: Objection,
        at: Timestamp,
        recorded: Option<Timestamp>,
        previous_line: usize,
        line_of: &dyn Fn(u64) -> Option<usize>,
        zone: Option<&jiff::tz::TimeZone>,
    ) -> EventError {
        let when = |t: Timestamp| match zone {
            Some(zone) => t
                .to_zoned(zone.clone())
                .strftime("%H:%M on %-d %b %Y")
                .to_string(),
            None => t.to_string(),
        };
        let conflict = |other: crate::Other, refusal, depends| match line_of(other.seq) {
            Some(other_line) => EventError::Conflict {
                other_line,
                other_type: other.event_type,
                other_at: when(other.at),
                refusal,
                depends,
            },
            None if depends => EventError::Log(Box::new(Objection::Depends { other, refusal })),
            None => EventError::Log(Box::new(Objection::Conflict { other, refusal })),
        };
        match objection {
            Objection::RecordedBackwards { previous, .. } => EventError::RecordedBackwards {
                at,
                recorded,
                previous_line,
                previous,
            },
            Objection::Estate(refusal) => EventError::Refused(refusal),
            Objection::Before { refusal, later } => match line_of(later.seq) {
                Some(later_line) => EventError::Before(Box::new(Before {
                    refusal,
                    later_line,
                    later_type: later.event_type,
                    later_at: when(later.at),
                    own_at: when(at),
                })),
                None => EventError::Log(Box::new(Objection::Before { refusal, later })),
            },
            Objection::Conflict { other, refusal } => conflict(other, refusal, false),
            Objection::Depends { other, refusal } => conflict(other, refusal, true),
            other => EventError::Log(Box::new(other)),
        }
    }
}
