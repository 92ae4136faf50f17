//! `WorkQueue` in the redb file, with SQS semantics: at-least-once delivery,
//! visibility timeout, receive count, de-duplication window and dead-letter queues.
//!
//! Every queue operation is a write (a receive changes visibility), so all of them
//! go through the group-committing writer. Queues exist as soon as they are used.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::pin::pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::tables::{COUNTERS, QUEUE_DEDUP, QUEUE_DEDUP_EXPIRY, QUEUE_MESSAGES, QUEUE_VISIBILITY};
use super::writer::JobError;
use super::{Core, db_error, now_millis};
use crate::{QueueMessage, ReceiveOptions, StoreError, WorkQueue};

/// Receives after which a message goes to `<queue>-dlq`, unless configured otherwise.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;

/// How long a `dedup_id` suppresses repeats (SQS FIFO's window).
const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;

/// Expired dedup entries removed per send: bounded work, yet the table keeps up
/// with any send rate.
const DEDUP_PURGE_PER_SEND: usize = 16;

/// While waiting for a message, look again at least this often (messages also
/// become visible when their timeout runs out, which sends no notification).
const WAIT_POLL: Duration = Duration::from_millis(200);

const SEQ_COUNTER: &str = "queue_seq";

pub struct EmbeddedWorkQueue {
    core: Arc<Core>,
    /// Per-queue maximum receive count; `None` disables dead-lettering.
    max_receive: RwLock<HashMap<String, Option<u32>>>,
    /// Woken after every committed send, for receivers that wait.
    sent: Notify,
}

#[derive(Serialize, Deserialize)]
struct StoredMessage {
    id: String,
    body: String,
    receive_count: u32,
    visible_at: u64,
    /// Token of the latest receive; only a receipt carrying it may delete.
    receipt: String,
}

// Codec failures abort the batch: a receive may already have written when it meets one.
fn encode(message: &StoredMessage) -> Result<Vec<u8>, JobError> {
    serde_json::to_vec(message).map_err(|e| JobError::corrupt(format!("encode queue message: {e}")))
}

fn decode(bytes: &[u8]) -> Result<StoredMessage, JobError> {
    serde_json::from_slice(bytes)
        .map_err(|e| JobError::corrupt(format!("decode queue message: {e}")))
}

impl EmbeddedWorkQueue {
    pub(super) fn new(core: Arc<Core>) -> Self {
        EmbeddedWorkQueue {
            core,
            max_receive: RwLock::new(HashMap::new()),
            sent: Notify::new(),
        }
    }

    /// Sets how many receives `queue` allows before moving a message to
    /// `<queue>-dlq`; `None` never dead-letters. Without a setting: queues whose
    /// name ends in `-dlq` never dead-letter, others use [`DEFAULT_MAX_RECEIVE_COUNT`].
    pub fn set_max_receive_count(&self, queue: &str, max: Option<u32>) {
        // A poisoned lock only means another thread panicked mid-insert of a plain
        // map entry; the map itself is still valid.
        let mut map = self
            .max_receive
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.insert(queue.to_string(), max);
    }

    fn max_receive_count(&self, queue: &str) -> Option<u32> {
        let map = self
            .max_receive
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match map.get(queue) {
            Some(max) => *max,
            None if queue.ends_with("-dlq") => None,
            None => Some(DEFAULT_MAX_RECEIVE_COUNT),
        }
    }

    /// Whether some message of `queue` is visible now (a read, so an idle waiting
    /// receiver does not cost a commit per poll).
    async fn any_ready(&self, queue: &str) -> Result<bool, StoreError> {
        let queue = queue.to_string();
        self.core
            .read(move |txn| {
                let visibility = txn.open_table(QUEUE_VISIBILITY).map_err(db_error)?;
                let ready = (
                    Bound::Included((queue.as_str(), 0, 0)),
                    Bound::Included((queue.as_str(), now_millis(), u64::MAX)),
                );
                Ok(visibility
                    .range::<(&str, u64, u64)>(ready)
                    .map_err(db_error)?
                    .next()
                    .is_some())
            })
            .await
    }

