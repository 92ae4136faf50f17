//! The contract suite against the AWS adapters, on the moto emulator: one
//! `moto_server` per test (`mso_testkit::moto`; without it on PATH these tests
//! fail, unless `MSO_SKIP_MOTO=1`, which skips them loudly).
#![cfg(feature = "aws")]

mod contract;

use std::collections::HashMap;

use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_sqs::types::QueueAttributeName;
use contract::{JOBS, JOBS_DLQ, MAX_RECEIVE_COUNT};
use mso_store::aws::{self, DynamoRecordStore, S3DocumentStore, SqsWorkQueue};
use mso_testkit::moto::Moto;

const TABLE: &str = "mso-test";
const BUCKET: &str = "mso-test-documents";
/// Logical name of the FIFO queue used for de-duplication.
const DEDUP: &str = "dedup";

/// Moto plus the three adapters over a fresh table, bucket and queues.
struct Aws {
    records: DynamoRecordStore,
    documents: S3DocumentStore,
    queue: SqsWorkQueue,
    // Dropped last: moto must outlive the clients' last requests.
    _moto: Moto,
}

impl Aws {
    async fn start() -> Option<Aws> {
        let moto = Moto::start()?;
        // Everything explicit, nothing from the host's environment or profile:
        // tests run in parallel threads and must not touch process env.
        let sdk = aws::sdk_config_for(
            "us-east-1",
            Some(&moto.endpoint),
            Credentials::new("testing", "testing", None, None, "moto"),
        );

        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        aws::create_table(&dynamo, TABLE).await.unwrap();
        let documents = S3DocumentStore::new(&sdk, BUCKET);
        documents
            .client()
            .create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();

        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let create = |name: &str, attributes: Vec<(QueueAttributeName, String)>| {
            let mut request = sqs.create_queue().queue_name(name);
            for (attribute, value) in attributes {
                request = request.attributes(attribute, value);
            }
            async move { request.send().await.unwrap().queue_url.unwrap() }
        };
        let dlq_url = create(JOBS_DLQ, vec![]).await;
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .unwrap();
        let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT.to_string()});
        let jobs_url = create(
            JOBS,
            vec![(QueueAttributeName::RedrivePolicy, redrive.to_string())],
        )
        .await;
        let fifo_url = create(
            "dedup.fifo",
            vec![(QueueAttributeName::FifoQueue, "true".into())],
        )
        .await;
        let urls = HashMap::from([
            (JOBS.to_string(), jobs_url),
            (JOBS_DLQ.to_string(), dlq_url),
            (DEDUP.to_string(), fifo_url),
        ]);
        Some(Aws {
            records: DynamoRecordStore::from_client(
                dynamo,
                TABLE,
                mso_store::CursorKey::from_secret(&[7; 32]).unwrap(),
            ),
            documents,
            queue: SqsWorkQueue::from_client(sqs, urls),
            _moto: moto,
        })
    }
}

/// One test per contract check, each on its own moto.
macro_rules! contract {
    ($($name:ident($store:ident $(, $arg:expr)*);)*) => {$(
        #[tokio::test]
        async fn $name() {
            let Some(aws) = Aws::start().await else { return };
            contract::$name(&aws.$store $(, $arg)*).await;
        }
    )*};
}

contract! {
    get_absent(records);
    put_get_round_trip(records);
    get_many_in_order(records);
    delete_many_lazy_removes_each(records);
    put_absent(records);
    append_only(records);
    put_absent_or_expired(records);
    put_version_is(records);
    put_lazy_or_get(records);
    empty_keys_are_refused(records);
    transact_all_or_nothing(records);
    transact_of_one_write(records);
    query_primary(records);
    query_gsi1(records);
    query_paging(records);
    query_cursors_are_sealed(records);
    query_between(records);
    documents_crud(documents);
    put_if_absent_never_replaces(documents);
    presigned_put_then_get(documents);
    presigned_put_never_replaces(documents);
    presigned_get(documents);
    queue_send_receive_delete(queue);
    queue_wait_for_message(queue);
    queue_visibility_timeout(queue);
    queue_dead_letter(queue);
    queue_dedup(queue, DEDUP);
    queue_send_many(queue, DEDUP);
}

// Presigned PUT refusals (other content type or length, forged or expired URLs)
// are tested on the embedded adapter only: moto does not enforce S3 signatures.

#[tokio::test]
async fn unknown_queue_is_not_configured() {
    let Some(aws) = Aws::start().await else {
        return;
    };
    use mso_store::WorkQueue;
    let result = aws.queue.send("nope", "x", "y").await;
    assert!(
        matches!(result, Err(mso_store::StoreError::NotConfigured(_))),
        "{result:?}"
    );
    let message = mso_store::Outgoing {
        body: "x",
        dedup_id: "y",
    };
    let outcomes = aws.queue.send_many_lazy("nope", &[message; 3]).await;
    assert_eq!(outcomes.len(), 3);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Err(mso_store::StoreError::NotConfigured(_)))),
        "{outcomes:?}"
    );
}

/// A standard queue cannot de-duplicate: each message of a batch carries its
/// id in the `dedup_id` attribute, as a single send's does.
#[tokio::test]
async fn send_many_to_a_standard_queue_carries_each_dedup_id() {
    let Some(aws) = Aws::start().await else {
        return;
    };
    use mso_store::WorkQueue;
    let bodies: Vec<String> = (0..12).map(|n| format!("body-{n}")).collect();
    let ids: Vec<String> = (0..12).map(|n| format!("id-{n}")).collect();
    let messages: Vec<mso_store::Outgoing<'_>> = bodies
        .iter()
        .zip(&ids)
        .map(|(body, dedup_id)| mso_store::Outgoing { body, dedup_id })
        .collect();

    let outcomes = aws.queue.send_many_lazy(JOBS, &messages).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");

    let url = aws
        .queue
        .client()
        .get_queue_url()
        .queue_name(JOBS)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let mut pairs = std::collections::BTreeSet::new();
    for _ in 0..10 {
        let received = aws
            .queue
            .client()
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        for m in received.messages.unwrap_or_default() {
            let id = m
                .message_attributes
                .as_ref()
                .and_then(|a| a.get("dedup_id"))
                .and_then(|v| v.string_value.clone())
                .unwrap_or_default();
            pairs.insert((m.body.unwrap_or_default(), id));
        }
        if pairs.len() >= 12 {
            break;
        }
    }
    let expected: std::collections::BTreeSet<(String, String)> =
        bodies.into_iter().zip(ids).collect();
    assert_eq!(pairs, expected);
}
