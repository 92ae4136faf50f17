//! The outbox relay: the table's stream reports each new outbox row (a writer's
//! event, stored in the transaction of its change), and this function sends it
//! to its queue and removes it (`mso_api::outbox::relay_stored`). So a writer's
//! answer does not wait for SQS, and an event is sent within a second or so of
//! its commit. The sweepers still relay what stays longer than their grace
//! period (a batch that kept failing here, and went to this function's
//! dead-letter queue).
//!
//! [`handle`] takes the stream's batch (up to 100 rows) and relays it together:
//! three round trips, whatever its size. It reports the records it could not
//! relay, so Lambda retries from the first of them; the records after it that
//! did go through are found gone the second time and not sent again.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::outbox::{self, Relayed};
use mso_store::aws::DynamoRecordStore;
use mso_store::{Key, RecordStore, WorkQueue};

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
        queue: env.relay_queues(),
    })
}

/// Relays every outbox row the batch reports, together
/// ([`outbox::relay_stored`]: the rows read in one request, each queue's
/// events sent ten a request, the rows removed 25 a request), and reports the
/// sequence numbers of those that failed.
pub async fn handle(deps: &Deps, event: Event) -> DynamoDbEventResponse {
    // Only inserts carry a new event; the filter in infra/template.yaml lets
    // only them through, and the row's own removal (a REMOVE) is no work.
    let inserts: Vec<(&EventRecord, Key)> = event
        .records
        .iter()
        .filter(|record| record.event_name == "INSERT")
        .filter_map(|record| match DynamoRecordStore::key_of_stream_record(&record.change.keys) {
            Some(key) => Some((record, key)),
            None => {
                tracing::warn!(event_id = %record.event_id, "stream record without the table's keys; skipped");
                None
            }
        })
        .collect();
    let keys: Vec<Key> = inserts.iter().map(|(_, key)| key.clone()).collect();
    let outcomes = outbox::relay_stored(deps.records.as_ref(), deps.queue.as_ref(), &keys).await;
    let mut response = DynamoDbEventResponse::default();
    for ((record, _), outcome) in inserts.into_iter().zip(outcomes) {
        let event_id = &record.event_id;
        match outcome {
            Ok(Relayed::Sent) => {}
            Ok(Relayed::Gone) => tracing::info!(%event_id, "outbox event already relayed"),
            Ok(Relayed::NotAnEvent) => {
                tracing::warn!(%event_id, "stream record of a row outside the outbox; skipped")
            }
            Err(e) => {
                tracing::error!(%event_id, error = %e, "outbox event not relayed; the stream delivers it again");
                response.batch_item_failures.push(failure(record));
            }
        }
    }
    response
}

fn failure(record: &EventRecord) -> DynamoDbBatchItemFailure {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = record.change.sequence_number.clone();
    failure
}
