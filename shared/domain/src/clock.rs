//! The regulatory clock: every due date in the system is computed here.
//!
//! Rules count in calendar days (dispute filing windows), working days (dispute
//! acknowledgement and decision, clinical documents), or hours (urgent prior-auth
//! decisions, post-stabilisation, inpatient notification). A working day is Monday to
//! Friday and not one of the IPA's holidays. Day-based deadlines end at the end of the
//! due day in the IPA's time zone; hour-based deadlines are exact instants.

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

/// The IPA's working days: Monday to Friday minus its holidays.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<Date>,
}

impl WorkCalendar {
    pub fn new(holidays: impl IntoIterator<Item = Date>) -> Self {
        WorkCalendar {
            holidays: holidays.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.holidays.contains(&d)
    }

    /// The `n`th working day after `from` (`from` itself never counts, whether or not
    /// it is a working day). `n = 0` is `from`. A request received on a Friday with 2
    /// working days to acknowledge is due the next Tuesday.
    pub fn add_working_days(&self, from: Date, n: u32) -> Date {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => return Date::MAX,
            }
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// How many working days lie after `from` up to and including `to`
    /// (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count = 0;
        let mut d = from;
        while d < to {
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
            if self.is_working_day(d) {
                count += 1;
            }
        }
        count
    }
}

/// `from` plus `n` calendar days (saturating at the last representable date).
pub fn add_calendar_days(from: Date, n: u32) -> Date {
    from.checked_add(Span::new().days(i64::from(n)))
        .unwrap_or(Date::MAX)
}

/// `from` plus `n` hours of elapsed time (not wall-clock hours: a daylight-saving
/// change does not stretch a 24-hour clock).
pub fn add_hours(from: Timestamp, n: u32) -> Timestamp {
    from.checked_add(SignedDuration::from_hours(i64::from(n)))
        .unwrap_or(Timestamp::MAX)
}

/// The calendar date of an instant in the IPA's time zone: a fax received at
/// 23:30 Pacific on the 3rd was received on the 3rd, not on the 4th (UTC).
pub fn local_date(at: Timestamp, tz: &TimeZone) -> Date {
    at.to_zoned_datetime(tz.clone()).date()
}

/// The last instant at which something is still on time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Timestamp);

impl Deadline {
    /// A deadline at an exact instant (hour-based rules).
    pub fn at(instant: Timestamp) -> Deadline {
        Deadline(instant)
    }

