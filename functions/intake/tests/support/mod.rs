//! The intake handlers over the small IPA of `mso-testkit`, on the embedded
//! store: the intake bucket and the documents bucket are the embedded object
//! store (keys `fax/…`, `email/…` and `documents/…` apart), as in `mso serve`.

#![allow(dead_code)]

use bytes::Bytes;
use intake::ingest::{self, Outcome, Report};
use intake::{Deps, Limits};
use jiff::Timestamp;
pub use mso_api::Clock;
use mso_api::{Body, Response};
use mso_domain::ids::ReferenceId;
use mso_records::intake::IntakeItem;
use mso_store::keys;
use mso_testkit::role::{Role, RoleBucket, RoleRecords};
pub use mso_testkit::*;
use serde_json::Value;

pub mod bombs;

/// The bucket name the tests' events carry.
pub const BUCKET: &str = "test-intake";
/// The fax gateway's receive time in the fixtures' sidecars: two days before
/// the testkit's `NOW`.
pub const FAX_RECEIVED: &str = "2026-02-28T16:40:00Z";
pub const FAX_FROM: &str = "+13235550142";

pub struct Env {
    pub ipa: SmallIpa,
    pub deps: Deps,
    /// Whether [`Env::deps_of`] wraps the ports in the role model's checks.
    role_checks: bool,
}

pub async fn env() -> Env {
    let ipa = SmallIpa::new().await;
    let deps = Deps {
        records: ipa.records.clone(),
        intake_objects: ipa.documents_port(),
        documents: ipa.documents_port(),
        queue: ipa.queue_port(),
        policy: ipa.policy.clone(),
        clock: ipa.clock.clone(),
        limits: Limits::default(),
    };
    Env {
        ipa,
        deps,
        role_checks: true,
    }
}

pub fn fixture(name: &str) -> Bytes {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into()
}

/// The sidecar the fax gateway writes beside a fax.
pub fn sidecar() -> Value {
    serde_json::json!({"from": FAX_FROM, "received_at": FAX_RECEIVED, "pages": 1})
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
            intake_objects: RoleBucket::wrap(
                self.deps.intake_objects.clone(),
                role.clone(),
                "INTAKE_BUCKET",
            ),
            documents: RoleBucket::wrap(
                self.deps.documents.clone(),
                role.clone(),
                "DOCUMENTS_BUCKET",
            ),
            ..self.deps.clone()
        }
    }

    pub fn now(&self) -> Timestamp {
        self.ipa.clock.now()
    }

    /// Puts `bytes` at `key` of the intake bucket and hands the handler S3's event.
    pub async fn drop_object(&self, key: &str, bytes: Bytes) -> Report {
        let size = bytes.len() as u64;
        let content_type = "application/octet-stream";
        self.deps
            .intake_objects
            .put(key, content_type, bytes)
            .await
            .unwrap();
        self.deliver(key, size).await
    }

    /// The ObjectCreated event of `key` (again, for redelivery).
    pub async fn deliver(&self, key: &str, size: u64) -> Report {
        let event = ingest::object_created_event(BUCKET, key, size, self.now());
        ingest::handle(&self.deps_of("intake-s3"), event)
            .await
            .unwrap()
    }

    /// A fax as the gateway drops it, handed to the handler: see [`Env::put_fax`].
    pub async fn fax(&self, name: &str, bytes: Bytes, sidecar: Option<Value>) -> Outcome {
        let size = bytes.len() as u64;
        let key = self.put_fax(name, bytes, sidecar).await;
        let mut report = self.deliver(&key, size).await;
        report.records.remove(0).outcome
    }

    /// A fax put in the intake bucket as the gateway drops it, its sidecar
    /// first (if any), without its event: the fax's key.
    pub async fn put_fax(&self, name: &str, bytes: Bytes, sidecar: Option<Value>) -> String {
        let key = keys::intake_fax(name);
        let objects = &self.deps.intake_objects;
        if let Some(meta) = sidecar {
            let sidecar_key = keys::intake_fax_sidecar(&key).expect("a fax's key");
            let meta = Bytes::from(serde_json::to_vec(&meta).unwrap());
            objects
                .put(&sidecar_key, "application/json", meta)
                .await
                .unwrap();
        }
        objects
            .put(&key, "application/octet-stream", bytes)
            .await
            .unwrap();
        key
    }

    /// A raw email as SES drops it.
    pub async fn email(&self, name: &str, bytes: Bytes) -> Outcome {
        let mut report = self.drop_object(&keys::intake_email(name), bytes).await;
        report.records.remove(0).outcome
    }

    pub async fn item(&self, id: &str) -> IntakeItem {
        mso_records::intake::load(self.ipa.records.as_ref(), &ReferenceId::parse(id).unwrap())
            .await
            .unwrap()
            .expect("the item is stored")
            .value
            .0
    }

    pub async fn call(&self, call: Call) -> Response<Body> {
        intake::handle(&self.deps_of("intake"), call.build()).await
    }

    pub async fn get(&self, id: &str, org: &str, role: &str) -> Response<Body> {
        self.call(Call::new("GET /v1/intake/{id}", &format!("/v1/intake/{id}")).by(org, role))
            .await
    }

    pub async fn list(&self, query: &str, org: &str, role: &str) -> Response<Body> {
        self.call(
            Call::new("GET /v1/intake", "/v1/intake")
                .query(query)
                .by(org, role),
        )
        .await
    }

    pub async fn post(
        &self,
        id: &str,
        action: &str,
        key: Option<&str>,
        body: &Value,
        org: &str,
        role: &str,
    ) -> Response<Body> {
        let mut call = Call::new(
            &format!("POST /v1/intake/{{id}}/{action}"),
            &format!("/v1/intake/{id}/{action}"),
        )
        .json(body)
        .by(org, role);
        if let Some(key) = key {
            call = call.header("idempotency-key", key);
        }
        self.call(call).await
    }
}

