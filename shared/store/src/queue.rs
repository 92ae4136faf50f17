use std::time::Duration;

use async_trait::async_trait;

use crate::StoreError;

/// A received message. It stays invisible to other receivers for the visibility
/// timeout; delete it with `receipt` once handled, or it comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub receipt: String,
    pub body: String,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// At most this many messages (1 to 10).
    pub max_messages: usize,
    pub visibility_timeout: Duration,
    /// How long to wait for a message when none is ready (0 = answer at once).
    pub wait: Duration,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        ReceiveOptions {
            max_messages: 10,
            visibility_timeout: Duration::from_secs(30),
            wait: Duration::ZERO,
        }
    }
}

/// A message for [`WorkQueue::send_many_lazy`]: its body and de-duplication
/// id, as [`WorkQueue::send`] takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing<'a> {
    pub body: &'a str,
    pub dedup_id: &'a str,
}

/// Named queues. Names are logical (`claims`, `claims-dlq`); adapters map them to
/// real queues. A message received more than the queue's maximum receive count is
/// moved to its dead-letter queue `<name>-dlq` instead of being delivered again.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Returns the message id. A second send with the same `dedup_id` within the
    /// de-duplication window (5 minutes) is accepted but not delivered again.
    async fn send(&self, queue: &str, body: &str, dedup_id: &str) -> Result<String, StoreError>;

    /// A send whose message is also kept elsewhere until it is known sent (a
    /// transactional outbox row, deleted with [`crate::RecordStore::delete_lazy`]
    /// after this send), so it may become durable a short, bounded time later:
    /// a crash then loses the send and the delete together, and the outbox row
    /// is sent again. SQS sends are durable at once.
    async fn send_lazy(
        &self,
        queue: &str,
        body: &str,
        dedup_id: &str,
    ) -> Result<String, StoreError> {
        self.send(queue, body, dedup_id).await
    }

    /// [`WorkQueue::send_lazy`] for several messages to one queue, in as few
    /// requests as the backend allows (SQS takes ten in one). Each message's
    /// outcome, in order: some may be sent while others fail.
    async fn send_many_lazy(
        &self,
        queue: &str,
        messages: &[Outgoing<'_>],
    ) -> Vec<Result<(), StoreError>> {
        let mut outcomes = Vec::with_capacity(messages.len());
        for m in messages {
            outcomes.push(self.send_lazy(queue, m.body, m.dedup_id).await.map(drop));
        }
        outcomes
    }

    async fn receive(
        &self,
        queue: &str,
        options: ReceiveOptions,
    ) -> Result<Vec<QueueMessage>, StoreError>;

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), StoreError>;

    /// Whether the table's stream delivers the events a writer stores in the
    /// outbox (the AWS stack's `outbox-relay` function, triggered by each new
    /// outbox row), so the writer leaves them to it instead of sending them
    /// after its commit. The embedded store has no stream: its writers send.
    fn fed_by_table_stream(&self) -> bool {
        false
    }
}

/// The queues as a writer in the AWS stack has them: it never sends. It stores
/// its events in the table's outbox with its change, and the table's stream
/// relays them (`outbox-relay`); its role may not send either. Holding no SQS
/// client keeps the SDK's SQS crate out of the writers' binaries
/// (docs/performance.md, "Binaries"). A send or a receive is refused, naming
/// the queue: only a function wired with the wrong queues meets that.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableStreamWorkQueue;

impl TableStreamWorkQueue {
    fn refused(queue: &str) -> StoreError {
        StoreError::NotConfigured(format!(
            "queue `{queue}` (this function's events leave through the table's stream)"
        ))
    }
}

#[async_trait]
impl WorkQueue for TableStreamWorkQueue {
    async fn send(&self, queue: &str, _body: &str, _dedup_id: &str) -> Result<String, StoreError> {
        Err(Self::refused(queue))
    }

    async fn receive(
        &self,
        queue: &str,
        _options: ReceiveOptions,
    ) -> Result<Vec<QueueMessage>, StoreError> {
        Err(Self::refused(queue))
    }

    async fn delete(&self, queue: &str, _receipt: &str) -> Result<(), StoreError> {
        Err(Self::refused(queue))
    }

    fn fed_by_table_stream(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_writer_s_queues_refuse_every_send_naming_the_queue() {
        let queues = TableStreamWorkQueue;
        assert!(queues.fed_by_table_stream());
        let sent = queues.send("claim-edits", "{}", "e-1").await.unwrap_err();
        assert_eq!(
            sent.to_string(),
            "queue `claim-edits` (this function's events leave through the table's stream) is not configured"
        );
        let many = queues
            .send_many_lazy(
                "auth-events",
                &[
                    Outgoing {
                        body: "{}",
                        dedup_id: "e-1",
                    },
                    Outgoing {
                        body: "{}",
                        dedup_id: "e-2",
                    },
                ],
            )
            .await;
        assert_eq!(many.len(), 2);
        assert!(many.iter().all(|outcome| matches!(outcome, Err(StoreError::NotConfigured(q)) if q.contains("auth-events"))));
        assert!(
            queues
                .receive("claim-edits", ReceiveOptions::default())
                .await
                .is_err()
        );
        assert!(queues.delete("claim-edits", "receipt").await.is_err());
    }
}
