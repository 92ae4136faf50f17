//! Reads and lists within the organisation, and the report.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn a_dispute_is_read_by_its_organisation_and_staff_only() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    assert_eq!(e.get(id, SUNRISE_ORG, "site_admin").await.status(), 200);
    assert_eq!(e.get(id, IPA, "dispute_reviewer").await.status(), 200);
    assert_eq!(e.get(id, IPA, "claims_examiner").await.status(), 200);
    // Another organisation: 404, as for an ID that does not exist.
    let other = e.get(id, HARBOR_ORG, "provider_user").await;
    assert_eq!(other.status(), 404);
    assert_eq!(json(&other)["type"], "urn:mso:problem:not-found");
    assert_eq!(
        e.get("DSP-000000", SUNRISE_ORG, "provider_user")
            .await
            .status(),
        404
    );
    assert_eq!(e.get(id, IPA, "um_nurse").await.status(), 403);
    let got = json(&e.get(id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(got["documents"], json!([]));
}

#[tokio::test]
async fn lists_filter_by_status_and_subject_within_the_organisation() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    e.denied_auth("PA-8K3Q9M").await;
    let a = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    e.ipa.at("2026-03-02T18:00:00Z");
    let b = e.filed("k-2", &appeal("PA-8K3Q9M")).await;
    e.step(
        b["id"].as_str().unwrap(),
        "acknowledge",
        "dispute_reviewer",
        &json!({}),
    )
    .await;
    let list = |org: &str, role: &str, q: &str| {
        e.call(
            Call::new("GET /v1/disputes", "/v1/disputes")
                .query(q)
                .by(org, role),
        )
    };
    let ids = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let a_id = a["id"].as_str().unwrap().to_string();
    let b_id = b["id"].as_str().unwrap().to_string();
    // Newest first.
    assert_eq!(
        ids(json(&list(SUNRISE_ORG, "provider_user", "").await)),
        [b_id.clone(), a_id.clone()]
    );
    assert_eq!(
        ids(json(
            &list(SUNRISE_ORG, "provider_user", "status=received").await
        )),
        vec![a_id.clone()]
    );
    assert_eq!(
        ids(json(
            &list(SUNRISE_ORG, "provider_user", "prior_auth_id=PA-8K3Q9M").await
        )),
        vec![b_id.clone()]
    );
    assert_eq!(
        ids(json(
            &list(IPA, "dispute_reviewer", "status=acknowledged").await
        )),
        [b_id]
    );
    // Another organisation sees none of them, even by subject.
    assert!(ids(json(&list(HARBOR_ORG, "provider_user", "").await)).is_empty());
    assert!(
        ids(json(
            &list(HARBOR_ORG, "provider_user", "prior_auth_id=PA-7K3Q9M").await
        ))
        .is_empty()
    );
    // Paged.
    let page = json(&list(SUNRISE_ORG, "provider_user", "limit=1").await);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = json(
        &list(
            SUNRISE_ORG,
            "provider_user",
            &format!("limit=1&cursor={cursor}"),
        )
        .await,
    );
    assert_eq!(ids(next), [a_id]);
    // Bad filters, every one named.
    let bad = list(
        SUNRISE_ORG,
        "provider_user",
        "status=open&claim_id=PA-1&limit=0",
    )
    .await;
    let v = json(&bad);
    assert_eq!(bad.status(), 400);
    assert_eq!(error_fields(&v), ["status", "claim_id", "limit"]);
    let bad = list(SUNRISE_ORG, "provider_user", "cursor=forged").await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn the_report_counts_by_kind_and_outcome_and_the_share_on_time() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    e.denied_auth("PA-8K3Q9M").await;
    e.denied_auth("PA-9K3Q9M").await;
    let a = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let b = e.filed("k-2", &appeal("PA-8K3Q9M")).await;
    e.filed("k-3", &appeal("PA-9K3Q9M")).await;
    // a: acknowledged on time and overturned; b: decided (and acknowledged) late
    // on 10 March; the third never touched (its acknowledgement is late by then).
    e.ipa.at("2026-03-03T17:00:00Z");
    e.step(
        a["id"].as_str().unwrap(),
        "decision",
        "dispute_reviewer",
        &decision("overturned", None),
    )
    .await;
    e.ipa.at("2026-03-10T17:00:00Z");
    e.step(
        b["id"].as_str().unwrap(),
        "decision",
        "dispute_reviewer",
        &decision("upheld", None),
    )
    .await;
    let report = |org: &str, role: &str, q: &str| {
        e.call(
            Call::new("GET /v1/reports/disputes", "/v1/reports/disputes")
                .query(q)
                .by(org, role),
        )
    };
    let resp = report(IPA, "ops_admin", "from=2026-03-01&to=2026-03-31").await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    let f = &v["figures"];
    assert_eq!(f["total"], 3);
    assert_eq!(f["by_kind"]["appeal"], 3);
    assert_eq!(f["by_kind"]["pdr"], 0);
    assert_eq!(f["by_outcome"]["overturned"], 1);
    assert_eq!(f["by_outcome"]["upheld"], 1);
    assert_eq!(f["by_outcome"]["undecided"], 1);
    assert_eq!(f["by_kind_and_outcome"]["appeal"]["overturned"], 1);
    assert_eq!(f["acknowledgement"]["on_time"], 1);
    assert_eq!(f["acknowledgement"]["late"], 2);
    assert_eq!(f["acknowledgement"]["on_time_share"], 0.3333);
    assert_eq!(f["decision"]["on_time"], 2);
    assert_eq!(f["decision"]["pending"], 1);
    assert_eq!(f["decision"]["on_time_share"], 1.0);
    // Another month has none.
    let v = json(&report(IPA, "dispute_reviewer", "from=2026-04-01&to=2026-04-30").await);
    assert_eq!(v["figures"]["total"], 0);
    assert_eq!(
        report(
            SUNRISE_ORG,
            "provider_user",
            "from=2026-03-01&to=2026-03-31"
        )
        .await
        .status(),
        403
    );
    let bad = report(IPA, "ops_admin", "from=2026-03-31&to=2026-03-01").await;
    assert_eq!(bad.status(), 400);
    assert_eq!(error_fields(&json(&bad)), ["to"]);
    let bad = report(IPA, "ops_admin", "").await;
    assert_eq!(error_fields(&json(&bad)), ["from", "to"]);
}

/// The read's audit entry and the dispute's documents: one round trip, after
/// the dispute itself.
#[tokio::test]
async fn a_read_keeps_its_audit_entry_while_reading_the_documents() {
    let mut e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-audit", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    let slow = mso_testkit::SlowReads::with_slow_writes(
        e.deps.records.clone(),
        std::time::Duration::from_millis(5),
    );
    e.deps.records = slow.clone();
    assert_eq!(e.get(id, SUNRISE_ORG, "site_admin").await.status(), 200);
    assert_eq!((slow.reads(), slow.writes()), (3, 1));
    assert_eq!(slow.reads_in_turn(), 2);
}
