//! A filed dispute and what happens to it: the reviewer acknowledges, reviews
//! and decides (with the outcome, the amount, the reasons and the written
//! determination); the sweeper flags what is overdue and closes what is done.
//! Every change leaves an entry in its history.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Channel, Clocks, Filing, Kind, Outcome, ReasonCategory, SecondLevel, Status, Window};
use crate::Invalid;
use crate::clock::Deadline;
use crate::ids::{MemberId, OrgId, ReferenceId};
use crate::money::Money;
use crate::policy::Policy;
use crate::prior_auth::{Actor, Contact};

/// Longest free text of a reason or a determination.
pub const MAX_REASON: usize = 4_000;
pub const MAX_DETERMINATION: usize = 20_000;
/// Most reasons one decision lists.
pub const MAX_REASONS: usize = 20;

/// What the dispute is about, by reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum SubjectRef {
    Claim(ReferenceId),
    PriorAuth(ReferenceId),
}

impl SubjectRef {
    pub fn id(&self) -> &ReferenceId {
        match self {
            SubjectRef::Claim(id) | SubjectRef::PriorAuth(id) => id,
        }
    }

    pub fn claim_id(&self) -> Option<&ReferenceId> {
        match self {
            SubjectRef::Claim(id) => Some(id),
            SubjectRef::PriorAuth(_) => None,
        }
    }

    pub fn prior_auth_id(&self) -> Option<&ReferenceId> {
        match self {
            SubjectRef::PriorAuth(id) => Some(id),
            SubjectRef::Claim(_) => None,
        }
    }

    /// The request field that names it.
    pub fn field(&self) -> &'static str {
        match self {
            SubjectRef::Claim(_) => "claim_id",
            SubjectRef::PriorAuth(_) => "prior_auth_id",
        }
    }
}

/// A validated filing, as the provider (or the intake clerk) made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub kind: Kind,
    pub subject: SubjectRef,
    pub reason_category: ReasonCategory,
    pub reason: String,
    pub amount_disputed: Option<Money>,
    #[serde(default)]
    pub remittance_date: Option<jiff::civil::Date>,
    pub expedited: bool,
    pub contact: Contact,
}

/// The reviewer's determination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    pub outcome: Outcome,
    /// What the IPA now pays in addition (overturned payment disputes).
    pub amount: Option<Money>,
    /// Why, in short items the letter repeats.
    pub reasons: Vec<String>,
    /// The written determination sent to the provider.
    pub determination: String,
    pub decided_at: Timestamp,
    pub decided_by: Actor,
    /// Where and by when the provider may go next; none for grievances.
    pub second_level: Option<SecondLevel>,
    /// When the sweeper closes the dispute: once the second level's window
    /// ends (the first instant of the day after), at once for a final decision.
    pub closes_at: Timestamp,
}

/// One change of a dispute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub actor: Actor,
    /// `filed`, `acknowledged`, `review_started`, `decided`, `closed`,
    /// `acknowledgement_overdue`, `decision_overdue`, `document_added`, ...
    pub action: String,
    pub from: Option<Status>,
    pub to: Status,
    pub reason: Option<String>,
}

/// A dispute, appeal or grievance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub id: ReferenceId,
    /// The provider organisation of the subject: who may see it.
    pub org: OrgId,
    pub member_id: MemberId,
    /// The member's health plan: where a second level goes.
    pub health_plan: String,
    pub request: Request,
    pub channel: Channel,
    /// The fax or email it came from (paper filings through intake).
    pub intake_item_id: Option<ReferenceId>,
    pub status: Status,
    /// The legal start of every clock (the fax's time for a paper filing).
    pub received_at: Timestamp,
    pub window: Window,
    pub acknowledge_due: Timestamp,
    pub decision_due: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub determination: Option<Determination>,
    /// Clocks the sweeper found missed (`acknowledgement_overdue`,
    /// `decision_overdue`), each flagged once.
    #[serde(default)]
    pub overdue_flags: Vec<String>,
    pub history: Vec<HistoryEntry>,
}

