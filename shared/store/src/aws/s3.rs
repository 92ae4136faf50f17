//! `DocumentStore` over one S3 bucket.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_types::SdkConfig;
use bytes::Bytes;

use super::error::classify;
use super::{BuiltOnFirstUse, built_on_first_use};
use crate::{DocumentStore, ObjectMeta, PresignedRequest, StoreError, attachment_disposition};

#[derive(Clone, Debug)]
pub struct S3DocumentStore {
    client: BuiltOnFirstUse<Client>,
    bucket: String,
}

impl S3DocumentStore {
    /// A store over `bucket`, with a client built from `sdk`: path-style
    /// addressing when an endpoint override is configured (emulators such as
    /// moto have no per-bucket host names), virtual-hosted otherwise.
    pub fn new(sdk: &SdkConfig, bucket: impl Into<String>) -> Self {
        Self::with_path_style(sdk, bucket, sdk.endpoint_url().is_some())
    }

    pub fn with_path_style(
        sdk: &SdkConfig,
        bucket: impl Into<String>,
        force_path_style: bool,
    ) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(force_path_style)
            .build();
        // Built at the first request or presigning: claims-edits never makes one.
        Self::with(
            built_on_first_use(move || Client::from_conf(config)),
            bucket,
        )
    }

    pub fn from_client(client: Client, bucket: impl Into<String>) -> Self {
        Self::with(built_on_first_use(move || client), bucket)
    }

    fn with(client: BuiltOnFirstUse<Client>, bucket: impl Into<String>) -> Self {
        S3DocumentStore {
            client,
            bucket: bucket.into(),
        }
    }

    /// A store over `bucket` through this store's client (a client is cheap to
    /// share and costly to build).
    pub fn with_bucket(&self, bucket: impl Into<String>) -> Self {
        Self::with(self.client.clone(), bucket)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn put_object(&self, key: &str, content_type: &str, bytes: Bytes) -> PutObjectFluentBuilder {
        let length = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .body(ByteStream::from(bytes))
    }
}

fn presigning_config(expires_in: Duration) -> Result<PresigningConfig, StoreError> {
    PresigningConfig::expires_in(expires_in)
        .map_err(|e| StoreError::backend("S3 presigning config", e))
}

fn presigned(
    presigned: aws_sdk_s3::presigning::PresignedRequest,
    method: http::Method,
    expires_in: Duration,
) -> PresignedRequest {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let expires_at = now.saturating_add(expires_in).as_secs();
    PresignedRequest {
        method,
        url: presigned.uri().to_string(),
        headers: presigned
            .headers()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        expires_at: i64::try_from(expires_at).unwrap_or(i64::MAX),
    }
}

fn size(length: Option<i64>) -> u64 {
    length.and_then(|l| u64::try_from(l).ok()).unwrap_or(0)
}

#[async_trait]
impl DocumentStore for S3DocumentStore {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.put_object(key, content_type, bytes)
            .send()
            .await
            .map_err(|e| classify("S3 PutObject", e))?;
        Ok(())
    }

    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<bool, StoreError> {
        match self
            .put_object(key, content_type, bytes)
            .if_none_match("*")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            // 412: an object is there. (A 409, another conditional write to the
            // key in flight, is retried as the SDK's errors are.)
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Ok(false),
            Err(e) => Err(classify("S3 PutObject", e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<(ObjectMeta, Bytes)>, StoreError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                return Ok(None);
            }
            Err(e) => return Err(classify("S3 GetObject", e)),
        };
        let content_type = output.content_type().map(str::to_string);
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| StoreError::unavailable("S3 GetObject body", e))?;
        let bytes = bytes.into_bytes();
        let meta = ObjectMeta {
            key: key.to_string(),
            size: bytes.len() as u64,
            content_type,
        };
        Ok(Some((meta, bytes)))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(ObjectMeta {
                key: key.to_string(),
                size: size(output.content_length()),
                content_type: output.content_type().map(str::to_string),
            })),
            Err(e) if matches!(e.as_service_error(), Some(HeadObjectError::NotFound(_))) => {
                Ok(None)
            }
            Err(e) => Err(classify("S3 HeadObject", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        // S3 answers 204 for an absent key too.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify("S3 DeleteObject", e))?;
        Ok(())
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        let length = i64::try_from(content_length)
            .map_err(|_| StoreError::backend("S3 presign PutObject", "content length too large"))?;
        // Type and length set on the request become signed headers: S3 refuses
        // an upload with a different type or size. `If-None-Match: *` (signed
        // too) makes the URL create only: once the object exists, S3 answers 412.
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .if_none_match("*")
            .presigned(presigning_config(expires_in)?)
            .await
            .map_err(|e| classify("S3 presign PutObject", e))?;
        Ok(presigned(request, http::Method::PUT, expires_in))
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            // Response overrides are part of the signature: the browser gets a
            // download that is never cached and never rendered.
            .response_cache_control("no-store")
            .response_content_disposition(attachment_disposition(key))
            .presigned(presigning_config(expires_in)?)
            .await
            .map_err(|e| classify("S3 presign GetObject", e))?;
        Ok(presigned(request, http::Method::GET, expires_in))
    }
}

