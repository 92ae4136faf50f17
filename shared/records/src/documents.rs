//! How a document is stored: the document record (`DOC#<id>`), its row in the
//! owner's partition (so the owner's read lists its documents with one query of
//! its own partition), the owner's message count, and the one transaction that
//! writes a change together with the owner's history, the outbox event and the
//! audit record. Used by the documents function, and by every job whose record
//! documents attach to (through [`of_owner`]).
//!
//! The file name a provider gave is PHI-ish: it lives in the record and its
//! owner row only, never in a key, an object's key or metadata, or a log line.

use jiff::Timestamp;
use mso_api::aggregate::{self, Aggregate, Stored};
use mso_api::audit::{self, AuditEvent};
use mso_api::outbox::OutboxEvent;
use mso_api::{Principal, RequestInfo};
use mso_domain::document::DocumentType;
use mso_domain::ids::{OrgId, RecordKind, ReferenceId};
use mso_domain::prior_auth::Actor;
use mso_store::{Condition, Key, Query, Record, RecordStore, StoreError, WriteOp, keys};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Ports;

pub mod owners;

pub use owners::{Owner, OwnerKind};

/// Where a document is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// An upload URL was issued; the bytes have not been checked yet.
    AwaitingUpload,
    /// The bytes are what was declared; staff and the owner's organisation may download it.
    Available,
    /// The bytes failed verification (the reason is kept); the object is deleted.
    Rejected,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::AwaitingUpload => "awaiting_upload",
            DocumentStatus::Available => "available",
            DocumentStatus::Rejected => "rejected",
        }
    }
}

/// Why a document was rejected, as verification said it (stable code, plain
/// words that never quote the content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectionNote {
    /// One of `empty`, `too_large`, `size_mismatch`, `type_mismatch`,
    /// `encrypted_pdf`, `not_ooxml`, `macros_present`, `corrupt`, `not_text`.
    #[schema(example = "type_mismatch")]
    pub code: String,
    #[schema(example = "declared as a PDF but the file is a ZIP archive")]
    pub message: String,
}

/// One uploaded (or awaited) document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: ReferenceId,
    pub owner: Owner,
    /// The organisation of the owner: who may see it (with the owner's IPA staff).
    pub org: OrgId,
    /// As the provider named it. Shown to those who may see the document; never
    /// in keys, object metadata or logs.
    pub file_name: String,
    pub document_type: DocumentType,
    /// The declared size in bytes; the upload must be exactly this long.
    pub size: u64,
    /// The message of the owner it travels in, from 1.
    pub message: u32,
    pub status: DocumentStatus,
    pub rejection: Option<RejectionNote>,
    pub uploaded_by: Actor,
    pub created_at: Timestamp,
    /// When verification decided (available or rejected).
    pub checked_at: Option<Timestamp>,
    /// The object key (`keys::document_object`).
    pub object_key: String,
}

impl Document {
    /// A new document awaiting its upload.
    #[allow(clippy::too_many_arguments)]
    pub fn awaiting(
        id: ReferenceId,
        owner: Owner,
        org: OrgId,
        file_name: String,
        document_type: DocumentType,
        size: u64,
        message: u32,
        uploaded_by: Actor,
        at: Timestamp,
    ) -> Document {
        let object_key = keys::document_object(id.as_str(), document_type.extension());
        Document {
            id,
            owner,
            org,
            file_name,
            document_type,
            size,
            message,
            status: DocumentStatus::AwaitingUpload,
            rejection: None,
            uploaded_by,
            created_at: at,
            checked_at: None,
            object_key,
        }
    }

    /// The document after verification said yes (`Ok`) or no.
    pub fn checked(&self, result: Result<(), RejectionNote>, at: Timestamp) -> Document {
        let mut doc = self.clone();
        doc.checked_at = Some(at);
        match result {
            Ok(()) => doc.status = DocumentStatus::Available,
            Err(note) => {
                doc.status = DocumentStatus::Rejected;
                doc.rejection = Some(note);
            }
        }
        doc
    }
}

/// A document as stored. A newtype so the storage trait can be implemented here.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocumentRecord(pub Document);

impl Aggregate for DocumentRecord {
    fn key(&self) -> Key {
        keys::document(self.0.id.as_str())
    }

