//! `GET /v1/documents/{id}`: the document and, when available, a download URL.

use lambda_http::RequestExt;
use lambda_http::http::StatusCode;
use mso_api::audit::{self, AuditEvent};
use mso_api::{
    AuthError, Body, Forbidden, Principal, Problem, Request, RequestInfo, Response, json_response,
};
use mso_records::documents::{self, DocumentStatus};
use mso_store::StoreError;
use tracing::{Span, instrument};

use crate::view::DocumentView;
use crate::{DOWNLOAD_URL_LIFETIME, Deps, USERS, may_see};

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("not found")]
    NotFound,
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<ReadError> for Problem {
    fn from(e: ReadError) -> Problem {
        match e {
            ReadError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            ReadError::Forbidden(e) => e.into(),
            ReadError::NotFound => Problem::not_found(),
            ReadError::Store(_) => Problem::unavailable(),
        }
    }
}

/// A document, with a download URL when available
///
/// The document's metadata and status (`awaiting_upload`, `available`, or
/// `rejected` with the reason). When it is available the answer carries a
/// presigned GET valid for 5 minutes: always a download (an attachment named
/// after the document's ID), never cached. Every answer, and so every download
/// URL issued, is in the PHI audit trail (who, which document, when). The
/// owner's organisation and the IPA staff of the owner's job may read it;
/// anyone else is answered 404.
#[utoipa::path(
    get,
    path = "/v1/documents/{id}",
    tag = "documents",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The document's reference ID (DOC-...)")),
    responses(
        (status = 200, description = "The document; `download` when it is available", body = DocumentView),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role may not read documents", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document of the caller's organisation (or of the caller's job, for IPA staff)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable (no URL is issued unaudited)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "documents.read",
    skip_all,
    fields(request_id, org, document_id, status)
)]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    Span::current().record("request_id", info.request_id.as_str());
    match read(deps, req, &info).await {
        Ok(view) => json_response(StatusCode::OK, &view),
        Err(e) => {
            if let ReadError::Store(store) = &e {
                tracing::error!(error = %store, "document read failed");
            }
            Problem::from(e).into_response()
        }
    }
}

async fn read(deps: &Deps, req: &Request, info: &RequestInfo) -> Result<DocumentView, ReadError> {
    let principal = Principal::from_request(req)?;
    Span::current().record("org", principal.org.as_str());
    let scope = principal.authorize(&deps.policy.ipa.id, USERS)?;
    let id = req
        .path_parameters_ref()
        .and_then(|p| p.first("id"))
        .and_then(documents::parse_id)
        .ok_or(ReadError::NotFound)?;
    let store = deps.records.as_ref();
    let doc = match documents::load(store, &id).await? {
        Some(stored)
            if may_see(
                &principal,
                &scope,
                stored.value.0.owner.kind,
                &stored.value.0.org,
            ) =>
        {
            stored.value.0
        }
        _ => return Err(ReadError::NotFound),
    };
    let mut view = DocumentView::of(&doc);
    let action = if doc.status == DocumentStatus::Available {
        let download = deps
            .documents
            .presign_get(&doc.object_key, DOWNLOAD_URL_LIFETIME)
            .await?;
        view = view.with_download(&download);
        "document.download_url"
    } else {
        "document.read"
    };
    // Recorded before the URL leaves: no download URL is ever issued unaudited.
    audit::record(
        store,
        &AuditEvent {
            actor: &principal,
            action,
            purpose: doc.owner.kind.purpose(),
            subject_type: "document",
            subject_id: doc.id.as_str(),
            outcome: doc.status.as_str(),
            request_id: &info.request_id,
            at: deps.clock.now(),
        },
    )
    .await?;
    let span = Span::current();
    span.record("document_id", doc.id.as_str());
    span.record("status", doc.status.as_str());
    Ok(view)
}
