//! The S3 ObjectCreated handler: are the uploaded bytes what was declared?
//!
//! S3 delivers each event at least once, sometimes late, in no guaranteed
//! order; `mso serve` calls this handler with the same [`S3Event`] after a
//! presigned PUT. So the handler is idempotent and order-safe:
//!
//! - Only keys this job issued are looked at (`documents/<DOC id>.<ext>` of an
//!   existing document); anything else is ignored and logged.
//! - Only a document `awaiting_upload` is verified, and the change is a
//!   conditional write on its version: a duplicate event, or one that arrives
//!   after another already decided, changes nothing. A verified document stays
//!   verified (and presigned PUTs only create, so its bytes cannot change).
//! - The decision, the owner's row and the owner's history entry are written in
//!   one transaction; then a rejected object is deleted (the record keeps the
//!   reason; versioned copies go with the bucket's lifecycle rule). A failed
//!   delete is retried with the event, and any later event for a rejected
//!   document deletes its object again.
//! - A storage failure is an error, so Lambda retries the event (and, after its
//!   retries, sends it to the dead-letter queue): an upload is never lost.
//!
//! Logs carry document IDs and rejection codes only, never file names or content.

use aws_lambda_events::s3::S3Event;
use jiff::Timestamp;
use mso_api::s3_event;
use mso_domain::document;
use mso_domain::prior_auth::Actor;
use mso_records::documents::owners::{self, Note};
use mso_records::documents::{self, Change, DocumentStatus, RejectionNote};
use mso_store::{StoreError, keys};
use serde::Serialize;

use crate::Deps;

/// Attempts when the document or its owner changes between read and write.
const ATTEMPTS: usize = 5;

/// What one event record did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    /// The bytes are what was declared.
    Available,
    /// They are not; `code` is the rejection's (`type_mismatch`, ...).
    Rejected { code: String },
    /// The document was decided before (a duplicate or late event), or its
    /// object is not there: nothing changed.
    Unchanged { why: &'static str },
    /// Not an object this job issued, or not an ObjectCreated event.
    Ignored { why: &'static str },
}

/// One record of the event and what came of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The object key (keys carry no PHI).
    pub key: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The answer to an event: one entry per record, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub records: Vec<Checked>,
}

/// Some records could not be handled because storage failed: the whole event
/// is retried (the records that were handled change nothing the second time).
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} S3 event records failed and will be retried: {first}")]
pub struct VerifyError {
    pub failed: usize,
    pub total: usize,
    #[source]
    pub first: StoreError,
}

/// Handles every record of `event`; fails if any record failed on storage.
pub async fn handle(deps: &Deps, event: S3Event) -> Result<Report, VerifyError> {
    let total = event.records.len();
    let mut report = Report::default();
    let mut failures = Vec::new();
    for record in event.records {
        let raw = record.s3.object.key.unwrap_or_default();
        let created = record
            .event_name
            .as_deref()
            .is_some_and(|name| name.starts_with("ObjectCreated:"));
        let result = match s3_event::decode_key(&raw) {
            _ if !created => Ok(Verdict::Ignored {
                why: "not an ObjectCreated event",
            }),
            None => Ok(Verdict::Ignored {
                why: "the key is not URL-encoded UTF-8",
            }),
            Some(key) => object(deps, &key).await,
        };
        match result {
            Ok(verdict) => {
                log(&raw, &verdict);
                report.records.push(Checked { key: raw, verdict });
            }
            Err(e) => {
                tracing::error!(key = %raw, error = %e, "document verification failed; the event will be retried");
                failures.push(e);
            }
        }
    }
    match failures.into_iter().next() {
        None => Ok(report),
        Some(first) => Err(VerifyError {
            failed: total - report.records.len(),
            total,
            first,
        }),
    }
}

fn log(key: &str, verdict: &Verdict) {
    match verdict {
        Verdict::Available => tracing::info!(key, outcome = "available", "document verified"),
        Verdict::Rejected { code } => {
            tracing::info!(
                key,
                outcome = "rejected",
                code = code.as_str(),
                "document rejected"
            )
        }
        Verdict::Unchanged { why } => {
            tracing::info!(key, outcome = "unchanged", why, "document event")
        }
        Verdict::Ignored { why } => {
            tracing::warn!(key, outcome = "ignored", why, "object event ignored")
        }
    }
}

