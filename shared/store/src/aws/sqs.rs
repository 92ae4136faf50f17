//! `WorkQueue` over SQS. Logical queue names (`claims`, `claims-dlq`) map to queue
//! URLs; dead-lettering is the queues' own RedrivePolicy (set in the template).
//!
//! De-duplication: on a FIFO queue (URL ending in `.fifo`) `dedup_id` becomes the
//! MessageDeduplicationId, and also the MessageGroupId: one group per message means
//! no head-of-line blocking (a slow or poisoned message never holds back others)
//! at the price of no ordering, which the port does not promise anyway. A standard
//! queue cannot de-duplicate; there `dedup_id` travels as the message attribute
//! `dedup_id` and consumers must be idempotent.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, SendMessageBatchRequestEntry,
};
use aws_types::SdkConfig;
use sha2::{Digest, Sha256};

use super::error::classify;
use super::{BuiltOnFirstUse, built_on_first_use};
use crate::{Outgoing, QueueMessage, ReceiveOptions, StoreError, WorkQueue};

/// `QUEUE_URL_CLAIMS_DLQ=https://...` configures the logical queue `claims-dlq`.
pub const QUEUE_URL_ENV_PREFIX: &str = "QUEUE_URL_";

/// Message attribute carrying `dedup_id` on standard queues.
const DEDUP_ATTRIBUTE: &str = "dedup_id";

/// SQS limits.
const MAX_WAIT_SECONDS: u64 = 20;
const MAX_BATCH_MESSAGES: usize = 10;
/// A batch's bodies and attributes together; a message over it alone is sent
/// on its own (and refused as `SendMessage` would refuse it).
const MAX_BATCH_BYTES: usize = 256 * 1024;
const MAX_VISIBILITY_SECONDS: u64 = 12 * 60 * 60;

#[derive(Clone, Debug)]
pub struct SqsWorkQueue {
    client: BuiltOnFirstUse<Client>,
    urls: HashMap<String, String>,
    fed_by_table_stream: bool,
}

impl SqsWorkQueue {
    /// `urls` maps logical queue names to queue URLs; the client is built from
    /// `sdk` at the first request (a writer in Lambda never makes one).
    pub fn new(sdk: &SdkConfig, urls: HashMap<String, String>) -> Self {
        let sdk = sdk.clone();
        Self::with(built_on_first_use(move || Client::new(&sdk)), urls)
    }

    pub fn from_client(client: Client, urls: HashMap<String, String>) -> Self {
        Self::with(built_on_first_use(move || client), urls)
    }

    fn with(client: BuiltOnFirstUse<Client>, urls: HashMap<String, String>) -> Self {
        SqsWorkQueue {
            client,
            urls,
            fed_by_table_stream: false,
        }
    }

    /// The queues of a stack whose table's stream relays the outbox (every
    /// Lambda of infra/template.yaml): see [`WorkQueue::fed_by_table_stream`].
    pub fn with_table_stream_relay(mut self) -> Self {
        self.fed_by_table_stream = true;
        self
    }

    /// Reads every `QUEUE_URL_<NAME>` variable; the logical name is `<NAME>` in
    /// lower case with `_` as `-` (`QUEUE_URL_CLAIMS_DLQ` -> `claims-dlq`).
    pub fn from_env(sdk: &SdkConfig) -> Self {
        Self::new(sdk, urls_from(std::env::vars()))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The variable [`Self::from_env`] reads for `queue` (`claims-dlq` -> `QUEUE_URL_CLAIMS_DLQ`).
    pub fn env_var_for(queue: &str) -> String {
        format!(
            "{QUEUE_URL_ENV_PREFIX}{}",
            queue.to_ascii_uppercase().replace('-', "_")
        )
    }

    fn url(&self, queue: &str) -> Result<&str, StoreError> {
        self.urls
            .get(queue)
            .map(String::as_str)
            .ok_or_else(|| StoreError::NotConfigured(format!("queue `{queue}`")))
    }
}

fn urls_from(vars: impl Iterator<Item = (String, String)>) -> HashMap<String, String> {
    vars.filter_map(|(name, url)| {
        let queue = name.strip_prefix(QUEUE_URL_ENV_PREFIX)?;
        Some((queue.to_ascii_lowercase().replace('_', "-"), url))
    })
    .collect()
}

/// A FIFO deduplication / group id: `dedup_id` itself when SQS accepts it (1 to
/// 128 printable ASCII characters), otherwise its SHA-256 (same input, same id).
fn fifo_id(dedup_id: &str) -> String {
    let valid =
        (1..=128).contains(&dedup_id.len()) && dedup_id.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        dedup_id.to_string()
    } else {
        hex::encode(Sha256::digest(dedup_id.as_bytes()))
    }
}

