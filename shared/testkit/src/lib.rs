//! Fixtures for the functions' tests (a dev-dependency only): a small IPA on the
//! embedded store, requests built exactly as API Gateway builds them, and the
//! moto emulator ([`moto`]) for tests of the AWS adapters.

pub mod bench;
pub mod moto;
mod queue_down;
pub mod role;
mod slow_reads;
pub mod template;
pub mod x12;

pub use queue_down::QueueDown;
pub use slow_reads::{SlowObjects, SlowReads};

use std::collections::HashMap;
use std::sync::Arc;

use mso_api::gateway::{GatewayRequest, flatten_claims};
use mso_api::lambda_http::http::{HeaderMap, HeaderName, HeaderValue, Method};
use mso_api::{Body, FixedClock, Request, Response, directory, policies};
use mso_domain::policy::Policy;
use mso_domain::roster::{MemberRow, ProviderRow, members_from_rows, providers_from_rows};
use mso_store::embedded::{Embedded, EmbeddedDocumentStore, EmbeddedWorkQueue};
use mso_store::{DocumentStore, RecordStore, WorkQueue};

/// The IPA's own organisation: IPA staff tokens carry it.
pub const IPA: &str = "sunrise";
pub const SUNRISE_ORG: &str = "sunrise-family-medicine";
pub const HARBOR_ORG: &str = "harbor-pediatrics";
/// Dr. Santos, PCP of the sunrise members.
pub const PCP_NPI: &str = "1234567893";
/// Dr. Park, same organisation as the PCP.
pub const SUNRISE_NPI: &str = "1003000126";
pub const HARBOR_NPI: &str = "1245319599";
pub const OUT_OF_NETWORK_NPI: &str = "1512345673";
/// The fixture's "now": Monday 2 March 2026, 09:05 Pacific.
pub const NOW: &str = "2026-03-02T17:05:00Z";

/// Active Medi-Cal member with an in-network PCP.
pub const ANA: (&str, &str) = ("SUN100001", "1984-03-15");
/// Medicare Advantage, terminated 2026-01-31.
pub const ROSA: (&str, &str) = ("SUN100002", "1971-11-30");
/// Commercial HMO, starting 2026-06-01.
pub const LENA: (&str, &str) = ("SUN100003", "1990-07-04");
/// Medi-Cal, PCP outside the network.
pub const IRIS: (&str, &str) = ("SUN100004", "1965-02-10");

/// A small IPA: the sunrise policy, four providers in three organisations, four
/// members in the coverage situations the tests need.
pub struct SmallIpa {
    pub records: Arc<dyn RecordStore>,
    pub documents: Arc<EmbeddedDocumentStore>,
    pub queue: Arc<EmbeddedWorkQueue>,
    pub policy: Arc<Policy>,
    pub clock: Arc<FixedClock>,
    pub embedded: Embedded,
    /// The embedded store's data directory (removed when the IPA is dropped).
    dir: tempfile::TempDir,
}

impl SmallIpa {
    pub async fn new() -> SmallIpa {
        let dir = tempfile::tempdir().unwrap();
        let embedded = Embedded::open(dir.path(), "http://127.0.0.1:9".into()).unwrap();
        let records: Arc<dyn RecordStore> = embedded.records();
        let policy = policies::load("sunrise").unwrap();
        load_directory(records.as_ref(), &policy).await;
        SmallIpa {
            records,
            documents: embedded.documents(),
            queue: embedded.queue(),
            policy: Arc::new(policy),
            clock: Arc::new(FixedClock::new(NOW.parse().unwrap())),
            embedded,
            dir,
        }
    }

    pub fn queue_port(&self) -> Arc<dyn WorkQueue> {
        self.queue.clone()
    }

    pub fn documents_port(&self) -> Arc<dyn DocumentStore> {
        self.documents.clone()
    }

