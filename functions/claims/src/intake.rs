//! The claims bucket's ObjectCreated handler: a file posted through the API
//! (`claim-files/<CF id>.x12`) or dropped by a clearinghouse (`inbound/...`) is
//! read, its 999 written, and each claim of every set the 999 accepts stored:
//! `received` with its edit work item, or `rejected` at once when it cannot be
//! read or its provider is not the sender's. Both paths end here.
//!
//! S3 delivers at least once and Lambda retries a failed event, so reading a
//! file twice changes nothing: claim IDs are derived from the file's content,
//! its control numbers and CLM01 ([`mso_records::claims::derived_id`]), claims
//! are created only if absent, and the file is marked read last, in the
//! transaction of its last claims. A file cut off by a crash is read again
//! whole; its claims already stored stay as they are.
//!
//! Logs carry object keys, file IDs and counts, never claim content.

use std::collections::HashMap;

use aws_lambda_events::s3::S3Event;
use jiff::Timestamp;
use mso_api::aggregate::Stored;
use mso_api::{directory, s3_event};
use mso_domain::claims::edits::Edit;
use mso_domain::claims::{Claim, Source, Submission, validate};
use mso_domain::ids::{Npi, OrgId, ReferenceId};
use mso_domain::prior_auth::Actor;
use mso_records::claims::{self, Change};
use mso_store::{RecordStore, StoreError, WriteOp, keys};
use mso_x12::ack277::{Ack277, Ack277Builder, AckParty};
use mso_x12::ack999::{self, AckEnvelope, Stamp};
use mso_x12::{Event, Parser};
use serde::Serialize;

use crate::files::{self, FileRecord, FileStatus};
use crate::{Deps, x12};

/// Most writes in one transaction (the store's limit is 100).
const MAX_OPS: usize = 90;
/// Transactions of a file's claims written at once.
const COMMITS_IN_FLIGHT: usize = 8;

/// What one event record did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    /// The file was read: `claims` taken (`rejected` of them at once).
    Read {
        file_id: String,
        claims: u32,
        rejected: u32,
    },
    /// The file was read before (a duplicate event): nothing changed.
    Unchanged { file_id: String },
    /// Not a claims object, or not an ObjectCreated event.
    Ignored { why: &'static str },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Handled {
    /// The object key (keys carry no PHI).
    pub key: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub records: Vec<Handled>,
}

/// Some records failed on storage: the whole event is retried (the records
/// already read change nothing the second time).
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} claim file events failed and will be retried: {first}")]
pub struct IntakeError {
    pub failed: usize,
    pub total: usize,
    #[source]
    pub first: StoreError,
}

/// Handles every record of `event`; fails if any failed on storage.
pub async fn handle(deps: &Deps, event: S3Event) -> Result<Report, IntakeError> {
    let total = event.records.len();
    let mut report = Report::default();
    let mut failures = Vec::new();
    for record in event.records {
        let created = s3_event::is_created(&record);
        let raw = record.s3.object.key.unwrap_or_default();
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
                tracing::info!(key = %raw, verdict = ?verdict, "claim file event");
                report.records.push(Handled { key: raw, verdict });
            }
            Err(e) => {
                tracing::error!(key = %raw, error = %e, "claim file failed; the event will be retried");
                failures.push(e);
            }
        }
    }
    match failures.into_iter().next() {
        None => Ok(report),
        Some(first) => Err(IntakeError {
            failed: total - report.records.len(),
            total,
            first,
        }),
    }
}

