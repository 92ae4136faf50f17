//! The records documents attach to ("owners"): which organisation each belongs
//! to, which IPA staff work it, and how a document is noted in its history.
//!
//! Prior auths, claims, disputes and intake items are owners. A new kind of
//! record that keeps documents adds its arm to the `match`es below: the
//! partition its record lives in, how to read its organisation, and how to
//! append to its history. Nothing else in the documents job changes.

use jiff::Timestamp;
use mso_api::Role;
use mso_api::aggregate::{self, Stored};
use mso_api::outbox::OutboxEvent;
use mso_domain::Invalid;
use mso_domain::ids::{OrgId, RecordKind, ReferenceId};
use mso_domain::prior_auth::{Actor, HistoryEntry};
use mso_store::{Key, Record, RecordStore, StoreError, WriteOp, keys};
use serde::{Deserialize, Serialize};

use crate::claims::{self, ClaimRecord};
use crate::disputes::{self, DisputeRecord};
use crate::intake::{self, ItemEvent, ItemRecord};
use crate::prior_auths::{self, AuthRecord};

/// What kind of record a document belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    PriorAuth,
    Claim,
    Dispute,
    Intake,
}

impl OwnerKind {
    pub const ALL: [OwnerKind; 4] = [
        OwnerKind::PriorAuth,
        OwnerKind::Claim,
        OwnerKind::Dispute,
        OwnerKind::Intake,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::PriorAuth => "prior_auth",
            OwnerKind::Claim => "claim",
            OwnerKind::Dispute => "dispute",
            OwnerKind::Intake => "intake",
        }
    }

    pub fn parse(s: &str) -> Result<OwnerKind, Invalid> {
        OwnerKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or(Invalid::new(
                "invalid_owner_kind",
                "must be one of prior_auth, claim, dispute, intake",
            ))
    }

    /// The kind of reference ID an owner of this kind has.
    pub fn record_kind(self) -> RecordKind {
        match self {
            OwnerKind::PriorAuth => RecordKind::PriorAuth,
            OwnerKind::Claim => RecordKind::Claim,
            OwnerKind::Dispute => RecordKind::Dispute,
            OwnerKind::Intake => RecordKind::IntakeItem,
        }
    }

    /// The IPA staff whose job is this kind of record: they may attach and read
    /// its documents (with the owner's own organisation).
    pub fn staff_roles(self) -> &'static [Role] {
        match self {
            OwnerKind::PriorAuth => &[Role::UmNurse, Role::MedicalDirector],
            OwnerKind::Claim => &[Role::ClaimsExaminer],
            OwnerKind::Dispute => &[Role::DisputeReviewer],
            // An item's faxed notes are read by whoever works the record it is
            // linked to (its history names the documents).
            OwnerKind::Intake => &[
                Role::IntakeClerk,
                Role::UmNurse,
                Role::MedicalDirector,
                Role::ClaimsExaminer,
                Role::DisputeReviewer,
            ],
        }
    }

    /// The HIPAA purpose of use of reading its documents.
    pub fn purpose(self) -> &'static str {
        match self {
            OwnerKind::PriorAuth => "treatment",
            OwnerKind::Claim | OwnerKind::Dispute => "payment",
            OwnerKind::Intake => "operations",
        }
    }
}

/// The record a document belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub kind: OwnerKind,
    pub id: ReferenceId,
}

impl Owner {
    /// An owner reference: `id` must be a reference ID of `kind`'s records.
    pub fn parse(kind: OwnerKind, id: &str) -> Result<Owner, Invalid> {
        Ok(Owner {
            kind,
            id: ReferenceId::parse_kind(kind.record_kind(), id)?,
        })
    }

    /// The key of the owner's record.
    pub fn key(&self) -> Key {
        let id = self.id.as_str();
        match self.kind {
            OwnerKind::PriorAuth => keys::prior_auth(id),
            OwnerKind::Claim => keys::claim(id),
            OwnerKind::Intake => keys::intake_item(id),
            OwnerKind::Dispute => keys::dispute(id),
        }
    }

    /// The partition of the owner's record, where its document rows live;
    /// `None` for kinds that keep no documents yet.
    pub fn partition(&self) -> Option<String> {
        match self.kind {
            OwnerKind::PriorAuth => Some(keys::prior_auth_partition(self.id.as_str())),
            OwnerKind::Claim => Some(keys::claim_partition(self.id.as_str())),
            OwnerKind::Intake => Some(keys::intake_partition(self.id.as_str())),
            OwnerKind::Dispute => Some(keys::dispute_partition(self.id.as_str())),
        }
    }
}

/// An owner as read, ready to note things in its history.
#[derive(Clone, Debug)]
pub struct OwnerRecord {
    /// Who may see it and its documents (with the kind's IPA staff).
    pub org: OrgId,
    state: State,
}

#[derive(Clone, Debug)]
enum State {
    // Boxed: records of different kinds differ a lot in size.
    PriorAuth(Box<Stored<AuthRecord>>),
    Claim(Box<Stored<ClaimRecord>>),
    Intake(Box<Stored<ItemRecord>>),
    Dispute(Box<Stored<DisputeRecord>>),
}

/// Reads the owner. `None` when it does not exist (or its kind keeps no
/// documents yet): the caller answers 404.
pub async fn resolve(
    store: &dyn RecordStore,
    owner: &Owner,
) -> Result<Option<OwnerRecord>, StoreError> {
    store
        .get(&owner.key())
        .await?
        .map(|record| OwnerRecord::decode(owner.kind, record))
        .transpose()
}

