//! `POST /v1/intake/{id}/link`: a clerk links a queued item to an existing
//! record (a prior auth, a claim or a dispute), which notes the item in its
//! history.

use lambda_http::http::StatusCode;
use mso_api::body::Fields;
use mso_api::idempotency::{self, Attempt, IdempotencyKey, StoredResponse, Ticket};
use mso_api::outbox;
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    json_response,
};
use mso_domain::ids::ReferenceId;
use mso_domain::intake::item::{Closed, ItemStatus, may_link};
use mso_domain::prior_auth::Actor;
use mso_records::documents;
use mso_records::intake::{self, LinkKind};
use mso_store::StoreError;
use serde_json::{Map, Value};
use tracing::{Span, instrument};

use crate::ingest::target;
use crate::read::path_id;
use crate::view::IntakeView;
use crate::{CLERKS, Deps};

/// Attempts when the item or the record changes between read and write.
const ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("the item is closed")]
    Closed(Closed),
    #[error("no such record")]
    NoSuchRecord(LinkKind),
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<LinkError> for Response<Body> {
    fn from(e: LinkError) -> Response<Body> {
        let problem = match e {
            LinkError::Idempotent(resp) => return resp,
            LinkError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            LinkError::Forbidden(e) => e.into(),
            LinkError::Invalid(errors) => Problem::invalid_request(errors),
            LinkError::NotFound => Problem::not_found(),
            LinkError::Closed(closed) => closed_problem(closed),
            LinkError::NoSuchRecord(kind) => no_such_record(kind),
            LinkError::Store(StoreError::InvalidInput(_)) => Problem::invalid_request(vec![]),
            LinkError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// 409: the item was linked or filed before.
pub(crate) fn closed_problem(closed: Closed) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "intake-item-closed",
        "The intake item is already linked or filed",
    )
    .with_errors(vec![FieldError {
        field: "id".into(),
        code: closed.code().into(),
        message: closed.message().into(),
    }])
}

fn no_such_record(kind: LinkKind) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "no-such-record",
        "No record to link the item to",
    )
    .with_errors(vec![FieldError {
        field: "id".into(),
        code: "no_such_record".into(),
        message: match kind {
            LinkKind::PriorAuth => "no prior auth has this reference ID".into(),
            LinkKind::Claim => "no claim has this reference ID".into(),
            LinkKind::Dispute => "no dispute has this reference ID".into(),
        },
    }])
}

/// The record to link to.
struct LinkRequest {
    kind: LinkKind,
    id: ReferenceId,
}

fn link_request(root: &Map<String, Value>) -> Result<LinkRequest, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let kind = f.required("kind", LinkKind::parse);
    let raw = f.required_text("id", 40);
    f.deny_unknown(&["kind", "id"]);
    let id = match (kind, raw) {
        (Some(kind), Some(raw)) => {
            let id = ReferenceId::parse_kind(kind.record_kind(), &raw);
            if let Err(invalid) = &id {
                f.problem("id", invalid);
            }
            id.ok()
        }
        _ => None,
    };
    match (kind, id) {
        (Some(kind), Some(id)) if f.is_valid() => Ok(LinkRequest { kind, id }),
        _ => Err(f.into_errors()),
    }
}

/// Claims the key, or the answer to give instead.
pub(crate) async fn claim(
    deps: &Deps,
    req: &Request,
    principal: &Principal,
    key: &IdempotencyKey,
) -> Result<Result<Ticket, Response<Body>>, StoreError> {
    let now = deps.clock.now();
    Ok(idempotency::begin(
        deps.records.as_ref(),
        &Attempt::of(req, principal, key),
        now,
    )
    .await?
    .proceed())
}

