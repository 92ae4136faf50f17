//! The document as the API shows it. Field names are the public contract.

use std::collections::BTreeMap;

use jiff::Timestamp;
use mso_records::documents::{Document, RejectionNote};
use mso_store::PresignedRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentView {
    #[schema(example = "DOC-7K3Q9M2P4X")]
    pub id: String,
    /// `awaiting_upload`, `available` or `rejected`.
    #[schema(example = "awaiting_upload")]
    pub status: String,
    pub owner: OwnerView,
    /// As the provider named it.
    #[schema(example = "mri-notes.pdf")]
    pub file_name: String,
    /// The declared type, canonical (what the upload must send as `Content-Type`).
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// The declared size in bytes (what the upload must send).
    pub size: u64,
    /// The owner's message it travels in, from 1 (at most
    /// `attachments.max_per_message` documents each).
    pub message: u32,
    /// Why it was rejected (`rejected` only).
    pub rejection: Option<RejectionNote>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When verification decided.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<Timestamp>,
    /// The role of who asked for the upload.
    #[schema(example = "provider_user")]
    pub uploaded_by: String,
    /// Where to send the bytes (`awaiting_upload`, in the answer to the POST).
    pub upload: Option<UploadView>,
    /// Where to fetch the bytes (`available`, in `GET /v1/documents/{id}`).
    pub download: Option<DownloadView>,
}

/// The record a document belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OwnerView {
    /// `prior_auth`, `claim`, `dispute` or `intake`.
    #[schema(example = "prior_auth")]
    pub kind: String,
    #[schema(example = "PA-7K3Q9M")]
    pub id: String,
}

/// A presigned upload: send exactly these headers and the declared number of
/// bytes, before `expires_at`. The URL creates the object once; a second PUT
/// is refused (412).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadView {
    pub url: String,
    #[schema(example = "PUT")]
    pub method: String,
    /// Header name (lower case) to value: `content-type`, `content-length`,
    /// `if-none-match`.
    pub headers: BTreeMap<String, String>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// A presigned download, always an attachment and never cached.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DownloadView {
    pub url: String,
    #[schema(example = "GET")]
    pub method: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

fn expiry(request: &PresignedRequest) -> Timestamp {
    Timestamp::from_second(request.expires_at).unwrap_or(Timestamp::MAX)
}

impl DocumentView {
    pub fn of(doc: &Document) -> DocumentView {
        DocumentView {
            id: doc.id.to_string(),
            status: doc.status.as_str().to_string(),
            owner: OwnerView {
                kind: doc.owner.kind.as_str().to_string(),
                id: doc.owner.id.to_string(),
            },
            file_name: doc.file_name.clone(),
            content_type: doc.document_type.as_str().to_string(),
            size: doc.size,
            message: doc.message,
            rejection: doc.rejection.clone(),
            created_at: doc.created_at,
            checked_at: doc.checked_at,
            uploaded_by: doc.uploaded_by.role.clone(),
            upload: None,
            download: None,
        }
    }

    pub fn with_upload(mut self, request: &PresignedRequest) -> DocumentView {
        self.upload = Some(UploadView {
            url: request.url.clone(),
            method: request.method.as_str().to_string(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
                .collect(),
            expires_at: expiry(request),
        });
        self
    }

    pub fn with_download(mut self, request: &PresignedRequest) -> DocumentView {
        self.download = Some(DownloadView {
            url: request.url.clone(),
            method: request.method.as_str().to_string(),
            expires_at: expiry(request),
        });
        self
    }
}
