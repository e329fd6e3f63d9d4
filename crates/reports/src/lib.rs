//! Reports up and out: the findings as OSCAL assessment results, and lists
//! as CSV for a spreadsheet. Data in, text out: no file, store or clock
//! (the caller hands over the findings, the events and the instant).

pub mod committee;
pub mod csv;
pub mod oscal;
