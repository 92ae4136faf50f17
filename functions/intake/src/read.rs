//! `GET /v1/intake?status=` (the clerk's queue) and `GET /v1/intake/{id}`.

use lambda_http::RequestExt;
use mso_api::audit::{self, AuditEvent};
use mso_api::paging::{self, Listing, PageRequest};
use mso_api::read::{ReadError, answer};
use mso_api::{Body, FieldError, FieldErrors, Principal, Problem, Request, RequestInfo, Response};
use mso_domain::ids::{OrgId, ReferenceId};
use mso_domain::intake::item::ItemStatus;
use mso_records::documents;
use mso_records::intake::{self, IntakeSummary};
use mso_store::{Query, keys};
use tracing::{Span, instrument};

use crate::view::IntakeView;
use crate::{CLERKS, Deps};

/// The `{id}` of the path, when it is an intake item's reference ID (anything
/// else is simply not found).
pub(crate) fn path_id(req: &Request) -> Option<ReferenceId> {
    intake::parse_id(req.path_parameters_ref()?.first("id")?)
}

/// One fax or email
///
/// With what was found, why it was classified so, its problems, its documents,
/// its history, and how long it waited since it was received. Every read is in
/// the PHI audit trail.
#[utoipa::path(
    get,
    path = "/v1/intake/{id}",
    tag = "intake",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The item's reference ID (INT-7K3Q9M)")),
    responses(
        (status = 200, description = "The item", body = IntakeView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "intake.read", skip_all, fields(request_id, org, item_id))]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("intake", get_one(deps, req, &info).await)
}

async fn get_one(deps: &Deps, req: &Request, info: &RequestInfo) -> Result<IntakeView, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, CLERKS)?;
    let id = path_id(req).ok_or(ReadError::NotFound)?;
    let store = deps.records.as_ref();
    let item = match intake::load(store, &id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => stored.value.0,
        _ => return Err(ReadError::NotFound),
    };
    Span::current().record("item_id", item.id.as_str());
    let now = deps.clock.now();
    let audit = AuditEvent {
        actor: &principal,
        action: "intake.read",
        purpose: "operations",
        subject_type: "intake_item",
        subject_id: item.id.as_str(),
        outcome: item.status.as_str(),
        request_id: &info.request_id,
        at: now,
    };
    let owner = item.owner();
    let documents =
        audit::record_alongside(store, &audit, documents::of_owner(store, &owner)).await?;
    Ok(IntakeView::of(&item, documents, now))
}

struct ListQuery {
    status: Option<ItemStatus>,
    page: PageRequest,
}

impl TryFrom<&Request> for ListQuery {
    type Error = Vec<FieldError>;

    fn try_from(req: &Request) -> Result<Self, Self::Error> {
        let params = req.query_string_parameters_ref();
        let status = params
            .and_then(|p| p.first("status"))
            .filter(|v| !v.is_empty());
        let mut errors = FieldErrors::default();
        let status = status.map(|s| errors.check("status", ItemStatus::parse(s)));
        let page = PageRequest::of(req, &mut errors);
        match page {
            Some(page) if errors.is_empty() => Ok(ListQuery {
                status: status.flatten(),
                page,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// The fax and email queue, oldest first
///
/// Items in one status (`queued` is the clerk's work: what waits, longest
/// waiting first), or every item when `status` is absent. Each shows what it
/// is, the references found, its problems and how long it waited. Paged with
/// `limit` and `cursor`.
#[utoipa::path(
    get,
    path = "/v1/intake",
    tag = "intake",
    security(("bearer" = [])),
    params(
        ("status" = Option<String>, Query, description = "queued, linked, filed or failed"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 100 (25)"),
        ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of items", body = Listing<IntakeSummary>),
        (status = 400, description = "Invalid status or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake clerk", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "intake.list", skip_all, fields(request_id, org))]
pub(crate) async fn list(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    answer("intake", list_page(deps, req, &info).await)
}

async fn list_page(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Listing<IntakeSummary>, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, CLERKS)?;
    let q = ListQuery::try_from(req).map_err(ReadError::Invalid)?;
    let partition = match q.status {
        Some(status) => keys::intake_list(status.as_str()),
        None => keys::INTAKE_LIST_ALL.to_string(),
    };
    let now = deps.clock.now();
    let store = deps.records.as_ref();
    let ipa = OrgId::parse(&deps.policy.ipa.id).ok();
    let listing = paging::collect(store, Query::primary(partition, ""), &q.page, |record| {
        let summary: IntakeSummary = record.body.decode().ok()?;
        ipa.as_ref()
            .is_some_and(|org| scope.covers(org))
            .then(|| summary.shown(now))
    })
    .await?;
    audit::record(
        store,
        &AuditEvent {
            actor: &principal,
            action: "intake.list",
            purpose: "operations",
            subject_type: "intake_list",
            subject_id: q.status.map_or("*", ItemStatus::as_str),
            outcome: "listed",
            request_id: &info.request_id,
            at: now,
        },
    )
    .await?;
    Ok(listing)
}
