//! CSV exports of the systems councils already run, turned into the events
//! that bring a council's estate up to date: read a file ([`read`]), then
//! compare it with the estate ([`plan`]). Nothing here writes; the caller
//! admits the plan through the one way in, or prints it.
//!
//! Formats: `hr-people` (Warden's own documented layout for an HR
//! system's starters, movers and leavers), `entra-users` (the Entra admin
//! center's "Download users" CSV), `intune-devices` (Intune's device
//! export), `snipeit-users` and `snipeit-assets` (Snipe-IT's). See
//! docs/imports.md.

mod mapping;
mod plan;
mod read;

pub use mapping::{Mapping, MappingError, Target};
pub use plan::{Options, Plan, plan};
pub use read::{Device, Format, Person, ReadError, Rows, read, read_mapped};
