//! The eligibility handlers on the embedded store, as a portal user sees them.

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use eligibility::handle;
use mso_store::{Condition, Key, Page, Query, Record, RecordStore, StoreError, WriteOp};
use serde_json::Value;
use support::*;

#[tokio::test]
async fn an_active_member_is_eligible_with_plan_pcp_and_delegation() {
    let f = fixture().await;
    let q = format!("member_id=SUN100001&dob=1984-03-15&dos=2026-03-02&npi={SUNRISE_NPI}");
    let resp = handle(&f.deps, eligibility(&q, SUNRISE_ORG)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let v = json(&resp);
    assert_eq!(v["eligible"], true);
    assert_eq!(v["reasons"], Value::Array(vec![]));
    assert_eq!(v["coverage"]["plan_id"], "GSHP-MCAL");
    assert_eq!(v["coverage"]["line_of_business"], "medi_cal");
    assert_eq!(v["coverage"]["line_of_business_label"], "Medi-Cal");
    assert_eq!(v["coverage"]["start"], "2025-01-01");
    assert_eq!(v["coverage"]["end"], Value::Null);
    assert_eq!(v["pcp"]["npi"], PCP_NPI);
    assert_eq!(v["pcp"]["name"], "Maria Santos MD");
    assert_eq!(v["delegation"]["financially_responsible"]["party"], "ipa");
    assert_eq!(
        v["delegation"]["authorizes"]["name"],
        "Sunrise Physicians IPA"
    );
    let mental_health = v["delegation"]["carve_outs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "specialty_mental_health")
        .unwrap();
    assert_eq!(mental_health["authorizes"]["party"], "health_plan");
    assert_eq!(
        mental_health["financially_responsible"]["name"],
        "Golden State Health Plan"
    );
    let inpatient = v["delegation"]["carve_outs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "inpatient_facility")
        .unwrap();
    assert_eq!(inpatient["financially_responsible"]["party"], "health_plan");
    assert_eq!(inpatient["authorizes"]["party"], "ipa");
    assert_eq!(v["rendering_provider"]["in_network"], true);
    assert_eq!(v["rendering_provider"]["is_assigned_pcp"], false);
}

#[tokio::test]
async fn not_eligible_answers_say_why_in_plain_language() {
    let f = fixture().await;
    let cases = [
        (
            "member_id=SUN100002&dob=1971-11-30&dos=2026-03-02",
            "terminated",
            "Coverage terminated on 2026-01-31.",
        ),
        (
            "member_id=SUN100003&dob=1990-07-04&dos=2026-03-02",
            "not_yet_effective",
            "No coverage on 2026-03-02: coverage starts on 2026-06-01.",
        ),
        (
            "member_id=SUN100004&dob=1965-02-10&dos=2026-03-02",
            "not_assigned_to_ipa",
            "Not assigned to Sunrise Physicians IPA on 2026-03-02: the assigned primary care physician is not in this IPA's network.",
        ),
    ];
    for (query, code, message) in cases {
        let v = json(&handle(&f.deps, eligibility(query, SUNRISE_ORG)).await);
        assert_eq!(v["eligible"], false, "{query}");
        assert_eq!(v["reasons"][0]["code"], code, "{query}");
        assert_eq!(v["reasons"][0]["message"], message, "{query}");
        assert_eq!(v["delegation"], Value::Null);
    }
    // A termed member still shows the span that ended, for the front desk.
    let v = json(
        &handle(
            &f.deps,
            eligibility(
                "member_id=SUN100002&dob=1971-11-30&dos=2026-01-31",
                SUNRISE_ORG,
            ),
        )
        .await,
    );
    assert_eq!(v["eligible"], true, "the last covered day is covered");
}

#[tokio::test]
async fn a_wrong_date_of_birth_answers_exactly_like_an_unknown_member() {
    let f = fixture().await;
    let wrong_dob = handle(
        &f.deps,
        eligibility(
            "member_id=SUN100001&dob=1984-03-16&dos=2026-03-02",
            SUNRISE_ORG,
        ),
    )
    .await;
    let unknown = handle(
        &f.deps,
        eligibility(
            "member_id=NOSUCH999&dob=1984-03-16&dos=2026-03-02",
            SUNRISE_ORG,
        ),
    )
    .await;
    assert_eq!(wrong_dob.status(), unknown.status());
    assert_eq!(wrong_dob.headers(), unknown.headers());
    let (mut a, mut b) = (json(&wrong_dob), json(&unknown));
    // Only the echoed member ID may differ.
    a["member_id"] = Value::Null;
    b["member_id"] = Value::Null;
    assert_eq!(a, b);
    assert_eq!(a["eligible"], false);
    assert_eq!(a["reasons"][0]["code"], "member_not_found");
    assert_eq!(a["member_name"], Value::Null);
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let f = fixture().await;
    let resp = handle(
        &f.deps,
        eligibility("dob=1984-02-30&dos=03/02/2026&npi=1234567890", SUNRISE_ORG),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let v = json(&resp);
    let fields: Vec<_> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["member_id", "dob", "dos", "npi"]);
    let codes: Vec<_> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["required", "invalid_date", "invalid_date", "invalid_npi"]
    );
}

#[tokio::test]
async fn the_npi_must_belong_to_the_callers_organisation() {
    let f = fixture().await;
    let q = format!("member_id=SUN100001&dob=1984-03-15&dos=2026-03-02&npi={SUNRISE_NPI}");
    let resp = handle(&f.deps, eligibility(&q, HARBOR_ORG)).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(json(&resp)["errors"][0]["field"], "npi");
    // An NPI that passes Luhn but is in no directory is refused the same way.
    let q = "member_id=SUN100001&dob=1984-03-15&dos=2026-03-02&npi=1845678907";
    assert_eq!(
        handle(&f.deps, eligibility(q, SUNRISE_ORG)).await.status(),
        403
    );
}

#[tokio::test]
async fn callers_need_a_verified_token_and_a_role_that_reads_members() {
    let f = fixture().await;
    let q = "member_id=SUN100001&dob=1984-03-15&dos=2026-03-02";
    let resp = handle(
        &f.deps,
        get("GET /v1/eligibility", "/v1/eligibility", q, None),
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let ops = get(
        "GET /v1/eligibility",
        "/v1/eligibility",
        q,
        Some(claims(SUNRISE_ORG, "ops_admin", &[])),
    );
    assert_eq!(handle(&f.deps, ops).await.status(), 403);
}

#[tokio::test]
async fn every_lookup_is_audited_with_who_what_and_outcome() {
    let f = fixture().await;
    handle(
        &f.deps,
        eligibility(
            "member_id=SUN100001&dob=1984-03-15&dos=2026-03-02",
            SUNRISE_ORG,
        ),
    )
    .await;
    handle(
        &f.deps,
        eligibility(
            "member_id=SUN100001&dob=1999-01-01&dos=2026-03-02",
            HARBOR_ORG,
        ),
    )
    .await;
    let page = f
        .records
        .query(Query::primary("AUDIT#2026-03-02", ""))
        .await
        .unwrap();
    assert_eq!(page.records.len(), 2);
    let events: Vec<Value> = page
        .records
        .iter()
        .map(|r| r.body.to_value().unwrap())
        .collect();
    assert_eq!(events[0]["action"], "eligibility.lookup");
    assert_eq!(events[0]["actor_org"], SUNRISE_ORG);
    assert_eq!(events[0]["subject_id"], "SUN100001");
    assert_eq!(events[0]["outcome"], "eligible");
    assert_eq!(events[0]["request_id"], "test-request");
    assert_eq!(events[1]["actor_org"], HARBOR_ORG);
    // The caller was told "no member matches"; the trail knows the member exists.
    assert_eq!(events[1]["outcome"], "dob_mismatch");
    // And by user, through the secondary index.
    let by_actor = f
        .records
        .query(Query::gsi1(
            format!("AUDIT#ACTOR#{HARBOR_ORG}#user-of-{HARBOR_ORG}"),
            "",
        ))
        .await
        .unwrap();
    assert_eq!(by_actor.records.len(), 1);
}

/// A store whose writes fail: the audit trail is down.
struct AuditDown(Arc<dyn RecordStore>);

#[async_trait]
impl RecordStore for AuditDown {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.0.get(key).await
    }
    async fn put(&self, _: Record, _: Condition) -> Result<(), StoreError> {
        Err(StoreError::unavailable("test", "audit table throttled"))
    }
    async fn transact(&self, _: Vec<WriteOp>) -> Result<(), StoreError> {
        Err(StoreError::unavailable("test", "audit table throttled"))
    }
    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        self.0.query(q).await
    }
}

#[tokio::test]
async fn no_member_data_leaves_without_an_audit_record() {
    let f = fixture().await;
    let mut deps = f.deps.clone();
    deps.records = Arc::new(AuditDown(f.records.clone()));
    let resp = handle(
        &deps,
        eligibility(
            "member_id=SUN100001&dob=1984-03-15&dos=2026-03-02",
            SUNRISE_ORG,
        ),
    )
    .await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "2");
    let body = String::from_utf8_lossy(resp.body().as_ref()).to_string();
    assert!(!body.contains("Ana") && !body.contains("GSHP"), "{body}");
}

