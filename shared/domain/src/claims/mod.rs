//! Claims: what a provider bills, 837P/837I-shaped, whether it came as JSON from a
//! portal or inside an X12 837 file; the front-end edits that accept, reject or
//! pend it; and the payment clock.
//!
//! - [`Submission`] is the claim as billed: codes as written (an 837 may carry
//!   anything), dates and money already typed. Both intake paths produce it.
//! - [`validate`] turns it into a [`Checked`] claim of domain types, or names every
//!   bad field (a JSON claim answers 400; a claim of a file is rejected with them).
//! - [`edits::run`] judges a checked claim against what the store knows (member,
//!   auths, the member's other claims) and answers its [`Status`] with every
//!   [`edits::Edit`] that fired.
//! - [`payment_due`]: the date by which the IPA pays or contests (CA H&S 1371.35).

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::clock::local_date;
use crate::ids::{OrgId, ReferenceId};
use crate::policy::Policy;
use crate::prior_auth::Actor;

pub mod edits;
mod validate;

pub use validate::{Checked, CheckedLine, FieldProblem, validate};

wire_enum!(
    /// 837P or 837I.
    ClaimType { Professional = "professional", Institutional = "institutional" }
);

wire_enum!(
    /// CLM05-3, the claim frequency code: an original claim, or one that replaces
    /// or voids an earlier one (`original_claim_id`).
    Frequency { Original = "1", Replacement = "7", Void = "8" }
);

wire_enum!(
    /// Where a claim stands.
    Status {
        /// Stored; its edits have not run yet.
        Received = "received",
        /// Passed every edit: in adjudication, on the payment clock.
        Accepted = "accepted",
        /// An edit refused it; the provider corrects and bills again.
        Rejected = "rejected",
        /// Waiting for a claims examiner (a suspected duplicate, units beyond an
        /// auth, a dispute overturned).
        Pended = "pended",
        /// A later claim (frequency 7) replaced it.
        Replaced = "replaced",
        /// A void (frequency 8) cancelled it.
        Voided = "voided",
    }
);

impl Status {
    /// A claim that counts: a later identical claim is its duplicate, and a
    /// replacement or void may refer to it.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Accepted | Status::Pended)
    }

    /// The edits have answered (the 277CA can say accepted or rejected).
    pub fn is_acknowledged(self) -> bool {
        !matches!(self, Status::Received)
    }
}

/// Most lines and diagnoses a claim may carry (the 837's limits: 50 lines on a
/// professional claim, 999 on an institutional one; 12 diagnoses on a
/// professional claim, 25 on an institutional one).
pub const MAX_LINES_PROFESSIONAL: usize = 50;
pub const MAX_LINES_INSTITUTIONAL: usize = 999;
pub const MAX_DIAGNOSES_PROFESSIONAL: usize = 12;
pub const MAX_DIAGNOSES_INSTITUTIONAL: usize = 25;
pub const MAX_UNITS: u32 = 99_999;

/// A claim as billed. Codes are text as written (validated by [`validate`]);
/// dates and amounts are already typed by whoever read the claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub claim_type: ClaimType,
    pub frequency: Frequency,
    /// The claim a replacement or void refers to (our claim ID; REF*F8 in an 837).
    pub original_claim_id: Option<String>,
    /// CLM01, the provider's own claim number (the 277CA traces it).
    pub patient_control_number: Option<String>,
    pub billing_npi: String,
    /// The billing provider's tax ID (EIN).
    pub billing_tin: Option<String>,
    pub rendering_npi: Option<String>,
    pub referring_npi: Option<String>,
    pub member_id: String,
    #[serde(with = "crate::dates::iso")]
    pub dob: Date,
    /// Professional claims: the place of service (CLM05-1).
    pub place_of_service: Option<String>,
    /// Institutional claims: the type of bill (facility type and frequency, `111`).
    pub type_of_bill: Option<String>,
    /// ICD-10-CM; the first is the principal diagnosis.
    pub diagnoses: Vec<String>,
    /// A prior auth for the whole claim: our reference ID (`PA-7K3Q9M`) or the
    /// number an 837 carries in REF*G1.
    pub prior_auth_id: Option<String>,
    /// CLM02 as billed (the sum of the lines for a JSON claim).
    pub total_charge_cents: i64,
    pub lines: Vec<SubmittedLine>,
}

