//! The claims job on the AWS adapters, against moto: DynamoDB for the records,
//! S3 for the files and their acknowledgements, SQS for the edit work items
//! (received, handled and deleted as Lambda's event source mapping does; a
//! poisoned message redriven to the dead-letter queue by SQS itself). The S3
//! event is built from what moto stored, as S3 would send it.
#![cfg(feature = "lambda")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::Credentials;
use claims::Deps;
use mso_api::{FixedClock, policies};
use mso_store::ReceiveOptions;
use mso_store::aws::{self, DynamoRecordStore, S3DocumentStore, SqsWorkQueue};
use mso_testkit::moto::Moto;
use mso_testkit::x12::{Spec, professional};
use serde_json::Value;
use support::{BILLED_AT, Call, HARBOR_NPI, IPA, SUNRISE_ORG, json, sqs_event};

const TABLE: &str = "mso-test";
const BUCKET: &str = "mso-test-claims";

struct OnMoto {
    deps: Deps,
    s3: aws_sdk_s3::Client,
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
    let files = S3DocumentStore::new(&sdk, BUCKET);
    files
        .client()
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut urls = HashMap::new();
    for name in ["claim-edits", "claim-readjudication"] {
        let dlq = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        let url = sqs
            .create_queue()
            .queue_name(name)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
                format!("{{\"deadLetterTargetArn\":\"{dlq_arn}\",\"maxReceiveCount\":\"2\"}}"),
            )
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        urls.insert(name.to_string(), url);
        urls.insert(format!("{name}-dlq"), dlq);
    }
    let queue = Arc::new(SqsWorkQueue::from_client(sqs, urls));
    let records = Arc::new(DynamoRecordStore::from_client(
        aws_sdk_dynamodb::Client::new(&sdk),
        TABLE,
        mso_store::CursorKey::from_secret(&[7; 32]).unwrap(),
    ));
    let policy = Arc::new(policies::load("sunrise").unwrap());
    mso_testkit::load_directory(records.as_ref(), &policy).await;
    let s3 = files.client().clone();
    Some(OnMoto {
        deps: Deps {
            records,
            files: Arc::new(files),
            queue,
            policy,
            clock: Arc::new(FixedClock::new(BILLED_AT.parse().unwrap())),
        },
        s3,
        _moto: moto,
    })
}

impl OnMoto {
    async fn call(&self, call: Call) -> (u16, Value) {
        let resp = claims::handle(&self.deps, call.build()).await;
        (resp.status().as_u16(), json(&resp))
    }

    /// S3's ObjectCreated event for `key`, from what moto stored.
    async fn object_created(&self, key: &str) -> Value {
        let head = self
            .s3
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        let size = u64::try_from(head.content_length().unwrap()).unwrap();
        let event = claims::intake::object_created(BUCKET, key, size, jiff::Timestamp::now());
        let report = claims::intake::handle(&self.deps, event).await.unwrap();
        serde_json::to_value(report).unwrap()["records"][0].clone()
    }

    /// Lambda's SQS event source mapping over the real queue until it is empty.
    async fn drain(&self) -> usize {
        let mut handled = 0;
        loop {
            let messages = self
                .deps
                .queue
                .receive(claims::CLAIM_EDITS, ReceiveOptions::default())
                .await
                .unwrap();
            if messages.is_empty() {
                return handled;
            }
            let response =
                claims::edits::handle(&self.deps, sqs_event(claims::CLAIM_EDITS, &messages)).await;
            assert!(response.batch_item_failures.is_empty());
            for m in &messages {
                self.deps
                    .queue
                    .delete(claims::CLAIM_EDITS, &m.receipt)
                    .await
                    .unwrap();
                handled += 1;
            }
        }
    }

