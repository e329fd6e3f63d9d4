//! Durations as a pack writes them: "48h", "72 hours", "12 months",
//! "3 years", "5 working days", "same day". Each kind means a different
//! arithmetic (see `Calendar::deadline`), so the kind is kept, not flattened
//! into seconds.

use std::fmt;
use std::str::FromStr;

/// How long a clock runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duration {
    /// Elapsed hours: weekends, nights and clock changes all count.
    Hours(u32),
    /// Calendar days, weeks, months or years in the pack's time zone, keeping
    /// the trigger's local wall-clock time and clamping at month end.
    Calendar { amount: u32, unit: CalendarUnit },
    /// Working days counted from the day after the trigger, skipping weekends
    /// and bank holidays; ends at 24:00 local of the last one.
    WorkingDays(u32),
    /// By 24:00 local time on the day of the trigger.
    SameDay,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalendarUnit {
    Days,
    Weeks,
    Months,
    Years,
}

/// Why a string is not a duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a duration: expected e.g. \"48h\", \"72 hours\", \"12 months\", \"3 years\", \"5 working days\" or \"same day\""
)]
pub struct BadDuration(pub String);

impl FromStr for Duration {
    type Err = BadDuration;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadDuration(s.to_owned());
        let text = s.trim();
        if text == "same day" {
            return Ok(Duration::SameDay);
        }
        if let Some(hours) = text.strip_suffix('h').filter(|h| !h.contains(' ')) {
            return positive(hours).map(Duration::Hours).ok_or_else(bad);
        }
        let (number, unit) = text.split_once(' ').ok_or_else(bad)?;
        let amount = positive(number).ok_or_else(bad)?;
        let calendar = |unit| Ok(Duration::Calendar { amount, unit });
        match unit.trim() {
            "hour" | "hours" => Ok(Duration::Hours(amount)),
            "day" | "days" => calendar(CalendarUnit::Days),
            "week" | "weeks" => calendar(CalendarUnit::Weeks),
            "month" | "months" => calendar(CalendarUnit::Months),
            "year" | "years" => calendar(CalendarUnit::Years),
            "working day" | "working days" => Ok(Duration::WorkingDays(amount)),
            _ => Err(bad()),
        }
    }
}

/// A whole number from 1 up, written in digits.
fn positive(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n > 0)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32, one: &str| {
            if n == 1 {
                one.to_owned()
            } else {
                format!("{one}s")
            }
        };
        match *self {
            Duration::Hours(h) => write!(f, "{h} {}", plural(h, "hour")),
            Duration::Calendar { amount, unit } => {
                let one = match unit {
                    CalendarUnit::Days => "day",
                    CalendarUnit::Weeks => "week",
                    CalendarUnit::Months => "month",
                    CalendarUnit::Years => "year",
                };
                write!(f, "{amount} {}", plural(amount, one))
            }
            Duration::WorkingDays(n) => write!(f, "{n} working {}", plural(n, "day")),
            Duration::SameDay => f.write_str("same day"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind() {
        assert_eq!("48h".parse(), Ok(Duration::Hours(48)));
        assert_eq!("72 hours".parse(), Ok(Duration::Hours(72)));
        assert_eq!(
            "12 months".parse(),
            Ok(Duration::Calendar {
                amount: 12,
                unit: CalendarUnit::Months
            })
        );
        assert_eq!(
            "1 year".parse(),
            Ok(Duration::Calendar {
                amount: 1,
                unit: CalendarUnit::Years
            })
        );
        assert_eq!("5 working days".parse(), Ok(Duration::WorkingDays(5)));
        assert_eq!("same day".parse(), Ok(Duration::SameDay));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in [
            "",
            "48",
            "h",
            "0h",
            "-3 days",
            "twelve months",
            "3 fortnights",
            "1.5 years",
            "5 workingdays",
        ] {
            assert!(
                bad.parse::<Duration>().is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn displays_as_written() {
        for text in [
            "48 hours",
            "1 month",
            "3 years",
            "5 working days",
            "same day",
        ] {
            let d: Duration = text.parse().expect("valid");
            assert_eq!(d.to_string(), text);
        }
    }
}
