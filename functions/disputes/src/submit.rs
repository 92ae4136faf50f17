//! `POST /v1/disputes`: file a dispute, appeal or grievance and start its clocks.

use lambda_http::http::StatusCode;
use mso_api::audit::{self, AuditEvent};
use mso_api::idempotency::{self, Attempt, StoredResponse};
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    json_response,
};
use mso_domain::disputes::{Channel, Refusal, Request as Filing, SubjectRef};
use mso_domain::ids::{RecordKind, ReferenceId};
use mso_domain::policy::FilingWindowStart;
use mso_domain::prior_auth::Actor;
use mso_records::disputes::{self, Change, FileError};
use mso_store::StoreError;
use serde_json::json;
use tracing::{Span, instrument};

use crate::view::DisputeView;
use crate::{Deps, FILERS, parse};

/// Everything that can go wrong on this route, mapped to a status in one place.
#[derive(Debug, thiserror::Error)]
enum SubmitError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("no such claim or prior auth")]
    SubjectNotFound(&'static str),
    #[error("refused by the rules")]
    Refused(Refusal, SubjectField),
    #[error("a dispute on this subject, kind and reason is open")]
    Duplicate(ReferenceId),
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

/// The request field naming the subject, and whether the window counted from
/// the remittance date (the field a late filing points at).
#[derive(Debug, Clone, Copy)]
struct SubjectField {
    field: &'static str,
    from_remittance: bool,
}

impl From<SubmitError> for Response<Body> {
    fn from(e: SubmitError) -> Response<Body> {
        let problem = match e {
            SubmitError::Idempotent(resp) => return resp,
            SubmitError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            SubmitError::Forbidden(e) => e.into(),
            SubmitError::Invalid(errors) => Problem::invalid_request(errors),
            SubmitError::SubjectNotFound(field) => Problem::not_found()
                .with_detail("No claim or prior auth with this ID is visible to your organisation.")
                .with_errors(vec![FieldError {
                    field: field.into(),
                    code: "not_found".into(),
                    message: "no such record of your organisation".into(),
                }]),
            SubmitError::Refused(refusal, subject) => return refused(refusal, subject),
            SubmitError::Duplicate(existing) => {
                let problem = Problem::new(
                    StatusCode::CONFLICT,
                    "dispute-already-open",
                    "A dispute on this subject, kind and reason is already open",
                )
                .with_detail(format!(
                    "{existing} is open for the same subject, kind and reason: add documents to it (POST /v1/documents with owner {{kind: dispute, id: {existing}}}) instead of filing again."
                ));
                return problem
                    .into_response_with(json!({"existing_dispute_id": existing.as_str()}));
            }
            SubmitError::Store(StoreError::InvalidInput(_)) => Problem::invalid_request(vec![]),
            SubmitError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// A refusal by the rules: 400 for fields to correct, 422 for the rest, each
/// naming what the provider must do instead.
fn refused(refusal: Refusal, subject: SubjectField) -> Response<Body> {
    let message = refusal.message();
    let unprocessable = |slug: &str, title: &str, field: &str| {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title)
            .with_detail(message.clone())
            .with_errors(vec![FieldError {
                field: field.into(),
                code: refusal.code().into(),
                message: message.clone(),
            }])
    };
    match &refusal {
        Refusal::Invalid(problems) => Problem::invalid_request(
            problems
                .iter()
                .map(|(field, invalid)| FieldError::new(field, invalid))
                .collect(),
        )
        .into_response(),
        Refusal::ExpeditedByFaxOnly { fax } => unprocessable(
            "expedited-appeal-by-fax",
            "Expedited appeals are taken by fax only",
            "expedited",
        )
        .into_response_with(json!({"expedited_appeal_fax": fax})),
        Refusal::CorrectedClaim => unprocessable(
            "corrected-claim-not-a-dispute",
            "A corrected claim is a resubmission, not a dispute",
            "reason_category",
        )
        .into_response_with(
            json!({"resubmit_as": {"route": "POST /v1/claims", "frequency_code": "7"}}),
        ),
        Refusal::Late {
            rule,
            start,
            deadline,
        } => unprocessable(
            "filing-window-closed",
            "Filed after the window to file closed",
            if subject.from_remittance {
                "remittance_date"
            } else {
                subject.field
            },
        )
        .into_response_with(
            json!({"rule": rule, "window_start": start.to_string(), "deadline": deadline.to_string()}),
        ),
    }
}

/// File a dispute, appeal or grievance
///
/// `kind`: `pdr` (a claim payment or denial contested), `appeal` (an adverse
/// medical-necessity determination on a prior auth or a claim) or `grievance`
/// (a claim issue without a medical-necessity question; its decision is final).
/// The subject (`claim_id` or `prior_auth_id`) must be your organisation's.
/// A late filing is refused naming the rule, the start and the deadline;
/// expedited appeals are refused with the fax to use; corrected claims go to
/// claim resubmission (frequency 7). Documents follow through `POST
/// /v1/documents` with owner `{kind: dispute, id}`. Idempotent with
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/disputes",
    tag = "disputes",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters; the same key and body replay the first answer for 24 hours")),
    request_body(content = serde_json::Value, description = "{kind: pdr|appeal|grievance, claim_id | prior_auth_id, reason_category: underpayment|bundling|down_coding|level_of_care|claim_denial|medical_necessity|claim_issue|corrected_claim|other, reason, amount_disputed (whole cents 12550, or a decimal string \"125.50\"; never a float; required for payment disputes), remittance_date (YYYY-MM-DD; required for pdr where the window counts from it), expedited (bool), contact: {name, phone, extension, fax, email}}"),
    responses(
        (status = 201, description = "Filed: the reference ID, status, received_at, acknowledge_due, decision_due, filing_deadline", body = DisputeView),
        (status = 400, description = "Invalid fields, or a kind that does not fit its subject; every one is listed (including a missing Idempotency-Key)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a provider role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim or prior auth of the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A dispute on the same subject, kind and reason is open (existing_dispute_id), or a request with this Idempotency-Key is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Filed late (rule, window_start, deadline), an expedited appeal (expedited_appeal_fax), a corrected claim (resubmit with frequency 7), or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was filed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "disputes.submit",
    skip_all,
    fields(request_id, correlation_id, org, dispute_id, kind)
)]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    let span = Span::current();
    span.record("request_id", info.request_id.as_str());
    span.record("correlation_id", info.correlation_id.as_str());
    match submit(deps, req, &info).await {
        Ok(resp) => resp,
        Err(e) => {
            if let SubmitError::Store(store) = &e {
                tracing::error!(error = %store, "dispute filing failed");
            }
            e.into()
        }
    }
}

async fn submit(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Response<Body>, SubmitError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    principal.authorize(&deps.policy.ipa.id, FILERS)?;
    // Every problem with the request at once: the key header and the body's fields.
    let (key, request) =
        idempotency::key_and_body(req, parse::request).map_err(SubmitError::Invalid)?;
    Span::current().record("kind", request.kind.as_str());

    let store = deps.records.as_ref();
    let now = deps.clock.now();
    // The key's lease and the records the request names: one round trip. A
    // replayed request discloses nothing read.
    let attempt = Attempt::of(req, &principal, &key);
    let (begun, read) = tokio::try_join!(
        idempotency::begin(store, &attempt, now),
        disputes::SubjectRecords::read(store, &request),
    )?;
    let ticket = begun.proceed().map_err(SubmitError::Idempotent)?;
    let subject = SubjectField {
        field: request.subject.field(),
        from_remittance: deps.policy.disputes.filing_window_from
            == FilingWindowStart::RemittanceDate
            && request.kind == mso_domain::disputes::Kind::Pdr,
    };
    let actor = actor_of(&principal);
    // A new ID is drawn if the first one is taken (about one in a billion).
    for _ in 0..3 {
        let id = mso_api::ids::new_reference(RecordKind::Dispute);
        let filed = disputes::file_with(
            store,
            &read,
            &deps.policy,
            Some(&principal.org),
            request.clone(),
            now,
            Channel::Electronic,
            None,
            id,
            actor.clone(),
            now,
        )
        .await;
        let dispute = match filed {
            Ok(d) => d,
            Err(FileError::Store(e)) => {
                ticket.release(store).await?;
                return Err(e.into());
            }
            Err(refusal) => {
                // Not saved under the key: the provider corrects and retries.
                ticket.release(store).await?;
                audit_refusal(deps, &principal, info, &request, &refusal).await?;
                return Err(match refusal {
                    FileError::SubjectNotFound => SubmitError::SubjectNotFound(subject.field),
                    FileError::Refused(r) => SubmitError::Refused(r, subject),
                    FileError::Duplicate { existing } => SubmitError::Duplicate(existing),
                    FileError::Store(e) => SubmitError::Store(e),
                });
            }
        };
        let view = DisputeView::of(&dispute, now);
        let stored = StoredResponse {
            status: 201,
            content_type: "application/json".into(),
            body: serde_json::to_string(&view).unwrap_or_default(),
        };
        let change = Change::created(&dispute, now)?.audited(
            &principal,
            "dispute.file",
            &dispute,
            info,
            now,
        )?;
        match change
            .commit(deps.ports(), Some(ticket.completion(&stored, now)))
            .await
        {
            Ok(()) => {
                Span::current().record("dispute_id", dispute.id.as_str());
                return Ok(json_response(StatusCode::CREATED, &view));
            }
            // The ID was taken, the same dispute was filed meanwhile, or the
            // key's lease was taken over: look which.
            Err(StoreError::ConditionFailed) => {
                if disputes::load(store, &dispute.id).await?.is_some() {
                    continue;
                }
                if let Some(existing) = disputes::open_duplicate(store, &request).await? {
                    ticket.release(store).await?;
                    return Err(SubmitError::Duplicate(existing));
                }
                return Err(SubmitError::Idempotent(
                    Problem::new(
                        StatusCode::CONFLICT,
                        "idempotency-in-progress",
                        "A request with this Idempotency-Key is in progress",
                    )
                    .with_retry_after(1)
                    .into_response(),
                ));
            }
            Err(e) => {
                ticket.release(store).await?;
                return Err(e.into());
            }
        }
    }
    ticket.release(store).await?;
    Err(SubmitError::Store(StoreError::unavailable(
        "filing a dispute",
        "no free reference ID after three draws",
    )))
}

/// A refused filing is in the audit trail too: it named a claim or auth.
async fn audit_refusal(
    deps: &Deps,
    principal: &Principal,
    info: &RequestInfo,
    request: &Filing,
    refusal: &FileError,
) -> Result<(), StoreError> {
    let outcome = match refusal {
        FileError::SubjectNotFound => "refused_not_found",
        FileError::Refused(r) => match r {
            Refusal::Invalid(_) => "refused_invalid",
            Refusal::ExpeditedByFaxOnly { .. } => "refused_expedited",
            Refusal::CorrectedClaim => "refused_corrected_claim",
            Refusal::Late { .. } => "refused_late",
        },
        FileError::Duplicate { .. } => "refused_duplicate",
        FileError::Store(_) => "failed",
    };
    let (subject_type, subject_id) = match &request.subject {
        SubjectRef::Claim(id) => ("claim", id.as_str()),
        SubjectRef::PriorAuth(id) => ("prior_auth", id.as_str()),
    };
    audit::record(
        deps.records.as_ref(),
        &AuditEvent {
            actor: principal,
            action: "dispute.file",
            purpose: "payment",
            subject_type,
            subject_id,
            outcome,
            request_id: &info.request_id,
            at: deps.clock.now(),
        },
    )
    .await
}

/// The dispute's record of who acted: subject, organisation and the role used.
pub(crate) fn actor_of(p: &Principal) -> Actor {
    Actor {
        subject: p.subject.clone(),
        org: p.org.to_string(),
        role: p
            .roles
            .first()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
    }
}
