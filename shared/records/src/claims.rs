//! How claims are stored: the claim, its list rows (organisation, everyone,
//! member), its row in the file it came in, the guard that keeps two identical
//! claims from both being live, and the edit work item on the `claim-edits`
//! queue, written in one transaction (a transactional outbox).
//!
//! Used by the claims function and by every job that reads claims (disputes,
//! intake, documents).

use jiff::Timestamp;
use mso_api::aggregate::{self, Aggregate, Stored};
use mso_api::audit::{self, AuditEvent, sortable_instant};
use mso_api::outbox::OutboxEvent;
use mso_api::{Principal, RequestInfo, directory};
use mso_domain::claims::edits::{Edit, OtherClaim, ServiceKey};
use mso_domain::claims::{Checked, Claim, Frequency, Source, Status, validate};
use mso_domain::ids::{MemberId, Npi, ReferenceId};
use mso_domain::member::Member;
use mso_domain::prior_auth::PriorAuth;
use mso_domain::provider::Provider;
use mso_store::{Condition, Key, Query, Record, RecordStore, StoreError, WriteOp, keys};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::Ports;
use crate::prior_auths::{self, AuthSummary};

/// The queue the edits of each received claim run from.
pub const CLAIM_EDITS: &str = "claim-edits";

/// A message on [`CLAIM_EDITS`]: run the edits of this claim (if it still waits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditWork {
    pub claim_id: String,
    /// The member's group (a digest of the member ID, no PHI): a consumer
    /// judges one member's claims one after the other, different members' at once.
    #[serde(default)]
    pub group: String,
}

/// A digest of a member ID for keys and messages that must not carry it.
pub fn member_digest(member_id: &str) -> String {
    hex(&Sha256::digest(member_id.as_bytes()))
}

/// A member's turn: the version of the row that serialises the judgements of
/// the member's claims. A judgement commits with [`Turn::op`] in its
/// transaction, so a concurrent judgement of another of the member's claims
/// fails its condition and judges again on what the first one wrote (the
/// duplicate edits compare a member's claims with each other).
pub struct Turn {
    key: Key,
    version: Option<u64>,
}

impl Turn {
    pub async fn take(store: &dyn RecordStore, member_id: &str) -> Result<Turn, StoreError> {
        let key = keys::claim_turn(&member_digest(member_id));
        let version = store.get(&key).await?.map(|r| r.version);
        Ok(Turn { key, version })
    }

    /// The member's turn and, in the same request, their directory record
    /// (`member`: the ID as validated). Reading the member with the turn rather
    /// than after it is safe: judgements never write members. What they do
    /// write (claims, auths' use) is read after the turn ([`facts`]).
    pub async fn take_with_member(
        store: &dyn RecordStore,
        member_id: &str,
        member: &MemberId,
    ) -> Result<(Turn, Option<Member>), StoreError> {
        let key = keys::claim_turn(&member_digest(member_id));
        let mut read = store
            .get_many(&[key.clone(), keys::member(member.as_str())])
            .await?
            .into_iter();
        let version = read.next().flatten().map(|r| r.version);
        let member = directory::decode_member(read.next().flatten())?;
        Ok((Turn { key, version }, member))
    }

    /// The write that holds the turn: it fails if another judgement took it since.
    pub fn op(&self) -> WriteOp {
        let record = Record::new(self.key.clone(), serde_json::json!({}));
        match self.version {
            None => WriteOp::Put {
                record,
                condition: Condition::Absent,
            },
            Some(v) => WriteOp::Put {
                record: record.with_version(v + 1),
                condition: Condition::VersionIs(v),
            },
        }
    }
}

/// The queue the disputes job sends claims back on when a dispute about their
/// payment is decided for the provider.
pub const CLAIM_READJUDICATION: &str = "claim-readjudication";

/// A message on [`CLAIM_READJUDICATION`]: an examiner must look at the claim again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readjudication {
    pub claim_id: String,
    pub dispute_id: String,
    /// `overturned` or `partially_overturned`.
    pub outcome: String,
    /// What the dispute found owed, when it says.
    pub amount_cents: Option<i64>,
    pub decided_at: Timestamp,
}

/// A claim as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClaimRecord(pub Claim);