/// Reads the object at `key` (decoded), if it is a claim file.
pub async fn object(deps: &Deps, key: &str) -> Result<Verdict, StoreError> {
    const GONE: Verdict = Verdict::Ignored {
        why: "the object is gone",
    };
    let (recorded, bytes) = if let Some(id) = keys::claim_file_of_object(key) {
        let Ok(id) = ReferenceId::parse_kind(mso_domain::ids::RecordKind::ClaimFile, id) else {
            return Ok(Verdict::Ignored {
                why: "not a claim file ID",
            });
        };
        // A posted file's record and bytes, at once: a duplicate event reads
        // bytes it does not need, every first one a round trip less.
        let object_key = keys::claim_file_object(id.as_str());
        let (stored, object) = tokio::try_join!(
            files::load(deps.records.as_ref(), &id),
            deps.files.get(&object_key),
        )?;
        let Some(stored) = stored else {
            return Ok(Verdict::Ignored {
                why: "no claim file has this ID",
            });
        };
        if stored.value.status != FileStatus::Received {
            return Ok(Verdict::Unchanged {
                file_id: stored.value.id.to_string(),
            });
        }
        let Some((_, bytes)) = object else {
            return Ok(GONE);
        };
        (Recorded::Stored(stored), bytes)
    } else if key.starts_with(keys::CLAIM_INBOUND_PREFIX) {
        let Some((meta, bytes)) = deps.files.get(key).await? else {
            return Ok(GONE);
        };
        // A dropped file's ID is its bytes' digest, so the record names these very bytes.
        let id = files::file_id(&format!("inbound:{key}"), &files::digest(&bytes));
        let file = FileRecord::new(id, None, None, key.to_string(), meta.size, deps.clock.now());
        (Recorded::New(file), bytes)
    } else {
        return Ok(Verdict::Ignored {
            why: "not a claims object",
        });
    };
    read_file(deps, recorded, &bytes).await
}

/// The record of the file an event names, as far as the event's handler knows
/// before reading the file.
enum Recorded {
    /// Posted through the API, which recorded it before its bytes landed.
    Stored(Stored<FileRecord>),
    /// A clearinghouse's drop: the record to create as the file is read (an
    /// earlier or concurrent delivery of its event may have created it).
    New(FileRecord),
}

impl Recorded {
    fn file(&self) -> &FileRecord {
        match self {
            Recorded::Stored(stored) => &stored.value,
            Recorded::New(file) => file,
        }
    }

    /// The stored record: a new one created, or the one an earlier or
    /// concurrent delivery created first.
    async fn store(self, store: &dyn RecordStore) -> Result<Stored<FileRecord>, StoreError> {
        let file = match self {
            Recorded::Stored(stored) => return Ok(stored),
            Recorded::New(file) => file,
        };
        match store.transact(vec![files::create_op(&file)?]).await {
            Ok(()) => Ok(Stored::created(file)),
            // Refused, yet absent: a retry may find it; if not, the event goes
            // to the dead-letter queue after its retries.
            Err(StoreError::ConditionFailed) => files::load(store, &file.id)
                .await?
                .ok_or(StoreError::ConditionFailed),
            Err(e) => Err(e),
        }
    }
}

/// One claim of a file, as [`claims_of_file`] hands it out.
pub struct FileClaims {
    pub id: ReferenceId,
    pub claim: mso_x12::Claim,
    /// What the reader found wrong with it (a `ClaimError`'s problems).
    pub unreadable: Vec<Edit>,
}

/// Every claim of the transaction sets the 999 accepts, in file order, with
/// its derived ID. The 277CA is built by walking the file the same way.
pub fn claims_of_file(bytes: &[u8], digest: &[u8; 32], mut each: impl FnMut(FileClaims)) {
    claims_and_reports(bytes, digest, &mut each, |_| {}, |_| {});
}

fn claims_and_reports(
    bytes: &[u8],
    digest: &[u8; 32],
    each: &mut impl FnMut(FileClaims),
    mut interchange: impl FnMut(&mso_x12::InterchangeReport),
    mut not_claims: impl FnMut(&mso_x12::NotClaims),
) {
    // Claims stream out before their set's verdict: hold them until the
    // interchange's report says which sets were accepted.
    let mut held: Vec<(mso_x12::Claim, Vec<Edit>)> = Vec::new();
    let mut occurrences: HashMap<(u64, String), u32> = HashMap::new();
    for event in Parser::from_slice(bytes).flatten() {
        match event {
            Event::Claim(c) => held.push((*c, Vec::new())),
            Event::ClaimError(e) => {
                let problems = e
                    .problems
                    .iter()
                    .map(|p| Edit::unreadable(&p.segment_id, &p.position.to_string(), &p.reason))
                    .collect();
                held.push((*e.claim, problems));
            }
            Event::NotClaims(n) => not_claims(&n),
            Event::SetEnd(_) => {}
            Event::Interchange(report) => {
                interchange(&report);
                for (claim, unreadable) in held.drain(..) {
                    let src = &claim.source;
                    if !report.set_accepted(src.set_index) {
                        continue;
                    }
                    let clm01 = claim.patient_control_number.to_string();
                    let n = occurrences
                        .entry((src.set_index, clm01.clone()))
                        .or_insert(0);
                    let id = claims::derived_id(
                        digest,
                        &src.interchange_control_number,
                        &src.group_control_number,
                        &src.set_control_number,
                        &clm01,
                        *n,
                    );
                    *n += 1;
                    each(FileClaims {
                        id,
                        claim,
                        unreadable,
                    });
                }
            }
        }
    }
}

