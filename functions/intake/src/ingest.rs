//! The intake bucket's S3 ObjectCreated handler: one fax or email into one
//! intake item.
//!
//! For each record of the event: read the object (`fax/…`, with the gateway's
//! sidecar `fax/<name>.json` if there is one; or `email/…` as SES stores it),
//! parse it ([`crate::parse_intake`]; `parse` says on which thread), store each
//! attachment (or the fax itself) as a document owned by the item, verified in
//! place with `mso_domain::document::verify` exactly as an upload is, and link
//! the item to the prior auth, claim or open dispute it quotes when that record
//! exists (a dispute or an appeal quoting an auth or claim is not linked: it
//! starts a record of its own with its own clock; quoting an open dispute it is
//! correspondence on that dispute); otherwise the item waits on the clerk's queue (`queued`) with what
//! was found and every problem. The item, its documents' records, the auth's history entry and the
//! audit record are one transaction.
//!
//! Why the documents are verified here rather than by dropping them into the
//! documents bucket for its verifying handler: that handler checks uploads that
//! a client declared (`awaiting_upload`), in a second asynchronous hop; here the
//! bytes are already in hand, so the item is written once, complete, with each
//! document `available` or `rejected` and the reason. The object is put into the
//! documents bucket first, so an `available` record always has its bytes (the
//! documents verifier, if notified, finds the document decided and changes
//! nothing).
//!
//! Delivery is at least once, late and unordered, so the handler is idempotent:
//! the item's write claims the object (a digest of bucket, key and version)
//! with a conditional put, and a redelivered or concurrent duplicate event
//! changes nothing. A bad object (corrupt PDF, MIME bomb, zero-byte fax, unknown
//! sender, undecodable subject) is never an error: it is filed with its reasons.
//! Only a storage failure is an error, so Lambda retries the event and, after
//! three failures, sends it to the dead-letter queue.
//!
//! Logs carry object keys (gateway file names and SES message IDs, which carry
//! no PHI), item IDs, kinds and problem codes, never senders, subjects or text.

use aws_lambda_events::s3::S3Event;
use bytes::Bytes;
use jiff::Timestamp;
use mso_api::aggregate::Stored;
use mso_api::outbox::{self, OutboxEvent};
use mso_api::{Principal, RequestInfo, s3_event};
use mso_domain::document::{self, DocumentType};
use mso_domain::ids::{MemberId, OrgId, RecordKind, ReferenceId};
use mso_domain::intake::IntakeKind;
use mso_domain::intake::item::ItemStatus;
use mso_domain::prior_auth::{Actor, HistoryEntry};
use mso_records::claims::{self, ClaimRecord};
use mso_records::disputes::{self, DisputeRecord};
use mso_records::documents::{self as docs, Document, RejectionNote};
use mso_records::intake::{
    self, Channel, IntakeItem, ItemEvent, ItemProblem, LinkKind, RecordLink,
};
use mso_records::prior_auths::{self, AuthRecord};
use mso_store::{StoreError, WriteOp, keys};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Deps, FaxMetadata, IntakeObject, ParsedItem, ReceiptSource, Source};

/// Attempts when the linked auth changes, or a new ID is taken, between read and write.
const ATTEMPTS: usize = 3;

/// What one event record did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A new item: its status (`queued`, `linked`, `failed`), what it is, how
    /// many documents were stored, and the codes of its problems.
    Filed {
        item: String,
        status: String,
        kind: String,
        documents: usize,
        problems: Vec<String>,
    },
    /// The object was filed before (a redelivered or duplicate event).
    Unchanged { item: String, why: &'static str },
    /// Not an intake object (a sidecar, another prefix) or not an ObjectCreated event.
    Ignored { why: &'static str },
}

/// One record of the event and what came of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Handled {
    /// The object key (gateway names and SES message IDs carry no PHI).
    pub key: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The answer to an event: one entry per record, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub records: Vec<Handled>,
}

/// Some records could not be handled because storage failed: the whole event
/// is retried (records already filed change nothing the second time).
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} S3 event records failed and will be retried: {first}")]
pub struct IngestError {
    pub failed: usize,
    pub total: usize,
    #[source]
    pub first: StoreError,
}

