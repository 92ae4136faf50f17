//! How a dispute is stored: the record, the rows derived from it (lists by
//! organisation, by subject and of everything; the reviewers' queue; the guard
//! that keeps one open dispute per subject, kind and reason; the sweeper's
//! timers), and the one transaction that writes a change with its outbox events
//! (`dispute-events`, and `claim-readjudication` for an overturned payment
//! dispute) and its audit record. Used by the disputes function and by the
//! intake job, which files paper disputes with the fax's receipt time.

use jiff::Timestamp;
use jiff::civil::Date;
use mso_api::aggregate::{self, Aggregate, Stored};
use mso_api::audit::{self, AuditEvent, sortable_instant};
use mso_api::outbox::OutboxEvent;
use mso_api::{Principal, RequestInfo, directory};
use mso_domain::clock::local_date;
use mso_domain::disputes::report::ReportInput;
use mso_domain::disputes::review::{self, Filed, TimerKind};
use mso_domain::disputes::{
    self as rules, Channel, Dispute, Filing, Kind, Outcome, ReasonCategory, Refusal, Request,
    Status, Subject, SubjectRef,
};
use mso_domain::ids::{MemberId, OrgId, ReferenceId};
use mso_domain::policy::Policy;
use mso_domain::prior_auth::{self, Actor};
use mso_store::{Condition, Key, Record, RecordStore, StoreError, WriteOp, keys};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Ports;
use crate::claims::ClaimRecord;
use crate::prior_auths::{self, AuthRecord};

pub mod request;

/// The queue every change of a dispute is published to (through the outbox).
pub const DISPUTE_EVENTS: &str = "dispute-events";

// The claims job owns the queue it consumes and its message.
pub use crate::claims::{CLAIM_READJUDICATION, Readjudication};

/// One change of a dispute, without PHI (consumers read the dispute if they
/// need more).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeEvent {
    pub dispute_id: String,
    /// The provider organisation.
    pub org: String,
    pub kind: String,
    /// What happened: `filed`, `acknowledged`, `review_started`, `decided`,
    /// `closed`, `acknowledgement_overdue`, `document_added`, ...
    pub action: String,
    /// The status before; absent for a new dispute.
    pub from: Option<String>,
    pub to: String,
    pub at: Timestamp,
}

/// A dispute as stored. A newtype so the storage trait can be implemented here.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisputeRecord(pub Dispute);

/// The body of a timer row: which dispute, and why.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timer {
    pub id: ReferenceId,
    pub kind: TimerKind,
}

/// The body of the open-dispute guard.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct OpenGuard {
    id: ReferenceId,
}

fn open_guard_key(r: &Request) -> Key {
    keys::dispute_open(
        r.subject.id().as_str(),
        r.kind.as_str(),
        r.reason_category.as_str(),
    )
}

impl Aggregate for DisputeRecord {
    fn key(&self) -> Key {
        keys::dispute(self.0.id.as_str())
    }

    fn views(&self) -> Vec<Record> {
        let d = &self.0;
        let summary = mso_store::Body::of(&DisputeSummary::of(d)).unwrap_or_default();
        let received = format!("{}#{}", sortable_instant(d.received_at), d.id);
        let mut rows: Vec<Record> = [
            keys::dispute_list_org(d.org.as_str()),
            keys::DISPUTE_LIST_ALL.to_string(),
            keys::dispute_list_subject(d.request.subject.id().as_str()),
        ]
        .into_iter()
        .map(|pk| Record::new(Key::new(pk, received.clone()), summary.clone()))
        .collect();
        if let Some(due) = d.next_due() {
            rows.push(Record::new(
                Key::new(
                    keys::DISPUTE_QUEUE,
                    format!("{}#{}", sortable_instant(due), d.id),
                ),
                summary,
            ));
        }
        if d.is_open() {
            rows.push(Record::new(
                open_guard_key(&d.request),
                mso_store::Body::of(&OpenGuard { id: d.id.clone() }).unwrap_or_default(),
            ));
        }
        for (at, kind) in review::timers(d) {
            let body = mso_store::Body::of(&Timer {
                id: d.id.clone(),
                kind,
            })
            .unwrap_or_default();
            let name = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            rows.push(Record::new(
                Key::new(
                    keys::DISPUTE_TIMERS,
                    format!("{}#{}#{name}", sortable_instant(at), d.id),
                ),
                body,
            ));
        }
        rows
    }
}

