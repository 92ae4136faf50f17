//! A claim as its provider and the IPA's staff read it.

use jiff::Timestamp;
use mso_domain::claims::edits::Edit;
use mso_domain::claims::{Claim, HistoryEntry, Source, Status, SubmittedLine};
use mso_records::documents::{DocumentSummary, Owner, OwnerKind};
use mso_store::{RecordStore, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// A claim: what was billed, where it stands, every edit that fired, the payment clock.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimView {
    #[schema(example = "CLM-7K3Q9M2P4X")]
    pub id: String,
    /// `received` (edits running), `accepted`, `rejected`, `pended` (a claims
    /// examiner decides), `replaced` or `voided` (by a later claim).
    #[schema(example = "accepted")]
    pub status: &'static str,
    #[schema(example = "professional")]
    pub claim_type: &'static str,
    /// `1` original, `7` replacement, `8` void.
    #[schema(example = "1")]
    pub frequency: &'static str,
    pub original_claim_id: Option<String>,
    /// CLM01, the provider's own claim number.
    pub patient_control_number: Option<String>,
    pub org: String,
    pub member_id: String,
    pub billing_provider: ClaimBillingView,
    pub rendering_npi: Option<String>,
    pub referring_npi: Option<String>,
    pub place_of_service: Option<String>,
    pub type_of_bill: Option<String>,
    pub diagnoses: Vec<String>,
    pub prior_auth_id: Option<String>,
    pub total_charge_cents: i64,
    pub lines: Vec<ClaimLineView>,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// The payment clock, while the claim is payable (received, accepted, pended).
    pub payment: Option<ClaimPaymentView>,
    /// Every edit that fired, in order, with its code and plain words.
    pub edits: Vec<ClaimEditView>,
    /// The replacement or void that superseded this claim.
    pub superseded_by: Option<String>,
    /// The X12 file it came in, if any.
    pub file_id: Option<String>,
    pub documents: Vec<DocumentSummary>,
    pub history: Vec<ClaimHistoryView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimBillingView {
    pub npi: String,
    pub tin: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimLineView {
    /// 1-based.
    pub line: u32,
    pub code: Option<String>,
    pub modifiers: Vec<String>,
    pub revenue_code: Option<String>,
    pub units: String,
    pub charge_cents: i64,
    #[schema(value_type = Option<String>, format = Date)]
    pub service_from: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub service_to: Option<String>,
    pub diagnosis_pointers: Vec<u8>,
    pub rendering_npi: Option<String>,
    pub place_of_service: Option<String>,
    pub prior_auth_id: Option<String>,
}

/// When the IPA must pay or contest (CA H&S 1371.35).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimPaymentView {
    /// Pay or contest by the end of this day, in the IPA's time zone.
    #[schema(value_type = String, format = Date)]
    pub due: String,
    /// The policy's `claims.payment_working_days`, counted from receipt.
    pub working_days: u32,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimEditView {
    #[schema(example = "prior_auth_missing")]
    pub code: String,
    /// `reject` or `pend`.
    #[schema(example = "reject")]
    pub severity: &'static str,
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimHistoryView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The role that acted, or `system`.
    pub by: String,
    pub action: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<String>,
}

impl ClaimView {
    pub fn of(claim: &Claim, payment_working_days: u32) -> ClaimView {
        let s = &claim.submission;
        let payable = matches!(
            claim.status,
            Status::Received | Status::Accepted | Status::Pended
        );
        ClaimView {
            id: claim.id.to_string(),
            status: claim.status.as_str(),
            claim_type: s.claim_type.as_str(),
            frequency: s.frequency.as_str(),
            original_claim_id: s.original_claim_id.clone(),
            patient_control_number: s.patient_control_number.clone(),
            org: claim.org.to_string(),
            member_id: s.member_id.clone(),
            billing_provider: ClaimBillingView {
                npi: s.billing_npi.clone(),
                tin: s.billing_tin.clone(),
            },
            rendering_npi: s.rendering_npi.clone(),
            referring_npi: s.referring_npi.clone(),
            place_of_service: s.place_of_service.clone(),
            type_of_bill: s.type_of_bill.clone(),
            diagnoses: s.diagnoses.clone(),
            prior_auth_id: s.prior_auth_id.clone(),
            total_charge_cents: s.total_charge_cents,
            lines: s
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| ClaimLineView::of(i, l))
                .collect(),
            received_at: claim.received_at,
            payment: payable.then(|| ClaimPaymentView {
                due: claim.payment_due.to_string(),
                working_days: payment_working_days,
            }),
            edits: claim.edits.iter().map(ClaimEditView::of).collect(),
            superseded_by: claim.superseded_by.as_ref().map(ToString::to_string),
            file_id: match &claim.source {
                Source::File { file_id, .. } => Some(file_id.to_string()),
                Source::Portal => None,
            },
            documents: Vec::new(),
            history: claim.history.iter().map(ClaimHistoryView::of).collect(),
        }
    }

    pub fn with_documents(mut self, documents: Vec<DocumentSummary>) -> ClaimView {
        self.documents = documents;
        self
    }
}

impl ClaimLineView {
    fn of(i: usize, l: &SubmittedLine) -> ClaimLineView {
        ClaimLineView {
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            code: l.procedure.clone(),
            modifiers: l.modifiers.clone(),
            revenue_code: l.revenue_code.clone(),
            units: l.units.clone(),
            charge_cents: l.charge_cents,
            service_from: l.service_from.map(|d| d.to_string()),
            service_to: l.service_to.or(l.service_from).map(|d| d.to_string()),
            diagnosis_pointers: l.diagnosis_pointers.clone(),
            rendering_npi: l.rendering_npi.clone(),
            place_of_service: l.place_of_service.clone(),
            prior_auth_id: l.prior_auth_id.clone(),
        }
    }
}

impl ClaimEditView {
    pub fn of(e: &Edit) -> ClaimEditView {
        ClaimEditView {
            code: e.code.clone(),
            severity: e.severity.as_str(),
            line: e.line,
            message: e.message.clone(),
        }
    }
}

impl ClaimHistoryView {
    fn of(h: &HistoryEntry) -> ClaimHistoryView {
        ClaimHistoryView {
            at: h.at,
            by: h.actor.role.clone(),
            action: h.action.clone(),
            from: h.from.map(Status::as_str),
            to: h.to.as_str(),
            reason: h.reason.clone(),
        }
    }
}

/// The claim's documents, from its own partition.
pub(crate) async fn documents_of(
    store: &dyn RecordStore,
    claim: &Claim,
) -> Result<Vec<DocumentSummary>, StoreError> {
    let owner = Owner {
        kind: OwnerKind::Claim,
        id: claim.id.clone(),
    };
    mso_records::documents::of_owner(store, &owner).await
}
