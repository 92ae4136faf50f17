//! Prior authorisation: what a provider asks for, what the IPA's policy answers at
//! once for each line, the legal clocks, and the review that follows.
//!
//! - [`rules`]: the per-line disposition (carve-out, no-auth service, PA list,
//!   criteria) and the auth's status from its lines.
//! - [`clock`]: when a decision is due, how long an approval is valid, when a
//!   post-stabilisation request is deemed approved, when a notification is late.
//! - [`review`]: the decisions a reviewer may take, and what the sweeper applies
//!   (deemed approvals, expiries).
//! - [`metrics`]: the figures CMS-0057-F asks payers to publish.
//!
//! The aggregate [`PriorAuth`] is plain data (serialisable for storage); every
//! change goes through a function here and leaves an entry in its history.

pub mod clock;
pub mod metrics;
pub mod review;
pub mod rules;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::codes::{Icd10, Modifier, PlaceOfService, ProcedureCode};
use crate::ids::{MemberId, Npi, OrgId, ReferenceId};

wire_enum!(
    /// Where the care happens.
    Setting { Outpatient = "outpatient", Inpatient = "inpatient" }
);

wire_enum!(
    /// What kind of service is asked for (CareSource's "category").
    Category {
        SpecialtyConsult = "specialty_consult",
        Surgery = "surgery",
        Dme = "dme",
        Imaging = "imaging",
        Therapy = "therapy",
        Injectable = "injectable",
        InpatientAdmission = "inpatient_admission",
        PostStabilization = "post_stabilization",
        InpatientNotification = "inpatient_notification",
        StandingReferral = "standing_referral",
        Other = "other",
    }
);

wire_enum!(
    /// Urgent only when waiting could seriously endanger life, health or function.
    Urgency { Routine = "routine", Urgent = "urgent" }
);

wire_enum!(
    /// Where an auth stands.
    Status {
        NotRequired = "not_required",
        Pended = "pended",
        Approved = "approved",
        PartiallyApproved = "partially_approved",
        Denied = "denied",
        Cancelled = "cancelled",
        Expired = "expired",
    }
);

wire_enum!(
    /// What the policy says about one line the moment it is submitted.
    Disposition {
        NotRequired = "not_required",
        HealthPlanAuthorizes = "health_plan_authorizes",
        CriteriaMet = "criteria_met",
        ReviewRequired = "review_required",
    }
);

impl Category {
    /// Inpatient kinds that are notifications of an admission that already
    /// happened; they carry `admitted_at`.
    pub fn is_admission_notice(self) -> bool {
        matches!(
            self,
            Category::InpatientNotification | Category::PostStabilization
        )
    }
}

impl Status {
    /// Waiting for a reviewer.
    pub fn is_open(self) -> bool {
        self == Status::Pended
    }

    /// An approval that authorises services (until it expires).
    pub fn authorises(self) -> bool {
        matches!(self, Status::Approved | Status::PartiallyApproved)
    }
}

/// One requested service line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedLine {
    pub code: ProcedureCode,
    pub modifiers: Vec<Modifier>,
    pub units: u32,
}

/// Who at the provider's office to call back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    pub extension: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
}

/// A validated prior-auth request, as the provider submitted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub member_id: MemberId,
    pub dob: Date,
    pub setting: Setting,
    pub category: Category,
    pub urgency: Urgency,
    pub urgency_reason: Option<String>,
    pub service_from: Date,
    pub service_to: Date,
    pub requesting_npi: Npi,
    pub servicing_npi: Npi,
    pub place_of_service: PlaceOfService,
    /// ICD-10 diagnoses; the first is the primary.
    pub diagnoses: Vec<Icd10>,
    pub lines: Vec<RequestedLine>,
    pub contact: Contact,
    pub admitted_at: Option<Timestamp>,
}

/// Most lines and diagnoses one request may carry.
pub const MAX_LINES: usize = 50;
pub const MAX_DIAGNOSES: usize = 12;
pub const MAX_UNITS: u32 = 9_999;

