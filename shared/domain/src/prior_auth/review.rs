//! What may happen to an auth after it is submitted: a reviewer's decision, a
//! provider's cancellation, and what the sweeper applies when clocks run out.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::Invalid;
use crate::policy::Policy;

use super::clock::decision_due;
use super::{Actor, AuthLine, Determination, Disposition, PeerToPeer, PriorAuth, Status, Urgency};

/// What a reviewer does with a pended auth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Approve,
    PartiallyApprove,
    Pend,
    Deny,
    Downgrade,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Approve,
        Action::PartiallyApprove,
        Action::Pend,
        Action::Deny,
        Action::Downgrade,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::PartiallyApprove => "partially_approve",
            Action::Pend => "pend",
            Action::Deny => "deny",
            Action::Downgrade => "downgrade",
        }
    }

    pub fn parse(s: &str) -> Result<Action, Invalid> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or(Invalid::new(
                "invalid_value",
                "must be one of approve, partially_approve, pend, deny, downgrade",
            ))
    }
}

/// Who reviews: a nurse may approve, partially approve, pend and downgrade; only
/// a physician (the medical director) may deny, a whole auth or a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reviewer {
    Nurse,
    Physician,
}

/// Units a reviewer authorises on one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineUnits {
    pub line: u32,
    pub authorized_units: u32,
}

/// A reviewer's decision as submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub lines: Vec<LineUnits>,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub criteria: Option<String>,
    pub peer_to_peer: Option<PeerToPeer>,
}

/// Why a decision cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// Only pended auths are decided (409).
    #[error("the auth is {} and can no longer be decided", .0.as_str())]
    NotOpen(Status),
    /// Denials (of an auth or of a line) are a physician's (403).
    #[error("only a medical director may deny a request or a line")]
    DenialNeedsPhysician,
    /// The decision itself is incomplete or inconsistent; every field named (400).
    #[error("the decision is incomplete")]
    Invalid(Vec<(String, Invalid)>),
}

fn required(text: &Option<String>) -> bool {
    text.as_deref().is_some_and(|t| !t.trim().is_empty())
}