/// Reads a dispute by its ID.
pub async fn load(
    store: &dyn RecordStore,
    id: &ReferenceId,
) -> Result<Option<Stored<DisputeRecord>>, StoreError> {
    aggregate::load(store, &keys::dispute(id.as_str())).await
}

/// The open dispute on the same subject, kind and reason, if there is one.
pub async fn open_duplicate(
    store: &dyn RecordStore,
    request: &Request,
) -> Result<Option<ReferenceId>, StoreError> {
    Ok(open_dispute_of(store.get(&open_guard_key(request)).await?))
}

/// The open dispute an open-dispute guard names.
fn open_dispute_of(guard: Option<Record>) -> Option<ReferenceId> {
    guard
        .and_then(|r| r.body.decode::<OpenGuard>().ok())
        .map(|g| g.id)
}

/// What the rules need to know about a dispute's subject, and who may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectFacts {
    /// The provider organisation the claim or auth belongs to.
    pub org: OrgId,
    pub member_id: MemberId,
    /// The member's health plan (where a second level goes), when known.
    pub health_plan: Option<String>,
    pub subject: Subject,
}

/// Where the claim or auth a dispute is about is stored.
fn subject_key(subject: &SubjectRef) -> Key {
    match subject {
        SubjectRef::PriorAuth(id) => keys::prior_auth(id.as_str()),
        SubjectRef::Claim(id) => keys::claim(id.as_str()),
    }
}

/// The facts of the claim or prior auth a dispute is about, from its `record`
/// as read at [`subject_key`], with the member's health plan read. `None` when
/// it does not exist: the caller answers 404 (as it does when the caller's
/// organisation may not see it).
async fn facts_of(
    store: &dyn RecordStore,
    policy: &Policy,
    subject: &SubjectRef,
    record: Option<Record>,
) -> Result<Option<SubjectFacts>, StoreError> {
    let tz = policy.time_zone();
    let Some(record) = record else {
        return Ok(None);
    };
    match subject {
        SubjectRef::PriorAuth(_) => {
            let stored: Stored<AuthRecord> = aggregate::decode(record)?;
            let auth = stored.value.0;
            let adverse = match auth.status {
                prior_auth::Status::Denied | prior_auth::Status::PartiallyApproved => true,
                // An approval that expired or was cancelled after a reduction.
                prior_auth::Status::Expired | prior_auth::Status::Cancelled => {
                    auth.determination.is_some()
                        && auth
                            .lines
                            .iter()
                            .any(|l| l.needs_auth && l.authorized_units < l.requested_units)
                }
                _ => false,
            };
            let health_plan = health_plan(
                store,
                policy,
                &auth.request.member_id,
                auth.request.service_from,
            )
            .await?;
            Ok(Some(SubjectFacts {
                org: auth.org.clone(),
                member_id: auth.request.member_id.clone(),
                health_plan,
                subject: Subject::PriorAuth {
                    last_determination: auth
                        .determination
                        .as_ref()
                        .map(|d| local_date(d.decided_at, tz)),
                    adverse,
                },
            }))
        }
        SubjectRef::Claim(_) => {
            let stored: Stored<ClaimRecord> = aggregate::decode(record)?;
            let claim = stored.value.0;
            // Validated when the claim was received; a claim without a
            // readable member is not one a dispute can be about.
            let Ok(member_id) = MemberId::parse(&claim.submission.member_id) else {
                return Ok(None);
            };
            let first_service = claim
                .submission
                .lines
                .iter()
                .filter_map(|l| l.service_from)
                .min()
                .unwrap_or_else(|| local_date(claim.received_at, tz));
            let health_plan = health_plan(store, policy, &member_id, first_service).await?;
            Ok(Some(SubjectFacts {
                org: claim.org.clone(),
                member_id,
                health_plan,
                subject: Subject::Claim {
                    last_determination: claim.decided_at.map(|at| local_date(at, tz)),
                    medical_necessity_denial: claim.medical_necessity_denial,
                },
            }))
        }
    }
}

/// The health plan of the member's coverage on `on`.
async fn health_plan(
    store: &dyn RecordStore,
    policy: &Policy,
    member: &MemberId,
    on: Date,
) -> Result<Option<String>, StoreError> {
    Ok(directory::member(store, member)
        .await?
        .and_then(|m| m.span_on(on).map(|s| s.plan_id.clone()))
        .and_then(|plan| policy.plan(&plan).map(|p| p.health_plan.clone())))
}

