//! Warden's domain: the event vocabulary, the estate it folds into, and the
//! checks an event must pass against the estate.
//!
//! This crate does no I/O and never reads the clock: it is handed text and
//! returns values. Storage, HTTP and files are adapters elsewhere.

pub mod estate;
pub mod event;
mod fast;
pub mod ids;
pub mod log;
pub mod money;
pub mod small;
pub mod timeline;

pub use estate::{Estate, PolicyCatalogue, Refusal, Undo};
pub use event::{
    Channel, DeviceKind, DeviceOwner, Event, EventKind, EventType, EventVoided, MfaMethod,
    PersonKind, Severity, Subjects, Told,
};
pub use ids::*;
pub use log::{
    EventError, LineError, LogReader, LoggedEvent, decode_line, lines_of, parse_event, read_log,
};
pub use money::Pence;
pub use timeline::{
    CLOCK_SKEW, Follower, Logged, NotResumed, Objection, Other, Refused, Resume, Savepoint, Seq,
    Timeline,
};
