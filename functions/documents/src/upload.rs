//! `POST /v1/documents`: an upload slot for a document of an owner.

use lambda_http::http::{HeaderValue, StatusCode};
use mso_api::body::{Fields, free_text};
use mso_api::idempotency::{self, Attempt, Outcome, StoredResponse, Ticket};
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    Role, Scope, json_response,
};
use mso_domain::Invalid;
use mso_domain::document::DocumentType;
use mso_domain::document::messages::{self, Refused};
use mso_domain::ids::RecordKind;
use mso_domain::policy::AttachmentPolicy;
use mso_domain::prior_auth::Actor;
use mso_records::documents::owners::{Note, OwnerRecord};
use mso_records::documents::{self, Change, Document, DocumentStatus, Messages, Owner, OwnerKind};
use mso_store::StoreError;
use serde::Deserialize;
use serde_json::{Map, Value};
use tracing::{Span, instrument};
use utoipa::ToSchema;

use crate::view::DocumentView;
use crate::{Deps, UPLOAD_URL_LIFETIME, USERS, may_see};

/// The longest file name kept (most file systems allow 255 bytes).
const MAX_FILE_NAME: usize = 255;
/// Attempts when concurrent uploads to one owner collide (a browser sends a
/// handful of files at once; each round one of them wins).
const ATTEMPTS: u64 = 8;

#[derive(Debug, thiserror::Error)]
enum UploadError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No such owner, or not the caller's to see.
    #[error("not found")]
    NotFound,
    #[error("the message cannot take the document")]
    Refused(Refused),
    #[error("other uploads to the owner kept changing it")]
    Busy,
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<UploadError> for Response<Body> {
    fn from(e: UploadError) -> Response<Body> {
        let problem = match e {
            UploadError::Idempotent(resp) => return resp,
            UploadError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            UploadError::Forbidden(e) => e.into(),
            UploadError::Invalid(errors) => Problem::invalid_request(errors),
            UploadError::NotFound => Problem::not_found()
                .with_detail("No such record of your organisation to attach a document to."),
            UploadError::Refused(refused) => {
                let (status, slug, title) = match refused {
                    Refused::MessageFull { .. } => (
                        StatusCode::CONFLICT,
                        "message-full",
                        "The message already holds the most documents it may",
                    ),
                    Refused::NoSuchMessage { .. } => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "no-such-message",
                        "No such message to add the document to",
                    ),
                };
                Problem::new(status, slug, title)
                    .with_errors(vec![FieldError::new("message", &refused.invalid())])
            }
            UploadError::Busy => Problem::new(
                StatusCode::CONFLICT,
                "changed-concurrently",
                "Other uploads to this record were in progress",
            )
            .with_detail("Nothing was stored; send the request again.")
            .with_retry_after(1),
            UploadError::Store(StoreError::InvalidInput(_)) => Problem::invalid_request(vec![]),
            UploadError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// The body of `POST /v1/documents` (for the API document; the handler reads
/// it field by field to name every bad one).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct NewDocument {
    /// The record the document belongs to: `{kind, id}`, kind one of
    /// `prior_auth`, `claim`, `dispute`, `intake` (`prior_auth` and `intake`
    /// accept documents so far; the others answer 404 until their jobs exist).
    owner: NewOwner,
    /// The file's name, as the provider sees it (1 to 255 characters).
    #[schema(example = "mri-notes.pdf")]
    file_name: String,
    /// One of the policy's `attachments.content_types` (PDF, TIFF, JPEG, PNG,
    /// DOCX, XLSX, plain text in UTF-8).
    #[schema(example = "application/pdf")]
    content_type: String,
    /// Bytes, 1 to the policy's `attachments.max_bytes` (25 MB by default).
    #[schema(example = 48213)]
    size: u64,
    /// The message to add to: an open message with room, or the next number to
    /// open a follow-up. Without it, the last message while it has room, then a
    /// follow-up.
    #[schema(example = 1)]
    message: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct NewOwner {
    #[schema(example = "prior_auth")]
    kind: String,
    #[schema(example = "PA-7K3Q9M")]
    id: String,
}

/// A validated request.
struct UploadRequest {
    owner: Owner,
    file_name: String,
    document_type: DocumentType,
    size: u64,
    message: Option<u32>,
}

fn file_name(s: &str) -> Result<String, Invalid> {
    let name = free_text(s, MAX_FILE_NAME, true)?;
    if name.contains(['\n', '\r', '\t']) {
        return Err(Invalid::new(
            "invalid_file_name",
            "must be one line without tabs",
        ));
    }
    Ok(name)
}

/// A whole number of bytes within the policy's limits.
fn size(f: &mut Fields<'_>, root: &Map<String, Value>, limits: &AttachmentPolicy) -> Option<u64> {
    let checked = match root.get("size").filter(|v| !v.is_null()) {
        None => Err(Invalid::required()),
        Some(v) => match v.as_u64() {
            Some(n) => limits.check_size(n).map(|()| n),
            None => Err(Invalid::new(
                "invalid_number",
                "must be a whole number of bytes",
            )),
        },
    };
    checked.map_err(|e| f.problem("size", &e)).ok()
}

fn parse(
    root: &Map<String, Value>,
    limits: &AttachmentPolicy,
) -> Result<UploadRequest, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let owner = f.object("owner", |o| {
        let kind = o.required("kind", OwnerKind::parse);
        let id = o.required("id", |s| Ok(s.to_string()));
        o.deny_unknown(&["kind", "id"]);
        match Owner::parse(kind?, &id?) {
            Ok(owner) => Some(owner),
            Err(e) => {
                o.problem("id", &e);
                None
            }
        }
    });
    let file_name = f.required("file_name", file_name);
    let document_type = f.required("content_type", |s| limits.document_type(s));
    let size = size(&mut f, root, limits);
    let message = f.optional_u32("message", 1..=10_000);
    f.deny_unknown(&["owner", "file_name", "content_type", "size", "message"]);
    match (owner, file_name, document_type, size, message) {
        (Some(owner), Some(file_name), Some(document_type), Some(size), Some(message))
            if f.is_valid() =>
        {
            Ok(UploadRequest {
                owner,
                file_name,
                document_type,
                size,
                message,
            })
        }
        _ => Err(f.into_errors()),
    }
}

/// Ask for an upload URL for a document
///
/// Declares a document of a record (a prior auth or an intake item; claims and
/// disputes as their jobs arrive): its type and size are checked against the IPA's
/// attachment policy, it is placed in one of the record's messages (at most
/// `attachments.max_per_message` documents each; later ones open follow-up
/// messages, which the record's history notes), and stored `awaiting_upload`.
/// The answer carries a presigned PUT, valid for 5 minutes, bound to the
/// declared type and length; it creates the object once. When the bytes arrive
/// they are verified, and the document becomes `available` or `rejected` with
/// the reason. Idempotent with `Idempotency-Key`: a replay answers the same
/// document (with a fresh upload URL while it still awaits its upload).
#[utoipa::path(
    post,
    path = "/v1/documents",
    tag = "documents",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters; the same key and body answer the same document for 24 hours")),
    request_body(content = NewDocument),
    responses(
        (status = 201, description = "The document, awaiting its upload, with the presigned PUT", body = DocumentView),
        (status = 400, description = "Invalid fields, every one listed: an unsupported content type, a size of 0 or over the limit, a missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role may not attach documents to this kind of record", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record of the caller's organisation (or of the caller's job, for IPA staff)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The named message is full (`message_full`), or other uploads to the record collided (Retry-After), or the Idempotency-Key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The named message is neither open nor the next; or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "documents.upload",
    skip_all,
    fields(request_id, correlation_id, org, document_id, owner_kind, message)
)]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    let span = Span::current();
    span.record("request_id", info.request_id.as_str());
    span.record("correlation_id", info.correlation_id.as_str());
    match upload(deps, req, &info).await {
        Ok(resp) => resp,
        Err(e) => {
            if let UploadError::Store(store) = &e {
                tracing::error!(error = %store, "document upload slot failed");
            }
            e.into()
        }
    }
}

