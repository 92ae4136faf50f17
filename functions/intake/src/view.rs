//! The intake item as the API shows it. Field names are the public contract.

use jiff::Timestamp;
use mso_domain::disputes::Dispute;
use mso_domain::prior_auth::PriorAuth;
use mso_records::documents::DocumentSummary;
use mso_records::intake::{IntakeItem, ItemProblem, RecordLink};
use serde::Serialize;
use utoipa::ToSchema;

/// One fax or email on the intake queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeView {
    #[schema(example = "INT-7K3Q9M")]
    pub id: String,
    /// `queued` (waits for a clerk), `linked` (to an existing record), `filed`
    /// (a new record was filed from it) or `failed` (the object could not be read).
    #[schema(example = "queued")]
    pub status: &'static str,
    /// `fax` or `email`.
    #[schema(example = "fax")]
    pub channel: &'static str,
    /// The sending fax number or email address.
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// When the fax or email was received: the legal start of whatever is filed
    /// from it.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// Where that time came from: `fax_gateway`, `received_header`, `date_header`, `s3_event`.
    #[schema(example = "fax_gateway")]
    pub receipt_source: String,
    /// When the intake job filed it.
    #[schema(value_type = String, format = DateTime)]
    pub arrived_at: Timestamp,
    /// When a clerk (or the intake job) linked it or filed a record from it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    /// How long it waited: seconds from receipt until linked or filed, or until now.
    pub waited_seconds: i64,
    /// `prior_auth_request`, `clinical_notes`, `claim`, `dispute`, `appeal` or `other`.
    #[schema(example = "prior_auth_request")]
    pub kind: &'static str,
    /// `low`, `medium` or `high`.
    #[schema(example = "high")]
    pub confidence: String,
    /// Why it was classified so, in words: "subject mentions 'PDR'", ...
    pub reasons: Vec<String>,
    /// What was found in the subject and text: reference IDs, member IDs with
    /// dates of birth, NPIs, procedure and diagnosis codes.
    #[schema(value_type = Object)]
    pub found: mso_domain::intake::Found,
    /// Everything a clerk should know: refused or unreadable parts, no text
    /// layer, unknown sender, references that match no record.
    pub problems: Vec<ItemProblem>,
    /// The record it was linked to or filed as.
    pub link: Option<RecordLink>,
    /// The documents stored from it (the fax, or each attachment), with their
    /// status; `GET /v1/documents/{id}` gives one with its download URL.
    pub documents: Vec<DocumentSummary>,
    pub history: Vec<IntakeEventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeEventView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who: the clerk's subject, or `intake`.
    pub by: String,
    /// `received`, `linked`, `filed`, `failed`, `document_added`, ...
    pub action: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<String>,
}

impl IntakeView {
    pub fn of(item: &IntakeItem, documents: Vec<DocumentSummary>, now: Timestamp) -> IntakeView {
        IntakeView {
            id: item.id.to_string(),
            status: item.status.as_str(),
            channel: item.channel.as_str(),
            sender: item.sender.clone(),
            subject: item.subject.clone(),
            message_id: item.message_id.clone(),
            received_at: item.received_at,
            receipt_source: item.receipt_source.clone(),
            arrived_at: item.arrived_at,
            closed_at: item.closed_at,
            waited_seconds: item.waited_seconds(now),
            kind: item.classification.kind.as_str(),
            confidence: serde_json::to_value(item.classification.confidence)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            reasons: item
                .classification
                .cues
                .iter()
                .map(ToString::to_string)
                .collect(),
            found: item.found.clone(),
            problems: item.problems.clone(),
            link: item.link.clone(),
            documents,
            history: item
                .history
                .iter()
                .map(|h| IntakeEventView {
                    at: h.at,
                    by: h.actor.subject.clone(),
                    action: h.action.clone(),
                    from: h.from.map(|s| s.as_str()),
                    to: h.to.as_str(),
                    reason: h.reason.clone(),
                })
                .collect(),
        }
    }
}

/// A record filed from an intake item, in the answer to `POST /v1/intake/{id}/create`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiledRecord {
    /// `prior_auth` or `dispute`.
    #[schema(example = "prior_auth")]
    pub kind: &'static str,
    #[schema(example = "PA-7K3Q9M")]
    pub id: String,
    #[schema(example = "pended")]
    pub status: &'static str,
    /// The fax's or email's receipt time, not the clerk's.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub decision_due: Timestamp,
    /// A dispute's acknowledgement deadline (the paper clock, from the receipt).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledge_due: Option<Timestamp>,
    /// A dispute's last day to file (YYYY-MM-DD), from the policy's window.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2027-01-30")]
    pub filing_deadline: Option<String>,
}

impl FiledRecord {
    pub fn prior_auth(auth: &PriorAuth) -> FiledRecord {
        FiledRecord {
            kind: "prior_auth",
            id: auth.id.to_string(),
            status: auth.status.as_str(),
            received_at: auth.received_at,
            decision_due: auth.decision_due,
            acknowledge_due: None,
            filing_deadline: None,
        }
    }

    pub fn dispute(d: &Dispute) -> FiledRecord {
        FiledRecord {
            kind: "dispute",
            id: d.id.to_string(),
            status: d.status.as_str(),
            received_at: d.received_at,
            decision_due: d.decision_due,
            acknowledge_due: Some(d.acknowledge_due),
            filing_deadline: Some(d.window.deadline.to_string()),
        }
    }
}

/// The answer to `POST /v1/intake/{id}/create`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedFromIntake {
    pub item: IntakeView,
    pub record: FiledRecord,
}
