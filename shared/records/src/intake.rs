//! How an intake item is stored: the item (`INTAKE#<id>`) with what was found,
//! its classification, problems, status and history; its list rows (by status,
//! and all, oldest receipt first: the clerk's queue); the claim on the intake
//! object it came from (so a redelivered S3 event files nothing twice); and the
//! one transaction that writes a change with its audit record. Its documents are
//! ordinary documents owned by the item (`documents::Owner` of kind `intake`),
//! whose rows live in the item's partition.
//!
//! Subjects, senders and [`Found`] values are PHI: they live in the item and its
//! list rows only, never in a key or a log line.

use jiff::Timestamp;
use mso_api::aggregate::{self, Aggregate, Stored};
use mso_api::audit::{self, AuditEvent, sortable_instant};
use mso_api::{Principal, RequestInfo};
use mso_domain::ids::{OrgId, RecordKind, ReferenceId};
use mso_domain::intake::item::{ItemStatus, waited};
use mso_domain::intake::{Classification, Confidence, Found, IntakeKind};
use mso_domain::prior_auth::Actor;
use mso_store::{Condition, Key, Record, RecordStore, StoreError, WriteOp, keys};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::documents::{Owner, OwnerKind};

/// How the item arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Fax,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Fax => "fax",
            Channel::Email => "email",
        }
    }
}

/// Something wrong or missing in the item, for the clerk: a stable code and
/// plain words that quote no content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ItemProblem {
    #[schema(example = "no_text_layer")]
    pub code: String,
    #[schema(example = "the fax is a TIFF image: its text is not read (no OCR)")]
    pub message: String,
}

/// The kinds of record an item links to or files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    PriorAuth,
    Claim,
    Dispute,
}

impl LinkKind {
    pub const ALL: [LinkKind; 3] = [LinkKind::PriorAuth, LinkKind::Claim, LinkKind::Dispute];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::PriorAuth => "prior_auth",
            LinkKind::Claim => "claim",
            LinkKind::Dispute => "dispute",
        }
    }

    pub fn parse(s: &str) -> Result<LinkKind, mso_domain::Invalid> {
        LinkKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or(mso_domain::Invalid::new(
                "invalid_kind",
                "must be one of prior_auth, claim, dispute",
            ))
    }

    pub fn record_kind(self) -> RecordKind {
        match self {
            LinkKind::PriorAuth => RecordKind::PriorAuth,
            LinkKind::Claim => RecordKind::Claim,
            LinkKind::Dispute => RecordKind::Dispute,
        }
    }
}

/// The record an item was linked to or filed as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordLink {
    /// `prior_auth`, `claim` or `dispute`.
    #[schema(value_type = String, example = "prior_auth")]
    pub kind: LinkKind,
    #[schema(value_type = String, example = "PA-7K3Q9M")]
    pub id: ReferenceId,
    /// `true` when the intake handler linked it by a reference in the text.
    pub automatic: bool,
}

/// One change of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemEvent {
    pub at: Timestamp,
    pub actor: Actor,
    /// `received`, `linked`, `filed`, `document_added`, ...
    pub action: String,
    pub from: Option<ItemStatus>,
    pub to: ItemStatus,
    /// Plain words, no content.
    pub reason: Option<String>,
}

/// A fax or email as the intake job filed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeItem {
    pub id: ReferenceId,
    /// The IPA's own organisation: intake items are the IPA's until linked.
    pub org: OrgId,
    pub channel: Channel,
    /// The object in the intake bucket (the original is kept there).
    pub object_key: String,
    /// The sending fax number or email address.
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// The legal start of whatever is filed from the item.
    pub received_at: Timestamp,
    /// Where the receipt time came from: `fax_gateway`, `received_header`,
    /// `date_header` or `s3_event`.
    pub receipt_source: String,
    /// When the intake handler filed it.
    pub arrived_at: Timestamp,
    pub found: Found,
    pub classification: Classification,
    pub problems: Vec<ItemProblem>,
    pub status: ItemStatus,
    /// When it was linked or filed.
    pub closed_at: Option<Timestamp>,
    pub link: Option<RecordLink>,
    /// Bytes of text searched (subject, bodies, text layers).
    pub text_bytes: u64,
    pub history: Vec<ItemEvent>,
}

impl IntakeItem {
    /// The item as its documents' owner.
    pub fn owner(&self) -> Owner {
        Owner {
            kind: OwnerKind::Intake,
            id: self.id.clone(),
        }
    }