/// Why a filing cannot be taken.
#[derive(Debug)]
pub enum FileError {
    /// The claim or auth does not exist, or the caller's organisation may not
    /// see it (404 either way).
    SubjectNotFound,
    /// The rules refuse it (fields, expedited, corrected claim, late).
    Refused(Refusal),
    /// A dispute on the same subject, kind and reason is still open.
    Duplicate {
        existing: ReferenceId,
    },
    Store(StoreError),
}

impl From<StoreError> for FileError {
    fn from(e: StoreError) -> Self {
        FileError::Store(e)
    }
}

/// The new dispute for a validated `request`: the subject read (and checked
/// against `caller_org` when a provider files; `None` for IPA staff filing from
/// intake), the rules applied with the clocks starting at `received_at` (the
/// fax's or email's receipt time for a `Channel::Paper` filing), and no other
/// open dispute on the same subject, kind and reason. Nothing is stored: commit
/// [`Change::created`].
#[allow(clippy::too_many_arguments)]
pub async fn file(
    store: &dyn RecordStore,
    policy: &Policy,
    caller_org: Option<&OrgId>,
    request: Request,
    received_at: Timestamp,
    channel: Channel,
    intake_item_id: Option<ReferenceId>,
    id: ReferenceId,
    actor: Actor,
    now: Timestamp,
) -> Result<Dispute, FileError> {
    let read = SubjectRecords::read(store, &request).await?;
    file_with(
        store,
        &read,
        policy,
        caller_org,
        request,
        received_at,
        channel,
        intake_item_id,
        id,
        actor,
        now,
    )
    .await
}

/// The records filing a dispute reads first: its subject (the claim or the
/// auth) and the guard of an open dispute of the same subject, kind and reason,
/// in one request. They depend on nothing but the request, so a handler may
/// read them together with its own first reads, and file with [`file_with`].
#[derive(Clone, Debug)]
pub struct SubjectRecords {
    subject: Option<Record>,
    guard: Option<Record>,
}

impl SubjectRecords {
    /// The records `request` names.
    pub async fn read(
        store: &dyn RecordStore,
        request: &Request,
    ) -> Result<SubjectRecords, StoreError> {
        let [subject, guard]: [Option<Record>; 2] = store
            .get_many(&[subject_key(&request.subject), open_guard_key(request)])
            .await?
            .try_into()
            .map_err(|_| {
                StoreError::unavailable("reading a dispute's subject", "answers missing")
            })?;
        Ok(SubjectRecords { subject, guard })
    }
}

/// [`file`], with `read` already read for `request` ([`SubjectRecords::read`]). The
/// checks still run in order, so a subject the caller may not see is a 404
/// whatever else is open on it.
#[allow(clippy::too_many_arguments)]
pub async fn file_with(
    store: &dyn RecordStore,
    read: &SubjectRecords,
    policy: &Policy,
    caller_org: Option<&OrgId>,
    request: Request,
    received_at: Timestamp,
    channel: Channel,
    intake_item_id: Option<ReferenceId>,
    id: ReferenceId,
    actor: Actor,
    now: Timestamp,
) -> Result<Dispute, FileError> {
    rules::screen(
        request.kind,
        request.reason_category,
        request.expedited,
        policy,
    )
    .map_err(FileError::Refused)?;
    let (subject, guard) = (read.subject.clone(), read.guard.clone());
    let facts = facts_of(store, policy, &request.subject, subject).await?;
    let duplicate = open_dispute_of(guard);
    let facts = match facts {
        Some(f) if caller_org.is_none_or(|org| &f.org == org) => f,
        _ => return Err(FileError::SubjectNotFound),
    };
    let filing = Filing {
        kind: request.kind,
        reason_category: request.reason_category,
        subject: facts.subject.clone(),
        amount_disputed: request.amount_disputed,
        remittance_date: request.remittance_date,
        expedited: request.expedited,
        channel,
        received_at,
    };
    let clocks = rules::accept(&filing, policy).map_err(FileError::Refused)?;
    if let Some(existing) = duplicate {
        return Err(FileError::Duplicate { existing });
    }
    let health_plan = facts
        .health_plan
        .unwrap_or_else(|| "the member's health plan".to_string());
    Ok(Dispute::filed(
        Filed {
            id,
            org: facts.org,
            member_id: facts.member_id,
            health_plan,
            request,
            filing,
            clocks,
            intake_item_id,
        },
        actor,
        now,
        policy,
    ))
}

