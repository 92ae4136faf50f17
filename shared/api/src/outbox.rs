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

use std::collections::BTreeMap;

use jiff::Timestamp;
use mso_store::{
    Condition, Key, MAX_GET_MANY_KEYS, Outgoing, Query, Record, RecordStore, StoreError, WorkQueue,
    WriteOp, keys,
};
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
        let body = mso_store::Body::of(self)
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
    // One by one: only a store without a stream gets here (the embedded one),
    // where a batch saves no request, and a writer's role may remove its own
    // outbox rows only one at a time.
    for event in events {
        let one = std::slice::from_ref(event);
        for outcome in send_and_remove(store, queue, one).await {
            if let Err(e) = outcome {
                tracing::warn!(error = %e, queue = %event.queue, event_id = %event.id, "outbox event left for the relay");
            }
        }
    }
}

/// Sends `events` and removes the rows of those sent; each event's outcome, in
/// order. Each queue's events go together, ten a request on SQS, and the rows
/// are removed together, 25 a request on DynamoDB.
///
/// The stored event is the durable copy until it is deleted, so the send and
/// the delete may both be lazy: a crash loses them together (in order), and the
/// relay sends the event again. An event sent whose row stays (its removal
/// failed) counts as failed: it will be sent again, and its consumers
/// de-duplicate on its id.
async fn send_and_remove(
    store: &dyn RecordStore,
    queue: &dyn WorkQueue,
    events: &[OutboxEvent],
) -> Vec<Result<(), StoreError>> {
    let mut by_queue: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        by_queue.entry(event.queue.as_str()).or_default().push(i);
    }
    let sends = by_queue.into_iter().map(|(name, indices)| async move {
        let messages: Vec<Outgoing<'_>> = indices
            .iter()
            .map(|&i| Outgoing {
                body: &events[i].body,
                dedup_id: &events[i].id,
            })
            .collect();
        let outcomes = queue.send_many_lazy(name, &messages).await;
        indices.into_iter().zip(outcomes).collect::<Vec<_>>()
    });
    let mut outcomes: Vec<Result<(), StoreError>> = events.iter().map(|_| Ok(())).collect();
    for (i, outcome) in futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
    {
        outcomes[i] = outcome;
    }
    let sent: Vec<usize> = (0..events.len()).filter(|&i| outcomes[i].is_ok()).collect();
    let keys: Vec<Key> = sent.iter().map(|&i| events[i].key()).collect();
    if keys.is_empty() {
        return outcomes;
    }
    if let Err(e) = store.delete_many_lazy(&keys).await {
        for &i in &sent {
            outcomes[i] = Err(e.for_another_item());
        }
    }
    outcomes
}

/// The event an outbox row holds.
fn stored_event(record: Record) -> Result<OutboxEvent, StoreError> {
    record
        .body
        .decode()
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

/// Sends the outbox events stored under `keys` and removes them: what the
/// table's stream asks for its batch of new outbox rows. The rows are read
/// together ([`RecordStore::get_many`]), then sent and removed as
/// [`send_and_remove`] does. Each key's outcome, in order.
pub async fn relay_stored(
    store: &dyn RecordStore,
    queue: &dyn WorkQueue,
    keys: &[Key],
) -> Vec<Result<Relayed, StoreError>> {
    let mut outcomes: Vec<Result<Relayed, StoreError>> =
        keys.iter().map(|_| Ok(Relayed::NotAnEvent)).collect();
    let outbox: Vec<usize> = (0..keys.len())
        .filter(|&i| keys[i].pk.starts_with(keys::OUTBOX_PARTITION_PREFIX))
        .collect();
    // The events read, and the index of each one's key.
    let (mut events, mut of_key) = (Vec::new(), Vec::new());
    for chunk in outbox.chunks(MAX_GET_MANY_KEYS) {
        let wanted: Vec<Key> = chunk.iter().map(|&i| keys[i].clone()).collect();
        let rows = match store.get_many(&wanted).await {
            Ok(rows) => rows,
            Err(e) => {
                for &i in chunk {
                    outcomes[i] = Err(e.for_another_item());
                }
                continue;
            }
        };
        for (&i, row) in chunk.iter().zip(rows) {
            outcomes[i] = match row.map(stored_event) {
                None => Ok(Relayed::Gone),
                Some(Ok(event)) => {
                    events.push(event);
                    of_key.push(i);
                    continue;
                }
                Some(Err(e)) => Err(e),
            };
        }
    }
    let sent = send_and_remove(store, queue, &events).await;
    for (i, outcome) in of_key.into_iter().zip(sent) {
        outcomes[i] = outcome.map(|()| Relayed::Sent);
    }
    outcomes
}

/// Sends what is still in `queue_name`'s outbox from before `older_than` (events
/// the stream's relay or the writer has not sent: it failed, lags or crashed), at
/// most `limit`. Returns how many, or the first failure (the others are sent).
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
    let events = page
        .records
        .into_iter()
        .map(stored_event)
        .collect::<Result<Vec<_>, _>>()?;
    for outcome in send_and_remove(store, queue, &events).await {
        outcome?;
    }
    Ok(events.len())
}
