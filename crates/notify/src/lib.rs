//! Warden tells people: reminders by email and calendar feeds. An adapter
//! around `rules::reminders` (who is told what, and when, which is pure):
//! the `[mail]` settings checked at start-up (`config`), a notice as a mail
//! (`message`), one run that claims, sends and records (`run`), and open
//! deadlines as an iCalendar file (`calendar`). It reaches a council's log
//! only through the `Outbox` trait, which `web::Council` implements.

pub mod calendar;
pub mod config;
pub mod message;
pub mod run;

pub use config::{Mail, MailSettings};
pub use run::{Outbox, Pending, Report, Sending, remind};