    fn views(&self) -> Vec<Record> {
        let doc = &self.0;
        match doc.owner.partition() {
            Some(partition) => vec![Record::new(
                keys::document_link(&partition, doc.id.as_str()),
                mso_store::Body::of(&DocumentSummary::of(doc)).unwrap_or_default(),
            )],
            None => Vec::new(),
        }
    }
}

/// A document in its owner's list (and on its row in the owner's partition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DocumentSummary {
    #[schema(example = "DOC-7K3Q9M2P4X")]
    pub id: String,
    /// As the provider named it.
    #[schema(example = "mri-notes.pdf")]
    pub file_name: String,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// `awaiting_upload`, `available` or `rejected`.
    #[schema(example = "available")]
    pub status: String,
    /// The owner's message it travels in, from 1.
    pub message: u32,
    /// Why it was rejected.
    pub rejection: Option<RejectionNote>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When verification decided.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<Timestamp>,
}

impl DocumentSummary {
    pub fn of(doc: &Document) -> DocumentSummary {
        DocumentSummary {
            id: doc.id.to_string(),
            file_name: doc.file_name.clone(),
            content_type: doc.document_type.as_str().to_string(),
            size: doc.size,
            status: doc.status.as_str().to_string(),
            message: doc.message,
            rejection: doc.rejection.clone(),
            created_at: doc.created_at,
            checked_at: doc.checked_at,
        }
    }
}

/// Reads a document by its ID.
pub async fn load(
    store: &dyn RecordStore,
    id: &ReferenceId,
) -> Result<Option<Stored<DocumentRecord>>, StoreError> {
    aggregate::load(store, &keys::document(id.as_str())).await
}

/// Every document of `owner`, oldest first (by ID within a message, messages in
/// order), from the owner's own partition.
pub async fn of_owner(
    store: &dyn RecordStore,
    owner: &Owner,
) -> Result<Vec<DocumentSummary>, StoreError> {
    let Some(partition) = owner.partition() else {
        return Ok(Vec::new());
    };
    let read = partition_rows(store, &partition, keys::DOCUMENT_LINK_PREFIX, None).await?;
    Ok(read.documents)
}

/// What one query of an owner's partition found: its document rows in
/// [`of_owner`]'s order, and the owner's record and messages counter when the
/// query's prefix reaches them.
struct PartitionRows {
    /// The owner's own record, when asked for (`owner_sk`) and there.
    owner: Option<Record>,
    counter: Option<Record>,
    documents: Vec<DocumentSummary>,
}

