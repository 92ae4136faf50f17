//! `POST /v1/claim-files` and `GET /v1/claim-files/{id}`: X12 837 files through
//! the API, and the acknowledgements of every file (the API's and the
//! clearinghouses' drops alike).
//!
//! A posted file is stored in the claims bucket under an ID derived from its
//! organisation and content (the same file posted twice is one file); the
//! bucket's ObjectCreated event reads it ([`crate::intake`]), as it reads the
//! files clearinghouses drop. The 999 is written when the file is read; the
//! 277CA once every claim of it has been judged, from the claims' own rows.

use std::collections::HashMap;

use bytes::Bytes;
use jiff::Timestamp;
use lambda_http::http::{StatusCode, header};
use mso_api::aggregate::{self, Aggregate, Stored};
use mso_api::audit::{self, AuditEvent};
use mso_api::idempotency::{self, Attempt, IdempotencyKey, StoredResponse};
use mso_api::paging;
use mso_api::{
    AuthError, Body, FieldError, Forbidden, Principal, Problem, Request, RequestInfo, Response,
    Scope, json_response,
};
use mso_domain::Invalid;
use mso_domain::claims::Status;
use mso_domain::ids::{OrgId, RecordKind, ReferenceId};
use mso_domain::prior_auth::Actor;
use mso_records::claims::FileRow;
use mso_store::{Condition, Key, Query, Record, RecordStore, StoreError, WriteOp, keys};
use mso_x12::ack277::{Ack277, Decision};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::{Span, instrument};
use utoipa::ToSchema;

use crate::intake::{self, FileClaims};
use crate::submit::actor_of;
use crate::{Deps, MAX_FILE_BYTES, READERS, SUBMITTERS};

/// Where a file stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Stored; not read yet.
    Received,
    /// Read (the 999 is out); its claims' edits are running.
    Processing,
    /// Every claim is judged: the 277CA is complete.
    Acknowledged,
    /// The 999 rejected every transaction set: no claim was taken.
    Rejected,
}

/// A claim file as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: ReferenceId,
    /// The organisation that posted it; `None` for a clearinghouse's drop
    /// (its claims belong to their billing providers' organisations).
    pub org: Option<OrgId>,
    pub submitted_by: Option<Actor>,
    pub object_key: String,
    pub size: u64,
    pub received_at: Timestamp,
    pub status: FileStatus,
    /// Claims taken from it (stored, each with its row in the file's partition).
    pub claims: u32,
    /// Transaction sets that are not 5010 837s.
    pub not_claims: u32,
}

impl Aggregate for FileRecord {
    fn key(&self) -> Key {
        keys::claim_file(self.id.as_str())
    }

    fn views(&self) -> Vec<Record> {
        Vec::new()
    }
}

impl FileRecord {
    pub fn new(
        id: ReferenceId,
        org: Option<OrgId>,
        submitted_by: Option<Actor>,
        object_key: String,
        size: u64,
        received_at: Timestamp,
    ) -> FileRecord {
        FileRecord {
            id,
            org,
            submitted_by,
            object_key,
            size,
            received_at,
            status: FileStatus::Received,
            claims: 0,
            not_claims: 0,
        }
    }
}

pub async fn load(
    store: &dyn RecordStore,
    id: &ReferenceId,
) -> Result<Option<Stored<FileRecord>>, StoreError> {
    aggregate::load(store, &keys::claim_file(id.as_str())).await
}

/// The ID of a file: a hash of who sent it (`origin`) and its bytes.
pub fn file_id(origin: &str, digest: &[u8; 32]) -> ReferenceId {
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update([0]);
    h.update(digest);
    let id: [u8; 32] = h.finalize().into();
    ReferenceId::from_entropy(RecordKind::ClaimFile, &id)
        .unwrap_or_else(|| unreachable!("32 bytes of entropy"))
}

pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A file and its acknowledgements.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FileView {
    #[schema(example = "CF-7K3Q9M2P4X")]
    pub id: String,
    /// `received` (not read yet), `processing` (claims in their edits),
    /// `acknowledged` (the 277CA is complete), `rejected` (the 999 took no set).
    #[schema(example = "acknowledged")]
    pub status: FileStatus,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    pub size: u64,
    pub counts: FileCounts,
    /// The 999 implementation acknowledgment, as X12 text.
    pub ack_999: Option<String>,
    /// The same, as JSON (each interchange's groups, sets, segment errors).
    #[schema(value_type = Option<Object>)]
    pub ack_999_json: Option<serde_json::Value>,
    /// The 277CA claim acknowledgment (one `TRN*2` per claim, accepted or
    /// rejected with the reason), as X12 text, once every claim is judged.
    pub ack_277ca: Option<String>,
    /// The same, as JSON.
    #[schema(value_type = Option<Object>)]
    pub ack_277ca_json: Option<serde_json::Value>,
}

