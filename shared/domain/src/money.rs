//! Money in whole cents. Never floating point.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// An amount in US cents. Serialised as an integer number of cents.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Parses a decimal dollar amount as X12 and claim forms write it: `125`,
    /// `125.5`, `125.50`, `-10.00`. More than two decimals is refused, not rounded.
    pub fn parse_dollars(s: &str) -> Result<Money, Invalid> {
        const BAD: Invalid = Invalid::new(
            "invalid_amount",
            "must be a dollar amount with at most two decimals (125.50)",
        );
        let s = s.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && frac.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || (digits.contains('.') && frac.is_empty())
        {
            return Err(BAD);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| BAD)?
        };
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| BAD)? * 10,
            _ => frac.parse().map_err(|_| BAD)?,
        };
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(frac))
            .ok_or(BAD)?;
        Ok(Money(if negative { -cents } else { cents }))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_dollar_amounts_exactly() {
        assert_eq!(Money::parse_dollars("125").unwrap().cents(), 12500);
        assert_eq!(Money::parse_dollars("125.5").unwrap().cents(), 12550);
        assert_eq!(Money::parse_dollars("0.07").unwrap().cents(), 7);
        assert_eq!(Money::parse_dollars(".5").unwrap().cents(), 50);
        assert_eq!(Money::parse_dollars("-10.00").unwrap().cents(), -1000);
        for bad in [
            "",
            ".",
            "1.234",
            "1,000",
            "12a",
            "1.",
            "--1",
            "99999999999999999999",
        ] {
            assert!(Money::parse_dollars(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_with_two_decimals() {
        assert_eq!(Money::from_cents(12550).to_string(), "125.50");
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(cents in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_cents(cents);
            prop_assert_eq!(Money::parse_dollars(&m.to_string()).unwrap(), m);
        }
    }
}
