//! Policy packs: the TOML format (`raw`), its loader and checks (`load`),
//! and the checked model the evaluator runs (`model`). See `docs/packs.md`.

mod conditions;
pub mod controls;
mod error;
mod load;
mod model;
mod raw;

pub use conditions::{EventFlag, EventText};
pub use controls::{Control, Framework};
pub use error::{PackError, SourceFile};
pub use load::{ClockKey, PackSource, RULE_KINDS, clock_key, load_pack, rule_fields};
pub use model::*;