/// How many claims of the file stand where.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct FileCounts {
    pub claims: u32,
    /// Still in their edits.
    pub received: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub pended: u32,
    /// Accepted, then replaced or voided by a later claim.
    pub superseded: u32,
    /// Transaction sets that are not 5010 837s (999-rejected).
    pub not_claims: u32,
}

#[derive(Debug, thiserror::Error)]
enum FileError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("not an X12 media type")]
    MediaType,
    #[error("too large")]
    TooLarge,
    #[error("not found")]
    NotFound,
    #[error("answered by the idempotency record")]
    Idempotent(Response<Body>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<FileError> for Response<Body> {
    fn from(e: FileError) -> Response<Body> {
        let problem = match e {
            FileError::Idempotent(resp) => return resp,
            FileError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            FileError::Forbidden(e) => e.into(),
            FileError::Invalid(errors) => Problem::invalid_request(errors),
            FileError::MediaType => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send the file with Content-Type: application/edi-x12",
            ),
            FileError::TooLarge => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "file-too-large",
                "The file is larger than 10 MB",
            )
            .with_detail("Split it, or have your clearinghouse drop it in the claims bucket."),
            FileError::NotFound => Problem::not_found(),
            FileError::Store(_) => Problem::unavailable(),
        };
        problem.into_response()
    }
}

/// Submit an X12 837 file
///
/// The body is the file (005010X222 professional or 005010X223 institutional;
/// any delimiters, several interchanges allowed), at most 10 MB. The same file
/// from the same organisation is one file whatever the Idempotency-Key: the
/// answer names the first one. Its 999 and 277CA are at
/// `GET /v1/claim-files/{id}`. A claim whose provider is not of the caller's
/// organisation is rejected in the 277CA, not the file.
#[utoipa::path(
    post,
    path = "/v1/claim-files",
    tag = "claims",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required. 1 to 255 printable characters")),
    request_body(content = String, content_type = "application/edi-x12", description = "The X12 837 file, at most 10 MB (10,485,760 bytes)"),
    responses(
        (status = 202, description = "Stored; it is being read", body = FileView),
        (status = 400, description = "Empty, not an X12 file, or no Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a provider role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is still in progress (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 10 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as application/edi-x12", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used with another file", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "claims.file_post",
    skip_all,
    fields(request_id, org, file_id, size)
)]
pub(crate) async fn post(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match post_file(deps, req, &info).await {
        Ok(resp) => resp,
        Err(e) => {
            if let FileError::Store(store) = &e {
                tracing::error!(error = %store, "claim file post failed");
            }
            e.into()
        }
    }
}

async fn post_file(
    deps: &Deps,
    req: &Request,
    info: &RequestInfo,
) -> Result<Response<Body>, FileError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    principal.authorize(&deps.policy.ipa.id, SUBMITTERS)?;
    let x12_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/edi-x12"));
    if !x12_type {
        return Err(FileError::MediaType);
    }
    let body: &[u8] = req.body().as_ref();
    if body.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge);
    }
    let mut errors = Vec::new();
    let key = IdempotencyKey::of(req).map_err(|e| errors.push(e)).ok();
    if let Err(invalid) = looks_like_x12(body) {
        errors.push(FieldError::new("body", &invalid));
    }
    let Some(key) = key.filter(|_| errors.is_empty()) else {
        return Err(FileError::Invalid(errors));
    };

    let store = deps.records.as_ref();
    let now = deps.clock.now();
    let ticket = idempotency::begin(store, &Attempt::of(req, &principal, &key), now)
        .await?
        .proceed()
        .map_err(FileError::Idempotent)?;
    let id = file_id(&format!("api:{}", principal.org), &digest(body));
    Span::current().record("file_id", id.as_str());
    Span::current().record("size", body.len());
    let result = store_file(deps, &principal, &id, body, now).await;
    let file = match result {
        Ok(file) => file,
        Err(e) => {
            ticket.release(store).await?;
            return Err(e.into());
        }
    };
    let view = FileView::of(&file, FileCounts::default());
    let stored = StoredResponse {
        status: 202,
        content_type: "application/json".into(),
        body: serde_json::to_string(&view).unwrap_or_default(),
    };
    let audit = audit::write_op(&AuditEvent {
        actor: &principal,
        action: "claims.file_post",
        purpose: "payment",
        subject_type: "claim_file",
        subject_id: id.as_str(),
        outcome: "received",
        request_id: &info.request_id,
        at: now,
    })?;
    store
        .transact(vec![audit, ticket.completion(&stored, now)])
        .await?;
    Ok(json_response(StatusCode::ACCEPTED, &view))
}