/// A change to commit: the writes of the dispute and its rows, the events to
/// publish, the audit record.
pub struct Change {
    pub ops: Vec<WriteOp>,
    pub events: Vec<OutboxEvent>,
}

impl Change {
    /// The dispute was filed. The open-dispute guard is taken with the record,
    /// so two concurrent filings of the same dispute cannot both commit.
    pub fn created(dispute: &Dispute, at: Timestamp) -> Result<Change, StoreError> {
        let mut ops = aggregate::create(&DisputeRecord(dispute.clone()))?;
        let guard = open_guard_key(&dispute.request);
        for op in &mut ops {
            if let WriteOp::Put { record, condition } = op
                && record.key == guard
            {
                *condition = Condition::Absent;
            }
        }
        Ok(Change {
            ops,
            events: events(dispute, 0, at),
        })
    }

    /// The dispute changed from `old`. A payment dispute on a claim that this
    /// change decided as overturned (wholly or in part) also sends the claim
    /// back for re-adjudication.
    pub fn updated(
        old: &Stored<DisputeRecord>,
        dispute: &Dispute,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        let ops = aggregate::update(old, &DisputeRecord(dispute.clone()))?;
        // One event per step, so a decision that also acknowledged says both.
        let mut events = events(dispute, old.value.0.history.len(), at);
        let newly_decided =
            old.value.0.status != Status::Decided && dispute.status == Status::Decided;
        if newly_decided && let Some(r) = readjudication(dispute) {
            events.push(OutboxEvent::new(
                CLAIM_READJUDICATION,
                serde_json::to_string(&r).unwrap_or_default(),
                at,
            ));
        }
        Ok(Change { ops, events })
    }

    /// Adds the change of the appealed auth ([`auth_after_appeal`]), in the
    /// same transaction.
    pub fn and_auth(mut self, auth: prior_auths::Change) -> Change {
        self.ops.extend(auth.ops);
        self.events.push(auth.event);
        self
    }