    async fn receive_now(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<QueueMessage>, StoreError> {
        if !self.any_ready(queue).await? {
            return Ok(Vec::new());
        }
        let queue = queue.to_string();
        let max_receive = self.max_receive_count(&queue);
        let visibility_ms = u64::try_from(visibility.as_millis()).unwrap_or(u64::MAX);
        let moved = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let moved_in_job = Arc::clone(&moved);
        let messages = self
            .core
            .write(move |txn| {
                let (messages, moved) = receive(txn, &queue, max, visibility_ms, max_receive)?;
                moved_in_job.store(moved, std::sync::atomic::Ordering::Relaxed);
                Ok(messages)
            })
            .await?;
        if moved.load(std::sync::atomic::Ordering::Relaxed) {
            // A dead-letter queue got a message: wake its receivers.
            self.sent.notify_waiters();
        }
        Ok(messages)
    }
}

fn next_seq(txn: &WriteTransaction) -> Result<u64, JobError> {
    let mut counters = txn.open_table(COUNTERS)?;
    let next = counters.get(SEQ_COUNTER)?.map_or(0, |v| v.value()) + 1;
    counters.insert(SEQ_COUNTER, next)?;
    Ok(next)
}

/// Adds a new, immediately visible message to `queue`.
fn enqueue(
    txn: &WriteTransaction,
    queue: &str,
    id: String,
    body: String,
    now: u64,
) -> Result<(), JobError> {
    let seq = next_seq(txn)?;
    let message = StoredMessage {
        id,
        body,
        receive_count: 0,
        visible_at: now,
        receipt: String::new(),
    };
    txn.open_table(QUEUE_MESSAGES)?
        .insert((queue, seq), encode(&message)?.as_slice())?;
    txn.open_table(QUEUE_VISIBILITY)?
        .insert((queue, now, seq), ())?;
    Ok(())
}

/// Removes up to `DEDUP_PURGE_PER_SEND` dedup entries that expired before `now`.
fn purge_dedup(txn: &WriteTransaction, now: u64) -> Result<(), JobError> {
    let mut expiry = txn.open_table(QUEUE_DEDUP_EXPIRY)?;
    let expired: Vec<(u64, String, String)> = expiry
        .range::<(u64, &str, &str)>(..(now, "", ""))?
        .take(DEDUP_PURGE_PER_SEND)
        .map(|entry| {
            let (key, _) = entry?;
            let (at, queue, dedup) = key.value();
            Ok((at, queue.to_string(), dedup.to_string()))
        })
        .collect::<Result<_, redb::StorageError>>()?;
    let mut dedup = txn.open_table(QUEUE_DEDUP)?;
    for (at, queue, dedup_id) in &expired {
        expiry.remove((*at, queue.as_str(), dedup_id.as_str()))?;
        dedup.remove((queue.as_str(), dedup_id.as_str()))?;
    }
    Ok(())
}

fn send(
    txn: &WriteTransaction,
    queue: &str,
    body: String,
    dedup_id: &str,
    id: String,
) -> Result<String, JobError> {
    let now = now_millis();
    purge_dedup(txn, now)?;
    let mut dedup = txn.open_table(QUEUE_DEDUP)?;
    let previous = dedup.get((queue, dedup_id))?.map(|v| {
        let (expires, id) = v.value();
        (expires, id.to_string())
    });
    let mut expiry = txn.open_table(QUEUE_DEDUP_EXPIRY)?;
    match previous {
        Some((expires, id)) if expires > now => return Ok(id),
        Some((expires, _)) => {
            expiry.remove((expires, queue, dedup_id))?;
        }
        None => {}
    }
    let expires = now.saturating_add(DEDUP_WINDOW_MS);
    dedup.insert((queue, dedup_id), (expires, id.as_str()))?;
    expiry.insert((expires, queue, dedup_id), ())?;
    drop((dedup, expiry));
    enqueue(txn, queue, id.clone(), body, now)?;
    Ok(id)
}

/// Takes up to `max` visible messages of `queue`, hiding each for `visibility_ms`;
/// a message past `max_receive` receives moves to `<queue>-dlq` instead. Returns
/// the messages and whether any was dead-lettered.
fn receive(
    txn: &WriteTransaction,
    queue: &str,
    max: usize,
    visibility_ms: u64,
    max_receive: Option<u32>,
) -> Result<(Vec<QueueMessage>, bool), JobError> {
    let now = now_millis();
    let mut messages_table = txn.open_table(QUEUE_MESSAGES)?;
    let mut visibility = txn.open_table(QUEUE_VISIBILITY)?;
    let mut delivered = Vec::new();
    let mut dead: Vec<StoredMessage> = Vec::new();
    // With a zero timeout a delivered message is ready again at once; never hand
    // out one message twice in one receive.
    let mut seen = HashSet::new();
    let mut from = Bound::Included((queue, 0, 0));
    while delivered.len() < max {
        let candidates: Vec<(u64, u64)> = visibility
            .range::<(&str, u64, u64)>((from, Bound::Included((queue, now, u64::MAX))))?
            .take(max - delivered.len())
            .map(|entry| entry.map(|(key, _)| (key.value().1, key.value().2)))
            .collect::<Result<_, _>>()?;
        let Some(&(last_at, last_seq)) = candidates.last() else {
            break;
        };
        from = Bound::Excluded((queue, last_at, last_seq));
        for (visible_at, seq) in candidates {
            if !seen.insert(seq) {
                continue;
            }
            visibility.remove((queue, visible_at, seq))?;
            let Some(bytes) = messages_table
                .get((queue, seq))?
                .map(|v| v.value().to_vec())
            else {
                continue;
            };
            let mut message = decode(&bytes)?;
            let count = message.receive_count.saturating_add(1);
            if max_receive.is_some_and(|max| count > max) {
                messages_table.remove((queue, seq))?;
                dead.push(message);
                continue;
            }
            let token = uuid::Uuid::new_v4().simple().to_string();
            message.receive_count = count;
            message.visible_at = now.saturating_add(visibility_ms);
            message.receipt.clone_from(&token);
            messages_table.insert((queue, seq), encode(&message)?.as_slice())?;
            visibility.insert((queue, message.visible_at, seq), ())?;
            delivered.push(QueueMessage {
                id: message.id,
                receipt: format!("{seq}.{token}"),
                body: message.body,
                receive_count: count,
            });
        }
    }
    drop((messages_table, visibility));
    let moved = !dead.is_empty();
    let dlq = format!("{queue}-dlq");
    for message in dead {
        enqueue(txn, &dlq, message.id, message.body, now)?;
    }
    Ok((delivered, moved))
}

fn delete(txn: &WriteTransaction, queue: &str, seq: u64, token: &str) -> Result<(), JobError> {
    let mut messages = txn.open_table(QUEUE_MESSAGES)?;
    let Some(bytes) = messages.get((queue, seq))?.map(|v| v.value().to_vec()) else {
        return Ok(());
    };
    let message = decode(&bytes)?;
    // A receipt from an earlier receive no longer owns the message.
    if message.receipt != token {
        return Ok(());
    }
    messages.remove((queue, seq))?;
    txn.open_table(QUEUE_VISIBILITY)?
        .remove((queue, message.visible_at, seq))?;
    Ok(())
}

fn check_queue_name(queue: &str) -> Result<(), StoreError> {
    if queue.is_empty() {
        return Err(StoreError::NotConfigured(
            "queue with an empty name".to_string(),
        ));
    }
    Ok(())
}

#[async_trait]
impl WorkQueue for EmbeddedWorkQueue {
    async fn send(&self, queue: &str, body: &str, dedup_id: &str) -> Result<String, StoreError> {
        check_queue_name(queue)?;
        let (queue, body, dedup_id) = (queue.to_string(), body.to_string(), dedup_id.to_string());
        let id = uuid::Uuid::new_v4().to_string();
        let id = self
            .core
            .write(move |txn| send(txn, &queue, body, &dedup_id, id))
            .await?;
        self.sent.notify_waiters();
        Ok(id)
    }

