//! The reviewer's steps: `POST /v1/disputes/{id}/acknowledge`,
//! `POST /v1/disputes/{id}/start-review` and `POST /v1/disputes/{id}/decision`.

use lambda_http::http::StatusCode;
use mso_api::idempotency::{self, Attempt, IdempotencyKey, StoredResponse, Ticket};
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    body, json_response,
};
use mso_domain::disputes::review::{self, Decision, ReviewError};
use mso_domain::ids::ReferenceId;
use mso_domain::prior_auth::Actor;
use mso_records::disputes::{self, Change};
use mso_store::StoreError;
use tracing::{Span, instrument};

use crate::read::path_id;
use crate::view::{DisputeView, documents_of};
use crate::{Deps, REVIEWERS, parse};

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Review(ReviewError),
    #[error("changed by someone else")]
    Concurrent,
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<StepError> for Response<Body> {
    fn from(e: StepError) -> Response<Body> {
        let problem = match e {
            StepError::Idempotent(resp) => return resp,
            StepError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            StepError::Forbidden(e) => e.into(),
            StepError::Invalid(errors) => Problem::invalid_request(errors),
            StepError::NotFound => Problem::not_found(),
            StepError::Review(ReviewError::WrongStatus(status)) => Problem::new(
                StatusCode::CONFLICT,
                "dispute-wrong-status",
                "This step does not apply to the dispute as it stands",
            )
            .with_detail(format!("The dispute is {}.", status.as_str())),
            StepError::Review(ReviewError::Invalid(problems)) => Problem::invalid_request(
                problems
                    .iter()
                    .map(|(field, invalid)| FieldError::new(field, invalid))
                    .collect(),
            ),
            StepError::Concurrent => Problem::new(
                StatusCode::CONFLICT,
                "changed-concurrently",
                "The dispute changed meanwhile",
            )
            .with_detail("Read it again and act on what it is now.")
            .with_retry_after(1),
            StepError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// What the reviewer does.
enum Step {
    Acknowledge,
    StartReview,
    Decide(Decision),
}

impl Step {
    fn audit_action(&self) -> &'static str {
        match self {
            Step::Acknowledge => "dispute.acknowledge",
            Step::StartReview => "dispute.start_review",
            Step::Decide(_) => "dispute.decide",
        }
    }
}

/// Acknowledge a received dispute
///
/// Records the acknowledgement (on time or late against `acknowledge_due`).
/// `dispute_reviewer` only. An `Idempotency-Key` makes retries safe.
#[utoipa::path(
    post,
    path = "/v1/disputes/{id}/acknowledge",
    tag = "disputes",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The reference ID"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key replays the first answer"),
    ),
    responses(
        (status = 200, description = "The dispute, acknowledged", body = DisputeView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a dispute reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispute", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already acknowledged, decided or closed, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "disputes.acknowledge",
    skip_all,
    fields(request_id, org, dispute_id)
)]
pub(crate) async fn acknowledge(deps: &Deps, req: &Request) -> Response<Body> {
    run(deps, req, |_| Ok(Step::Acknowledge)).await
}

/// Start reviewing a dispute
///
/// Moves it to `in_review` (acknowledging it first if nobody had).
/// `dispute_reviewer` only.
#[utoipa::path(
    post,
    path = "/v1/disputes/{id}/start-review",
    tag = "disputes",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The reference ID"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key replays the first answer"),
    ),
    responses(
        (status = 200, description = "The dispute, in review", body = DisputeView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a dispute reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispute", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already in review, decided or closed, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "disputes.start_review",
    skip_all,
    fields(request_id, org, dispute_id)
)]
pub(crate) async fn start_review(deps: &Deps, req: &Request) -> Response<Body> {
    run(deps, req, |_| Ok(Step::StartReview)).await
}