    /// The keys of every object stored under `prefix` (`documents/`), sorted:
    /// the embedded bucket's files, which a test reads to see that nothing was
    /// left behind.
    pub fn object_keys(&self, prefix: &str) -> Vec<String> {
        fn walk(dir: &std::path::Path, key: &str, keys: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let name = format!("{key}{}", entry.file_name().to_string_lossy());
                if entry.path().is_dir() {
                    walk(&entry.path(), &format!("{name}/"), keys);
                } else {
                    keys.push(name);
                }
            }
        }
        let root = self.dir.path().join(mso_store::embedded::OBJECTS_DIR);
        let mut keys = Vec::new();
        walk(&root, "", &mut keys);
        keys.retain(|k| k.starts_with(prefix));
        keys.sort();
        keys
    }

    /// Moves the clock to `at` (RFC 3339).
    pub fn at(&self, at: &str) {
        self.clock.set(at.parse().unwrap());
    }

    /// Files a prior auth with reference `id` (`PA-7K3Q9M`): see [`file_auth`].
    pub async fn file_auth(&self, id: &str) -> mso_domain::prior_auth::PriorAuth {
        let now = mso_api::Clock::now(self.clock.as_ref());
        file_auth(
            self.records.as_ref(),
            self.queue.as_ref(),
            &self.policy,
            now,
            id,
        )
        .await
    }
}

/// Files a prior auth with reference `id` (`PA-7K3Q9M`) at `now`: Ana's lumbar
/// MRI, requested by the Sunrise practice's PCP, straight through the records
/// crate as any job would (criteria met: approved). For the tests of jobs that
/// attach to auths (documents, claims, disputes), on any store holding
/// [`load_directory`].
pub async fn file_auth(
    records: &dyn RecordStore,
    queue: &dyn WorkQueue,
    policy: &Policy,
    now: jiff::Timestamp,
    id: &str,
) -> mso_domain::prior_auth::PriorAuth {
    use mso_domain::ids::ReferenceId;
    use mso_domain::prior_auth::{Actor, Source};
    use mso_records::prior_auths::{self, Change};
    let request = serde_json::from_value(serde_json::json!({
        "member_id": ANA.0, "dob": ANA.1,
        "setting": "outpatient", "category": "imaging", "urgency": "routine",
        "urgency_reason": null, "service_from": "2026-03-10", "service_to": "2026-04-10",
        "requesting_npi": PCP_NPI, "servicing_npi": SUNRISE_NPI, "place_of_service": "22",
        "diagnoses": ["M54.16"], "lines": [{"code": "72148", "modifiers": [], "units": 1}],
        "contact": {"name": "Front desk", "phone": "657-555-0199", "extension": null, "fax": null, "email": null},
        "admitted_at": null
    }))
    .unwrap();
    let actor = Actor {
        subject: format!("user-of-{SUNRISE_ORG}"),
        org: SUNRISE_ORG.into(),
        role: "provider_user".into(),
    };
    let auth = prior_auths::file(
        records,
        policy,
        Some(&mso_domain::ids::OrgId::parse(SUNRISE_ORG).unwrap()),
        request,
        now,
        now,
        Source::Portal,
        ReferenceId::parse(id).unwrap(),
        actor,
    )
    .await
    .unwrap_or_else(|_| panic!("the fixture auth is refused"));
    Change::created(&auth, now)
        .unwrap()
        .commit(mso_records::Ports { records, queue }, None)
        .await
        .unwrap();
    auth
}