async fn partition_rows(
    store: &dyn RecordStore,
    partition: &str,
    prefix: &str,
    owner_sk: Option<&str>,
) -> Result<PartitionRows, StoreError> {
    let mut owner = None;
    let mut counter = None;
    let mut out: Vec<DocumentSummary> = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(Query::primary(partition.to_owned(), prefix).after(cursor))
            .await?;
        for record in page.records {
            if Some(record.key.sk.as_str()) == owner_sk {
                owner = Some(record);
            } else if record.key.sk == keys::DOCUMENT_MESSAGES_SK {
                counter = Some(record);
            } else if record.key.sk.starts_with(keys::DOCUMENT_LINK_PREFIX) {
                let summary = record
                    .body
                    .decode()
                    .map_err(|e| StoreError::backend("reading a document row", e))?;
                out.push(summary);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    out.sort_by(|a, b| (a.message, a.created_at, &a.id).cmp(&(b.message, b.created_at, &b.id)));
    Ok(PartitionRows {
        owner,
        counter,
        documents: out,
    })
}

/// The owner and its messages, as a new upload needs them, in one query of the
/// owner's partition: the owner's record, its messages counter and its
/// document rows are all that partition holds (shared/store/src/keys.rs), so
/// this is one request where [`owners::resolve`] and a query of the document
/// rows would be two.
/// `None` when there is no such owner, or its kind keeps no documents yet.
pub async fn owner_with_messages(
    store: &dyn RecordStore,
    owner: &Owner,
) -> Result<Option<(owners::OwnerRecord, Messages)>, StoreError> {
    let Some(partition) = owner.partition() else {
        return Ok(None);
    };
    let owner_key = owner.key();
    let read = partition_rows(store, &partition, "", Some(&owner_key.sk)).await?;
    let Some(record) = read.owner else {
        return Ok(None);
    };
    let messages = Messages::from_rows(&partition, read.counter, read.documents)?;
    Ok(Some((
        owners::OwnerRecord::decode(owner.kind, record)?,
        messages,
    )))
}

/// The messages of one owner, as a new upload needs them: how many live
/// documents (awaiting their upload or available) each holds, and the record
/// whose version serialises concurrent uploads to the owner.
#[derive(Clone, Debug)]
pub struct Messages {
    key: Key,
    version: Option<u64>,
    /// `live[i]`: live documents of message `i + 1`; the length is the number
    /// of messages opened.
    pub live: Vec<u32>,
}

#[derive(Serialize, Deserialize)]
struct MessagesBody {
    last: u32,
}

impl Messages {
    /// The messages the owner's counter and document rows (in `partition`) say.
    fn from_rows(
        partition: &str,
        counter: Option<Record>,
        documents: Vec<DocumentSummary>,
    ) -> Result<Messages, StoreError> {
        let key = keys::document_messages(partition);
        let (version, last) = match counter {
            Some(record) => {
                let body: MessagesBody = record
                    .body
                    .decode()
                    .map_err(|e| StoreError::backend("reading an owner's messages", e))?;
                (Some(record.version), body.last)
            }
            None => (None, 0),
        };
        let mut live = vec![0u32; last as usize];
        for doc in documents {
            let index = doc.message.max(1) as usize - 1;
            if live.len() <= index {
                live.resize(index + 1, 0);
            }
            if doc.status != DocumentStatus::Rejected.as_str() {
                live[index] += 1;
            }
        }
        Ok(Messages { key, version, live })
    }

    /// The write that records `last` messages opened, failing if another upload
    /// to the owner committed since [`owner_with_messages`] read it.
    pub fn guard(&self, last: u32) -> WriteOp {
        let last = last.max(u32::try_from(self.live.len()).unwrap_or(u32::MAX));
        let body = serde_json::json!({ "last": last });
        match self.version {
            None => WriteOp::Put {
                record: Record::new(self.key.clone(), body),
                condition: Condition::Absent,
            },
            Some(version) => WriteOp::Put {
                record: Record::new(self.key.clone(), body).with_version(version + 1),
                condition: Condition::VersionIs(version),
            },
        }
    }
}

/// A change to commit: the writes of the document, its owner row and the
/// owner's history, the events to publish, the audit record.
pub struct Change {
    pub ops: Vec<WriteOp>,
    pub events: Vec<OutboxEvent>,
}

impl Change {
    /// The document was created.
    pub fn created(doc: &Document) -> Result<Change, StoreError> {
        Ok(Change {
            ops: aggregate::create(&DocumentRecord(doc.clone()))?,
            events: Vec::new(),
        })
    }

    /// The document changed from `old`.
    pub fn updated(old: &Stored<DocumentRecord>, doc: &Document) -> Result<Change, StoreError> {
        Ok(Change {
            ops: aggregate::update(old, &DocumentRecord(doc.clone()))?,
            events: Vec::new(),
        })
    }

    /// Adds writes of the same transaction (the owner's history, the messages guard).
    pub fn with(
        mut self,
        ops: impl IntoIterator<Item = WriteOp>,
        events: Vec<OutboxEvent>,
    ) -> Change {
        self.ops.extend(ops);
        self.events.extend(events);
        self
    }

    /// Adds the audit record of who did it.
    pub fn audited(
        mut self,
        who: &Principal,
        action: &'static str,
        doc: &Document,
        info: &RequestInfo,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        self.ops.push(audit::write_op(&AuditEvent {
            actor: who,
            action,
            purpose: doc.owner.kind.purpose(),
            subject_type: "document",
            subject_id: doc.id.as_str(),
            outcome: doc.status.as_str(),
            request_id: &info.request_id,
            at,
        })?);
        Ok(self)
    }

    /// Commits everything (plus `extra`, e.g. an idempotency completion) in one
    /// transaction, then publishes the events.
    pub async fn commit(
        mut self,
        ports: Ports<'_>,
        extra: Option<WriteOp>,
    ) -> Result<(), StoreError> {
        for event in &self.events {
            self.ops.push(event.stage()?);
        }
        self.ops.extend(extra);
        ports.records.transact(self.ops).await?;
        mso_api::outbox::publish(ports.records, ports.queue, &self.events).await;
        Ok(())
    }
}

/// The reference ID of a document, if `s` is one.
pub fn parse_id(s: &str) -> Option<ReferenceId> {
    ReferenceId::parse_kind(RecordKind::Document, s).ok()
}