#[tokio::test]
async fn the_guard_the_rendering_provider_and_the_member_are_read_in_one_round_trip() {
    let f = fixture().await;
    let slow = mso_testkit::SlowReads::new(f.records.clone(), Duration::from_millis(5));
    let mut deps = f.deps.clone();
    deps.records = slow.clone();
    let q = format!("member_id=SUN100001&dob=1984-03-15&dos=2026-03-02&npi={SUNRISE_NPI}");
    let resp = handle(&deps, eligibility(&q, SUNRISE_ORG)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json(&resp)["pcp"]["npi"], PCP_NPI);
    // The guard's count and one read of the member with the provider, at once;
    // the PCP, named by the member's record, is read after: three reads in all.
    assert_eq!(slow.most_at_once(), 2);
    assert_eq!(slow.reads(), 3);
}

#[tokio::test]
async fn the_public_policy_shows_the_ipa_rules() {
    let f = fixture().await;
    let resp = handle(
        &f.deps,
        get(
            "GET /v1/policy",
            "/v1/policy",
            "",
            Some(claims(SUNRISE_ORG, "provider_user", &[])),
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let v = json(&resp);
    assert_eq!(v["ipa"]["name"], "Sunrise Physicians IPA");
    assert!(
        v["prior_auth"]["pa_required_codes"]
            .as_array()
            .unwrap()
            .contains(&Value::from("70540-70559"))
    );
    assert!(
        v["prior_auth"]["no_auth_services"]
            .as_array()
            .unwrap()
            .contains(&Value::from("obgyn_self_referral"))
    );
    assert_eq!(v["attachments"]["max_bytes"], 25 * 1024 * 1024);
    assert_eq!(v["disputes"]["filing_window_days"], 120);
    assert_eq!(v["disputes"]["filing_window_from"], "remittance_date");
    assert_eq!(v["contacts"]["expedited_appeal_fax"], "855-555-0103");
    assert_eq!(
        handle(&f.deps, get("GET /v1/policy", "/v1/policy", "", None))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn unknown_routes_are_a_problem_not_a_panic() {
    let f = fixture().await;
    let resp = handle(&f.deps, get("GET /v1/nothing", "/v1/nothing", "", None)).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(json(&resp)["type"], "urn:mso:problem:no-route");
}

fn lookup_as(org: &str, role: &str, subject: &str, query: &str) -> mso_api::Request {
    let mut c = claims(org, role, &[]);
    c.insert("sub".into(), subject.into());
    get("GET /v1/eligibility", "/v1/eligibility", query, Some(c))
}

/// The audit outcomes recorded on 2026-03-02, the fixture's day, in order.
async fn audit_outcomes(f: &Fixture) -> Vec<String> {
    f.records
        .query(Query::primary("AUDIT#2026-03-02", ""))
        .await
        .unwrap()
        .records
        .iter()
        .map(|r| {
            r.body.to_value().unwrap()["outcome"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

const ANA: &str = "member_id=SUN100001&dob=1984-03-15&dos=2026-03-02";

#[tokio::test]
async fn staff_roles_act_only_for_the_ipa_and_providers_only_for_their_organisation() {
    let f = fixture().await;
    let status = |org: &'static str, role: &'static str, query: String| {
        let deps = f.deps.clone();
        async move {
            handle(&deps, lookup_as(org, role, "u", &query))
                .await
                .status()
        }
    };
    // An intake clerk of a provider organisation, with no NPI: refused.
    assert_eq!(status(SUNRISE_ORG, "intake_clerk", ANA.into()).await, 403);
    assert_eq!(status(SUNRISE_ORG, "um_nurse", ANA.into()).await, 403);
    // The IPA's own staff may look up, for any provider in the directory.
    assert_eq!(status("sunrise", "intake_clerk", ANA.into()).await, 200);
    let any_npi = format!("{ANA}&npi={HARBOR_NPI}");
    assert_eq!(status("sunrise", "um_nurse", any_npi).await, 200);
    // A provider role in the IPA's own token is not a thing.
    assert_eq!(status("sunrise", "provider_user", ANA.into()).await, 403);
    // Roles that do not need member data, on either side.
    assert_eq!(status("sunrise", "ops_admin", ANA.into()).await, 403);
    assert_eq!(status(SUNRISE_ORG, "site_admin", ANA.into()).await, 200);
}

#[tokio::test]
async fn lookups_that_match_no_member_are_limited_per_user() {
    let f = fixture().await;
    let limit = f.deps.policy.eligibility.not_found_limit;
    assert_eq!(limit, 10);
    let probe = |n: u32| format!("member_id=SUN1{n:05}&dob=1980-01-01&dos=2026-03-02");
    for n in 0..limit {
        let resp = handle(
            &f.deps,
            lookup_as(SUNRISE_ORG, "provider_user", "prober", &probe(n)),
        )
        .await;
        assert_eq!(resp.status(), 200, "lookup {n}");
        assert_eq!(json(&resp)["reasons"][0]["code"], "member_not_found");
    }
    let resp = handle(
        &f.deps,
        lookup_as(SUNRISE_ORG, "provider_user", "prober", &probe(99)),
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    // The fixture's clock is 17:05:00; windows are 15 minutes from the hour.
    assert_eq!(resp.headers()["retry-after"], "600");
    let body = String::from_utf8_lossy(resp.body().as_ref()).to_string();
    assert!(!body.contains("SUN1"), "{body}");
    // Even a real member is refused to this user until the window ends...
    let real = handle(
        &f.deps,
        lookup_as(SUNRISE_ORG, "provider_user", "prober", ANA),
    )
    .await;
    assert_eq!(real.status(), 429);
    // ...while a colleague of the same organisation is not held up.
    let colleague = handle(
        &f.deps,
        lookup_as(SUNRISE_ORG, "provider_user", "colleague", ANA),
    )
    .await;
    assert_eq!(colleague.status(), 200);
    assert_eq!(json(&colleague)["eligible"], true);
    // Refusals that named a member are in the audit trail.
    let outcomes = audit_outcomes(&f).await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| *o == "refused_rate_limited")
            .count(),
        2,
        "{outcomes:?}"
    );

    // The next window lets the user in again.
    let clock = mso_api::FixedClock::new("2026-03-02T17:15:00Z".parse().unwrap());
    let mut later = f.deps.clone();
    later.clock = Arc::new(clock);
    let resp = handle(
        &later,
        lookup_as(SUNRISE_ORG, "provider_user", "prober", ANA),
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_wrong_date_of_birth_counts_toward_the_limit_and_is_audited_distinctly() {
    let f = fixture().await;
    let wrong_dob = "member_id=SUN100001&dob=1984-03-16&dos=2026-03-02";
    for _ in 0..10 {
        let resp = handle(
            &f.deps,
            lookup_as(SUNRISE_ORG, "provider_user", "p", wrong_dob),
        )
        .await;
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(
        handle(
            &f.deps,
            lookup_as(SUNRISE_ORG, "provider_user", "p", wrong_dob)
        )
        .await
        .status(),
        429
    );
    let outcomes = audit_outcomes(&f).await;
    assert_eq!(outcomes.iter().filter(|o| *o == "dob_mismatch").count(), 10);
    assert!(!outcomes.contains(&"member_not_found".to_string()));
}

#[tokio::test]
async fn refused_lookups_that_name_a_member_are_audited() {
    let f = fixture().await;
    let foreign_npi = format!("{ANA}&npi={SUNRISE_NPI}");
    assert_eq!(
        handle(
            &f.deps,
            lookup_as(HARBOR_ORG, "provider_user", "u", &foreign_npi)
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        handle(&f.deps, lookup_as(HARBOR_ORG, "intake_clerk", "u", ANA))
            .await
            .status(),
        403
    );
    assert_eq!(
        handle(
            &f.deps,
            lookup_as(
                HARBOR_ORG,
                "provider_user",
                "u",
                "member_id=SUN100001&dob=bad"
            )
        )
        .await
        .status(),
        400
    );
    // No member named, nothing to audit.
    assert_eq!(
        handle(
            &f.deps,
            lookup_as(HARBOR_ORG, "intake_clerk", "u", "dob=1984-03-15")
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        audit_outcomes(&f).await,
        ["refused_npi", "refused_role", "refused_invalid_query"]
    );
}
