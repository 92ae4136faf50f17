//! `POST /v1/intake/{id}/create`: a clerk files a new record from a queued item
//! with the fields read off the fax or email. The record's legal clock starts
//! at the item's receipt time, never at the clerk's.

use lambda_http::http::StatusCode;
use mso_api::idempotency::StoredResponse;
use mso_api::outbox;
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    json_response,
};
use mso_domain::Invalid;
use mso_domain::ids::{RecordKind, ReferenceId};
use mso_domain::intake::item::{Closed, ItemStatus, may_file};
use mso_domain::prior_auth::{Request as AuthRequest, Source};
use mso_records::documents;
use mso_records::intake::{self, LinkKind, RecordLink};
use mso_records::prior_auths::{self, FileError, Refusal};
use mso_store::StoreError;
use serde_json::{Map, Value};
use tracing::{Span, instrument};

use crate::link::{actor_of, claim, closed_problem, key_and_body};
use crate::read::path_id;
use crate::view::{CreatedFromIntake, FiledRecord, IntakeView};
use crate::{CLERKS, Deps};

/// Attempts when the item changes, or a new reference ID is taken, meanwhile.
const ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
enum CreateError {
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
    #[error("kind not filed from intake yet")]
    KindNotYet(&'static str),
    #[error("refused")]
    Refused(Refusal),
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<CreateError> for Response<Body> {
    fn from(e: CreateError) -> Response<Body> {
        let problem = match e {
            CreateError::Idempotent(resp) => return resp,
            CreateError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            CreateError::Forbidden(e) => e.into(),
            CreateError::Invalid(errors) => Problem::invalid_request(errors),
            CreateError::NotFound => Problem::not_found(),
            CreateError::Closed(closed) => closed_problem(closed),
            CreateError::KindNotYet(kind) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "kind-not-filed-from-intake",
                "This kind of record cannot be filed from an intake item yet",
            )
            .with_errors(vec![FieldError {
                field: "kind".into(),
                code: "not_yet_supported".into(),
                message: format!(
                    "{kind} records are not filed from intake yet; file a prior_auth, or keep the item queued"
                ),
            }]),
            CreateError::Refused(refusal) => refused(refusal),
            CreateError::Store(StoreError::InvalidInput(_)) => Problem::invalid_request(vec![]),
            CreateError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// A refusal of the clerk's fields: 422 naming the field to look at.
fn refused(refusal: Refusal) -> Problem {
    let (slug, title, field, code, message) = match refusal {
        Refusal::RequestingNpiNotInOrganisation => (
            "requesting-npi-unknown",
            "The requesting NPI is not a provider in the directory",
            "prior_auth.requesting_npi",
            "npi_not_in_directory".to_string(),
            "must be the NPI of a provider in the IPA's directory".to_string(),
        ),
        Refusal::MemberNotFound { .. } => (
            "member-not-found",
            "No member matches this member ID and date of birth",
            "prior_auth.member_id",
            "member_not_found".to_string(),
            "no member matches this member ID and date of birth".to_string(),
        ),
        Refusal::NotEligible {
            field,
            code,
            message,
        } => (
            "member-not-eligible",
            "The member is not eligible on the dates of service",
            match field {
                "service_to" => "prior_auth.service_to",
                _ => "prior_auth.service_from",
            },
            code.to_string(),
            message,
        ),
    };
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title).with_errors(vec![FieldError {
        field: field.into(),
        code,
        message,
    }])
}

/// What the clerk asks to file.
enum Wanted {
    PriorAuth(Box<AuthRequest>),
    /// EXTENSION POINT (disputes): the disputes job (another branch) exposes a
    /// records-level filing function taking `received_at` and a paper channel;
    /// until it lands here a dispute answers 422 naming `kind`.
    Dispute,
}

fn parse_kind(s: &str) -> Result<LinkKind, Invalid> {
    match LinkKind::parse(s) {
        Ok(kind @ (LinkKind::PriorAuth | LinkKind::Dispute)) => Ok(kind),
        _ => Err(Invalid::new(
            "invalid_kind",
            "must be prior_auth or dispute",
        )),
    }
}

fn create_request(root: &Map<String, Value>) -> Result<Wanted, Vec<FieldError>> {
    let mut f = mso_api::body::Fields::new(root);
    let kind = f.required("kind", parse_kind);
    f.deny_unknown(&["kind", "prior_auth", "dispute"]);
    let mut errors = Vec::new();
    let wanted = match kind {
        Some(LinkKind::PriorAuth) => match root.get("prior_auth") {
            Some(Value::Object(fields)) => match prior_auths::request::request(fields) {
                Ok(r) => Some(Wanted::PriorAuth(Box::new(r))),
                Err(es) => {
                    errors.extend(es.into_iter().map(|e| FieldError {
                        field: format!("prior_auth.{}", e.field),
                        ..e
                    }));
                    None
                }
            },
            Some(_) => {
                f.problem(
                    "prior_auth",
                    &Invalid::new("invalid_type", "must be an object"),
                );
                None
            }
            None => {
                f.problem("prior_auth", &Invalid::required());
                None
            }
        },
        Some(_) => Some(Wanted::Dispute),
        None => None,
    };
    let valid = f.is_valid();
    let mut all = f.into_errors();
    all.extend(errors);
    match wanted {
        Some(w) if valid && all.is_empty() => Ok(w),
        _ => Err(all),
    }
}

/// File a prior auth (or, later, a dispute) from an intake item
///
/// The body is `{"kind": "prior_auth", "prior_auth": {…}}` with the fields of
/// `POST /v1/prior-auths`, as the clerk reads them off the fax or email. The
/// auth's `received_at` is the item's receipt time, so its decision clock runs
/// from when the fax or email arrived, not from when the clerk got to it. The
/// requesting NPI decides the auth's organisation. The item becomes `filed`.
/// `kind: dispute` answers 422 until the disputes job lands. Idempotent with
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/intake/{id}/create",
    tag = "intake",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The item's reference ID (INT-7K3Q9M)"),
        ("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters; the same key and body replay the first answer for 24 hours"),
    ),
    request_body(content = serde_json::Value, description = "{kind: prior_auth, prior_auth: {the fields of POST /v1/prior-auths}}"),
    responses(
        (status = 201, description = "Filed: the item and the new record", body = CreatedFromIntake),
        (status = 400, description = "Invalid fields; every one is listed (prior_auth.* for the auth's)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The item is already linked or filed; or a request with this Idempotency-Key is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Member not found or not eligible, requesting NPI unknown, a kind not filed from intake yet (dispute); or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was filed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "intake.create",
    skip_all,
    fields(request_id, org, item_id, auth_id)
)]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match create(deps, req, &info).await {
        Ok(resp) => resp,
        Err(e) => {
            if let CreateError::Store(store) = &e {
                tracing::error!(error = %store, "intake create failed");
            }
            e.into()
        }
    }
}

async fn create(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Response<Body>, CreateError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, CLERKS)?;
    let id = path_id(req).ok_or(CreateError::NotFound)?;
    let (key, wanted) = key_and_body(req, create_request).map_err(CreateError::Invalid)?;
    let store = deps.records.as_ref();
    // Look before claiming the key, so a closed or unknown item is answered
    // without holding it.
    match intake::load(store, &id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => {}
        _ => return Err(CreateError::NotFound),
    }
    let request = match wanted {
        Wanted::PriorAuth(request) => *request,
        Wanted::Dispute => return Err(CreateError::KindNotYet("dispute")),
    };
    let ticket = match claim(deps, req, &principal, &key).await? {
        Ok(ticket) => ticket,
        Err(resp) => return Err(CreateError::Idempotent(resp)),
    };
    let mut result = Err(CreateError::Store(StoreError::unavailable(
        "filing from an intake item",
        "the item kept changing",
    )));
    for _ in 0..ATTEMPTS {
        result = file_once(deps, &scope, &principal, &id, &request, info, &ticket).await;
        match &result {
            Err(CreateError::Store(StoreError::ConditionFailed)) => continue,
            _ => break,
        }
    }
    match result {
        Ok(resp) => Ok(resp),
        Err(e) => {
            // Nothing was written: the clerk may correct and retry with the same key.
            ticket.release(store).await?;
            Err(e)
        }
    }
}