    /// Committed at once but fsynced with the next batch (see `writer`); the
    /// writer keeps commit order, so a later durable write makes it durable too.
    async fn send_lazy(
        &self,
        queue: &str,
        body: &str,
        dedup_id: &str,
    ) -> Result<String, StoreError> {
        check_queue_name(queue)?;
        let (queue, body, dedup_id) = (queue.to_string(), body.to_string(), dedup_id.to_string());
        let id = uuid::Uuid::new_v4().to_string();
        let id = self
            .core
            .write_deferred(move |txn| send(txn, &queue, body, &dedup_id, id))
            .await?;
        self.sent.notify_waiters();
        Ok(id)
    }

    async fn receive(
        &self,
        queue: &str,
        options: ReceiveOptions,
    ) -> Result<Vec<QueueMessage>, StoreError> {
        check_queue_name(queue)?;
        let max = options.max_messages.clamp(1, 10);
        let deadline = tokio::time::Instant::now() + options.wait;
        loop {
            // Registered before looking, so a send in between still wakes us.
            let mut sent = pin!(self.sent.notified());
            sent.as_mut().enable();
            let messages = self
                .receive_now(queue, max, options.visibility_timeout)
                .await?;
            let now = tokio::time::Instant::now();
            if !messages.is_empty() || now >= deadline {
                return Ok(messages);
            }
            tokio::select! {
                () = sent => {}
                () = tokio::time::sleep(WAIT_POLL.min(deadline - now)) => {}
            }
        }
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), StoreError> {
        check_queue_name(queue)?;
        let parsed = receipt
            .split_once('.')
            .and_then(|(seq, token)| Some((seq.parse::<u64>().ok()?, token)));
        let Some((seq, token)) = parsed else {
            return Err(StoreError::backend(
                "delete queue message",
                "malformed receipt",
            ));
        };
        let (queue, token) = (queue.to_string(), token.to_string());
        self.core
            .write(move |txn| delete(txn, &queue, seq, &token))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlq_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let embedded = super::super::Embedded::open(dir.path(), "http://x".into()).unwrap();
        let q = embedded.queue();
        assert_eq!(q.max_receive_count("jobs"), Some(DEFAULT_MAX_RECEIVE_COUNT));
        assert_eq!(q.max_receive_count("jobs-dlq"), None);
        q.set_max_receive_count("jobs", Some(3));
        q.set_max_receive_count("jobs-dlq", Some(9));
        assert_eq!(q.max_receive_count("jobs"), Some(3));
        assert_eq!(q.max_receive_count("jobs-dlq"), Some(9));
    }
}