/// Reads a file: its 999, its claims, then marks it read.
async fn read_file(deps: &Deps, recorded: Recorded, bytes: &[u8]) -> Result<Verdict, StoreError> {
    let file = recorded.file();
    let digest = files::digest(bytes);
    let now = deps.clock.now();
    let envelope = ack_envelope(deps, file);
    let mut ack_999 = String::new();
    let mut reports = Vec::new();
    let mut not_claims = 0u32;
    let mut built: Vec<Claim> = Vec::new();
    // The reader is synchronous and the providers' lookup is not: collect the
    // claims, then read every provider they name at once.
    let mut taken: Vec<FileClaims> = Vec::new();
    claims_and_reports(
        bytes,
        &digest,
        &mut |c: FileClaims| taken.push(c),
        |report| {
            ack_999.push_str(&ack999::write(report, &envelope));
            reports.push(report.clone());
        },
        |_| not_claims += 1,
    );
    let mapped: Vec<Mapped> = taken.into_iter().map(Mapped::from).collect();
    let total = mapped.len();
    let id = file.id.clone();
    let reports =
        serde_json::to_vec(&reports).map_err(|e| StoreError::backend("serialising a 999", e))?;
    // The file's record (a drop's created), its providers, and both forms of
    // its 999: one round trip. Nobody reads the 999 of a file not yet marked
    // read, and the 999 is written only where none is: a delivery that loses
    // the race for a drop's record, or comes after it was read, leaves the
    // 999 as it was (all of a file's 999s differ at most in their stamp).
    let (stored, owners, _, _) = tokio::try_join!(
        recorded.store(deps.records.as_ref()),
        Owners::read(deps.records.as_ref(), mapped.iter().flat_map(|m| m.npis())),
        files::put_ack_if_absent(deps, id.as_str(), files::ACK_999_X12, ack_999.into_bytes()),
        files::put_ack_if_absent(deps, id.as_str(), files::ACK_999_JSON, reports),
    )?;
    if stored.value.status != FileStatus::Received {
        // Read by an earlier or concurrent delivery of the event.
        return Ok(Verdict::Unchanged {
            file_id: id.to_string(),
        });
    }
    let file = &stored.value;

    let mut read = file.clone();
    read.status = if total == 0 {
        FileStatus::Rejected
    } else {
        FileStatus::Processing
    };
    read.claims = u32::try_from(total).unwrap_or(u32::MAX);
    read.not_claims = not_claims;
    let mark = mso_api::aggregate::update(&stored, &read)?;

    let mut rejected = 0;
    let mut change = Change::default();
    // Several batches in flight: the store's group commit (and DynamoDB's
    // parallel writes) make a large file's claims cost a few round trips.
    // Each leaves room for the mark, which goes with the last.
    let room = MAX_OPS.saturating_sub(mark.len());
    let mut commits = tokio::task::JoinSet::new();
    for (seq, mapped) in mapped.into_iter().enumerate() {
        let seq = u32::try_from(seq).unwrap_or(u32::MAX);
        let claim = claim_of(deps, file, &owners, mapped, seq, now)?;
        if claim.status != mso_domain::claims::Status::Received {
            rejected += 1;
        }
        let next = Change::created(&claim, now)?;
        if change.ops.len() + change.events.len() + next.ops.len() + next.events.len() > room {
            if commits.len() >= COMMITS_IN_FLIGHT
                && let Some(done) = commits.join_next().await
            {
                done.map_err(|e| StoreError::backend("storing a file's claims", e))??;
            }
            let (deps, change, built) = (
                deps.clone(),
                std::mem::take(&mut change),
                std::mem::take(&mut built),
            );
            commits.spawn(async move { commit(&deps, change, &built).await });
        }
        change = change.and(next);
        built.push(claim);
    }
    // Every earlier batch is stored before the last one marks the file read,
    // so a file marked read has all its claims.
    while let Some(done) = commits.join_next().await {
        done.map_err(|e| StoreError::backend("storing a file's claims", e))??;
    }
    if !commit_marking_read(deps, change, &built, mark).await? {
        // Read by a concurrent delivery of the same event: the same result.
        return Ok(Verdict::Unchanged {
            file_id: file.id.to_string(),
        });
    }
    Ok(Verdict::Read {
        file_id: file.id.to_string(),
        claims: read.claims,
        rejected,
    })
}

