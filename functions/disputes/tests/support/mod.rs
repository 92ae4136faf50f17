//! The disputes handlers over the small IPA of `mso-testkit`, with prior auths
//! denied or approved to appeal.

#![allow(dead_code)]

use disputes::Deps;
use mso_api::{Body, Response};
use mso_domain::ids::{OrgId, ReferenceId};
use mso_domain::prior_auth::review::{self, Action, Decision, Reviewer};
use mso_domain::prior_auth::{Actor, PeerToPeer, Source};
use mso_records::prior_auths::{self, Change};
use mso_testkit::role::{Role, RoleRecords};
pub use mso_testkit::*;
use serde_json::{Value, json};

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

/// The acknowledgement and decision clocks of a filing received at the
/// fixture's NOW (Monday 2 March 2026): end of Wednesday 4 March and of Monday
/// 4 May (45 working days), Pacific time.
pub const ACK_DUE: &str = "2026-03-05T07:59:59.999999999Z";
pub const DECISION_DUE: &str = "2026-05-05T06:59:59.999999999Z";

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
            ..self.deps.clone()
        }
    }

    pub async fn call(&self, call: Call) -> Response<Body> {
        disputes::handle(&self.deps_of("disputes"), call.build()).await
    }

    fn now(&self) -> jiff::Timestamp {
        mso_api::Clock::now(self.ipa.clock.as_ref())
    }

    /// Files a physical-therapy request (review required: pended) with
    /// reference `id`, and a medical director denies it now.
    pub async fn denied_auth(&self, id: &str) {
        self.reviewed_auth(id, Action::Deny).await;
    }

    /// As [`Env::denied_auth`], approved instead.
    pub async fn approved_auth(&self, id: &str) {
        self.reviewed_auth(id, Action::Approve).await;
    }

    async fn reviewed_auth(&self, id: &str, action: Action) {
        reviewed_auth(
            self.ipa.records.as_ref(),
            self.ipa.queue.as_ref(),
            &self.ipa.policy,
            self.now(),
            id,
            action,
        )
        .await;
    }

    /// Files `body` as a user of `org` with idempotency `key`.
    pub async fn submit_as(&self, org: &str, key: &str, body: &Value) -> Response<Body> {
        self.call(
            Call::new("POST /v1/disputes", "/v1/disputes")
                .by(org, "provider_user")
                .header("idempotency-key", key)
                .json(body),
        )
        .await
    }

    pub async fn submit(&self, key: &str, body: &Value) -> Response<Body> {
        self.submit_as(SUNRISE_ORG, key, body).await
    }

    /// Files and returns the dispute's JSON (asserting 201).
    pub async fn filed(&self, key: &str, body: &Value) -> Value {
        let resp = self.submit(key, body).await;
        let v = json(&resp);
        assert_eq!(resp.status(), 201, "{v}");
        v
    }

    /// A reviewer's step (`acknowledge`, `start-review`, `decision`) by `role`.
    pub async fn step(&self, id: &str, step: &str, role: &str, body: &Value) -> Response<Body> {
        let org = if role == "provider_user" || role == "site_admin" {
            SUNRISE_ORG
        } else {
            IPA
        };
        self.call(
            Call::new(
                &format!("POST /v1/disputes/{{id}}/{step}"),
                &format!("/v1/disputes/{id}/{step}"),
            )
            .by(org, role)
            .json(body),
        )
        .await
    }

    pub async fn get(&self, id: &str, org: &str, role: &str) -> Response<Body> {
        self.call(Call::new("GET /v1/disputes/{id}", &format!("/v1/disputes/{id}")).by(org, role))
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

/// An appeal of the denied auth `auth_id`.
pub fn appeal(auth_id: &str) -> Value {
    json!({
        "kind": "appeal",
        "prior_auth_id": auth_id,
        "reason_category": "medical_necessity",
        "reason": "The patient failed 12 visits of home exercise; the notes show why 20 visits are needed.",
        "expedited": false,
        "contact": {"name": "Billing office", "phone": "657-555-0199", "email": "billing@sunrise-fm.example"}
    })
}

/// A decision by the reviewer.
pub fn decision(outcome: &str, amount: Option<&str>) -> Value {
    json!({
        "outcome": outcome,
        "amount": amount,
        "reasons": ["The clinical notes show the failed home program."],
        "determination": "Dear provider, we reviewed your appeal and the records ..."
    })
}

pub fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// An instant field of a JSON answer.
pub fn instant(v: &Value) -> jiff::Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .parse()
        .unwrap()
}