/// Applies `decision` to a pended auth. `coverage_end` is the last day of the
/// member's coverage (approvals never outlive it).
pub fn decide(
    auth: &mut PriorAuth,
    decision: &Decision,
    reviewer: Reviewer,
    actor: Actor,
    now: Timestamp,
    policy: &Policy,
    coverage_end: Option<Date>,
) -> Result<(), DecisionError> {
    if !auth.status.is_open() {
        return Err(DecisionError::NotOpen(auth.status));
    }
    let mut problems: Vec<(String, Invalid)> = Vec::new();
    let mut need = |ok: bool, field: &str, message: &'static str| {
        if !ok {
            problems.push((field.to_string(), Invalid::new("required", message)));
        }
    };
    match decision.action {
        Action::Deny => {
            if reviewer != Reviewer::Physician {
                return Err(DecisionError::DenialNeedsPhysician);
            }
            need(
                required(&decision.reason_code),
                "reason_code",
                "is required for a denial",
            );
            need(
                required(&decision.reason),
                "reason",
                "is required for a denial: the provider reads it",
            );
            need(
                required(&decision.criteria),
                "criteria",
                "is required for a denial: name the guideline applied (e.g. MCG)",
            );
            need(
                decision
                    .peer_to_peer
                    .as_ref()
                    .is_some_and(|p| !p.name.trim().is_empty() && !p.phone.trim().is_empty()),
                "peer_to_peer",
                "is required for a denial: a name and phone for a peer-to-peer discussion",
            );
        }
        Action::PartiallyApprove => {
            need(
                !decision.lines.is_empty(),
                "lines",
                "is required for a partial approval",
            );
            need(
                required(&decision.reason),
                "reason",
                "is required for a partial approval: the provider reads it",
            );
        }
        Action::Pend => need(
            required(&decision.reason),
            "reason",
            "is required: say what the review is waiting for",
        ),
        Action::Downgrade => {
            need(
                required(&decision.reason),
                "reason",
                "is required: say why the request is not urgent",
            );
            if auth.urgency != Urgency::Urgent {
                problems.push((
                    "action".into(),
                    Invalid::new(
                        "not_urgent",
                        "only an urgent request can be downgraded to routine",
                    ),
                ));
            }
        }
        Action::Approve => {}
    }
    // Units per pended line, checked against what was asked.
    let mut units: Vec<(usize, u32)> = Vec::new();
    for (i, given) in decision.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        match auth.lines.iter().position(|l| l.line == given.line) {
            None => problems.push((
                field("line"),
                Invalid::new("unknown_line", "is not a line of this auth"),
            )),
            Some(at) if auth.lines[at].disposition != Disposition::ReviewRequired => {
                problems.push((
                    field("line"),
                    Invalid::new(
                        "line_not_under_review",
                        "was not under review; only pended lines are decided",
                    ),
                ))
            }
            Some(at) if given.authorized_units > auth.lines[at].requested_units => problems.push((
                field("authorized_units"),
                Invalid::new("more_than_requested", "must not exceed the requested units"),
            )),
            Some(at) if units.iter().any(|(u, _)| *u == at) => problems.push((
                field("line"),
                Invalid::new("duplicate_line", "is listed twice"),
            )),
            Some(at) => units.push((at, given.authorized_units)),
        }
    }
    if decision.action == Action::Approve
        && units
            .iter()
            .any(|(at, n)| *n < auth.lines[*at].requested_units)
    {
        problems.push((
            "lines".into(),
            Invalid::new(
                "fewer_units_than_requested",
                "approve authorises every requested unit; use partially_approve to authorise fewer",
            ),
        ));
    }
    if decision.action == Action::PartiallyApprove
        && !units.is_empty()
        && units
            .iter()
            .all(|(at, n)| *n == auth.lines[*at].requested_units)
    {
        problems.push((
            "lines".into(),
            Invalid::new(
                "nothing_partial",
                "authorises every requested unit: use approve",
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(DecisionError::Invalid(problems));
    }
    if decision.action == Action::PartiallyApprove
        && reviewer == Reviewer::Nurse
        && units.iter().any(|(_, n)| *n == 0)
    {
        // Authorising no unit of a line denies it.
        return Err(DecisionError::DenialNeedsPhysician);
    }

    let reason = decision.reason.clone().filter(|r| !r.trim().is_empty());
    match decision.action {
        Action::Pend => {
            auth.record(now, actor, "pended", Status::Pended, reason);
            return Ok(());
        }
        Action::Downgrade => {
            auth.urgency = Urgency::Routine;
            auth.decision_due = decision_due(
                auth.received_at,
                Urgency::Routine,
                auth.request.category,
                policy,
            );
            auth.record(now, actor, "downgraded", Status::Pended, reason);
            return Ok(());
        }
        Action::Approve | Action::PartiallyApprove | Action::Deny => {}
    }
    for line in auth
        .lines
        .iter_mut()
        .filter(|l| l.disposition == Disposition::ReviewRequired)
    {
        let at_units = decision
            .lines
            .iter()
            .find(|g| g.line == line.line)
            .map(|g| g.authorized_units);
        line.authorized_units = match decision.action {
            Action::Deny => 0,
            _ => at_units.unwrap_or(line.requested_units),
        };
        line.reason = line_reason(line, decision);
    }
    let to = final_status(&auth.lines);
    if to.authorises() {
        auth.start_validity(policy, coverage_end);
    }
    auth.determination = Some(Determination {
        decided_at: now,
        decided_by: actor.clone(),
        reason_code: decision.reason_code.clone(),
        reason: reason.clone(),
        criteria: decision.criteria.clone(),
        peer_to_peer: decision.peer_to_peer.clone(),
        deemed: false,
    });
    auth.record(now, actor, to.as_str(), to, reason);
    Ok(())
}

fn line_reason(line: &AuthLine, decision: &Decision) -> String {
    let units = |n: u32| format!("{n} unit{}", if n == 1 { "" } else { "s" });
    match (decision.action, line.authorized_units) {
        (_, 0) => format!(
            "Denied after review{}.",
            decision
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        (_, n) if n == line.requested_units => {
            format!("Approved after review for {}.", units(n))
        }
        (_, n) => format!(
            "Partially approved after review: {} of {} requested.",
            units(n),
            line.requested_units
        ),
    }
}

/// The status an auth's decided lines add up to.
fn final_status(lines: &[AuthLine]) -> Status {
    let needing: Vec<&AuthLine> = lines.iter().filter(|l| l.needs_auth).collect();
    if needing
        .iter()
        .all(|l| l.authorized_units == l.requested_units)
    {
        Status::Approved
    } else if needing.iter().any(|l| l.authorized_units > 0) {
        Status::PartiallyApproved
    } else {
        Status::Denied
    }
}

/// Approves an undecided post-stabilisation request whose answer time ran out
/// (42 CFR 422.113): the IPA is responsible for the care as if it had approved.
/// Returns whether anything changed.
pub fn deem_approved(
    auth: &mut PriorAuth,
    now: Timestamp,
    policy: &Policy,
    coverage_end: Option<Date>,
) -> bool {
    let due = match auth.deemed_approval_at {
        Some(at) if auth.status.is_open() && now >= at => at,
        _ => return false,
    };
    for line in auth
        .lines
        .iter_mut()
        .filter(|l| l.disposition == Disposition::ReviewRequired)
    {
        line.authorized_units = line.requested_units;
        line.reason = "Deemed approved: the IPA did not answer in time.".into();
    }
    auth.start_validity(policy, coverage_end);
    let minutes = policy.prior_auth.post_stabilization_deemed_approved_minutes;
    let reason = format!(
        "Deemed approved: no decision within {minutes} minutes of the request (due {due}; 42 CFR 422.113)."
    );
    auth.determination = Some(Determination {
        decided_at: now,
        decided_by: Actor::system(),
        reason_code: Some("deemed_approval".into()),
        reason: Some(reason.clone()),
        criteria: None,
        peer_to_peer: None,
        deemed: true,
    });
    auth.record(
        now,
        Actor::system(),
        "deemed_approved",
        Status::Approved,
        Some(reason),
    );
    true
}

/// Expires an approval whose last valid day has passed (in the IPA's time zone).
pub fn expire(auth: &mut PriorAuth, now: Timestamp) -> bool {
    match (auth.expires_at(), auth.valid_to) {
        (Some(at), Some(until)) if now >= at => {
            auth.record(
                now,
                Actor::system(),
                "expired",
                Status::Expired,
                Some(format!("The authorization was valid through {until}.")),
            );
            true
        }
        _ => false,
    }
}

/// Why a provider may not cancel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the auth is {} and cannot be cancelled", .0.as_str())]
pub struct NotCancellable(pub Status);

/// The provider withdraws a request (pended) or an approval they will not use.
pub fn cancel(
    auth: &mut PriorAuth,
    actor: Actor,
    now: Timestamp,
    reason: Option<String>,
) -> Result<(), NotCancellable> {
    if !(auth.status.is_open() || auth.status.authorises()) {
        return Err(NotCancellable(auth.status));
    }
    auth.record(now, actor, "cancelled", Status::Cancelled, reason);
    Ok(())
}

/// An appeal of the auth's adverse determination was decided for the provider
/// (the disputes job, in the appeal's own transaction). Wholly overturned:
/// every requested unit of the lines that need an auth is authorised and the
/// approval's validity starts, as a reviewer's approval would. Partially
/// overturned: the determination the appeal names stands for UM to issue; the
/// auth says so in its history. Either way CMS-0057-F counts it as approved
/// after appeal. Returns whether anything changed (false when the auth is not
/// denied or partially approved, e.g. it expired meanwhile).
#[allow(clippy::too_many_arguments)]
pub fn appeal_overturned(
    auth: &mut PriorAuth,
    appeal: &crate::ids::ReferenceId,
    wholly: bool,
    actor: Actor,
    now: Timestamp,
    policy: &Policy,
    coverage_end: Option<Date>,
) -> bool {
    if !matches!(auth.status, Status::Denied | Status::PartiallyApproved) {
        return false;
    }
    auth.approved_after_appeal = true;
    if !wholly {
        let status = auth.status;
        auth.record(
            now,
            actor,
            "appeal_partially_overturned",
            status,
            Some(format!(
                "Appeal {appeal} partially overturned the determination; UM issues the units its decision names."
            )),
        );
        return true;
    }
    let reason = format!("The determination was overturned on appeal {appeal}.");
    for line in auth.lines.iter_mut().filter(|l| l.needs_auth) {
        line.authorized_units = line.requested_units;
        line.reason = format!("Approved on appeal {appeal}.");
    }
    auth.start_validity(policy, coverage_end);
    auth.determination = Some(Determination {
        decided_at: now,
        decided_by: actor.clone(),
        reason_code: Some("overturned_on_appeal".into()),
        reason: Some(reason.clone()),
        criteria: None,
        peer_to_peer: None,
        deemed: false,
    });
    auth.record(
        now,
        actor,
        "approved_on_appeal",
        Status::Approved,
        Some(reason),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::rules::Context;
    use super::super::{Category, PriorAuth, Request, Source};
    use super::*;
    use crate::ids::{OrgId, RecordKind, ReferenceId};

    fn nurse() -> Actor {
        Actor {
            subject: "nurse-1".into(),
            org: "sunrise".into(),
            role: "um_nurse".into(),
        }
    }

    fn submitted(request: Request) -> PriorAuth {
        let policy = policy();
        let ctx = Context {
            policy: &policy,
            plan: &policy.plans[0],
            assigned_pcp: None,
            servicing: None,
            member_age: 40,
        };
        PriorAuth::submitted(
            ReferenceId::from_entropy(RecordKind::PriorAuth, b"abcdef").unwrap(),
            OrgId::parse("sunrise-fm").unwrap(),
            request,
            ts("2026-11-23T17:00:00Z"),
            ts("2026-11-23T17:00:00Z"),
            Source::Portal,
            &ctx,
            None,
            Actor {
                subject: "u".into(),
                org: "sunrise-fm".into(),
                role: "provider_user".into(),
            },
        )
    }

    /// Two lines under review (the servicing provider is unknown, so no criteria).
    fn pended() -> PriorAuth {
        let mut r = mri_request();
        r.lines = vec![line("72148", 1), line("97110", 12)];
        let auth = submitted(r);
        assert_eq!(auth.status, Status::Pended);
        auth
    }

    fn decision(action: Action) -> Decision {
        Decision {
            action,
            lines: vec![],
            reason_code: None,
            reason: None,
            criteria: None,
            peer_to_peer: None,
        }
    }

    fn denial() -> Decision {
        Decision {
            reason_code: Some("not_medically_necessary".into()),
            reason: Some("Conservative therapy not yet tried for 6 weeks.".into()),
            criteria: Some("MCG A-0140".into()),
            peer_to_peer: Some(PeerToPeer {
                name: "Dr. Reyes".into(),
                phone: "657-555-0100".into(),
            }),
            ..decision(Action::Deny)
        }
    }

    fn now() -> Timestamp {
        ts("2026-11-24T17:00:00Z")
    }

    #[test]
    fn a_nurse_approves_every_requested_unit_and_sets_validity() {
        let mut a = pended();
        decide(
            &mut a,
            &decision(Action::Approve),
            Reviewer::Nurse,
            nurse(),
            now(),
            &policy(),
            None,
        )
        .unwrap();
        assert_eq!(a.status, Status::Approved);
        assert_eq!(a.lines[1].authorized_units, 12);
        assert_eq!(a.lines[1].reason, "Approved after review for 12 units.");
        assert_eq!(
            (a.valid_from, a.valid_to),
            (Some(date("2026-12-01")), Some(date("2027-02-28")))
        );
        let last = a.history.last().unwrap();
        assert_eq!(
            (last.action.as_str(), last.from, last.to),
            ("approved", Some(Status::Pended), Status::Approved)
        );
        assert_eq!(last.actor.role, "um_nurse");
        assert_eq!(
            a.determination.as_ref().unwrap().decided_by.subject,
            "nurse-1"
        );
    }

    #[test]
    fn a_partial_approval_authorises_fewer_units_with_a_reason() {
        let mut a = pended();
        let partial = Decision {
            lines: vec![LineUnits {
                line: 2,
                authorized_units: 6,
            }],
            reason: Some("6 visits, then re-evaluate.".into()),
            ..decision(Action::PartiallyApprove)
        };
        decide(
            &mut a,
            &partial,
            Reviewer::Nurse,
            nurse(),
            now(),
            &policy(),
            None,
        )
        .unwrap();
        assert_eq!(a.status, Status::PartiallyApproved);
        assert_eq!(
            a.lines[0].authorized_units, 1,
            "unlisted pended lines are approved in full"
        );
        assert_eq!(
            a.lines[1].reason,
            "Partially approved after review: 6 units of 12 requested."
        );
    }

    #[test]
    fn only_a_physician_denies_and_a_denial_says_why_and_how_to_talk() {
        let mut a = pended();
        assert_eq!(
            decide(
                &mut a,
                &denial(),
                Reviewer::Nurse,
                nurse(),
                now(),
                &policy(),
                None
            ),
            Err(DecisionError::DenialNeedsPhysician)
        );
        // A nurse cannot deny a line by authorising none of it either.
        let zero = Decision {
            lines: vec![LineUnits {
                line: 2,
                authorized_units: 0,
            }],
            reason: Some("x".into()),
            ..decision(Action::PartiallyApprove)
        };
        assert_eq!(
            decide(
                &mut a,
                &zero,
                Reviewer::Nurse,
                nurse(),
                now(),
                &policy(),
                None
            ),
            Err(DecisionError::DenialNeedsPhysician)
        );
        let Err(DecisionError::Invalid(missing)) = decide(
            &mut a,
            &decision(Action::Deny),
            Reviewer::Physician,
            nurse(),
            now(),
            &policy(),
            None,
        ) else {
            panic!()
        };
        let fields: Vec<_> = missing.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["reason_code", "reason", "criteria", "peer_to_peer"]
        );
        assert_eq!(a.status, Status::Pended, "nothing changed");
        decide(
            &mut a,
            &denial(),
            Reviewer::Physician,
            nurse(),
            now(),
            &policy(),
            None,
        )
        .unwrap();
        assert_eq!(a.status, Status::Denied);
        assert!(a.lines.iter().all(|l| l.authorized_units == 0));
        assert_eq!(a.valid_to, None);
        let d = a.determination.as_ref().unwrap();
        assert_eq!(d.criteria.as_deref(), Some("MCG A-0140"));
        assert_eq!(d.peer_to_peer.as_ref().unwrap().phone, "657-555-0100");
    }

    #[test]
    fn a_decided_auth_cannot_be_decided_again() {
        let mut a = pended();
        decide(
            &mut a,
            &decision(Action::Approve),
            Reviewer::Nurse,
            nurse(),
            now(),
            &policy(),
            None,
        )
        .unwrap();
        assert_eq!(
            decide(
                &mut a,
                &decision(Action::Approve),
                Reviewer::Nurse,
                nurse(),
                now(),
                &policy(),
                None
            ),
            Err(DecisionError::NotOpen(Status::Approved))
        );
        let mut c = pended();
        cancel(&mut c, nurse(), now(), None).unwrap();
        assert_eq!(
            decide(
                &mut c,
                &denial(),
                Reviewer::Physician,
                nurse(),
                now(),
                &policy(),
                None
            ),
            Err(DecisionError::NotOpen(Status::Cancelled))
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let mut a = pended();
        let d = Decision {
            lines: vec![
                LineUnits {
                    line: 9,
                    authorized_units: 1,
                },
                LineUnits {
                    line: 2,
                    authorized_units: 13,
                },
            ],
            reason: Some("x".into()),
            ..decision(Action::PartiallyApprove)
        };
        let Err(DecisionError::Invalid(p)) =
            decide(&mut a, &d, Reviewer::Nurse, nurse(), now(), &policy(), None)
        else {
            panic!()
        };
        let fields: Vec<_> = p.iter().map(|(f, i)| (f.as_str(), i.code)).collect();
        assert_eq!(
            fields,
            [
                ("lines[0].line", "unknown_line"),
                ("lines[1].authorized_units", "more_than_requested")
            ]
        );
        let fewer = Decision {
            lines: vec![LineUnits {
                line: 2,
                authorized_units: 3,
            }],
            ..decision(Action::Approve)
        };
        let Err(DecisionError::Invalid(p)) = decide(
            &mut a,
            &fewer,
            Reviewer::Nurse,
            nurse(),
            now(),
            &policy(),
            None,
        ) else {
            panic!()
        };
        assert_eq!(p[0].1.code, "fewer_units_than_requested");
    }

    #[test]
    fn downgrading_recomputes_the_clock_from_receipt() {
        let mut r = mri_request();
        r.urgency = Urgency::Urgent;
        r.urgency_reason = Some("pain".into());
        r.lines = vec![line("97110", 12)];
        let mut a = submitted(r);
        assert_eq!(a.decision_due, ts("2026-11-26T17:00:00Z"), "72 hours");
        let d = Decision {
            reason: Some("Stable; no risk to life or function in the standard timeframe.".into()),
            ..decision(Action::Downgrade)
        };
        decide(&mut a, &d, Reviewer::Nurse, nurse(), now(), &policy(), None).unwrap();
        assert_eq!(a.urgency, Urgency::Routine);
        assert_eq!(a.status, Status::Pended);
        // Received Monday 23 Nov; Thanksgiving Thu/Fri off: the 5th working day
        // is Wednesday 2 Dec (end of day, Pacific).
        assert_eq!(a.decision_due, ts("2026-12-03T07:59:59.999999999Z"));
        assert_eq!(a.history.last().unwrap().action, "downgraded");
        let Err(DecisionError::Invalid(p)) =
            decide(&mut a, &d, Reviewer::Nurse, nurse(), now(), &policy(), None)
        else {
            panic!()
        };
        assert_eq!(p[0].1.code, "not_urgent");
    }

    #[test]
    fn post_stabilisation_is_deemed_approved_when_nobody_answers() {
        let mut r = mri_request();
        r.category = Category::PostStabilization;
        r.setting = super::super::Setting::Inpatient;
        r.admitted_at = Some(ts("2026-11-23T15:00:00Z"));
        let mut a = submitted(r);
        assert_eq!(a.status, Status::Pended);
        assert_eq!(a.deemed_approval_at, Some(ts("2026-11-23T18:00:00Z")));
        assert!(!deem_approved(
            &mut a,
            ts("2026-11-23T17:59:59Z"),
            &policy(),
            None
        ));
        assert!(deem_approved(
            &mut a,
            ts("2026-11-23T18:00:30Z"),
            &policy(),
            None
        ));
        assert_eq!(a.status, Status::Approved);
        assert!(a.determination.as_ref().unwrap().deemed);
        assert_eq!(a.history.last().unwrap().actor.role, "system");
        assert!(
            !deem_approved(&mut a, ts("2026-11-23T19:00:00Z"), &policy(), None),
            "once"
        );
    }

    #[test]
    fn approvals_expire_after_their_last_valid_day() {
        let mut a = pended();
        decide(
            &mut a,
            &decision(Action::Approve),
            Reviewer::Nurse,
            nurse(),
            now(),
            &policy(),
            None,
        )
        .unwrap();
        // Valid through 28 Feb 2027, Pacific.
        assert_eq!(a.expires_at(), Some(ts("2027-03-01T08:00:00Z")));
        assert!(!expire(&mut a, ts("2027-03-01T07:59:00Z")));
        assert!(expire(&mut a, ts("2027-03-01T08:00:00Z")));
        assert_eq!(a.expires_at(), None);
        assert_eq!(a.status, Status::Expired);
        assert!(
            a.authorised_line(a.lines[0].code, date("2027-01-01"))
                .is_none()
        );
    }

    #[test]
    fn an_approved_auth_authorises_its_codes_in_its_window() {
        let mut a = pended();
        decide(
            &mut a,
            &decision(Action::Approve),
            Reviewer::Nurse,
            nurse(),
            now(),
            &policy(),
            None,
        )
        .unwrap();
        let code = a.lines[1].code;
        assert!(a.authorised_line(code, date("2026-12-01")).is_some());
        assert!(a.authorised_line(code, date("2026-11-30")).is_none());
        assert!(a.authorised_line(code, date("2027-03-01")).is_none());
    }

    #[test]
    fn an_appeal_overturned_approves_every_unit_and_counts_as_approved_after_appeal() {
        let appeal = ReferenceId::parse("DSP-7K3Q9M").unwrap();
        let director = Actor {
            subject: "md".into(),
            org: "sunrise".into(),
            role: "medical_director".into(),
        };
        let reviewer = Actor {
            subject: "r".into(),
            org: "sunrise".into(),
            role: "dispute_reviewer".into(),
        };
        let mut a = pended();
        assert!(!appeal_overturned(
            &mut a,
            &appeal,
            true,
            reviewer.clone(),
            now(),
            &policy(),
            None
        ));
        decide(
            &mut a,
            &denial(),
            Reviewer::Physician,
            director,
            now(),
            &policy(),
            None,
        )
        .unwrap();
        let mut partial = a.clone();
        assert!(appeal_overturned(
            &mut a,
            &appeal,
            true,
            reviewer.clone(),
            ts("2026-12-10T17:00:00Z"),
            &policy(),
            None
        ));
        assert_eq!(a.status, Status::Approved);
        assert!(a.approved_after_appeal);
        assert_eq!(a.lines[1].authorized_units, 12);
        assert!(a.valid_to.is_some());
        let det = a.determination.as_ref().unwrap();
        assert_eq!(det.reason_code.as_deref(), Some("overturned_on_appeal"));
        assert_eq!(a.history.last().unwrap().action, "approved_on_appeal");
        assert!(a.expires_at().is_some());

        assert!(appeal_overturned(
            &mut partial,
            &appeal,
            false,
            reviewer,
            ts("2026-12-10T17:00:00Z"),
            &policy(),
            None
        ));
        assert_eq!(partial.status, Status::Denied);
        assert!(partial.approved_after_appeal);
        assert_eq!(
            partial.history.last().unwrap().action,
            "appeal_partially_overturned"
        );
    }
}
