//! The outbox relay on the table stream's records: on the embedded store, then
//! on DynamoDB and SQS in moto. Each test stores events as a writer does (in a
//! transaction, `OutboxEvent::stage`) and hands the relay the stream record of
//! each new row, in the shape of events/outbox-relay/.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use async_trait::async_trait;
use mso_api::outbox::{self, OutboxEvent};
use mso_store::embedded::Embedded;
use mso_store::{Key, Query, QueueMessage, ReceiveOptions, RecordStore, StoreError, WorkQueue};
use outbox_relay::{Deps, DynamoDbEvent, handle};
use serde_json::{Value, json};

const AUTH_EVENTS: &str = "auth-events";
const DISPUTE_EVENTS: &str = "dispute-events";

/// The ports as the outbox-relay role in the stack lets it use the table
/// (`mso_testkit::role`): the tests store their outbox rows as the writers do,
/// then hand the relay its own.
fn as_relay(deps: &Deps) -> Deps {
    Deps {
        records: mso_testkit::role::RoleRecords::wrap(
            deps.records.clone(),
            mso_testkit::role::Role::of("outbox-relay"),
        ),
        queue: deps.queue.clone(),
    }
}

fn at() -> jiff::Timestamp {
    "2026-03-02T17:05:00Z".parse().unwrap()
}

/// An event as a writer stores it with its change.
async fn stored(records: &dyn RecordStore, body: &str) -> OutboxEvent {
    let event = OutboxEvent::new(AUTH_EVENTS, body.to_string(), at());
    records
        .transact(vec![event.stage().unwrap()])
        .await
        .unwrap();
    event
}

/// The stored row's key, as the outbox lays it out.
async fn row_keys(records: &dyn RecordStore) -> Vec<Key> {
    let page = records
        .query(Query::primary(
            mso_store::keys::outbox_partition(AUTH_EVENTS),
            "",
        ))
        .await
        .unwrap();
    page.records.into_iter().map(|r| r.key).collect()
}

