//! `GET /v1/disputes/queue`: open disputes, the earliest clock first.

use lambda_http::http::StatusCode;
use mso_api::audit::{self, AuditEvent};
use mso_api::paging::{self, Listing, PageRequest};
use mso_api::{
    AuthError, Body, FieldErrors, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    json_response,
};
use mso_records::disputes::DisputeSummary;
use mso_store::{Query, StoreError, keys};
use tracing::{Span, instrument};

use crate::{Deps, REVIEWERS};

/// The dispute reviewers' queue
///
/// Every open dispute, ordered by the clock that runs out next (the
/// acknowledgement until it is acknowledged, then the decision), earliest
/// first; `overdue` names the clock already missed. `dispute_reviewer` only.
#[utoipa::path(
    get,
    path = "/v1/disputes/queue",
    tag = "disputes",
    security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 100 (25)"),
        ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of the queue", body = Listing<DisputeSummary>),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a dispute reviewer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "disputes.queue", skip_all, fields(request_id, org))]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match queue(deps, req, &info).await {
        Ok(listing) => json_response(StatusCode::OK, &listing),
        Err(problem) => problem.into_response(),
    }
}

async fn queue(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Listing<DisputeSummary>, Problem> {
    let principal = Principal::from_request(req)
        .map_err(|e: AuthError| Problem::unauthorized(e.to_string()))?;
    Span::current().record("org", principal.org.as_str());
    principal
        .authorize(&deps.policy.ipa.id, REVIEWERS)
        .map_err(|e: Forbidden| Problem::from(e))?;
    let mut errors = FieldErrors::default();
    let page = match PageRequest::of(req, &mut errors) {
        Some(page) if errors.is_empty() => page,
        _ => return Err(Problem::invalid_request(errors.into_vec())),
    };
    let now = deps.clock.now();
    let store = deps.records.as_ref();
    let listing = paging::collect(
        store,
        Query::primary(keys::DISPUTE_QUEUE, ""),
        &page,
        |record| {
            record
                .body
                .decode::<DisputeSummary>()
                .ok()
                .map(|s| s.shown(now))
        },
    )
    .await
    .map_err(store_problem)?;
    audit::record(
        store,
        &AuditEvent {
            actor: &principal,
            action: "dispute.queue",
            purpose: "payment",
            subject_type: "dispute_list",
            subject_id: "*",
            outcome: "listed",
            request_id: &info.request_id,
            at: now,
        },
    )
    .await
    .map_err(store_problem)?;
    Ok(listing)
}

fn store_problem(e: StoreError) -> Problem {
    match e {
        StoreError::InvalidInput(_) => mso_api::paging::invalid_cursor(),
        e => {
            tracing::error!(error = %e, "dispute queue read failed");
            Problem::unavailable()
        }
    }
}