/// Verifies the object at `key` (decoded), if it is an awaited document's.
pub async fn object(deps: &Deps, key: &str) -> Result<Verdict, StoreError> {
    let Some(id) = keys::document_of_object(key).and_then(documents::parse_id) else {
        return Ok(Verdict::Ignored {
            why: "not a document object",
        });
    };
    let store = deps.records.as_ref();
    // The bytes are read once, whatever the retries of the write below.
    let mut bytes = None;
    for _ in 0..ATTEMPTS {
        let Some(stored) = documents::load(store, &id).await? else {
            return Ok(Verdict::Ignored {
                why: "no such document",
            });
        };
        let doc = &stored.value.0;
        if doc.object_key != key {
            return Ok(Verdict::Ignored {
                why: "not the document's object",
            });
        }
        match doc.status {
            DocumentStatus::AwaitingUpload => {}
            DocumentStatus::Available => {
                return Ok(Verdict::Unchanged {
                    why: "already available",
                });
            }
            DocumentStatus::Rejected => {
                // Deleted after the rejection; again in case that failed.
                deps.documents.delete(key).await?;
                return Ok(Verdict::Unchanged {
                    why: "already rejected",
                });
            }
        }
        // The object and the owner at once: neither needs the other.
        let (fetched, owner) = tokio::try_join!(
            async {
                match bytes {
                    None => deps.documents.get(key).await.map(Some),
                    Some(_) => Ok(None),
                }
            },
            owners::resolve(store, &doc.owner),
        )?;
        match fetched {
            Some(Some((_, b))) => bytes = Some(b),
            Some(None) => {
                return Ok(Verdict::Unchanged {
                    why: "the object is not there",
                });
            }
            None => {}
        }
        let content = bytes.as_deref().unwrap_or_default();
        let now = deps.clock.now();
        let result = document::verify(
            doc.document_type,
            doc.size,
            deps.policy.attachments.max_bytes,
            content,
        )
        .map(|_| ())
        .map_err(|r| RejectionNote {
            code: r.code().to_string(),
            message: r.message(),
        });
        let checked = doc.checked(result, now);
        let mut change = Change::updated(&stored, &checked)?;
        if let Some(owner) = owner {
            let (ops, events) = owner.noted(&note(&checked), Actor::system(), now)?;
            change = change.with(ops, events);
        }
        match change.commit(deps.ports(), None).await {
            Ok(()) => {}
            // A duplicate event decided first, or the owner changed: look again.
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
        return Ok(match checked.rejection {
            None => Verdict::Available,
            Some(note) => {
                deps.documents.delete(key).await?;
                Verdict::Rejected { code: note.code }
            }
        });
    }
    Err(StoreError::unavailable(
        "verifying a document",
        "the document or its owner kept changing",
    ))
}

fn note(doc: &documents::Document) -> Note {
    match &doc.rejection {
        None => Note::DocumentAvailable {
            document: doc.id.clone(),
            message: doc.message,
        },
        Some(rejection) => Note::DocumentRejected {
            document: doc.id.clone(),
            reason: rejection.message.clone(),
        },
    }
}

/// The event S3 sends when `key` of `bucket` was created by a PUT of `size`
/// bytes at `at`: what `mso serve` hands the handler after a presigned upload.
pub fn object_created(bucket: &str, key: &str, size: u64, at: Timestamp) -> S3Event {
    s3_event::object_created(bucket, "documents-verify", key, size, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_event_is_a_real_object_created_event() {
        let at: Timestamp = "2026-03-02T17:05:00Z".parse().unwrap();
        let event = object_created("docs", "documents/DOC-7K3Q9M2P4X.pdf", 42, at);
        let record = &event.records[0];
        assert_eq!(record.event_name.as_deref(), Some("ObjectCreated:Put"));
        assert_eq!(record.event_source.as_deref(), Some("aws:s3"));
        assert_eq!(
            record.s3.object.key.as_deref(),
            Some("documents/DOC-7K3Q9M2P4X.pdf")
        );
        assert_eq!(record.s3.object.size, Some(42));
        assert_eq!(record.s3.bucket.name.as_deref(), Some("docs"));
        assert_eq!(record.event_time.timestamp(), at.as_second());
    }
}