/// Files a physical-therapy request (review required: pended) with reference
/// `id` on any store holding the small IPA's directory, and a medical director
/// takes `action` on it at `now`.
pub async fn reviewed_auth(
    store: &dyn mso_store::RecordStore,
    queue: &dyn mso_store::WorkQueue,
    policy: &mso_domain::policy::Policy,
    now: jiff::Timestamp,
    id: &str,
    action: Action,
) {
    let ports = mso_records::Ports {
        records: store,
        queue,
    };
    let mut request = json!({
        "member_id": ANA.0, "dob": ANA.1,
        "setting": "outpatient", "category": "therapy", "urgency": "routine",
        "urgency_reason": null, "service_from": "2026-03-10", "service_to": "2026-04-10",
        "requesting_npi": PCP_NPI, "servicing_npi": SUNRISE_NPI, "place_of_service": "11",
        "diagnoses": ["M25.561"], "lines": [{"code": "97110", "modifiers": [], "units": 20}],
        "contact": {"name": "Front desk", "phone": "657-555-0199", "extension": null, "fax": null, "email": null},
        "admitted_at": null
    });
    request["lines"][0]["units"] = json!(20);
    let actor = Actor {
        subject: format!("user-of-{SUNRISE_ORG}"),
        org: SUNRISE_ORG.into(),
        role: "provider_user".into(),
    };
    let auth = prior_auths::file(
        store,
        policy,
        Some(&OrgId::parse(SUNRISE_ORG).unwrap()),
        serde_json::from_value(request).unwrap(),
        now,
        now,
        Source::Portal,
        ReferenceId::parse(id).unwrap(),
        actor,
    )
    .await
    .unwrap_or_else(|_| panic!("the fixture auth is refused"));
    assert_eq!(auth.status.as_str(), "pended");
    Change::created(&auth, now)
        .unwrap()
        .commit(ports, None)
        .await
        .unwrap();
    let stored = prior_auths::load(store, &auth.id).await.unwrap().unwrap();
    let mut decided = stored.value.0.clone();
    review::decide(
        &mut decided,
        &Decision {
            action,
            lines: vec![],
            reason_code: Some("not_medically_necessary".into()),
            reason: Some("Twelve visits meet the guideline.".into()),
            criteria: Some("MCG A-0123".into()),
            peer_to_peer: Some(PeerToPeer {
                name: "Dr. Lee".into(),
                phone: "657-555-0110".into(),
            }),
        },
        Reviewer::Physician,
        Actor {
            subject: "md-1".into(),
            org: IPA.into(),
            role: "medical_director".into(),
        },
        now,
        policy,
        None,
    )
    .unwrap();
    Change::updated(&stored, &decided, now)
        .unwrap()
        .commit(ports, None)
        .await
        .unwrap();
}

/// How the fixture claim was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Accepted by the edits (then paid: the remittance follows).
    Accepted,
    /// Denied by an examiner for medical necessity.
    MedicalNecessityDenial,
}

/// Stores a claim with reference `id` (`CLM-7K3Q9M2P4X`) of the Sunrise
/// practice for Ana's lumbar MRI on `service` (one live claim per service:
/// another claim needs another date), decided at `decided_at`, as the claims
/// job would.
pub async fn decided_claim(
    store: &dyn mso_store::RecordStore,
    queue: &dyn mso_store::WorkQueue,
    policy: &mso_domain::policy::Policy,
    id: &str,
    service: &str,
    decided_at: jiff::Timestamp,
    how: ClaimDecision,
) {
    use mso_domain::claims::edits::Outcome;
    use mso_domain::claims::{Claim, Source, Status};
    use mso_records::claims;
    let submission = serde_json::from_value(json!({
        "claim_type": "professional", "frequency": "1", "original_claim_id": null,
        "patient_control_number": "ACCT-1001", "billing_npi": PCP_NPI, "billing_tin": "95-1234567",
        "rendering_npi": SUNRISE_NPI, "referring_npi": null,
        "member_id": ANA.0, "dob": ANA.1, "place_of_service": "22", "type_of_bill": null,
        "diagnoses": ["M54.16"], "prior_auth_id": null, "total_charge_cents": 125_000,
        "lines": [{"procedure": "72148", "modifiers": [], "revenue_code": null, "units": "1",
            "charge_cents": 125_000, "service_from": service, "service_to": service,
            "diagnosis_pointers": [1], "rendering_npi": null, "place_of_service": null, "prior_auth_id": null}]
    }))
    .unwrap();
    let received = ts("2026-01-20T17:00:00Z");
    let mut claim = Claim::received(
        ReferenceId::parse(id).unwrap(),
        OrgId::parse(SUNRISE_ORG).unwrap(),
        Source::Portal,
        submission,
        received,
        policy,
        Actor::system(),
    );
    match how {
        ClaimDecision::Accepted => {
            claim.judged(Outcome::of(vec![]), decided_at);
        }
        ClaimDecision::MedicalNecessityDenial => {
            claim.judged(
                Outcome {
                    status: Status::Pended,
                    edits: vec![],
                },
                received,
            );
            claim
                .reviewed(
                    false,
                    "Not medically necessary".into(),
                    true,
                    Actor::system(),
                    decided_at,
                )
                .unwrap();
        }
    }
    claims::Change::created(&claim, received)
        .unwrap()
        .commit(
            mso_records::Ports {
                records: store,
                queue,
            },
            None,
        )
        .await
        .unwrap();
}

impl Env {
    /// The MRI on 2026-01-15 (see [`decided_claim`]).
    pub async fn claim(&self, id: &str, decided_at: &str, how: ClaimDecision) {
        self.claim_of(id, "2026-01-15", decided_at, how).await;
    }

    pub async fn claim_of(&self, id: &str, service: &str, decided_at: &str, how: ClaimDecision) {
        decided_claim(
            self.ipa.records.as_ref(),
            self.ipa.queue.as_ref(),
            &self.ipa.policy,
            id,
            service,
            ts(decided_at),
            how,
        )
        .await;
    }
}

/// A payment dispute of $125.00 on `claim_id`, remitted on `remittance_date`.
pub fn pdr(claim_id: &str, remittance_date: &str) -> Value {
    json!({
        "kind": "pdr",
        "claim_id": claim_id,
        "reason_category": "underpayment",
        "reason": "Paid $1,125.00 against a contract rate of $1,250.00.",
        "amount_disputed": "125.00",
        "remittance_date": remittance_date,
        "contact": {"name": "Billing office", "phone": "657-555-0199"}
    })
}
