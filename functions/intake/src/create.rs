//! `POST /v1/intake/{id}/create`: a clerk files a new record (a prior auth or a
//! dispute) from a queued item with the fields read off the fax or email. The
//! record's legal clock starts at the item's receipt time, never at the clerk's.

use lambda_http::http::StatusCode;
use mso_api::audit::{self, AuditEvent};
use mso_api::idempotency::StoredResponse;
use mso_api::outbox::{self, OutboxEvent};
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    json_response,
};
use mso_domain::Invalid;
use mso_domain::disputes::{
    Channel as DisputeChannel, Kind as DisputeKind, Refusal as DisputeRefusal,
    Request as DisputeRequest, SubjectRef,
};
use mso_domain::ids::{RecordKind, ReferenceId};
use mso_domain::intake::item::{Closed, ItemStatus, may_file};
use mso_domain::policy::FilingWindowStart;
use mso_domain::prior_auth::{Request as AuthRequest, Source};
use mso_records::intake::{self, LinkKind, RecordLink};
use mso_records::prior_auths::{self, FileError, Refusal};
use mso_records::{disputes, documents};
use mso_store::{StoreError, WriteOp};
use serde_json::{Map, Value, json};
use tracing::{Span, instrument};

use crate::link::{actor_of, claim, closed_problem};
use crate::read::path_id;
use crate::view::{CreatedFromIntake, FiledRecord, IntakeView};
use crate::{CLERKS, Deps};
use mso_api::idempotency::key_and_body;

