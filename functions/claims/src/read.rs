//! `GET /v1/claims/{id}` and `GET /v1/claims?status=&member_id=&from=&to=`.

use jiff::Timestamp;
use lambda_http::RequestExt;
use mso_api::audit::{self, AuditEvent};
use mso_api::paging::{self, Listing, ReceiptFilter};
use mso_api::read::{ReadError, answer};
use mso_api::{Body, Principal, Problem, Request, RequestInfo, Response, Scope};
use mso_domain::claims::Status;
use mso_domain::ids::{MemberId, RecordKind, ReferenceId};
use mso_records::claims::{self, ClaimSummary};
use mso_store::{StoreError, keys};
use tracing::{Span, instrument};

use crate::view::ClaimView;
use crate::{Deps, READERS};

/// One claim
///
/// With its lines, status, every edit that fired, the payment clock, documents
/// and history. Another organisation's claim is 404. Every read is in the PHI
/// audit trail.
#[utoipa::path(
    get,
    path = "/v1/claims/{id}",
    tag = "claims",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The claim ID (CLM-7K3Q9M2P4X)")),
    responses(
        (status = 200, description = "The claim", body = ClaimView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read claims", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "claims.read", skip_all, fields(request_id, org))]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("claim", get_one(deps, req, &info).await)
}

async fn get_one(deps: &Deps, req: &Request, info: &RequestInfo) -> Result<ClaimView, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, READERS)?;
    let id = path_id(req).ok_or(ReadError::NotFound)?;
    let store = deps.records.as_ref();
    let claim = match claims::load(store, &id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => stored.value.0,
        _ => return Err(ReadError::NotFound),
    };
    let now = deps.clock.now();
    let audit = AuditEvent {
        actor: &principal,
        action: "claims.read",
        purpose: "payment",
        subject_type: "claim",
        subject_id: claim.id.as_str(),
        outcome: claim.status.as_str(),
        request_id: &info.request_id,
        at: now,
    };
    let documents =
        audit::record_alongside(store, &audit, crate::view::documents_of(store, &claim)).await?;
    Ok(ClaimView::of(&claim, deps.policy.claims.payment_working_days).with_documents(documents))
}

/// The `{id}` of the path, when it is a claim ID (anything else is simply not found).
pub(crate) fn path_id(req: &Request) -> Option<ReferenceId> {
    let raw = req.path_parameters_ref()?.first("id")?;
    ReferenceId::parse_kind(RecordKind::Claim, raw).ok()
}

/// Claims, newest first
///
/// A provider sees its organisation's claims; IPA staff see every organisation's
/// (a claims examiner works `status=pended`). Filter by member, status and
/// receipt dates (in the IPA's time zone); paged with `limit` and `cursor`.
#[utoipa::path(
    get,
    path = "/v1/claims",
    tag = "claims",
    security(("bearer" = [])),
    params(
        ("member_id" = Option<String>, Query, description = "Only this member's claims"),
        ("status" = Option<String>, Query, description = "Only claims in this status: received, accepted, rejected, pended, replaced, voided"),
        ("from" = Option<String>, Query, description = "Received on or after this date, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Received on or before this date, YYYY-MM-DD"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 100 (25)"),
        ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of claims", body = Listing<ClaimSummary>),
        (status = 400, description = "Invalid filters or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read claims", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "claims.list", skip_all, fields(request_id, org))]
pub(crate) async fn list(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("claim", list_page(deps, req, &info).await)
}

async fn list_page(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Listing<ClaimSummary>, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, READERS)?;
    let q = ReceiptFilter::of(req, Status::parse).map_err(ReadError::Invalid)?;
    let partition = match (&q.member_id, &scope) {
        (Some(member), _) => keys::claim_list_member(member.as_str()),
        (None, Scope::Organisation(org)) => keys::claim_list_org(org.as_str()),
        (None, Scope::Ipa) => keys::CLAIM_LIST_ALL.to_string(),
    };
    let query = q.query(partition, deps.policy.time_zone());
    let now = deps.clock.now();
    let store = deps.records.as_ref();
    let listing = paging::collect(store, query, &q.page, |record| {
        let summary: ClaimSummary = record.body.decode().ok()?;
        let org = mso_domain::ids::OrgId::parse(&summary.org).ok()?;
        let wanted = scope.covers(&org) && q.status.is_none_or(|s| s == summary.status);
        wanted.then(|| summary.shown())
    })
    .await?;
    audit_list(deps, &principal, info, q.member_id.as_ref(), now).await?;
    Ok(listing)
}

/// A list shows member IDs: it is a PHI read like any other.
async fn audit_list(
    deps: &Deps,
    principal: &Principal,
    info: &RequestInfo,
    member: Option<&MemberId>,
    at: Timestamp,
) -> Result<(), StoreError> {
    audit::record(
        deps.records.as_ref(),
        &AuditEvent {
            actor: principal,
            action: "claims.list",
            purpose: "payment",
            subject_type: if member.is_some() {
                "member"
            } else {
                "claim_list"
            },
            subject_id: member.map_or("*", MemberId::as_str),
            outcome: "listed",
            request_id: &info.request_id,
            at,
        },
    )
    .await
}
