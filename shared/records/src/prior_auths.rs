//! How an auth is stored: the record, the rows derived from it (lists, UM queue,
//! sweeper timers), and the one transaction that writes a change together with
//! its outbox event and audit record. Used by the prior-auth function and by
//! every job that reads or files auths (claims, disputes, intake).

use jiff::Timestamp;
use mso_api::aggregate::{self, Aggregate, Stored};
use mso_api::audit::{self, AuditEvent, sortable_instant};
use mso_api::outbox::OutboxEvent;
use mso_api::{Principal, RequestInfo, directory};
use mso_domain::eligibility;
use mso_domain::ids::{Npi, OrgId, ReferenceId};
use mso_domain::member::Member;
use mso_domain::policy::Policy;
use mso_domain::prior_auth::metrics::MetricInput;
use mso_domain::prior_auth::{Actor, PriorAuth, Request, Source, Status, Urgency, rules};
use mso_domain::provider::Provider;
use mso_store::{Key, Record, RecordStore, StoreError, WriteOp, keys};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod request;

use crate::Ports;
use crate::auth_events::{AUTH_EVENTS, AuthEvent};

/// An auth as stored. A newtype so the storage trait can be implemented here.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuthRecord(pub PriorAuth);

/// Why the sweeper must look at an auth, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    DeemedApproval,
    Expiry,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timer {
    pub id: ReferenceId,
    pub kind: TimerKind,
}

impl Aggregate for AuthRecord {
    fn key(&self) -> Key {
        keys::prior_auth(self.0.id.as_str())
    }

    fn views(&self) -> Vec<Record> {
        let auth = &self.0;
        let summary = mso_store::Body::of(&AuthSummary::of(auth)).unwrap_or_default();
        let received = format!("{}#{}", sortable_instant(auth.received_at), auth.id);
        let mut rows = vec![
            Record::new(
                Key::new(
                    keys::prior_auth_list_org(auth.org.as_str()),
                    received.clone(),
                ),
                summary.clone(),
            ),
            Record::new(
                Key::new(keys::PRIOR_AUTH_LIST_ALL, received.clone()),
                summary.clone(),
            ),
            Record::new(
                Key::new(
                    keys::prior_auth_list_member(auth.request.member_id.as_str()),
                    received,
                ),
                summary.clone(),
            ),
        ];
        if auth.status == Status::Pended {
            rows.push(Record::new(
                Key::new(
                    keys::UM_QUEUE,
                    format!("{}#{}", sortable_instant(auth.decision_due), auth.id),
                ),
                summary,
            ));
        }
        let mut timer = |at: Timestamp, kind| {
            let body = mso_store::Body::of(&Timer {
                id: auth.id.clone(),
                kind,
            })
            .unwrap_or_default();
            rows.push(Record::new(
                Key::new(
                    keys::PRIOR_AUTH_TIMERS,
                    format!("{}#{}", sortable_instant(at), auth.id),
                ),
                body,
            ));
        };
        if let (Status::Pended, Some(at)) = (auth.status, auth.deemed_approval_at) {
            timer(at, TimerKind::DeemedApproval);
        }
        if let Some(at) = auth.expires_at() {
            timer(at, TimerKind::Expiry);
        }
        rows
    }
}

/// Reads an auth by its ID.
pub async fn load(
    store: &dyn RecordStore,
    id: &ReferenceId,
) -> Result<Option<Stored<AuthRecord>>, StoreError> {
    aggregate::load(store, &keys::prior_auth(id.as_str())).await
}

/// Reads the auths `ids` names, in their order (`None` for an unknown ID),
/// [`mso_store::MAX_GET_MANY_KEYS`] to a request.
pub async fn load_many(
    store: &dyn RecordStore,
    ids: &[ReferenceId],
) -> Result<Vec<Option<Stored<AuthRecord>>>, StoreError> {
    let keys: Vec<mso_store::Key> = ids.iter().map(|id| keys::prior_auth(id.as_str())).collect();
    aggregate::load_many(store, &keys).await
}

/// A change to commit: the writes of the auth and its views, the event to
/// publish, the audit record.
pub struct Change {
    pub ops: Vec<WriteOp>,
    pub event: OutboxEvent,
}

impl Change {
    /// The auth was created.
    pub fn created(auth: &PriorAuth, at: Timestamp) -> Result<Change, StoreError> {
        let ops = aggregate::create(&AuthRecord(auth.clone()))?;
        Ok(Change {
            ops,
            event: event(auth, None, at),
        })
    }

    /// The auth changed from `old`.
    pub fn updated(
        old: &Stored<AuthRecord>,
        auth: &PriorAuth,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        let ops = aggregate::update(old, &AuthRecord(auth.clone()))?;
        Ok(Change {
            ops,
            event: event(auth, Some(old.value.0.status), at),
        })
    }

