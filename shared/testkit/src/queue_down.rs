//! A queue that is down, for tests of what survives a failed send.

use async_trait::async_trait;
use mso_store::{QueueMessage, ReceiveOptions, StoreError, WorkQueue};

/// Every send fails as SQS being unavailable would (a retryable error); there is
/// nothing to receive and deletes succeed.
pub struct QueueDown;

#[async_trait]
impl WorkQueue for QueueDown {
    async fn send(&self, _: &str, _: &str, _: &str) -> Result<String, StoreError> {
        Err(StoreError::unavailable(
            "SQS SendMessage",
            "the queue is down",
        ))
    }
    async fn receive(&self, _: &str, _: ReceiveOptions) -> Result<Vec<QueueMessage>, StoreError> {
        Ok(vec![])
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
