//! `DocumentStore` over a directory: object `a/b.pdf` is the file
//! `objects/a/b.pdf`; its content type is kept in the redb table `objects`.
//!
//! A put writes and fsyncs a staging file outside the writer thread, then the
//! writer renames it into place and records the content type in the same job, so
//! concurrent puts of one key leave file and content type from the same put.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::presign::{self, Grant, PRESIGNED_PATH_PREFIX, Signer};
use super::tables::OBJECTS;
use super::writer::JobError;
use super::{Core, ObjectDirs, db_error};
use crate::{DocumentStore, ObjectMeta, PresignedRequest, StoreError};

/// S3's key length limit.
const MAX_KEY_BYTES: usize = 1024;

pub struct EmbeddedDocumentStore {
    core: Arc<Core>,
    dirs: ObjectDirs,
    base_url: String,
    signer: Signer,
}

/// A presigned request that passed every check but the body's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedAccess {
    key: String,
    /// For a PUT: the signed content type and length.
    put: Option<(String, u64)>,
}

impl PresignedOutcome {
    /// The headers of the answer to a presigned GET, as S3's response overrides
    /// give them: never cached, never sniffed, always a download.
    pub fn download_headers(meta: &ObjectMeta) -> Vec<(&'static str, String)> {
        vec![
            (
                "content-type",
                meta.content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".to_string()),
            ),
            ("cache-control", "no-store".to_string()),
            ("x-content-type-options", "nosniff".to_string()),
            (
                "content-disposition",
                crate::attachment_disposition(&meta.key),
            ),
        ]
    }
}

impl PresignedAccess {
    /// The most body bytes to read: the signed length for a PUT, none for a GET.
    pub fn body_limit(&self) -> u64 {
        self.put.as_ref().map_or(0, |(_, length)| *length)
    }

    pub fn is_put(&self) -> bool {
        self.put.is_some()
    }
}

/// What a presigned request did; the local server turns it into a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PresignedOutcome {
    /// A PUT stored the object (the server then fires the ObjectCreated event).
    Stored(ObjectMeta),
    /// A GET found the object.
    Found(ObjectMeta, Bytes),
    /// A GET of an object that does not exist (404).
    NotFound,
}

impl EmbeddedDocumentStore {
    pub(super) fn new(core: Arc<Core>, dirs: ObjectDirs, base_url: String, signer: Signer) -> Self {
        let base_url = base_url.trim_end_matches('/').to_string();
        EmbeddedDocumentStore {
            core,
            dirs,
            base_url,
            signer,
        }
    }

    /// Where presigned requests must arrive, relative to the base URL.
    pub const PRESIGNED_PATH_PREFIX: &'static str = PRESIGNED_PATH_PREFIX;

    /// Serves one request to a presigned URL whose body is already read:
    /// [`Self::authorize_presigned`], then [`Self::complete_presigned`]. A server
    /// should call the two itself, so it reads no body before the signature holds.
    pub async fn serve_presigned(
        &self,
        method: &http::Method,
        path_and_query: &str,
        headers: &http::HeaderMap,
        body: Bytes,
        now_unix: i64,
    ) -> Result<PresignedOutcome, StoreError> {
        let access = self.authorize_presigned(method, path_and_query, headers, now_unix)?;
        self.complete_presigned(access, body).await
    }

