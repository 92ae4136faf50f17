//! Provider disputes, appeals and grievances: which filings the rules accept,
//! and every clock that starts with one.
//!
//! - **pdr** (provider dispute resolution): a claim payment or denial contested
//!   (paid less than the contract, bundling, down-coding, level of care).
//! - **appeal**: an adverse medical-necessity determination, on a prior auth or a
//!   claim, before or after the service.
//! - **grievance**: a claim issue without a medical-necessity question; its
//!   decision is final.
//!
//! The window to file runs `disputes.filing_window_days` calendar days from the
//! remittance date (ProCare) or the last determination (CalOptima); the
//! acknowledgement is due in `acknowledge_working_days_electronic` (2) or
//! `_paper` (15) working days, the decision in `decision_working_days` (45), all
//! from the receipt (the fax's time for a paper filing). After the decision the
//! provider may go to the member's health plan within `second_level_days` (180).

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::clock::{Deadline, add_calendar_days, local_date};
use crate::money::Money;
use crate::policy::{FilingWindowStart, Policy};

pub mod report;
pub mod review;

pub use review::{Dispute, Request, SubjectRef};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),* }
            }

            pub fn parse(s: &str) -> Result<$name, Invalid> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s.trim())
                    .ok_or_else(|| Invalid::owned(
                        "invalid_value",
                        format!("must be one of {}", [$($wire),*].join(", ")),
                    ))
            }
        }
    };
}

wire_enum!(
    /// What kind of filing (EmblemHealth's separation).
    Kind { Pdr = "pdr", Appeal = "appeal", Grievance = "grievance" }
);

wire_enum!(
    /// Why the provider disputes.
    ReasonCategory {
        /// Paid less than the contract (or than Original Medicare would pay).
        Underpayment = "underpayment",
        /// Codes combined into one payment.
        Bundling = "bundling",
        /// A code paid at a lower level than billed.
        DownCoding = "down_coding",
        /// Inpatient or observation, or another level of care.
        LevelOfCare = "level_of_care",
        /// The claim was denied (not for medical necessity).
        ClaimDenial = "claim_denial",
        /// An adverse medical-necessity determination.
        MedicalNecessity = "medical_necessity",
        /// A claim issue that is not a payment amount (billing, coordination of
        /// benefits, member liability, ...).
        ClaimIssue = "claim_issue",
        /// A corrected claim: never a dispute (resubmit it, frequency 7).
        CorrectedClaim = "corrected_claim",
        Other = "other",
    }
);

wire_enum!(
    /// How the filing arrived: through the API, or on paper (fax, mail, email
    /// through intake). The acknowledgement clock differs.
    Channel { Electronic = "electronic", Paper = "paper" }
);

wire_enum!(
    /// Where a dispute stands.
    Status {
        Received = "received",
        Acknowledged = "acknowledged",
        InReview = "in_review",
        Decided = "decided",
        Closed = "closed",
    }
);

wire_enum!(
    /// The determination.
    Outcome {
        /// The original decision stands.
        Upheld = "upheld",
        /// The provider is right.
        Overturned = "overturned",
        PartiallyOverturned = "partially_overturned",
    }
);

impl Kind {
    /// Grievance decisions are final at the IPA; the others may go to a second
    /// level at the member's health plan.
    pub fn has_second_level(self) -> bool {
        !matches!(self, Kind::Grievance)
    }
}

/// What a filing is about, as the rules need to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A claim, with the date of its last determination (when it was accepted,
    /// rejected or decided) if it has one, and whether a line was denied for
    /// medical necessity.
    Claim {
        last_determination: Option<Date>,
        medical_necessity_denial: bool,
    },
    /// A prior auth, with the date of its determination and whether it was
    /// adverse (denied or partially approved).
    PriorAuth {
        last_determination: Option<Date>,
        adverse: bool,
    },
}

/// A filing as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filing {
    pub kind: Kind,
    pub reason_category: ReasonCategory,
    pub subject: Subject,
    pub amount_disputed: Option<Money>,
    /// The date of the remittance advice (payment disputes).
    pub remittance_date: Option<Date>,
    pub expedited: bool,
    pub channel: Channel,
    pub received_at: Timestamp,
}

