//! The prior-auth job on the AWS adapters, against moto: DynamoDB for the auths,
//! their lists, queue rows and timers; SQS for the auth events. The lists and
//! the UM queue are DynamoDB queries with an open lower end, which DynamoDB
//! answers differently from the embedded store if the adapter gets them wrong.
#![cfg(feature = "lambda")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::Credentials;
use mso_api::{FixedClock, policies};
use mso_store::ReceiveOptions;
use mso_store::aws::{self, DynamoRecordStore, SqsWorkQueue};
use mso_testkit::SlowReads;
use mso_testkit::moto::Moto;
use prior_auth::Deps;
use serde_json::{Value, json};
use support::{Call, IPA, SUNRISE_ORG, json as body_of, mri, therapy};

const TABLE: &str = "mso-test";

async fn on_moto() -> Option<(Deps, Moto)> {
    let moto = Moto::start()?;
    let sdk = aws::sdk_config_for(
        "us-east-1",
        Some(&moto.endpoint),
        Credentials::new("testing", "testing", None, None, "moto"),
    );
    aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), TABLE)
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .create_queue()
        .queue_name("auth-events")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue = Arc::new(SqsWorkQueue::from_client(
        sqs,
        HashMap::from([("auth-events".to_string(), url)]),
    ));
    let records = Arc::new(DynamoRecordStore::from_client(
        aws_sdk_dynamodb::Client::new(&sdk),
        TABLE,
        mso_store::CursorKey::from_secret(&[7; 32]).unwrap(),
    ));
    let policy = Arc::new(policies::load("sunrise").unwrap());
    mso_testkit::load_directory(records.as_ref(), &policy).await;
    let deps = Deps {
        records,
        queue,
        policy,
        clock: Arc::new(FixedClock::new(mso_testkit::NOW.parse().unwrap())),
    };
    Some((deps, moto))
}

async fn call(deps: &Deps, call: Call) -> (u16, Value) {
    let resp = prior_auth::handle(deps, call.build()).await;
    (resp.status().as_u16(), body_of(&resp))
}

#[tokio::test]
async fn submit_list_queue_decide_and_sweep_on_dynamodb_and_sqs() {
    let Some((deps, _moto)) = on_moto().await else {
        return;
    };
    let submit = |key: &'static str, body: Value| {
        Call::new("POST /v1/prior-auths", "/v1/prior-auths")
            .by(SUNRISE_ORG, "provider_user")
            .header("idempotency-key", key)
            .json(&body)
    };
    let (status, approved) = call(&deps, submit("aws-1", mri())).await;
    assert_eq!(status, 201, "{approved}");
    assert_eq!(approved["status"], "approved");
    let (status, pended) = call(&deps, submit("aws-2", therapy())).await;
    assert_eq!(status, 201, "{pended}");
    assert_eq!(pended["status"], "pended");
    // The same key and body: the first answer, from DynamoDB, whose refusal
    // of the claim carries it: no read of the idempotency record.
    let counted = SlowReads::new(deps.records.clone(), Duration::ZERO);
    let replaying = Deps {
        records: counted.clone(),
        ..deps.clone()
    };
    let (status, again) = call(&replaying, submit("aws-1", mri())).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], approved["id"]);
    assert_eq!(
        (counted.writes(), counted.reads()),
        (1, 2),
        "the claim, and beside it the probing guard's count and the directory \
         records the request names (read before the claim's answer is known, so \
         a first submission saves a round trip)"
    );
    // The same key with another body: refused, from the same one request.
    let (status, refused) = call(&deps, submit("aws-1", therapy())).await;
    assert_eq!(status, 422, "{refused}");

    // Lists with and without filters: ranges open at either end.
    let list = |query: &str| {
        Call::new("GET /v1/prior-auths", "/v1/prior-auths")
            .query(query)
            .by(SUNRISE_ORG, "provider_user")
    };
    let (status, all) = call(&deps, list("")).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (_, until) = call(&deps, list("to=2026-03-02&status=pended")).await;
    assert_eq!(until["items"].as_array().unwrap().len(), 1);
    let (_, paged) = call(&deps, list("limit=1")).await;
    let cursor = paged["next_cursor"].as_str().unwrap();
    let (_, next) = call(&deps, list(&format!("limit=1&cursor={cursor}"))).await;
    assert_ne!(next["items"][0]["id"], paged["items"][0]["id"]);

    // The UM queue and a decision.
    let (status, queue) = call(
        &deps,
        Call::new("GET /v1/um/queue", "/v1/um/queue").by(IPA, "um_nurse"),
    )
    .await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["items"][0]["id"], pended["id"]);
    let id = pended["id"].as_str().unwrap();
    let (status, decided) = call(
        &deps,
        Call::new(
            "POST /v1/prior-auths/{id}/decision",
            &format!("/v1/prior-auths/{id}/decision"),
        )
        .by(IPA, "um_nurse")
        .json(&json!({"action": "approve", "reason": "Meets the plan's therapy guideline"})),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "approved");

    // Every change reached the auth-events queue.
    let mut events = Vec::new();
    loop {
        let batch = deps
            .queue
            .receive("auth-events", ReceiveOptions::default())
            .await
            .unwrap();
        if batch.is_empty() {
            break;
        }
        for m in batch {
            deps.queue.delete("auth-events", &m.receipt).await.unwrap();
            events.push(serde_json::from_str::<Value>(&m.body).unwrap());
        }
    }
    let tos: Vec<&str> = events.iter().map(|e| e["to"].as_str().unwrap()).collect();
    assert_eq!(tos.len(), 3, "{events:?}");
    assert_eq!(tos.iter().filter(|t| **t == "approved").count(), 2);

    // A sweep long after: both approvals expire, through the timer rows.
    let report = prior_auth::sweeper::sweep(&deps, "2027-01-01T00:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(report.expired.len(), 2, "{report:?}");
}