async fn file_once(
    deps: &Deps,
    scope: &mso_api::Scope,
    principal: &Principal,
    id: &ReferenceId,
    request: &AuthRequest,
    info: &RequestInfo,
    ticket: &mso_api::idempotency::Ticket,
) -> Result<Response<Body>, CreateError> {
    let store = deps.records.as_ref();
    let stored = match intake::load(store, id).await? {
        Some(stored) if scope.covers(&stored.value.0.org) => stored,
        _ => return Err(CreateError::NotFound),
    };
    Span::current().record("item_id", id.as_str());
    let item = &stored.value.0;
    may_file(item.status).map_err(CreateError::Closed)?;
    let now = deps.clock.now();
    let actor = actor_of(principal);
    let auth = prior_auths::file(
        store,
        &deps.policy,
        // IPA staff: the requesting NPI decides the organisation.
        None,
        request.clone(),
        // The legal start: when the fax or email arrived.
        item.received_at,
        now,
        Source::Intake {
            item_id: item.id.clone(),
        },
        mso_api::ids::new_reference(RecordKind::PriorAuth),
        actor.clone(),
    )
    .await
    .map_err(|e| match e {
        FileError::Refused(r) => CreateError::Refused(r),
        FileError::Store(s) => CreateError::Store(s),
    })?;
    Span::current().record("auth_id", auth.id.as_str());
    let filed = item.closed(
        ItemStatus::Filed,
        RecordLink {
            kind: LinkKind::PriorAuth,
            id: auth.id.clone(),
            automatic: false,
        },
        actor,
        format!("{} filed from the item by the clerk", auth.id),
        now,
    );
    let docs = documents::of_owner(store, &item.owner()).await?;
    let view = CreatedFromIntake {
        item: IntakeView::of(&filed, docs, now),
        record: FiledRecord::prior_auth(&auth),
    };
    let stored_response = StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: serde_json::to_string(&view).unwrap_or_default(),
    };
    let auth_change = prior_auths::Change::created(&auth, now)?.audited(
        principal,
        "prior_auth.file_from_intake",
        &auth,
        info,
        now,
    )?;
    let event = auth_change.event.clone();
    let change = intake::Change::updated(&stored, &filed)?
        .with(auth_change.ops)
        .with([event.stage()?])
        .audited(principal, "intake.create", &filed, info, now)?;
    change
        .commit(store, Some(ticket.completion(&stored_response, now)))
        .await?;
    outbox::publish(store, deps.queue.as_ref(), std::slice::from_ref(&event)).await;
    Ok(json_response(StatusCode::CREATED, &view))
}