impl Request {
    /// Rules across fields, each named by the field a provider must correct.
    pub fn check(&self) -> Vec<(&'static str, Invalid)> {
        let mut problems = Vec::new();
        if self.service_to < self.service_from {
            problems.push((
                "service_to",
                Invalid::new("before_service_from", "must not be before service_from"),
            ));
        }
        if self.urgency == Urgency::Urgent
            && self
                .urgency_reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
        {
            problems.push((
                "urgency_reason",
                Invalid::new(
                    "required_for_urgent",
                    "is required when urgency is urgent: say why waiting could seriously endanger life, health or function",
                ),
            ));
        }
        if self.category.is_admission_notice() && self.admitted_at.is_none() {
            problems.push((
                "admitted_at",
                Invalid::new(
                    "required_for_notification",
                    "is required for inpatient_notification and post_stabilization",
                ),
            ));
        }
        let inpatient_only = matches!(
            self.category,
            Category::InpatientAdmission | Category::InpatientNotification
        );
        if inpatient_only && self.setting != Setting::Inpatient {
            problems.push((
                "setting",
                Invalid::new(
                    "inpatient_category",
                    "must be inpatient for inpatient_admission and inpatient_notification",
                ),
            ));
        }
        problems
    }
}

/// One line of an auth: what was asked, what the policy said, what is authorised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthLine {
    /// 1-based, in request order.
    pub line: u32,
    pub code: ProcedureCode,
    pub modifiers: Vec<Modifier>,
    pub requested_units: u32,
    /// Units authorised so far; 0 while under review or when none are.
    pub authorized_units: u32,
    pub disposition: Disposition,
    /// Plain words: why this disposition, or what the reviewer decided.
    pub reason: String,
    /// The criteria rule that approved the line, if one did.
    pub criteria_id: Option<String>,
    /// Whether the IPA authorises this line at all (false for not_required and
    /// health_plan_authorizes lines).
    pub needs_auth: bool,
}

/// Who did something: a user, or the system (the sweeper).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's subject, or `system`.
    pub subject: String,
    pub org: String,
    /// The role they acted in (`um_nurse`), or `system`.
    pub role: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            subject: "system".into(),
            org: "system".into(),
            role: "system".into(),
        }
    }
}

/// One change of an auth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub actor: Actor,
    /// `submitted`, `approved`, `partially_approved`, `pended`, `denied`,
    /// `downgraded`, `deemed_approved`, `expired`, `cancelled`,
    /// `document_added`, ...
    pub action: String,
    pub from: Option<Status>,
    pub to: Status,
    pub reason: Option<String>,
}

/// A peer-to-peer conversation the provider may ask for after a denial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerToPeer {
    pub name: String,
    pub phone: String,
}

/// The reviewer's determination, shown to the provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    pub decided_at: Timestamp,
    pub decided_by: Actor,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    /// The guideline applied (MCG, the plan's medical policy, ...).
    pub criteria: Option<String>,
    pub peer_to_peer: Option<PeerToPeer>,
    /// True when the sweeper approved it because nobody answered in time.
    pub deemed: bool,
}

/// How the request reached the IPA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Source {
    Portal,
    /// Filed by a clerk from a fax or email; `received_at` is the fax's.
    Intake {
        item_id: ReferenceId,
    },
}

/// A prior authorisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorAuth {
    pub id: ReferenceId,
    /// The requesting provider's organisation: who may see it.
    pub org: OrgId,
    pub request: Request,
    pub status: Status,
    /// The legal start of every clock.
    pub received_at: Timestamp,
    /// The urgency the clock runs on (a reviewer may downgrade the request's).
    pub urgency: Urgency,
    pub decision_due: Timestamp,
    /// When a post-stabilisation request is deemed approved if undecided.
    pub deemed_approval_at: Option<Timestamp>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// The last instant of `valid_to` in the IPA's time zone.
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
    /// The initial specialty-consult approval also covers routine follow-ups.
    pub covers_follow_ups: bool,
    /// A notification that arrived after its deadline, with the words why.
    pub late_notification: Option<String>,
    pub lines: Vec<AuthLine>,
    pub determination: Option<Determination>,
    pub source: Source,
    /// Denied, then approved on appeal (set by the disputes job); CMS-0057-F
    /// reports it.
    #[serde(default)]
    pub approved_after_appeal: bool,
    pub history: Vec<HistoryEntry>,
}