/// Attempts when the item changes, or a new reference ID is taken, meanwhile.
const ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
enum CreateError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("the item is closed")]
    Closed(Closed),
    #[error("refused")]
    Refused(Refusal),
    #[error("no such claim or prior auth")]
    SubjectNotFound(&'static str),
    #[error("the dispute is refused by the rules")]
    DisputeRefused(DisputeRefusal, &'static str),
    #[error("a dispute on this subject, kind and reason is open")]
    Duplicate(ReferenceId),
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<CreateError> for Response<Body> {
    fn from(e: CreateError) -> Response<Body> {
        let problem = match e {
            CreateError::Idempotent(resp) => return resp,
            CreateError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            CreateError::Forbidden(e) => e.into(),
            CreateError::Invalid(errors) => Problem::invalid_request(errors),
            CreateError::NotFound => Problem::not_found(),
            CreateError::Closed(closed) => closed_problem(closed),
            CreateError::Refused(refusal) => refused(refusal),
            CreateError::SubjectNotFound(field) => Problem::not_found()
                .with_detail("No claim or prior auth with this ID exists.")
                .with_errors(vec![FieldError {
                    field: field.into(),
                    code: "not_found".into(),
                    message: "no such record".into(),
                }]),
            CreateError::DisputeRefused(refusal, field) => {
                return dispute_refused(refusal, field);
            }
            CreateError::Duplicate(existing) => {
                return Problem::new(
                    StatusCode::CONFLICT,
                    "dispute-already-open",
                    "A dispute on this subject, kind and reason is already open",
                )
                .with_detail(format!(
                    "{existing} is open for the same subject, kind and reason: link the item to it (POST /v1/intake/{{id}}/link with {{kind: dispute, id: {existing}}}) instead of filing again."
                ))
                .into_response_with(json!({"existing_dispute_id": existing.as_str()}));
            }
            CreateError::Store(StoreError::InvalidInput(_)) => Problem::invalid_request(vec![]),
            CreateError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// A refusal of the clerk's fields: 422 naming the field to look at.
fn refused(refusal: Refusal) -> Problem {
    let (slug, title, field, code, message) = match refusal {
        Refusal::RequestingNpiNotInOrganisation => (
            "requesting-npi-unknown",
            "The requesting NPI is not a provider in the directory",
            "prior_auth.requesting_npi",
            "npi_not_in_directory".to_string(),
            "must be the NPI of a provider in the IPA's directory".to_string(),
        ),
        Refusal::MemberNotFound { .. } => (
            "member-not-found",
            "No member matches this member ID and date of birth",
            "prior_auth.member_id",
            "member_not_found".to_string(),
            "no member matches this member ID and date of birth".to_string(),
        ),
        Refusal::NotEligible {
            field,
            code,
            message,
        } => (
            "member-not-eligible",
            "The member is not eligible on the dates of service",
            match field {
                "service_to" => "prior_auth.service_to",
                _ => "prior_auth.service_from",
            },
            code.to_string(),
            message,
        ),
    };
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title).with_errors(vec![FieldError {
        field: field.into(),
        code,
        message,
    }])
}

/// A refusal of the dispute by the rules, as `POST /v1/disputes` answers it
/// (400 for fields to correct, 422 with what to do instead), the fields named
/// under `dispute.`. `late_field` is the field a late filing points at.
fn dispute_refused(refusal: DisputeRefusal, late_field: &'static str) -> Response<Body> {
    let message = refusal.message();
    let unprocessable = |slug: &str, title: &str, field: &str| {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title)
            .with_detail(message.clone())
            .with_errors(vec![FieldError {
                field: format!("dispute.{field}"),
                code: refusal.code().into(),
                message: message.clone(),
            }])
    };
    match &refusal {
        DisputeRefusal::Invalid(problems) => Problem::invalid_request(
            problems
                .iter()
                .map(|(field, invalid)| FieldError::new(&format!("dispute.{field}"), invalid))
                .collect(),
        )
        .into_response(),
        DisputeRefusal::ExpeditedByFaxOnly { fax } => unprocessable(
            "expedited-appeal-by-fax",
            "Expedited appeals are taken by fax only",
            "expedited",
        )
        .into_response_with(json!({"expedited_appeal_fax": fax})),
        DisputeRefusal::CorrectedClaim => unprocessable(
            "corrected-claim-not-a-dispute",
            "A corrected claim is a resubmission, not a dispute",
            "reason_category",
        )
        .into_response_with(
            json!({"resubmit_as": {"route": "POST /v1/claims", "frequency_code": "7"}}),
        ),
        DisputeRefusal::Late {
            rule,
            start,
            deadline,
        } => unprocessable(
            "filing-window-closed",
            "Received after the window to file closed",
            late_field,
        )
        .into_response_with(
            json!({"rule": rule, "window_start": start.to_string(), "deadline": deadline.to_string()}),
        ),
    }
}

/// What the clerk asks to file.
enum Wanted {
    PriorAuth(Box<AuthRequest>),
    Dispute(Box<DisputeRequest>),
}

fn parse_kind(s: &str) -> Result<LinkKind, Invalid> {
    match LinkKind::parse(s) {
        Ok(kind @ (LinkKind::PriorAuth | LinkKind::Dispute)) => Ok(kind),
        _ => Err(Invalid::new(
            "invalid_kind",
            "must be prior_auth or dispute",
        )),
    }
}

/// The object under `name`, or why it is missing.
fn object_field<'a>(
    root: &'a Map<String, Value>,
    name: &str,
    f: &mut mso_api::body::Fields<'_>,
) -> Option<&'a Map<String, Value>> {
    match root.get(name) {
        Some(Value::Object(fields)) => Some(fields),
        Some(_) => {
            f.problem(name, &Invalid::new("invalid_type", "must be an object"));
            None
        }
        None => {
            f.problem(name, &Invalid::required());
            None
        }
    }
}

fn create_request(root: &Map<String, Value>) -> Result<Wanted, Vec<FieldError>> {
    let mut f = mso_api::body::Fields::new(root);
    let kind = f.required("kind", parse_kind);
    f.deny_unknown(&["kind", "prior_auth", "dispute"]);
    let mut errors = Vec::new();
    // The record's own fields, read as its own route reads them, named under
    // `prior_auth.` or `dispute.`.
    let mut prefixed = |name: &str, es: Vec<FieldError>| {
        errors.extend(es.into_iter().map(|e| FieldError {
            field: format!("{name}.{}", e.field),
            ..e
        }));
    };
    let wanted = match kind {
        Some(LinkKind::PriorAuth) => object_field(root, "prior_auth", &mut f).and_then(|fields| {
            match prior_auths::request::request(fields) {
                Ok(r) => Some(Wanted::PriorAuth(Box::new(r))),
                Err(es) => {
                    prefixed("prior_auth", es);
                    None
                }
            }
        }),
        Some(LinkKind::Dispute) => {
            object_field(root, "dispute", &mut f).and_then(
                |fields| match disputes::request::request(fields) {
                    Ok(r) => Some(Wanted::Dispute(Box::new(r))),
                    Err(es) => {
                        prefixed("dispute", es);
                        None
                    }
                },
            )
        }
        // A claim is not filed from intake (parse_kind refused it).
        Some(LinkKind::Claim) | None => None,
    };
    let valid = f.is_valid();
    let mut all = f.into_errors();
    all.extend(errors);
    match wanted {
        Some(w) if valid && all.is_empty() => Ok(w),
        _ => Err(all),
    }
}

/// File a prior auth or a dispute from an intake item
///
/// The body is `{"kind": "prior_auth", "prior_auth": {…}}` with the fields of
/// `POST /v1/prior-auths`, or `{"kind": "dispute", "dispute": {…}}` with the
/// fields of `POST /v1/disputes`, as the clerk reads them off the fax or email.
/// The record's `received_at` is the item's receipt time, so its clocks run
/// from when the fax or email arrived, not from when the clerk got to it: an
/// auth's decision clock; a dispute's filing window, its acknowledgement (the
/// paper clock, `acknowledge_working_days_paper`) and its decision. The
/// requesting NPI decides an auth's organisation, the claim's or auth's
/// organisation a dispute's. Refusals are those of the record's own route:
/// a late dispute names the rule, the start and the deadline; an expedited
/// appeal names the fax to use; a corrected claim goes to resubmission; an
/// open dispute on the same subject, kind and reason is a 409 naming it. The
/// item becomes `filed`, and each history names the other. Idempotent with
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/intake/{id}/create",
    tag = "intake",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The item's reference ID (INT-7K3Q9M)"),
        ("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters; the same key and body replay the first answer for 24 hours"),
    ),
    request_body(content = serde_json::Value, description = "{kind: prior_auth, prior_auth: {the fields of POST /v1/prior-auths}} or {kind: dispute, dispute: {the fields of POST /v1/disputes}}"),
    responses(
        (status = 201, description = "Filed: the item and the new record (a dispute's with acknowledge_due and filing_deadline)", body = CreatedFromIntake),
        (status = 400, description = "Invalid fields; every one is listed (prior_auth.* or dispute.* for the record's)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item visible to the caller; or no claim or prior auth with the dispute's dispute.claim_id or dispute.prior_auth_id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The item is already linked or filed; a dispute on the same subject, kind and reason is open (existing_dispute_id); or a request with this Idempotency-Key is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Member not found or not eligible, requesting NPI unknown; a dispute received late (rule, window_start, deadline), an expedited appeal (expedited_appeal_fax), a corrected claim (resubmit with frequency 7); or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was filed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "intake.create",
    skip_all,
    fields(request_id, org, item_id, auth_id, dispute_id)
)]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match create(deps, req, &info).await {
        Ok(resp) => resp,
        Err(e) => {
            if let CreateError::Store(store) = &e {
                tracing::error!(error = %store, "intake create failed");
            }
            e.into()
        }
    }
}