async fn upload(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Response<Body>, UploadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, USERS)?;
    let limits = &deps.policy.attachments;
    // Every problem with the request at once: the key header and the body's fields.
    let (key, request) =
        idempotency::key_and_body(req, |root| parse(root, limits)).map_err(UploadError::Invalid)?;
    Span::current().record("owner_kind", request.owner.kind.as_str());
    // Staff attach only to the records of their job.
    if scope.is_staff()
        && !request
            .owner
            .kind
            .staff_roles()
            .iter()
            .any(|r| principal.has_role(*r))
    {
        return Err(Forbidden::RoleNotAllowed.into());
    }

    let store = deps.records.as_ref();
    let now = deps.clock.now();
    // The key's lease and the owner with its messages: one round trip. A
    // replayed request discloses nothing read.
    let attempt = Attempt::of(req, &principal, &key);
    let (begun, owner) = tokio::try_join!(
        idempotency::begin(store, &attempt, now),
        documents::owner_with_messages(store, &request.owner),
    )?;
    let ticket = match begun {
        // A replay gets fresh upload URLs, not the expired ones it stored.
        Outcome::Replay(stored) => return replay(deps, &principal, &scope, stored).await,
        other => other.proceed().map_err(UploadError::Idempotent)?,
    };
    let result = place(deps, &principal, &scope, &request, info, &ticket, owner).await;
    if result.is_err() {
        release(store, ticket).await?;
    }
    result
}

/// Gives the key back; a key another attempt took over is theirs, not an error.
async fn release(store: &dyn mso_store::RecordStore, ticket: Ticket) -> Result<(), StoreError> {
    match ticket.release(store).await {
        Err(StoreError::ConditionFailed) => Ok(()),
        other => other,
    }
}

