//! The documents handlers over the small IPA of `mso-testkit`, with the whole
//! local loop: ask for a slot, PUT to the presigned URL through the embedded
//! store (as `mso serve` does), hand the handler S3's ObjectCreated event.

#![allow(dead_code)]

use std::path::PathBuf;

use bytes::Bytes;
use documents::Deps;
use documents::verify::{self, Report};
pub use mso_api::Clock;
use mso_api::{Body, Response};
use mso_store::embedded::PresignedOutcome;
use mso_store::{Query, StoreError, keys};
use mso_testkit::role::{Role, RoleBucket, RoleRecords};
pub use mso_testkit::*;
use serde_json::{Value, json};

/// The auth the tests attach documents to (Sunrise practice).
pub const AUTH: &str = "PA-7K3Q9M";

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
        documents: ipa.documents_port(),
        queue: ipa.queue_port(),
        policy: ipa.policy.clone(),
        clock: ipa.clock.clone(),
    };
    ipa.file_auth(AUTH).await;
    Env {
        ipa,
        deps,
        role_checks: true,
    }
}

/// A file of `shared/domain/tests/fixtures/documents/`.
pub fn fixture(name: &str) -> Bytes {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/domain/tests/fixtures/documents")
        .join(name);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The body of an upload request for the test auth.
pub fn slot(file_name: &str, content_type: &str, size: u64) -> Value {
    json!({
        "owner": {"kind": "prior_auth", "id": AUTH},
        "file_name": file_name,
        "content_type": content_type,
        "size": size,
    })
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
            documents: RoleBucket::wrap(
                self.deps.documents.clone(),
                role.clone(),
                "DOCUMENTS_BUCKET",
            ),
            ..self.deps.clone()
        }
    }

    pub async fn call(&self, call: Call) -> Response<Body> {
        documents::handle(&self.deps_of("documents"), call.build()).await
    }

    /// `POST /v1/documents` with `body`, as `org`/`role`, with idempotency `key`.
    pub async fn post_as(&self, org: &str, role: &str, key: &str, body: &Value) -> Response<Body> {
        self.call(
            Call::new("POST /v1/documents", "/v1/documents")
                .by(org, role)
                .header("idempotency-key", key)
                .json(body),
        )
        .await
    }

    /// As a user of the Sunrise practice, with a fresh idempotency key.
    pub async fn post(&self, body: &Value) -> Response<Body> {
        let key = format!("key-{}", uuid_like());
        self.post_as(SUNRISE_ORG, "provider_user", &key, body).await
    }

    /// Asks for a slot and returns the answer's JSON (asserting 201).
    pub async fn slot(&self, body: &Value) -> Value {
        let resp = self.post(body).await;
        let v = json(&resp);
        assert_eq!(resp.status(), 201, "{v}");
        v
    }

    pub async fn get_as(&self, id: &str, org: &str, role: &str) -> Response<Body> {
        self.call(Call::new("GET /v1/documents/{id}", &format!("/v1/documents/{id}")).by(org, role))
            .await
    }

    /// The document as the Sunrise practice sees it (asserting 200).
    pub async fn get(&self, id: &str) -> Value {
        let resp = self.get_as(id, SUNRISE_ORG, "provider_user").await;
        let v = json(&resp);
        assert_eq!(resp.status(), 200, "{v}");
        v
    }

    /// Sends `bytes` to the slot's presigned URL exactly as a client would (its
    /// headers, the real length), through the embedded store as `mso serve`
    /// serves it, at unix time `now`.
    pub async fn put_at(
        &self,
        slot: &Value,
        bytes: Bytes,
        now: i64,
    ) -> Result<PresignedOutcome, StoreError> {
        let upload = &slot["upload"];
        let url = upload["url"].as_str().unwrap();
        let path = &url[url.find("/_local/").unwrap()..];
        let mut headers = http::HeaderMap::new();
        for (name, value) in upload["headers"].as_object().unwrap() {
            headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.as_str().unwrap().parse().unwrap(),
            );
        }
        headers.insert(http::header::CONTENT_LENGTH, bytes.len().into());
        let access =
            self.ipa
                .documents
                .authorize_presigned(&http::Method::PUT, path, &headers, now)?;
        self.ipa.documents.complete_presigned(access, bytes).await
    }

    pub async fn put(&self, slot: &Value, bytes: Bytes) -> Result<PresignedOutcome, StoreError> {
        self.put_at(slot, bytes, now_unix()).await
    }

    /// S3's ObjectCreated event for the object of `slot`, through the handler.
    pub async fn event(&self, key: &str, size: u64) -> Report {
        let event = verify::object_created("mso-documents", key, size, self.ipa.clock.now());
        verify::handle(&self.deps_of("documents-verify"), event)
            .await
            .unwrap()
    }

    /// The whole loop: a slot for `bytes` declared as `content_type`, the
    /// upload, the event. Returns the document as then read.
    pub async fn upload(&self, file_name: &str, content_type: &str, bytes: Bytes) -> Value {
        let slot = self
            .slot(&slot(file_name, content_type, bytes.len() as u64))
            .await;
        let size = bytes.len() as u64;
        let stored = self.put(&slot, bytes).await.unwrap();
        let PresignedOutcome::Stored(meta) = stored else {
            panic!("not stored: {stored:?}")
        };
        self.event(&meta.key, size).await;
        self.get(slot["id"].as_str().unwrap()).await
    }

    /// The object key of a document.
    pub async fn object_key(&self, id: &str) -> String {
        let doc = mso_records::documents::load(
            self.ipa.records.as_ref(),
            &mso_records::documents::parse_id(id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        doc.value.0.object_key
    }

    /// The test auth's history actions, in order.
    pub async fn history(&self) -> Vec<(String, Option<String>)> {
        let auth = mso_records::prior_auths::load(
            self.ipa.records.as_ref(),
            &mso_domain::ids::ReferenceId::parse(AUTH).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        auth.value
            .0
            .history
            .iter()
            .map(|h| (h.action.clone(), h.reason.clone()))
            .collect()
    }

    /// Today's audit records with `action`.
    pub async fn audited(&self, action: &str) -> Vec<Value> {
        let day = &self.ipa.clock.now().to_string()[..10];
        let page = self
            .ipa
            .records
            .query(Query::primary(keys::audit_day_partition(day), "").limit(1000))
            .await
            .unwrap();
        page.records
            .into_iter()
            .map(|r| r.body.to_value().unwrap())
            .filter(|b| b["action"] == action)
            .collect()
    }

    /// Every record key in the test auth's partition and the documents'.
    pub async fn owner_partition(&self) -> Vec<String> {
        let page = self
            .ipa
            .records
            .query(Query::primary(keys::prior_auth_partition(AUTH), "").limit(1000))
            .await
            .unwrap();
        page.records.into_iter().map(|r| r.key.sk).collect()
    }
}

pub fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