impl PriorAuth {
    /// A new auth: every line disposed of by the policy, the clocks started at
    /// `received_at` (the fax's time for an intake item; `now` otherwise), and an
    /// approval at once when every line that needs one met criteria.
    #[allow(clippy::too_many_arguments)]
    pub fn submitted(
        id: ReferenceId,
        org: OrgId,
        request: Request,
        received_at: Timestamp,
        now: Timestamp,
        source: Source,
        ctx: &rules::Context<'_>,
        coverage_end: Option<Date>,
        actor: Actor,
    ) -> PriorAuth {
        let policy = ctx.policy;
        let lines = rules::dispose_all(&request, ctx);
        let status = rules::initial_status(&lines);
        let category = request.category;
        let mut auth = PriorAuth {
            id,
            org,
            status,
            received_at,
            urgency: request.urgency,
            decision_due: clock::decision_due(received_at, request.urgency, category, policy),
            deemed_approval_at: (category == Category::PostStabilization)
                .then(|| clock::deemed_approval_at(received_at, policy)),
            valid_from: None,
            valid_to: None,
            valid_until: None,
            covers_follow_ups: false,
            late_notification: clock::late_notification(&request, received_at, policy),
            lines,
            determination: None,
            source,
            approved_after_appeal: false,
            history: Vec::new(),
            request,
        };
        if status.authorises() {
            auth.start_validity(policy, coverage_end);
            auth.determination = Some(Determination {
                decided_at: now,
                decided_by: Actor::system(),
                reason_code: Some("criteria_met".into()),
                reason: Some(
                    "Every line that needs an authorization met the IPA's criteria.".into(),
                ),
                criteria: None,
                peer_to_peer: None,
                deemed: false,
            });
        }
        let count = |d: Disposition| auth.lines.iter().filter(|l| l.disposition == d).count();
        let summary = format!(
            "{} line{}: {} criteria met, {} review required, {} not required, {} for the health plan.",
            auth.lines.len(),
            if auth.lines.len() == 1 { "" } else { "s" },
            count(Disposition::CriteriaMet),
            count(Disposition::ReviewRequired),
            count(Disposition::NotRequired),
            count(Disposition::HealthPlanAuthorizes),
        );
        auth.history.push(HistoryEntry {
            at: now,
            actor,
            action: "submitted".into(),
            from: None,
            to: status,
            reason: Some(summary),
        });
        if let Some(late) = auth.late_notification.clone() {
            auth.history.push(HistoryEntry {
                at: now,
                actor: Actor::system(),
                action: "flagged_late".into(),
                from: Some(status),
                to: status,
                reason: Some(late),
            });
        }
        auth
    }

    /// Sets the approval's validity (and whether it covers consult follow-ups).
    pub(crate) fn start_validity(
        &mut self,
        policy: &crate::policy::Policy,
        coverage_end: Option<Date>,
    ) {
        let (from, to) = clock::validity(&self.request, policy, coverage_end);
        self.valid_from = Some(from);
        self.valid_to = Some(to);
        self.valid_until =
            Some(crate::clock::Deadline::end_of_day(to, policy.time_zone()).instant());
        self.covers_follow_ups = self.request.category == Category::SpecialtyConsult
            && policy
                .prior_auth
                .specialty_consult
                .initial_auth_covers_follow_ups;
    }

    /// When the sweeper must expire the approval: the first instant after its
    /// last valid day.
    pub fn expires_at(&self) -> Option<Timestamp> {
        if !self.status.authorises() {
            return None;
        }
        self.valid_until?
            .checked_add(jiff::SignedDuration::from_nanos(1))
            .ok()
    }

    /// Records a change of status in the history.
    pub(crate) fn record(
        &mut self,
        at: Timestamp,
        actor: Actor,
        action: &str,
        to: Status,
        reason: Option<String>,
    ) {
        let from = Some(self.status);
        self.status = to;
        self.history.push(HistoryEntry {
            at,
            actor,
            action: action.into(),
            from,
            to,
            reason,
        });
    }