async fn create(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Response<Body>, CreateError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, CLERKS)?;
    let id = path_id(req).ok_or(CreateError::NotFound)?;
    let (key, wanted) = key_and_body(req, create_request).map_err(CreateError::Invalid)?;
    let store = deps.records.as_ref();
    // Look before claiming the key, so a closed or unknown item is answered
    // without holding it.
    match intake::load(store, &id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => {}
        _ => return Err(CreateError::NotFound),
    }
    let ticket = match claim(deps, req, &principal, &key).await? {
        Ok(ticket) => ticket,
        Err(resp) => return Err(CreateError::Idempotent(resp)),
    };
    let mut result = Err(CreateError::Store(StoreError::unavailable(
        "filing from an intake item",
        "the item kept changing",
    )));
    for _ in 0..ATTEMPTS {
        result = file_once(deps, &scope, &principal, &id, &wanted, info, &ticket).await;
        match &result {
            Err(CreateError::Store(StoreError::ConditionFailed)) => continue,
            _ => break,
        }
    }
    match result {
        Ok(resp) => Ok(resp),
        Err(e) => {
            // Nothing was written: the clerk may correct and retry with the same key.
            ticket.release(store).await?;
            Err(e)
        }
    }
}

/// The new record's part of the transaction.
struct NewRecord {
    link: RecordLink,
    view: FiledRecord,
    ops: Vec<WriteOp>,
    events: Vec<OutboxEvent>,
}

