//! `GET /v1/prior-auths/{id}` and `GET /v1/prior-auths?member_id=&status=&from=&to=`.

use jiff::Timestamp;
use lambda_http::RequestExt;
use mso_api::audit::{self, AuditEvent};
use mso_api::paging::{self, Listing, ReceiptFilter};
use mso_api::read::{ReadError, answer};
use mso_api::{Body, Principal, Problem, Request, RequestInfo, Response, Scope};
use mso_domain::ids::{MemberId, RecordKind, ReferenceId};
use mso_domain::prior_auth::Status;
use mso_records::prior_auths::{self, AuthSummary};
use mso_store::{StoreError, keys};
use tracing::{Span, instrument};

use crate::view::PriorAuthView;
use crate::{Deps, READERS};

/// One prior authorization
///
/// With its lines, determination, documents and history. Another organisation's
/// auth is 404. Every read is in the PHI audit trail.
#[utoipa::path(
    get,
    path = "/v1/prior-auths/{id}",
    tag = "prior-auth",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The reference ID (PA-7K3Q9M)")),
    responses(
        (status = 200, description = "The auth", body = PriorAuthView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read auths", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such auth visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "prior_auth.read", skip_all, fields(request_id, org))]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("prior-auth", get_one(deps, req, &info).await)
}

async fn get_one(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<PriorAuthView, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, READERS)?;
    let id = path_id(req).ok_or(ReadError::NotFound)?;
    let store = deps.records.as_ref();
    let auth = match prior_auths::load(store, &id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => stored.value.0,
        _ => return Err(ReadError::NotFound),
    };
    let now = deps.clock.now();
    let audit = AuditEvent {
        actor: &principal,
        action: "prior_auth.read",
        purpose: "treatment",
        subject_type: "prior_auth",
        subject_id: auth.id.as_str(),
        outcome: auth.status.as_str(),
        request_id: &info.request_id,
        at: now,
    };
    let documents =
        audit::record_alongside(store, &audit, crate::view::documents_of(store, &auth)).await?;
    Ok(PriorAuthView::of(&auth, now).with_documents(documents))
}

/// The `{id}` of the path, when it is a prior-auth reference ID (anything else
/// is simply not found).
pub(crate) fn path_id(req: &Request) -> Option<ReferenceId> {
    let raw = req.path_parameters_ref()?.first("id")?;
    ReferenceId::parse_kind(RecordKind::PriorAuth, raw).ok()
}

/// Prior authorizations, newest first
///
/// A provider sees its organisation's auths; IPA staff see every organisation's.
/// Filter by member, status and receipt dates (in the IPA's time zone); paged
/// with `limit` and `cursor`.
#[utoipa::path(
    get,
    path = "/v1/prior-auths",
    tag = "prior-auth",
    security(("bearer" = [])),
    params(
        ("member_id" = Option<String>, Query, description = "Only this member's auths"),
        ("status" = Option<String>, Query, description = "Only auths in this status"),
        ("from" = Option<String>, Query, description = "Received on or after this date, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Received on or before this date, YYYY-MM-DD"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 100 (25)"),
        ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of auths", body = Listing<AuthSummary>),
        (status = 400, description = "Invalid filters or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read auths", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "prior_auth.list", skip_all, fields(request_id, org))]
pub(crate) async fn list(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("prior-auth", list_page(deps, req, &info).await)
}

async fn list_page(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Listing<AuthSummary>, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, READERS)?;
    let q = ReceiptFilter::of(req, Status::parse).map_err(ReadError::Invalid)?;
    let partition = match (&q.member_id, &scope) {
        (Some(member), _) => keys::prior_auth_list_member(member.as_str()),
        (None, Scope::Organisation(org)) => keys::prior_auth_list_org(org.as_str()),
        (None, Scope::Ipa) => keys::PRIOR_AUTH_LIST_ALL.to_string(),
    };
    let query = q.query(partition, deps.policy.time_zone());
    let now = deps.clock.now();
    let store = deps.records.as_ref();
    let listing = paging::collect(store, query, &q.page, |record| {
        let summary: AuthSummary = record.body.decode().ok()?;
        let org = mso_domain::ids::OrgId::parse(&summary.org).ok()?;
        let wanted = scope.covers(&org) && q.status.is_none_or(|s| s == summary.status);
        wanted.then(|| summary.shown(now))
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
            action: "prior_auth.list",
            purpose: "treatment",
            subject_type: if member.is_some() {
                "member"
            } else {
                "prior_auth_list"
            },
            subject_id: member.map_or("*", MemberId::as_str),
            outcome: "listed",
            request_id: &info.request_id,
            at,
        },
    )
    .await
}
