//! The disputes job on the AWS adapters, against moto: DynamoDB for the records
//! (the transactions with their conditions: the open-dispute guard, versions,
//! idempotency), SQS for the dispute events.
#![cfg(feature = "lambda")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::config::Credentials;
use disputes::Deps;
use mso_api::{FixedClock, policies};
use mso_domain::prior_auth::review::Action;
use mso_store::aws::{self, DynamoRecordStore, SqsWorkQueue};
use mso_store::{ReceiveOptions, WorkQueue};
use mso_testkit::moto::Moto;
use serde_json::{Value, json};
use support::{Call, IPA, SUNRISE_ORG, appeal, decision, json, reviewed_auth, ts};

const TABLE: &str = "mso-test";

struct OnMoto {
    deps: Deps,
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
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut urls = HashMap::new();
    for name in ["auth-events", "dispute-events", "claim-readjudication"] {
        let url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        urls.insert(name.to_string(), url);
    }
    let queue = Arc::new(SqsWorkQueue::from_client(sqs, urls));
    let records = Arc::new(DynamoRecordStore::from_client(
        aws_sdk_dynamodb::Client::new(&sdk),
        TABLE,
        mso_store::CursorKey::from_secret(&[7; 32]).unwrap(),
    ));
    let policy = Arc::new(policies::load("sunrise").unwrap());
    let now = mso_testkit::NOW.parse().unwrap();
    mso_testkit::load_directory(records.as_ref(), &policy).await;
    reviewed_auth(
        records.as_ref(),
        queue.as_ref(),
        &policy,
        now,
        "PA-7K3Q9M",
        Action::Deny,
    )
    .await;
    let deps = Deps {
        records,
        queue: queue.clone(),
        policy,
        clock: Arc::new(FixedClock::new(now)),
    };
    Some(OnMoto {
        deps,
        queue,
        _moto: moto,
    })
}

async fn drain(queue: &SqsWorkQueue, name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let got = queue
            .receive(name, ReceiveOptions::default())
            .await
            .unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            out.push(serde_json::from_str(&m.body).unwrap());
            queue.delete(name, &m.receipt).await.unwrap();
        }
    }
}

#[tokio::test]
async fn an_appeal_is_filed_decided_and_swept_on_dynamodb_and_sqs() {
    let Some(m) = on_moto().await else { return };
    let call = |c: Call| disputes::handle(&m.deps, c.build());
    let file = |key: &str| {
        Call::new("POST /v1/disputes", "/v1/disputes")
            .by(SUNRISE_ORG, "provider_user")
            .header("idempotency-key", key)
            .json(&appeal("PA-7K3Q9M"))
    };
    let resp = call(file("k-1")).await;
    let filed = json(&resp);
    assert_eq!(resp.status(), 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    // The guard holds on DynamoDB too; the replay too.
    let dup = call(file("k-2")).await;
    assert_eq!(dup.status(), 409);
    assert_eq!(json(&dup)["existing_dispute_id"], id.as_str());
    assert_eq!(json(&call(file("k-1")).await)["id"], id.as_str());

    // The sweeper flags the missed acknowledgement.
    let r = disputes::sweeper::sweep(&m.deps, ts("2026-03-05T08:01:00Z"))
        .await
        .unwrap();
    assert_eq!(r.flagged, vec![id.clone()]);
    assert_eq!(r.overdue_count, 1);

    let resp = call(
        Call::new(
            "POST /v1/disputes/{id}/decision",
            &format!("/v1/disputes/{id}/decision"),
        )
        .by(IPA, "dispute_reviewer")
        .json(&decision("partially_overturned", None)),
    )
    .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(
        v["determination"]["second_level"]["to"],
        "Golden State Health Plan"
    );
    let got = json(
        &call(
            Call::new("GET /v1/disputes/{id}", &format!("/v1/disputes/{id}"))
                .by(SUNRISE_ORG, "site_admin"),
        )
        .await,
    );
    assert_eq!(got["status"], "decided");
    let list = json(
        &call(
            Call::new("GET /v1/disputes", "/v1/disputes")
                .query("status=decided")
                .by(IPA, "dispute_reviewer"),
        )
        .await,
    );
    assert_eq!(list["items"][0]["id"], id.as_str());
    let actions: Vec<String> = drain(&m.queue, "dispute-events")
        .await
        .into_iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "filed",
            "acknowledgement_overdue",
            "acknowledged",
            "decided"
        ]
    );
    let queue = json(
        &call(
            Call::new("GET /v1/disputes/queue", "/v1/disputes/queue").by(IPA, "dispute_reviewer"),
        )
        .await,
    );
    assert_eq!(queue["items"], json!([]));
}