    /// Adds the audit record of who did it.
    pub fn audited(
        mut self,
        who: &Principal,
        action: &'static str,
        auth: &PriorAuth,
        info: &RequestInfo,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        self.ops.push(audit::write_op(&AuditEvent {
            actor: who,
            action,
            purpose: "treatment",
            subject_type: "prior_auth",
            subject_id: auth.id.as_str(),
            outcome: auth.status.as_str(),
            request_id: &info.request_id,
            at,
        })?);
        Ok(self)
    }

    /// Commits everything (plus `extra`, e.g. an idempotency completion) in one
    /// transaction, then publishes the event.
    pub async fn commit(
        mut self,
        ports: Ports<'_>,
        extra: Option<WriteOp>,
    ) -> Result<(), StoreError> {
        self.ops.push(self.event.stage()?);
        self.ops.extend(extra);
        ports.records.transact(self.ops).await?;
        mso_api::outbox::publish(
            ports.records,
            ports.queue,
            std::slice::from_ref(&self.event),
        )
        .await;
        Ok(())
    }
}

fn event(auth: &PriorAuth, from: Option<Status>, at: Timestamp) -> OutboxEvent {
    let last = auth.history.last();
    let body = AuthEvent {
        auth_id: auth.id.to_string(),
        org: auth.org.to_string(),
        action: last.map(|h| h.action.clone()).unwrap_or_default(),
        from: from.map(|s| s.as_str().to_string()),
        to: auth.status.as_str().to_string(),
        at,
    };
    OutboxEvent::new(
        AUTH_EVENTS,
        serde_json::to_string(&body).unwrap_or_default(),
        at,
    )
}

/// An auth in a list (and on its list rows in the store).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthSummary {
    #[schema(example = "PA-7K3Q9M")]
    pub id: String,
    pub org: String,
    pub member_id: String,
    #[schema(value_type = String, example = "pended")]
    pub status: Status,
    pub category: String,
    #[schema(value_type = String, example = "routine")]
    pub urgency: Urgency,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub decision_due: Timestamp,
    pub service_from: String,
    pub service_to: String,
    pub requesting_npi: String,
    pub servicing_npi: String,
    /// The requested procedure codes, in line order.
    pub codes: Vec<String>,
    pub valid_to: Option<String>,
    /// Set in answers: open and past its due time.
    #[serde(default)]
    pub overdue: bool,
    /// What the report needs; not shown.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schema(ignore)]
    pub metrics: Option<MetricInput>,
}

impl AuthSummary {
    pub fn of(auth: &PriorAuth) -> AuthSummary {
        let r = &auth.request;
        AuthSummary {
            id: auth.id.to_string(),
            org: auth.org.to_string(),
            member_id: r.member_id.to_string(),
            status: auth.status,
            category: r.category.as_str().to_string(),
            urgency: auth.urgency,
            received_at: auth.received_at,
            decision_due: auth.decision_due,
            service_from: r.service_from.to_string(),
            service_to: r.service_to.to_string(),
            requesting_npi: r.requesting_npi.to_string(),
            servicing_npi: r.servicing_npi.to_string(),
            codes: auth.lines.iter().map(|l| l.code.to_string()).collect(),
            valid_to: auth.valid_to.map(|d| d.to_string()),
            overdue: false,
            metrics: Some(auth.metric_input()),
        }
    }

    /// As shown to a client at `now`.
    pub fn shown(mut self, now: Timestamp) -> AuthSummary {
        self.overdue = self.status.is_open() && now > self.decision_due;
        self.metrics = None;
        self
    }
}

/// Why a valid request cannot be filed: the caller's answer, never a storage
/// failure. Messages name no member detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The requesting NPI is not a provider of the caller's organisation (or, for
    /// a clerk filing from intake, of any organisation in the directory).
    RequestingNpiNotInOrganisation,
    /// No member matches the member ID and date of birth. `dob_mismatch` is for
    /// the audit trail only.
    MemberNotFound { dob_mismatch: bool },
    /// The member is not eligible with the IPA on a date of service.
    NotEligible {
        field: &'static str,
        code: &'static str,
        message: String,
    },
}

