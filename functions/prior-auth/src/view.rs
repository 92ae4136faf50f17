//! The auth as the API shows it. Field names are the public contract (portals
//! depend on them); the stored form may change, these may not.

use jiff::Timestamp;
use mso_domain::prior_auth::{AuthLine, Determination, HistoryEntry, PriorAuth, Source, Status};
use mso_records::documents::DocumentSummary;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One prior authorisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorAuthView {
    /// The reference ID.
    #[schema(example = "PA-7K3Q9M")]
    pub id: String,
    /// `not_required`, `pended`, `approved`, `partially_approved`, `denied`, `cancelled`, `expired`.
    #[schema(example = "approved")]
    pub status: &'static str,
    /// When the IPA received the request: the start of every legal clock.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// When the decision is due (urgent: 72 hours; routine: 5 working days, at most 14 days).
    #[schema(value_type = String, format = DateTime)]
    pub decision_due: Timestamp,
    /// Open and past its due time.
    pub overdue: bool,
    /// The urgency the clock runs on (a reviewer may downgrade an urgent request).
    #[schema(example = "routine")]
    pub urgency: &'static str,
    /// First and last day the approval may be used (approved auths).
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_to: Option<String>,
    /// When an undecided post-stabilization request is deemed approved.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deemed_approval_at: Option<Timestamp>,
    /// Specialty consult approvals that also cover routine follow-up visits.
    pub covers_follow_ups: bool,
    /// Why an inpatient notification is late, when it is.
    pub late_notification: Option<String>,
    pub org: String,
    pub member_id: String,
    pub setting: &'static str,
    pub category: &'static str,
    pub service_from: String,
    pub service_to: String,
    pub requesting_npi: String,
    pub servicing_npi: String,
    pub place_of_service: String,
    pub diagnoses: Vec<String>,
    pub lines: Vec<LineView>,
    pub contact: ContactView,
    /// The reviewer's determination, once there is one.
    pub determination: Option<DeterminationView>,
    /// `portal`, or `intake` with the fax/email item it came from.
    pub source: SourceView,
    pub history: Vec<HistoryView>,
    /// Documents attached to the auth (clinical notes and others), by message:
    /// each with its status (`awaiting_upload`, `available`, `rejected` with the
    /// reason). `GET /v1/documents/{id}` gives one with its download URL.
    pub documents: Vec<DocumentSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub line: u32,
    #[schema(example = "72148")]
    pub code: String,
    pub modifiers: Vec<String>,
    pub requested_units: u32,
    pub authorized_units: u32,
    /// `not_required`, `health_plan_authorizes`, `criteria_met`, `review_required`.
    #[schema(example = "criteria_met")]
    pub disposition: &'static str,
    /// Plain words: why, and what to do.
    pub reason: String,
    /// The criteria rule that approved the line.
    pub criteria_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub name: String,
    pub phone: String,
    pub extension: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeterminationView {
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: Timestamp,
    /// The role that decided (`um_nurse`, `medical_director`, or `system` for criteria and deemed approvals).
    pub decided_by: String,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    /// The guideline applied (e.g. MCG).
    pub criteria: Option<String>,
    pub peer_to_peer: Option<PeerToPeerView>,
    /// Approved because the IPA did not answer in time.
    pub deemed: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeerToPeerView {
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// `portal` or `intake`.
    pub channel: &'static str,
    /// The intake item (fax or email) the auth was filed from.
    pub intake_item_id: Option<String>,
}

/// One change: who (by role), when, from what to what, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub action: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<String>,
    /// The role of who did it (`system` for the sweeper and automatic rules).
    pub by: String,
}

impl PriorAuthView {
    pub fn of(auth: &PriorAuth, now: Timestamp) -> PriorAuthView {
        let r = &auth.request;
        PriorAuthView {
            id: auth.id.to_string(),
            status: auth.status.as_str(),
            received_at: auth.received_at,
            decision_due: auth.decision_due,
            overdue: auth.is_overdue(now),
            urgency: auth.urgency.as_str(),
            valid_from: auth.valid_from.map(|d| d.to_string()),
            valid_to: auth.valid_to.map(|d| d.to_string()),
            deemed_approval_at: auth.deemed_approval_at,
            covers_follow_ups: auth.covers_follow_ups,
            late_notification: auth.late_notification.clone(),
            org: auth.org.to_string(),
            member_id: r.member_id.to_string(),
            setting: r.setting.as_str(),
            category: r.category.as_str(),
            service_from: r.service_from.to_string(),
            service_to: r.service_to.to_string(),
            requesting_npi: r.requesting_npi.to_string(),
            servicing_npi: r.servicing_npi.to_string(),
            place_of_service: r.place_of_service.to_string(),
            diagnoses: r.diagnoses.iter().map(ToString::to_string).collect(),
            lines: auth.lines.iter().map(LineView::of).collect(),
            contact: ContactView {
                name: r.contact.name.clone(),
                phone: r.contact.phone.clone(),
                extension: r.contact.extension.clone(),
                fax: r.contact.fax.clone(),
                email: r.contact.email.clone(),
            },
            determination: auth.determination.as_ref().map(DeterminationView::of),
            source: match &auth.source {
                Source::Portal => SourceView {
                    channel: "portal",
                    intake_item_id: None,
                },
                Source::Intake { item_id } => SourceView {
                    channel: "intake",
                    intake_item_id: Some(item_id.to_string()),
                },
            },
            history: auth.history.iter().map(HistoryView::of).collect(),
            documents: Vec::new(),
        }
    }

    /// The view with the auth's documents (read from the auth's partition).
    pub fn with_documents(mut self, documents: Vec<DocumentSummary>) -> PriorAuthView {
        self.documents = documents;
        self
    }
}

/// The documents of `auth`, for the answers that show an existing auth.
pub(crate) async fn documents_of(
    store: &dyn mso_store::RecordStore,
    auth: &PriorAuth,
) -> Result<Vec<DocumentSummary>, mso_store::StoreError> {
    let owner = mso_records::documents::Owner {
        kind: mso_records::documents::OwnerKind::PriorAuth,
        id: auth.id.clone(),
    };
    mso_records::documents::of_owner(store, &owner).await
}

impl LineView {
    fn of(l: &AuthLine) -> LineView {
        LineView {
            line: l.line,
            code: l.code.to_string(),
            modifiers: l.modifiers.iter().map(ToString::to_string).collect(),
            requested_units: l.requested_units,
            authorized_units: l.authorized_units,
            disposition: l.disposition.as_str(),
            reason: l.reason.clone(),
            criteria_id: l.criteria_id.clone(),
        }
    }
}

impl DeterminationView {
    fn of(d: &Determination) -> DeterminationView {
        DeterminationView {
            decided_at: d.decided_at,
            decided_by: d.decided_by.role.clone(),
            reason_code: d.reason_code.clone(),
            reason: d.reason.clone(),
            criteria: d.criteria.clone(),
            peer_to_peer: d.peer_to_peer.as_ref().map(|p| PeerToPeerView {
                name: p.name.clone(),
                phone: p.phone.clone(),
            }),
            deemed: d.deemed,
        }
    }
}

impl HistoryView {
    fn of(h: &HistoryEntry) -> HistoryView {
        HistoryView {
            at: h.at,
            action: h.action.clone(),
            from: h.from.map(Status::as_str),
            to: h.to.as_str(),
            reason: h.reason.clone(),
            by: h.actor.role.clone(),
        }
    }
}
