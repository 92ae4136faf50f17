//! `POST /v1/prior-auths/{id}/decision`: the UM review.

use lambda_http::http::StatusCode;
use mso_api::idempotency::{self, Attempt, IdempotencyKey, StoredResponse, Ticket};
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    Role, body, json_response,
};
use mso_domain::prior_auth::Actor;
use mso_domain::prior_auth::review::{self, DecisionError, Reviewer};
use mso_records::prior_auths::{self, Change};
use mso_store::StoreError;
use tracing::{Span, instrument};

use crate::read::path_id;
use crate::view::PriorAuthView;
use crate::{Deps, REVIEWERS, parse};

#[derive(Debug, thiserror::Error)]
enum DecideError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid decision")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Decision(DecisionError),
    #[error("changed by someone else")]
    Concurrent,
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<DecideError> for Response<Body> {
    fn from(e: DecideError) -> Response<Body> {
        let problem = match e {
            DecideError::Idempotent(resp) => return resp,
            DecideError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            DecideError::Forbidden(e) => e.into(),
            DecideError::Invalid(errors) => Problem::invalid_request(errors),
            DecideError::NotFound => Problem::not_found(),
            DecideError::Decision(DecisionError::NotOpen(status)) => Problem::new(
                StatusCode::CONFLICT,
                "auth-not-open",
                "This auth is no longer open for a decision",
            )
            .with_detail(format!(
                "The auth is {}; only pended auths are decided.",
                status.as_str()
            )),
            DecideError::Decision(DecisionError::DenialNeedsPhysician) => Problem::forbidden(
                "Only a medical director may deny a request, or authorise none of a line's units.",
            ),
            DecideError::Decision(DecisionError::Invalid(problems)) => Problem::invalid_request(
                problems
                    .into_iter()
                    .map(|(field, invalid)| FieldError::new(&field, &invalid))
                    .collect(),
            ),
            DecideError::Concurrent => Problem::new(
                StatusCode::CONFLICT,
                "changed-concurrently",
                "The auth changed while you decided",
            )
            .with_detail("Read it again and decide on what it is now.")
            .with_retry_after(1),
            DecideError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// Decide a pended prior authorization (UM)
///
/// `action`: approve, partially_approve, pend, deny or downgrade. `um_nurse` may
/// approve, partially approve (at least one unit per line), pend and downgrade;
/// only `medical_director` denies, with `reason_code`, `reason`, `criteria` and
/// `peer_to_peer`, which the provider then sees. An `Idempotency-Key` makes
/// retries safe.
#[utoipa::path(
    post,
    path = "/v1/prior-auths/{id}/decision",
    tag = "prior-auth",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The reference ID"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key and body replay the first answer"),
    ),
    request_body(content = serde_json::Value, description = "{action, lines: [{line, authorized_units}], reason_code, reason, criteria, peer_to_peer: {name, phone}}"),
    responses(
        (status = 200, description = "The auth after the decision", body = PriorAuthView),
        (status = 400, description = "Incomplete or inconsistent decision; every field is listed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer, or a denial by someone other than the medical director", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such auth", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The auth is decided or cancelled, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "prior_auth.decide",
    skip_all,
    fields(request_id, org, auth_id, action, status)
)]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match decide(deps, req, &info).await {
        Ok(resp) => resp,
        Err(e) => {
            if let DecideError::Store(store) = &e {
                tracing::error!(error = %store, "prior-auth decision failed");
            }
            e.into()
        }
    }
}

async fn decide(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Response<Body>, DecideError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    principal.authorize(&deps.policy.ipa.id, REVIEWERS)?;
    let id = path_id(req).ok_or(DecideError::NotFound)?;
    let root = body::object(req.body().as_ref()).map_err(|p| DecideError::Invalid(p.errors))?;
    let decision = parse::decision(&root).map_err(DecideError::Invalid)?;
    Span::current().record("auth_id", id.as_str());
    Span::current().record("action", decision.action.as_str());

    let store = deps.records.as_ref();
    let now = deps.clock.now();
    // Idempotency is optional here: with a key, a retried decision replays.
    let key = match req.headers().get(idempotency::HEADER) {
        Some(_) => Some(IdempotencyKey::of(req).map_err(|e| DecideError::Invalid(vec![e]))?),
        None => None,
    };
    let ticket: Option<Ticket> = match &key {
        Some(key) => Some(
            idempotency::begin(store, &Attempt::of(req, &principal, key), now)
                .await?
                .proceed()
                .map_err(DecideError::Idempotent)?,
        ),
        None => None,
    };
    let result = apply(deps, &principal, &decision, &id, info, now, ticket.as_ref()).await;
    if let (Err(_), Some(ticket)) = (&result, ticket) {
        ticket.release(store).await?;
    }
    result
}

async fn apply(
    deps: &Deps,
    principal: &Principal,
    decision: &review::Decision,
    id: &mso_domain::ids::ReferenceId,
    info: &RequestInfo,
    now: jiff::Timestamp,
    ticket: Option<&Ticket>,
) -> Result<Response<Body>, DecideError> {
    let store = deps.records.as_ref();
    let stored = prior_auths::load(store, id)
        .await?
        .ok_or(DecideError::NotFound)?;
    let mut auth = stored.value.0.clone();
    // A medical director decides as the physician, whatever else they are.
    let (reviewer, role) = if principal.has_role(Role::MedicalDirector) {
        (Reviewer::Physician, Role::MedicalDirector)
    } else {
        (Reviewer::Nurse, Role::UmNurse)
    };
    let actor = Actor {
        subject: principal.subject.clone(),
        org: principal.org.to_string(),
        role: role.as_str().to_string(),
    };
    let coverage_end = prior_auths::coverage_end(store, &auth).await?;
    review::decide(
        &mut auth,
        decision,
        reviewer,
        actor,
        now,
        &deps.policy,
        coverage_end,
    )
    .map_err(DecideError::Decision)?;
    let documents = crate::view::documents_of(store, &auth).await?;
    let view = PriorAuthView::of(&auth, now).with_documents(documents);
    let completion = ticket.map(|t| {
        t.completion(
            &StoredResponse {
                status: 200,
                content_type: "application/json".into(),
                body: serde_json::to_string(&view).unwrap_or_default(),
            },
            now,
        )
    });
    let change = Change::updated(&stored, &auth, now)?.audited(
        principal,
        "prior_auth.decide",
        &auth,
        info,
        now,
    )?;
    match change.commit(deps.ports(), completion).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Err(DecideError::Concurrent),
        Err(e) => return Err(e.into()),
    }
    Span::current().record("status", auth.status.as_str());
    Ok(json_response(StatusCode::OK, &view))
}
