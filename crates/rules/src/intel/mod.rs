//! Policy intelligence: reading packs as a policy officer would. Each part
//! is pure: packs and logs in, words and differences out.
//!
//! - `explain`: each rule as the sentence a council would write;
//! - `lint`: a pack against published guidance (NCSC, UK GDPR, ISO 27001);
//! - `diff`: two councils' packs aligned by what their rules do;
//! - `whatif`: one log under two packs, and `--set` edits of a pack.

mod align;
pub mod diff;
pub mod explain;
pub mod lint;
pub mod whatif;
mod words;

pub use align::{Signature, signature};