/// One service line as billed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedLine {
    /// CPT or HCPCS; an institutional line may carry only a revenue code.
    pub procedure: Option<String>,
    pub modifiers: Vec<String>,
    /// Institutional lines: the revenue code (SV201).
    pub revenue_code: Option<String>,
    /// As written (`1`, `2.00`); whole units only.
    pub units: String,
    pub charge_cents: i64,
    pub service_from: Option<Date>,
    pub service_to: Option<Date>,
    /// 1-based pointers into `diagnoses` (professional claims).
    pub diagnosis_pointers: Vec<u8>,
    /// When this line's rendering provider differs from the claim's.
    pub rendering_npi: Option<String>,
    pub place_of_service: Option<String>,
    /// REF*G1 at line level.
    pub prior_auth_id: Option<String>,
}

/// The date by which the IPA must pay or contest a claim received at
/// `received_at`: `claims.payment_working_days` working days later, with the
/// IPA's holidays, in its time zone.
pub fn payment_due(policy: &Policy, received_at: Timestamp) -> Date {
    let received = local_date(received_at, policy.time_zone());
    policy
        .calendar()
        .add_working_days(received, policy.claims.payment_working_days)
}

/// One change of a claim, for its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub actor: Actor,
    /// `received`, `accepted`, `rejected`, `pended`, `replaced`, `voided`,
    /// `examiner_accepted`, `readjudication`, `document_added`, ...
    pub action: String,
    pub from: Option<Status>,
    pub to: Status,
    pub reason: Option<String>,
}

/// How a claim reached the IPA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Source {
    /// A JSON claim from a portal.
    Portal,
    /// The `seq`-th claim (0-based) of an X12 837 file.
    File { file_id: ReferenceId, seq: u32 },
}

/// A claim and everything that happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub id: ReferenceId,
    /// The billing provider's organisation: who may see it.
    pub org: OrgId,
    pub source: Source,
    pub submission: Submission,
    pub status: Status,
    /// The legal start of the payment clock.
    pub received_at: Timestamp,
    /// Pay or contest by the end of this day ([`payment_due`]).
    #[serde(with = "crate::dates::iso")]
    pub payment_due: Date,
    /// Every edit that fired, in order.
    pub edits: Vec<edits::Edit>,
    /// When the edits or an examiner last decided (the start of a dispute window
    /// that runs from the last determination).
    pub decided_at: Option<Timestamp>,
    /// Set when an examiner denied it for medical necessity (an appeal, not a PDR).
    #[serde(default)]
    pub medical_necessity_denial: bool,
    /// The replacement or void that superseded it.
    pub superseded_by: Option<ReferenceId>,
    pub history: Vec<HistoryEntry>,
}

/// Why a claim cannot take a step.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("the claim is {0:?}, not pended: only a pended claim is reviewed")]
    NotPended(Status),
    #[error("the claim is {0:?}: only an accepted or pended claim is re-adjudicated")]
    NotLive(Status),
}

impl Claim {
    /// A claim just stored, waiting for its edits.
    pub fn received(
        id: ReferenceId,
        org: OrgId,
        source: Source,
        submission: Submission,
        received_at: Timestamp,
        policy: &Policy,
        actor: Actor,
    ) -> Claim {
        Claim {
            id,
            org,
            source,
            submission,
            status: Status::Received,
            received_at,
            payment_due: payment_due(policy, received_at),
            edits: Vec::new(),
            decided_at: None,
            medical_necessity_denial: false,
            superseded_by: None,
            history: vec![HistoryEntry {
                at: received_at,
                actor,
                action: "received".into(),
                from: None,
                to: Status::Received,
                reason: None,
            }],
        }
    }