    /// The item after `actor` moved it to `to` (linked or filed) at `at`.
    pub fn closed(
        &self,
        to: ItemStatus,
        link: RecordLink,
        actor: Actor,
        reason: String,
        at: Timestamp,
    ) -> IntakeItem {
        let mut item = self.clone();
        item.history.push(ItemEvent {
            at,
            actor,
            action: to.as_str().to_string(),
            from: Some(self.status),
            to,
            reason: Some(reason),
        });
        item.status = to;
        item.closed_at = Some(at);
        item.link = Some(link);
        item
    }

    /// Seconds from receipt until linked or filed (or until `now`).
    pub fn waited_seconds(&self, now: Timestamp) -> i64 {
        waited(self.received_at, self.closed_at, now).as_secs()
    }
}

/// An item as stored. A newtype so the storage trait can be implemented here.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemRecord(pub IntakeItem);

impl Aggregate for ItemRecord {
    fn key(&self) -> Key {
        keys::intake_item(self.0.id.as_str())
    }

    fn views(&self) -> Vec<Record> {
        let item = &self.0;
        let summary = mso_store::Body::of(&IntakeSummary::of(item)).unwrap_or_default();
        let sk = format!("{}#{}", sortable_instant(item.received_at), item.id);
        vec![
            Record::new(
                Key::new(keys::intake_list(item.status.as_str()), sk.clone()),
                summary.clone(),
            ),
            Record::new(Key::new(keys::INTAKE_LIST_ALL, sk), summary),
        ]
    }
}

/// An item in the clerk's list (and on its list rows in the store).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeSummary {
    #[schema(example = "INT-7K3Q9M")]
    pub id: String,
    /// `queued`, `linked`, `filed` or `failed`.
    #[schema(example = "queued")]
    pub status: String,
    /// `fax` or `email`.
    #[schema(example = "fax")]
    pub channel: String,
    pub sender: Option<String>,
    /// The legal start of whatever is filed from it.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// `prior_auth_request`, `clinical_notes`, `claim`, `dispute`, `appeal`, `other`.
    #[schema(value_type = String, example = "prior_auth_request")]
    pub kind: IntakeKind,
    /// `low`, `medium`, `high`.
    #[schema(value_type = String, example = "high")]
    pub confidence: Confidence,
    /// Reference IDs found (`PA-…`, `CLM-…`, `DSP-…`).
    pub references: Vec<String>,
    /// The codes of its problems (`no_text_layer`, `unknown_sender`, ...).
    pub problems: Vec<String>,
    pub link: Option<RecordLink>,
    /// When it was linked or filed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    /// Set in answers: seconds from receipt until linked or filed, or until now.
    #[serde(default)]
    pub waited_seconds: i64,
}

impl IntakeSummary {
    pub fn of(item: &IntakeItem) -> IntakeSummary {
        IntakeSummary {
            id: item.id.to_string(),
            status: item.status.as_str().to_string(),
            channel: item.channel.as_str().to_string(),
            sender: item.sender.clone(),
            received_at: item.received_at,
            kind: item.classification.kind,
            confidence: item.classification.confidence,
            references: item
                .found
                .references
                .iter()
                .map(|r| r.to_string())
                .collect(),
            problems: item.problems.iter().map(|p| p.code.clone()).collect(),
            link: item.link.clone(),
            closed_at: item.closed_at,
            waited_seconds: 0,
        }
    }

    /// As shown at `now`.
    pub fn shown(mut self, now: Timestamp) -> IntakeSummary {
        self.waited_seconds = waited(self.received_at, self.closed_at, now).as_secs();
        self
    }
}

/// Reads an item by its ID.
pub async fn load(
    store: &dyn RecordStore,
    id: &ReferenceId,
) -> Result<Option<Stored<ItemRecord>>, StoreError> {
    aggregate::load(store, &keys::intake_item(id.as_str())).await
}

/// The reference ID of an item, if `s` is one.
pub fn parse_id(s: &str) -> Option<ReferenceId> {
    ReferenceId::parse_kind(RecordKind::IntakeItem, s).ok()
}

#[derive(Serialize, Deserialize)]
struct ObjectClaim {
    item: ReferenceId,
}

/// The item already filed from the intake object with this digest, if any.
pub async fn filed_from(
    store: &dyn RecordStore,
    object_digest: &str,
) -> Result<Option<ReferenceId>, StoreError> {
    match store.get(&keys::intake_object_claim(object_digest)).await? {
        None => Ok(None),
        Some(record) => {
            let claim: ObjectClaim = record
                .body
                .decode()
                .map_err(|e| StoreError::backend("reading an intake object claim", e))?;
            Ok(Some(claim.item))
        }
    }
}

/// A change to commit: the writes of the item, its views, and what goes with them.
pub struct Change {
    pub ops: Vec<WriteOp>,
}

