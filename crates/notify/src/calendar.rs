//! Open deadlines as an iCalendar file (RFC 5545) that Outlook or Google
//! Calendar subscribes to: each a `VEVENT` with a stable `UID`, its due time
//! in the council's time zone, an alarm a day before, and a link back.

use icalendar::{Alarm, Calendar, CalendarDateTime, Component, EventLike, Property};
use jiff::Timestamp;
use rules::PolicyPack;
use rules::eval::{Finding, Status};

/// Europe/London as RFC 5545 describes a zone: the rules since 1996, which
/// every deadline Warden holds falls under. The `icalendar` crate builds
/// the events but not a `VTIMEZONE` (it would stamp one with a `DTSTAMP`
/// and `UID`, which RFC 5545 does not allow there), so this is written out.
const EUROPE_LONDON: &str = "BEGIN:VTIMEZONE\r\n\
TZID:Europe/London\r\n\
BEGIN:DAYLIGHT\r\n\
TZOFFSETFROM:+0000\r\n\
TZOFFSETTO:+0100\r\n\
TZNAME:BST\r\n\
DTSTART:19810329T010000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
END:DAYLIGHT\r\n\
BEGIN:STANDARD\r\n\
TZOFFSETFROM:+0100\r\n\
TZOFFSETTO:+0000\r\n\
TZNAME:GMT\r\n\
DTSTART:19961027T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
END:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// What a feed is for, in its name.
pub struct Feed<'a> {
    pub pack: &'a PolicyPack,
    pub council: &'a str,
    /// Where Warden is served, for the links.
    pub link: &'a str,
    /// "Warden: Southend-on-Sea City Council" or a person's name.
    pub name: String,
    /// When it was made (each event's `DTSTAMP`).
    pub made: Timestamp,
}

/// The open and overdue findings with a due time, as an `.ics` file.
pub fn ics(feed: &Feed<'_>, findings: &[Finding]) -> String {
    let zone = feed.pack.time_zone_name.as_str();
    let london = zone == "Europe/London";
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Warden//Council deadlines//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"));
    calendar.name(&feed.name);
    if london {
        calendar.timezone(zone);
    }
    let stamp = utc(feed.made);
    for finding in findings
        .iter()
        .filter(|f| matches!(f.status, Status::Open | Status::Overdue))
    {
        let Some(due) = finding.due else { continue };
        let starts = if london {
            let local = due.to_zoned(feed.pack.time_zone.clone()).datetime();
            CalendarDateTime::WithTimezone {
                date_time: naive(local),
                tzid: zone.to_owned(),
            }
        } else {
            CalendarDateTime::Utc(utc(due))
        };
        let link = match finding.events.from() {
            Some(seq) => format!("{}/c/{}/events/{seq}", feed.link, feed.council),
            None => format!("{}/c/{}/findings", feed.link, feed.council),
        };
        let action = feed.pack.rule_sentence(&finding.rule);
        let subject = subject(finding);
        let summary = match finding.status {
            Status::Overdue => format!("Overdue: {action} ({subject})"),
            _ => format!("{action} ({subject})"),
        };
        let description = format!("{}\n{}\n{link}", finding.sentence_in_words(), finding.cite);
        let event = icalendar::Event::new()
            .uid(&uid(finding, feed.council))
            .timestamp(stamp)
            .summary(&summary)
            .description(&description)
            .starts(starts.clone())
            .ends(starts)
            .url(&link)
            .append_property(Property::new("TRANSP", "TRANSPARENT"))
            .alarm(Alarm::display(&summary, -chrono::Duration::days(1)))
            .done();
        calendar.push(event);
    }
    let text = calendar.done().to_string();
    if london {
        // The zone goes before the events that name it.
        match text.find("BEGIN:VEVENT") {
            Some(at) => format!("{}{EUROPE_LONDON}{}", &text[..at], &text[at..]),
            None => text.replacen("END:VCALENDAR", &format!("{EUROPE_LONDON}END:VCALENDAR"), 1),
        }
    } else {
        text
    }
}

/// A deadline's `UID`: the same finding keeps it as the feed is fetched
/// again, so a calendar updates the event rather than adding another.
pub fn uid(finding: &Finding, council: &str) -> String {
    let seq = finding.events.from().unwrap_or(0);
    format!(
        "{}.{}.{seq}@{council}.warden",
        finding.rule,
        subject(finding)
    )
}

fn subject(finding: &Finding) -> &str {
    let c = &finding.concerns;
    [&c.device, &c.incident, &c.policy, &c.resource, &c.person]
        .into_iter()
        .find_map(|s| s.as_deref())
        .unwrap_or("the council")
}

fn naive(local: jiff::civil::DateTime) -> chrono::NaiveDateTime {
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::from(local.year()),
        u32::from(local.month().unsigned_abs()),
        u32::from(local.day().unsigned_abs()),
    );
    let time = chrono::NaiveTime::from_hms_opt(
        u32::from(local.hour().unsigned_abs()),
        u32::from(local.minute().unsigned_abs()),
        u32::from(local.second().unsigned_abs()),
    );
    match (date, time) {
        (Some(d), Some(t)) => d.and_time(t),
        _ => chrono::NaiveDateTime::default(),
    }
}

fn utc(at: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(at.as_second(), 0).unwrap_or_default()
}
