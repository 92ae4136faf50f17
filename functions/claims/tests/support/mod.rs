//! The claims handlers over the small IPA of `mso-testkit`, with the whole local
//! loop: a claim or file in through the route, the bucket's ObjectCreated event
//! handed to the intake handler, the queue drained through the consumer as
//! Lambda's event source mapping would.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use claims::Deps;
use mso_api::{Body, Response};
use mso_store::ReceiveOptions;
use mso_testkit::role::{Role, RoleBucket, RoleRecords};
pub use mso_testkit::*;
use serde_json::{Value, json};

/// The fixture auth (Ana's lumbar MRI, 2026-03-10 to 2026-04-10, one unit).
pub const AUTH: &str = "PA-7K3Q9M";
/// After the services the tests bill: Friday 20 March 2026, 10:00 Pacific.
pub const BILLED_AT: &str = "2026-03-20T17:00:00Z";

pub struct Env {
    pub ipa: SmallIpa,
    pub deps: Deps,
    /// Whether [`Env::deps_of`] wraps the ports in the role model's checks.
    role_checks: bool,
}

pub async fn env() -> Env {
    let ipa = SmallIpa::new().await;
    ipa.file_auth(AUTH).await;
    ipa.at(BILLED_AT);
    let deps = Deps {
        records: ipa.records.clone(),
        files: ipa.documents_port(),
        queue: ipa.queue_port(),
        policy: ipa.policy.clone(),
        clock: ipa.clock.clone(),
    };
    Env {
        ipa,
        deps,
        role_checks: true,
    }
}

static KEYS: AtomicU32 = AtomicU32::new(0);

pub fn fresh_key() -> String {
    format!("key-{}", KEYS.fetch_add(1, Ordering::Relaxed))
}

/// Ana's office visit on 2026-03-12, billed by the Sunrise practice's PCP.
pub fn visit() -> Value {
    json!({
        "claim_type": "professional",
        "patient_control_number": "ACCT-1001",
        "billing_provider": {"npi": PCP_NPI, "tin": "95-1234567"},
        "member_id": ANA.0, "dob": ANA.1,
        "place_of_service": "11",
        "diagnoses": ["J06.9"],
        "lines": [{"code": "99213", "units": 1, "charge": "125.00",
                   "service_from": "2026-03-12", "diagnosis_pointers": [1]}]
    })
}

/// Ana's lumbar MRI on 2026-03-12 (on the PA list; the fixture auth covers it).
pub fn mri() -> Value {
    let mut v = visit();
    v["place_of_service"] = json!("22");
    v["diagnoses"] = json!(["M54.16"]);
    v["lines"][0]["code"] = json!("72148");
    v["lines"][0]["charge"] = json!(125_000);
    v
}

impl Env {
    /// The ports as in production, without the role model's checks around
    /// them: for the benches, which time the handler, not the test harness.
    pub fn without_role_checks(mut self) -> Self {
        self.role_checks = false;
        self
    }

    /// The ports as `function`'s role in the stack lets it use them: each
    /// handler is called with its own function's (`mso_testkit::role`).
    pub fn deps_of(&self, function: &str) -> Deps {
        if !self.role_checks {
            return self.deps.clone();
        }
        let role = Role::of(function);
        Deps {
            records: RoleRecords::wrap(self.deps.records.clone(), role.clone()),
            files: RoleBucket::wrap(self.deps.files.clone(), role, "CLAIMS_BUCKET"),
            ..self.deps.clone()
        }
    }

    pub async fn call(&self, call: Call) -> Response<Body> {
        claims::handle(&self.deps_of("claims"), call.build()).await
    }

    pub async fn post_as(&self, org: &str, role: &str, key: &str, body: &Value) -> Response<Body> {
        self.call(
            Call::new("POST /v1/claims", "/v1/claims")
                .by(org, role)
                .header("idempotency-key", key)
                .json(body),
        )
        .await
    }

    /// Submits as the Sunrise practice with a fresh key; returns the claim ID (asserting 202).
    pub async fn submit(&self, body: &Value) -> String {
        let resp = self
            .post_as(SUNRISE_ORG, "provider_user", &fresh_key(), body)
            .await;
        let v = json(&resp);
        assert_eq!(resp.status(), 202, "{v}");
        assert_eq!(v["status"], "received");
        v["id"].as_str().unwrap().to_string()
    }

    /// Submits, runs the edits, and answers the claim as the practice reads it.
    pub async fn judged(&self, body: &Value) -> Value {
        let id = self.submit(body).await;
        self.drain().await;
        self.get(&id).await
    }

    pub async fn get_as(&self, id: &str, org: &str, role: &str) -> Response<Body> {
        self.call(Call::new("GET /v1/claims/{id}", &format!("/v1/claims/{id}")).by(org, role))
            .await
    }