/// Handles every record of `event`; fails if any record failed on storage.
#[tracing::instrument(name = "intake.ingest", skip_all, fields(records))]
pub async fn handle(deps: &Deps, event: S3Event) -> Result<Report, IngestError> {
    let total = event.records.len();
    tracing::Span::current().record("records", total);
    let mut report = Report::default();
    let mut failures = Vec::new();
    for record in event.records {
        let raw = record.s3.object.key.clone().unwrap_or_default();
        let created = s3_event::is_created(&record);
        let bucket = record.s3.bucket.name.clone().unwrap_or_default();
        // The same object delivered twice has the same version (or, unversioned,
        // the same ETag and sequencer); a new PUT of the key is a new object.
        let object = &record.s3.object;
        let version = [
            object.version_id.as_deref(),
            object.e_tag.as_deref(),
            object.sequencer.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
        let event_time = Timestamp::new(
            record.event_time.timestamp(),
            i32::try_from(record.event_time.timestamp_subsec_nanos()).unwrap_or(0),
        )
        .ok()
        .filter(|t| t.as_second() > 0);
        let result = match s3_event::decode_key(&raw) {
            _ if !created => Ok(Outcome::Ignored {
                why: "not an ObjectCreated event",
            }),
            None => Ok(Outcome::Ignored {
                why: "the key is not URL-encoded UTF-8",
            }),
            Some(key) => object_created(deps, &bucket, &key, &version, event_time).await,
        };
        match result {
            Ok(outcome) => {
                log(&raw, &outcome);
                report.records.push(Handled { key: raw, outcome });
            }
            Err(e) => {
                tracing::error!(key = %raw, error = %e, "intake failed; the event will be retried");
                failures.push(e);
            }
        }
    }
    match failures.into_iter().next() {
        None => Ok(report),
        Some(first) => Err(IngestError {
            failed: total - report.records.len(),
            total,
            first,
        }),
    }
}

fn log(key: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Filed {
            item,
            status,
            kind,
            documents,
            problems,
        } => tracing::info!(
            key,
            item = item.as_str(),
            status = status.as_str(),
            kind = kind.as_str(),
            documents,
            problems = problems.join(",").as_str(),
            "intake item filed"
        ),
        Outcome::Unchanged { item, why } => {
            tracing::info!(key, item = item.as_str(), why, "intake object filed before")
        }
        Outcome::Ignored { why } => tracing::warn!(key, why, "object event ignored"),
    }
}

/// The digest that names one intake object (no PHI from its name in the key).
fn object_digest(bucket: &str, key: &str, version: &str) -> String {
    let mut h = Sha256::new();
    for part in [bucket, key, version] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Files the object at `key` (decoded) of `bucket` as an intake item, once.
pub async fn object_created(
    deps: &Deps,
    bucket: &str,
    key: &str,
    version: &str,
    event_time: Option<Timestamp>,
) -> Result<Outcome, StoreError> {
    let channel = if key.starts_with(keys::INTAKE_FAX_PREFIX) {
        if key.ends_with(".json") {
            return Ok(Outcome::Ignored {
                why: "a fax's sidecar (read with its fax)",
            });
        }
        Channel::Fax
    } else if key.starts_with(keys::INTAKE_EMAIL_PREFIX) {
        Channel::Email
    } else {
        return Ok(Outcome::Ignored {
            why: "not under fax/ or email/",
        });
    };
    let digest = object_digest(bucket, key, version);
    let store = deps.records.as_ref();
    // Whether it was filed before, the object and, for a fax, its gateway's
    // sidecar: one round trip. A redelivered event, which is rare, reads the
    // object for nothing; every first delivery saves a round trip.
    let (filed, object, (fax, mut problems)) = tokio::try_join!(
        intake::filed_from(store, &digest),
        deps.intake_objects.get(key),
        async {
            match channel {
                Channel::Fax => sidecar(deps, key).await,
                Channel::Email => Ok((FaxMetadata::default(), Vec::new())),
            }
        }
    )?;
    if let Some(item) = filed {
        return Ok(Outcome::Unchanged {
            item: item.to_string(),
            why: "already filed",
        });
    }
    let Some((_, bytes)) = object else {
        return file_missing(deps, channel, key, &digest, event_time).await;
    };
    let object = IntakeObject {
        source: match channel {
            Channel::Fax => Source::Fax,
            Channel::Email => Source::Email,
        },
        bytes,
        file_name: key.rsplit('/').next().map(str::to_owned),
        fax,
        event_time,
    };
    let parsed = parse(object, &deps.limits).await?;
    problems.extend(parsed.problems.iter().map(|p| ItemProblem {
        code: p.code.to_string(),
        message: p.message.clone(),
    }));
    file_parsed(deps, channel, key, &digest, parsed, problems, event_time).await
}

/// Parses `object`, CPU-bound within its own time budgets. On a multi-thread
/// runtime (`mso serve`'s) that is off the async workers, on the blocking pool,
/// so other requests are not stalled for its length. On a current-thread one (a
/// Lambda function's, which handles one event at a time and has nothing else to
/// stall) it is in place: a blocking thread would only add its start, and a new
/// allocator arena, to a cold invocation.
async fn parse(object: IntakeObject, limits: &crate::Limits) -> Result<ParsedItem, StoreError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::current().runtime_flavor() {
        RuntimeFlavor::CurrentThread => Ok(crate::parse_intake(&object, limits)),
        _ => {
            let limits = limits.clone();
            tokio::task::spawn_blocking(move || crate::parse_intake(&object, &limits))
                .await
                .map_err(|e| StoreError::backend("parsing an intake object", e))
        }
    }
}