impl OwnerRecord {
    /// The owner of `kind` stored in `record` (read under [`Owner::key`]).
    pub(crate) fn decode(kind: OwnerKind, record: Record) -> Result<OwnerRecord, StoreError> {
        Ok(match kind {
            OwnerKind::PriorAuth => {
                let stored: Stored<AuthRecord> = aggregate::decode(record)?;
                OwnerRecord {
                    org: stored.value.0.org.clone(),
                    state: State::PriorAuth(Box::new(stored)),
                }
            }
            OwnerKind::Claim => {
                let stored: Stored<ClaimRecord> = aggregate::decode(record)?;
                OwnerRecord {
                    org: stored.value.0.org.clone(),
                    state: State::Claim(Box::new(stored)),
                }
            }
            OwnerKind::Intake => {
                let stored: Stored<ItemRecord> = aggregate::decode(record)?;
                OwnerRecord {
                    org: stored.value.0.org.clone(),
                    state: State::Intake(Box::new(stored)),
                }
            }
            OwnerKind::Dispute => {
                let stored: Stored<DisputeRecord> = aggregate::decode(record)?;
                OwnerRecord {
                    org: stored.value.0.org.clone(),
                    state: State::Dispute(Box::new(stored)),
                }
            }
        })
    }
}

/// What a document did that its owner's history shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A follow-up message was opened because the previous one is full (or the
    /// client asked for it).
    FollowUpMessage { message: u32 },
    /// The document passed verification.
    DocumentAvailable { document: ReferenceId, message: u32 },
    /// The document failed verification.
    DocumentRejected {
        document: ReferenceId,
        reason: String,
    },
}

impl Note {
    fn action(&self) -> &'static str {
        match self {
            Note::FollowUpMessage { .. } => "follow_up_message",
            Note::DocumentAvailable { .. } => "document_added",
            Note::DocumentRejected { .. } => "document_rejected",
        }
    }

    /// Plain words, without file names or content.
    fn reason(&self) -> String {
        match self {
            Note::FollowUpMessage { message } => {
                format!("documents continue in follow-up message {message}")
            }
            Note::DocumentAvailable { document, message } => {
                format!("{document} (message {message}) is available")
            }
            Note::DocumentRejected { document, reason } => {
                format!("{document} was rejected: {reason}")
            }
        }
    }
}

impl OwnerRecord {
    /// The writes (with the owner's optimistic-concurrency condition) and
    /// events that add `note` to the owner's history.
    pub fn noted(
        &self,
        note: &Note,
        actor: Actor,
        at: Timestamp,
    ) -> Result<(Vec<WriteOp>, Vec<OutboxEvent>), StoreError> {
        match &self.state {
            State::PriorAuth(stored) => {
                let mut auth = stored.value.0.clone();
                auth.history.push(HistoryEntry {
                    at,
                    actor,
                    action: note.action().to_string(),
                    from: Some(auth.status),
                    to: auth.status,
                    reason: Some(note.reason()),
                });
                let change = prior_auths::Change::updated(stored, &auth, at)?;
                Ok((change.ops, vec![change.event]))
            }
            State::Claim(stored) => {
                let mut claim = stored.value.0.clone();
                claim.note(note.action(), note.reason(), actor, at);
                let change = claims::Change::updated(stored, &claim)?;
                Ok((change.ops, change.events))
            }
            State::Intake(stored) => {
                let mut item = stored.value.0.clone();
                item.history.push(ItemEvent {
                    at,
                    actor,
                    action: note.action().to_string(),
                    from: Some(item.status),
                    to: item.status,
                    reason: Some(note.reason()),
                });
                let change = intake::Change::updated(stored, &item)?;
                Ok((change.ops, Vec::new()))
            }
            State::Dispute(stored) => {
                let mut dispute = stored.value.0.clone();
                dispute.note(at, actor, note.action(), note.reason());
                let change = disputes::Change::updated(stored, &dispute, at)?;
                Ok((change.ops, change.events))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_parsed_by_kind() {
        let owner = Owner::parse(OwnerKind::PriorAuth, "pa-7k3q9m").unwrap();
        assert_eq!(owner.id.as_str(), "PA-7K3Q9M");
        assert_eq!(owner.partition().as_deref(), Some("PA#PA-7K3Q9M"));
        assert!(Owner::parse(OwnerKind::Claim, "PA-7K3Q9M").is_err());
        assert_eq!(OwnerKind::parse("intake"), Ok(OwnerKind::Intake));
        assert!(OwnerKind::parse("member").is_err());
        let claim = Owner::parse(OwnerKind::Claim, "CLM-7K3Q9M2P4X").unwrap();
        assert_eq!(claim.partition().as_deref(), Some("CLM#CLM-7K3Q9M2P4X"));
        let dispute = Owner::parse(OwnerKind::Dispute, "dsp-7k3q9m").unwrap();
        assert_eq!(dispute.partition().as_deref(), Some("DSP#DSP-7K3Q9M"));
        let item = Owner::parse(OwnerKind::Intake, "INT-7K3Q9M").unwrap();
        assert_eq!(item.partition(), Some(keys::intake_partition("INT-7K3Q9M")));
    }

    #[test]
    fn each_kind_is_worked_by_its_own_staff() {
        assert!(OwnerKind::PriorAuth.staff_roles().contains(&Role::UmNurse));
        assert!(
            !OwnerKind::PriorAuth
                .staff_roles()
                .contains(&Role::ClaimsExaminer)
        );
        assert!(OwnerKind::Intake.staff_roles().contains(&Role::IntakeClerk));
        assert!(!OwnerKind::Intake.staff_roles().contains(&Role::OpsAdmin));
        let item = Owner::parse(OwnerKind::Intake, "INT-7K3Q9M").unwrap();
        assert_eq!(item.partition().as_deref(), Some("INTAKE#INT-7K3Q9M"));
    }
}
