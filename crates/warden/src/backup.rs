//! Backup and restore of a whole database, whatever its backend.
//!
//! The archive is JSON Lines: for each council a header line
//! `{"warden_backup":1,"council":ID,"pack":PACK,"events":N,"head":HASH,"texts":M}`
//! followed by its N events in canonical form, then its M policy texts, one
//! `{"sha256":HEX,"text":MARKDOWN}` a line (an archive without `texts` has
//! none). It is written to a temporary
//! file and renamed, so a backup is whole or absent. A restore reads and
//! checks the entire archive first (every chain recomputed against its
//! header) and refuses a database that already holds any of its councils;
//! only then is anything written.

use crate::failure::{Failure, Outcome};
use crate::read;
use serde_json::{Value, json};
use std::path::Path;
use store::{Digest32, GENESIS, chain};

struct Council {
    id: String,
    pack: String,
    head: String,
    events: Vec<domain::Event>,
    /// Policy texts, (SHA-256, text), each checked against its digest.
    texts: Vec<(String, String)>,
}

fn fail(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::said(format!("{what}: {e}"))
}

/// Writes every council's log to `out`.
pub fn backup(db: &str, out: &Path) -> Result<Outcome, Failure> {
    let mut log = store::open(db).map_err(|e| fail(db, e))?;
    let mut text = String::new();
    let mut summary = Vec::new();
    for council in log.councils().map_err(|e| fail(db, e))? {
        let pack = log.council_pack(&council).map_err(|e| fail(db, e))?;
        let rows = store::rows(log.as_mut(), &council).map_err(|e| fail(db, e))?;
        let v = chain::verify(rows.clone());
        if let Some(broken) = v.broken {
            return Err(fail(
                &format!("{db}: council {council}"),
                format!("not backed up, its chain is broken: {broken}"),
            ));
        }
        let texts = log.texts(&council).map_err(|e| fail(db, e))?;
        let header = json!({"warden_backup": 1, "council": council, "pack": pack, "events": rows.len(), "head": v.head.to_string(), "texts": texts.len()});
        text.push_str(&header.to_string());
        text.push('\n');
        for row in rows {
            text.push_str(&row.event);
            text.push('\n');
        }
        for (sha256, markdown) in texts {
            text.push_str(&json!({"sha256": sha256, "text": markdown}).to_string());
            text.push('\n');
        }
        summary.push(format!("{council} ({} events)", v.sound));
    }
    let partial = out.with_extension("partial");
    std::fs::write(&partial, text).map_err(|e| fail(&partial.display().to_string(), e))?;
    std::fs::rename(&partial, out).map_err(|e| fail(&out.display().to_string(), e))?;
    say!("backed up {} to {}", summary.join(", "), out.display());
    Ok(Outcome::Clean)
}

/// Restores an archive into a database that does not yet hold its councils.
pub fn restore(db: &str, from: &Path) -> Result<Outcome, Failure> {
    let text = read(from)?;
    let councils =
        parse(&text).map_err(|(line, e)| fail(&format!("{}:{line}", from.display()), e))?;
    let mut log = store::open(db).map_err(|e| fail(db, e))?;
    let existing = log.councils().map_err(|e| fail(db, e))?;
    if let Some(c) = councils.iter().find(|c| existing.contains(&c.id)) {
        return Err(fail(
            db,
            format!(
                "already holds council `{}`; restore into an empty database",
                c.id
            ),
        ));
    }
    for c in &councils {
        log.init_council(&c.id, &c.pack).map_err(|e| fail(db, e))?;
        for (_, markdown) in &c.texts {
            log.save_text(&c.id, markdown).map_err(|e| fail(db, e))?;
        }
        let head = log
            .append(&c.id, store::Head::EMPTY, &c.events)
            .map_err(|e| fail(db, e))?;
        if head.hash.to_string() != c.head {
            return Err(fail(
                db,
                format!(
                    "council {} restored to head {}, not {}",
                    c.id, head.hash, c.head
                ),
            ));
        }
        say!(
            "restored {} ({} events, head {})",
            c.id,
            head.seq,
            head.hash
        );
    }
    Ok(Outcome::Clean)
}

/// Reads and checks a whole archive; an error names its line.
fn parse(text: &str) -> Result<Vec<Council>, (usize, String)> {
    let mut councils: Vec<Council> = Vec::new();
    // Lines still owed by the council being read: events, then texts.
    let (mut events, mut texts) = (0usize, 0usize);
    let mut previous = GENESIS;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if events == 0 && texts == 0 {
            let header: Value = serde_json::from_str(line)
                .map_err(|e| (number, format!("not a backup header: {e}")))?;
            let field = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_owned);
            let count = |name: &str| header.get(name).and_then(Value::as_u64);
            let (Some(1), Some(id), Some(pack), Some(head), Some(n)) = (
                count("warden_backup"),
                field("council"),
                field("pack"),
                field("head"),
                count("events"),
            ) else {
                return Err((
                    number,
                    "expected a header with warden_backup 1, council, pack, events and head".into(),
                ));
            };
            finish(councils.last(), &previous).map_err(|e| (number, e))?;
            events = usize::try_from(n).unwrap_or(usize::MAX);
            texts = usize::try_from(count("texts").unwrap_or(0)).unwrap_or(usize::MAX);
            previous = GENESIS;
            councils.push(Council {
                id,
                pack,
                head,
                events: Vec::new(),
                texts: Vec::new(),
            });
            continue;
        }
        if events == 0 {
            let kept = policy_text(line).map_err(|e| (number, e))?;
            if let Some(c) = councils.last_mut() {
                c.texts.push(kept);
            }
            texts -= 1;
            continue;
        }
        if line.starts_with(r#"{"sha256":"#) {
            return Err((
                number,
                format!("the archive holds {events} events fewer than its header says"),
            ));
        }
        let event = domain::parse_event(line).map_err(|e| (number, e.to_string()))?;
        if chain::canonical(&event) != line {
            return Err((
                number,
                "the event is not in canonical form, so it cannot be the stored one".into(),
            ));
        }
        previous = chain::link(&previous, line);
        if let Some(c) = councils.last_mut() {
            c.events.push(event);
        }
        events -= 1;
    }
    if events > 0 || texts > 0 {
        return Err((
            text.lines().count(),
            format!("the archive ends {events} events and {texts} texts short"),
        ));
    }
    finish(councils.last(), &previous).map_err(|e| (text.lines().count(), e))?;
    Ok(councils)
}

/// A policy text line, `{"sha256":HEX,"text":MARKDOWN}`, its digest checked.
fn policy_text(line: &str) -> Result<(String, String), String> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("not a policy text line: {e}"))?;
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(sha256), Some(text)) = (field("sha256"), field("text")) else {
        return Err("expected a policy text line with sha256 and text".into());
    };
    if store::text_sha256(&text) != sha256 {
        return Err(format!(
            "the policy text does not have the SHA-256 {sha256} it is kept under"
        ));
    }
    Ok((sha256, text))
}

/// Checks the council just read reaches the head its header promised.
fn finish(council: Option<&Council>, head: &Digest32) -> Result<(), String> {
    match council {
        Some(c) if c.head != head.to_string() => Err(format!(
            "council {}'s events chain to {head}, not the header's {}",
            c.id, c.head
        )),
        _ => Ok(()),
    }
}