/// The stream's batch for `keys` (inserts), shaped as the sample.
fn batch(keys: &[(&Key, &str)]) -> DynamoDbEvent {
    let sample: Value = serde_json::from_str(include_str!(
        "../../../events/outbox-relay/auth-event-stored.json"
    ))
    .unwrap();
    let records: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(n, (key, name))| {
            let mut record = sample["Records"][0].clone();
            record["eventName"] = json!(name);
            record["dynamodb"]["Keys"] = json!({"pk": {"S": key.pk}, "sk": {"S": key.sk}});
            record["dynamodb"]["SequenceNumber"] = json!(format!("{}", 1000 + n));
            record
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn failed(response: &outbox_relay::DynamoDbBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap_or_default())
        .collect()
}

async fn received(queue: &dyn WorkQueue) -> Vec<QueueMessage> {
    let options = ReceiveOptions {
        max_messages: 10,
        wait: Duration::ZERO,
        ..ReceiveOptions::default()
    };
    queue.receive(AUTH_EVENTS, options).await.unwrap()
}

struct Local {
    deps: Deps,
    _dir: tempfile::TempDir,
}

fn local() -> Local {
    let dir = tempfile::tempdir().unwrap();
    let embedded = Embedded::open(dir.path(), "http://127.0.0.1:9".into()).unwrap();
    Local {
        deps: Deps {
            records: embedded.records(),
            queue: embedded.queue(),
        },
        _dir: dir,
    }
}

#[tokio::test]
async fn a_new_outbox_row_is_sent_to_its_queue_and_removed() {
    let local = local();
    let event = stored(local.deps.records.as_ref(), r#"{"auth":"PA-7K3Q9M"}"#).await;
    let keys = row_keys(local.deps.records.as_ref()).await;
    assert_eq!(keys.len(), 1);

    let response = handle(&as_relay(&local.deps), batch(&[(&keys[0], "INSERT")])).await;

    assert!(failed(&response).is_empty());
    let messages = received(local.deps.queue.as_ref()).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, event.body);
    assert!(row_keys(local.deps.records.as_ref()).await.is_empty());
}

#[tokio::test]
async fn a_record_delivered_again_sends_nothing_twice() {
    let local = local();
    stored(local.deps.records.as_ref(), r#"{"auth":"PA-7K3Q9M"}"#).await;
    let key = row_keys(local.deps.records.as_ref()).await.remove(0);
    let record = batch(&[(&key, "INSERT")]);

    assert!(failed(&handle(&as_relay(&local.deps), record.clone()).await).is_empty());
    // Lambda retries a batch from its first failure: the rows after it that
    // went through come again, and are found gone.
    assert!(failed(&handle(&as_relay(&local.deps), record).await).is_empty());

    assert_eq!(received(local.deps.queue.as_ref()).await.len(), 1);
}

#[tokio::test]
async fn removals_and_rows_outside_the_outbox_are_no_work() {
    let local = local();
    stored(local.deps.records.as_ref(), r#"{"auth":"PA-7K3Q9M"}"#).await;
    let outbox_row = row_keys(local.deps.records.as_ref()).await.remove(0);
    let auth = mso_store::keys::prior_auth("PA-7K3Q9M");
    local
        .deps
        .records
        .transact(vec![mso_store::WriteOp::Put {
            record: mso_store::Record::new(auth.clone(), json!({"status": "approved"})),
            condition: mso_store::Condition::Absent,
        }])
        .await
        .unwrap();

    let response = handle(
        &local.deps,
        batch(&[(&outbox_row, "REMOVE"), (&auth, "INSERT")]),
    )
    .await;

    assert!(failed(&response).is_empty());
    assert!(received(local.deps.queue.as_ref()).await.is_empty());
    assert_eq!(
        row_keys(local.deps.records.as_ref()).await,
        vec![outbox_row]
    );
    assert!(local.deps.records.get(&auth).await.unwrap().is_some());
}

/// A queue that counts the requests of batched sends, and refuses each
/// message whose body names `refused`.
struct Counted {
    inner: Arc<dyn WorkQueue>,
    batches: AtomicUsize,
    refused: &'static str,
}

#[async_trait]
impl WorkQueue for Counted {
    async fn send(&self, q: &str, b: &str, d: &str) -> Result<String, StoreError> {
        if !self.refused.is_empty() && b.contains(self.refused) {
            return Err(StoreError::unavailable("test queue", "refused"));
        }
        self.inner.send(q, b, d).await
    }
    async fn send_many_lazy(
        &self,
        q: &str,
        messages: &[mso_store::Outgoing<'_>],
    ) -> Vec<Result<(), StoreError>> {
        self.batches.fetch_add(messages.len().div_ceil(10), SeqCst);
        let mut outcomes = Vec::new();
        for m in messages {
            outcomes.push(self.send(q, m.body, m.dedup_id).await.map(drop));
        }
        outcomes
    }
    async fn receive(&self, q: &str, o: ReceiveOptions) -> Result<Vec<QueueMessage>, StoreError> {
        self.inner.receive(q, o).await
    }
    async fn delete(&self, q: &str, r: &str) -> Result<(), StoreError> {
        self.inner.delete(q, r).await
    }
}

fn counted(inner: &Arc<dyn WorkQueue>, refused: &'static str) -> Arc<Counted> {
    Arc::new(Counted {
        inner: inner.clone(),
        batches: AtomicUsize::new(0),
        refused,
    })
}

/// Every message `queue` holds for `name`, each received once.
async fn drained(queue: &dyn WorkQueue, name: &str) -> Vec<String> {
    let options = ReceiveOptions {
        max_messages: 10,
        wait: Duration::ZERO,
        ..ReceiveOptions::default()
    };
    let mut bodies = Vec::new();
    loop {
        let messages = queue.receive(name, options).await.unwrap();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            queue.delete(name, &m.receipt).await.unwrap();
            bodies.push(m.body);
        }
    }
    bodies.sort();
    bodies
}

/// A full batch of the stream (100 rows, two queues): its rows read in one
/// request, each queue's events sent ten a request, the rows removed in one
/// more: three round trips, not three per row.
#[tokio::test]
async fn a_full_batch_is_read_sent_and_removed_together() {
    let local = local();
    let records = local.deps.records.as_ref();
    let mut keys = Vec::new();
    for n in 0..100 {
        let queue = if n < 73 { AUTH_EVENTS } else { DISPUTE_EVENTS };
        let event = OutboxEvent::new(queue, format!(r#"{{"n":{n:03}}}"#), at());
        records
            .transact(vec![event.stage().unwrap()])
            .await
            .unwrap();
        keys.push(mso_store::keys::outbox(
            queue,
            &mso_api::audit::sortable_instant(at()),
            &event.id,
        ));
    }
    let slow = mso_testkit::SlowReads::new(local.deps.records.clone(), Duration::from_millis(20));
    let queue = counted(&local.deps.queue, "");
    let deps = Deps {
        records: slow.clone(),
        queue: queue.clone(),
    };
    let inserts: Vec<(&Key, &str)> = keys.iter().map(|k| (k, "INSERT")).collect();

    let response = handle(&as_relay(&deps), batch(&inserts)).await;

    assert!(failed(&response).is_empty());
    let (auth, disputes) = (
        drained(local.deps.queue.as_ref(), AUTH_EVENTS).await,
        drained(local.deps.queue.as_ref(), DISPUTE_EVENTS).await,
    );
    assert_eq!((auth.len(), disputes.len()), (73, 27));
    assert_eq!(auth[0], r#"{"n":000}"#);
    assert_eq!(disputes[0], r#"{"n":073}"#);
    assert!(row_keys(records).await.is_empty());
    assert_eq!((slow.reads(), slow.writes()), (1, 1));
    // 73 events in 8 requests, 27 in 3.
    assert_eq!(queue.batches.load(SeqCst), 11);
}

/// One message of the batch refused: its record alone is reported, its row
/// stays for the retry, and the others are sent and removed.
#[tokio::test]
async fn a_refused_message_fails_its_record_alone() {
    let local = local();
    stored(local.deps.records.as_ref(), r#"{"auth":"PA-7K3Q9M"}"#).await;
    stored(local.deps.records.as_ref(), r#"{"auth":"PA-8M4R0N"}"#).await;
    stored(local.deps.records.as_ref(), r#"{"auth":"PA-9N5S1P"}"#).await;
    let keys = row_keys(local.deps.records.as_ref()).await;
    let deps = Deps {
        records: local.deps.records.clone(),
        queue: counted(&local.deps.queue, "PA-8M4R0N"),
    };
    let inserts: Vec<(&Key, &str)> = keys.iter().map(|k| (k, "INSERT")).collect();

    let response = handle(&as_relay(&deps), batch(&inserts)).await;

    assert_eq!(failed(&response), ["1001"]);
    assert_eq!(
        row_keys(local.deps.records.as_ref()).await,
        vec![keys[1].clone()]
    );
    assert_eq!(
        drained(local.deps.queue.as_ref(), AUTH_EVENTS).await,
        [r#"{"auth":"PA-7K3Q9M"}"#, r#"{"auth":"PA-9N5S1P"}"#]
    );
}

#[tokio::test]
async fn a_failed_send_reports_its_record_and_keeps_the_event() {
    let local = local();
    stored(local.deps.records.as_ref(), r#"{"auth":"PA-7K3Q9M"}"#).await;
    stored(local.deps.records.as_ref(), r#"{"auth":"PA-8M4R0N"}"#).await;
    let keys = row_keys(local.deps.records.as_ref()).await;
    let deps = Deps {
        records: local.deps.records.clone(),
        queue: Arc::new(mso_testkit::QueueDown),
    };

    let response = handle(
        &as_relay(&deps),
        batch(&[(&keys[0], "INSERT"), (&keys[1], "INSERT")]),
    )
    .await;

    let mut failures = failed(&response);
    failures.sort();
    assert_eq!(failures, ["1000", "1001"]);
    assert_eq!(row_keys(local.deps.records.as_ref()).await, keys);
}

/// A writer whose queue is fed by the table's stream leaves its events in the
/// outbox for the relay; one without (the embedded store) sends them itself.
#[tokio::test]
async fn writers_leave_their_events_to_the_stream_only_where_there_is_one() {
    struct FedByStream(Arc<dyn WorkQueue>);
    #[async_trait]
    impl WorkQueue for FedByStream {
        async fn send(&self, q: &str, b: &str, d: &str) -> Result<String, StoreError> {
            self.0.send(q, b, d).await
        }
        async fn receive(
            &self,
            q: &str,
            o: ReceiveOptions,
        ) -> Result<Vec<QueueMessage>, StoreError> {
            self.0.receive(q, o).await
        }
        async fn delete(&self, q: &str, r: &str) -> Result<(), StoreError> {
            self.0.delete(q, r).await
        }
        fn fed_by_table_stream(&self) -> bool {
            true
        }
    }
    let local = local();
    let records = local.deps.records.as_ref();
    let streamed = FedByStream(local.deps.queue.clone());

    let event = stored(records, r#"{"auth":"PA-7K3Q9M"}"#).await;
    outbox::publish(records, &streamed, std::slice::from_ref(&event)).await;
    assert!(received(local.deps.queue.as_ref()).await.is_empty());
    assert_eq!(row_keys(records).await.len(), 1);

    outbox::publish(records, local.deps.queue.as_ref(), &[event]).await;
    assert_eq!(received(local.deps.queue.as_ref()).await.len(), 1);
    assert!(row_keys(records).await.is_empty());
}

/// On DynamoDB and SQS (moto): the stream's record names the row the adapter
/// wrote; the message lands on the queue with its de-duplication id, and the
/// row is gone.
#[tokio::test]
async fn on_moto_the_relay_sends_the_stored_event_and_removes_its_row() {
    use aws_sdk_dynamodb::config::Credentials;
    use mso_store::aws::{self, DynamoRecordStore, SqsWorkQueue};
    let Some(moto) = mso_testkit::moto::Moto::start() else {
        return;
    };
    let sdk = aws::sdk_config_for(
        "us-east-1",
        Some(&moto.endpoint),
        Credentials::new("testing", "testing", None, None, "moto"),
    );
    aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), "mso-relay")
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .create_queue()
        .queue_name("mso-sunrise-auth-events")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let records = Arc::new(DynamoRecordStore::new(
        &sdk,
        "mso-relay",
        mso_store::CursorKey::from_secret(&[7; 32]).unwrap(),
    ));
    // As in the stack: its queues are fed by the table's stream, so the
    // writer's publish sends nothing, and the relay's send does.
    let queue = Arc::new(
        SqsWorkQueue::new(&sdk, HashMap::from([(AUTH_EVENTS.to_string(), url)]))
            .with_table_stream_relay(),
    );
    let deps = Deps { records, queue };
    let event = stored(deps.records.as_ref(), r#"{"auth":"PA-7K3Q9M"}"#).await;
    outbox::publish(
        deps.records.as_ref(),
        deps.queue.as_ref(),
        std::slice::from_ref(&event),
    )
    .await;
    assert!(received(deps.queue.as_ref()).await.is_empty());
    let keys = row_keys(deps.records.as_ref()).await;
    assert_eq!(keys.len(), 1);

    let response = handle(&as_relay(&deps), batch(&[(&keys[0], "INSERT")])).await;

    assert!(failed(&response).is_empty(), "{response:?}");
    assert_eq!(
        drained(deps.queue.as_ref(), AUTH_EVENTS).await,
        [event.body]
    );
    assert!(row_keys(deps.records.as_ref()).await.is_empty());

    // A batch of more than SQS and BatchWriteItem take in one request each.
    let mut bodies = Vec::new();
    for n in 0..27 {
        bodies.push(
            stored(deps.records.as_ref(), &format!(r#"{{"n":{n:02}}}"#))
                .await
                .body,
        );
    }
    let keys = row_keys(deps.records.as_ref()).await;
    let inserts: Vec<(&Key, &str)> = keys.iter().map(|k| (k, "INSERT")).collect();

    let response = handle(&as_relay(&deps), batch(&inserts)).await;

    assert!(failed(&response).is_empty(), "{response:?}");
    assert_eq!(drained(deps.queue.as_ref(), AUTH_EVENTS).await, bodies);
    assert!(row_keys(deps.records.as_ref()).await.is_empty());
}
