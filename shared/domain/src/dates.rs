//! Calendar dates as the API writes them: `YYYY-MM-DD`, nothing else.

use jiff::civil::Date;

use crate::Invalid;

/// Parses exactly `YYYY-MM-DD` into a real calendar date (`2026-02-30` is refused).
pub fn parse_date(s: &str) -> Result<Date, Invalid> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Invalid::required());
    }
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(Invalid::new(
            "invalid_date",
            "must be a date written YYYY-MM-DD",
        ));
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i16>().unwrap_or(0);
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    if !(1900..=2199).contains(&y) {
        return Err(Invalid::new(
            "invalid_date",
            "year must be between 1900 and 2199",
        ));
    }
    Date::new(y, m as i8, d as i8)
        .map_err(|_| Invalid::new("invalid_date", "is not a real calendar date"))
}

/// Serde support for `Date` fields that must be written `YYYY-MM-DD` (policy files,
/// rosters). Use with `#[serde(with = "mso_domain::dates::iso")]`.
pub mod iso {
    use jiff::civil::Date;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_date(&s)
            .map_err(|e| serde::de::Error::custom(format!("{e} (write dates as \"YYYY-MM-DD\")")))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_real_dates_only() {
        assert_eq!(
            parse_date("2026-02-28").unwrap(),
            Date::new(2026, 2, 28).unwrap()
        );
        assert_eq!(
            parse_date("2028-02-29").unwrap(),
            Date::new(2028, 2, 29).unwrap()
        );
        assert_eq!(parse_date("2026-02-30").unwrap_err().code, "invalid_date");
        assert_eq!(parse_date("2026-13-01").unwrap_err().code, "invalid_date");
        assert_eq!(parse_date("").unwrap_err().code, "required");
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "20260228",
            "2026-2-28",
            "02/28/2026",
            "2026-02-28T00:00",
            "+2026-02-28",
            "2026-02-2a",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,16}") {
            let _ = parse_date(&s);
        }

        #[test]
        fn round_trips_every_real_date(days in 0i32..100_000) {
            let d = Date::new(1900, 1, 1).unwrap().checked_add(jiff::Span::new().days(days)).unwrap();
            prop_assume!(d.year() <= 2199);
            prop_assert_eq!(parse_date(&d.to_string()).unwrap(), d);
        }
    }
}