impl Change {
    /// The item was filed from the object with `object_digest`: fails with
    /// `ConditionFailed` if that object (or the item's ID) was taken meanwhile.
    pub fn created(item: &IntakeItem, object_digest: &str) -> Result<Change, StoreError> {
        let mut ops = aggregate::create(&ItemRecord(item.clone()))?;
        ops.push(WriteOp::Put {
            record: Record::new(
                keys::intake_object_claim(object_digest),
                serde_json::to_value(ObjectClaim {
                    item: item.id.clone(),
                })
                .map_err(|e| StoreError::backend("serialising an intake object claim", e))?,
            ),
            condition: Condition::Absent,
        });
        Ok(Change { ops })
    }

    /// The item changed from `old`.
    pub fn updated(old: &Stored<ItemRecord>, item: &IntakeItem) -> Result<Change, StoreError> {
        Ok(Change {
            ops: aggregate::update(old, &ItemRecord(item.clone()))?,
        })
    }

    /// Adds writes of the same transaction (documents, the linked record).
    pub fn with(mut self, ops: impl IntoIterator<Item = WriteOp>) -> Change {
        self.ops.extend(ops);
        self
    }

    /// Adds the audit record of who did it.
    pub fn audited(
        mut self,
        who: &Principal,
        action: &'static str,
        item: &IntakeItem,
        info: &RequestInfo,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        self.ops.push(audit::write_op(&AuditEvent {
            actor: who,
            action,
            purpose: "operations",
            subject_type: "intake_item",
            subject_id: item.id.as_str(),
            outcome: item.status.as_str(),
            request_id: &info.request_id,
            at,
        })?);
        Ok(self)
    }

    /// Commits everything (plus `extra`, e.g. an idempotency completion) in one
    /// transaction.
    pub async fn commit(
        mut self,
        store: &dyn RecordStore,
        extra: Option<WriteOp>,
    ) -> Result<(), StoreError> {
        self.ops.extend(extra);
        store.transact(self.ops).await
    }
}

#[cfg(test)]
mod tests {
    use mso_domain::intake::{classify, find_references};

    use super::*;

    fn item(status: ItemStatus) -> IntakeItem {
        let found = find_references("Re: PA-7K3Q9M clinical notes");
        IntakeItem {
            id: ReferenceId::parse("INT-7K3Q9M").unwrap(),
            org: OrgId::parse("sunrise").unwrap(),
            channel: Channel::Fax,
            object_key: "fax/a.pdf".into(),
            sender: Some("+13237983031".into()),
            subject: None,
            message_id: None,
            received_at: "2026-03-02T09:15:00Z".parse().unwrap(),
            receipt_source: "fax_gateway".into(),
            arrived_at: "2026-03-02T09:15:02Z".parse().unwrap(),
            classification: classify(None, "Clinical Notes", &found),
            found,
            problems: vec![],
            status,
            closed_at: None,
            link: None,
            text_bytes: 10,
            history: vec![],
        }
    }

    #[test]
    fn list_rows_follow_the_status() {
        let queued = ItemRecord(item(ItemStatus::Queued));
        let pks: Vec<String> = queued.views().into_iter().map(|r| r.key.pk).collect();
        assert_eq!(pks, ["INTAKELIST#queued", "INTAKELIST#ALL"]);
        let old = Stored {
            value: queued,
            version: 1,
        };
        let linked = old.value.0.closed(
            ItemStatus::Linked,
            RecordLink {
                kind: LinkKind::PriorAuth,
                id: ReferenceId::parse("PA-7K3Q9M").unwrap(),
                automatic: false,
            },
            Actor::system(),
            "linked".into(),
            "2026-03-02T10:15:00Z".parse().unwrap(),
        );
        assert_eq!(
            linked.waited_seconds("2026-03-09T00:00:00Z".parse().unwrap()),
            3600
        );
        let ops = Change::updated(&old, &linked).unwrap().ops;
        assert!(
            ops.iter().any(
                |op| matches!(op, WriteOp::Delete { key, .. } if key.pk == "INTAKELIST#queued")
            )
        );
        assert!(ops.iter().any(
            |op| matches!(op, WriteOp::Put { record, .. } if record.key.pk == "INTAKELIST#linked")
        ));
    }

    #[test]
    fn a_new_item_claims_its_object() {
        let ops = Change::created(&item(ItemStatus::Queued), "abc")
            .unwrap()
            .ops;
        assert!(ops.iter().any(|op| matches!(op,
            WriteOp::Put { record, condition: Condition::Absent } if record.key.pk == "INTAKEOBJ#abc")));
    }
}
