//! One reminder run for one council: decide who is told what (the rules'
//! plan), claim each notice in the log (`reminder_queued`, refused if
//! another sender claimed it first), send it with retries, and record the
//! outcome (`reminder_sent` or `reminder_failed`). The log decides, not
//! memory: two runs at once, on two nodes, send each notice once.

use crate::config::Mail;
use crate::message::{Letter, letter};
use domain::event::{ReminderFailed, ReminderSent};
use domain::{Channel, Event, EventId, EventKind, EventRef, PersonId};
use jiff::{SignedDuration, Timestamp};
use rules::PolicyPack;
use rules::reminders::{Notice, Plan};
use std::time::Duration;

/// A queued reminder with no outcome this long after it was recorded was
/// left by a sender that stopped: it is recorded as failed, so what it
/// covered is sent again.
pub const ABANDONED_AFTER: SignedDuration = SignedDuration::from_mins(10);

/// A reminder queued and not yet sent or failed.
#[derive(Clone, Debug)]
pub struct Pending {
    pub person: PersonId,
    pub id: EventId,
    pub recorded: Timestamp,
}

/// A council's log as a reminder run needs it. `web::Council` is one; the
/// run reaches the log through nothing else.
pub trait Outbox {
    fn council(&self) -> &str;
    fn pack(&self) -> &PolicyPack;
    /// Who is to be told what at `at`: the findings as of `at`, less what
    /// the log says each person has been told.
    fn plan(&self, at: Timestamp) -> Plan;
    /// The reminders queued with no outcome yet.
    fn pending(&self) -> Vec<Pending>;
    /// Records `events`, done at `now`, through the one way in, after
    /// whatever others appended: every reason if refused, nothing written.
    fn record(&self, events: Vec<Event>, now: Timestamp) -> Result<(), Vec<String>>;
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Sent: to whom, where, how many things, on which try.
    pub sent: Vec<(PersonId, String, usize, u32)>,
    /// Not sent after every try: to whom, and why.
    pub failed: Vec<(PersonId, String)>,
    /// Claimed by another sender first.
    pub taken: usize,
    /// People who should be told but have no address.
    pub unreachable: Vec<(PersonId, usize)>,
    /// Queued reminders a stopped sender left, now recorded as failed.
    pub abandoned: usize,
    /// With `--dry-run`, the letters that would be sent.
    pub letters: Vec<Letter>,
    /// Outcomes that could not be recorded (the store failing mid-run).
    pub unrecorded: Vec<String>,
}

/// How a run sends: through a mail server, or not at all.
pub enum Sending<'a> {
    Mail(&'a Mail),
    DryRun { link: &'a str },
}

/// One run at `at` (the instant the findings are taken at); `clock` is
/// when each record is made.
pub fn remind(
    outbox: &dyn Outbox,
    sending: Sending<'_>,
    at: Timestamp,
    clock: &dyn Fn() -> Timestamp,
) -> Report {
    let mut report = Report::default();
    let mail = match sending {
        Sending::DryRun { link } => {
            let plan = outbox.plan(at);
            report.unreachable = plan.unreachable;
            report.letters = plan
                .notices
                .iter()
                .map(|n| letter(outbox.pack(), outbox.council(), link, n))
                .collect();
            return report;
        }
        Sending::Mail(mail) => mail,
    };
    report.abandoned = abandon_stopped(outbox, at, clock());
    let plan = outbox.plan(at);
    report.unreachable = plan.unreachable;
    for notice in &plan.notices {
        let queued = notice.queued(at, clock());
        let Some(EventRef::Id(id)) = queued.id.clone() else {
            continue;
        };
        if outbox.record(vec![queued], clock()).is_err() {
            report.taken += 1;
            continue;
        }
        let outcome = deliver(outbox, mail, notice);
        let kind = match &outcome {
            Ok(_) => EventKind::ReminderSent(ReminderSent {
                recipient: notice.person.clone(),
                reminder: EventRef::Id(id.clone()),
                channel: Channel::Email,
                findings: notice.told.clone(),
            }),
            Err((reason, attempts)) => EventKind::ReminderFailed(ReminderFailed {
                recipient: notice.person.clone(),
                reminder: EventRef::Id(id.clone()),
                reason: shorten(reason),
                attempts: *attempts,
            }),
        };
        match &outcome {
            Ok(attempt) => report.sent.push((
                notice.person.clone(),
                notice.address.clone(),
                notice.items.len() + notice.summary.len(),
                *attempt,
            )),
            Err((reason, _)) => report.failed.push((notice.person.clone(), reason.clone())),
        }
        if let Err(why) = outbox.record(vec![Event::new(at, kind)], clock()) {
            report
                .unrecorded
                .push(format!("{}: {}", notice.person, why.join("; ")));
        }
    }
    report
}

/// Sends a notice, trying again after a wait that doubles; the try it
/// went on, or the last error and how many tries were made.
fn deliver(outbox: &dyn Outbox, mail: &Mail, notice: &Notice) -> Result<u32, (String, u32)> {
    let letter = letter(outbox.pack(), outbox.council(), &mail.link, notice);
    let message = letter
        .message(mail.from(outbox.council()))
        .map_err(|e| (e, 0))?;
    let mut wait = mail.backoff;
    let mut last = String::new();
    for attempt in 1..=mail.attempts {
        match lettre::Transport::send(mail.transport(), &message) {
            Ok(_) => return Ok(attempt),
            Err(e) => last = format!("{} ({e})", mail.smtp_url),
        }
        if attempt < mail.attempts {
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2).min(Duration::from_secs(300));
        }
    }
    Err((last, mail.attempts))
}

/// Records as failed each queued reminder a stopped sender left.
fn abandon_stopped(outbox: &dyn Outbox, at: Timestamp, now: Timestamp) -> usize {
    let mut abandoned = 0;
    for pending in outbox.pending() {
        if now.duration_since(pending.recorded) < ABANDONED_AFTER {
            continue;
        }
        let kind = EventKind::ReminderFailed(ReminderFailed {
            recipient: pending.person.clone(),
            reminder: EventRef::Id(pending.id.clone()),
            reason: "no outcome was recorded: the sender stopped before it finished".to_owned(),
            attempts: 0,
        });
        // At the later of the run's instant and the queueing, so the
        // outcome never comes before what it settles.
        let when = at.max(pending.recorded.min(now));
        if outbox.record(vec![Event::new(when, kind)], now).is_ok() {
            abandoned += 1;
        }
    }
    abandoned
}

/// A reason as the log keeps it: one line, at most 500 characters.
fn shorten(reason: &str) -> String {
    let line: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(480)
        .collect();
    if line.trim().is_empty() {
        "the mail server refused it".to_owned()
    } else {
        line
    }
}
