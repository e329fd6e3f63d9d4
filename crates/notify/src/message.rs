//! A notice as a mail, in the style of GOV.UK Notify: short, what to do
//! first, the due time in the council's own time zone, the clause that
//! requires it and a link to it. Plain text and HTML, saying the same.

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use maud::{Markup, html};
use rules::PolicyPack;
use rules::eval::{Finding, Status};
use rules::reminders::{Notice, Stage};

/// What a mail says, before it is a mail (so `--dry-run` can print it).
#[derive(Clone, Debug)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One finding as a mail lists it.
struct Line {
    action: String,
    /// The finding in a sentence: whose, which device.
    what: String,
    when: String,
    why: String,
    link: String,
}

/// The due time as people read it: "2:00pm on Friday 27 March 2026".
pub fn due_words(pack: &PolicyPack, due: jiff::Timestamp) -> String {
    let local = due.to_zoned(pack.time_zone.clone());
    let zone = local
        .time_zone()
        .to_offset_info(due)
        .abbreviation()
        .to_string();
    format!("{} {zone}", local.strftime("%-I:%M%P on %A %-d %B %Y"))
}

/// `mine`: the finding is about the reader, whose own page (My Warden)
/// lists it; others follow the link to the entry that started it.
fn line(
    pack: &PolicyPack,
    council: &str,
    link: &str,
    finding: &Finding,
    stage: Stage,
    mine: bool,
) -> Line {
    let due = finding.due.map(|d| due_words(pack, d)).unwrap_or_default();
    let when = match (stage, finding.status) {
        (Stage::Overdue(_), _) | (_, Status::Overdue) => format!("Overdue: it was due by {due}"),
        _ => format!("Due by {due}"),
    };
    let target = match finding.events.from() {
        _ if mine => format!("{link}/c/{council}/me"),
        Some(seq) => format!("{link}/c/{council}/events/{seq}"),
        None => format!("{link}/c/{council}/findings"),
    };
    Line {
        action: pack.rule_sentence(&finding.rule).to_owned(),
        what: finding.sentence_in_words(),
        when,
        why: format!("{} ({})", finding.sentence_in_words(), finding.cite),
        link: target,
    }
}

/// The letter for a notice.
pub fn letter(pack: &PolicyPack, council: &str, link: &str, notice: &Notice) -> Letter {
    let own: Vec<Line> = notice
        .items
        .iter()
        .map(|i| {
            let mine = i.finding.concerns.person.as_deref() == Some(notice.person.as_str());
            line(pack, council, link, &i.finding, i.stage, mine)
        })
        .collect();
    let summary: Vec<Line> = notice
        .summary
        .iter()
        .map(|f| {
            let stage = if f.status == Status::Overdue {
                Stage::Overdue(1)
            } else {
                Stage::Daily
            };
            line(pack, council, link, f, stage, false)
        })
        .collect();
    let overdue = notice
        .items
        .iter()
        .filter(|i| matches!(i.stage, Stage::Overdue(_)))
        .count();
    let subject = match (own.len(), overdue) {
        (0, _) => format!("{}: today's open deadlines", pack.council),
        (n, 0) => format!("{}: {n} thing{} to do soon", pack.council, plural(n)),
        (n, o) => format!("{}: {o} of {n} thing{} overdue", pack.council, plural(n)),
    };
    let overdue_in_summary = notice
        .summary
        .iter()
        .filter(|f| f.status == Status::Overdue)
        .count();
    let mut text = format!("Dear {},\n\n", notice.name);
    if !own.is_empty() {
        text.push_str("You need to:\n\n");
        for l in &own {
            text.push_str(&format!(
                "* {}\n  {}\n  Why: {}\n  See: {}\n\n",
                l.action, l.when, l.why, l.link
            ));
        }
    }
    if !summary.is_empty() {
        text.push_str(&format!(
            "The council's deadlines today: {} overdue, {} due in the next two weeks.\n\n",
            overdue_in_summary,
            summary.len() - overdue_in_summary
        ));
        for l in &summary {
            text.push_str(&format!(
                "* {}\n  {}\n  See: {}\n\n",
                l.what, l.when, l.link
            ));
        }
    }
    text.push_str(&format!("{}\n", footer(&pack.council)));
    let html = page(notice, &own, &summary, overdue_in_summary, &pack.council).into_string();
    Letter {
        to: notice.address.clone(),
        subject,
        text,
        html,
    }
}

fn page(notice: &Notice, own: &[Line], summary: &[Line], overdue: usize, council: &str) -> Markup {
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Warden" } }
            body style="font-family: Arial, sans-serif; font-size: 19px; line-height: 1.3; color: #0b0c0c" {
                p { "Dear " (notice.name) "," }
                @if !own.is_empty() {
                    h2 { "You need to" }
                    @for l in own {
                        p { strong { (l.action) } br; (l.when) br; "Why: " (l.why) br;
                            a href=(l.link) { "See it in Warden" } }
                    }
                }
                @if !summary.is_empty() {
                    h2 { "The council's deadlines today" }
                    p { (overdue) " overdue, " (summary.len() - overdue) " due in the next two weeks." }
                    ul {
                        @for l in summary {
                            li { (l.what) ". " (l.when) ". " a href=(l.link) { "See it" } }
                        }
                    }
                }
                p style="color: #505a5f" { (footer(council)) }
            }
        }
    }
}

fn footer(council: &str) -> String {
    format!(
        "This is a reminder from Warden for {council}. You are told of each deadline before it is due and again while it is overdue, as the council's policies say; never twice for the same step."
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Letter {
    /// The mail, from `from`; an address that is not one is an error.
    pub fn message(&self, from: &Mailbox) -> Result<Message, String> {
        let to: Mailbox = self
            .to
            .parse()
            .map_err(|e| format!("`{}` is not an address: {e}", self.to))?;
        Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&self.subject)
            .multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                self.html.clone(),
            ))
            .map_err(|e| e.to_string())
    }
}