/// Commits a batch of new claims; a batch that meets a claim already stored
/// (the file read again) goes claim by claim, leaving those as they are.
async fn commit(deps: &Deps, change: Change, claims: &[Claim]) -> Result<(), StoreError> {
    if change.ops.is_empty() {
        return Ok(());
    }
    match change.commit(deps.ports(), None).await {
        Err(StoreError::ConditionFailed) => one_by_one(deps, claims).await,
        other => other,
    }
}

/// Commits the last batch with the file's `mark` (read) in one transaction.
/// False when another delivery of the event marked the file first; its claims
/// are then stored as [`commit`] stores a batch read again.
async fn commit_marking_read(
    deps: &Deps,
    mut change: Change,
    claims: &[Claim],
    mark: Vec<WriteOp>,
) -> Result<bool, StoreError> {
    change.ops.extend(mark.iter().cloned());
    match change.commit(deps.ports(), None).await {
        Ok(()) => return Ok(true),
        Err(StoreError::ConditionFailed) => {}
        Err(e) => return Err(e),
    }
    // A claim already stored, or the file marked: which one, the mark alone says.
    one_by_one(deps, claims).await?;
    match deps.records.transact(mark).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Each claim in its own transaction; one already stored stays as it is.
async fn one_by_one(deps: &Deps, claims: &[Claim]) -> Result<(), StoreError> {
    let now = deps.clock.now();
    for claim in claims {
        match Change::created(claim, now)?
            .commit(deps.ports(), None)
            .await
        {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Which organisation each NPI a file names belongs to.
struct Owners(HashMap<String, OrgId>);

impl Owners {
    /// Reads the providers `npis` names (as the file wrote them), each once and
    /// all together ([`directory::providers`]). One that is no NPI or no
    /// provider of ours has no organisation.
    async fn read<'a>(
        store: &dyn RecordStore,
        npis: impl Iterator<Item = &'a str>,
    ) -> Result<Owners, StoreError> {
        let mut wanted: Vec<&str> = npis.collect();
        wanted.sort_unstable();
        wanted.dedup();
        let wanted: Vec<(&str, Npi)> = wanted
            .into_iter()
            .filter_map(|raw| Npi::parse(raw).ok().map(|npi| (raw, npi)))
            .collect();
        let npis: Vec<&Npi> = wanted.iter().map(|(_, npi)| npi).collect();
        let providers = directory::providers(store, &npis).await?;
        let owners = wanted
            .iter()
            .zip(providers)
            .filter_map(|((raw, _), provider)| Some(((*raw).to_string(), provider?.org_id)))
            .collect();
        Ok(Owners(owners))
    }

    fn of(&self, npi: &str) -> Option<&OrgId> {
        self.0.get(npi)
    }
}

/// A claim of the file as a submission, with what its reading found wrong.
struct Mapped {
    id: ReferenceId,
    submission: Submission,
    rejections: Vec<Edit>,
}

impl From<FileClaims> for Mapped {
    fn from(taken: FileClaims) -> Mapped {
        let (submission, unmapped) = x12::submission(&taken.claim);
        let mut rejections = taken.unreadable;
        rejections.extend(unmapped);
        Mapped {
            id: taken.id,
            submission,
            rejections,
        }
    }
}

impl Mapped {
    /// The providers whose organisation the claim is judged by: billing first,
    /// then rendering (claim, then lines).
    fn npis(&self) -> impl Iterator<Item = &str> {
        let s = &self.submission;
        std::iter::once(s.billing_npi.as_str())
            .chain(s.rendering_npi.as_deref())
            .chain(s.lines.iter().filter_map(|l| l.rendering_npi.as_deref()))
    }
}

fn claim_of(
    deps: &Deps,
    file: &FileRecord,
    owners: &Owners,
    mapped: Mapped,
    seq: u32,
    now: Timestamp,
) -> Result<Claim, StoreError> {
    let provider_orgs: Vec<&OrgId> = mapped.npis().filter_map(|npi| owners.of(npi)).collect();
    let Mapped {
        id,
        submission,
        mut rejections,
    } = mapped;
    let org = match &file.org {
        // Posted by an organisation: its claims are its own, or rejected.
        Some(org) => {
            if !provider_orgs.contains(&org) {
                rejections.push(Edit::provider_not_in_organisation(false));
            }
            org.clone()
        }
        // A clearinghouse's drop: the billing (else rendering) provider's.
        None => match provider_orgs.first() {
            Some(org) => (*org).clone(),
            None => {
                rejections.push(Edit::provider_not_in_organisation(true));
                ipa_org(deps)?
            }
        },
    };
    if rejections.is_empty()
        && let Err(problems) = validate(&submission)
    {
        rejections.extend(problems.iter().map(Edit::invalid));
    }
    let source = Source::File {
        file_id: file.id.clone(),
        seq,
    };
    let actor = file.submitted_by.clone().unwrap_or_else(clearinghouse);
    Ok(if rejections.is_empty() {
        Claim::received(id, org, source, submission, now, &deps.policy, actor)
    } else {
        Claim::rejected_on_receipt(
            id,
            org,
            source,
            submission,
            rejections,
            now,
            &deps.policy,
            actor,
        )
    })
}

fn clearinghouse() -> Actor {
    Actor {
        subject: "clearinghouse".into(),
        org: "clearinghouse".into(),
        role: "clearinghouse".into(),
    }
}

fn ipa_org(deps: &Deps) -> Result<OrgId, StoreError> {
    OrgId::parse(&deps.policy.ipa.id)
        .map_err(|e| StoreError::backend("the IPA id is not an organisation id", e))
}

/// Our ISA ID: the IPA's id, as X12 writes IDs (upper case, at most 15).
fn our_id(deps: &Deps) -> String {
    deps.policy
        .ipa
        .id
        .to_ascii_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect()
}

/// The acknowledgements' own envelope: control numbers from the file's ID (the
/// same file always gets the same acknowledgements), stamped with its receipt.
fn ack_envelope(deps: &Deps, file: &FileRecord) -> AckEnvelope {
    let control = file
        .id
        .as_str()
        .bytes()
        .fold(0u32, |n, b| n.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 1_000_000_000;
    let local = deps.policy.time_zone().to_datetime(file.received_at);
    let stamp = Stamp::new(
        &local.date().to_string(),
        &format!("{:02}{:02}", local.hour(), local.minute()),
    )
    .unwrap_or_else(|| Stamp::new("2000-01-01", "0000").unwrap_or_else(|| unreachable!()));
    AckEnvelope {
        interchange_control_number: control.max(1),
        group_control_number: control % 1_000_000 + 1,
        first_set_control_number: 1,
        stamp,
        our_qualifier: "ZZ".into(),
        our_id: our_id(deps),
    }
}

fn us(deps: &Deps) -> AckParty {
    AckParty {
        name: deps.policy.ipa.name.to_ascii_uppercase(),
        id: our_id(deps),
        isa_qualifier: "ZZ".into(),
        isa_id: our_id(deps),
        application_id: our_id(deps),
    }
}

/// A 277CA builder addressed back to the sender of `first` (the file's first claim).
pub(crate) fn ack_builder(deps: &Deps, file: &FileRecord, first: &mso_x12::Claim) -> Ack277Builder {
    let src = &first.source;
    let receiver = AckParty {
        name: src
            .submitter
            .as_ref()
            .map(|s| s.name.last_or_organization.to_string())
            .unwrap_or_default(),
        id: src
            .submitter
            .as_ref()
            .and_then(|s| s.id.as_deref())
            .unwrap_or_default()
            .to_string(),
        isa_qualifier: src.sender_qualifier.clone(),
        isa_id: src.sender_id.clone(),
        application_id: src.group_sender.clone(),
    };
    let envelope = ack_envelope(deps, file);
    let received = envelope.stamp.date().to_string();
    Ack277Builder::new(envelope, "P", us(deps), receiver, &src.reference, &received)
}

/// The 277CA of a file no claim was taken from.
pub(crate) fn empty_ack(deps: &Deps, file: &FileRecord) -> Ack277 {
    let envelope = ack_envelope(deps, file);
    let received = envelope.stamp.date().to_string();
    Ack277Builder::new(envelope, "P", us(deps), AckParty::default(), "", &received).build()
}

/// The S3 event S3 sends for an object just created in the claims bucket (what
/// `mso serve` hands [`handle`] after it stores a file).
pub fn object_created(bucket: &str, key: &str, size: u64, at: Timestamp) -> S3Event {
    s3_event::object_created(bucket, "claims-intake", key, size, at)
}
