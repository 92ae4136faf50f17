//! `GET /v1/disputes/{id}` and `GET /v1/disputes?status=&claim_id=`.

use lambda_http::RequestExt;
use mso_api::audit::{self, AuditEvent};
use mso_api::paging::{self, Listing, PageRequest};
use mso_api::read::{ReadError, answer};
use mso_api::{
    Body, FieldError, FieldErrors, Principal, Problem, Request, RequestInfo, Response, Scope,
};
use mso_domain::disputes::{Kind, Status};
use mso_domain::ids::{OrgId, RecordKind, ReferenceId};
use mso_records::disputes::{self, DisputeSummary};
use mso_store::{Query, keys};
use tracing::{Span, instrument};

use crate::view::{DisputeView, documents_of};
use crate::{Deps, READERS};

/// One dispute
///
/// With its clocks, determination (and where a second level goes), documents
/// and history. Another organisation's dispute is 404. Every read is in the PHI
/// audit trail.
#[utoipa::path(
    get,
    path = "/v1/disputes/{id}",
    tag = "disputes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The reference ID (DSP-7K3Q9M)")),
    responses(
        (status = 200, description = "The dispute", body = DisputeView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read disputes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispute visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "disputes.read", skip_all, fields(request_id, org))]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("dispute", get_one(deps, req, &info).await)
}

async fn get_one(deps: &Deps, req: &Request, info: &RequestInfo) -> Result<DisputeView, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, READERS)?;
    let id = path_id(req).ok_or(ReadError::NotFound)?;
    let store = deps.records.as_ref();
    let dispute = match disputes::load(store, &id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => stored.value.0,
        _ => return Err(ReadError::NotFound),
    };
    let now = deps.clock.now();
    let audit = AuditEvent {
        actor: &principal,
        action: "dispute.read",
        purpose: "payment",
        subject_type: "dispute",
        subject_id: dispute.id.as_str(),
        outcome: dispute.status.as_str(),
        request_id: &info.request_id,
        at: now,
    };
    let documents = audit::record_alongside(store, &audit, documents_of(store, &dispute)).await?;
    Ok(DisputeView::of(&dispute, now).with_documents(documents))
}

/// The `{id}` of the path, when it is a dispute reference ID (anything else
/// is simply not found).
pub(crate) fn path_id(req: &Request) -> Option<ReferenceId> {
    let raw = req.path_parameters_ref()?.first("id")?;
    ReferenceId::parse_kind(RecordKind::Dispute, raw).ok()
}

/// The filters of the list.
struct ListQuery {
    status: Option<Status>,
    kind: Option<Kind>,
    subject: Option<ReferenceId>,
    page: PageRequest,
}

impl TryFrom<&Request> for ListQuery {
    type Error = Vec<FieldError>;

    fn try_from(req: &Request) -> Result<Self, Self::Error> {
        let params = req.query_string_parameters_ref();
        let param = |name| params.and_then(|p| p.first(name)).filter(|v| !v.is_empty());
        let mut errors = FieldErrors::default();
        let status = param("status").map(|s| errors.check("status", Status::parse(s)));
        let kind = param("kind").map(|s| errors.check("kind", Kind::parse(s)));
        let claim = param("claim_id")
            .map(|s| errors.check("claim_id", ReferenceId::parse_kind(RecordKind::Claim, s)));
        let auth = param("prior_auth_id").map(|s| {
            errors.check(
                "prior_auth_id",
                ReferenceId::parse_kind(RecordKind::PriorAuth, s),
            )
        });
        if claim.is_some() && auth.is_some() {
            errors.check::<()>(
                "prior_auth_id",
                Err(mso_domain::Invalid::new(
                    "one_subject_only",
                    "filter by claim_id or prior_auth_id, not both",
                )),
            );
        }
        let page = PageRequest::of(req, &mut errors);
        match page {
            Some(page) if errors.is_empty() => Ok(ListQuery {
                status: status.flatten(),
                kind: kind.flatten(),
                subject: claim.flatten().or(auth.flatten()),
                page,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// Disputes, newest first
///
/// A provider sees its organisation's disputes; IPA staff see every
/// organisation's. Filter by `status`, `kind`, and `claim_id` (or
/// `prior_auth_id`); paged with `limit` and `cursor`.
#[utoipa::path(
    get,
    path = "/v1/disputes",
    tag = "disputes",
    security(("bearer" = [])),
    params(
        ("status" = Option<String>, Query, description = "Only disputes in this status: received, acknowledged, in_review, decided, closed"),
        ("claim_id" = Option<String>, Query, description = "Only disputes of this claim"),
        ("prior_auth_id" = Option<String>, Query, description = "Only disputes (appeals) of this prior auth"),
        ("kind" = Option<String>, Query, description = "Only pdr, appeal or grievance"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 100 (25)"),
        ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of disputes", body = Listing<DisputeSummary>),
        (status = 400, description = "Invalid filters or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read disputes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "disputes.list", skip_all, fields(request_id, org))]
pub(crate) async fn list(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("dispute", list_page(deps, req, &info).await)
}

async fn list_page(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Listing<DisputeSummary>, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, READERS)?;
    let q = ListQuery::try_from(req).map_err(ReadError::Invalid)?;
    let partition = match (&q.subject, &scope) {
        (Some(subject), _) => keys::dispute_list_subject(subject.as_str()),
        (None, Scope::Organisation(org)) => keys::dispute_list_org(org.as_str()),
        (None, Scope::Ipa) => keys::DISPUTE_LIST_ALL.to_string(),
    };
    let now = deps.clock.now();
    let store = deps.records.as_ref();
    let listing = paging::collect(
        store,
        Query::primary(partition, "").descending(),
        &q.page,
        |record| {
            let summary: DisputeSummary = record.body.decode().ok()?;
            let org = OrgId::parse(&summary.org).ok()?;
            let wanted = scope.covers(&org)
                && q.status.is_none_or(|s| s == summary.status)
                && q.kind.is_none_or(|k| k == summary.kind);
            wanted.then(|| summary.shown(now))
        },
    )
    .await?;
    // A list shows member IDs: it is a PHI read like any other.
    audit::record(
        store,
        &AuditEvent {
            actor: &principal,
            action: "dispute.list",
            purpose: "payment",
            subject_type: if q.subject.is_some() {
                "dispute_subject"
            } else {
                "dispute_list"
            },
            subject_id: q.subject.as_ref().map_or("*", ReferenceId::as_str),
            outcome: "listed",
            request_id: &info.request_id,
            at: now,
        },
    )
    .await?;
    Ok(listing)
}