async fn place(
    deps: &Deps,
    principal: &Principal,
    scope: &Scope,
    request: &UploadRequest,
    info: &RequestInfo,
    ticket: &Ticket,
    first_read: Option<(OwnerRecord, Messages)>,
) -> Result<Response<Body>, UploadError> {
    let store = deps.records.as_ref();
    let now = deps.clock.now();
    let actor = actor_of(principal, request.owner.kind);
    // The owner and its messages (one query of the owner's partition), read
    // with the key's lease, serve the first attempt; one after a lost race
    // reads them again.
    let mut first_read = Some(first_read);
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            // Jittered, so the losers of one round do not collide again.
            let ms = fastrand::u64(1..=5 * attempt);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let read = match first_read.take() {
            Some(read) => read,
            None => documents::owner_with_messages(store, &request.owner).await?,
        };
        let (owner, messages) = match read {
            Some((owner, messages))
                if may_see(principal, scope, request.owner.kind, &owner.org) =>
            {
                (owner, messages)
            }
            _ => return Err(UploadError::NotFound),
        };
        let placement = messages::place(
            &messages.live,
            request.message,
            deps.policy.attachments.max_per_message,
        )
        .map_err(UploadError::Refused)?;
        let doc = Document::awaiting(
            mso_api::ids::new_reference(RecordKind::Document),
            request.owner.clone(),
            owner.org.clone(),
            request.file_name.clone(),
            request.document_type,
            request.size,
            placement.message,
            actor.clone(),
            now,
        );
        // Signing is local (no request to S3), so a failed commit below leaves
        // nothing behind: the URL is never handed out.
        let upload = deps
            .documents
            .presign_put(
                &doc.object_key,
                doc.document_type.as_str(),
                doc.size,
                UPLOAD_URL_LIFETIME,
            )
            .await?;
        let mut change =
            Change::created(&doc)?.with([messages.guard(placement.message)], Vec::new());
        if placement.follow_up {
            let note = Note::FollowUpMessage {
                message: placement.message,
            };
            let (ops, events) = owner.noted(&note, actor.clone(), now)?;
            change = change.with(ops, events);
        }
        let change = change.audited(principal, "document.upload_requested", &doc, info, now)?;
        let view = DocumentView::of(&doc).with_upload(&upload);
        let stored = StoredResponse {
            status: 201,
            content_type: "application/json".into(),
            body: serde_json::to_string(&view).unwrap_or_default(),
        };
        match change
            .commit(deps.ports(), Some(ticket.completion(&stored, now)))
            .await
        {
            Ok(()) => {
                let span = Span::current();
                span.record("document_id", doc.id.as_str());
                span.record("message", placement.message);
                return Ok(json_response(StatusCode::CREATED, &view));
            }
            // Another upload to the owner, a change of the owner, or (about
            // one in a trillion) a taken ID: read again and place again.
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(UploadError::Busy)
}

/// The answer to a retried request: the same document as it is now, with a
/// fresh upload URL while it still awaits its upload (the first URL may have
/// expired; every URL only creates the object once, so two are harmless).
async fn replay(
    deps: &Deps,
    principal: &Principal,
    scope: &Scope,
    stored: StoredResponse,
) -> Result<Response<Body>, UploadError> {
    let id = (stored.status == 201)
        .then(|| serde_json::from_str::<Value>(&stored.body).ok())
        .flatten()
        .and_then(|v| v["id"].as_str().and_then(documents::parse_id));
    let Some(id) = id else {
        return Ok(stored.into_replay());
    };
    let doc = match documents::load(deps.records.as_ref(), &id).await? {
        Some(doc) if may_see(principal, scope, doc.value.0.owner.kind, &doc.value.0.org) => {
            doc.value.0
        }
        _ => return Ok(stored.into_replay()),
    };
    let mut view = DocumentView::of(&doc);
    if doc.status == DocumentStatus::AwaitingUpload {
        let upload = deps
            .documents
            .presign_put(
                &doc.object_key,
                doc.document_type.as_str(),
                doc.size,
                UPLOAD_URL_LIFETIME,
            )
            .await?;
        view = view.with_upload(&upload);
    }
    let mut resp = json_response(StatusCode::CREATED, &view);
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}

/// Who asked: subject, organisation and the role that let them attach to an
/// owner of `kind` (a provider role, or the kind's staff role).
fn actor_of(p: &Principal, kind: OwnerKind) -> Actor {
    let role = p
        .roles
        .iter()
        .find(|r| !r.is_staff() || kind.staff_roles().contains(r))
        .or(p.roles.first())
        .map_or(Role::ProviderUser.as_str(), |r| r.as_str());
    Actor {
        subject: p.subject.clone(),
        org: p.org.to_string(),
        role: role.to_string(),
    }
}
