//! `warden remind` and `warden calendar`: the reminder run and the calendar
//! file from the command line, over a stored log. The run is the one
//! `warden serve` schedules (`notify::remind` through `web::Council`).

use crate::failure::{Failure, Outcome};
use crate::serve::Config;
use crate::stored::{calendar, fail};
use crate::{load_pack, now};
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct RemindArgs {
    /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
    #[arg(long, env = "WARDEN_DB")]
    db: String,
    /// One council; every council of the database without it.
    #[arg(long)]
    council: Option<String>,
    /// The instant to take the findings at (RFC 3339) [default: now]: the
    /// same command with the same --at replays what would have been sent.
    #[arg(long)]
    at: Option<Timestamp>,
    /// Print the messages instead of sending them; nothing is recorded.
    #[arg(long)]
    dry_run: bool,
    /// The TOML file with `[mail]` (the mail server, who mail comes from).
    #[arg(long, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct CalendarArgs {
    /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
    #[arg(long, env = "WARDEN_DB")]
    db: String,
    #[arg(long)]
    council: String,
    /// Only this person's own deadlines; every open deadline without it.
    #[arg(long)]
    person: Option<String>,
    /// The instant to take the deadlines at (RFC 3339) [default: now].
    #[arg(long)]
    at: Option<Timestamp>,
    /// Where to write the .ics file [default: standard output].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The TOML file whose `[mail] link` says where Warden is served.
    #[arg(long, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
}

/// Each council named, loaded from the store with its pack.
fn councils(
    pool: &store::Pool,
    db: &str,
    only: Option<&str>,
) -> Result<Vec<Arc<web::council::Council>>, Failure> {
    let mut log = pool.get().map_err(|e| fail(db, e))?;
    let known = log.councils().map_err(|e| fail(db, e))?;
    let chosen: Vec<String> = match only {
        Some(c) if known.iter().any(|k| k == c) => vec![c.to_owned()],
        Some(c) => {
            return Err(Failure::said(format!(
                "{db} holds no council `{c}` (it holds: {})",
                known.join(", ")
            )));
        }
        None => known,
    };
    let mut out = Vec::new();
    for id in chosen {
        let pack = load_pack(&log.council_pack(&id).map_err(|e| fail(db, e))?)?;
        let cal = calendar(&pack);
        let council =
            web::council::Council::load(&mut *log, &id, pack, cal).map_err(|e| fail(db, e))?;
        out.push(Arc::new(council));
    }
    Ok(out)
}

pub fn remind(args: &RemindArgs) -> Result<Outcome, Failure> {
    let file = Config::read(args.config.as_deref())?;
    let mail = file.mail_checked(args.config.as_deref())?;
    let now = now();
    let at = args.at.unwrap_or(now);
    if at > now && !args.dry_run {
        return Err(Failure::said(format!(
            "--at {at} is in the future: reminders are sent of what is due now; add --dry-run to see what would be sent then"
        )));
    }
    let link = mail
        .as_ref()
        .map_or_else(|| "http://127.0.0.1:8080".to_owned(), |m| m.link.clone());
    let sending = match (&mail, args.dry_run) {
        (_, true) => notify::Sending::DryRun { link: &link },
        (Some(mail), false) => notify::Sending::Mail(mail),
        (None, false) => {
            return Err(Failure::said(
                "no mail server: give --config with a [mail] section (docs/reminders.md), or --dry-run to print the messages",
            ));
        }
    };
    let pool = store::Pool::open(&args.db).map_err(|e| fail(&args.db, e))?;
    let dry_run = args.dry_run;
    let mut trouble = false;
    for council in councils(&pool, &args.db, args.council.as_deref())? {
        let outbox = web::reminders::CouncilOutbox {
            council: &council,
            store: &pool,
        };
        let sending = match &sending {
            notify::Sending::DryRun { link } => notify::Sending::DryRun { link },
            notify::Sending::Mail(m) => notify::Sending::Mail(m),
        };
        let report = notify::remind(&outbox, sending, at, &crate::now);
        trouble |= !report.failed.is_empty() || !report.unrecorded.is_empty();
        print_report(&council.id, &report, at, dry_run);
    }
    Ok(if trouble {
        Outcome::NeedsAttention
    } else {
        Outcome::Clean
    })
}

fn print_report(council: &str, report: &notify::Report, at: Timestamp, dry_run: bool) {
    for letter in &report.letters {
        say!(
            "To: {}\nSubject: {}\n\n{}\n",
            letter.to,
            letter.subject,
            letter.text
        );
    }
    for (person, address, items, attempt) in &report.sent {
        let tries = if *attempt == 1 {
            String::new()
        } else {
            format!(" (on try {attempt})")
        };
        say!("{council}: sent to {person} <{address}>: {items} to do{tries}");
    }
    for (person, why) in &report.failed {
        say!("{council}: could not send to {person}, recorded as failed: {why}");
    }
    for (person, count) in &report.unreachable {
        say!("{council}: {person} has {count} reminder(s) due but no email address on record");
    }
    if report.taken > 0 {
        say!(
            "{council}: {} reminder(s) were already claimed by another sender",
            report.taken
        );
    }
    if report.abandoned > 0 {
        say!(
            "{council}: {} reminder(s) a stopped sender left were recorded as failed and sent again",
            report.abandoned
        );
    }
    for why in &report.unrecorded {
        say!("{council}: an outcome could not be recorded: {why}");
    }
    let nothing = report.sent.is_empty()
        && report.failed.is_empty()
        && report.letters.is_empty()
        && report.taken == 0;
    match (nothing, dry_run) {
        (true, _) => say!("{council}: no reminders due at {at}"),
        (false, true) => say!(
            "{council}: {} message(s) would be sent at {at}; nothing was sent or recorded",
            report.letters.len()
        ),
        (false, false) => {}
    }
}

pub fn calendar_file(args: &CalendarArgs) -> Result<Outcome, Failure> {
    let file = Config::read(args.config.as_deref())?;
    let link = file
        .mail
        .as_ref()
        .and_then(|m| m.link.clone())
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let pool = store::Pool::open(&args.db).map_err(|e| fail(&args.db, e))?;
    let council = councils(&pool, &args.db, Some(&args.council))?
        .pop()
        .ok_or_else(|| Failure::said(format!("no council `{}`", args.council)))?;
    let made = now();
    let at = args.at.unwrap_or(made);
    let view = council.view_as_known(at, None);
    let (findings, name) = match &args.person {
        Some(p) => {
            let name = council.with_estate(|e| {
                e.people
                    .get(&domain::PersonId::from(p.as_str()))
                    .map(|p| p.name.clone())
            });
            let Some(name) = name else {
                return Err(Failure::said(format!(
                    "--person {p}: {} has no such person",
                    args.council
                )));
            };
            (
                view.about(p).cloned().collect::<Vec<_>>(),
                format!("Warden: {name}"),
            )
        }
        None => (
            view.findings.clone(),
            format!("Warden: {}", council.pack.council),
        ),
    };
    let feed = notify::calendar::Feed {
        pack: council.pack,
        council: &council.id,
        link: &link,
        name,
        made,
    };
    let text = notify::calendar::ics(&feed, &findings);
    match &args.out {
        Some(path) => write(path, &text)?,
        None => crate::out(&text),
    }
    Ok(Outcome::Clean)
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::said(format!("cannot write {}: {e}", path.display())))
}