/// Stores the file's record, then its object (whose ObjectCreated event reads
/// it: the record must exist before the event can arrive). A file already
/// posted is answered as it stands; while it is unread its object is put again,
/// in case a failure left it out. The ID is the body's digest, so that puts the
/// same bytes, and the event it raises finds the file read or reads it once
/// more. Asking S3 first would not do: the role may not list the bucket, so S3
/// answers a missing object with 403, not 404.
async fn store_file(
    deps: &Deps,
    principal: &Principal,
    id: &ReferenceId,
    body: &[u8],
    now: Timestamp,
) -> Result<FileRecord, StoreError> {
    let store = deps.records.as_ref();
    let object_key = keys::claim_file_object(id.as_str());
    let file = FileRecord::new(
        id.clone(),
        Some(principal.org.clone()),
        Some(actor_of(principal)),
        object_key.clone(),
        body.len() as u64,
        now,
    );
    let file = match store
        .put(Record::new(file.key(), to_value(&file)?), Condition::Absent)
        .await
    {
        Ok(()) => file,
        Err(StoreError::ConditionFailed) => match load(store, id).await? {
            Some(existing) => existing.value,
            None => return Err(StoreError::ConditionFailed),
        },
        Err(e) => return Err(e),
    };
    if file.status == FileStatus::Received {
        deps.files
            .put(
                &object_key,
                "application/edi-x12",
                Bytes::copy_from_slice(body),
            )
            .await?;
    }
    Ok(file)
}

fn to_value<T: Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::backend("serialising a claim file", e))
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::backend("serialising an acknowledgement", e))
}

/// The names of a file's acknowledgements in the bucket.
pub(crate) const ACK_999_X12: &str = "999.x12";
pub(crate) const ACK_999_JSON: &str = "999.json";
const ACK_277_X12: &str = "277ca.x12";
const ACK_277_JSON: &str = "277ca.json";

/// Keeps an acknowledgement of file `id` in the bucket.
pub(crate) async fn put_ack(
    deps: &Deps,
    id: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(), StoreError> {
    deps.files
        .put(
            &keys::claim_ack_object(id, name),
            ack_content_type(name),
            Bytes::from(bytes),
        )
        .await
}

fn ack_content_type(name: &str) -> &'static str {
    if name.ends_with(".json") {
        "application/json"
    } else {
        "application/edi-x12"
    }
}

/// Keeps an acknowledgement of file `id` in the bucket unless it has one
/// already, which stays as it was: false then.
pub(crate) async fn put_ack_if_absent(
    deps: &Deps,
    id: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<bool, StoreError> {
    deps.files
        .put_if_absent(
            &keys::claim_ack_object(id, name),
            ack_content_type(name),
            Bytes::from(bytes),
        )
        .await
}

/// An acknowledgement of file `id`, if the file has it yet (`has`).
async fn get_ack_if(
    has: bool,
    deps: &Deps,
    id: &str,
    name: &str,
) -> Result<Option<Bytes>, StoreError> {
    if !has {
        return Ok(None);
    }
    Ok(deps
        .files
        .get(&keys::claim_ack_object(id, name))
        .await?
        .map(|(_, bytes)| bytes))
}

/// An X12 file starts with an ISA (or, for a bare group or set, GS or ST),
/// after any byte-order mark and white space.
fn looks_like_x12(body: &[u8]) -> Result<(), Invalid> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &body[i..]);
    if start.is_empty() {
        return Err(Invalid::new("required", "the file is empty"));
    }
    let segment = |id: &[u8]| {
        start.starts_with(id)
            && start
                .get(id.len())
                .is_some_and(|b| !b.is_ascii_alphanumeric() && !b.is_ascii_whitespace())
    };
    if segment(b"ISA") || segment(b"GS") || segment(b"ST") {
        Ok(())
    } else {
        Err(Invalid::new(
            "not_x12",
            "is not an X12 file: it must start with an ISA segment",
        ))
    }
}