    /// Checks everything about a presigned request that does not need its body:
    /// the signature (constant time), expiry, method, and for a PUT that the
    /// `Content-Type` header is exactly the signed one and any `Content-Length`
    /// header the signed length. Refusals are [`StoreError::PresignRefused`]
    /// (answer 403). On success the caller reads at most
    /// [`PresignedAccess::body_limit`] bytes of body and completes the request.
    pub fn authorize_presigned(
        &self,
        method: &http::Method,
        path_and_query: &str,
        headers: &http::HeaderMap,
        now_unix: i64,
    ) -> Result<PresignedAccess, StoreError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let encoded_key = path
            .strip_prefix(PRESIGNED_PATH_PREFIX)
            .ok_or(StoreError::PresignRefused("not an object URL"))?;
        let key = presign::decode(encoded_key, false)
            .ok_or(StoreError::PresignRefused("malformed object key"))?;
        validate_key(&key).map_err(|_| StoreError::PresignRefused("invalid object key"))?;
        let params = presign::parse_query(query)?;
        let (Some(signed_method), Some(expires), Some(signature)) =
            (params.method, params.expires, params.signature)
        else {
            return Err(StoreError::PresignRefused("missing signature parameters"));
        };
        let expires: i64 = expires
            .parse()
            .map_err(|_| StoreError::PresignRefused("malformed expiry"))?;
        let content_length = match params.content_length.as_deref().map(str::parse::<u64>) {
            None => None,
            Some(Ok(length)) => Some(length),
            Some(Err(_)) => return Err(StoreError::PresignRefused("malformed content length")),
        };
        let content = match (params.content_type.as_deref(), content_length) {
            (Some(content_type), Some(length)) => Some((content_type, length)),
            (None, None) => None,
            _ => return Err(StoreError::PresignRefused("missing signature parameters")),
        };
        let grant = Grant {
            method: &signed_method,
            key: &key,
            expires,
            content,
        };
        if !self.signer.verify(&grant, &signature) {
            return Err(StoreError::PresignRefused("signature does not match"));
        }
        if now_unix > expires {
            return Err(StoreError::PresignRefused("expired"));
        }
        if method.as_str() != signed_method {
            return Err(StoreError::PresignRefused(
                "method does not match the signature",
            ));
        }
        match (method, content) {
            (&http::Method::PUT, Some((content_type, length))) => {
                let sent_type = headers
                    .get(http::header::CONTENT_TYPE)
                    .map(http::HeaderValue::as_bytes);
                if sent_type != Some(content_type.as_bytes()) {
                    return Err(StoreError::PresignRefused(
                        "content type does not match the signature",
                    ));
                }
                let declared = headers
                    .get(http::header::CONTENT_LENGTH)
                    .map(http::HeaderValue::as_bytes);
                if declared.is_some_and(|d| d != length.to_string().as_bytes()) {
                    return Err(StoreError::PresignRefused(
                        "content length does not match the signature",
                    ));
                }
                // Signed into S3's URL too: without it S3 refuses the signature.
                let create_only = headers
                    .get(http::header::IF_NONE_MATCH)
                    .map(http::HeaderValue::as_bytes);
                if create_only != Some(b"*") {
                    return Err(StoreError::PresignRefused(
                        "the signed If-None-Match: * header is missing",
                    ));
                }
                Ok(PresignedAccess {
                    key,
                    put: Some((content_type.to_string(), length)),
                })
            }
            (&http::Method::GET, None) => Ok(PresignedAccess { key, put: None }),
            _ => Err(StoreError::PresignRefused(
                "method does not match the signature",
            )),
        }
    }

    /// Finishes an authorised presigned request: a PUT stores `body` if it is
    /// exactly the signed length and no object exists under the key yet
    /// ([`StoreError::ConditionFailed`] otherwise: answer 412, as S3 does); a GET
    /// reads the object.
    pub async fn complete_presigned(
        &self,
        access: PresignedAccess,
        body: Bytes,
    ) -> Result<PresignedOutcome, StoreError> {
        match access.put {
            Some((content_type, length)) => {
                if body.len() as u64 != length {
                    return Err(StoreError::PresignRefused(
                        "content length does not match the signature",
                    ));
                }
                self.store(&access.key, &content_type, body, true).await?;
                Ok(PresignedOutcome::Stored(ObjectMeta {
                    key: access.key,
                    size: length,
                    content_type: Some(content_type),
                }))
            }
            None => Ok(match self.get(&access.key).await? {
                Some((meta, bytes)) => PresignedOutcome::Found(meta, bytes),
                None => PresignedOutcome::NotFound,
            }),
        }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.dirs.objects.join(key)
    }

    /// Reads the content type and, when `with_bytes`, the bytes of `key`.
    async fn read(
        &self,
        key: &str,
        with_bytes: bool,
    ) -> Result<Option<(ObjectMeta, Option<Bytes>)>, StoreError> {
        validate_key(key)?;
        let key = key.to_string();
        let path = self.path_of(&key);
        self.core
            .read(move |txn| {
                let objects = txn.open_table(OBJECTS).map_err(db_error)?;
                let content_type = objects
                    .get(key.as_str())
                    .map_err(db_error)?
                    .map(|v| v.value().to_string());
                // The file decides whether the object exists; a file without a
                // content type (crash between rename and commit) reads as untyped.
                let (size, bytes) = if with_bytes {
                    match std::fs::read(&path) {
                        Ok(bytes) => (bytes.len() as u64, Some(Bytes::from(bytes))),
                        Err(e) if is_absent(&e) => return Ok(None),
                        Err(e) => return Err(StoreError::backend("read object", e)),
                    }
                } else {
                    match std::fs::metadata(&path) {
                        Ok(meta) if meta.is_file() => (meta.len(), None),
                        Ok(_) => return Ok(None),
                        Err(e) if is_absent(&e) => return Ok(None),
                        Err(e) => return Err(StoreError::backend("stat object", e)),
                    }
                };
                Ok(Some((
                    ObjectMeta {
                        key,
                        size,
                        content_type,
                    },
                    bytes,
                )))
            })
            .await
    }
}

/// A missing file, or a "file" that is a directory of other keys' files.
fn is_absent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory
    )
}

/// Keys are relative paths under `objects/`: no absolute paths, no `.`/`..` or
/// empty segments, no backslashes or control characters.
fn validate_key(key: &str) -> Result<(), StoreError> {
    let refuse = |why: &'static str| Err(StoreError::backend("invalid object key", why));
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return refuse("key must be 1 to 1024 bytes");
    }
    if key.chars().any(|c| c.is_control() || c == '\\') {
        return refuse("key contains a control character or backslash");
    }
    if key
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return refuse("key has an empty, `.` or `..` segment, or is absolute");
    }
    Ok(())
}

