//! `warden export --format oscal-ar | csv`: the findings as OSCAL
//! assessment results, or a list as CSV. (`--format jsonl`, the log itself,
//! is `stored::export`.)

use crate::failure::{Failure, Outcome};
use crate::stored::{calendar, fail};
use crate::{load_pack, now};
use jiff::Timestamp;
use web::lists::List;

/// A council's stored log loaded as the service holds it, with its pack.
fn load_council(db: &str, council: &str) -> Result<web::council::Council, Failure> {
    let mut log = store::open(db).map_err(|e| fail(db, e))?;
    let pack = load_pack(&log.council_pack(council).map_err(|e| fail(db, e))?)?;
    let cal = calendar(&pack);
    web::council::Council::load(&mut *log, council, pack, cal).map_err(|e| fail(db, e))
}

/// What `export` was asked for.
pub struct Request<'a> {
    pub db: &'a str,
    pub council: &'a str,
    pub format: &'a str,
    pub what: Option<&'a str>,
    pub at: Option<Timestamp>,
    pub known_at: Option<Timestamp>,
}

pub fn export(r: &Request<'_>) -> Result<Outcome, Failure> {
    let list = match (r.format, r.what) {
        ("jsonl", None) => return crate::stored::export(r.db, r.council),
        ("oscal-ar", None) => None,
        ("csv", Some(what)) => Some(List::from_name(what).ok_or_else(|| {
            let known: Vec<&str> = List::ALL.iter().map(|l| l.name()).collect();
            Failure::said(format!(
                "--what {what}: expected one of {}",
                known.join(", ")
            ))
        })?),
        ("csv", None) => {
            let known: Vec<&str> = List::ALL.iter().map(|l| l.name()).collect();
            return Err(Failure::said(format!(
                "--format csv needs --what: one of {}",
                known.join(", ")
            )));
        }
        ("jsonl" | "oscal-ar", Some(_)) => {
            return Err(Failure::said("--what goes with --format csv"));
        }
        (other, _) => {
            return Err(Failure::said(format!(
                "--format {other}: expected jsonl, oscal-ar or csv"
            )));
        }
    };
    let made = now();
    let at = r.at.unwrap_or(made);
    let council = load_council(r.db, r.council)?;
    let view = council.view_as_known(at, r.known_at);
    let text = match list {
        Some(list) => list.csv(&council, &view.findings).map_err(Failure::said)?,
        None => {
            let event = |seq: u64| {
                council.with_ledger(|l| {
                    l.get(seq).map(|logged| reports::oscal::Evidence {
                        id: logged.reference().to_string(),
                        words: web::describe(&logged.event.kind),
                        at: logged.event.at,
                        recorded: logged.event.recorded_or_at(),
                    })
                })
            };
            let document = reports::oscal::assessment_results(&reports::oscal::Assessment {
                council: r.council,
                pack: council.pack,
                at,
                known_at: r.known_at,
                made,
                findings: &view.findings,
                event: &event,
            });
            let mut text = serde_json::to_string_pretty(&document)
                .map_err(|e| Failure::said(format!("the document could not be written: {e}")))?;
            text.push('\n');
            text
        }
    };
    crate::out(&text);
    Ok(Outcome::Clean)
}

/// What `report` was asked for.
pub struct ReportRequest<'a> {
    pub db: &'a str,
    pub council: &'a str,
    pub at: Option<Timestamp>,
    pub known_at: Option<Timestamp>,
    pub period: &'a str,
    pub out: &'a std::path::Path,
}

/// `--period`: "12 months", "6 months", "2 years", as whole months.
fn months(period: &str) -> Result<i32, Failure> {
    let bad = || {
        Failure::said(format!(
            "--period {period}: expected months or years, such as \"12 months\" or \"2 years\""
        ))
    };
    match period.parse::<rules::Duration>().map_err(|_| bad())? {
        rules::Duration::Calendar {
            amount,
            unit: rules::duration::CalendarUnit::Months,
        } => i32::try_from(amount).map_err(|_| bad()),
        rules::Duration::Calendar {
            amount,
            unit: rules::duration::CalendarUnit::Years,
        } => i32::try_from(amount)
            .ok()
            .and_then(|a| a.checked_mul(12))
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// `warden report`: the committee's PDF.
pub fn report(r: &ReportRequest<'_>) -> Result<Outcome, Failure> {
    let months = months(r.period)?;
    if r.out.extension().is_none_or(|e| e != "pdf") {
        return Err(Failure::said(format!(
            "--out {}: the report is a PDF; name the file FILE.pdf",
            r.out.display()
        )));
    }
    let made = now();
    let at = r.at.unwrap_or(made);
    let council = load_council(r.db, r.council)?;
    let figures = web::committee::gather(
        &council,
        &web::committee::Ask {
            at,
            known_at: r.known_at,
            months,
        },
    );
    let pdf = reports::committee::pdf(&figures)
        .map_err(|e| Failure::said(format!("the report could not be typeset: {e}")))?;
    std::fs::write(r.out, &pdf)
        .map_err(|e| Failure::said(format!("cannot write {}: {e}", r.out.display())))?;
    say!(
        "{}: the committee report for {} as of {} ({} findings, {} overdue, {} violated)",
        r.out.display(),
        figures.council,
        figures.as_of,
        figures.counts.total(),
        figures.counts.overdue,
        figures.counts.violated
    );
    Ok(Outcome::Clean)
}