/// The record of who acted: subject, organisation and the role used.
pub(crate) fn actor_of(p: &Principal) -> Actor {
    Actor {
        subject: p.subject.clone(),
        org: p.org.to_string(),
        role: p
            .roles
            .first()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// Link an intake item to a record
///
/// The clerk names the record (`{"kind": "prior_auth", "id": "PA-7K3Q9M"}`);
/// the item becomes `linked` and the record's history notes the item, its
/// receipt time and its documents (a dispute's history, as correspondence on
/// it: more documents for the reviewer). Idempotent with `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/intake/{id}/link",
    tag = "intake",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The item's reference ID (INT-7K3Q9M)"),
        ("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters; the same key and body replay the first answer for 24 hours"),
    ),
    request_body(content = serde_json::Value, description = "{kind: prior_auth | claim | dispute, id: the record's reference ID}"),
    responses(
        (status = 200, description = "Linked: the item", body = IntakeView),
        (status = 400, description = "Invalid fields; every one is listed (including a missing Idempotency-Key)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The item is already linked or filed; or a request with this Idempotency-Key is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No record of that kind has that ID; or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was changed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "intake.link", skip_all, fields(request_id, org, item_id))]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match link(deps, req, &info).await {
        Ok(resp) => resp,
        Err(e) => {
            if let LinkError::Store(store) = &e {
                tracing::error!(error = %store, "intake link failed");
            }
            e.into()
        }
    }
}

async fn link(deps: &Deps, req: &Request, info: &RequestInfo) -> Result<Response<Body>, LinkError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, CLERKS)?;
    let id = path_id(req).ok_or(LinkError::NotFound)?;
    let (key, wanted) = idempotency::key_and_body(req, link_request).map_err(LinkError::Invalid)?;
    let store = deps.records.as_ref();
    let ticket = match claim(deps, req, &principal, &key).await? {
        Ok(ticket) => ticket,
        Err(resp) => return Err(LinkError::Idempotent(resp)),
    };
    let result = link_once(deps, &scope, &principal, &id, &wanted, info, &ticket).await;
    match result {
        Ok(resp) => Ok(resp),
        Err(e) => {
            // Nothing was written: the clerk may retry with the same key.
            ticket.release(store).await?;
            Err(e)
        }
    }
}

async fn link_once(
    deps: &Deps,
    scope: &mso_api::Scope,
    principal: &Principal,
    id: &ReferenceId,
    wanted: &LinkRequest,
    info: &RequestInfo,
    ticket: &Ticket,
) -> Result<Response<Body>, LinkError> {
    let store = deps.records.as_ref();
    for _ in 0..ATTEMPTS {
        let stored = match intake::load(store, id).await? {
            Some(stored) if scope.covers(&stored.value.0.org) => stored,
            _ => return Err(LinkError::NotFound),
        };
        Span::current().record("item_id", id.as_str());
        let item = &stored.value.0;
        may_link(item.status).map_err(LinkError::Closed)?;
        let Some(target) = target(store, wanted.kind, &wanted.id).await? else {
            return Err(LinkError::NoSuchRecord(wanted.kind));
        };
        let now = deps.clock.now();
        let actor = actor_of(principal);
        let link = target.link(false);
        let reason = format!("linked to {} by the clerk", link.id);
        let linked = item.closed(ItemStatus::Linked, link, actor.clone(), reason, now);
        let docs = documents::of_owner(store, &item.owner()).await?;
        let doc_ids: Vec<ReferenceId> = docs
            .iter()
            .filter_map(|d| documents::parse_id(&d.id))
            .collect();
        let (ops, events) = target.noted(&linked, &doc_ids, actor, now)?;
        let view = IntakeView::of(&linked, docs, now);
        let stored_response = StoredResponse {
            status: 200,
            content_type: "application/json".into(),
            body: serde_json::to_string(&view).unwrap_or_default(),
        };
        let mut change = intake::Change::updated(&stored, &linked)?
            .with(ops)
            .audited(principal, "intake.link", &linked, info, now)?;
        for event in &events {
            change = change.with([event.stage()?]);
        }
        match change
            .commit(store, Some(ticket.completion(&stored_response, now)))
            .await
        {
            Ok(()) => {
                outbox::publish(store, deps.queue.as_ref(), &events).await;
                return Ok(json_response(StatusCode::OK, &view));
            }
            // The item or the record changed meanwhile: look again.
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(LinkError::Store(StoreError::unavailable(
        "linking an intake item",
        "the item or the record kept changing",
    )))
}