/// Why a filing is refused, each with the words the provider reads. The
/// handler maps them: `Invalid` to 400 (a field to correct), the others to 422.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Fields to correct, each named.
    Invalid(Vec<(&'static str, Invalid)>),
    /// Expedited appeals are not taken through the portal: fax them.
    ExpeditedByFaxOnly { fax: String },
    /// A corrected claim is a resubmission, not a dispute.
    CorrectedClaim,
    /// Filed after the window closed.
    Late {
        rule: String,
        start: Date,
        deadline: Date,
    },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Invalid(_) => "invalid",
            Refusal::ExpeditedByFaxOnly { .. } => "expedited_by_fax_only",
            Refusal::CorrectedClaim => "corrected_claim",
            Refusal::Late { .. } => "filing_window_closed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Invalid(_) => "The filing has fields to correct.".into(),
            Refusal::ExpeditedByFaxOnly { fax } => format!(
                "Expedited appeals are not accepted here: fax the appeal and the clinical records to {fax}."
            ),
            Refusal::CorrectedClaim => "A corrected claim is not a dispute: resubmit the claim as a replacement (frequency 7) with original_claim_id.".into(),
            Refusal::Late { rule, start, deadline } => format!(
                "Filed too late: {rule}; the window started on {start} and closed on {deadline}."
            ),
        }
    }
}

/// When the window to file opens and closes, and the rule that says so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: Date,
    /// The last day a filing is on time.
    pub deadline: Date,
    pub rule: String,
}

/// The clocks of an accepted filing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clocks {
    pub window: Window,
    pub acknowledge_due: Timestamp,
    pub decision_due: Timestamp,
}

/// The refusals that need nothing but the request: a corrected claim, and an
/// expedited appeal where the portal takes none. Checked before the subject is
/// even read, so the provider learns where to go at once.
pub fn screen(
    kind: Kind,
    reason_category: ReasonCategory,
    expedited: bool,
    policy: &Policy,
) -> Result<(), Refusal> {
    if reason_category == ReasonCategory::CorrectedClaim {
        return Err(Refusal::CorrectedClaim);
    }
    if kind == Kind::Appeal && expedited && !policy.disputes.expedited_appeals_on_portal {
        return Err(Refusal::ExpeditedByFaxOnly {
            fax: expedited_fax(policy),
        });
    }
    Ok(())
}

fn expedited_fax(policy: &Policy) -> String {
    policy
        .contacts
        .expedited_appeal_fax
        .clone()
        .unwrap_or_else(|| policy.contacts.um_fax.clone())
}

