//! What AWS does around the functions, played in-process by `mso serve`: S3's
//! ObjectCreated notifications of the claims bucket, and Lambda's SQS event
//! source mapping (receive a batch, hand the function an `SqsEvent`, delete
//! what it did not report as failed). The functions get the same event shapes
//! as in AWS, so one code path serves both worlds.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mso_store::{
    DocumentStore, ObjectMeta, PresignedRequest, QueueMessage, ReceiveOptions, StoreError,
    WorkQueue,
};
use tokio::sync::mpsc;

/// The bucket name the local claims events carry.
pub const LOCAL_CLAIMS_BUCKET: &str = "mso-local-claims";

/// A bucket that tells a listener about the objects created under some
/// prefixes, as an S3 notification with prefix filters does (sent after the
/// put succeeded; the channel never blocks the put).
pub struct NotifyingBucket {
    inner: Arc<dyn DocumentStore>,
    prefixes: &'static [&'static str],
    created: mpsc::UnboundedSender<ObjectMeta>,
}

impl NotifyingBucket {
    pub fn new(
        inner: Arc<dyn DocumentStore>,
        prefixes: &'static [&'static str],
    ) -> (NotifyingBucket, mpsc::UnboundedReceiver<ObjectMeta>) {
        let (created, events) = mpsc::unbounded_channel();
        (
            NotifyingBucket {
                inner,
                prefixes,
                created,
            },
            events,
        )
    }

    /// Tells the listener of an object written under one of its prefixes.
    async fn notify(&self, key: &str, content_type: &str, size: u64) -> Result<(), StoreError> {
        if !self.prefixes.iter().any(|p| key.starts_with(p)) {
            return Ok(());
        }
        let meta = self.inner.head(key).await?.unwrap_or(ObjectMeta {
            key: key.to_owned(),
            content_type: Some(content_type.to_owned()),
            size,
        });
        // The listener is gone only when the server is shutting down.
        let _ = self.created.send(meta);
        Ok(())
    }
}

#[async_trait]
impl DocumentStore for NotifyingBucket {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), StoreError> {
        let size = bytes.len() as u64;
        self.inner.put(key, content_type, bytes).await?;
        self.notify(key, content_type, size).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<bool, StoreError> {
        let size = bytes.len() as u64;
        let written = self.inner.put_if_absent(key, content_type, bytes).await?;
        if written {
            self.notify(key, content_type, size).await?;
        }
        Ok(written)
    }

    async fn get(&self, key: &str) -> Result<Option<(ObjectMeta, Bytes)>, StoreError> {
        self.inner.get(key).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.inner.head(key).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.inner
            .presign_put(key, content_type, size, expires_in)
            .await
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.inner.presign_get(key, expires_in).await
    }
}

/// The SQS event Lambda hands a consumer for `messages` of `queue`.
pub fn sqs_event(queue: &str, messages: &[QueueMessage]) -> aws_lambda_events::sqs::SqsEvent {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.id,
                "receiptHandle": m.receipt,
                "body": m.body,
                "attributes": {"ApproximateReceiveCount": m.receive_count.to_string()},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-west-2:000000000000:{queue}"),
                "awsRegion": "us-west-2",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap_or_default()
}

/// Lambda's event source mapping for one queue: waits for a batch, runs
/// `consume`, deletes the messages it handled. A failed message becomes
/// visible again after the visibility timeout and, after the queue's maximum
/// receives, goes to its dead-letter queue.
pub async fn consume_queue<F, Fut>(queue: Arc<dyn WorkQueue>, name: &'static str, consume: F)
where
    F: Fn(aws_lambda_events::sqs::SqsEvent) -> Fut,
    Fut: std::future::Future<Output = aws_lambda_events::sqs::SqsBatchResponse>,
{
    let options = ReceiveOptions {
        max_messages: 10,
        visibility_timeout: Duration::from_secs(30),
        wait: Duration::from_secs(10),
    };
    loop {
        let messages = match queue.receive(name, options).await {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(queue = name, error = %e, "receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let response = consume(sqs_event(name, &messages)).await;
        for m in &messages {
            let failed = response
                .batch_item_failures
                .iter()
                .any(|f| f.item_identifier == m.id);
            if !failed && let Err(e) = queue.delete(name, &m.receipt).await {
                tracing::error!(queue = name, error = %e, "delete failed; the message comes back");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_events_have_lambdas_shape() {
        let m = QueueMessage {
            id: "m-1".into(),
            receipt: "r-1".into(),
            body: "{\"claim_id\":\"CLM-1\"}".into(),
            receive_count: 2,
        };
        let event = sqs_event("claim-edits", &[m]);
        let record = &event.records[0];
        assert_eq!(record.message_id.as_deref(), Some("m-1"));
        assert_eq!(record.receipt_handle.as_deref(), Some("r-1"));
        assert_eq!(record.body.as_deref(), Some("{\"claim_id\":\"CLM-1\"}"));
        assert_eq!(
            record.event_source_arn.as_deref(),
            Some("arn:aws:sqs:us-west-2:000000000000:claim-edits")
        );
    }
}
