//! The transactional outbox: an event is stored in the same transaction as the
//! change that caused it, then sent to its queue and removed. So a change is
//! never published without being stored, nor stored without being published.
//! Consumers de-duplicate on the event id (sends use it as the de-duplication
//! id, and redelivery is normal on SQS).
//!
//! Who sends a stored event depends on the store:
//! - in the AWS stack, the table's stream hands each new outbox row to the
//!   `outbox-relay` function ([`relay_stored`]), off the writer's request: the
//!   writer's answer does not wait for the queue;
//! - on the embedded store (`mso serve`), which has no stream, the writer sends
//!   its events itself after its commit ([`publish`]).
//!
//! Either way a crash before the send leaves the event stored, and the
//! sweepers' [`relay`] sends what is older than their grace period.

use jiff::Timestamp;
use mso_store::{Condition, Key, Query, Record, RecordStore, StoreError, WorkQueue, WriteOp, keys};
use serde::{Deserialize, Serialize};

use crate::audit::sortable_instant;

/// An event bound for a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// The logical queue (`auth-events`).
    pub queue: String,
    /// Unique; the consumers' de-duplication key.
    pub id: String,
    /// The message body (JSON).
    pub body: String,
    pub at: Timestamp,
}

impl OutboxEvent {
    /// A new event with a time-ordered id.
    pub fn new(queue: &str, body: String, at: Timestamp) -> OutboxEvent {
        OutboxEvent {
            queue: queue.to_owned(),
            id: uuid::Uuid::now_v7().to_string(),
            body,
            at,
        }
    }

    fn key(&self) -> mso_store::Key {
        keys::outbox(&self.queue, &sortable_instant(self.at), &self.id)
    }

    /// The write that stores the event; put it in the change's transaction.
    pub fn stage(&self) -> Result<WriteOp, StoreError> {
        let body = serde_json::to_value(self)
            .map_err(|e| StoreError::backend("serialising an outbox event", e))?;
        Ok(WriteOp::Put {
            record: Record::new(self.key(), body),
            condition: Condition::Absent,
        })
    }
}

/// Sends events whose change is committed and removes them from the outbox,
/// unless the table's stream relays them ([`WorkQueue::fed_by_table_stream`]).
/// A failure is logged and left to the [`relay`]: the caller's change stands.
pub async fn publish(store: &dyn RecordStore, queue: &dyn WorkQueue, events: &[OutboxEvent]) {
    if queue.fed_by_table_stream() {
        return;
    }
    for event in events {
        if let Err(e) = send_and_remove(store, queue, event).await {
            tracing::warn!(error = %e, queue = %event.queue, event_id = %event.id, "outbox event left for the relay");
        }
    }
}

/// The stored event is the durable copy until it is deleted, so the send and
/// the delete may both be lazy: a crash loses them together (in order), and the
/// relay sends the event again.
async fn send_and_remove(
    store: &dyn RecordStore,
    queue: &dyn WorkQueue,
    event: &OutboxEvent,
) -> Result<(), StoreError> {
    queue
        .send_lazy(&event.queue, &event.body, &event.id)
        .await?;
    store.delete_lazy(&event.key()).await
}

/// The event an outbox row holds.
fn stored_event(record: Record) -> Result<OutboxEvent, StoreError> {
    serde_json::from_value(record.body)
        .map_err(|e| StoreError::backend("reading an outbox event", e))
}

/// What [`relay_stored`] did with a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relayed {
    /// Sent, then removed.
    Sent,
    /// Already sent and removed (by the sweepers' [`relay`], or by an earlier
    /// delivery of the same stream record).
    Gone,
    /// Not an outbox row: no event of ours (the stream's filter lets only
    /// outbox rows through).
    NotAnEvent,
}

/// Sends the outbox event stored under `key` and removes it: what the table's
/// stream asks for each new outbox row.
pub async fn relay_stored(
    store: &dyn RecordStore,
    queue: &dyn WorkQueue,
    key: &Key,
) -> Result<Relayed, StoreError> {
    if !key.pk.starts_with(keys::OUTBOX_PARTITION_PREFIX) {
        return Ok(Relayed::NotAnEvent);
    }
    let Some(record) = store.get(key).await? else {
        return Ok(Relayed::Gone);
    };
    send_and_remove(store, queue, &stored_event(record)?).await?;
    Ok(Relayed::Sent)
}

/// Sends what is still in `queue_name`'s outbox from before `older_than` (events
/// the stream's relay or the writer has not sent: it failed, lags or crashed), at
/// most `limit`. Returns how many.
pub async fn relay(
    store: &dyn RecordStore,
    queue: &dyn WorkQueue,
    queue_name: &str,
    older_than: Timestamp,
    limit: usize,
) -> Result<usize, StoreError> {
    let page = store
        .query(
            Query::between(
                keys::outbox_partition(queue_name),
                String::new(),
                sortable_instant(older_than),
            )
            .limit(limit),
        )
        .await?;
    let mut sent = 0;
    for record in page.records {
        send_and_remove(store, queue, &stored_event(record)?).await?;
        sent += 1;
    }
    Ok(sent)
}