/// The gateway's sidecar beside a fax, if it wrote one.
async fn sidecar(deps: &Deps, key: &str) -> Result<(FaxMetadata, Vec<ItemProblem>), StoreError> {
    let Some(sidecar) = keys::intake_fax_sidecar(key) else {
        return Ok((FaxMetadata::default(), Vec::new()));
    };
    Ok(match deps.intake_objects.get(&sidecar).await? {
        None => (FaxMetadata::default(), Vec::new()),
        Some((_, bytes)) => {
            let (meta, problems) = FaxMetadata::from_sidecar_json(&bytes);
            (
                meta,
                problems
                    .into_iter()
                    .map(|p| ItemProblem {
                        code: p.code.to_string(),
                        message: p.message,
                    })
                    .collect(),
            )
        }
    })
}

/// One document to store: its record, and its bytes when they are to be kept.
struct Part {
    doc: Document,
    bytes: Option<Bytes>,
}

/// The documents of a parsed item, verified as uploads are; parts of a type
/// documents do not accept are noted (the original object keeps them).
fn parts_of(
    deps: &Deps,
    channel: Channel,
    parsed: &ParsedItem,
    item: &ReferenceId,
    org: &OrgId,
    now: Timestamp,
    problems: &mut Vec<ItemProblem>,
) -> Vec<Part> {
    let max_bytes = deps.policy.attachments.max_bytes;
    let mut parts = Vec::with_capacity(parsed.documents.len());
    for (i, part) in parsed.documents.iter().enumerate() {
        let n = i + 1;
        let label = match channel {
            Channel::Fax => "the fax".to_string(),
            Channel::Email => format!("attachment {n}"),
        };
        let Ok(document_type) = DocumentType::parse(&part.content_type) else {
            problems.push(ItemProblem {
                code: "not_a_document_type".into(),
                message: format!(
                    "{label} is not a type documents accept (it is stored as {}); the original {} is kept in the intake bucket",
                    part.kind.content_type(),
                    channel.as_str()
                ),
            });
            continue;
        };
        let size = part.bytes.len() as u64;
        let file_name = part
            .file_name
            .clone()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or_else(|| format!("{}-{n}.{}", channel.as_str(), document_type.extension()));
        let doc = Document::awaiting(
            mso_api::ids::new_reference(RecordKind::Document),
            docs::Owner {
                kind: docs::OwnerKind::Intake,
                id: item.clone(),
            },
            org.clone(),
            file_name,
            document_type,
            size,
            1,
            Actor::system(),
            now,
        );
        let verdict = document::verify(document_type, size, max_bytes, &part.bytes)
            .map(|_| ())
            .map_err(|r| RejectionNote {
                code: r.code().to_string(),
                message: r.message(),
            });
        if let Err(note) = &verdict {
            problems.push(ItemProblem {
                code: format!("document_{}", note.code),
                message: format!("{label} was not kept as a document: {}", note.message),
            });
        }
        let doc = doc.checked(verdict, now);
        let bytes = (doc.status == docs::DocumentStatus::Available).then(|| part.bytes.clone());
        parts.push(Part { doc, bytes });
    }
    parts
}