    /// Whether a decision is overdue at `now` (open and past its due time).
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && now > self.decision_due
    }

    /// Whether the auth authorises `code` on `date` (approved, in its validity,
    /// with units on that line), for the claims edit.
    pub fn authorised_line(&self, code: ProcedureCode, date: Date) -> Option<&AuthLine> {
        if !self.status.authorises() {
            return None;
        }
        let in_window =
            self.valid_from.is_some_and(|f| f <= date) && self.valid_to.is_some_and(|t| date <= t);
        if !in_window {
            return None;
        }
        self.lines
            .iter()
            .find(|l| l.code == code && l.authorized_units > 0)
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A request and a policy the tests of this module share.

    use super::*;
    use crate::policy::Policy;

    pub const POLICY: &str = r#"
[ipa]
id = "sunrise"
name = "Sunrise IPA"
timezone = "America/Los_Angeles"
[contacts]
um_phone = "657-555-0100"
um_fax = "855-555-0101"
claims_email = "c@example.test"
dispute_mailing_address = "PO Box 1"
expedited_appeal_fax = "855-555-0103"
[calendar]
holidays = ["2026-11-26", "2026-11-27", "2026-12-25"]
[prior_auth]
pa_required_codes = ["72125-72159", "97110-97546", "27447", "E0100-E8002", "J0120-J9999", "90785-90899"]
specialty_consult = { initial_auth_covers_follow_ups = false, own_auth_codes = ["99215"] }
[[prior_auth.criteria]]
id = "mri-lumbar-radiculopathy"
title = "MRI lumbar spine for radiculopathy"
codes = ["72148", "72149", "72158"]
diagnoses = ["M54.10-M54.18", "M51.16", "M51.17"]
max_units = 1
places_of_service = ["11", "22"]
servicing_in_network = true
[[plans]]
id = "MCAL-1"
name = "Test Medi-Cal"
health_plan = "Test Health Plan"
line_of_business = "medi_cal"
[[plans.carve_outs]]
service = "specialty_mental_health"
description = "Specialty mental health services"
codes = ["90785-90899"]
financially_responsible = "health_plan"
authorizes = "health_plan"
phone = "800-555-0110"
"#;

    pub fn policy() -> Policy {
        Policy::from_toml(POLICY, "test").unwrap()
    }

    pub fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    pub fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    pub fn line(code: &str, units: u32) -> RequestedLine {
        RequestedLine {
            code: ProcedureCode::parse(code).unwrap(),
            modifiers: vec![],
            units,
        }
    }

    /// Outpatient lumbar MRI for radiculopathy, routine.
    pub fn mri_request() -> Request {
        Request {
            member_id: MemberId::parse("SUN100001").unwrap(),
            dob: date("1984-03-15"),
            setting: Setting::Outpatient,
            category: Category::Imaging,
            urgency: Urgency::Routine,
            urgency_reason: None,
            service_from: date("2026-12-01"),
            service_to: date("2026-12-31"),
            requesting_npi: Npi::parse("1234567893").unwrap(),
            servicing_npi: Npi::parse("1003000126").unwrap(),
            place_of_service: PlaceOfService::parse("22").unwrap(),
            diagnoses: vec![Icd10::parse("M54.16").unwrap()],
            lines: vec![line("72148", 1)],
            contact: Contact {
                name: "Front desk".into(),
                phone: "657-555-0199".into(),
                extension: None,
                fax: None,
                email: None,
            },
            admitted_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde() {
        for c in Category::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap().as_str().unwrap(),
                c.as_str()
            );
            assert_eq!(Category::parse(c.as_str()).unwrap(), *c);
        }
        for s in Status::ALL {
            assert_eq!(
                serde_json::to_value(s).unwrap().as_str().unwrap(),
                s.as_str()
            );
        }
        for d in Disposition::ALL {
            assert_eq!(
                serde_json::to_value(d).unwrap().as_str().unwrap(),
                d.as_str()
            );
        }
        let err = Urgency::parse("asap").unwrap_err();
        assert_eq!(err.message, "must be one of routine, urgent");
    }

    #[test]
    fn cross_field_rules_name_the_field_to_correct() {
        let mut r = mri_request();
        assert!(r.check().is_empty());
        r.service_to = date("2026-11-30");
        r.urgency = Urgency::Urgent;
        r.category = Category::InpatientNotification;
        let fields: Vec<_> = r.check().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["service_to", "urgency_reason", "admitted_at", "setting"]
        );
        r.urgency_reason = Some("  ".into());
        assert!(r.check().iter().any(|(f, _)| *f == "urgency_reason"));
    }
}