/// Who the parts of a new dispute come from: the filing checked by
/// [`super::accept`], and what the subject said about the member.
pub struct Filed {
    pub id: ReferenceId,
    pub org: OrgId,
    pub member_id: MemberId,
    pub health_plan: String,
    pub request: Request,
    pub filing: Filing,
    pub clocks: Clocks,
    pub intake_item_id: Option<ReferenceId>,
}

impl Dispute {
    /// A new dispute, `received`, its clocks started.
    pub fn filed(f: Filed, actor: Actor, now: Timestamp, policy: &Policy) -> Dispute {
        // A paper filing names the fax or email it came from: its receipt
        // started the clocks.
        let from = f
            .intake_item_id
            .as_ref()
            .map(|item| format!(" from intake item {item}"))
            .unwrap_or_default();
        let summary = format!(
            "{} ({}) filed {}{from}; acknowledgement due by {}, decision by {}.",
            f.request.kind.as_str(),
            f.request.reason_category.as_str(),
            match f.filing.channel {
                Channel::Electronic => "electronically",
                Channel::Paper => "on paper",
            },
            day(f.clocks.acknowledge_due, policy),
            day(f.clocks.decision_due, policy),
        );
        Dispute {
            id: f.id,
            org: f.org,
            member_id: f.member_id,
            health_plan: f.health_plan,
            request: f.request,
            channel: f.filing.channel,
            intake_item_id: f.intake_item_id,
            status: Status::Received,
            received_at: f.filing.received_at,
            window: f.clocks.window,
            acknowledge_due: f.clocks.acknowledge_due,
            decision_due: f.clocks.decision_due,
            acknowledged_at: None,
            determination: None,
            overdue_flags: Vec::new(),
            history: vec![HistoryEntry {
                at: now,
                actor,
                action: "filed".into(),
                from: None,
                to: Status::Received,
                reason: Some(summary),
            }],
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            Status::Received | Status::Acknowledged | Status::InReview
        )
    }

    /// The next clock that runs out while the dispute is open: the
    /// acknowledgement until it is acknowledged, then the decision.
    pub fn next_due(&self) -> Option<Timestamp> {
        match self.status {
            Status::Received => Some(self.acknowledge_due),
            Status::Acknowledged | Status::InReview => Some(self.decision_due),
            Status::Decided | Status::Closed => None,
        }
    }

    /// What is overdue at `now`, if anything.
    pub fn overdue(&self, now: Timestamp) -> Option<&'static str> {
        super::overdue(self.status, self.acknowledge_due, self.decision_due, now)
    }

    /// Whether the acknowledgement was (or, still unacknowledged at `now`, is
    /// already) late.
    pub fn acknowledged_on_time(&self) -> Option<bool> {
        self.acknowledged_at.map(|at| at <= self.acknowledge_due)
    }

    /// When a decided dispute is closed (see [`Determination::closes_at`]).
    pub fn closes_at(&self) -> Option<Timestamp> {
        match (&self.determination, self.status) {
            (Some(d), Status::Decided) => Some(d.closes_at),
            _ => None,
        }
    }

    fn record(
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

    /// Notes something that does not change the status (a document, a flag).
    pub fn note(&mut self, at: Timestamp, actor: Actor, action: &str, reason: String) {
        let status = self.status;
        self.record(at, actor, action, status, Some(reason));
    }

    fn acknowledge_at(&mut self, actor: Actor, now: Timestamp, policy: &Policy) {
        self.acknowledged_at = Some(now);
        let late = if now > self.acknowledge_due {
            format!(
                "Acknowledged late (due by {}).",
                day(self.acknowledge_due, policy)
            )
        } else {
            "Acknowledged on time.".to_string()
        };
        self.record(now, actor, "acknowledged", Status::Acknowledged, Some(late));
    }
}