/// What moto never answers: S3's 409 to a conditional write that met another
/// one to the same key in flight. Here S3 is a script of status codes (its
/// documented error bodies), and the requests the adapter sends are counted.
#[cfg(test)]
mod conditional_writes {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::retry::RetryConfig;

    use super::*;

    #[derive(Debug, Clone)]
    struct Answering {
        status: u16,
        code: &'static str,
        asked: Arc<AtomicUsize>,
        if_none_match: Arc<Mutex<Vec<Option<String>>>>,
    }

    impl HttpConnector for Answering {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let header = request.headers().get("if-none-match").map(str::to_string);
            self.if_none_match.lock().unwrap().push(header);
            let body = if self.status == 200 {
                String::new()
            } else {
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>m</Message><RequestId>r</RequestId></Error>",
                    self.code
                )
            };
            let status = StatusCode::try_from(self.status).unwrap();
            HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::from(body))))
        }
    }

    impl HttpClient for Answering {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    fn bucket(status: u16, code: &'static str) -> (S3DocumentStore, Answering) {
        let answering = Answering {
            status,
            code,
            asked: Arc::default(),
            if_none_match: Arc::default(),
        };
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .endpoint_url("http://s3.invalid")
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .http_client(answering.clone())
            .build();
        let store = S3DocumentStore::from_client(Client::from_conf(config), "b");
        (store, answering)
    }

    fn body() -> Bytes {
        Bytes::from_static(b"ISA~")
    }

    #[tokio::test]
    async fn a_conditional_write_sends_if_none_match_and_a_plain_one_does_not() {
        let (store, s3) = bucket(200, "");
        assert!(
            store
                .put_if_absent("k", "text/plain", body())
                .await
                .unwrap()
        );
        store.put("k", "text/plain", body()).await.unwrap();
        assert_eq!(
            *s3.if_none_match.lock().unwrap(),
            [Some("*".to_string()), None]
        );
    }

    #[tokio::test]
    async fn an_object_already_there_is_false() {
        let (store, _) = bucket(412, "PreconditionFailed");
        assert!(
            !store
                .put_if_absent("k", "text/plain", body())
                .await
                .unwrap()
        );
        // A plain put never meets a 412: one that does is S3's error.
        assert!(store.put("k", "text/plain", body()).await.is_err());
    }

    /// Two conditional writes to one key at once: S3 refuses one with 409,
    /// which the caller tries again (a Lambda's event is retried whole).
    #[tokio::test]
    async fn a_conflicting_conditional_write_is_worth_another_try() {
        let (store, s3) = bucket(409, "ConditionalRequestConflict");
        let refused = store.put_if_absent("k", "text/plain", body()).await;
        assert!(
            matches!(refused, Err(StoreError::Unavailable { .. })),
            "{refused:?}"
        );
        assert_eq!(s3.asked.load(Ordering::SeqCst), 1);
    }
}
