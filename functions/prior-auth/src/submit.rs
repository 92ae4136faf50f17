//! `POST /v1/prior-auths`: file a request and answer every line at once.

use lambda_http::http::StatusCode;
use mso_api::audit::{self, AuditEvent};
use mso_api::idempotency::{self, Attempt, StoredResponse};
use mso_api::throttle::Limit;
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    json_response,
};
use mso_domain::ids::RecordKind;
use mso_domain::prior_auth::{Actor, Source};
use mso_records::prior_auths::{self, Change, FileError, Refusal};
use mso_store::StoreError;
use tracing::{Span, instrument};

use crate::view::PriorAuthView;
use crate::{Deps, SUBMITTERS, parse};

/// Everything that can go wrong on this route, mapped to a status in one place.
#[derive(Debug, thiserror::Error)]
enum SubmitError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("refused")]
    Refused(Refusal),
    #[error("too many requests matched no member")]
    TooManyNotFound { retry_after_seconds: u32 },
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<SubmitError> for Response<Body> {
    fn from(e: SubmitError) -> Response<Body> {
        let problem = match e {
            SubmitError::Idempotent(resp) => return resp,
            SubmitError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            SubmitError::Forbidden(e) => e.into(),
            SubmitError::Invalid(errors) => Problem::invalid_request(errors),
            SubmitError::Refused(refusal) => refused(refusal),
            SubmitError::TooManyNotFound {
                retry_after_seconds,
            } => Problem::too_many_requests(
                "Too many of your recent requests matched no member. Check the member ID and date of birth on the member's card, then try again after the time in Retry-After.",
                retry_after_seconds,
            ),
            SubmitError::Store(StoreError::InvalidInput(_)) => Problem::invalid_request(vec![]),
            SubmitError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// A refusal as the provider reads it: 422 with the field to look at (403 when
/// the requesting NPI is not theirs).
pub(crate) fn refused(refusal: Refusal) -> Problem {
    let unprocessable = |slug: &str, title: &str, field: &str, code: &str, message: &str| {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title).with_errors(vec![FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }])
    };
    match refusal {
        Refusal::RequestingNpiNotInOrganisation => {
            Problem::forbidden("The requesting_npi is not a provider of your organisation.")
                .with_errors(vec![FieldError {
                    field: "requesting_npi".into(),
                    code: "npi_not_in_organisation".into(),
                    message: "must be the NPI of a provider in your organisation".into(),
                }])
        }
        Refusal::MemberNotFound { .. } => unprocessable(
            "member-not-found",
            "No member matches this member ID and date of birth",
            "member_id",
            "member_not_found",
            "no member matches this member ID and date of birth",
        ),
        Refusal::NotEligible {
            field,
            code,
            message,
        } => unprocessable(
            "member-not-eligible",
            "The member is not eligible on the dates of service",
            field,
            code,
            &message,
        ),
    }
}

/// The probing guard shared with eligibility: a request that names no member is
/// a lookup too.
pub(crate) fn not_found_limit(deps: &Deps) -> Limit {
    let p = &deps.policy.eligibility;
    Limit {
        name: "eligibility_not_found",
        limit: p.not_found_limit,
        window_seconds: i64::from(p.not_found_window_minutes) * 60,
    }
}

/// Submit a prior authorization request
///
/// Every line is answered at once from the IPA's policy: `not_required` (not on
/// the PA-required list, or a service that never needs one), `health_plan_authorizes`
/// (a carve-out the member's plan authorizes), `criteria_met` (approved now) or
/// `review_required` (the auth is pended for the UM nurse). Idempotent with
/// `Idempotency-Key`: the same key and body replay the first answer.
#[utoipa::path(
    post,
    path = "/v1/prior-auths",
    tag = "prior-auth",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters; the same key and body replay the first answer for 24 hours")),
    request_body(content = serde_json::Value, description = "The request (see the prior-auth issue's field list): member_id, dob, setting, category, urgency, urgency_reason, service_from, service_to, requesting_npi, servicing_npi, place_of_service, diagnoses, lines[{code, modifiers, units}], contact{name, phone, extension, fax, email}, admitted_at"),
    responses(
        (status = 201, description = "Filed: the reference ID, status, clocks and every line's disposition", body = PriorAuthView),
        (status = 400, description = "Invalid fields; every one is listed (including a missing Idempotency-Key)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a provider role, or the requesting_npi is not of the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is still in progress (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No member matches the ID and date of birth, or the member is not eligible on the dates of service; or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests of this user matched no member (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was filed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "prior_auth.submit",
    skip_all,
    fields(request_id, correlation_id, org, auth_id, status)
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
                tracing::error!(error = %store, "prior-auth submit failed");
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
    principal.authorize(&deps.policy.ipa.id, SUBMITTERS)?;
    // Every problem with the request at once: the key header and the body's fields.
    let (key, request) =
        idempotency::key_and_body(req, parse::request).map_err(SubmitError::Invalid)?;

    let store = deps.records.as_ref();
    let now = deps.clock.now();
    let limit = not_found_limit(deps);
    // The key's lease, the probing guard's count and the directory records the
    // request names: one round trip. A replay is answered whatever the count,
    // as before, and a replayed or refused request discloses nothing read.
    let attempt = Attempt::of(req, &principal, &key);
    let (begun, retry_after, directory) = tokio::try_join!(
        idempotency::begin(store, &attempt, now),
        limit.retry_after(store, &principal, now),
        prior_auths::Directory::read(store, &request),
    )?;
    let ticket = begun.proceed().map_err(SubmitError::Idempotent)?;
    if let Some(retry_after_seconds) = retry_after {
        ticket.release(store).await?;
        return Err(SubmitError::TooManyNotFound {
            retry_after_seconds,
        });
    }

    let actor = actor_of(&principal);
    let member_id = request.member_id.clone();
    // A new ID is drawn if the first one is taken (about one in a billion).
    for _ in 0..3 {
        let id = mso_api::ids::new_reference(RecordKind::PriorAuth);
        let filed = prior_auths::file_with(
            store,
            &directory,
            &deps.policy,
            Some(&principal.org),
            request.clone(),
            now,
            now,
            Source::Portal,
            id,
            actor.clone(),
        )
        .await;
        let auth = match filed {
            Ok(auth) => auth,
            Err(FileError::Refused(refusal)) => {
                // Not saved under the key: the provider corrects and retries.
                ticket.release(store).await?;
                let outcome = match &refusal {
                    Refusal::MemberNotFound { dob_mismatch: true } => "refused_dob_mismatch",
                    Refusal::MemberNotFound { .. } => "refused_member_not_found",
                    Refusal::NotEligible { .. } => "refused_not_eligible",
                    Refusal::RequestingNpiNotInOrganisation => "refused_npi",
                };
                audit::record(
                    store,
                    &AuditEvent {
                        actor: &principal,
                        action: "prior_auth.submit",
                        purpose: "treatment",
                        subject_type: "member",
                        subject_id: member_id.as_str(),
                        outcome,
                        request_id: &info.request_id,
                        at: now,
                    },
                )
                .await?;
                if matches!(refusal, Refusal::MemberNotFound { .. }) {
                    limit.count(store, &principal, now).await?;
                }
                return Err(SubmitError::Refused(refusal));
            }
            Err(FileError::Store(e)) => {
                ticket.release(store).await?;
                return Err(e.into());
            }
        };
        let view = PriorAuthView::of(&auth, now);
        let stored = StoredResponse {
            status: 201,
            content_type: "application/json".into(),
            body: serde_json::to_string(&view).unwrap_or_default(),
        };
        let change = Change::created(&auth, now)?.audited(
            &principal,
            "prior_auth.submit",
            &auth,
            info,
            now,
        )?;
        match change
            .commit(deps.ports(), Some(ticket.completion(&stored, now)))
            .await
        {
            Ok(()) => {
                let span = Span::current();
                span.record("auth_id", auth.id.as_str());
                span.record("status", auth.status.as_str());
                return Ok(json_response(StatusCode::CREATED, &view));
            }
            // Either the ID was taken or the key's lease was taken over: look.
            Err(StoreError::ConditionFailed) => {
                if prior_auths::load(store, &auth.id).await?.is_none() {
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
            }
            Err(e) => {
                ticket.release(store).await?;
                return Err(e.into());
            }
        }
    }
    ticket.release(store).await?;
    Err(SubmitError::Store(StoreError::unavailable(
        "filing a prior auth",
        "no free reference ID after three draws",
    )))
}

/// The auth's record of who acted: subject, organisation and the role used.
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
