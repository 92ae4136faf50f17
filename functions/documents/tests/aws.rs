//! The documents job on the AWS adapters, against moto: DynamoDB for the
//! records, S3 for the bytes (the presigned PUT and GET the API hands out are
//! really used over HTTP), SQS for the auth events. The S3 event is built from
//! what moto stored (its HeadObject), as S3 would send it.
#![cfg(feature = "lambda")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::config::Credentials;
use documents::Deps;
use documents::verify::{self, Verdict};
use mso_api::{FixedClock, policies};
use mso_store::aws::{self, DynamoRecordStore, S3DocumentStore, SqsWorkQueue};
use mso_store::{ReceiveOptions, WorkQueue};
use mso_testkit::moto::Moto;
use serde_json::Value;
use support::{AUTH, Call, SUNRISE_ORG, fixture, json, slot};

const TABLE: &str = "mso-test";
const BUCKET: &str = "mso-test-docs";

struct OnMoto {
    deps: Deps,
    s3: aws_sdk_s3::Client,
    queue: Arc<SqsWorkQueue>,
    _moto: Moto,
}

async fn on_moto() -> Option<OnMoto> {
    let moto = Moto::start()?;
    let sdk = aws::sdk_config_for(
        "us-east-1",
        Some(&moto.endpoint),
        Credentials::new("testing", "testing", None, None, "moto"),
    );
    aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), TABLE)
        .await
        .unwrap();
    let documents = S3DocumentStore::new(&sdk, BUCKET);
    documents
        .client()
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let events = sqs
        .create_queue()
        .queue_name("auth-events")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue = Arc::new(SqsWorkQueue::from_client(
        sqs,
        HashMap::from([("auth-events".to_string(), events)]),
    ));
    let records = Arc::new(DynamoRecordStore::from_client(
        aws_sdk_dynamodb::Client::new(&sdk),
        TABLE,
        mso_store::CursorKey::from_secret(&[7; 32]).unwrap(),
    ));
    let policy = Arc::new(policies::load("sunrise").unwrap());
    let clock = Arc::new(FixedClock::new(mso_testkit::NOW.parse().unwrap()));
    mso_testkit::load_directory(records.as_ref(), &policy).await;
    mso_testkit::file_auth(
        records.as_ref(),
        queue.as_ref(),
        &policy,
        mso_testkit::NOW.parse().unwrap(),
        AUTH,
    )
    .await;
    let s3 = documents.client().clone();
    Some(OnMoto {
        deps: Deps {
            records,
            documents: Arc::new(documents),
            queue: queue.clone(),
            policy,
            clock,
        },
        s3,
        queue,
        _moto: moto,
    })
}

impl OnMoto {
    async fn call(&self, call: Call) -> (u16, Value) {
        let resp = documents::handle(&self.deps, call.build()).await;
        (resp.status().as_u16(), json(&resp))
    }

    async fn slot(&self, key: &str, body: &Value) -> Value {
        let (status, v) = self
            .call(
                Call::new("POST /v1/documents", "/v1/documents")
                    .by(SUNRISE_ORG, "provider_user")
                    .header("idempotency-key", key)
                    .json(body),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        v
    }

    async fn get(&self, id: &str) -> Value {
        let (status, v) = self
            .call(
                Call::new("GET /v1/documents/{id}", &format!("/v1/documents/{id}"))
                    .by(SUNRISE_ORG, "provider_user"),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    /// The ObjectCreated event for `key`, from what moto stored.
    async fn event_for(&self, key: &str) -> documents::S3Event {
        let head = self
            .s3
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        let size = u64::try_from(head.content_length().unwrap()).unwrap();
        verify::object_created(BUCKET, key, size, jiff::Timestamp::now())
    }
}

/// Sends the body to the upload URL with exactly the headers the API named.
async fn put(slot: &Value, bytes: Vec<u8>) -> reqwest::StatusCode {
    let mut req = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .put(slot["upload"]["url"].as_str().unwrap());
    for (name, value) in slot["upload"]["headers"].as_object().unwrap() {
        req = req.header(name.as_str(), value.as_str().unwrap());
    }
    req.body(bytes).send().await.unwrap().status()
}

#[tokio::test]
async fn upload_verify_and_download_through_s3_presigned_urls() {
    let Some(m) = on_moto().await else { return };
    let letter = fixture("letter.pdf").to_vec();
    let v = m
        .slot(
            "k1",
            &slot("notes.pdf", "application/pdf", letter.len() as u64),
        )
        .await;
    let id = v["id"].as_str().unwrap();
    let key = format!("documents/{id}.pdf");
    let url = v["upload"]["url"].as_str().unwrap();
    assert!(
        url.contains(&key) && url.contains("X-Amz-Signature="),
        "{url}"
    );
    assert!(!url.contains("notes"), "no file name in the URL: {url}");

    assert!(put(&v, letter.clone()).await.is_success());
    // Stored with the declared type, and no user metadata at all.
    let head =
        m.s3.head_object()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
            .unwrap();
    assert_eq!(head.content_type(), Some("application/pdf"));
    assert!(
        head.metadata().is_none_or(|meta| meta.is_empty()),
        "{:?}",
        head.metadata()
    );
    // The URL only creates: moto, like S3, refuses a second PUT.
    assert_eq!(
        put(&v, letter.clone()).await,
        reqwest::StatusCode::PRECONDITION_FAILED
    );

    let report = verify::handle(&m.deps, m.event_for(&key).await)
        .await
        .unwrap();
    assert_eq!(report.records[0].verdict, Verdict::Available);
    let doc = m.get(id).await;
    assert_eq!(doc["status"], "available");
    let download = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(doc["download"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(download.status().is_success());
    assert_eq!(download.bytes().await.unwrap().to_vec(), letter);

    // The auth's change went out on the auth-events queue.
    let events = m
        .queue
        .receive("auth-events", ReceiveOptions::default())
        .await
        .unwrap();
    assert!(
        events.iter().any(|e| e.body.contains("\"document_added\"")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_wrong_file_is_rejected_and_deleted_from_the_bucket() {
    let Some(m) = on_moto().await else { return };
    let zip = fixture("archive.zip").to_vec();
    let v = m
        .slot("k2", &slot("scan.pdf", "application/pdf", zip.len() as u64))
        .await;
    let id = v["id"].as_str().unwrap();
    let key = format!("documents/{id}.pdf");
    assert!(put(&v, zip).await.is_success());
    let event = m.event_for(&key).await;
    let report = verify::handle(&m.deps, event.clone()).await.unwrap();
    assert_eq!(
        report.records[0].verdict,
        Verdict::Rejected {
            code: "type_mismatch".into()
        }
    );
    assert_eq!(m.deps.documents.head(&key).await.unwrap(), None);
    let doc = m.get(id).await;
    assert_eq!(doc["status"], "rejected");
    assert!(doc["download"].is_null());
    // The duplicate delivery changes nothing.
    let again = verify::handle(&m.deps, event).await.unwrap();
    assert!(matches!(
        again.records[0].verdict,
        Verdict::Unchanged { .. }
    ));
}