/// Who the intake handler is in the audit trail and in histories.
fn system_principal(org: &OrgId) -> Principal {
    Principal {
        subject: "intake".into(),
        org: org.clone(),
        roles: Vec::new(),
        npis: Vec::new(),
    }
}

fn intake_actor(org: &OrgId) -> Actor {
    Actor {
        subject: "intake".into(),
        org: org.to_string(),
        role: "system".into(),
    }
}

/// A record a reference in the item names, that it can be linked to.
pub(crate) enum Target {
    PriorAuth(Box<Stored<AuthRecord>>),
    Claim(Box<Stored<ClaimRecord>>),
    Dispute(Box<Stored<DisputeRecord>>),
}

/// The record of `reference`, if one exists that items can be linked to.
pub(crate) async fn target(
    store: &dyn mso_store::RecordStore,
    kind: LinkKind,
    reference: &ReferenceId,
) -> Result<Option<Target>, StoreError> {
    match kind {
        LinkKind::PriorAuth => Ok(prior_auths::load(store, reference)
            .await?
            .map(|stored| Target::PriorAuth(Box::new(stored)))),
        LinkKind::Claim => Ok(claims::load(store, reference)
            .await?
            .map(|stored| Target::Claim(Box::new(stored)))),
        LinkKind::Dispute => Ok(disputes::load(store, reference)
            .await?
            .map(|stored| Target::Dispute(Box::new(stored)))),
    }
}

/// How many of one kind of read or write for an item are in flight at once: a
/// fax has one part and quotes a record or two; an email quoting fifty should
/// not open fifty connections.
const IN_FLIGHT: usize = 8;

/// The results of `requests`, in order, [`IN_FLIGHT`] at a time. A `Vec`, not
/// an iterator: the closures of an iterator held across an await make the
/// future not `Send` for every lifetime, which `mso serve`'s spawn needs.
async fn together<T>(
    requests: Vec<impl Future<Output = Result<T, StoreError>>>,
) -> Result<Vec<T>, StoreError> {
    use futures_util::{StreamExt, TryStreamExt};
    futures_util::stream::iter(requests)
        .buffered(IN_FLIGHT)
        .try_collect()
        .await
}

/// Stores the bytes of every part that has them (an attachment, the fax)
/// under its document's key.
async fn store_bytes(deps: &Deps, parts: &[Part]) -> Result<(), StoreError> {
    let puts = parts.iter().filter_map(|part| {
        let bytes = part.bytes.clone()?;
        let doc = &part.doc;
        Some(
            deps.documents
                .put(&doc.object_key, doc.document_type.as_str(), bytes),
        )
    });
    let puts: Vec<_> = puts.collect();
    together(puts).await?;
    Ok(())
}

/// A member ID with a date of birth is a lead for the clerk only when it is a
/// member on file: the problem that says none is, if none is (no values in
/// its message: PHI). The members are read in one request.
async fn members_on_file(
    store: &dyn mso_store::RecordStore,
    found: &mso_domain::intake::Found,
) -> Result<Option<ItemProblem>, StoreError> {
    let (ids, dobs): (Vec<&MemberId>, Vec<_>) = found.members_with_dob().unzip();
    let mentioned = ids.len();
    if mentioned == 0 {
        return Ok(None);
    }
    let members = mso_api::directory::members(store, &ids).await?;
    let on_file = members
        .iter()
        .zip(dobs)
        .any(|(member, dob)| member.as_ref().is_some_and(|m| m.dob == dob));
    Ok((!on_file).then(|| ItemProblem {
        code: "member_not_on_file".into(),
        message: format!(
            "{mentioned} member ID(s) with a date of birth were found, and none matches a member on file"
        ),
    }))
}

/// The record each reference an item may be linked to names (`None`: no such
/// record), in the order quoted.
async fn targets<'a>(
    store: &dyn mso_store::RecordStore,
    references: &'a [ReferenceId],
) -> Result<Vec<(&'a ReferenceId, Option<Target>)>, StoreError> {
    let reads = references.iter().filter_map(|reference| {
        let kind = link_kind(reference.kind())?;
        Some(async move { Ok::<_, StoreError>((reference, target(store, kind, reference).await?)) })
    });
    let reads: Vec<_> = reads.collect();
    together(reads).await
}