async fn file_once(
    deps: &Deps,
    scope: &mso_api::Scope,
    principal: &Principal,
    id: &ReferenceId,
    wanted: &Wanted,
    info: &RequestInfo,
    ticket: &mso_api::idempotency::Ticket,
) -> Result<Response<Body>, CreateError> {
    let store = deps.records.as_ref();
    let stored = match intake::load(store, id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => stored,
        _ => return Err(CreateError::NotFound),
    };
    Span::current().record("item_id", id.as_str());
    let item = &stored.value.0;
    may_file(item.status).map_err(CreateError::Closed)?;
    let now = deps.clock.now();
    let record = match wanted {
        Wanted::PriorAuth(request) => file_auth(deps, principal, item, request, info, now).await?,
        Wanted::Dispute(request) => file_dispute(deps, principal, item, request, info, now).await?,
    };
    let filed = item.closed(
        ItemStatus::Filed,
        record.link.clone(),
        actor_of(principal),
        format!("{} filed from the item by the clerk", record.link.id),
        now,
    );
    let docs = documents::of_owner(store, &item.owner()).await?;
    let view = CreatedFromIntake {
        item: IntakeView::of(&filed, docs, now),
        record: record.view,
    };
    let stored_response = StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: serde_json::to_string(&view).unwrap_or_default(),
    };
    let mut staged = Vec::with_capacity(record.events.len());
    for event in &record.events {
        staged.push(event.stage()?);
    }
    let change = intake::Change::updated(&stored, &filed)?
        .with(record.ops)
        .with(staged)
        .audited(principal, "intake.create", &filed, info, now)?;
    change
        .commit(store, Some(ticket.completion(&stored_response, now)))
        .await?;
    outbox::publish(store, deps.queue.as_ref(), &record.events).await;
    Ok(json_response(StatusCode::CREATED, &view))
}

/// A prior auth from the item: IPA staff, so the requesting NPI decides the
/// organisation.
async fn file_auth(
    deps: &Deps,
    principal: &Principal,
    item: &intake::IntakeItem,
    request: &AuthRequest,
    info: &RequestInfo,
    now: jiff::Timestamp,
) -> Result<NewRecord, CreateError> {
    let auth = prior_auths::file(
        deps.records.as_ref(),
        &deps.policy,
        None,
        request.clone(),
        // The legal start: when the fax or email arrived.
        item.received_at,
        now,
        Source::Intake {
            item_id: item.id.clone(),
        },
        mso_api::ids::new_reference(RecordKind::PriorAuth),
        actor_of(principal),
    )
    .await
    .map_err(|e| match e {
        FileError::Refused(r) => CreateError::Refused(r),
        FileError::Store(s) => CreateError::Store(s),
    })?;
    Span::current().record("auth_id", auth.id.as_str());
    let change = prior_auths::Change::created(&auth, now)?.audited(
        principal,
        "prior_auth.file_from_intake",
        &auth,
        info,
        now,
    )?;
    Ok(NewRecord {
        link: RecordLink {
            kind: LinkKind::PriorAuth,
            id: auth.id.clone(),
            automatic: false,
        },
        view: FiledRecord::prior_auth(&auth),
        ops: change.ops,
        events: vec![change.event],
    })
}