/// The small IPA's directory: four providers in three organisations, four
/// members in the coverage situations the tests need.
pub async fn load_directory(records: &dyn RecordStore, policy: &Policy) {
    let provider = |npi: &str, name: &str, org: &str, specialty: &str, network: &str| ProviderRow {
        npi: npi.into(),
        name: name.into(),
        org_id: org.into(),
        specialty: specialty.into(),
        network: network.into(),
    };
    let providers = providers_from_rows(
        [
            provider(
                PCP_NPI,
                "Maria Santos MD",
                SUNRISE_ORG,
                "Family Medicine",
                "in",
            ),
            provider(SUNRISE_NPI, "James Park MD", SUNRISE_ORG, "Radiology", "in"),
            provider(HARBOR_NPI, "Grace Lee MD", HARBOR_ORG, "Pediatrics", "in"),
            provider(
                OUT_OF_NETWORK_NPI,
                "Omar Haddad MD",
                "valley-independent",
                "Family Medicine",
                "out",
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, r)),
    )
    .unwrap();
    let member = |(id, dob): (&str, &str),
                  first: &str,
                  plan: &str,
                  lob: &str,
                  start: &str,
                  end: &str,
                  pcp: &str| MemberRow {
        member_id: id.into(),
        first_name: first.into(),
        last_name: "Testcase".into(),
        dob: dob.into(),
        sex: "F".into(),
        plan_id: plan.into(),
        line_of_business: lob.into(),
        coverage_start: start.into(),
        coverage_end: end.into(),
        pcp_npi: pcp.into(),
    };
    let members = members_from_rows(
        [
            member(
                ANA,
                "Ana",
                "GSHP-MCAL",
                "medi_cal",
                "2025-01-01",
                "",
                PCP_NPI,
            ),
            member(
                ROSA,
                "Rosa",
                "GSHP-MA",
                "medicare_advantage",
                "2024-01-01",
                "2026-01-31",
                PCP_NPI,
            ),
            member(
                LENA,
                "Lena",
                "PAC-HMO",
                "commercial_hmo",
                "2026-06-01",
                "",
                PCP_NPI,
            ),
            member(
                IRIS,
                "Iris",
                "GSHP-MCAL",
                "medi_cal",
                "2025-01-01",
                "",
                OUT_OF_NETWORK_NPI,
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, r)),
        policy,
    )
    .unwrap();
    let mut writes = directory::provider_writes(&providers).unwrap();
    writes.extend(directory::member_writes(&members).unwrap());
    directory::write_all(records, writes).await.unwrap();
}

/// Claims as API Gateway's JWT authorizer passes them; the subject is
/// `user-of-<org>`.
pub fn claims(org: &str, role: &str, npis: &[&str]) -> HashMap<String, String> {
    let json = serde_json::json!({"sub": format!("user-of-{org}"), "org": org, "roles": [role], "npis": npis});
    flatten_claims(json.as_object().unwrap())
}

/// A request to a function, as API Gateway hands it over.
#[derive(Clone, Debug, Default)]
pub struct Call {
    pub method: Method,
    pub route: String,
    pub path: String,
    pub query: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub claims: Option<HashMap<String, String>>,
    pub path_parameters: HashMap<String, String>,
}

impl Call {
    /// `route` is the route key (`POST /v1/prior-auths/{id}/decision`); `path`
    /// the concrete path, from which `{id}` is taken.
    pub fn new(route: &str, path: &str) -> Call {
        let (method, template) = route.split_once(' ').unwrap();
        let mut path_parameters = HashMap::new();
        for (t, p) in template.split('/').zip(path.split('/')) {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                path_parameters.insert(name.to_string(), p.to_string());
            }
        }
        Call {
            method: method.parse().unwrap(),
            route: route.into(),
            path: path.into(),
            path_parameters,
            ..Call::default()
        }
    }

    pub fn query(mut self, q: &str) -> Call {
        self.query = q.into();
        self
    }

    pub fn json(mut self, body: &serde_json::Value) -> Call {
        self.body = serde_json::to_vec(body).unwrap();
        self.headers
            .push(("content-type".into(), "application/json".into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn by(mut self, org: &str, role: &str) -> Call {
        self.claims = Some(claims(org, role, &[]));
        self
    }

    pub fn by_subject(mut self, org: &str, role: &str, subject: &str) -> Call {
        let mut c = claims(org, role, &[]);
        c.insert("sub".into(), subject.into());
        self.claims = Some(c);
        self
    }

    pub fn build(self) -> Request {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        GatewayRequest {
            method: self.method,
            path: self.path,
            query: self.query,
            route_key: self.route,
            path_parameters: self.path_parameters,
            headers,
            body: self.body,
            claims: self.claims,
            request_id: "test-request".into(),
            ..Default::default()
        }
        .into_request()
    }
}

/// The JSON body of an answer.
pub fn json(resp: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap_or_else(|_| {
        panic!(
            "not JSON: {}",
            String::from_utf8_lossy(resp.body().as_ref())
        )
    })
}

/// The `field` of every error of a problem answer, in order.
pub fn error_fields(v: &serde_json::Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}