    pub async fn get(&self, id: &str) -> Value {
        let resp = self.get_as(id, SUNRISE_ORG, "provider_user").await;
        let v = json(&resp);
        assert_eq!(resp.status(), 200, "{v}");
        v
    }

    pub async fn list(&self, query: &str, org: &str, role: &str) -> Value {
        let resp = self
            .call(
                Call::new("GET /v1/claims", "/v1/claims")
                    .query(query)
                    .by(org, role),
            )
            .await;
        let v = json(&resp);
        assert_eq!(resp.status(), 200, "{v}");
        v
    }

    pub async fn review(&self, id: &str, org: &str, role: &str, body: &Value) -> Response<Body> {
        self.call(
            Call::new(
                "POST /v1/claims/{id}/review",
                &format!("/v1/claims/{id}/review"),
            )
            .by(org, role)
            .json(body),
        )
        .await
    }

    /// Runs every queued claim message through the consumer until none is left,
    /// deleting those it handled (as Lambda's event source mapping does).
    /// Returns how many messages were handled.
    pub async fn drain(&self) -> usize {
        let mut handled = 0;
        for queue in [claims::CLAIM_EDITS, claims::CLAIM_READJUDICATION] {
            loop {
                let messages = self
                    .deps
                    .queue
                    .receive(queue, ReceiveOptions::default())
                    .await
                    .unwrap();
                if messages.is_empty() {
                    break;
                }
                let event = sqs_event(queue, &messages);
                let response = claims::edits::handle(&self.deps_of("claims-edits"), event).await;
                for m in &messages {
                    let failed = response
                        .batch_item_failures
                        .iter()
                        .any(|f| f.item_identifier == m.id);
                    assert!(!failed, "message {} failed", m.body);
                    self.deps.queue.delete(queue, &m.receipt).await.unwrap();
                    handled += 1;
                }
            }
        }
        handled
    }

    /// `POST /v1/claim-files` with `bytes`, as `org`; the answer.
    pub async fn post_file_as(&self, org: &str, key: &str, bytes: &[u8]) -> Response<Body> {
        let mut call = Call::new("POST /v1/claim-files", "/v1/claim-files")
            .by(org, "provider_user")
            .header("idempotency-key", key)
            .header("content-type", "application/edi-x12");
        call.body = bytes.to_vec();
        self.call(call).await
    }

    /// Posts a file as the Sunrise practice, hands the bucket's event to the
    /// intake handler, runs the edits; returns the file as read then.
    pub async fn file(&self, bytes: &[u8]) -> Value {
        let resp = self.post_file_as(SUNRISE_ORG, &fresh_key(), bytes).await;
        let v = json(&resp);
        assert_eq!(resp.status(), 202, "{v}");
        let id = v["id"].as_str().unwrap().to_string();
        self.object_created(&format!("claim-files/{id}.x12")).await;
        self.drain().await;
        self.get_file(&id, SUNRISE_ORG, "provider_user").await
    }

    /// A clearinghouse drops `bytes` (an 837) into the claims bucket at `key`.
    pub async fn drop_file(&self, key: &str, bytes: Vec<u8>) {
        self.deps
            .files
            .put(key, "application/edi-x12", bytes.into())
            .await
            .unwrap();
    }

    /// What S3 sends when `key` lands in the claims bucket.
    pub async fn object_created(&self, key: &str) -> claims::intake::Report {
        let event = claims::intake::object_created(
            "claims",
            key,
            0,
            "2026-03-20T17:00:00Z".parse().unwrap(),
        );
        claims::intake::handle(&self.deps_of("claims-s3"), event)
            .await
            .unwrap()
    }

    pub async fn get_file(&self, id: &str, org: &str, role: &str) -> Value {
        let resp = self
            .call(
                Call::new("GET /v1/claim-files/{id}", &format!("/v1/claim-files/{id}"))
                    .by(org, role),
            )
            .await;
        let v = json(&resp);
        assert_eq!(resp.status(), 200, "{v}");
        v
    }

    /// Every claim stored (staff list), newest first.
    pub async fn all_claims(&self) -> Vec<Value> {
        let v = self.list("limit=100", IPA, "claims_examiner").await;
        v["items"].as_array().unwrap().clone()
    }
}

/// The SQS event Lambda hands the consumer (messageId, receiptHandle, body).
pub fn sqs_event(queue: &str, messages: &[mso_store::QueueMessage]) -> claims::SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.id, "receiptHandle": m.receipt, "body": m.body,
                "attributes": {}, "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-west-2:000000000000:{queue}"),
                "awsRegion": "us-west-2"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// The codes of a claim's edits, in order.
pub fn edit_codes(claim: &Value) -> Vec<String> {
    claim["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}
