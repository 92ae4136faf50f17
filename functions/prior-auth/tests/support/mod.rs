//! The prior-auth handlers over the small IPA of `mso-testkit`.

#![allow(dead_code)]

use mso_api::{Body, Response};
use mso_testkit::role::{Role, RoleRecords};
pub use mso_testkit::*;
use prior_auth::Deps;
use serde_json::{Value, json};

pub struct Env {
    pub ipa: SmallIpa,
    pub deps: Deps,
}

pub async fn env() -> Env {
    let ipa = SmallIpa::new().await;
    let deps = Deps {
        records: ipa.records.clone(),
        queue: ipa.queue_port(),
        policy: ipa.policy.clone(),
        clock: ipa.clock.clone(),
    };
    Env { ipa, deps }
}

impl Env {
    /// The ports as `function`'s role in the stack lets it use them: each
    /// handler is called with its own function's (`mso_testkit::role`).
    pub fn deps_of(&self, function: &str) -> Deps {
        let role = Role::of(function);
        Deps {
            records: RoleRecords::wrap(self.deps.records.clone(), role.clone()),
            ..self.deps.clone()
        }
    }

    pub async fn call(&self, call: Call) -> Response<Body> {
        prior_auth::handle(&self.deps_of("prior-auth"), call.build()).await
    }

    /// Submits `body` as a user of the Sunrise practice with idempotency `key`.
    pub async fn submit(&self, key: &str, body: &Value) -> Response<Body> {
        self.call(
            Call::new("POST /v1/prior-auths", "/v1/prior-auths")
                .by(SUNRISE_ORG, "provider_user")
                .header("idempotency-key", key)
                .json(body),
        )
        .await
    }

    /// Submits and returns the created auth's JSON (asserting 201).
    pub async fn filed(&self, key: &str, body: &Value) -> Value {
        let resp = self.submit(key, body).await;
        let v = json(&resp);
        assert_eq!(resp.status(), 201, "{v}");
        v
    }

    pub async fn decide(&self, id: &str, role: &str, body: &Value) -> Response<Body> {
        self.call(
            Call::new(
                "POST /v1/prior-auths/{id}/decision",
                &format!("/v1/prior-auths/{id}/decision"),
            )
            .by(IPA, role)
            .json(body),
        )
        .await
    }

    pub async fn get(&self, id: &str, org: &str, role: &str) -> Response<Body> {
        self.call(
            Call::new("GET /v1/prior-auths/{id}", &format!("/v1/prior-auths/{id}")).by(org, role),
        )
        .await
    }

    /// The bodies of every message on `queue` (received and deleted).
    pub async fn drain(&self, queue: &str) -> Vec<Value> {
        use mso_store::{ReceiveOptions, WorkQueue};
        let mut out = Vec::new();
        loop {
            let got = self
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
                self.ipa.queue.delete(queue, &m.receipt).await.unwrap();
            }
        }
    }
}

/// A lumbar MRI for radiculopathy at an in-network provider: criteria met.
pub fn mri() -> Value {
    json!({
        "member_id": ANA.0, "dob": ANA.1,
        "setting": "outpatient", "category": "imaging", "urgency": "routine",
        "urgency_reason": null, "service_from": "2026-03-10", "service_to": "2026-04-10",
        "requesting_npi": PCP_NPI, "servicing_npi": SUNRISE_NPI, "place_of_service": "22",
        "diagnoses": ["M54.16"], "lines": [{"code": "72148", "modifiers": [], "units": 1}],
        "contact": {"name": "Front desk", "phone": "657-555-0199", "extension": null, "fax": null, "email": null},
        "admitted_at": null
    })
}

/// Physical therapy beyond the criteria's 12 visits: review required.
pub fn therapy() -> Value {
    let mut v = mri();
    v["category"] = json!("therapy");
    v["diagnoses"] = json!(["M25.561"]);
    v["lines"] = json!([{"code": "97110", "units": 20}]);
    v
}