/// The IPA's calendar day of a due instant, as providers and reviewers read it.
fn day(at: Timestamp, policy: &Policy) -> jiff::civil::Date {
    crate::clock::local_date(at, policy.time_zone())
}

/// Why a review step is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// The step does not apply to a dispute in this status.
    #[error("the dispute is {}", .0.as_str())]
    WrongStatus(Status),
    /// Fields of the decision to correct, each named.
    #[error("the decision has fields to correct")]
    Invalid(Vec<(&'static str, Invalid)>),
}

/// The reviewer acknowledges a received dispute.
pub fn acknowledge(
    d: &mut Dispute,
    actor: Actor,
    now: Timestamp,
    policy: &Policy,
) -> Result<(), ReviewError> {
    if d.status != Status::Received {
        return Err(ReviewError::WrongStatus(d.status));
    }
    d.acknowledge_at(actor, now, policy);
    Ok(())
}

/// The reviewer starts the review (acknowledging first, if nobody had).
pub fn start_review(
    d: &mut Dispute,
    actor: Actor,
    now: Timestamp,
    policy: &Policy,
) -> Result<(), ReviewError> {
    match d.status {
        Status::Received => d.acknowledge_at(actor.clone(), now, policy),
        Status::Acknowledged => {}
        other => return Err(ReviewError::WrongStatus(other)),
    }
    d.record(now, actor, "review_started", Status::InReview, None);
    Ok(())
}

/// What the reviewer decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// What the IPA pays in addition; for an overturned payment dispute it
    /// defaults to the amount disputed.
    pub amount: Option<Money>,
    pub reasons: Vec<String>,
    pub determination: String,
}

/// The first-level decision: its outcome, amount and reasons checked against
/// the dispute, and where a second level goes.
pub fn decide(
    d: &mut Dispute,
    decision: Decision,
    actor: Actor,
    now: Timestamp,
    policy: &Policy,
) -> Result<(), ReviewError> {
    if !d.is_open() {
        return Err(ReviewError::WrongStatus(d.status));
    }
    let mut problems = Vec::new();
    let disputed = d.request.amount_disputed;
    let mut amount = decision.amount;
    match decision.outcome {
        Outcome::Upheld if amount.is_some_and(|a| a.cents() != 0) => problems.push((
            "amount",
            Invalid::new(
                "not_with_upheld",
                "must be absent when the original decision is upheld",
            ),
        )),
        Outcome::Upheld => amount = None,
        Outcome::Overturned => {
            if amount.is_none() {
                amount = disputed;
            }
        }
        Outcome::PartiallyOverturned => {
            if amount.is_none() && disputed.is_some() {
                problems.push((
                    "amount",
                    Invalid::new(
                        "required_for_partial",
                        "is required when a payment dispute is partially overturned: the amount the IPA now pays",
                    ),
                ));
            }
        }
    }
    if let Some(a) = amount {
        if a.cents() <= 0 && decision.outcome != Outcome::Upheld {
            problems.push((
                "amount",
                Invalid::new("not_positive", "must be more than zero"),
            ));
        } else if let Some(max) = disputed
            && a > max
        {
            problems.push((
                "amount",
                Invalid::owned(
                    "more_than_disputed",
                    format!("must not be more than the amount disputed ({max})"),
                ),
            ));
        } else if decision.outcome == Outcome::PartiallyOverturned
            && disputed.is_some_and(|max| a == max)
        {
            problems.push((
                "amount",
                Invalid::new(
                    "whole_amount",
                    "is the whole amount disputed: the outcome is overturned",
                ),
            ));
        }
    }
    if decision.reasons.is_empty() {
        problems.push((
            "reasons",
            Invalid::new("required", "give at least one reason for the outcome"),
        ));
    }
    if decision.determination.trim().is_empty() {
        problems.push(("determination", Invalid::required()));
    }
    if !problems.is_empty() {
        return Err(ReviewError::Invalid(problems));
    }
    if d.acknowledged_at.is_none() {
        d.acknowledge_at(actor.clone(), now, policy);
    }
    let second_level = super::second_level(d.request.kind, now, &d.health_plan, policy);
    let summary = match (&amount, &second_level) {
        (Some(a), Some(s)) => format!(
            "{}: ${a} to be paid. {}",
            decision.outcome.as_str(),
            s.instructions
        ),
        (None, Some(s)) => format!("{}. {}", decision.outcome.as_str(), s.instructions),
        (Some(a), None) => format!(
            "{}: ${a} to be paid; this decision is final.",
            decision.outcome.as_str()
        ),
        (None, None) => format!("{}; this decision is final.", decision.outcome.as_str()),
    };
    let closes_at = match &second_level {
        None => now,
        Some(s) => Deadline::end_of_day(s.by, policy.time_zone())
            .instant()
            .checked_add(SignedDuration::from_nanos(1))
            .unwrap_or(now),
    };
    d.determination = Some(Determination {
        closes_at,
        outcome: decision.outcome,
        amount,
        reasons: decision.reasons,
        determination: decision.determination,
        decided_at: now,
        decided_by: actor.clone(),
        second_level,
    });
    let late = now > d.decision_due;
    let reason = if late {
        format!(
            "{summary} Decided late (due by {}).",
            day(d.decision_due, policy)
        )
    } else {
        summary
    };
    d.record(now, actor, "decided", Status::Decided, Some(reason));
    Ok(())
}