impl Aggregate for ClaimRecord {
    fn key(&self) -> Key {
        keys::claim(self.0.id.as_str())
    }

    fn views(&self) -> Vec<Record> {
        let claim = &self.0;
        let summary = mso_store::Body::of(&ClaimSummary::of(claim)).unwrap_or_default();
        let received = format!("{}#{}", sortable_instant(claim.received_at), claim.id);
        let mut rows = vec![
            Record::new(
                Key::new(keys::claim_list_org(claim.org.as_str()), received.clone()),
                summary.clone(),
            ),
            Record::new(
                Key::new(keys::CLAIM_LIST_ALL, received.clone()),
                summary.clone(),
            ),
            Record::new(
                Key::new(
                    keys::claim_list_member(&claim.submission.member_id),
                    received,
                ),
                summary,
            ),
        ];
        if let Source::File { file_id, seq } = &claim.source {
            let row = FileRow::of(claim, *seq);
            rows.push(Record::new(
                keys::claim_file_row(file_id.as_str(), *seq),
                mso_store::Body::of(&row).unwrap_or_default(),
            ));
        }
        rows
    }
}

/// A claim in a list (and on its list rows in the store).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimSummary {
    #[schema(example = "CLM-7K3Q9M2P4X")]
    pub id: String,
    pub org: String,
    pub member_id: String,
    #[schema(value_type = String, example = "accepted")]
    pub status: Status,
    #[schema(example = "professional")]
    pub claim_type: String,
    #[schema(example = "1")]
    pub frequency: String,
    /// CLM01, the provider's own claim number.
    pub patient_control_number: Option<String>,
    pub billing_npi: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[schema(value_type = String, format = Date)]
    pub payment_due: String,
    /// The first and last dates of service.
    pub service_from: Option<String>,
    pub service_to: Option<String>,
    pub total_charge_cents: i64,
    /// The claim file it came in, if any.
    pub file_id: Option<String>,
    /// What the duplicate edit compares; not shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(ignore)]
    pub services: Vec<ServiceKey>,
}

impl ClaimSummary {
    pub fn of(claim: &Claim) -> ClaimSummary {
        let s = &claim.submission;
        let dates = s.lines.iter().flat_map(|l| [l.service_from, l.service_to]);
        let from = dates.clone().flatten().min();
        let to = dates.flatten().max();
        ClaimSummary {
            id: claim.id.to_string(),
            org: claim.org.to_string(),
            member_id: s.member_id.clone(),
            status: claim.status,
            claim_type: s.claim_type.as_str().into(),
            frequency: s.frequency.as_str().into(),
            patient_control_number: s.patient_control_number.clone(),
            billing_npi: s.billing_npi.clone(),
            received_at: claim.received_at,
            payment_due: claim.payment_due.to_string(),
            service_from: from.map(|d| d.to_string()),
            service_to: to.map(|d| d.to_string()),
            total_charge_cents: s.total_charge_cents,
            file_id: match &claim.source {
                Source::File { file_id, .. } => Some(file_id.to_string()),
                Source::Portal => None,
            },
            services: services(claim),
        }
    }

    /// As shown to a client.
    pub fn shown(mut self) -> ClaimSummary {
        self.services.clear();
        self
    }

    fn other(&self) -> Option<OtherClaim> {
        Some(OtherClaim {
            id: ReferenceId::parse(&self.id).ok()?,
            status: self.status,
            member_id: self.member_id.clone(),
            services: self.services.clone(),
        })
    }
}

/// A claim's row in its file: what the file's 277CA says of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileRow {
    pub seq: u32,
    pub claim_id: String,
    pub patient_control_number: Option<String>,
    pub status: Status,
    /// The rejecting edits (the 277CA's reasons).
    pub rejections: Vec<Edit>,
}

impl FileRow {
    fn of(claim: &Claim, seq: u32) -> FileRow {
        FileRow {
            seq,
            claim_id: claim.id.to_string(),
            patient_control_number: claim.submission.patient_control_number.clone(),
            status: claim.status,
            rejections: claim
                .edits
                .iter()
                .filter(|e| e.severity == mso_domain::claims::edits::Severity::Reject)
                .cloned()
                .collect(),
        }
    }
}

