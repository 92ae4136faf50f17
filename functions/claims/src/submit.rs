//! `POST /v1/claims`: take one JSON claim; its edits run through the queue.

use lambda_http::http::StatusCode;
use mso_api::idempotency::{self, Attempt, StoredResponse};
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    directory, json_response,
};
use mso_domain::claims::{Claim, Source, Submission};
use mso_domain::ids::{Npi, OrgId, RecordKind};
use mso_domain::prior_auth::Actor;
use mso_records::claims::Change;
use mso_store::{RecordStore, StoreError};
use tracing::{Span, instrument};

use crate::view::ClaimView;
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
    #[error("neither NPI is the caller's organisation's")]
    NotOurProvider,
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
            SubmitError::NotOurProvider => Problem::forbidden(
                "Neither the billing nor the rendering NPI is a provider of your organisation.",
            )
            .with_errors(vec![FieldError {
                field: "billing_provider.npi".into(),
                code: "npi_not_in_organisation".into(),
                message: "the billing or the rendering NPI must be a provider of your organisation"
                    .into(),
            }]),
            SubmitError::Store(StoreError::InvalidInput(_)) => Problem::invalid_request(vec![]),
            SubmitError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// Submit a claim
///
/// One 837P- or 837I-shaped claim. Every bad field (shape and code validity:
/// ICD-10, CPT/HCPCS, modifiers, place of service, NPI check digit) is named at
/// once. A valid claim is stored `received` and answered 202; its edits
/// (eligibility on each date of service, timely filing, duplicates, prior auth
/// match, carve-outs, replacement and void rules) run asynchronously: read the
/// claim for its status. Idempotent with `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/claims",
    tag = "claims",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters; the same key and body replay the first answer for 24 hours")),
    request_body(content = serde_json::Value, description = "claim_type (professional | institutional), frequency (1, 7 or 8; default 1), original_claim_id (for 7 and 8), patient_control_number, billing_provider{npi, tin}, rendering_npi, referring_npi, member_id, dob, place_of_service (professional) or type_of_bill (institutional), diagnoses (ICD-10, the first is principal; up to 12 professional, 25 institutional), prior_auth_id, lines[{code, modifiers, revenue_code, units, charge (integer cents or a decimal string, never a float), service_from, service_to, diagnosis_pointers, rendering_npi, place_of_service, prior_auth_id}]"),
    responses(
        (status = 202, description = "Received: its edits run now; read it for the outcome", body = ClaimView),
        (status = 400, description = "Invalid fields; every one is listed (including a missing Idempotency-Key)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a provider role, or neither NPI is of the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is still in progress (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "claims.submit",
    skip_all,
    fields(request_id, correlation_id, org, claim_id)
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
                tracing::error!(error = %store, "claim submit failed");
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
    let (key, submission) =
        idempotency::key_and_body(req, parse::claim).map_err(SubmitError::Invalid)?;

    let store = deps.records.as_ref();
    let now = deps.clock.now();
    // The key's lease and the providers the claim names: one round trip. A
    // replayed request discloses nothing read.
    let attempt = Attempt::of(req, &principal, &key);
    let (begun, ours) = tokio::try_join!(
        idempotency::begin(store, &attempt, now),
        bills_for(store, &submission, &principal.org),
    )?;
    let ticket = begun.proceed().map_err(SubmitError::Idempotent)?;
    if !ours {
        ticket.release(store).await?;
        return Err(SubmitError::NotOurProvider);
    }

    let claim = Claim::received(
        mso_api::ids::new_reference(RecordKind::Claim),
        principal.org.clone(),
        Source::Portal,
        submission,
        now,
        &deps.policy,
        actor_of(&principal),
    );
    let view = ClaimView::of(&claim, deps.policy.claims.payment_working_days);
    let stored = StoredResponse {
        status: 202,
        content_type: "application/json".into(),
        body: serde_json::to_string(&view).unwrap_or_default(),
    };
    let change =
        Change::created(&claim, now)?.audited(&principal, "claims.submit", &claim, info, now)?;
    match change
        .commit(deps.ports(), Some(ticket.completion(&stored, now)))
        .await
    {
        Ok(()) => {
            Span::current().record("claim_id", claim.id.as_str());
            Ok(json_response(StatusCode::ACCEPTED, &view))
        }
        // A random 50-bit ID is practically never taken; the key's lease was.
        Err(StoreError::ConditionFailed) => Err(SubmitError::Idempotent(
            Problem::new(
                StatusCode::CONFLICT,
                "idempotency-in-progress",
                "A request with this Idempotency-Key is in progress",
            )
            .with_retry_after(1)
            .into_response(),
        )),
        Err(e) => {
            ticket.release(store).await?;
            Err(e.into())
        }
    }
}

/// Whether the billing or the rendering provider (claim or line level) belongs
/// to `org`: every NPI the claim names, read in one request.
pub(crate) async fn bills_for(
    store: &dyn RecordStore,
    s: &Submission,
    org: &OrgId,
) -> Result<bool, StoreError> {
    let named = std::iter::once(s.billing_npi.as_str())
        .chain(s.rendering_npi.as_deref())
        .chain(s.lines.iter().filter_map(|l| l.rendering_npi.as_deref()));
    let mut npis: Vec<Npi> = named.filter_map(|npi| Npi::parse(npi).ok()).collect();
    npis.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    npis.dedup();
    let npis: Vec<&Npi> = npis.iter().collect();
    let providers = directory::providers(store, &npis).await?;
    Ok(providers.iter().flatten().any(|p| &p.org_id == org))
}

/// The claim's record of who acted: subject, organisation and the role used.
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
