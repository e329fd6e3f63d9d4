//! What Warden's tests share, in one crate (a dev-dependency of the others):
//!
//! - `packs`: packs read from the repository's `packs/` folder, or held in
//!   memory, and their calendars;
//! - `db`: throwaway databases, SQLite or a real PostgreSQL server started
//!   in a temporary folder, with raw SQL for tests that tamper with them;
//! - `cli`: the `warden` binary run from the repository root, and a
//!   `warden serve` node;
//! - `app`: the web service started for real on loopback (`TestApp`), with
//!   councils, users and the clock a test asks for, and sessions that sign
//!   in through the real forms;
//! - `view`: findings in a total order, and a view kept only from changes.

#![allow(dead_code)]

pub mod app;
pub mod cli;
pub mod db;
pub mod packs;
pub mod view;