/// Checks `filing` against the IPA's rules and starts its clocks.
pub fn accept(filing: &Filing, policy: &Policy) -> Result<Clocks, Refusal> {
    let rules = &policy.disputes;
    if filing.reason_category == ReasonCategory::CorrectedClaim {
        return Err(Refusal::CorrectedClaim);
    }
    let mut problems: Vec<(&'static str, Invalid)> = Vec::new();
    match (filing.kind, &filing.subject) {
        (Kind::Pdr | Kind::Grievance, Subject::PriorAuth { .. }) => problems.push((
            "prior_auth_id",
            Invalid::new(
                "claim_required",
                "provider disputes and grievances are about a claim: give claim_id (an adverse prior-auth decision is an appeal)",
            ),
        )),
        (Kind::Appeal, Subject::PriorAuth { adverse: false, .. }) => problems.push((
            "prior_auth_id",
            Invalid::new(
                "not_adverse",
                "an appeal is of an adverse determination: this auth was not denied or reduced",
            ),
        )),
        (Kind::Appeal, Subject::Claim { medical_necessity_denial: false, .. }) => problems.push((
            "kind",
            Invalid::new(
                "not_medical_necessity",
                "this claim was not denied for medical necessity: file a pdr (payment or denial) or a grievance",
            ),
        )),
        (Kind::Grievance, _) if filing.reason_category == ReasonCategory::MedicalNecessity => {
            problems.push((
                "reason_category",
                Invalid::new(
                    "medical_necessity_is_an_appeal",
                    "a medical-necessity question is an appeal, not a grievance",
                ),
            ))
        }
        _ => {}
    }
    if filing.expedited && filing.kind != Kind::Appeal {
        problems.push((
            "expedited",
            Invalid::new("appeals_only", "only appeals can be expedited"),
        ));
    }
    if filing.amount_disputed.is_some_and(|a| a.cents() <= 0) {
        problems.push((
            "amount_disputed",
            Invalid::new("not_positive", "must be more than zero"),
        ));
    }
    let payment = filing.kind == Kind::Pdr
        && matches!(
            filing.reason_category,
            ReasonCategory::Underpayment
                | ReasonCategory::Bundling
                | ReasonCategory::DownCoding
                | ReasonCategory::LevelOfCare
        );
    if payment && filing.amount_disputed.is_none() {
        problems.push((
            "amount_disputed",
            Invalid::new(
                "required_for_payment_dispute",
                "is required for a payment dispute: the amount you contend is owed",
            ),
        ));
    }
    let from_remittance = rules.filing_window_from == FilingWindowStart::RemittanceDate;
    if filing.kind == Kind::Pdr && from_remittance && filing.remittance_date.is_none() {
        problems.push((
            "remittance_date",
            Invalid::new(
                "required",
                "is required: the window to file counts from the remittance notification date",
            ),
        ));
    }
    let today = local_date(filing.received_at, policy.time_zone());
    if filing.remittance_date.is_some_and(|d| d > today) {
        problems.push((
            "remittance_date",
            Invalid::new(
                "in_the_future",
                "must not be after the day the filing is received",
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(Refusal::Invalid(problems));
    }
    if filing.expedited && !rules.expedited_appeals_on_portal {
        return Err(Refusal::ExpeditedByFaxOnly {
            fax: expedited_fax(policy),
        });
    }

    let window = window(filing, policy, today);
    if today > window.deadline {
        return Err(Refusal::Late {
            rule: window.rule,
            start: window.start,
            deadline: window.deadline,
        });
    }
    let tz = policy.time_zone();
    let calendar = policy.calendar();
    let ack_days = match filing.channel {
        Channel::Electronic => rules.acknowledge_working_days_electronic,
        Channel::Paper => rules.acknowledge_working_days_paper,
    };
    Ok(Clocks {
        window,
        acknowledge_due: Deadline::working_days_after(filing.received_at, ack_days, calendar, tz)
            .instant(),
        decision_due: Deadline::working_days_after(
            filing.received_at,
            rules.decision_working_days,
            calendar,
            tz,
        )
        .instant(),
    })
}

/// The window to file. A filing whose start date is unknown (a claim never
/// determined) is on time: nothing has started its clock.
fn window(filing: &Filing, policy: &Policy, today: Date) -> Window {
    let rules = &policy.disputes;
    let days = rules.filing_window_days;
    let last_determination = match &filing.subject {
        Subject::Claim {
            last_determination, ..
        }
        | Subject::PriorAuth {
            last_determination, ..
        } => *last_determination,
    };
    let (start, what) = match rules.filing_window_from {
        // Appeals and grievances count from the determination even at an IPA that
        // counts payment disputes from the remittance.
        FilingWindowStart::RemittanceDate if filing.kind == Kind::Pdr => {
            (filing.remittance_date, "the remittance notification date")
        }
        _ => (last_determination, "the last determination"),
    };
    let start = start.unwrap_or(today);
    Window {
        start,
        deadline: add_calendar_days(start, days),
        rule: format!("{days} calendar days from {what}"),
    }
}

/// Where and by when the provider may take a decided dispute further.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondLevel {
    /// The member's health plan.
    pub to: String,
    /// The last day to file there.
    pub by: Date,
    pub instructions: String,
}

/// The second level a decision offers: `second_level_days` calendar days from
/// the decision, at the member's health plan. Grievances have none.
pub fn second_level(
    kind: Kind,
    decided_at: Timestamp,
    health_plan: &str,
    policy: &Policy,
) -> Option<SecondLevel> {
    if !kind.has_second_level() {
        return None;
    }
    let days = policy.disputes.second_level_days;
    let by = add_calendar_days(local_date(decided_at, policy.time_zone()), days);
    Some(SecondLevel {
        to: health_plan.to_owned(),
        by,
        instructions: format!(
            "If you disagree with this decision, you may request a second-level review directly with the member's health plan, {health_plan}, within {days} days (by {by})."
        ),
    })
}

/// Whether an open dispute is overdue at `now`: unacknowledged past its
/// acknowledgement, or undecided past its decision.
pub fn overdue(
    status: Status,
    acknowledge_due: Timestamp,
    decision_due: Timestamp,
    now: Timestamp,
) -> Option<&'static str> {
    match status {
        Status::Received if now > acknowledge_due => Some("acknowledgement_overdue"),
        Status::Received | Status::Acknowledged | Status::InReview if now > decision_due => {
            Some("decision_overdue")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROCARE: &str = include_str!("../../../infra/ipas/sunrise.toml");
    const CALOPTIMA: &str = include_str!("../../../infra/ipas/harbor.toml");

    fn policy(text: &str) -> Policy {
        Policy::from_toml(text, "test").unwrap()
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn pdr(remittance: &str, received: &str) -> Filing {
        Filing {
            kind: Kind::Pdr,
            reason_category: ReasonCategory::Underpayment,
            subject: Subject::Claim {
                last_determination: Some(d("2026-01-05")),
                medical_necessity_denial: false,
            },
            amount_disputed: Some(Money::from_cents(12_500)),
            remittance_date: Some(d(remittance)),
            expedited: false,
            channel: Channel::Electronic,
            received_at: ts(received),
        }
    }

    #[test]
    fn procare_counts_120_days_from_the_remittance() {
        let p = policy(PROCARE);
        // Remittance 2 Jan 2026: the window closes 2 May 2026 (120 days later).
        let on_time = accept(&pdr("2026-01-02", "2026-05-02T20:00:00Z"), &p).unwrap();
        assert_eq!(on_time.window.start, d("2026-01-02"));
        assert_eq!(on_time.window.deadline, d("2026-05-02"));
        let late = accept(&pdr("2026-01-02", "2026-05-03T17:00:00Z"), &p).unwrap_err();
        assert_eq!(
            late,
            Refusal::Late {
                rule: "120 calendar days from the remittance notification date".into(),
                start: d("2026-01-02"),
                deadline: d("2026-05-02"),
            }
        );
        assert_eq!(
            late.message(),
            "Filed too late: 120 calendar days from the remittance notification date; the window started on 2026-01-02 and closed on 2026-05-02."
        );
    }

    #[test]
    fn the_window_ends_at_local_midnight_not_utc() {
        let p = policy(PROCARE);
        // 23:30 Pacific on the deadline is 07:30 UTC the next day: still on time.
        assert!(accept(&pdr("2026-01-02", "2026-05-03T06:30:00Z"), &p).is_ok());
        assert!(matches!(
            accept(&pdr("2026-01-02", "2026-05-03T07:30:00Z"), &p),
            Err(Refusal::Late { .. })
        ));
    }

    #[test]
    fn caloptima_counts_365_days_from_the_last_determination_across_a_leap_year() {
        let p = policy(CALOPTIMA);
        let mut f = pdr("2027-03-01", "2028-02-29T18:00:00Z");
        f.subject = Subject::Claim {
            last_determination: Some(d("2027-03-01")),
            medical_necessity_denial: false,
        };
        // 2027-03-01 + 365 days = 2028-02-29 (2028 is a leap year).
        let ok = accept(&f, &p).unwrap();
        assert_eq!(ok.window.deadline, d("2028-02-29"));
        assert_eq!(
            ok.window.rule,
            "365 calendar days from the last determination"
        );
        f.received_at = ts("2028-03-01T18:00:00Z");
        assert!(matches!(accept(&f, &p), Err(Refusal::Late { .. })));
    }

    #[test]
    fn acknowledgement_and_decision_clocks_count_working_days_past_holidays() {
        let p = policy(PROCARE);
        // Received Tuesday 24 Nov 2026 (electronic): Thanksgiving Thu/Fri off;
        // 2 working days -> Monday 30 Nov; 45 working days -> Tuesday 2 Feb 2027
        // (Christmas, New Year and MLK day off).
        let clocks = accept(&pdr("2026-11-01", "2026-11-24T18:00:00Z"), &p).unwrap();
        assert_eq!(
            local_date(clocks.acknowledge_due, p.time_zone()),
            d("2026-11-30")
        );
        assert_eq!(
            local_date(clocks.decision_due, p.time_zone()),
            d("2027-02-02")
        );
        // Paper: 15 working days.
        let mut paper = pdr("2026-11-01", "2026-11-24T18:00:00Z");
        paper.channel = Channel::Paper;
        let clocks = accept(&paper, &p).unwrap();
        assert_eq!(
            local_date(clocks.acknowledge_due, p.time_zone()),
            d("2026-12-17")
        );
    }

    #[test]
    fn a_month_end_receipt_on_a_friday_is_acknowledged_on_tuesday() {
        let p = policy(PROCARE);
        // Friday 31 July 2026.
        let clocks = accept(&pdr("2026-07-01", "2026-07-31T20:00:00Z"), &p).unwrap();
        assert_eq!(
            local_date(clocks.acknowledge_due, p.time_zone()),
            d("2026-08-04")
        );
    }

    #[test]
    fn expedited_appeals_go_by_fax_and_corrected_claims_are_resubmissions() {
        let p = policy(PROCARE);
        let appeal = Filing {
            kind: Kind::Appeal,
            reason_category: ReasonCategory::MedicalNecessity,
            subject: Subject::PriorAuth {
                last_determination: Some(d("2026-11-20")),
                adverse: true,
            },
            amount_disputed: None,
            remittance_date: None,
            expedited: true,
            channel: Channel::Electronic,
            received_at: ts("2026-11-24T18:00:00Z"),
        };
        let refused = accept(&appeal, &p).unwrap_err();
        assert_eq!(
            refused,
            Refusal::ExpeditedByFaxOnly {
                fax: "855-555-0103".into()
            }
        );
        assert!(refused.message().contains("855-555-0103"));
        let standard = Filing {
            expedited: false,
            ..appeal.clone()
        };
        assert!(accept(&standard, &p).is_ok());
        let mut corrected = pdr("2026-11-01", "2026-11-24T18:00:00Z");
        corrected.reason_category = ReasonCategory::CorrectedClaim;
        let r = accept(&corrected, &p).unwrap_err();
        assert_eq!(r.code(), "corrected_claim");
        assert!(r.message().contains("frequency 7"));
    }

    #[test]
    fn corrected_claims_and_expedited_appeals_are_screened_before_the_subject_is_read() {
        let p = policy(PROCARE);
        assert_eq!(
            screen(Kind::Pdr, ReasonCategory::CorrectedClaim, false, &p),
            Err(Refusal::CorrectedClaim)
        );
        assert_eq!(
            screen(Kind::Appeal, ReasonCategory::MedicalNecessity, true, &p),
            Err(Refusal::ExpeditedByFaxOnly {
                fax: "855-555-0103".into()
            })
        );
        assert_eq!(
            screen(Kind::Appeal, ReasonCategory::MedicalNecessity, false, &p),
            Ok(())
        );
        // A grievance marked expedited is a field to correct, found later.
        assert_eq!(
            screen(Kind::Grievance, ReasonCategory::ClaimIssue, true, &p),
            Ok(())
        );
    }

    #[test]
    fn the_kind_must_fit_the_subject() {
        let p = policy(PROCARE);
        let fields = |f: &Filing| -> Vec<&str> {
            match accept(f, &p) {
                Err(Refusal::Invalid(problems)) => problems.into_iter().map(|(f, _)| f).collect(),
                other => panic!("{other:?}"),
            }
        };
        let mut on_auth = pdr("2026-11-01", "2026-11-24T18:00:00Z");
        on_auth.subject = Subject::PriorAuth {
            last_determination: None,
            adverse: true,
        };
        assert_eq!(fields(&on_auth), vec!["prior_auth_id"]);
        let mut appeal_of_approval = pdr("2026-11-01", "2026-11-24T18:00:00Z");
        appeal_of_approval.kind = Kind::Appeal;
        appeal_of_approval.subject = Subject::PriorAuth {
            last_determination: None,
            adverse: false,
        };
        assert_eq!(fields(&appeal_of_approval), vec!["prior_auth_id"]);
        let mut grievance = pdr("2026-11-01", "2026-11-24T18:00:00Z");
        grievance.kind = Kind::Grievance;
        grievance.reason_category = ReasonCategory::MedicalNecessity;
        grievance.expedited = true;
        assert_eq!(fields(&grievance), vec!["reason_category", "expedited"]);
        let mut no_amount = pdr("2026-11-01", "2026-11-24T18:00:00Z");
        no_amount.amount_disputed = None;
        no_amount.remittance_date = None;
        assert_eq!(
            fields(&no_amount),
            vec!["amount_disputed", "remittance_date"]
        );
    }

    #[test]
    fn decisions_point_to_the_health_plan_within_180_days_except_grievances() {
        let p = policy(PROCARE);
        let decided = ts("2026-12-01T19:00:00Z");
        let second = second_level(Kind::Pdr, decided, "Golden State Health Plan", &p).unwrap();
        assert_eq!(second.by, d("2027-05-30"));
        assert!(second.instructions.contains("Golden State Health Plan"));
        assert!(
            second
                .instructions
                .contains("within 180 days (by 2027-05-30)")
        );
        assert_eq!(second_level(Kind::Grievance, decided, "x", &p), None);
    }

    #[test]
    fn overdue_work_is_named() {
        let ack = ts("2026-11-30T07:59:59Z");
        let decide = ts("2027-02-02T07:59:59Z");
        assert_eq!(
            overdue(Status::Received, ack, decide, ts("2026-11-29T00:00:00Z")),
            None
        );
        assert_eq!(
            overdue(Status::Received, ack, decide, ts("2026-12-01T00:00:00Z")),
            Some("acknowledgement_overdue")
        );
        assert_eq!(
            overdue(Status::InReview, ack, decide, ts("2027-03-01T00:00:00Z")),
            Some("decision_overdue")
        );
        assert_eq!(
            overdue(Status::Decided, ack, decide, ts("2027-03-01T00:00:00Z")),
            None
        );
    }
}
