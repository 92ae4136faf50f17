//! The dispute as the API shows it. Field names are the public contract (portals
//! depend on them); the stored form may change, these may not.

use jiff::Timestamp;
use mso_domain::disputes::Dispute;
use mso_domain::disputes::review::{Determination, HistoryEntry};
use mso_records::documents::{DocumentSummary, Owner, OwnerKind};
use serde::Serialize;
use utoipa::ToSchema;

/// One dispute, appeal or grievance.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeView {
    /// The reference ID.
    #[schema(example = "DSP-7K3Q9M")]
    pub id: String,
    /// `pdr`, `appeal` or `grievance`.
    #[schema(example = "pdr")]
    pub kind: &'static str,
    /// `received`, `acknowledged`, `in_review`, `decided`, `closed`.
    #[schema(example = "received")]
    pub status: &'static str,
    #[schema(example = "CLM-7K3Q9M2P4X")]
    pub claim_id: Option<String>,
    #[schema(example = "PA-7K3Q9M")]
    pub prior_auth_id: Option<String>,
    pub org: String,
    pub member_id: String,
    #[schema(example = "underpayment")]
    pub reason_category: &'static str,
    pub reason: String,
    /// Dollars, two decimals.
    #[schema(example = "125.00")]
    pub amount_disputed: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub remittance_date: Option<String>,
    pub expedited: bool,
    pub contact: DisputeContactView,
    /// `electronic` (the API) or `paper` (fax, mail or email through intake).
    pub channel: &'static str,
    /// The fax or email it came from, for paper filings.
    pub intake_item_id: Option<String>,
    /// When the IPA received it: the start of every clock (the fax's time for
    /// paper).
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// The acknowledgement is due by then (2 working days electronic, 15 paper).
    #[schema(value_type = String, format = DateTime)]
    pub acknowledge_due: Timestamp,
    /// The decision is due by then (45 working days).
    #[schema(value_type = String, format = DateTime)]
    pub decision_due: Timestamp,
    /// The last day the filing was on time.
    #[schema(value_type = String, format = Date)]
    pub filing_deadline: String,
    pub filing_window: FilingWindowView,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    /// `acknowledgement_overdue` or `decision_overdue` while open and past that clock.
    pub overdue: Option<String>,
    /// The reviewer's determination, once decided.
    pub determination: Option<DisputeDeterminationView>,
    pub history: Vec<DisputeHistoryView>,
    /// Documents attached to the dispute, each with its status; `GET
    /// /v1/documents/{id}` gives one with its download URL.
    pub documents: Vec<DocumentSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeContactView {
    pub name: String,
    pub phone: String,
    pub extension: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
}

/// The window to file, and the rule that set it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingWindowView {
    #[schema(value_type = String, format = Date)]
    pub start: String,
    #[schema(value_type = String, format = Date)]
    pub deadline: String,
    #[schema(example = "120 calendar days from the remittance notification date")]
    pub rule: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeDeterminationView {
    /// `upheld`, `overturned` or `partially_overturned`.
    #[schema(example = "overturned")]
    pub outcome: &'static str,
    /// What the IPA now pays in addition, in dollars.
    #[schema(example = "125.00")]
    pub amount: Option<String>,
    pub reasons: Vec<String>,
    /// The written determination.
    pub determination: String,
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: Timestamp,
    /// The role that decided.
    pub decided_by: String,
    /// Where and by when to ask for a second-level review; absent when the
    /// decision is final (grievances).
    pub second_level: Option<SecondLevelView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecondLevelView {
    /// The member's health plan.
    pub to: String,
    /// The last day to file there.
    #[schema(value_type = String, format = Date)]
    pub by: String,
    pub instructions: String,
}

/// One change: who (by role), when, from what to what, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeHistoryView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub action: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<String>,
    /// The role of who did it (`system` for the sweeper).
    pub by: String,
}

impl DisputeView {
    pub fn of(d: &Dispute, now: Timestamp) -> DisputeView {
        let r = &d.request;
        DisputeView {
            id: d.id.to_string(),
            kind: r.kind.as_str(),
            status: d.status.as_str(),
            claim_id: r.subject.claim_id().map(ToString::to_string),
            prior_auth_id: r.subject.prior_auth_id().map(ToString::to_string),
            org: d.org.to_string(),
            member_id: d.member_id.to_string(),
            reason_category: r.reason_category.as_str(),
            reason: r.reason.clone(),
            amount_disputed: r.amount_disputed.map(|a| a.to_string()),
            remittance_date: r.remittance_date.map(|d| d.to_string()),
            expedited: r.expedited,
            contact: DisputeContactView {
                name: r.contact.name.clone(),
                phone: r.contact.phone.clone(),
                extension: r.contact.extension.clone(),
                fax: r.contact.fax.clone(),
                email: r.contact.email.clone(),
            },
            channel: d.channel.as_str(),
            intake_item_id: d.intake_item_id.as_ref().map(ToString::to_string),
            received_at: d.received_at,
            acknowledge_due: d.acknowledge_due,
            decision_due: d.decision_due,
            filing_deadline: d.window.deadline.to_string(),
            filing_window: FilingWindowView {
                start: d.window.start.to_string(),
                deadline: d.window.deadline.to_string(),
                rule: d.window.rule.clone(),
            },
            acknowledged_at: d.acknowledged_at,
            overdue: d.overdue(now).map(str::to_owned),
            determination: d.determination.as_ref().map(DisputeDeterminationView::of),
            history: d.history.iter().map(DisputeHistoryView::of).collect(),
            documents: Vec::new(),
        }
    }

    pub fn with_documents(mut self, documents: Vec<DocumentSummary>) -> DisputeView {
        self.documents = documents;
        self
    }
}

/// The documents of `d`, read from its own partition.
pub(crate) async fn documents_of(
    store: &dyn mso_store::RecordStore,
    d: &Dispute,
) -> Result<Vec<DocumentSummary>, mso_store::StoreError> {
    let owner = Owner {
        kind: OwnerKind::Dispute,
        id: d.id.clone(),
    };
    mso_records::documents::of_owner(store, &owner).await
}

impl DisputeDeterminationView {
    fn of(d: &Determination) -> DisputeDeterminationView {
        DisputeDeterminationView {
            outcome: d.outcome.as_str(),
            amount: d.amount.map(|a| a.to_string()),
            reasons: d.reasons.clone(),
            determination: d.determination.clone(),
            decided_at: d.decided_at,
            decided_by: d.decided_by.role.clone(),
            second_level: d.second_level.as_ref().map(|s| SecondLevelView {
                to: s.to.clone(),
                by: s.by.to_string(),
                instructions: s.instructions.clone(),
            }),
        }
    }
}

impl DisputeHistoryView {
    fn of(h: &HistoryEntry) -> DisputeHistoryView {
        DisputeHistoryView {
            at: h.at,
            action: h.action.clone(),
            from: h.from.map(|s| s.as_str()),
            to: h.to.as_str(),
            reason: h.reason.clone(),
            by: h.actor.role.clone(),
        }
    }
}