/// The sweeper's flags on missed clocks, each flagged once: the
/// acknowledgement (while still received) and the decision (while open). True
/// when it flagged one.
pub fn flag_overdue(d: &mut Dispute, now: Timestamp, policy: &Policy) -> bool {
    let missed = [
        (
            "acknowledgement_overdue",
            d.acknowledge_due,
            d.status == Status::Received,
        ),
        ("decision_overdue", d.decision_due, d.is_open()),
    ];
    let mut flagged = false;
    for (what, due, applies) in missed {
        if !applies || now <= due || d.overdue_flags.iter().any(|f| f == what) {
            continue;
        }
        d.overdue_flags.push(what.to_string());
        d.note(
            now,
            Actor::system(),
            what,
            format!(
                "Past its legal due time (the end of {}) and still {}.",
                day(due, policy),
                d.status.as_str()
            ),
        );
        flagged = true;
    }
    flagged
}

/// Closes a decided dispute whose second-level window ended (or whose decision
/// was final). True when it closed.
pub fn close(d: &mut Dispute, now: Timestamp) -> bool {
    match d.closes_at() {
        Some(at) if now >= at => {
            let reason = if d.request.kind.has_second_level() {
                "The window for a second-level review at the health plan has ended."
            } else {
                "A grievance decision is final."
            };
            d.record(
                now,
                Actor::system(),
                "closed",
                Status::Closed,
                Some(reason.into()),
            );
            true
        }
        _ => false,
    }
}

/// The sweeper's work on a dispute: the instants it must look again and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    AcknowledgementOverdue,
    DecisionOverdue,
    Close,
}