/// Decide a dispute (first level)
///
/// `outcome`: `upheld`, `overturned` or `partially_overturned`; `amount`
/// (cents, or a decimal string of dollars) what the IPA now pays (an overturned payment dispute defaults to
/// the amount disputed; a partial one needs it); `reasons`; the written
/// `determination`. The answer says where and by when a second level goes (the
/// member's health plan, `second_level_days`); a grievance decision is final.
/// An overturned payment dispute on a claim sends the claim back for
/// re-adjudication. `dispute_reviewer` only: provider roles get 403.
#[utoipa::path(
    post,
    path = "/v1/disputes/{id}/decision",
    tag = "disputes",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The reference ID"),
        ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key and body replay the first answer"),
    ),
    request_body(content = serde_json::Value, description = "{outcome: upheld|overturned|partially_overturned, amount (whole cents 4000, or a decimal string \"40.00\"; never a float), reasons: [text], determination: text}"),
    responses(
        (status = 200, description = "The dispute, decided, with its second level", body = DisputeView),
        (status = 400, description = "Incomplete or inconsistent decision; every field is listed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a dispute reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispute", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or closed, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "disputes.decide",
    skip_all,
    fields(request_id, org, dispute_id)
)]
pub(crate) async fn decision(deps: &Deps, req: &Request) -> Response<Body> {
    run(deps, req, |req| {
        let root = body::object(req.body().as_ref()).map_err(|p| p.errors)?;
        parse::decision(&root).map(Step::Decide)
    })
    .await
}

async fn run(
    deps: &Deps,
    req: &Request,
    read: impl FnOnce(&Request) -> Result<Step, Vec<FieldError>>,
) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match step(deps, req, &info, read).await {
        Ok(resp) => resp,
        Err(e) => {
            if let StepError::Store(store) = &e {
                tracing::error!(error = %store, "dispute review step failed");
            }
            e.into()
        }
    }
}

async fn step(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
    read: impl FnOnce(&Request) -> Result<Step, Vec<FieldError>>,
) -> Result<Response<Body>, StepError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    principal.authorize(&deps.policy.ipa.id, REVIEWERS)?;
    let id = path_id(req).ok_or(StepError::NotFound)?;
    Span::current().record("dispute_id", id.as_str());
    let step = read(req).map_err(StepError::Invalid)?;

    let store = deps.records.as_ref();
    let now = deps.clock.now();
    // Idempotency is optional here: with a key, a retried step replays.
    let ticket: Option<Ticket> = match req.headers().get(idempotency::HEADER) {
        Some(_) => {
            let key = IdempotencyKey::of(req).map_err(|e| StepError::Invalid(vec![e]))?;
            Some(
                idempotency::begin(store, &Attempt::of(req, &principal, &key), now)
                    .await?
                    .proceed()
                    .map_err(StepError::Idempotent)?,
            )
        }
        None => None,
    };
    let result = apply(deps, &principal, step, &id, info, now, ticket.as_ref()).await;
    if let (Err(_), Some(ticket)) = (&result, ticket) {
        ticket.release(store).await?;
    }
    result
}

async fn apply(
    deps: &Deps,
    principal: &Principal,
    step: Step,
    id: &ReferenceId,
    info: &RequestInfo,
    now: jiff::Timestamp,
    ticket: Option<&Ticket>,
) -> Result<Response<Body>, StepError> {
    let store = deps.records.as_ref();
    let stored = disputes::load(store, id)
        .await?
        .ok_or(StepError::NotFound)?;
    let mut dispute = stored.value.0.clone();
    let actor = Actor {
        subject: principal.subject.clone(),
        org: principal.org.to_string(),
        role: mso_api::Role::DisputeReviewer.as_str().to_string(),
    };
    let action = step.audit_action();
    match step {
        Step::Acknowledge => review::acknowledge(&mut dispute, actor, now, &deps.policy),
        Step::StartReview => review::start_review(&mut dispute, actor, now, &deps.policy),
        Step::Decide(decision) => review::decide(&mut dispute, decision, actor, now, &deps.policy),
    }
    .map_err(StepError::Review)?;
    let documents = documents_of(store, &dispute).await?;
    let view = DisputeView::of(&dispute, now).with_documents(documents);
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
    let mut change =
        Change::updated(&stored, &dispute, now)?.audited(principal, action, &dispute, info, now)?;
    // An appeal won approves the auth it was about, in the same transaction.
    if let Some(auth) = disputes::auth_after_appeal(store, &deps.policy, &dispute).await? {
        change = change.and_auth(auth);
    }
    match change.commit(deps.ports(), completion).await {
        Ok(()) => Ok(json_response(StatusCode::OK, &view)),
        Err(StoreError::ConditionFailed) => Err(StepError::Concurrent),
        Err(e) => Err(e.into()),
    }
}
