use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::StoreError;

/// What the store knows of an object without reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub content_type: Option<String>,
}

/// A short-lived request a client can make without credentials. For a PUT, the
/// client must send exactly `headers` (content type and length are bound into the
/// signature, so a different type or size is refused, and `If-None-Match: *`, so
/// the URL only creates: a second PUT while it is still valid is refused with 412
/// and cannot replace bytes that were already checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedRequest {
    pub method: http::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The `Content-Disposition` of every presigned download: always an attachment,
/// so an uploaded HTML or SVG file never renders in a browser, named after the
/// key's last segment (keys carry no PHI) reduced to safe characters.
pub fn attachment_disposition(key: &str) -> String {
    let name: String = key
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let name = if name.is_empty() { "download" } else { &name };
    format!("attachment; filename=\"{name}\"")
}

/// One bucket of objects.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), StoreError>;

    /// Writes the object only if none exists under `key` (S3's conditional
    /// write): true if it was written, false if an object was there, which is
    /// left as it was. For objects a record names once written, which a late
    /// or repeated writer must not replace.
    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<bool, StoreError>;

    async fn get(&self, key: &str) -> Result<Option<(ObjectMeta, Bytes)>, StoreError>;

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError>;

    /// Deleting an absent object is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// An upload URL for a new object: bound to `content_type` and
    /// `content_length`, and refused (412) once an object exists under `key`.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError>;

    /// A download URL. The response is never cached (`Cache-Control: no-store`)
    /// and is an attachment ([`attachment_disposition`]), whatever the object is.
    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError>;
}