    /// A claim of a file refused before any edit could run (unreadable values,
    /// a provider of another organisation): stored rejected, so the 277CA and
    /// the provider's list show it.
    #[allow(clippy::too_many_arguments)]
    pub fn rejected_on_receipt(
        id: ReferenceId,
        org: OrgId,
        source: Source,
        submission: Submission,
        rejections: Vec<edits::Edit>,
        received_at: Timestamp,
        policy: &Policy,
        actor: Actor,
    ) -> Claim {
        let mut claim = Claim::received(id, org, source, submission, received_at, policy, actor);
        claim.judged(edits::Outcome::of(rejections), received_at);
        claim
    }

    /// The edits answered. A claim already judged keeps its first answer (a
    /// redelivered message changes nothing); returns whether it changed.
    pub fn judged(&mut self, outcome: edits::Outcome, at: Timestamp) -> bool {
        if self.status != Status::Received {
            return false;
        }
        let reason = outcome
            .edits
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        self.push(
            at,
            Actor::system(),
            outcome.status.as_str(),
            outcome.status,
            (!reason.is_empty()).then_some(reason),
        );
        self.edits = outcome.edits;
        self.decided_at = Some(at);
        true
    }

    /// A replacement or void of this claim was accepted.
    pub fn superseded(&mut self, by: &ReferenceId, frequency: Frequency, at: Timestamp) {
        let (status, verb) = match frequency {
            Frequency::Void => (Status::Voided, "voided"),
            _ => (Status::Replaced, "replaced"),
        };
        self.superseded_by = Some(by.clone());
        self.push(
            at,
            Actor::system(),
            verb,
            status,
            Some(format!("{verb} by {by}")),
        );
    }

    /// A claims examiner decided a pended claim.
    pub fn reviewed(
        &mut self,
        accept: bool,
        reason: String,
        medical_necessity: bool,
        actor: Actor,
        at: Timestamp,
    ) -> Result<(), StepError> {
        if self.status != Status::Pended {
            return Err(StepError::NotPended(self.status));
        }
        let (status, action) = if accept {
            (Status::Accepted, "examiner_accepted")
        } else {
            (Status::Rejected, "examiner_rejected")
        };
        self.medical_necessity_denial = !accept && medical_necessity;
        self.decided_at = Some(at);
        self.push(at, actor, action, status, Some(reason));
        Ok(())
    }

    /// A dispute was decided for the provider: the claim goes back to an examiner.
    pub fn readjudicate(&mut self, reason: String, at: Timestamp) -> Result<(), StepError> {
        if !matches!(
            self.status,
            Status::Accepted | Status::Pended | Status::Rejected
        ) {
            return Err(StepError::NotLive(self.status));
        }
        self.push(
            at,
            Actor::system(),
            "readjudication",
            Status::Pended,
            Some(reason),
        );
        Ok(())
    }

    /// Notes something in the history without a change of status.
    pub fn note(&mut self, action: &str, reason: String, actor: Actor, at: Timestamp) {
        self.push(at, actor, action, self.status, Some(reason));
    }

    fn push(
        &mut self,
        at: Timestamp,
        actor: Actor,
        action: &str,
        to: Status,
        reason: Option<String>,
    ) {
        self.history.push(HistoryEntry {
            at,
            actor,
            action: action.into(),
            from: Some(self.status),
            to,
            reason,
        });
        self.status = to;
    }
}