/// Every timer the dispute needs now (none once closed).
pub fn timers(d: &Dispute) -> Vec<(Timestamp, TimerKind)> {
    let flagged = |f: &str| d.overdue_flags.iter().any(|x| x == f);
    let after = |t: Timestamp| t.checked_add(SignedDuration::from_nanos(1)).unwrap_or(t);
    let mut out = Vec::new();
    if d.status == Status::Received && !flagged("acknowledgement_overdue") {
        out.push((after(d.acknowledge_due), TimerKind::AcknowledgementOverdue));
    }
    if d.is_open() && !flagged("decision_overdue") {
        out.push((after(d.decision_due), TimerKind::DecisionOverdue));
    }
    if let Some(at) = d.closes_at() {
        out.push((at, TimerKind::Close));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disputes::{Subject, accept};

    const PROCARE: &str = include_str!("../../../../infra/ipas/sunrise.toml");

    fn policy() -> Policy {
        Policy::from_toml(PROCARE, "test").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn reviewer() -> Actor {
        Actor {
            subject: "r-1".into(),
            org: "sunrise".into(),
            role: "dispute_reviewer".into(),
        }
    }

    fn contact() -> Contact {
        Contact {
            name: "Billing".into(),
            phone: "657-555-0199".into(),
            extension: None,
            fax: None,
            email: None,
        }
    }

    /// A payment dispute of $125.00 received Tuesday 24 Nov 2026.
    fn pdr(kind: Kind, amount: Option<i64>) -> Dispute {
        filed_through(kind, amount, Channel::Electronic, None)
    }

    fn filed_through(
        kind: Kind,
        amount: Option<i64>,
        channel: Channel,
        intake_item_id: Option<ReferenceId>,
    ) -> Dispute {
        let p = policy();
        let request = Request {
            kind,
            subject: SubjectRef::Claim(ReferenceId::parse("CLM-7K3Q9M2P4X").unwrap()),
            reason_category: if kind == Kind::Pdr {
                ReasonCategory::Underpayment
            } else {
                ReasonCategory::ClaimIssue
            },
            reason: "Paid below the contract rate".into(),
            amount_disputed: amount.map(Money::from_cents),
            remittance_date: Some("2026-11-01".parse().unwrap()),
            expedited: false,
            contact: contact(),
        };
        let filing = Filing {
            kind,
            reason_category: request.reason_category,
            subject: Subject::Claim {
                last_determination: Some("2026-11-01".parse().unwrap()),
                medical_necessity_denial: false,
            },
            amount_disputed: request.amount_disputed,
            remittance_date: request.remittance_date,
            expedited: false,
            channel,
            received_at: ts("2026-11-24T18:00:00Z"),
        };
        let clocks = accept(&filing, &p).unwrap();
        Dispute::filed(
            Filed {
                id: ReferenceId::parse("DSP-7K3Q9M").unwrap(),
                org: OrgId::parse("sunrise-fm").unwrap(),
                member_id: MemberId::parse("SUN100001").unwrap(),
                health_plan: "Golden State Health Plan".into(),
                request,
                filing,
                clocks,
                intake_item_id,
            },
            reviewer(),
            ts("2026-11-24T18:00:00Z"),
            &p,
        )
    }

    fn decision(outcome: Outcome, amount: Option<i64>) -> Decision {
        Decision {
            outcome,
            amount: amount.map(Money::from_cents),
            reasons: vec!["The contract rate for 99214 is $125.00".into()],
            determination: "We reviewed the contract and the remittance...".into(),
        }
    }

    #[test]
    fn a_paper_filing_names_the_intake_item_its_clocks_started_from() {
        let item = ReferenceId::parse("INT-7K3Q9M").unwrap();
        let d = filed_through(Kind::Pdr, Some(12_500), Channel::Paper, Some(item.clone()));
        assert_eq!(d.intake_item_id, Some(item));
        let filed = d.history[0].reason.as_deref().unwrap();
        assert!(
            filed.starts_with("pdr (underpayment) filed on paper from intake item INT-7K3Q9M;"),
            "{filed}"
        );
        let electronic = pdr(Kind::Pdr, Some(12_500));
        assert!(
            !electronic.history[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("intake")
        );
    }

    #[test]
    fn review_moves_received_to_acknowledged_to_in_review_to_decided() {
        let p = policy();
        let mut d = pdr(Kind::Pdr, Some(12_500));
        assert_eq!(d.next_due(), Some(d.acknowledge_due));
        acknowledge(&mut d, reviewer(), ts("2026-11-25T18:00:00Z"), &p).unwrap();
        assert_eq!(d.status, Status::Acknowledged);
        assert_eq!(d.acknowledged_on_time(), Some(true));
        assert_eq!(d.next_due(), Some(d.decision_due));
        assert_eq!(
            acknowledge(&mut d, reviewer(), ts("2026-11-25T19:00:00Z"), &p),
            Err(ReviewError::WrongStatus(Status::Acknowledged))
        );
        start_review(&mut d, reviewer(), ts("2026-11-30T18:00:00Z"), &p).unwrap();
        assert_eq!(d.status, Status::InReview);
        decide(
            &mut d,
            decision(Outcome::Overturned, None),
            reviewer(),
            ts("2026-12-01T19:00:00Z"),
            &p,
        )
        .unwrap();
        assert_eq!(d.status, Status::Decided);
        let det = d.determination.as_ref().unwrap();
        // Overturned without an amount: the amount disputed is paid.
        assert_eq!(det.amount, Some(Money::from_cents(12_500)));
        let second = det.second_level.as_ref().unwrap();
        assert_eq!(second.to, "Golden State Health Plan");
        assert_eq!(second.by.to_string(), "2027-05-30");
        let actions: Vec<&str> = d.history.iter().map(|h| h.action.as_str()).collect();
        assert_eq!(
            actions,
            ["filed", "acknowledged", "review_started", "decided"]
        );
        assert!(
            d.history[3]
                .reason
                .as_ref()
                .unwrap()
                .contains("$125.00 to be paid")
        );
        assert_eq!(
            start_review(&mut d, reviewer(), ts("2026-12-02T19:00:00Z"), &p),
            Err(ReviewError::WrongStatus(Status::Decided))
        );
    }

    #[test]
    fn starting_or_deciding_an_unacknowledged_dispute_acknowledges_it() {
        let p = policy();
        let mut d = pdr(Kind::Pdr, Some(12_500));
        start_review(&mut d, reviewer(), ts("2026-11-25T18:00:00Z"), &p).unwrap();
        assert!(d.acknowledged_at.is_some());
        let mut e = pdr(Kind::Pdr, Some(12_500));
        // 1 Dec is past the 30 Nov acknowledgement: late, and said so.
        decide(
            &mut e,
            decision(Outcome::Upheld, None),
            reviewer(),
            ts("2026-12-01T18:00:00Z"),
            &p,
        )
        .unwrap();
        assert_eq!(e.acknowledged_on_time(), Some(false));
        assert!(e.history[1].reason.as_ref().unwrap().contains("late"));
        assert_eq!(e.determination.as_ref().unwrap().amount, None);
    }

    #[test]
    fn amounts_must_fit_the_outcome_and_the_dispute() {
        let p = policy();
        let at = ts("2026-11-25T18:00:00Z");
        let fields = |d: &mut Dispute, dec: Decision| -> Vec<(&'static str, &'static str)> {
            match decide(d, dec, reviewer(), at, &p) {
                Err(ReviewError::Invalid(v)) => v.into_iter().map(|(f, i)| (f, i.code)).collect(),
                other => panic!("{other:?}"),
            }
        };
        let mut d = pdr(Kind::Pdr, Some(12_500));
        assert_eq!(
            fields(&mut d, decision(Outcome::Upheld, Some(100))),
            [("amount", "not_with_upheld")]
        );
        assert_eq!(
            fields(&mut d, decision(Outcome::PartiallyOverturned, None)),
            [("amount", "required_for_partial")]
        );
        assert_eq!(
            fields(&mut d, decision(Outcome::PartiallyOverturned, Some(12_500))),
            [("amount", "whole_amount")]
        );
        assert_eq!(
            fields(&mut d, decision(Outcome::Overturned, Some(20_000))),
            [("amount", "more_than_disputed")]
        );
        let mut empty = decision(Outcome::Overturned, Some(0));
        empty.reasons.clear();
        empty.determination = " ".into();
        assert_eq!(
            fields(&mut d, empty),
            [
                ("amount", "not_positive"),
                ("reasons", "required"),
                ("determination", "required")
            ]
        );
        // Nothing was changed by the refusals.
        assert_eq!(d.status, Status::Received);
        assert_eq!(d.history.len(), 1);
        decide(
            &mut d,
            decision(Outcome::PartiallyOverturned, Some(5_000)),
            reviewer(),
            at,
            &p,
        )
        .unwrap();
        assert_eq!(
            d.determination.unwrap().amount,
            Some(Money::from_cents(5_000))
        );
    }

    #[test]
    fn the_sweeper_flags_each_missed_clock_once_and_closes_when_the_second_level_window_ends() {
        let p = policy();
        let mut d = pdr(Kind::Pdr, Some(12_500));
        let kinds = |d: &Dispute| timers(d).into_iter().map(|(_, k)| k).collect::<Vec<_>>();
        assert_eq!(
            kinds(&d),
            [
                TimerKind::AcknowledgementOverdue,
                TimerKind::DecisionOverdue
            ]
        );
        // Acknowledgement due end of Monday 30 Nov (Pacific).
        assert!(!flag_overdue(&mut d, ts("2026-12-01T07:59:00Z"), &p));
        assert!(flag_overdue(&mut d, ts("2026-12-01T08:01:00Z"), &p));
        assert!(
            !flag_overdue(&mut d, ts("2026-12-01T09:00:00Z"), &p),
            "once"
        );
        assert_eq!(d.overdue_flags, ["acknowledgement_overdue"]);
        assert_eq!(d.history.last().unwrap().action, "acknowledgement_overdue");
        assert_eq!(kinds(&d), [TimerKind::DecisionOverdue]);
        acknowledge(&mut d, reviewer(), ts("2026-12-02T18:00:00Z"), &p).unwrap();
        // Decision due end of Tuesday 2 Feb 2027.
        assert!(flag_overdue(&mut d, ts("2027-02-03T09:00:00Z"), &p));
        assert_eq!(kinds(&d), Vec::<TimerKind>::new());
        decide(
            &mut d,
            decision(Outcome::Upheld, None),
            reviewer(),
            ts("2027-02-04T18:00:00Z"),
            &p,
        )
        .unwrap();
        assert!(
            d.history
                .last()
                .unwrap()
                .reason
                .as_ref()
                .unwrap()
                .contains("Decided late")
        );
        // Second level by 3 Aug 2027 (180 days from 4 Feb); closed the day after.
        let (at, kind) = timers(&d)[0];
        assert_eq!(kind, TimerKind::Close);
        assert_eq!(at, ts("2027-08-04T07:00:00Z"));
        assert!(!close(&mut d, ts("2027-08-04T06:59:00Z")));
        assert!(close(&mut d, at));
        assert_eq!(d.status, Status::Closed);
        assert!(timers(&d).is_empty());
    }

    #[test]
    fn a_dispute_nobody_touched_is_flagged_for_both_clocks() {
        let p = policy();
        let mut d = pdr(Kind::Pdr, Some(12_500));
        assert!(flag_overdue(&mut d, ts("2027-03-01T00:00:00Z"), &p));
        assert_eq!(
            d.overdue_flags,
            ["acknowledgement_overdue", "decision_overdue"]
        );
        assert!(timers(&d).is_empty());
    }

    #[test]
    fn a_grievance_decision_is_final_and_closes_at_once() {
        let p = policy();
        let mut g = pdr(Kind::Grievance, None);
        decide(
            &mut g,
            decision(Outcome::Upheld, None),
            reviewer(),
            ts("2026-11-25T18:00:00Z"),
            &p,
        )
        .unwrap();
        let det = g.determination.as_ref().unwrap();
        assert_eq!(det.second_level, None);
        assert!(
            g.history
                .last()
                .unwrap()
                .reason
                .as_ref()
                .unwrap()
                .contains("final")
        );
        assert!(close(&mut g, ts("2026-11-25T18:00:00Z")));
    }
}