/// A paper dispute from the item: its clocks start at the fax's or email's
/// receipt, and the claim's or auth's organisation is the dispute's (IPA
/// staff file for any of the IPA's providers).
async fn file_dispute(
    deps: &Deps,
    principal: &Principal,
    item: &intake::IntakeItem,
    request: &DisputeRequest,
    info: &RequestInfo,
    now: jiff::Timestamp,
) -> Result<NewRecord, CreateError> {
    let store = deps.records.as_ref();
    let filed = disputes::file(
        store,
        &deps.policy,
        None,
        request.clone(),
        // The legal start: when the fax or email arrived.
        item.received_at,
        DisputeChannel::Paper,
        Some(item.id.clone()),
        mso_api::ids::new_reference(RecordKind::Dispute),
        actor_of(principal),
        now,
    )
    .await;
    let dispute = match filed {
        Ok(d) => d,
        Err(disputes::FileError::Store(e)) => return Err(e.into()),
        Err(refusal) => {
            // A refused filing named a claim or auth: the audit trail says so.
            audit_refusal(deps, principal, info, request, &refusal, now).await?;
            return Err(match refusal {
                disputes::FileError::SubjectNotFound => {
                    CreateError::SubjectNotFound(match request.subject {
                        SubjectRef::Claim(_) => "dispute.claim_id",
                        SubjectRef::PriorAuth(_) => "dispute.prior_auth_id",
                    })
                }
                disputes::FileError::Refused(r) => {
                    let from_remittance = deps.policy.disputes.filing_window_from
                        == FilingWindowStart::RemittanceDate
                        && request.kind == DisputeKind::Pdr;
                    let late_field = if from_remittance {
                        "remittance_date"
                    } else {
                        request.subject.field()
                    };
                    CreateError::DisputeRefused(r, late_field)
                }
                disputes::FileError::Duplicate { existing } => CreateError::Duplicate(existing),
                disputes::FileError::Store(e) => CreateError::Store(e),
            });
        }
    };
    Span::current().record("dispute_id", dispute.id.as_str());
    let change = disputes::Change::created(&dispute, now)?.audited(
        principal,
        "dispute.file_from_intake",
        &dispute,
        info,
        now,
    )?;
    Ok(NewRecord {
        link: RecordLink {
            kind: LinkKind::Dispute,
            id: dispute.id.clone(),
            automatic: false,
        },
        view: FiledRecord::dispute(&dispute),
        ops: change.ops,
        events: change.events,
    })
}

async fn audit_refusal(
    deps: &Deps,
    principal: &Principal,
    info: &RequestInfo,
    request: &DisputeRequest,
    refusal: &disputes::FileError,
    at: jiff::Timestamp,
) -> Result<(), StoreError> {
    let outcome = match refusal {
        disputes::FileError::SubjectNotFound => "refused_not_found",
        disputes::FileError::Refused(r) => match r {
            DisputeRefusal::Invalid(_) => "refused_invalid",
            DisputeRefusal::ExpeditedByFaxOnly { .. } => "refused_expedited",
            DisputeRefusal::CorrectedClaim => "refused_corrected_claim",
            DisputeRefusal::Late { .. } => "refused_late",
        },
        disputes::FileError::Duplicate { .. } => "refused_duplicate",
        disputes::FileError::Store(_) => "failed",
    };
    let (subject_type, subject_id) = match &request.subject {
        SubjectRef::Claim(id) => ("claim", id.as_str()),
        SubjectRef::PriorAuth(id) => ("prior_auth", id.as_str()),
    };
    audit::record(
        deps.records.as_ref(),
        &AuditEvent {
            actor: principal,
            action: "dispute.file_from_intake",
            purpose: "payment",
            subject_type,
            subject_id,
            outcome,
            request_id: &info.request_id,
            at,
        },
    )
    .await
}
