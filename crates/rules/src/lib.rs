//! Warden's rules: policy packs, calendars, and the evaluator that turns a
//! log into findings.
//!
//! No I/O and no clock: pack files arrive through a `PackSource` the caller
//! provides, and every evaluation is handed its "now" and its calendar.

pub mod bundled;
pub mod calendar;
pub mod detail;
pub mod duration;
pub mod eval;
pub mod intel;
pub mod ledger;
pub mod pack;
mod reads;
pub mod reminders;
pub mod stream;

pub use calendar::{Calendar, Division, HolidayFile};
pub use detail::Detail;
pub use duration::Duration;
pub use eval::{
    Change, Concerns, Evaluation, Evidence, Finding, Refusal, Running, Status, StoredEvaluation,
    evaluate, evaluate_as_known,
};
pub use ledger::{Admission, Admitted, Ledger, Mode, NotTakenUp, Reason, Snapshot, Stamp};
pub use pack::{PackError, PackSource, PolicyPack, SourceFile, load_pack};
pub use stream::{Step, Stream};