/// Kinds of item that start a record of their own with its own legal clock
/// (a provider dispute, an appeal): quoting an existing claim or auth does not
/// make them a follow-up of it, so they are never linked automatically.
fn starts_new_record(kind: IntakeKind) -> bool {
    matches!(kind, IntakeKind::Dispute | IntakeKind::Appeal)
}

fn link_kind(kind: RecordKind) -> Option<LinkKind> {
    match kind {
        RecordKind::PriorAuth => Some(LinkKind::PriorAuth),
        RecordKind::Claim => Some(LinkKind::Claim),
        RecordKind::Dispute => Some(LinkKind::Dispute),
        _ => None,
    }
}

impl Target {
    /// The writes (and event) that note `item` in the target's history.
    pub(crate) fn noted(
        &self,
        item: &IntakeItem,
        documents: &[ReferenceId],
        actor: Actor,
        at: Timestamp,
    ) -> Result<(Vec<WriteOp>, Vec<OutboxEvent>), StoreError> {
        let docs = if documents.is_empty() {
            "no documents".to_string()
        } else {
            format!(
                "documents {}",
                documents
                    .iter()
                    .map(ReferenceId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let reason = format!(
            "{} ({} received {}) linked, with {docs}",
            item.id,
            item.channel.as_str(),
            item.received_at
        );
        match self {
            Target::PriorAuth(stored) => {
                let mut auth = stored.value.0.clone();
                auth.history.push(HistoryEntry {
                    at,
                    actor,
                    action: "intake_linked".into(),
                    from: Some(auth.status),
                    to: auth.status,
                    reason: Some(reason),
                });
                let change = prior_auths::Change::updated(stored, &auth, at)?;
                Ok((change.ops, vec![change.event]))
            }
            Target::Claim(stored) => {
                let mut claim = stored.value.0.clone();
                claim.note("intake_linked", reason, actor, at);
                let change = claims::Change::updated(stored, &claim)?;
                Ok((change.ops, change.events))
            }
            Target::Dispute(stored) => {
                let mut dispute = stored.value.0.clone();
                dispute.note(at, actor, "intake_linked", reason);
                let change = disputes::Change::updated(stored, &dispute, at)?;
                Ok((change.ops, change.events))
            }
        }
    }

    pub(crate) fn link(&self, automatic: bool) -> RecordLink {
        match self {
            Target::PriorAuth(stored) => RecordLink {
                kind: LinkKind::PriorAuth,
                id: stored.value.0.id.clone(),
                automatic,
            },
            Target::Claim(stored) => RecordLink {
                kind: LinkKind::Claim,
                id: stored.value.0.id.clone(),
                automatic,
            },
            Target::Dispute(stored) => RecordLink {
                kind: LinkKind::Dispute,
                id: stored.value.0.id.clone(),
                automatic,
            },
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn file_parsed(
    deps: &Deps,
    channel: Channel,
    key: &str,
    digest: &str,
    parsed: ParsedItem,
    mut problems: Vec<ItemProblem>,
    event_time: Option<Timestamp>,
) -> Result<Outcome, StoreError> {
    let store = deps.records.as_ref();
    let org = OrgId::parse(&deps.policy.ipa.id)
        .map_err(|e| StoreError::backend("the policy's IPA id", e.message.to_string()))?;
    let now = deps.clock.now();
    let mut id = mso_api::ids::new_reference(RecordKind::IntakeItem);
    let mut parts = parts_of(deps, channel, &parsed, &id, &org, now, &mut problems);
    // One round trip before the write: the bytes (they go first, so an
    // `available` record always has its object), the members the item quotes
    // and the records it references.
    let ((), members, mut quoted) = tokio::try_join!(
        store_bytes(deps, &parts),
        members_on_file(store, &parsed.found),
        targets(store, &parsed.found.references),
    )?;
    problems.extend(members);
    let (received_at, receipt_source) = match parsed.received {
        Some(r) => (r.at, receipt_source(r.source)),
        None => (event_time.unwrap_or(now), "s3_event"),
    };
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            // The ID may have been taken (about one in a billion): draw again.
            id = mso_api::ids::new_reference(RecordKind::IntakeItem);
            for part in &mut parts {
                part.doc.owner.id = id.clone();
            }
        }
        let mut item_problems = problems.clone();
        // The first reference that names an existing record links the item,
        // unless the item starts something of its own (a dispute or an
        // appeal has its own legal clock): that waits for a clerk to file it.
        // A quoted dispute that is still open is the exception: the item is
        // correspondence on it (more documents for its reviewer), whatever
        // else it quotes; a decided or closed one waits for the clerk, who
        // decides whether it is a new dispute.
        let starts_new = starts_new_record(parsed.classification.kind);
        let mut linked = None;
        let mut awaiting = Vec::new();
        if attempt > 0 {
            // The write found a record changed since it was read.
            quoted = targets(store, &parsed.found.references).await?;
        }
        for (reference, target) in std::mem::take(&mut quoted) {
            match target {
                Some(Target::Dispute(d)) if !d.value.0.is_open() => {
                    item_problems.push(ItemProblem {
                        code: "dispute_not_open".into(),
                        message: format!(
                            "{reference} is {}: the item waits for a clerk to link it or file a new dispute",
                            d.value.0.status.as_str()
                        ),
                    })
                }
                Some(t) if starts_new && !matches!(t, Target::Dispute(_)) => awaiting.push(ItemProblem {
                    code: "awaits_filing".into(),
                    message: format!(
                        "{reference} exists, but the item is a {}: it waits for a clerk to file it rather than being linked",
                        parsed.classification.kind.label()
                    ),
                }),
                Some(t) if linked.is_none() => linked = Some(t),
                Some(_) => {}
                None => item_problems.push(ItemProblem {
                    code: "reference_not_found".into(),
                    message: format!("{reference} is quoted but no such record exists"),
                }),
            }
        }
        if linked.is_none() {
            item_problems.extend(awaiting);
        }
        let mut item = IntakeItem {
            id: id.clone(),
            org: org.clone(),
            channel,
            object_key: key.to_string(),
            sender: parsed.sender.clone(),
            subject: parsed.subject.clone(),
            message_id: parsed.message_id.clone(),
            received_at,
            receipt_source: receipt_source.to_string(),
            arrived_at: now,
            found: parsed.found.clone(),
            classification: parsed.classification.clone(),
            problems: item_problems,
            status: ItemStatus::Queued,
            closed_at: None,
            link: None,
            text_bytes: parsed.text.len() as u64,
            history: vec![ItemEvent {
                at: now,
                actor: intake_actor(&org),
                action: "received".into(),
                from: None,
                to: ItemStatus::Queued,
                reason: Some(format!(
                    "{} as {} ({}); {} document(s)",
                    channel.as_str(),
                    parsed.classification.kind.label(),
                    parsed.classification.explanation(),
                    parts.len()
                )),
            }],
        };
        let mut ops = Vec::new();
        let mut events = Vec::new();
        if let Some(t) = &linked {
            let doc_ids: Vec<ReferenceId> = parts.iter().map(|p| p.doc.id.clone()).collect();
            let link = t.link(true);
            let reason = format!("{} quoted in the {}", link.id, channel.as_str());
            item = item.closed(ItemStatus::Linked, link, intake_actor(&org), reason, now);
            let (target_ops, target_events) = t.noted(&item, &doc_ids, intake_actor(&org), now)?;
            ops.extend(target_ops);
            events.extend(target_events);
        }
        for part in &parts {
            ops.extend(docs::Change::created(&part.doc)?.ops);
        }
        for event in &events {
            ops.push(event.stage()?);
        }
        let info = RequestInfo {
            request_id: digest[..16].to_string(),
            correlation_id: digest[..16].to_string(),
        };
        let change = intake::Change::created(&item, digest)?.with(ops).audited(
            &system_principal(&org),
            "intake.receive",
            &item,
            &info,
            now,
        )?;
        match change.commit(store, None).await {
            Ok(()) => {
                outbox::publish(store, deps.queue.as_ref(), &events).await;
                return Ok(Outcome::Filed {
                    item: item.id.to_string(),
                    status: item.status.as_str().to_string(),
                    kind: item.classification.kind.as_str().to_string(),
                    documents: parts.len(),
                    problems: item.problems.iter().map(|p| p.code.clone()).collect(),
                });
            }
            Err(StoreError::ConditionFailed) => {
                if let Some(first) = intake::filed_from(store, digest).await? {
                    // A duplicate event filed it meanwhile: ours are spare copies.
                    for part in &parts {
                        if part.bytes.is_some() {
                            deps.documents.delete(&part.doc.object_key).await?;
                        }
                    }
                    return Ok(Outcome::Unchanged {
                        item: first.to_string(),
                        why: "filed by a concurrent delivery",
                    });
                }
                tracing::info!(attempt, "intake item write conflicted; trying again");
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::unavailable(
        "filing an intake item",
        "the linked record kept changing",
    ))
}

/// The object was deleted before it could be read: an item says so, so what
/// arrived is not lost without a trace.
async fn file_missing(
    deps: &Deps,
    channel: Channel,
    key: &str,
    digest: &str,
    event_time: Option<Timestamp>,
) -> Result<Outcome, StoreError> {
    let store = deps.records.as_ref();
    let org = OrgId::parse(&deps.policy.ipa.id)
        .map_err(|e| StoreError::backend("the policy's IPA id", e.message.to_string()))?;
    let now = deps.clock.now();
    let found = mso_domain::intake::Found::default();
    let item = IntakeItem {
        id: mso_api::ids::new_reference(RecordKind::IntakeItem),
        org: org.clone(),
        channel,
        object_key: key.to_string(),
        sender: None,
        subject: None,
        message_id: None,
        received_at: event_time.unwrap_or(now),
        receipt_source: "s3_event".into(),
        arrived_at: now,
        classification: mso_domain::intake::classify(None, "", &found),
        found,
        problems: vec![ItemProblem {
            code: "object_missing".into(),
            message: format!(
                "the {} was deleted from the intake bucket before it could be read; ask the sender to send it again",
                channel.as_str()
            ),
        }],
        status: ItemStatus::Failed,
        closed_at: None,
        link: None,
        text_bytes: 0,
        history: vec![ItemEvent {
            at: now,
            actor: intake_actor(&org),
            action: "failed".into(),
            from: None,
            to: ItemStatus::Failed,
            reason: Some("the object was not there to read".into()),
        }],
    };
    let info = RequestInfo {
        request_id: digest[..16].to_string(),
        correlation_id: digest[..16].to_string(),
    };
    let change = intake::Change::created(&item, digest)?.audited(
        &system_principal(&org),
        "intake.receive",
        &item,
        &info,
        now,
    )?;
    match change.commit(store, None).await {
        Ok(()) => Ok(Outcome::Filed {
            item: item.id.to_string(),
            status: item.status.as_str().to_string(),
            kind: item.classification.kind.as_str().to_string(),
            documents: 0,
            problems: vec!["object_missing".into()],
        }),
        Err(StoreError::ConditionFailed) => match intake::filed_from(store, digest).await? {
            Some(first) => Ok(Outcome::Unchanged {
                item: first.to_string(),
                why: "filed by a concurrent delivery",
            }),
            None => Err(StoreError::ConditionFailed),
        },
        Err(e) => Err(e),
    }
}

fn receipt_source(source: ReceiptSource) -> &'static str {
    match source {
        ReceiptSource::FaxGateway => "fax_gateway",
        ReceiptSource::ReceivedHeader => "received_header",
        ReceiptSource::DateHeader => "date_header",
        ReceiptSource::S3Event => "s3_event",
    }
}

/// The event S3 sends when `key` of the intake `bucket` was created by a PUT
/// of `size` bytes at `at`: what `mso serve` hands the handler after
/// `mso intake` drops a file, field for field as S3 delivers it.
pub fn object_created_event(bucket: &str, key: &str, size: u64, at: Timestamp) -> S3Event {
    s3_event::object_created(bucket, "intake-s3", key, size, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_named_by_bucket_key_and_version() {
        let a = object_digest("b", "fax/1.pdf", "v1");
        assert_eq!(a, object_digest("b", "fax/1.pdf", "v1"));
        assert_ne!(a, object_digest("b", "fax/1.pdf", "v2"));
        // The separator keeps ("ab", "c") apart from ("a", "bc").
        assert_ne!(object_digest("ab", "c", ""), object_digest("a", "bc", ""));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn the_local_event_is_a_real_object_created_event() {
        let at: Timestamp = "2026-03-02T17:05:00Z".parse().unwrap();
        let event = object_created_event("intake", "fax/a b.pdf", 42, at);
        let record = &event.records[0];
        assert_eq!(record.event_name.as_deref(), Some("ObjectCreated:Put"));
        assert_eq!(record.s3.object.key.as_deref(), Some("fax/a+b.pdf"));
        assert_eq!(record.event_time.timestamp(), at.as_second());
    }
}
