//! A small IPA on the embedded store: the sunrise policy, four providers in three
//! organisations, and members in the coverage situations the tests need.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use eligibility::Deps;
use mso_api::gateway::{GatewayRequest, flatten_claims};
use mso_api::{FixedClock, Request, directory, policies};
use mso_domain::roster::{MemberRow, ProviderRow, members_from_rows, providers_from_rows};
use mso_store::RecordStore;
use mso_store::embedded::Embedded;

pub const SUNRISE_ORG: &str = "sunrise-family-medicine";
pub const HARBOR_ORG: &str = "harbor-pediatrics";
/// Dr. Santos, PCP of the sunrise members.
pub const PCP_NPI: &str = "1234567893";
/// Dr. Park, same organisation as the PCP.
pub const SUNRISE_NPI: &str = "1003000126";
pub const HARBOR_NPI: &str = "1245319599";
pub const OUT_OF_NETWORK_NPI: &str = "1512345673";

pub struct Fixture {
    pub deps: Deps,
    pub records: Arc<dyn RecordStore>,
    _dir: tempfile::TempDir,
}

pub async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let embedded = Embedded::open(dir.path(), "http://127.0.0.1:9".into()).unwrap();
    let records: Arc<dyn RecordStore> = embedded.records();
    let policy = policies::load("sunrise").unwrap();

    let provider = |npi: &str, name: &str, org: &str, network: &str| ProviderRow {
        npi: npi.into(),
        name: name.into(),
        org_id: org.into(),
        specialty: "Family Medicine".into(),
        network: network.into(),
    };
    let providers = providers_from_rows(
        [
            provider(PCP_NPI, "Maria Santos MD", SUNRISE_ORG, "in"),
            provider(SUNRISE_NPI, "James Park MD", SUNRISE_ORG, "in"),
            provider(HARBOR_NPI, "Grace Lee MD", HARBOR_ORG, "in"),
            provider(
                OUT_OF_NETWORK_NPI,
                "Omar Haddad MD",
                "valley-independent",
                "out",
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, r)),
    )
    .unwrap();

    let member = |id: &str,
                  first: &str,
                  dob: &str,
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
                "SUN100001",
                "Ana",
                "1984-03-15",
                "GSHP-MCAL",
                "medi_cal",
                "2025-01-01",
                "",
                PCP_NPI,
            ),
            member(
                "SUN100002",
                "Rosa",
                "1971-11-30",
                "GSHP-MA",
                "medicare_advantage",
                "2024-01-01",
                "2026-01-31",
                PCP_NPI,
            ),
            member(
                "SUN100003",
                "Lena",
                "1990-07-04",
                "PAC-HMO",
                "commercial_hmo",
                "2026-06-01",
                "",
                PCP_NPI,
            ),
            member(
                "SUN100004",
                "Iris",
                "1965-02-10",
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
        &policy,
    )
    .unwrap();

    let mut writes = directory::provider_writes(&providers).unwrap();
    writes.extend(directory::member_writes(&members).unwrap());
    directory::write_all(records.as_ref(), writes)
        .await
        .unwrap();

    // The handler uses the table as the eligibility role lets it
    // (`mso_testkit::role`); the fixture writes the directory as the roster
    // import does.
    let deps = Deps {
        records: mso_testkit::role::RoleRecords::wrap(
            records.clone(),
            mso_testkit::role::Role::of("eligibility"),
        ),
        policy: Arc::new(policy),
        clock: Arc::new(FixedClock::new("2026-03-02T17:05:00Z".parse().unwrap())),
    };
    Fixture {
        deps,
        records,
        _dir: dir,
    }
}

/// Claims as API Gateway's JWT authorizer passes them.
pub fn claims(org: &str, role: &str, npis: &[&str]) -> HashMap<String, String> {
    let json = serde_json::json!({"sub": format!("user-of-{org}"), "org": org, "roles": [role], "npis": npis});
    flatten_claims(json.as_object().unwrap())
}

pub fn get(
    route: &str,
    path: &str,
    query: &str,
    claims: Option<HashMap<String, String>>,
) -> Request {
    GatewayRequest {
        method: mso_api::lambda_http::http::Method::GET,
        path: path.into(),
        query: query.into(),
        route_key: route.into(),
        claims,
        request_id: "test-request".into(),
        ..Default::default()
    }
    .into_request()
}

pub fn eligibility(query: &str, org: &str) -> Request {
    get(
        "GET /v1/eligibility",
        "/v1/eligibility",
        query,
        Some(claims(org, "provider_user", &[])),
    )
}

pub fn json(resp: &mso_api::Response<mso_api::Body>) -> serde_json::Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap()
}