    /// The end of `date` in `tz`: the instant just before the next local midnight.
    pub fn end_of_day(date: Date, tz: &TimeZone) -> Deadline {
        let next_midnight = date
            .tomorrow()
            .ok()
            .and_then(|next| next.to_zoned_datetime(tz.clone()).ok())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX);
        Deadline(
            next_midnight
                .checked_sub(SignedDuration::from_nanos(1))
                .unwrap_or(next_midnight),
        )
    }

    /// `n` hours after `from`.
    pub fn hours_after(from: Timestamp, n: u32) -> Deadline {
        Deadline(add_hours(from, n))
    }

    /// The end of the `n`th working day after the local date of `from`.
    pub fn working_days_after(
        from: Timestamp,
        n: u32,
        calendar: &WorkCalendar,
        tz: &TimeZone,
    ) -> Deadline {
        Deadline::end_of_day(calendar.add_working_days(local_date(from, tz), n), tz)
    }

    /// The end of the `n`th calendar day after the local date of `from`.
    pub fn calendar_days_after(from: Timestamp, n: u32, tz: &TimeZone) -> Deadline {
        Deadline::end_of_day(add_calendar_days(local_date(from, tz), n), tz)
    }

    /// Is an action taken at `at` on time?
    pub fn is_met_by(&self, at: Timestamp) -> bool {
        at <= self.0
    }

    pub fn instant(&self) -> Timestamp {
        self.0
    }

    /// The earlier of two deadlines (e.g. "5 working days, never over 14 calendar days").
    pub fn earliest(self, other: Deadline) -> Deadline {
        self.min(other)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(y: i16, m: i8, d: i8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    fn pacific() -> TimeZone {
        TimeZone::get("America/Los_Angeles").unwrap()
    }

    #[test]
    fn friday_plus_two_working_days_is_tuesday() {
        let cal = WorkCalendar::default();
        assert_eq!(
            cal.add_working_days(date(2026, 11, 20), 2),
            date(2026, 11, 24)
        );
    }

    #[test]
    fn holidays_are_skipped() {
        // Thanksgiving 2026 is Thursday 26 November; the IPA also closes the Friday.
        let cal = WorkCalendar::new([date(2026, 11, 26), date(2026, 11, 27)]);
        assert_eq!(
            cal.add_working_days(date(2026, 11, 25), 1),
            date(2026, 11, 30)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 11, 24), 2),
            date(2026, 11, 30)
        );
    }

    #[test]
    fn receipt_on_a_weekend_counts_from_monday() {
        let cal = WorkCalendar::default();
        assert_eq!(
            cal.add_working_days(date(2026, 11, 21), 1),
            date(2026, 11, 23)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 11, 21), 0),
            date(2026, 11, 21)
        );
    }

    #[test]
    fn forty_five_working_days_with_holidays() {
        // A dispute received Monday 2 November 2026 with Thanksgiving (26th, 27th) and
        // Christmas (25 December) off: 45 working days later is 8 January 2027.
        let cal = WorkCalendar::new([
            date(2026, 11, 26),
            date(2026, 11, 27),
            date(2026, 12, 25),
            date(2027, 1, 1),
        ]);
        assert_eq!(
            cal.add_working_days(date(2026, 11, 2), 45),
            date(2027, 1, 8)
        );
    }

    #[test]
    fn day_deadlines_end_at_local_midnight() {
        let tz = pacific();
        let due = Deadline::end_of_day(date(2026, 3, 10), &tz);
        let last_minute: Timestamp = "2026-03-11T06:59:00Z".parse().unwrap(); // 23:59 PDT
        let next_day: Timestamp = "2026-03-11T07:00:00Z".parse().unwrap(); // 00:00 PDT
        assert!(due.is_met_by(last_minute));
        assert!(!due.is_met_by(next_day));
    }

    #[test]
    fn receipt_date_is_local() {
        // 23:30 Pacific on 3 March is 07:30 UTC on the 4th.
        let received: Timestamp = "2026-03-04T07:30:00Z".parse().unwrap();
        assert_eq!(local_date(received, &pacific()), date(2026, 3, 3));
        let due = Deadline::working_days_after(received, 2, &WorkCalendar::default(), &pacific());
        assert_eq!(local_date(due.instant(), &pacific()), date(2026, 3, 5));
    }

    #[test]
    fn hour_clocks_ignore_daylight_saving() {
        // 72 hours across the spring-forward night are still 72 elapsed hours.
        let asked: Timestamp = "2026-03-07T18:00:00Z".parse().unwrap();
        let due = Deadline::hours_after(asked, 72);
        assert_eq!(
            due.instant(),
            "2026-03-10T18:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(due.is_met_by(due.instant()));
        assert!(
            !due.is_met_by(
                due.instant()
                    .checked_add(SignedDuration::from_secs(1))
                    .unwrap()
            )
        );
    }

    #[test]
    fn earliest_picks_the_tighter_rule() {
        // Routine prior auth: 5 working days, never over 14 calendar days.
        let tz = pacific();
        let cal = WorkCalendar::new((20..=31).map(|d| date(2026, 12, d)));
        let asked: Timestamp = "2026-12-18T17:00:00Z".parse().unwrap();
        let working = Deadline::working_days_after(asked, 5, &cal, &tz);
        let calendar = Deadline::calendar_days_after(asked, 14, &tz);
        assert_eq!(working.earliest(calendar), calendar);
    }

    fn arb_date() -> impl Strategy<Value = Date> {
        (0i64..40_000).prop_map(|n| date(1990, 1, 1).checked_add(Span::new().days(n)).unwrap())
    }

    fn arb_calendar() -> impl Strategy<Value = WorkCalendar> {
        // Up to 60 holidays, all near the start dates so they matter.
        prop::collection::vec(0i64..41_000, 0..60).prop_map(|ns| {
            WorkCalendar::new(
                ns.into_iter()
                    .map(|n| date(1990, 1, 1).checked_add(Span::new().days(n)).unwrap()),
            )
        })
    }

    proptest! {
        #[test]
        fn working_days_never_land_on_a_weekend_or_holiday(cal in arb_calendar(), from in arb_date(), n in 1u32..400) {
            let due = cal.add_working_days(from, n);
            prop_assert!(cal.is_working_day(due));
            prop_assert!(due > from);
        }

        #[test]
        fn working_days_are_strictly_monotonic_in_n(cal in arb_calendar(), from in arb_date(), n in 0u32..300, extra in 1u32..50) {
            prop_assert!(cal.add_working_days(from, n) < cal.add_working_days(from, n + extra));
        }

        #[test]
        fn counting_back_gives_n(cal in arb_calendar(), from in arb_date(), n in 0u32..300) {
            let due = cal.add_working_days(from, n);
            prop_assert_eq!(cal.working_days_between(from, due), n);
        }

        #[test]
        fn working_days_take_at_least_as_long_as_calendar_days(cal in arb_calendar(), from in arb_date(), n in 0u32..300) {
            prop_assert!(cal.add_working_days(from, n) >= add_calendar_days(from, n));
        }

        #[test]
        fn calendar_days_add_exactly(from in arb_date(), n in 0u32..5000) {
            let to = add_calendar_days(from, n);
            prop_assert_eq!(from.until(to).unwrap().get_days() as u32, n);
        }

        #[test]
        fn day_deadline_covers_the_whole_local_day(d in arb_date()) {
            let tz = pacific();
            let due = Deadline::end_of_day(d, &tz);
            let start = d.to_zoned_datetime(tz.clone()).unwrap().timestamp();
            let next = d.tomorrow().unwrap().to_zoned_datetime(tz.clone()).unwrap().timestamp();
            prop_assert!(due.is_met_by(start));
            prop_assert!(!due.is_met_by(next));
            prop_assert_eq!(local_date(due.instant(), &tz), d);
        }

        #[test]
        fn hour_deadlines_are_exact(secs in 0i64..4_000_000_000, n in 0u32..10_000) {
            let from = Timestamp::from_second(secs).unwrap();
            let due = Deadline::hours_after(from, n);
            prop_assert_eq!(due.instant().as_second() - secs, i64::from(n) * 3600);
        }
    }
}