/// The `dedup_id` attribute of a message to a standard queue.
fn dedup_attribute(dedup_id: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(dedup_id)
        .build()
        .map_err(|e| StoreError::backend("build SQS message attribute", e))
}

/// `messages` cut into SQS batches, in order: at most ten messages and
/// [`MAX_BATCH_BYTES`] each.
fn batches<'m, 'a>(messages: &'m [Outgoing<'a>]) -> Vec<&'m [Outgoing<'a>]> {
    let size = |m: &Outgoing<'_>| m.body.len() + m.dedup_id.len() + DEDUP_ATTRIBUTE.len() + 6;
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, m) in messages.iter().enumerate() {
        if i > start && (i - start == MAX_BATCH_MESSAGES || bytes + size(m) > MAX_BATCH_BYTES) {
            batches.push(&messages[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size(m);
    }
    if start < messages.len() {
        batches.push(&messages[start..]);
    }
    batches
}

/// The outcome of each of `n` messages whose request failed as a whole (none
/// for none).
fn all_failed(e: StoreError, n: usize) -> Vec<Result<(), StoreError>> {
    let mut outcomes: Vec<_> = (1..n).map(|_| Err(e.for_another_item())).collect();
    if n > 0 {
        outcomes.insert(0, Err(e));
    }
    outcomes
}

fn seconds(duration: Duration, round_up: bool, max: u64) -> i32 {
    let mut secs = duration.as_secs();
    let nanos = duration.subsec_nanos();
    if (round_up && nanos > 0) || (!round_up && nanos >= 500_000_000) {
        secs += 1;
    }
    // Both limits fit in i32.
    i32::try_from(secs.min(max)).unwrap_or(i32::MAX)
}

impl SqsWorkQueue {
    /// One `SendMessageBatch`; each entry's id is its index in `batch`.
    async fn send_batch(&self, url: &str, batch: &[Outgoing<'_>]) -> Vec<Result<(), StoreError>> {
        let fifo = url.ends_with(".fifo");
        let entries: Result<Vec<_>, StoreError> = batch
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body);
                if fifo {
                    let id = fifo_id(m.dedup_id);
                    entry = entry.message_deduplication_id(&id).message_group_id(id);
                } else {
                    entry = entry.message_attributes(DEDUP_ATTRIBUTE, dedup_attribute(m.dedup_id)?);
                }
                entry
                    .build()
                    .map_err(|e| StoreError::backend("build SQS batch entry", e))
            })
            .collect();
        let sent = match entries {
            Ok(entries) => self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| classify("SQS SendMessageBatch", e)),
            Err(e) => Err(e),
        };
        let output = match sent {
            Ok(output) => output,
            Err(e) => return all_failed(e, batch.len()),
        };
        let mut outcomes: Vec<Result<(), StoreError>> = (0..batch.len())
            .map(|_| {
                Err(StoreError::unavailable(
                    "SQS SendMessageBatch",
                    "the answer does not name the message",
                ))
            })
            .collect();
        let index = |id: &str| id.parse::<usize>().ok().filter(|&i| i < batch.len());
        for sent in &output.successful {
            if let Some(i) = index(&sent.id) {
                outcomes[i] = Ok(());
            }
        }
        for failed in output.failed {
            if let Some(i) = index(&failed.id) {
                let why = format!("{}: {}", failed.code, failed.message.unwrap_or_default());
                outcomes[i] = Err(if failed.sender_fault {
                    StoreError::backend("SQS SendMessageBatch", why)
                } else {
                    StoreError::unavailable("SQS SendMessageBatch", why)
                });
            }
        }
        outcomes
    }
}

#[async_trait]
impl WorkQueue for SqsWorkQueue {
    async fn send(&self, queue: &str, body: &str, dedup_id: &str) -> Result<String, StoreError> {
        let url = self.url(queue)?;
        let mut request = self.client.send_message().queue_url(url).message_body(body);
        if url.ends_with(".fifo") {
            let id = fifo_id(dedup_id);
            request = request.message_deduplication_id(&id).message_group_id(id);
        } else {
            request = request.message_attributes(DEDUP_ATTRIBUTE, dedup_attribute(dedup_id)?);
        }
        let output = request
            .send()
            .await
            .map_err(|e| classify("SQS SendMessage", e))?;
        output
            .message_id
            .ok_or_else(|| StoreError::backend("SQS SendMessage", "response has no message id"))
    }