/// Plain words for a count of units.
pub(crate) fn units_words(n: u32) -> Cow<'static, str> {
    if n == 1 {
        "1 unit".into()
    } else {
        format!("{n} units").into()
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A claim the tests of this module share: Sunrise's fixture member, an
    //! outpatient lumbar MRI (on the PA list) billed by an in-network provider.

    use super::*;

    pub const BILLING_NPI: &str = "1234567893";

    pub fn line(code: &str, units: u32, charge_cents: i64) -> SubmittedLine {
        SubmittedLine {
            procedure: Some(code.into()),
            modifiers: vec![],
            revenue_code: None,
            units: units.to_string(),
            charge_cents,
            service_from: Some("2026-12-03".parse().unwrap()),
            service_to: None,
            diagnosis_pointers: vec![1],
            rendering_npi: None,
            place_of_service: None,
            prior_auth_id: None,
        }
    }

    pub fn professional() -> Submission {
        Submission {
            claim_type: ClaimType::Professional,
            frequency: Frequency::Original,
            original_claim_id: None,
            patient_control_number: Some("ACCT-1001".into()),
            billing_npi: BILLING_NPI.into(),
            billing_tin: Some("95-1234567".into()),
            rendering_npi: None,
            referring_npi: None,
            member_id: "SUN100001".into(),
            dob: "1984-03-15".parse().unwrap(),
            place_of_service: Some("22".into()),
            type_of_bill: None,
            diagnoses: vec!["M54.16".into()],
            prior_auth_id: None,
            total_charge_cents: 125_000,
            lines: vec![line("72148", 1, 125_000)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prior_auth::fixtures;

    #[test]
    fn the_payment_clock_counts_working_days_without_holidays() {
        let policy = fixtures::policy();
        // Received Wednesday 25 November 2026 in Los Angeles; 26 and 27 November
        // are holidays in the fixture policy; 45 working days.
        let received: Timestamp = "2026-11-25T18:00:00Z".parse().unwrap();
        let due = payment_due(&policy, received);
        assert_eq!(
            policy
                .calendar()
                .working_days_between(local_date(received, policy.time_zone()), due),
            policy.claims.payment_working_days
        );
        assert!(policy.calendar().is_working_day(due));
        // Received late on the evening of the 25th in Los Angeles is still the 25th.
        let evening: Timestamp = "2026-11-26T07:30:00Z".parse().unwrap();
        assert_eq!(payment_due(&policy, evening), due);
    }

    fn received() -> Claim {
        let policy = fixtures::policy();
        Claim::received(
            ReferenceId::parse("CLM-7K3Q9M2P4X").unwrap(),
            OrgId::parse("sunrise-family-medicine").unwrap(),
            Source::Portal,
            super::fixtures::professional(),
            "2026-12-05T18:00:00Z".parse().unwrap(),
            &policy,
            Actor::system(),
        )
    }

    #[test]
    fn a_claim_keeps_its_first_judgement() {
        let mut claim = received();
        let at: Timestamp = "2026-12-05T18:00:01Z".parse().unwrap();
        assert!(claim.judged(edits::Outcome::of(vec![]), at));
        assert_eq!(claim.status, Status::Accepted);
        assert_eq!(claim.decided_at, Some(at));
        // A redelivered message finds it judged and changes nothing.
        let pended = edits::Outcome {
            status: Status::Pended,
            edits: vec![],
        };
        assert!(!claim.judged(pended, at));
        assert_eq!(claim.status, Status::Accepted);
        assert_eq!(claim.history.len(), 2);
        assert_eq!(claim.history[1].from, Some(Status::Received));
    }

    #[test]
    fn only_a_pended_claim_is_reviewed_and_only_a_live_one_readjudicated() {
        let mut claim = received();
        let at: Timestamp = "2026-12-06T18:00:00Z".parse().unwrap();
        let examiner = Actor {
            subject: "ex-1".into(),
            org: "sunrise".into(),
            role: "claims_examiner".into(),
        };
        assert_eq!(
            claim.reviewed(true, "ok".into(), false, examiner.clone(), at),
            Err(StepError::NotPended(Status::Received))
        );
        claim.status = Status::Pended;
        claim
            .reviewed(false, "not necessary".into(), true, examiner, at)
            .unwrap();
        assert_eq!(claim.status, Status::Rejected);
        assert!(claim.medical_necessity_denial);
        claim.readjudicate("DSP-1 overturned".into(), at).unwrap();
        assert_eq!(claim.status, Status::Pended);
        claim.superseded(
            &ReferenceId::parse("CLM-0000000001").unwrap(),
            Frequency::Void,
            at,
        );
        assert_eq!(claim.status, Status::Voided);
        assert_eq!(
            claim.readjudicate("again".into(), at),
            Err(StepError::NotLive(Status::Voided))
        );
    }

    #[test]
    fn wire_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(Frequency::parse("7"), Ok(Frequency::Replacement));
        assert!(Frequency::parse("2").is_err());
        assert!(Status::Pended.is_live() && !Status::Rejected.is_live());
    }
}