    async fn file(&self, id: &str, org: &str, role: &str) -> Value {
        let (status, v) = self
            .call(
                Call::new("GET /v1/claim-files/{id}", &format!("/v1/claim-files/{id}"))
                    .by(org, role),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }
}

#[tokio::test]
async fn a_posted_file_goes_through_s3_sqs_and_dynamodb_to_its_277ca() {
    let Some(m) = on_moto().await else { return };
    let mut theirs = Spec::office_visit("THEIRS", "20260313");
    theirs.billing_npi = HARBOR_NPI.into();
    theirs.rendering_npi = None;
    let file = professional(
        77,
        &[
            Spec::office_visit("A-1", "20260310"),
            Spec::office_visit("A-2", "20260311"),
            theirs,
        ],
    );
    let mut call = Call::new("POST /v1/claim-files", "/v1/claim-files")
        .by(SUNRISE_ORG, "provider_user")
        .header("idempotency-key", "moto-1")
        .header("content-type", "application/edi-x12");
    call.body = file.clone().into_bytes();
    let (status, posted) = m.call(call).await;
    assert_eq!(status, 202, "{posted}");
    let id = posted["id"].as_str().unwrap();
    let key = format!("claim-files/{id}.x12");
    // The bytes are in S3 exactly as posted.
    let (_, stored) = m.deps.files.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.as_ref(), file.as_bytes());
    assert_eq!(m.object_created(&key).await["outcome"], "read");
    // S3 delivers the event again: nothing changes.
    assert_eq!(m.object_created(&key).await["outcome"], "unchanged");
    assert_eq!(
        m.drain().await,
        2,
        "one work item per claim taken, none for the rejected one"
    );
    let v = m.file(id, SUNRISE_ORG, "provider_user").await;
    assert_eq!(v["status"], "acknowledged", "{v}");
    assert_eq!(v["counts"]["accepted"], 2);
    assert_eq!(v["counts"]["rejected"], 1);
    let ack = v["ack_277ca"].as_str().unwrap();
    assert!(ack.contains("TRN*2*A-1~\nSTC*A2:20"), "{ack}");
    assert!(ack.contains("TRN*2*THEIRS~\nSTC*A3:21:85"), "{ack}");
    assert!(v["ack_999"].as_str().unwrap().contains("AK9*A*1*1*1~"));
    // The acknowledgements are objects of the bucket.
    let acks =
        m.s3.list_objects_v2()
            .bucket(BUCKET)
            .prefix(format!("acks/{id}/"))
            .send()
            .await
            .unwrap();
    let mut names: Vec<String> = acks
        .contents()
        .iter()
        .map(|o| o.key().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["277ca.json", "277ca.x12", "999.json", "999.x12"]);
    // Claims list for the practice, read back through DynamoDB's query.
    let (status, list) = m
        .call(
            Call::new("GET /v1/claims", "/v1/claims")
                .query("status=accepted")
                .by(SUNRISE_ORG, "provider_user"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_clearinghouse_drop_is_read_from_its_key_and_acknowledged_for_staff() {
    let Some(m) = on_moto().await else { return };
    let file = professional(78, &[Spec::office_visit("D-1", "20260312")]);
    let key = "inbound/acme/batch 78.837";
    m.s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(file.into_bytes().into())
        .send()
        .await
        .unwrap();
    let outcome = m.object_created(key).await;
    assert_eq!(outcome["outcome"], "read", "{outcome}");
    let file_id = outcome["file_id"].as_str().unwrap().to_string();
    m.drain().await;
    let v = m.file(&file_id, IPA, "claims_examiner").await;
    assert_eq!(v["counts"]["accepted"], 1, "{v}");
    let (status, _) = m
        .call(
            Call::new(
                "GET /v1/claim-files/{id}",
                &format!("/v1/claim-files/{file_id}"),
            )
            .by(SUNRISE_ORG, "provider_user"),
        )
        .await;
    assert_eq!(status, 404);
    // S3 delivers the event again: S3 refuses the 999's conditional writes
    // (412), and nothing changes.
    let again = m.object_created(key).await;
    assert_eq!(again["outcome"], "unchanged", "{again}");
    let after = m.file(&file_id, IPA, "claims_examiner").await;
    assert_eq!(after["ack_999"], v["ack_999"]);
    assert_eq!(after["counts"], v["counts"]);
}

#[tokio::test]
async fn a_poisoned_message_is_redriven_to_the_dead_letter_queue_by_sqs() {
    let Some(m) = on_moto().await else { return };
    let queue = m.deps.queue.clone();
    queue
        .send(
            claims::CLAIM_EDITS,
            "{\"claim_id\":\"CLM-0000000000\"}",
            "poison",
        )
        .await
        .unwrap();
    let quick = ReceiveOptions {
        visibility_timeout: Duration::from_secs(1),
        ..ReceiveOptions::default()
    };
    let mut receives = 0;
    for _ in 0..10 {
        let messages = queue.receive(claims::CLAIM_EDITS, quick).await.unwrap();
        if messages.is_empty() {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            let dead = queue
                .receive("claim-edits-dlq", ReceiveOptions::default())
                .await
                .unwrap();
            if !dead.is_empty() {
                assert_eq!(dead[0].body, "{\"claim_id\":\"CLM-0000000000\"}");
                assert_eq!(receives, 2, "moved after the queue's maxReceiveCount");
                return;
            }
            continue;
        }
        receives += 1;
        let response =
            claims::edits::handle(&m.deps, sqs_event(claims::CLAIM_EDITS, &messages)).await;
        assert_eq!(response.batch_item_failures.len(), 1);
    }
    panic!("the poisoned message never reached the dead-letter queue");
}

#[tokio::test]
async fn every_real_sample_dropped_in_the_bucket_is_read_and_acknowledged() {
    let Some(m) = on_moto().await else { return };
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/x12/tests/samples");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("LICENSE") || name.ends_with(".md") {
            continue;
        }
        let key = format!("inbound/samples/{name}");
        m.s3.put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(std::fs::read(&path).unwrap().into())
            .send()
            .await
            .unwrap();
        let outcome = m.object_created(&key).await;
        assert_eq!(outcome["outcome"], "read", "{name}: {outcome}");
        m.drain().await;
        let file_id = outcome["file_id"].as_str().unwrap();
        let v = m.file(file_id, IPA, "claims_examiner").await;
        assert!(
            v["ack_999"].as_str().is_some_and(|a| a.starts_with("ISA*")),
            "{name}"
        );
        let claims = v["counts"]["claims"].as_u64().unwrap();
        let expected = if claims == 0 {
            "rejected"
        } else {
            "acknowledged"
        };
        assert_eq!(v["status"], expected, "{name}: {}", v["counts"]);
        // None of their providers is one of this IPA's.
        assert_eq!(v["counts"]["rejected"].as_u64(), Some(claims), "{name}");
        read += 1;
    }
    assert!(read >= 60);
}
