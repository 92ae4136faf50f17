//! `POST /v1/claims/{id}/review`: a claims examiner decides a pended claim.

use lambda_http::http::StatusCode;
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    body, json_response,
};
use mso_domain::claims::StepError;
use mso_records::claims::{self, Change};
use mso_store::StoreError;
use tracing::{Span, instrument};

use crate::edits::supersede_original;
use crate::read::path_id;
use crate::submit::actor_of;
use crate::view::ClaimView;
use crate::{Deps, EXAMINERS, parse};

#[derive(Debug, thiserror::Error)]
enum ReviewError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Step(#[from] StepError),
    #[error("changed meanwhile")]
    Changed,
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<ReviewError> for Problem {
    fn from(e: ReviewError) -> Problem {
        match e {
            ReviewError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            ReviewError::Forbidden(e) => e.into(),
            ReviewError::Invalid(errors) => Problem::invalid_request(errors),
            ReviewError::NotFound => Problem::not_found(),
            ReviewError::Step(e) => Problem::new(
                StatusCode::CONFLICT,
                "claim-not-pended",
                "Only a pended claim is reviewed",
            )
            .with_detail(e.to_string()),
            ReviewError::Changed => Problem::new(
                StatusCode::CONFLICT,
                "claim-changed",
                "The claim changed while it was being reviewed",
            )
            .with_detail("Read it again and review what it says now.")
            .with_retry_after(1),
            ReviewError::Store(_) => Problem::unavailable(),
        }
    }
}

/// Decide a pended claim
///
/// A claims examiner accepts or rejects a claim an edit pended (a suspected
/// duplicate, units beyond an auth, a replacement of a claim still in edits, a
/// dispute overturned), with the reason the provider reads. Accepting a pended
/// replacement or void supersedes its original. Provider roles: 403.
#[utoipa::path(
    post,
    path = "/v1/claims/{id}/review",
    tag = "claims",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The claim ID (CLM-7K3Q9M2P4X)")),
    request_body(content = serde_json::Value, description = "action (accept | reject), reason (plain words, required), medical_necessity (bool: a rejection for medical necessity, which the provider appeals rather than disputes)"),
    responses(
        (status = 200, description = "Decided", body = ClaimView),
        (status = 400, description = "Invalid fields; every one is listed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a claims examiner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The claim is not pended, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing changed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "claims.review", skip_all, fields(request_id, org, claim_id))]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match review(deps, req, &info).await {
        Ok(view) => json_response(StatusCode::OK, &view),
        Err(e) => {
            if let ReviewError::Store(store) = &e {
                tracing::error!(error = %store, "claim review failed");
            }
            Problem::from(e).into_response()
        }
    }
}

async fn review(deps: &Deps, req: &Request, info: &RequestInfo) -> Result<ClaimView, ReviewError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    principal.authorize(&deps.policy.ipa.id, EXAMINERS)?;
    let id = path_id(req).ok_or(ReviewError::NotFound)?;
    let root = body::object(req.body().as_ref()).map_err(|p| ReviewError::Invalid(p.errors))?;
    let decision = parse::review(&root).map_err(ReviewError::Invalid)?;
    Span::current().record("claim_id", id.as_str());
    let store = deps.records.as_ref();
    let stored = claims::load(store, &id)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let now = deps.clock.now();
    let mut claim = stored.value.0.clone();
    claim.reviewed(
        decision.accept,
        decision.reason,
        decision.medical_necessity,
        actor_of(&principal),
        now,
    )?;
    let mut change = Change::updated(&stored, &claim)?;
    if let Some(original) = supersede_original(deps, &claim, now).await? {
        change = change.and(original);
    }
    let change = change.audited(&principal, "claims.review", &claim, info, now)?;
    match change.commit(deps.ports(), None).await {
        Ok(()) => Ok(ClaimView::of(
            &claim,
            deps.policy.claims.payment_working_days,
        )),
        // Another change, or a live claim already holds the same services.
        Err(StoreError::ConditionFailed) => Err(ReviewError::Changed),
        Err(e) => Err(e.into()),
    }
}
