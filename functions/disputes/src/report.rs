//! `GET /v1/reports/disputes?from=&to=`: counts by kind and outcome, and the
//! share acknowledged and decided on time.

use jiff::Timestamp;
use lambda_http::http::StatusCode;
use mso_api::paging::{self, ReportPeriod};
use mso_api::{AuthError, Body, Forbidden, Principal, Problem, Request, Response, json_response};
use mso_domain::disputes::report::{self, Figures};
use mso_records::disputes::DisputeSummary;
use mso_store::keys;
use serde::Serialize;
use tracing::instrument;
use utoipa::ToSchema;

use crate::{Deps, REPORTERS};

/// The disputes received in the period, as they stand now.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputesReport {
    #[schema(value_type = String, format = Date)]
    pub from: String,
    #[schema(value_type = String, format = Date)]
    pub to: String,
    /// `total`; `by_kind`; `by_outcome` (with `undecided`); `by_kind_and_outcome`;
    /// `acknowledgement` and `decision`, each with `on_time`, `late` (done
    /// late, or not done and past due), `pending` and `on_time_share` (0 to 1).
    #[schema(value_type = Object)]
    pub figures: Figures,
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: Timestamp,
}

/// Disputes report
///
/// For disputes received from `from` to `to` (IPA time zone): counts by kind and
/// outcome, and the share acknowledged and decided within their legal clocks.
/// IPA staff (dispute reviewers, operations) only.
#[utoipa::path(
    get,
    path = "/v1/reports/disputes",
    tag = "disputes",
    security(("bearer" = [])),
    params(
        ("from" = String, Query, description = "First day, YYYY-MM-DD"),
        ("to" = String, Query, description = "Last day, YYYY-MM-DD (at most 366 days after from)"),
    ),
    responses(
        (status = 200, description = "The figures", body = DisputesReport),
        (status = 400, description = "Invalid dates", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a dispute reviewer or operations role of the IPA", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "disputes.report", skip_all)]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    match build(deps, req).await {
        Ok(r) => json_response(StatusCode::OK, &r),
        Err(p) => p.into_response(),
    }
}

async fn build(deps: &Deps, req: &Request) -> Result<DisputesReport, Problem> {
    let principal = Principal::from_request(req)
        .map_err(|e: AuthError| Problem::unauthorized(e.to_string()))?;
    principal
        .authorize(&deps.policy.ipa.id, REPORTERS)
        .map_err(|e: Forbidden| Problem::from(e))?;
    let period = ReportPeriod::of(req).map_err(Problem::invalid_request)?;
    let (from, to) = (period.from, period.to);
    // The list rows carry what the figures need: no record is read whole.
    let query = period.query(keys::DISPUTE_LIST_ALL, deps.policy.time_zone());
    let inputs = paging::read_all(deps.records.as_ref(), query, |r| {
        r.body.decode::<DisputeSummary>().ok()?.report
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "disputes report read failed");
        Problem::unavailable()
    })?;
    let now = deps.clock.now();
    Ok(DisputesReport {
        from: from.to_string(),
        to: to.to_string(),
        figures: report::compute(inputs, now),
        generated_at: now,
    })
}