/// The services a claim bills: none for a void (it cancels, bills nothing) or
/// a claim whose codes are not valid.
fn services(claim: &Claim) -> Vec<ServiceKey> {
    if claim.submission.frequency == Frequency::Void {
        return Vec::new();
    }
    validate(&claim.submission)
        .map(|c| c.lines.iter().filter_map(ServiceKey::of).collect())
        .unwrap_or_default()
}

/// The ID of the `occurrence`-th claim (0-based) with this CLM01 in a transaction
/// set of a file: the same file read twice gives the same IDs, so a redelivered
/// file or message is the same claim.
pub fn derived_id(
    file_digest: &[u8; 32],
    interchange_control_number: &str,
    group_control_number: &str,
    set_control_number: &str,
    patient_control_number: &str,
    occurrence: u32,
) -> ReferenceId {
    let mut h = Sha256::new();
    h.update(file_digest);
    for part in [
        interchange_control_number,
        group_control_number,
        set_control_number,
        patient_control_number,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.update(occurrence.to_be_bytes());
    let digest: [u8; 32] = h.finalize().into();
    ReferenceId::from_entropy(mso_domain::ids::RecordKind::Claim, &digest)
        .unwrap_or_else(|| unreachable!("32 bytes of entropy"))
}

/// The guard of a live claim: one per member and set of services.
fn guard(claim: &Claim) -> Option<Key> {
    if !claim.status.is_live() || claim.submission.frequency == Frequency::Void {
        return None;
    }
    let checked = validate(&claim.submission).ok()?;
    let mut prints: Vec<String> = checked
        .lines
        .iter()
        .filter_map(ServiceKey::of)
        .map(|k| k.fingerprint(&checked.member_id))
        .collect();
    if prints.is_empty() {
        return None;
    }
    prints.sort();
    let mut h = Sha256::new();
    for p in &prints {
        h.update(p.as_bytes());
        h.update([0]);
    }
    Some(keys::claim_guard(&hex(&h.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Reads a claim by its ID.
pub async fn load(
    store: &dyn RecordStore,
    id: &ReferenceId,
) -> Result<Option<Stored<ClaimRecord>>, StoreError> {
    aggregate::load(store, &keys::claim(id.as_str())).await
}

/// A change to commit: the writes of one or more claims and their rows, and
/// the edit work items to send.
#[derive(Default)]
pub struct Change {
    pub ops: Vec<WriteOp>,
    pub events: Vec<OutboxEvent>,
}

impl Change {
    /// A new claim; one that waits for its edits gets its work item.
    pub fn created(claim: &Claim, at: Timestamp) -> Result<Change, StoreError> {
        let mut ops = aggregate::create(&ClaimRecord(claim.clone()))?;
        if let Some(key) = guard(claim) {
            ops.push(guard_put(key, claim, Condition::Absent));
        }
        let events = if claim.status == Status::Received {
            vec![edit_work(claim, at)]
        } else {
            vec![]
        };
        Ok(Change { ops, events })
    }

    /// The claim changed from `old`: its rows follow, and its guard is taken
    /// (failing if another live claim holds it) or released.
    pub fn updated(old: &Stored<ClaimRecord>, claim: &Claim) -> Result<Change, StoreError> {
        let mut ops = aggregate::update(old, &ClaimRecord(claim.clone()))?;
        match (guard(&old.value.0), guard(claim)) {
            (None, Some(key)) => ops.push(guard_put(key, claim, Condition::Absent)),
            (Some(key), None) => ops.push(WriteOp::Delete {
                key,
                condition: Condition::None,
            }),
            (Some(a), Some(b)) if a != b => {
                ops.push(WriteOp::Delete {
                    key: a,
                    condition: Condition::None,
                });
                ops.push(guard_put(b, claim, Condition::Absent));
            }
            _ => {}
        }
        Ok(Change {
            ops,
            events: vec![],
        })
    }

    /// This change and `other` in one transaction. A guard released by one and
    /// taken by the other (a replacement for the same services) passes straight
    /// from one claim to the other.
    pub fn and(mut self, other: Change) -> Change {
        for op in other.ops {
            let guard_key = |op: &WriteOp| match op {
                WriteOp::Put { record, .. } if record.key.pk.starts_with("CLMDUP#") => {
                    Some(record.key.clone())
                }
                WriteOp::Delete { key, .. } if key.pk.starts_with("CLMDUP#") => Some(key.clone()),
                _ => None,
            };
            let same = guard_key(&op).and_then(|key| {
                self.ops
                    .iter()
                    .position(|o| guard_key(o) == Some(key.clone()))
            });
            let Some(i) = same else {
                self.ops.push(op);
                continue;
            };
            // One claim releases the guard, the other takes it: one plain put.
            match (&self.ops[i], op) {
                (WriteOp::Delete { .. }, WriteOp::Put { record, .. }) => {
                    self.ops[i] = WriteOp::Put {
                        record,
                        condition: Condition::None,
                    };
                }
                (WriteOp::Put { record, .. }, WriteOp::Delete { .. }) => {
                    self.ops[i] = WriteOp::Put {
                        record: record.clone(),
                        condition: Condition::None,
                    };
                }
                (_, op) => self.ops.push(op),
            }
        }
        self.events.extend(other.events);
        self
    }

    /// Adds the member's turn (see [`Turn`]).
    pub fn in_turn(mut self, turn: &Turn) -> Change {
        self.ops.push(turn.op());
        self
    }

    /// Adds the audit record of who did it.
    pub fn audited(
        mut self,
        who: &Principal,
        action: &'static str,
        claim: &Claim,
        info: &RequestInfo,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        self.ops.push(audit::write_op(&AuditEvent {
            actor: who,
            action,
            purpose: "payment",
            subject_type: "claim",
            subject_id: claim.id.as_str(),
            outcome: claim.status.as_str(),
            request_id: &info.request_id,
            at,
        })?);
        Ok(self)
    }

    /// Commits everything (plus `extra`, e.g. an idempotency completion) in one
    /// transaction, then sends the work items.
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

fn guard_put(key: Key, claim: &Claim, condition: Condition) -> WriteOp {
    WriteOp::Put {
        record: Record::new(key, serde_json::json!({ "claim_id": claim.id.as_str() })),
        condition,
    }
}

fn edit_work(claim: &Claim, at: Timestamp) -> OutboxEvent {
    let body = EditWork {
        claim_id: claim.id.to_string(),
        group: member_digest(&claim.submission.member_id),
    };
    OutboxEvent::new(
        CLAIM_EDITS,
        serde_json::to_string(&body).unwrap_or_default(),
        at,
    )
}

/// What the edits of a claim need from the store.
#[derive(Debug, Default)]
pub struct Facts {
    pub member: Option<Member>,
    pub pcps: Vec<Provider>,
    pub auths: Vec<PriorAuth>,
    pub others: Vec<OtherClaim>,
    /// The claim a replacement or void names, when it is the same organisation's.
    pub original: Option<OtherClaim>,
}

/// Most of a member's records read for one claim's edits (a member with more is
/// judged on the newest).
const MEMBER_READ_LIMIT: usize = 500;

/// Reads what the edits of `claim` (checked as `checked`) need besides the
/// `member` read with the turn ([`Turn::take_with_member`]): the member's PCPs,
/// their auths that could cover a line (and any the claim names), their other
/// claims, and the original of a replacement or void. The four depend on
/// nothing but the claim, so they are read at once: the round trips of the
/// longest, not of all of them.
pub async fn facts(
    store: &dyn RecordStore,
    policy: &mso_domain::policy::Policy,
    claim: &Claim,
    checked: &Checked,
    member: Option<Member>,
) -> Result<Facts, StoreError> {
    let (pcps, auths, others, original) = tokio::try_join!(
        pcps_of(store, member.as_ref()),
        auths_for(store, policy, checked),
        other_claims(store, checked),
        original_of(store, claim, checked),
    )?;
    Ok(Facts {
        member,
        pcps,
        auths,
        others,
        original,
    })
}

/// A member's PCPs across their spans, each once, read in one request.
async fn pcps_of(
    store: &dyn RecordStore,
    member: Option<&Member>,
) -> Result<Vec<Provider>, StoreError> {
    let Some(member) = member else {
        return Ok(Vec::new());
    };
    let mut npis: Vec<&Npi> = Vec::new();
    for npi in member.spans.iter().filter_map(|s| s.pcp_npi.as_ref()) {
        if !npis.contains(&npi) {
            npis.push(npi);
        }
    }
    Ok(directory::providers(store, &npis)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// The member's auths that could cover a line needing one, and any the claim names.
async fn auths_for(
    store: &dyn RecordStore,
    policy: &mso_domain::policy::Policy,
    checked: &Checked,
) -> Result<Vec<PriorAuth>, StoreError> {
    let needing_auth: Vec<String> = checked
        .lines
        .iter()
        .filter_map(|l| l.procedure)
        .filter(|c| policy.prior_auth.requires_auth(*c))
        .map(|c| c.as_str().to_string())
        .collect();
    let mut auths = Vec::new();
    if needing_auth.is_empty() || checked.frequency == Frequency::Void {
        return Ok(auths);
    }
    let named: Vec<&ReferenceId> = checked
        .lines
        .iter()
        .filter_map(|l| l.prior_auth_id.as_ref())
        .chain(checked.prior_auth_id.as_ref())
        .collect();
    let page = store
        .query(
            Query::primary(keys::prior_auth_list_member(checked.member_id.as_str()), "")
                .descending()
                .limit(MEMBER_READ_LIMIT),
        )
        .await?;
    let mut ids: Vec<ReferenceId> = named.into_iter().cloned().collect();
    for row in page.records {
        let Ok(summary) = row.body.decode::<AuthSummary>() else {
            continue;
        };
        let useful =
            summary.status.authorises() && summary.codes.iter().any(|c| needing_auth.contains(c));
        if let (true, Ok(id)) = (useful, ReferenceId::parse(&summary.id))
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    // Read together, however many.
    let read = prior_auths::load_many(store, &ids).await?;
    auths.extend(read.into_iter().flatten().map(|stored| stored.value.0));
    Ok(auths)
}

async fn other_claims(
    store: &dyn RecordStore,
    checked: &Checked,
) -> Result<Vec<OtherClaim>, StoreError> {
    let page = store
        .query(
            Query::primary(keys::claim_list_member(checked.member_id.as_str()), "")
                .descending()
                .limit(MEMBER_READ_LIMIT),
        )
        .await?;
    Ok(page
        .records
        .into_iter()
        .filter_map(|r| r.body.decode::<ClaimSummary>().ok())
        .filter_map(|s| s.other())
        .collect())
}

/// The original a replacement or void names, when it is the same organisation's.
async fn original_of(
    store: &dyn RecordStore,
    claim: &Claim,
    checked: &Checked,
) -> Result<Option<OtherClaim>, StoreError> {
    let Some(original_id) = &checked.original_claim_id else {
        return Ok(None);
    };
    Ok(load(store, original_id)
        .await?
        .map(|stored| stored.value.0)
        .filter(|original| original.org == claim.org)
        .map(|original| OtherClaim {
            id: original.id.clone(),
            status: original.status,
            member_id: original.submission.member_id.clone(),
            services: services(&original),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_depend_on_every_part() {
        let digest = [7u8; 32];
        let id = derived_id(&digest, "000000001", "1", "0001", "ACCT-1", 0);
        assert_eq!(
            id,
            derived_id(&digest, "000000001", "1", "0001", "ACCT-1", 0)
        );
        assert_eq!(id.as_str().len(), "CLM-".len() + 10);
        for other in [
            derived_id(&[8u8; 32], "000000001", "1", "0001", "ACCT-1", 0),
            derived_id(&digest, "000000002", "1", "0001", "ACCT-1", 0),
            derived_id(&digest, "000000001", "2", "0001", "ACCT-1", 0),
            derived_id(&digest, "000000001", "1", "0002", "ACCT-1", 0),
            derived_id(&digest, "000000001", "1", "0001", "ACCT-2", 0),
            derived_id(&digest, "000000001", "1", "0001", "ACCT-1", 1),
            // Parts do not run into each other.
            derived_id(&digest, "00000000", "11", "0001", "ACCT-1", 0),
        ] {
            assert_ne!(id, other);
        }
    }
}
