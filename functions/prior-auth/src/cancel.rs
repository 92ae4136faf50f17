//! `POST /v1/prior-auths/{id}/cancel`: the provider withdraws a request.

use lambda_http::http::StatusCode;
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    body, json_response,
};
use mso_domain::prior_auth::review;
use mso_records::prior_auths::{self, Change};
use mso_store::StoreError;
use tracing::{Span, instrument};

use crate::read::path_id;
use crate::submit::actor_of;
use crate::view::PriorAuthView;
use crate::{Deps, SUBMITTERS, parse};

#[derive(Debug, thiserror::Error)]
enum CancelError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid body")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    NotCancellable(#[from] review::NotCancellable),
    #[error("changed by someone else")]
    Concurrent,
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<CancelError> for Problem {
    fn from(e: CancelError) -> Problem {
        match e {
            CancelError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            CancelError::Forbidden(e) => e.into(),
            CancelError::Invalid(errors) => Problem::invalid_request(errors),
            CancelError::NotFound => Problem::not_found(),
            CancelError::NotCancellable(e) => Problem::new(
                StatusCode::CONFLICT,
                "auth-not-cancellable",
                "This auth cannot be cancelled",
            )
            .with_detail(format!("The auth is {}.", e.0.as_str())),
            CancelError::Concurrent => Problem::new(
                StatusCode::CONFLICT,
                "changed-concurrently",
                "The auth changed meanwhile",
            )
            .with_retry_after(1),
            CancelError::Store(_) => Problem::unavailable(),
        }
    }
}

/// Cancel a prior authorization
///
/// The requesting organisation withdraws a pended request, or an approval it
/// will not use. The body may carry a `reason`.
#[utoipa::path(
    post,
    path = "/v1/prior-auths/{id}/cancel",
    tag = "prior-auth",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The reference ID")),
    request_body(content = serde_json::Value, description = "{reason} (optional; an empty body is fine)"),
    responses(
        (status = 200, description = "The cancelled auth", body = PriorAuthView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a provider role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such auth of the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided against, expired or cancelled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "prior_auth.cancel", skip_all, fields(request_id, org))]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match cancel(deps, req, &info).await {
        Ok(view) => json_response(StatusCode::OK, &view),
        Err(e) => Problem::from(e).into_response(),
    }
}

async fn cancel(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<PriorAuthView, CancelError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, SUBMITTERS)?;
    let id = path_id(req).ok_or(CancelError::NotFound)?;
    let reason = if req.body().is_empty() {
        None
    } else {
        let root = body::object(req.body().as_ref()).map_err(|p| CancelError::Invalid(p.errors))?;
        parse::cancellation(&root).map_err(CancelError::Invalid)?
    };
    let store = deps.records.as_ref();
    let stored = match prior_auths::load(store, &id).await? {
        Some(s) if scope.covers(&s.value.0.org) => s,
        _ => return Err(CancelError::NotFound),
    };
    let now = deps.clock.now();
    let mut auth = stored.value.0.clone();
    review::cancel(&mut auth, actor_of(&principal), now, reason)?;
    let change = Change::updated(&stored, &auth, now)?.audited(
        &principal,
        "prior_auth.cancel",
        &auth,
        info,
        now,
    )?;
    match change.commit(deps.ports(), None).await {
        Ok(()) => {
            let documents = crate::view::documents_of(store, &auth).await?;
            Ok(PriorAuthView::of(&auth, now).with_documents(documents))
        }
        Err(StoreError::ConditionFailed) => Err(CancelError::Concurrent),
        Err(e) => Err(e.into()),
    }
}
