//! `GET /v1/reports/prior-auth-metrics?from=&to=`: the CMS-0057-F figures.

use jiff::Timestamp;
use lambda_http::http::StatusCode;
use mso_api::paging::{self, ReportPeriod};
use mso_api::{AuthError, Body, Forbidden, Principal, Problem, Request, Response, json_response};
use mso_domain::prior_auth::metrics::{self, Figures};
use mso_records::prior_auths::AuthSummary;
use mso_store::keys;
use serde::Serialize;
use tracing::instrument;
use utoipa::ToSchema;

use crate::{Deps, REPORTERS};

/// The figures CMS-0057-F asks payers to publish, for requests received in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsReport {
    #[schema(value_type = String, format = Date)]
    pub from: String,
    #[schema(value_type = String, format = Date)]
    pub to: String,
    /// Routine requests.
    #[schema(value_type = Object)]
    pub standard: Figures,
    /// Urgent requests.
    #[schema(value_type = Object)]
    pub expedited: Figures,
    pub not_required: u64,
    pub pending: u64,
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: Timestamp,
}

/// Prior-auth metrics (CMS-0057-F)
///
/// Share approved, denied and approved after appeal, average and median time
/// from receipt to decision, standard and expedited apart, for requests received
/// from `from` to `to` (IPA time zone). IPA staff only.
#[utoipa::path(
    get,
    path = "/v1/reports/prior-auth-metrics",
    tag = "prior-auth",
    security(("bearer" = [])),
    params(
        ("from" = String, Query, description = "First day, YYYY-MM-DD"),
        ("to" = String, Query, description = "Last day, YYYY-MM-DD (at most 366 days after from)"),
    ),
    responses(
        (status = 200, description = "The figures", body = MetricsReport),
        (status = 400, description = "Invalid dates", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a UM or operations role of the IPA", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "prior_auth.report", skip_all)]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    match report(deps, req).await {
        Ok(r) => json_response(StatusCode::OK, &r),
        Err(p) => p.into_response(),
    }
}

async fn report(deps: &Deps, req: &Request) -> Result<MetricsReport, Problem> {
    let principal = Principal::from_request(req)
        .map_err(|e: AuthError| Problem::unauthorized(e.to_string()))?;
    principal
        .authorize(&deps.policy.ipa.id, REPORTERS)
        .map_err(|e: Forbidden| Problem::from(e))?;
    let period = ReportPeriod::of(req).map_err(Problem::invalid_request)?;
    let (from, to) = (period.from, period.to);
    // The list rows carry what the figures need: no record is read whole.
    let query = period.query(keys::PRIOR_AUTH_LIST_ALL, deps.policy.time_zone());
    let inputs = paging::read_all(deps.records.as_ref(), query, |r| {
        r.body.decode::<AuthSummary>().ok()?.metrics
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "metrics report read failed");
        Problem::unavailable()
    })?;
    let m = metrics::compute(inputs);
    Ok(MetricsReport {
        from: from.to_string(),
        to: to.to_string(),
        standard: m.standard,
        expedited: m.expedited,
        not_required: m.not_required,
        pending: m.pending,
        generated_at: deps.clock.now(),
    })
}