    /// `SendMessageBatch`, ten messages a request, the requests sent together;
    /// one message is the one request `send` makes.
    async fn send_many_lazy(
        &self,
        queue: &str,
        messages: &[Outgoing<'_>],
    ) -> Vec<Result<(), StoreError>> {
        if let [only] = messages {
            return vec![self.send(queue, only.body, only.dedup_id).await.map(drop)];
        }
        let url = match self.url(queue) {
            Ok(url) => url,
            Err(e) => return all_failed(e, messages.len()),
        };
        let sent = batches(messages)
            .into_iter()
            .map(|batch| self.send_batch(url, batch));
        futures_util::future::join_all(sent)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    async fn receive(
        &self,
        queue: &str,
        options: ReceiveOptions,
    ) -> Result<Vec<QueueMessage>, StoreError> {
        let url = self.url(queue)?;
        // 1 to 10 always fits in i32.
        let max = i32::try_from(options.max_messages.clamp(1, 10)).unwrap_or(10);
        let output = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            // Never shorter than asked: a message must not reappear early.
            .visibility_timeout(seconds(
                options.visibility_timeout,
                true,
                MAX_VISIBILITY_SECONDS,
            ))
            .wait_time_seconds(seconds(options.wait, false, MAX_WAIT_SECONDS))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| classify("SQS ReceiveMessage", e))?;
        output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| {
                let receive_count = message
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1);
                match (message.message_id, message.receipt_handle) {
                    (Some(id), Some(receipt)) => Ok(QueueMessage {
                        id,
                        receipt,
                        body: message.body.unwrap_or_default(),
                        receive_count,
                    }),
                    _ => Err(StoreError::backend(
                        "SQS ReceiveMessage",
                        "message without id or receipt handle",
                    )),
                }
            })
            .collect()
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), StoreError> {
        let url = self.url(queue)?;
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| classify("SQS DeleteMessage", e))?;
        Ok(())
    }

    fn fed_by_table_stream(&self) -> bool {
        self.fed_by_table_stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert_eq!(
            SqsWorkQueue::env_var_for("claims-dlq"),
            "QUEUE_URL_CLAIMS_DLQ"
        );
        assert_eq!(fifo_id("claim-42"), "claim-42");
        assert_eq!(fifo_id("").len(), 64);
        assert_eq!(fifo_id(&"x".repeat(200)), fifo_id(&"x".repeat(200)));
        assert_ne!(fifo_id("a b"), "a b");
        assert_eq!(seconds(Duration::from_millis(1), true, 20), 1);
        assert_eq!(seconds(Duration::from_millis(400), false, 20), 0);
        assert_eq!(seconds(Duration::from_millis(1500), false, 20), 2);
        assert_eq!(seconds(Duration::from_secs(99), false, 20), 20);
    }

    #[test]
    fn batches_hold_ten_messages_and_256_kib_at_most() {
        fn of(body: &str) -> Outgoing<'_> {
            Outgoing {
                body,
                dedup_id: "e",
            }
        }
        fn sizes(messages: &[Outgoing<'_>]) -> Vec<usize> {
            batches(messages).iter().map(|b| b.len()).collect()
        }
        let (small, large, huge) = (
            "x".repeat(100),
            "x".repeat(100 * 1024),
            "x".repeat(300 * 1024),
        );
        assert_eq!(sizes(&[]), Vec::<usize>::new());
        assert_eq!(sizes(&[of(&small); 25]), [10, 10, 5]);
        // Two of 100 KiB fit, a third does not; one alone always goes.
        assert_eq!(sizes(&[of(&large); 5]), [2, 2, 1]);
        assert_eq!(sizes(&[of(&small), of(&huge), of(&small)]), [1, 1, 1]);
    }

    #[test]
    fn a_failed_request_fails_each_of_its_messages() {
        let failed = |n| all_failed(StoreError::NotConfigured("QUEUE_URL_X".into()), n);
        assert!(failed(0).is_empty());
        let three = failed(3);
        assert_eq!(three.len(), 3);
        assert!(
            three
                .iter()
                .all(|o| matches!(o, Err(StoreError::NotConfigured(_))))
        );
    }
}