#[derive(Debug)]
pub enum FileError {
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for FileError {
    fn from(e: StoreError) -> Self {
        FileError::Store(e)
    }
}

/// The directory records filing an auth checks: the member, and the
/// requesting and servicing providers, read in one request. They depend on
/// nothing but the request, so a handler may read them together with its own
/// first reads, and file with [`file_with`].
#[derive(Clone, Debug)]
pub struct Directory {
    member: Option<Member>,
    requesting: Option<Provider>,
    servicing: Option<Provider>,
}

impl Directory {
    /// The records `request` names.
    pub async fn read(store: &dyn RecordStore, request: &Request) -> Result<Directory, StoreError> {
        let (members, providers) = directory::members_and_providers(
            store,
            &[&request.member_id],
            &[&request.requesting_npi, &request.servicing_npi],
        )
        .await?;
        let mut providers = providers.into_iter();
        Ok(Directory {
            member: members.into_iter().next().flatten(),
            requesting: providers.next().flatten(),
            servicing: providers.next().flatten(),
        })
    }
}

/// The new auth for a validated `request`, with every check that needs the
/// directory: the requesting NPI's organisation (`caller_org`, or for IPA staff
/// filing from intake whichever organisation the NPI belongs to), the member by
/// ID and date of birth, eligibility on the first and the last date of service.
#[allow(clippy::too_many_arguments)]
pub async fn file(
    store: &dyn RecordStore,
    policy: &Policy,
    caller_org: Option<&OrgId>,
    request: Request,
    received_at: Timestamp,
    now: Timestamp,
    source: Source,
    id: ReferenceId,
    actor: Actor,
) -> Result<PriorAuth, FileError> {
    let directory = Directory::read(store, &request).await?;
    file_with(
        store,
        &directory,
        policy,
        caller_org,
        request,
        received_at,
        now,
        source,
        id,
        actor,
    )
    .await
}

/// [`file`], with `directory` already read for `request` ([`Directory::read`]):
/// the checks still refuse in the same order.
#[allow(clippy::too_many_arguments)]
pub async fn file_with(
    store: &dyn RecordStore,
    directory: &Directory,
    policy: &Policy,
    caller_org: Option<&OrgId>,
    request: Request,
    received_at: Timestamp,
    now: Timestamp,
    source: Source,
    id: ReferenceId,
    actor: Actor,
) -> Result<PriorAuth, FileError> {
    let org = match (&directory.requesting, caller_org) {
        (Some(p), Some(org)) if &p.org_id == org => p.org_id.clone(),
        (Some(p), None) => p.org_id.clone(),
        _ => return Err(FileError::Refused(Refusal::RequestingNpiNotInOrganisation)),
    };
    let member = match &directory.member {
        Some(m) if m.dob == request.dob => m,
        other => {
            return Err(FileError::Refused(Refusal::MemberNotFound {
                dob_mismatch: other.is_some(),
            }));
        }
    };
    // Eligible on both ends of the service dates (the first one decides the plan).
    let mut first_span = None;
    // Both ends usually fall in one span, with one PCP: read once.
    let mut pcp_read: Option<(Npi, Option<Provider>)> = None;
    for (field, date) in [
        ("service_from", request.service_from),
        ("service_to", request.service_to),
    ] {
        let pcp = match member.span_on(date).and_then(|s| s.pcp_npi) {
            Some(npi) => match &pcp_read {
                Some((read, pcp)) if *read == npi => pcp.clone(),
                _ => {
                    let pcp = directory::provider(store, &npi).await?;
                    pcp_read = Some((npi, pcp.clone()));
                    pcp
                }
            },
            None => None,
        };
        let det = eligibility::determine(member, date, policy, pcp.as_ref(), None);
        if let Some(reason) = det.reasons.first() {
            return Err(FileError::Refused(Refusal::NotEligible {
                field,
                code: reason.code(),
                message: reason.message(date, &policy.ipa.name),
            }));
        }
        if first_span.is_none() {
            first_span = member.span_on(date).cloned();
        }
    }
    let span = first_span.ok_or(FileError::Refused(Refusal::MemberNotFound {
        dob_mismatch: false,
    }))?;
    let plan = policy
        .plan(&span.plan_id)
        .ok_or(FileError::Refused(Refusal::NotEligible {
            field: "service_from",
            code: "not_assigned_to_ipa",
            message: "The member's plan is not delegated to this IPA.".into(),
        }))?;
    let ctx = rules::Context {
        policy,
        plan,
        assigned_pcp: span.pcp_npi,
        servicing: directory.servicing.as_ref(),
        member_age: age_on(member.dob, request.service_from),
    };
    Ok(PriorAuth::submitted(
        id,
        org,
        request,
        received_at,
        now,
        source,
        &ctx,
        span.end,
        actor,
    ))
}

/// Whole years from `dob` to `on`.
fn age_on(dob: jiff::civil::Date, on: jiff::civil::Date) -> u32 {
    let mut years = i32::from(on.year()) - i32::from(dob.year());
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// The last day of the member's coverage around `date` (approvals never outlive
/// it), for decisions taken after submission.
pub async fn coverage_end(
    store: &dyn RecordStore,
    auth: &PriorAuth,
) -> Result<Option<jiff::civil::Date>, StoreError> {
    Ok(directory::member(store, &auth.request.member_id)
        .await?
        .and_then(|m| m.span_on(auth.request.service_from).and_then(|s| s.end)))
}
