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
pub mod pack;
mod reads;

pub use calendar::{Calendar, Division, HolidayFile};
pub use detail::Detail;
pub use duration::Duration;
pub use eval::{Change, Concerns, Evaluation, Finding, Refusal, Running, Status, evaluate};
pub use pack::{PackError, PackSource, PolicyPack, SourceFile, load_pack};