/// Content types are signed into presigned URLs and sent as headers: printable only.
fn validate_content_type(content_type: &str) -> Result<(), StoreError> {
    if content_type.is_empty() || !content_type.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(StoreError::backend(
            "invalid content type",
            "must be printable ASCII",
        ));
    }
    Ok(())
}

fn now_unix() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_secs()).unwrap_or(i64::MAX)
}

fn expiry(expires_in: Duration) -> i64 {
    // Round up so a sub-second lifetime still yields a usable URL.
    let secs = expires_in.as_secs() + u64::from(expires_in.subsec_nanos() > 0);
    now_unix().saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Removes now-empty directories between `path`'s parent and `root`, so a deleted
/// `a/b` does not leave a directory `a` that would block a later key `a`.
fn prune_empty_dirs(path: &Path, root: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

impl EmbeddedDocumentStore {
    /// Writes the object; with `create_only`, only if no object exists under
    /// the key (checked in the writer's job, so two racing creates cannot both win).
    async fn store(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
        create_only: bool,
    ) -> Result<(), StoreError> {
        validate_key(key)?;
        validate_content_type(content_type)?;
        let staging = self
            .dirs
            .staging
            .join(uuid::Uuid::new_v4().simple().to_string());
        let staged = staging.clone();
        tokio::task::spawn_blocking(move || {
            let mut file = std::fs::File::create(&staged)?;
            file.write_all(&bytes)?;
            file.sync_all()
        })
        .await
        .map_err(|e| StoreError::backend("write object task", e))?
        .map_err(|e| {
            let _ = std::fs::remove_file(&staging);
            StoreError::backend("write object", e)
        })?;

        let (key, content_type, target) =
            (key.to_string(), content_type.to_string(), self.path_of(key));
        let cleanup = staging.clone();
        let result = self
            .core
            .write(move |txn| {
                if create_only && target.is_file() {
                    return Err(JobError::Refused(StoreError::ConditionFailed));
                }
                let place = || -> std::io::Result<()> {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::rename(&staging, &target)
                };
                place().map_err(|e| JobError::Refused(StoreError::backend("store object", e)))?;
                txn.open_table(OBJECTS)?
                    .insert(key.as_str(), content_type.as_str())?;
                Ok(())
            })
            .await;
        if result.is_err() {
            // Only there if the rename did not happen.
            let _ = std::fs::remove_file(&cleanup);
        }
        result
    }
}

#[async_trait]
impl DocumentStore for EmbeddedDocumentStore {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.store(key, content_type, bytes, false).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<bool, StoreError> {
        match self.store(key, content_type, bytes, true).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<(ObjectMeta, Bytes)>, StoreError> {
        Ok(self
            .read(key, true)
            .await?
            .map(|(meta, bytes)| (meta, bytes.unwrap_or_default())))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.read(key, false).await?.map(|(meta, _)| meta))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        let (key, path, root) = (
            key.to_string(),
            self.path_of(key),
            self.dirs.objects.clone(),
        );
        self.core
            .write(move |txn| {
                match std::fs::remove_file(&path) {
                    Ok(()) => prune_empty_dirs(&path, &root),
                    Err(e) if is_absent(&e) => {}
                    Err(e) => {
                        return Err(JobError::Refused(StoreError::backend("delete object", e)));
                    }
                }
                txn.open_table(OBJECTS)?.remove(key.as_str())?;
                Ok(())
            })
            .await
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        validate_key(key)?;
        validate_content_type(content_type)?;
        let expires_at = expiry(expires_in);
        let grant = Grant {
            method: "PUT",
            key,
            expires: expires_at,
            content: Some((content_type, content_length)),
        };
        Ok(PresignedRequest {
            method: http::Method::PUT,
            url: self.signer.url(&self.base_url, &grant),
            headers: vec![
                ("content-type".to_string(), content_type.to_string()),
                ("content-length".to_string(), content_length.to_string()),
                ("if-none-match".to_string(), "*".to_string()),
            ],
            expires_at,
        })
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        validate_key(key)?;
        let expires_at = expiry(expires_in);
        let grant = Grant {
            method: "GET",
            key,
            expires: expires_at,
            content: None,
        };
        Ok(PresignedRequest {
            method: http::Method::GET,
            url: self.signer.url(&self.base_url, &grant),
            headers: Vec::new(),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_validation() {
        for ok in ["a", "a/b.pdf", "intake/2024/x y.csv", "é", ".hidden/x"] {
            assert!(validate_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "../a",
            "a/../b",
            "a/./b",
            ".",
            "a\\b",
            "a\nb",
            &"x".repeat(1025),
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_type_validation() {
        assert!(validate_content_type("text/plain; charset=utf-8").is_ok());
        assert!(validate_content_type("").is_err());
        assert!(validate_content_type("a\nb").is_err());
    }
}