    /// Adds the audit record of who did it.
    pub fn audited(
        mut self,
        who: &Principal,
        action: &'static str,
        dispute: &Dispute,
        info: &RequestInfo,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        self.ops.push(audit::write_op(&AuditEvent {
            actor: who,
            action,
            purpose: "payment",
            subject_type: "dispute",
            subject_id: dispute.id.as_str(),
            outcome: dispute.status.as_str(),
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
        for e in &self.events {
            self.ops.push(e.stage()?);
        }
        self.ops.extend(extra);
        ports.records.transact(self.ops).await?;
        mso_api::outbox::publish(ports.records, ports.queue, &self.events).await;
        Ok(())
    }
}

/// What a decided appeal of a prior auth changes in the auth: an overturned
/// (or partially overturned) appeal approves it (or says UM issues what the
/// decision names) and counts it as approved after appeal. `None` when the
/// dispute is not such an appeal, or the auth no longer stands denied. Commit
/// it with the decision ([`Change::and_auth`]) so the two never disagree.
pub async fn auth_after_appeal(
    store: &dyn RecordStore,
    policy: &Policy,
    d: &Dispute,
) -> Result<Option<prior_auths::Change>, StoreError> {
    let (Some(det), Some(auth_id)) = (&d.determination, d.request.subject.prior_auth_id()) else {
        return Ok(None);
    };
    let wholly = match det.outcome {
        Outcome::Overturned => true,
        Outcome::PartiallyOverturned => false,
        Outcome::Upheld => return Ok(None),
    };
    if d.request.kind != Kind::Appeal || d.status != Status::Decided {
        return Ok(None);
    }
    let Some(stored) = prior_auths::load(store, auth_id).await? else {
        return Ok(None);
    };
    let mut auth = stored.value.0.clone();
    let coverage_end = prior_auths::coverage_end(store, &auth).await?;
    let changed = prior_auth::review::appeal_overturned(
        &mut auth,
        &d.id,
        wholly,
        det.decided_by.clone(),
        det.decided_at,
        policy,
        coverage_end,
    );
    if !changed {
        return Ok(None);
    }
    Ok(Some(prior_auths::Change::updated(
        &stored,
        &auth,
        det.decided_at,
    )?))
}

/// The re-adjudication a decided dispute asks for: overturned or partially
/// overturned payment disputes on a claim.
pub fn readjudication(d: &Dispute) -> Option<Readjudication> {
    let det = d.determination.as_ref()?;
    let claim = d.request.subject.claim_id()?;
    let overturned = matches!(
        det.outcome,
        Outcome::Overturned | Outcome::PartiallyOverturned
    );
    (d.request.kind == Kind::Pdr && overturned).then(|| Readjudication {
        claim_id: claim.to_string(),
        dispute_id: d.id.to_string(),
        outcome: det.outcome.as_str().to_string(),
        amount_cents: det.amount.map(|a| a.cents()),
        decided_at: det.decided_at,
    })
}

/// The events of the history entries from `since` on.
fn events(d: &Dispute, since: usize, at: Timestamp) -> Vec<OutboxEvent> {
    d.history
        .iter()
        .skip(since)
        .map(|h| {
            let body = DisputeEvent {
                dispute_id: d.id.to_string(),
                org: d.org.to_string(),
                kind: d.request.kind.as_str().to_string(),
                action: h.action.clone(),
                from: h.from.map(|s| s.as_str().to_string()),
                to: h.to.as_str().to_string(),
                at: h.at,
            };
            OutboxEvent::new(
                DISPUTE_EVENTS,
                serde_json::to_string(&body).unwrap_or_default(),
                at,
            )
        })
        .collect()
}

/// A dispute in a list (and on its list and queue rows in the store).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DisputeSummary {
    #[schema(example = "DSP-7K3Q9M")]
    pub id: String,
    pub org: String,
    #[schema(value_type = String, example = "pdr")]
    pub kind: Kind,
    #[schema(value_type = String, example = "received")]
    pub status: Status,
    #[schema(example = "CLM-7K3Q9M2P4X")]
    pub claim_id: Option<String>,
    #[schema(example = "PA-7K3Q9M")]
    pub prior_auth_id: Option<String>,
    pub member_id: String,
    #[schema(value_type = String, example = "underpayment")]
    pub reason_category: ReasonCategory,
    /// Dollars, two decimals.
    #[schema(example = "125.00")]
    pub amount_disputed: Option<String>,
    /// `electronic` or `paper`.
    #[schema(value_type = String, example = "electronic")]
    pub channel: Channel,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub acknowledge_due: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub decision_due: Timestamp,
    /// The clock that runs out next while open (acknowledgement, then decision).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due: Option<Timestamp>,
    #[schema(value_type = Option<String>, example = "overturned")]
    pub outcome: Option<Outcome>,
    /// Set in answers: `acknowledgement_overdue` or `decision_overdue` when
    /// open and past that clock.
    #[serde(default)]
    pub overdue: Option<String>,
    /// What the report needs; not shown.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schema(ignore)]
    pub report: Option<ReportInput>,
}

impl DisputeSummary {
    pub fn of(d: &Dispute) -> DisputeSummary {
        let det = d.determination.as_ref();
        DisputeSummary {
            id: d.id.to_string(),
            org: d.org.to_string(),
            kind: d.request.kind,
            status: d.status,
            claim_id: d.request.subject.claim_id().map(ToString::to_string),
            prior_auth_id: d.request.subject.prior_auth_id().map(ToString::to_string),
            member_id: d.member_id.to_string(),
            reason_category: d.request.reason_category,
            amount_disputed: d.request.amount_disputed.map(|a| a.to_string()),
            channel: d.channel,
            received_at: d.received_at,
            acknowledge_due: d.acknowledge_due,
            decision_due: d.decision_due,
            next_due: d.next_due(),
            outcome: det.map(|x| x.outcome),
            overdue: None,
            report: Some(ReportInput {
                kind: d.request.kind,
                outcome: det.map(|x| x.outcome),
                acknowledge_due: d.acknowledge_due,
                acknowledged_at: d.acknowledged_at,
                decision_due: d.decision_due,
                decided_at: det.map(|x| x.decided_at),
            }),
        }
    }

    /// As shown to a client at `now`.
    pub fn shown(mut self, now: Timestamp) -> DisputeSummary {
        self.overdue = rules::overdue(self.status, self.acknowledge_due, self.decision_due, now)
            .map(str::to_owned);
        self.report = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use mso_domain::money::Money;
    use mso_domain::prior_auth::Contact;

    use super::*;

    fn dispute(kind: Kind, subject: SubjectRef, status: Status) -> Dispute {
        let policy = mso_api::policies::load("sunrise").unwrap();
        let request = Request {
            kind,
            subject,
            reason_category: ReasonCategory::Underpayment,
            reason: "Paid below contract".into(),
            amount_disputed: Some(Money::from_cents(12_500)),
            remittance_date: Some("2026-02-20".parse().unwrap()),
            expedited: false,
            contact: Contact {
                name: "Billing".into(),
                phone: "657-555-0199".into(),
                extension: None,
                fax: None,
                email: None,
            },
        };
        let received: Timestamp = "2026-03-02T17:05:00Z".parse().unwrap();
        let filing = Filing {
            kind,
            reason_category: request.reason_category,
            subject: Subject::Claim {
                last_determination: None,
                medical_necessity_denial: false,
            },
            amount_disputed: request.amount_disputed,
            remittance_date: request.remittance_date,
            expedited: false,
            channel: Channel::Electronic,
            received_at: received,
        };
        let clocks = rules::accept(&filing, &policy).unwrap();
        let mut d = Dispute::filed(
            Filed {
                id: ReferenceId::parse("DSP-7K3Q9M").unwrap(),
                org: OrgId::parse("sunrise-fm").unwrap(),
                member_id: MemberId::parse("SUN100001").unwrap(),
                health_plan: "GSHP".into(),
                request,
                filing,
                clocks,
                intake_item_id: None,
            },
            Actor::system(),
            received,
            &policy,
        );
        if status == Status::Decided {
            review::decide(
                &mut d,
                review::Decision {
                    outcome: Outcome::PartiallyOverturned,
                    amount: Some(Money::from_cents(5_000)),
                    reasons: vec!["r".into()],
                    determination: "d".into(),
                },
                Actor::system(),
                received,
                &policy,
            )
            .unwrap();
        }
        d
    }

    #[test]
    fn an_open_dispute_is_queued_guarded_and_timed_and_a_decided_one_is_not() {
        let claim = SubjectRef::Claim(ReferenceId::parse("CLM-7K3Q9M2P4X").unwrap());
        let open = DisputeRecord(dispute(Kind::Pdr, claim.clone(), Status::Received));
        let pks: Vec<String> = open.views().into_iter().map(|r| r.key.pk).collect();
        assert_eq!(
            pks,
            [
                "DSPLIST#ORG#sunrise-fm",
                "DSPLIST#ALL",
                "DSPLIST#SUBJECT#CLM-7K3Q9M2P4X",
                "DSPQUEUE",
                "DSPOPEN#CLM-7K3Q9M2P4X#pdr#underpayment",
                "DSPTIMER",
                "DSPTIMER"
            ]
        );
        let created = Change::created(&open.0, open.0.received_at).unwrap();
        let guarded = created.ops.iter().any(|op| {
            matches!(op, WriteOp::Put { record, condition: Condition::Absent } if record.key.pk.starts_with("DSPOPEN#"))
        });
        assert!(guarded, "the guard is taken only if absent");

        let decided = DisputeRecord(dispute(Kind::Pdr, claim, Status::Decided));
        let pks: Vec<String> = decided.views().into_iter().map(|r| r.key.pk).collect();
        assert_eq!(
            pks,
            [
                "DSPLIST#ORG#sunrise-fm",
                "DSPLIST#ALL",
                "DSPLIST#SUBJECT#CLM-7K3Q9M2P4X",
                "DSPTIMER"
            ]
        );
    }

    #[test]
    fn only_overturned_payment_disputes_on_claims_are_readjudicated() {
        let claim = SubjectRef::Claim(ReferenceId::parse("CLM-7K3Q9M2P4X").unwrap());
        let r = readjudication(&dispute(Kind::Pdr, claim.clone(), Status::Decided)).unwrap();
        assert_eq!(r.claim_id, "CLM-7K3Q9M2P4X");
        assert_eq!(r.outcome, "partially_overturned");
        assert_eq!(r.amount_cents, Some(5_000));
        assert!(readjudication(&dispute(Kind::Pdr, claim.clone(), Status::Received)).is_none());
        assert!(readjudication(&dispute(Kind::Grievance, claim, Status::Decided)).is_none());
        let auth = SubjectRef::PriorAuth(ReferenceId::parse("PA-7K3Q9M").unwrap());
        assert!(readjudication(&dispute(Kind::Pdr, auth, Status::Decided)).is_none());
    }
}
