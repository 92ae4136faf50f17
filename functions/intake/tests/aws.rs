//! The intake job on the AWS adapters, against moto: the fax gateway's and
//! SES's drops really written to a versioned intake bucket (S3), the event
//! built from what moto stored (its version and ETag), the records in
//! DynamoDB, the documents written to the documents bucket, the auth event on
//! SQS; then the clerk files an auth from the fax with the fax's receipt time.
#![cfg(feature = "lambda")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use intake::ingest::{self, Outcome};
use intake::{Deps, Limits};
use mso_api::{FixedClock, policies};
use mso_domain::ids::ReferenceId;
use mso_store::aws::{self, DynamoRecordStore, S3DocumentStore, SqsWorkQueue};
use mso_store::{ReceiveOptions, WorkQueue};
use mso_testkit::moto::Moto;
use serde_json::json;
use support::{ANA, Call, FAX_RECEIVED, IPA, PCP_NPI, SUNRISE_NPI, fixture, json, sidecar};

const TABLE: &str = "mso-test";
const INTAKE: &str = "mso-test-intake";
const DOCS: &str = "mso-test-docs";

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
    let intake_objects = S3DocumentStore::new(&sdk, INTAKE);
    let documents = S3DocumentStore::new(&sdk, DOCS);
    let s3 = intake_objects.client().clone();
    for bucket in [INTAKE, DOCS] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    // As in the template: the intake bucket is versioned.
    s3.put_bucket_versioning()
        .bucket(INTAKE)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
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
    mso_testkit::load_directory(records.as_ref(), &policy).await;
    mso_testkit::file_auth(
        records.as_ref(),
        queue.as_ref(),
        &policy,
        mso_testkit::NOW.parse().unwrap(),
        "PA-7K3Q9M",
    )
    .await;
    Some(OnMoto {
        deps: Deps {
            records,
            intake_objects: Arc::new(intake_objects),
            documents: Arc::new(documents),
            queue: queue.clone(),
            policy,
            clock: Arc::new(FixedClock::new(mso_testkit::NOW.parse().unwrap())),
            limits: Limits::default(),
        },
        s3,
        queue,
        _moto: moto,
    })
}

impl OnMoto {
    /// PUTs `bytes` at `key` of the intake bucket as the gateway or SES does,
    /// and returns S3's event for it, with the version and ETag moto stored.
    async fn drop_object(&self, key: &str, bytes: Bytes) -> intake::S3Event {
        let put = self
            .s3
            .put_object()
            .bucket(INTAKE)
            .key(key)
            .body(ByteStream::from(bytes.clone()))
            .send()
            .await
            .unwrap();
        let mut event = ingest::object_created_event(
            INTAKE,
            key,
            bytes.len() as u64,
            mso_testkit::NOW.parse().unwrap(),
        );
        let object = &mut event.records[0].s3.object;
        object.version_id = put.version_id().map(str::to_owned);
        object.e_tag = put.e_tag().map(str::to_owned);
        assert!(
            object.version_id.is_some(),
            "the intake bucket is versioned"
        );
        event
    }

    async fn file(&self, event: intake::S3Event) -> Outcome {
        let mut report = ingest::handle(&self.deps, event).await.unwrap();
        report.records.remove(0).outcome
    }
}

#[tokio::test]
async fn faxes_and_email_are_filed_on_dynamodb_s3_and_sqs() {
    let Some(m) = on_moto().await else { return };

    // The gateway's sidecar, then the fax.
    m.s3.put_object()
        .bucket(INTAKE)
        .key("fax/f1.json")
        .body(ByteStream::from(serde_json::to_vec(&sidecar()).unwrap()))
        .send()
        .await
        .unwrap();
    let event = m
        .drop_object("fax/f1.pdf", fixture("auth-request-form.pdf"))
        .await;
    let Outcome::Filed {
        item: fax_id,
        status,
        documents,
        ..
    } = m.file(event.clone()).await
    else {
        panic!("the fax was not filed");
    };
    assert_eq!((status.as_str(), documents), ("queued", 1));
    // Redelivered: nothing new.
    assert!(matches!(m.file(event).await, Outcome::Unchanged { .. }));

    // An email quoting the existing auth: linked, its three attachments in the
    // documents bucket, the auth's change published.
    let event = m
        .drop_object("email/ses-1", fixture("three-attachments.eml"))
        .await;
    let Outcome::Filed {
        item: email_id,
        status,
        documents,
        ..
    } = m.file(event).await
    else {
        panic!("the email was not filed");
    };
    assert_eq!((status.as_str(), documents), ("linked", 3));
    let owner =
        mso_records::documents::Owner::parse(mso_records::documents::OwnerKind::Intake, &email_id)
            .unwrap();
    let docs = mso_records::documents::of_owner(m.deps.records.as_ref(), &owner)
        .await
        .unwrap();
    assert_eq!(docs.len(), 3);
    for d in &docs {
        let doc = mso_records::documents::load(
            m.deps.records.as_ref(),
            &mso_records::documents::parse_id(&d.id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap()
        .value
        .0;
        let stored =
            m.s3.get_object()
                .bucket(DOCS)
                .key(&doc.object_key)
                .send()
                .await
                .unwrap();
        assert_eq!(stored.content_length(), Some(doc.size as i64));
    }
    let auth = mso_records::prior_auths::load(
        m.deps.records.as_ref(),
        &ReferenceId::parse("PA-7K3Q9M").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value
    .0;
    assert_eq!(auth.history.last().unwrap().action, "intake_linked");
    let published = m
        .queue
        .receive("auth-events", ReceiveOptions::default())
        .await
        .unwrap();
    assert!(
        published
            .iter()
            .any(|msg| msg.body.contains("intake_linked")),
        "{published:?}"
    );

    // The clerk's queue (a DynamoDB query) and an auth filed from the fax.
    let resp = intake::handle(
        &m.deps,
        Call::new("GET /v1/intake", "/v1/intake")
            .query("status=queued")
            .by(IPA, "intake_clerk")
            .build(),
    )
    .await;
    let queue = json(&resp);
    assert_eq!(queue["items"][0]["id"], fax_id.as_str(), "{queue}");
    let fields = json!({
        "member_id": ANA.0, "dob": ANA.1,
        "setting": "outpatient", "category": "imaging", "urgency": "routine",
        "service_from": "2026-03-10", "service_to": "2026-04-10",
        "requesting_npi": PCP_NPI, "servicing_npi": SUNRISE_NPI, "place_of_service": "22",
        "diagnoses": ["M54.16"], "lines": [{"code": "72148", "units": 1}],
        "contact": {"name": "Front desk", "phone": "657-555-0199"}
    });
    let resp = intake::handle(
        &m.deps,
        Call::new(
            "POST /v1/intake/{id}/create",
            &format!("/v1/intake/{fax_id}/create"),
        )
        .by(IPA, "intake_clerk")
        .header("idempotency-key", "c1")
        .json(&json!({"kind": "prior_auth", "prior_auth": fields}))
        .build(),
    )
    .await;
    let created = json(&resp);
    assert_eq!(resp.status(), 201, "{created}");
    assert_eq!(created["record"]["received_at"], FAX_RECEIVED);
}
