//! Money is integer pence. Events carry amounts as decimal strings in pounds
//! ("100", "99.5", "12.34") so that no float ever touches a claim.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An amount of money in pence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pence(pub i64);

/// Why a string is not an amount in pounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an amount in pounds: expected digits with at most two decimal places, e.g. \"100\" or \"49.99\""
)]
pub struct BadAmount(pub String);

impl FromStr for Pence {
    type Err = BadAmount;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAmount(s.to_owned());
        let (pounds, pence) = match s.split_once('.') {
            Some((p, f)) if (1..=2).contains(&f.len()) => (p, f),
            Some(_) => return Err(bad()),
            None => (s, ""),
        };
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if pounds.is_empty() || !all_digits(pounds) || !all_digits(pence) {
            return Err(bad());
        }
        let pounds: i64 = pounds.parse().map_err(|_| bad())?;
        let pence: i64 = match pence.len() {
            0 => 0,
            1 => pence.parse::<i64>().map_err(|_| bad())? * 10,
            _ => pence.parse().map_err(|_| bad())?,
        };
        pounds
            .checked_mul(100)
            .and_then(|p| p.checked_add(pence))
            .map(Pence)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Pence {
    /// Pounds with two decimals and the pound sign, as a council writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "£{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Pence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{:02}", self.0 / 100, self.0 % 100))
    }
}

impl<'de> Deserialize<'de> for Pence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pounds_and_pence() {
        assert_eq!("100".parse(), Ok(Pence(10_000)));
        assert_eq!("99.5".parse(), Ok(Pence(9_950)));
        assert_eq!("0.07".parse(), Ok(Pence(7)));
        assert_eq!("12.34".parse(), Ok(Pence(1_234)));
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for bad in [
            "",
            ".5",
            "1.234",
            "-5",
            "1e3",
            "£5",
            "1,000",
            "5.",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<Pence>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn displays_as_pounds() {
        assert_eq!(Pence(10_005).to_string(), "£100.05");
    }
}
