//! `GET /v1/um/queue`: pended auths, earliest decision due first.

use lambda_http::http::StatusCode;
use mso_api::audit::{self, AuditEvent};
use mso_api::paging::{self, Listing, PageRequest};
use mso_api::{
    AuthError, Body, FieldErrors, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    json_response,
};
use mso_records::prior_auths::AuthSummary;
use mso_store::{Query, StoreError, keys};
use tracing::{Span, instrument};

use crate::{Deps, REVIEWERS};

/// The UM work queue
///
/// Every pended auth, earliest `decision_due` first, with `overdue` set on those
/// past it. UM roles only.
#[utoipa::path(
    get,
    path = "/v1/um/queue",
    tag = "prior-auth",
    security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 100 (25)"),
        ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of the queue", body = Listing<AuthSummary>),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a UM role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "prior_auth.queue", skip_all, fields(request_id, org))]
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
) -> Result<Listing<AuthSummary>, Problem> {
    let principal = Principal::from_request(req)
        .map_err(|e: AuthError| Problem::unauthorized(e.to_string()))?;
    Span::current().record("org", principal.org.as_str());
    principal
        .authorize(&deps.policy.ipa.id, REVIEWERS)
        .map_err(|e: Forbidden| Problem::from(e))?;
    let mut errors = FieldErrors::default();
    let page = PageRequest::of(req, &mut errors);
    let page = match page {
        Some(page) if errors.is_empty() => page,
        _ => return Err(Problem::invalid_request(errors.into_vec())),
    };
    let now = deps.clock.now();
    let store = deps.records.as_ref();
    let listing = paging::collect(store, Query::primary(keys::UM_QUEUE, ""), &page, |record| {
        record
            .body
            .decode::<AuthSummary>()
            .ok()
            .map(|s| s.shown(now))
    })
    .await
    .map_err(store_problem)?;
    audit::record(
        store,
        &AuditEvent {
            actor: &principal,
            action: "prior_auth.queue",
            purpose: "operations",
            subject_type: "prior_auth_list",
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
            tracing::error!(error = %e, "UM queue read failed");
            Problem::unavailable()
        }
    }
}