/// The item ID of a filed outcome.
pub fn filed(outcome: &Outcome) -> (String, String) {
    match outcome {
        Outcome::Filed { item, status, .. } => (item.clone(), status.clone()),
        other => panic!("not filed: {other:?}"),
    }
}

pub fn codes(item: &IntakeItem) -> Vec<&str> {
    item.problems.iter().map(|p| p.code.as_str()).collect()
}

/// Stores a claim with reference `id` of the Sunrise practice for Ana's office
/// visit of 20 February 2026, received now, as the claims job would.
pub async fn file_claim(env: &Env, id: &str) {
    use mso_domain::claims::{Claim, Source, Submission};
    let submission: Submission = serde_json::from_value(serde_json::json!({
        "claim_type": "professional", "frequency": "1", "original_claim_id": null,
        "patient_control_number": "ACCT-1001", "billing_npi": PCP_NPI, "billing_tin": null,
        "rendering_npi": null, "referring_npi": null, "member_id": ANA.0, "dob": ANA.1,
        "place_of_service": "11", "type_of_bill": null, "diagnoses": ["M54.16"],
        "prior_auth_id": null, "total_charge_cents": 15000,
        "lines": [{"procedure": "99213", "modifiers": [], "revenue_code": null, "units": "1",
                   "charge_cents": 15000, "service_from": "2026-02-20", "service_to": null,
                   "diagnosis_pointers": [1], "rendering_npi": null, "place_of_service": null,
                   "prior_auth_id": null}]
    }))
    .unwrap();
    let now = env.now();
    let claim = Claim::received(
        ReferenceId::parse(id).unwrap(),
        mso_domain::ids::OrgId::parse(SUNRISE_ORG).unwrap(),
        Source::Portal,
        submission,
        now,
        &env.ipa.policy,
        mso_domain::prior_auth::Actor::system(),
    );
    let change = mso_records::claims::Change::created(&claim, now).unwrap();
    env.ipa.records.transact(change.ops).await.unwrap();
}

/// The bodies of every message on `queue` (received and deleted).
pub async fn drain(env: &Env, queue: &str) -> Vec<Value> {
    use mso_store::{ReceiveOptions, WorkQueue};
    let mut out = Vec::new();
    loop {
        let got = env
            .ipa
            .queue
            .receive(queue, ReceiveOptions::default())
            .await
            .unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            out.push(serde_json::from_str(&m.body).unwrap());
            env.ipa.queue.delete(queue, &m.receipt).await.unwrap();
        }
    }
}
