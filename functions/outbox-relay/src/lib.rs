//! The outbox relay: the table's stream reports each new outbox row (a writer's
//! event, stored in the transaction of its change), and this function sends it
//! to its queue and removes it (`mso_api::outbox::relay_stored`). So a writer's
//! answer does not wait for SQS, and an event is sent within a second or so of
//! its commit. The sweepers still relay what stays longer than their grace
//! period (a batch that kept failing here, and went to this function's
//! dead-letter queue).
//!
//! [`handle`] takes the stream's batch and reports the records it could not
//! relay, so Lambda retries from the first of them; the records after it that
//! did go through are found gone the second time and not sent again.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::outbox::{self, Relayed};
use mso_store::aws::DynamoRecordStore;
use mso_store::{RecordStore, WorkQueue};

pub use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
pub use aws_lambda_events::event::streams::DynamoDbEventResponse as DynamoDbBatchResponse;

/// What the relay needs, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub records: Arc<dyn RecordStore>,
    pub queue: Arc<dyn WorkQueue>,
}

/// The stack's table and queues (`TABLE_NAME`, `QUEUE_URL_<NAME>`).
pub fn aws_deps() -> Result<Deps, LambdaEnvError> {
    let env = LambdaEnv::read()?;
    Ok(Deps {
        records: env.records()?,
        queue: env.queues(),
    })
}

/// Rows relayed at once: each waits on three requests in a row, and a batch
/// of the stream holds up to 100 (infra/template.yaml); more at once would
/// open more connections than a 256 MB function needs.
const AT_ONCE: usize = 16;

/// Relays every outbox row the batch reports, [`AT_ONCE`] at a time, and
/// reports the sequence numbers of those that failed.
pub async fn handle(deps: &Deps, event: Event) -> DynamoDbEventResponse {
    let permits = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut running = tokio::task::JoinSet::new();
    for record in event.records {
        let (deps, permits) = (deps.clone(), Arc::clone(&permits));
        running.spawn(async move {
            // Never closed, so acquiring cannot fail.
            let _permit = permits.acquire_owned().await.ok();
            relay(&deps, &record).await.then(|| failure(&record))
        });
    }
    let mut response = DynamoDbEventResponse::default();
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok(Some(failure)) => response.batch_item_failures.push(failure),
            Ok(None) => {}
            // Not expected (the relay does not panic); if it did, its record
            // is unknown here, so the whole batch is delivered again: what
            // went through is found gone and not sent twice.
            Err(e) => {
                tracing::error!(error = %e, "an outbox relay task panicked");
                return everything_failed();
            }
        }
    }
    response
}

/// Whether `record` failed (and must be delivered again).
#[tracing::instrument(skip_all, fields(event_id = %record.event_id))]
async fn relay(deps: &Deps, record: &EventRecord) -> bool {
    // Only inserts carry a new event; the filter in infra/template.yaml lets
    // only them through, and the row's own removal (a REMOVE) is no work.
    if record.event_name != "INSERT" {
        return false;
    }
    let Some(key) = DynamoRecordStore::key_of_stream_record(&record.change.keys) else {
        tracing::warn!("stream record without the table's keys; skipped");
        return false;
    };
    match outbox::relay_stored(deps.records.as_ref(), deps.queue.as_ref(), &key).await {
        Ok(Relayed::Sent) => false,
        Ok(Relayed::Gone) => {
            tracing::info!("outbox event already relayed");
            false
        }
        Ok(Relayed::NotAnEvent) => {
            tracing::warn!("stream record of a row outside the outbox; skipped");
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "outbox event not relayed; the stream delivers it again");
            true
        }
    }
}

fn failure(record: &EventRecord) -> DynamoDbBatchItemFailure {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = record.change.sequence_number.clone();
    failure
}

/// A response that fails the whole batch (an empty item identifier does).
fn everything_failed() -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    response
        .batch_item_failures
        .push(DynamoDbBatchItemFailure::default());
    response
}