/// A claim file and its acknowledgements
///
/// The 999 as soon as the file is read; counts of its claims by status; the
/// 277CA once every claim is judged (`status: acknowledged`). A provider sees
/// its organisation's files; a clearinghouse's drop is for the IPA's staff.
#[utoipa::path(
    get,
    path = "/v1/claim-files/{id}",
    tag = "claims",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The file ID (CF-7K3Q9M2P4X)")),
    responses(
        (status = 200, description = "The file", body = FileView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read claims", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(name = "claims.file_read", skip_all, fields(request_id, org, file_id))]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match get_file(deps, req, &info).await {
        Ok(view) => json_response(StatusCode::OK, &view),
        Err(e) => {
            if let FileError::Store(store) = &e {
                tracing::error!(error = %store, "claim file read failed");
            }
            e.into()
        }
    }
}

async fn get_file(deps: &Deps, req: &Request, info: &RequestInfo) -> Result<FileView, FileError> {
    use lambda_http::RequestExt;
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, READERS)?;
    let id = req
        .path_parameters_ref()
        .and_then(|p| p.first("id"))
        .and_then(|raw| ReferenceId::parse_kind(RecordKind::ClaimFile, raw).ok())
        .ok_or(FileError::NotFound)?;
    Span::current().record("file_id", id.as_str());
    let store = deps.records.as_ref();
    let stored = load(store, &id).await?.ok_or(FileError::NotFound)?;
    let visible = match (&scope, &stored.value.org) {
        (Scope::Ipa, _) => true,
        (Scope::Organisation(own), Some(org)) => own == org,
        (Scope::Organisation(_), None) => false,
    };
    if !visible {
        return Err(FileError::NotFound);
    }
    let (counts, rows) = claim_rows(store, &stored.value).await?;
    let file = acknowledge(deps, stored, &counts, &rows).await?;
    let audit = AuditEvent {
        actor: &principal,
        action: "claims.file_read",
        purpose: "payment",
        subject_type: "claim_file",
        subject_id: id.as_str(),
        outcome: status_word(file.status),
        request_id: &info.request_id,
        at: deps.clock.now(),
    };
    // The acknowledgements the file has so far (the 999 once read, the 277CA
    // once acknowledged), read together.
    let read = file.status != FileStatus::Received;
    let acknowledged = file.status == FileStatus::Acknowledged;
    let id = file.id.as_str();
    let acks = async {
        tokio::try_join!(
            get_ack_if(read, deps, id, ACK_999_X12),
            get_ack_if(read, deps, id, ACK_999_JSON),
            get_ack_if(acknowledged, deps, id, ACK_277_X12),
            get_ack_if(acknowledged, deps, id, ACK_277_JSON),
        )
    };
    let (ack_999, ack_999_json, ack_277ca, ack_277ca_json) =
        audit::record_alongside(store, &audit, acks).await?;
    let text = |b: Bytes| String::from_utf8_lossy(&b).into_owned();
    let json = |b: Bytes| serde_json::from_slice(&b).ok();
    let mut view = FileView::of(&file, counts);
    view.ack_999 = ack_999.map(text);
    view.ack_999_json = ack_999_json.and_then(json);
    view.ack_277ca = ack_277ca.map(text);
    view.ack_277ca_json = ack_277ca_json.and_then(json);
    Ok(view)
}

fn status_word(s: FileStatus) -> &'static str {
    match s {
        FileStatus::Received => "received",
        FileStatus::Processing => "processing",
        FileStatus::Acknowledged => "acknowledged",
        FileStatus::Rejected => "rejected",
    }
}

/// The file's claim rows, by claim ID, and their counts.
async fn claim_rows(
    store: &dyn RecordStore,
    file: &FileRecord,
) -> Result<(FileCounts, HashMap<String, FileRow>), StoreError> {
    let mut counts = FileCounts {
        not_claims: file.not_claims,
        ..FileCounts::default()
    };
    let mut rows = HashMap::new();
    if file.status == FileStatus::Received {
        return Ok((counts, rows));
    }
    let query = Query::primary(
        keys::claim_file_partition(file.id.as_str()),
        keys::CLAIM_FILE_ROW_PREFIX,
    );
    let all = paging::read_all(store, query, |r| r.body.decode::<FileRow>().ok()).await?;
    for row in all {
        counts.claims += 1;
        match row.status {
            Status::Received => counts.received += 1,
            Status::Accepted => counts.accepted += 1,
            Status::Rejected => counts.rejected += 1,
            Status::Pended => counts.pended += 1,
            Status::Replaced | Status::Voided => counts.superseded += 1,
        }
        rows.insert(row.claim_id.clone(), row);
    }
    Ok((counts, rows))
}

