//! The legal clocks of a prior auth, all from `received_at` (the fax's or
//! portal's receipt time) through the regulatory clock in [`crate::clock`].

use jiff::Timestamp;
use jiff::civil::Date;

use crate::clock::{Deadline, add_calendar_days};
use crate::policy::Policy;

use super::{Category, Request, Urgency};

/// When the decision is due:
/// - urgent: `urgent_decision_hours` (72) after receipt;
/// - routine: `routine_decision_working_days` (5) working days, never over
///   `routine_decision_max_calendar_days` (14) calendar days (CA H&S 1367.01);
/// - post-stabilisation: `post_stabilization_deemed_approved_minutes` (60), when
///   it is deemed approved if nobody answered (42 CFR 422.113).
pub fn decision_due(
    received_at: Timestamp,
    urgency: Urgency,
    category: Category,
    policy: &Policy,
) -> Timestamp {
    let pa = &policy.prior_auth;
    if category == Category::PostStabilization {
        return deemed_approval_at(received_at, policy);
    }
    match urgency {
        Urgency::Urgent => Deadline::hours_after(received_at, pa.urgent_decision_hours).instant(),
        Urgency::Routine => {
            let tz = policy.time_zone();
            Deadline::working_days_after(
                received_at,
                pa.routine_decision_working_days,
                policy.calendar(),
                tz,
            )
            .earliest(Deadline::calendar_days_after(
                received_at,
                pa.routine_decision_max_calendar_days,
                tz,
            ))
            .instant()
        }
    }
}

/// When an undecided post-stabilisation request is deemed approved.
pub fn deemed_approval_at(received_at: Timestamp, policy: &Policy) -> Timestamp {
    let minutes = i64::from(policy.prior_auth.post_stabilization_deemed_approved_minutes);
    received_at
        .checked_add(jiff::SignedDuration::from_mins(minutes))
        .unwrap_or(Timestamp::MAX)
}

/// The days an approval is good for: `validity_days` (90; standing referrals
/// `standing_referral_validity_days`) from the first date of service, and never
/// past the end of the member's coverage (`coverage_end`, the last covered day).
pub fn validity(request: &Request, policy: &Policy, coverage_end: Option<Date>) -> (Date, Date) {
    let pa = &policy.prior_auth;
    let days = if request.category == Category::StandingReferral {
        pa.standing_referral_validity_days
    } else {
        pa.validity_days
    };
    let from = request.service_from;
    let mut to = add_calendar_days(from, days.saturating_sub(1));
    if let Some(end) = coverage_end {
        to = to.min(end);
    }
    (from, to.max(from))
}

/// Why an admission notice is late, when it is: received more than
/// `inpatient_notification_hours` (24) after the admission.
pub fn late_notification(
    request: &Request,
    received_at: Timestamp,
    policy: &Policy,
) -> Option<String> {
    if !request.category.is_admission_notice() {
        return None;
    }
    let admitted = request.admitted_at?;
    let hours = policy.prior_auth.inpatient_notification_hours;
    let due = Deadline::hours_after(admitted, hours);
    if due.is_met_by(received_at) {
        return None;
    }
    let waited = received_at.duration_since(admitted).as_hours();
    Some(format!(
        "Late notification: received {waited} hours after the admission; notifications are due within {hours} hours."
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn urgent_requests_are_due_in_72_hours() {
        let p = policy();
        let at = ts("2026-11-25T22:30:00Z");
        assert_eq!(
            decision_due(at, Urgency::Urgent, Category::Imaging, &p),
            ts("2026-11-28T22:30:00Z")
        );
    }

    #[test]
    fn routine_requests_skip_weekends_and_holidays() {
        let p = policy();
        // Wednesday 25 November 2026, 10:00 Pacific; Thanksgiving Thursday and
        // Friday are holidays: the 5th working day is Friday 4 December.
        let at = ts("2026-11-25T18:00:00Z");
        let due = decision_due(at, Urgency::Routine, Category::Imaging, &p);
        assert_eq!(
            due,
            ts("2026-12-05T07:59:59.999999999Z"),
            "end of 4 Dec, Pacific"
        );
    }

    #[test]
    fn routine_requests_never_take_over_14_calendar_days() {
        let mut p = policy();
        p.prior_auth.routine_decision_working_days = 15;
        let at = ts("2026-12-01T18:00:00Z");
        let due = decision_due(at, Urgency::Routine, Category::Imaging, &p);
        assert_eq!(due, ts("2026-12-16T07:59:59.999999999Z"), "end of 15 Dec");
    }

    #[test]
    fn post_stabilisation_is_due_when_it_would_be_deemed_approved() {
        let p = policy();
        let at = ts("2026-11-25T03:10:00Z");
        assert_eq!(
            decision_due(at, Urgency::Urgent, Category::PostStabilization, &p),
            ts("2026-11-25T04:10:00Z")
        );
    }

    #[test]
    fn approvals_last_90_days_from_the_first_date_of_service_within_coverage() {
        let p = policy();
        let r = mri_request();
        assert_eq!(
            validity(&r, &p, None),
            (date("2026-12-01"), date("2027-02-28"))
        );
        assert_eq!(
            validity(&r, &p, Some(date("2026-12-31"))),
            (date("2026-12-01"), date("2026-12-31"))
        );
        let mut standing = r.clone();
        standing.category = Category::StandingReferral;
        assert_eq!(validity(&standing, &p, None).1, date("2027-11-30"));
    }

    #[test]
    fn notifications_after_24_hours_are_flagged_late() {
        let p = policy();
        let mut r = mri_request();
        r.category = Category::InpatientNotification;
        r.admitted_at = Some(ts("2026-11-24T02:00:00Z"));
        assert_eq!(late_notification(&r, ts("2026-11-25T02:00:00Z"), &p), None);
        assert_eq!(
            late_notification(&r, ts("2026-11-25T09:00:00Z"), &p).as_deref(),
            Some(
                "Late notification: received 31 hours after the admission; notifications are due within 24 hours."
            )
        );
        r.category = Category::Imaging;
        assert_eq!(late_notification(&r, ts("2026-11-30T09:00:00Z"), &p), None);
    }
}
