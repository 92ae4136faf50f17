//! The contract suite against the AWS adapters, on the moto emulator.
//!
//! Each test starts its own `moto_server` on a free port (about half a second),
//! so tests are isolated and run in parallel; the [`Moto`] guard kills it when the
//! test ends, failed assertions included. Without `moto_server` on PATH these
//! tests fail, unless `MSO_SKIP_MOTO=1`, which skips them loudly.
#![cfg(feature = "aws")]

mod contract;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_sqs::types::QueueAttributeName;
use contract::{JOBS, JOBS_DLQ, MAX_RECEIVE_COUNT};
use mso_store::aws::{self, DynamoRecordStore, S3DocumentStore, SqsWorkQueue};

const TABLE: &str = "mso-test";
const BUCKET: &str = "mso-test-documents";
/// Logical name of the FIFO queue used for de-duplication.
const DEDUP: &str = "dedup";

/// A running `moto_server`, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto, or returns `None` when it is missing and `MSO_SKIP_MOTO=1`.
    fn start() -> Option<Moto> {
        for _ in 0..3 {
            // Bind port 0 for a free port, then release it for moto; another
            // process may take it in between, so a failed start is retried.
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match child {
                Ok(child) => child,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if std::env::var("MSO_SKIP_MOTO").as_deref() == Ok("1") {
                        // Straight to stderr: the test harness would swallow `eprintln!`.
                        use std::io::Write;
                        let _ = writeln!(
                            std::io::stderr(),
                            "\n!!!!!!!! SKIPPED: moto_server is not on PATH and MSO_SKIP_MOTO=1; \
                             the AWS adapters were NOT tested !!!!!!!!\n"
                        );
                        return None;
                    }
                    panic!(
                        "moto_server is not on PATH, so the AWS adapters cannot be tested. Run the tests \
                         the way the README says (tests/run), or `pip install 'moto[server]==5.2.1'`; \
                         set MSO_SKIP_MOTO=1 to skip these tests."
                    );
                }
                Err(e) => panic!("cannot start moto_server: {e}"),
            };
            let mut moto = Moto {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
            };
            if moto.wait_until_listening(port) {
                return Some(moto);
            }
        }
        panic!("moto_server did not start (3 attempts)");
    }

    fn wait_until_listening(&mut self, port: u16) -> bool {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false; // exited, e.g. the port was taken
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

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
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .empty_test_environment()
            .region(Region::new("us-east-1"))
            .endpoint_url(&moto.endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"));
        let sdk = aws::sdk_config_from(loader).await;

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
    put_absent(records);
    append_only(records);
    put_absent_or_expired(records);
    put_version_is(records);
    empty_keys_are_refused(records);
    transact_all_or_nothing(records);
    query_primary(records);
    query_gsi1(records);
    query_paging(records);
    query_cursors_are_sealed(records);
    query_between(records);
    documents_crud(documents);
    presigned_put_then_get(documents);
    presigned_get(documents);
    queue_send_receive_delete(queue);
    queue_wait_for_message(queue);
    queue_visibility_timeout(queue);
    queue_dead_letter(queue);
    queue_dedup(queue, DEDUP);
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
}