/// Once every claim of a read file is judged, writes its 277CA (once: later
/// reads find it kept).
async fn acknowledge(
    deps: &Deps,
    stored: Stored<FileRecord>,
    counts: &FileCounts,
    rows: &HashMap<String, FileRow>,
) -> Result<FileRecord, StoreError> {
    let complete = stored.value.status == FileStatus::Processing
        && counts.received == 0
        && counts.claims == stored.value.claims;
    if !complete {
        return Ok(stored.value);
    }
    let Some((_, bytes)) = deps.files.get(&stored.value.object_key).await? else {
        return Ok(stored.value);
    };
    let ack = ack_277(deps, &stored.value, &bytes, rows);
    let id = stored.value.id.as_str();
    // Both forms of the acknowledgement: two objects, one round trip.
    tokio::try_join!(
        put_ack(deps, id, ACK_277_X12, ack.to_x12().into_bytes()),
        put_ack(deps, id, ACK_277_JSON, to_json(&ack)?),
    )?;
    let mut file = stored.value.clone();
    file.status = FileStatus::Acknowledged;
    let ops = aggregate::update(&stored, &file)?;
    match deps.records.transact(ops).await {
        // Another reader kept it first: the same acknowledgement.
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(file),
        Err(e) => Err(e),
    }
}

/// The 277CA: every claim taken from the file, in file order, with its decision.
fn ack_277(
    deps: &Deps,
    file: &FileRecord,
    bytes: &[u8],
    rows: &HashMap<String, FileRow>,
) -> Ack277 {
    let mut builder = None;
    intake::claims_of_file(bytes, &digest(bytes), |taken| {
        let FileClaims { id, claim, .. } = taken;
        let Some(row) = rows.get(id.as_str()) else {
            return;
        };
        let b = builder.get_or_insert_with(|| intake::ack_builder(deps, file, &claim));
        let decision = match row.status {
            Status::Rejected => row.rejections.first().map_or_else(
                || Decision::rejected("21"),
                |e| {
                    let (category, code, entity) = e.claim_status();
                    Decision::Rejected {
                        category: category.into(),
                        code: code.into(),
                        entity: entity.map(Into::into),
                    }
                },
            ),
            _ => Decision::Accepted {
                category: "A2".into(),
                code: "20".into(),
            },
        };
        let accepted = decision.is_accepted();
        b.claim(&claim, decision);
        if accepted {
            b.payer_claim_number(id.as_str());
        }
    });
    match builder {
        Some(b) => b.build(),
        None => intake::empty_ack(deps, file),
    }
}

impl FileView {
    fn of(file: &FileRecord, counts: FileCounts) -> FileView {
        FileView {
            id: file.id.to_string(),
            status: file.status,
            received_at: file.received_at,
            size: file.size,
            counts,
            ack_999: None,
            ack_999_json: None,
            ack_277ca: None,
            ack_277ca_json: None,
        }
    }
}

/// The first write of a file record (for [`crate::intake`]'s drops).
pub(crate) fn create_op(file: &FileRecord) -> Result<WriteOp, StoreError> {
    Ok(WriteOp::Put {
        record: Record::new(file.key(), to_value(file)?),
        condition: Condition::Absent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x12_is_told_from_other_bodies() {
        assert!(looks_like_x12(b"ISA*00*").is_ok());
        assert!(looks_like_x12(b"\xEF\xBB\xBF\r\n  ISA|00|").is_ok());
        assert!(looks_like_x12(b"GS*HC*").is_ok());
        assert_eq!(looks_like_x12(b"").unwrap_err().code, "required");
        assert_eq!(looks_like_x12(b" \n ").unwrap_err().code, "required");
        for other in [
            &b"{\"claims\": []}"[..],
            b"%PDF-1.7",
            b"ISAAC",
            b"STATEMENT",
        ] {
            assert_eq!(looks_like_x12(other).unwrap_err().code, "not_x12");
        }
    }

    #[test]
    fn the_same_bytes_from_the_same_origin_are_one_file() {
        let d = digest(b"ISA*...");
        assert_eq!(file_id("api:a", &d), file_id("api:a", &d));
        assert_ne!(file_id("api:a", &d), file_id("api:b", &d));
        assert_ne!(file_id("api:a", &d), file_id("api:a", &digest(b"ISA*..!")));
        assert!(file_id("api:a", &d).as_str().starts_with("CF-"));
    }
}
