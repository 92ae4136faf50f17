//! Reading and listing auths: organisation scope, filters, paging, the report.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn another_organisations_auth_is_not_found() {
    let e = env().await;
    let v = e.filed("k", &mri()).await;
    let id = v["id"].as_str().unwrap();
    assert_eq!(e.get(id, HARBOR_ORG, "provider_user").await.status(), 404);
    assert_eq!(
        e.get("PA-000000", SUNRISE_ORG, "provider_user")
            .await
            .status(),
        404
    );
    assert_eq!(
        e.get("not-an-id", SUNRISE_ORG, "provider_user")
            .await
            .status(),
        404
    );
    // IPA staff of the auth's job may read it; operations may not.
    assert_eq!(e.get(id, IPA, "claims_examiner").await.status(), 200);
    assert_eq!(e.get(id, IPA, "ops_admin").await.status(), 403);
    let theirs = json(
        &e.call(
            Call::new("GET /v1/prior-auths", "/v1/prior-auths").by(HARBOR_ORG, "provider_user"),
        )
        .await,
    );
    assert_eq!(theirs["items"], json!([]));
}

#[tokio::test]
async fn lists_filter_by_member_status_and_dates_and_page() {
    let e = env().await;
    let mut ids = Vec::new();
    for (i, at) in [
        "2026-03-02T17:05:00Z",
        "2026-03-03T17:05:00Z",
        "2026-03-04T17:05:00Z",
    ]
    .iter()
    .enumerate()
    {
        e.ipa.at(at);
        let body = if i == 1 { therapy() } else { mri() };
        ids.push(
            e.filed(&format!("k{i}"), &body).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let list = |q: &str| {
        let call = Call::new("GET /v1/prior-auths", "/v1/prior-auths")
            .by(SUNRISE_ORG, "provider_user")
            .query(q);
        async { json(&e.call(call).await) }
    };
    let all = list("").await;
    let got: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [&ids[2], &ids[1], &ids[0]], "newest first");
    let pended = list("status=pended").await;
    assert_eq!(pended["items"].as_array().unwrap().len(), 1);
    assert_eq!(pended["items"][0]["id"], ids[1].as_str());
    let by_member = list(&format!("member_id={}", ANA.0.to_lowercase())).await;
    assert_eq!(by_member["items"].as_array().unwrap().len(), 3);
    let dated = list("from=2026-03-03&to=2026-03-03").await;
    assert_eq!(dated["items"].as_array().unwrap().len(), 1);
    assert_eq!(dated["items"][0]["id"], ids[1].as_str());

    let first = list("limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(&format!("limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["id"], ids[0].as_str());
    assert!(second.get("next_cursor").is_none());

    let bad = e
        .call(
            Call::new("GET /v1/prior-auths", "/v1/prior-auths")
                .by(SUNRISE_ORG, "provider_user")
                .query("cursor=forged&limit=500&status=maybe&from=2026-03-05&to=2026-03-01"),
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(error_fields(&json(&bad)), ["status", "limit", "to"]);
    let tampered = e
        .call(
            Call::new("GET /v1/prior-auths", "/v1/prior-auths")
                .by(SUNRISE_ORG, "provider_user")
                .query("cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await;
    assert_eq!(tampered.status(), 400);
    assert_eq!(error_fields(&json(&tampered)), ["cursor"]);
}

#[tokio::test]
async fn the_metrics_report_counts_decisions_and_their_times() {
    let e = env().await;
    e.filed("k1", &mri()).await;
    let pended = e.filed("k2", &therapy()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    e.ipa.at("2026-03-03T17:05:00Z");
    assert_eq!(
        e.decide(&pended, "um_nurse", &json!({"action": "approve"}))
            .await
            .status(),
        200
    );
    let report = |org: &str, role: &str, q: &str| {
        let call = Call::new(
            "GET /v1/reports/prior-auth-metrics",
            "/v1/reports/prior-auth-metrics",
        )
        .by(org, role)
        .query(q);
        async { e.call(call).await }
    };
    let resp = report(IPA, "ops_admin", "from=2026-03-01&to=2026-03-31").await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(v["standard"]["decided"], 2);
    assert_eq!(v["standard"]["approved_percent"], 100.0);
    assert_eq!(
        v["standard"]["median_decision_seconds"], 43_200,
        "0 s and 24 h"
    );
    assert_eq!(v["expedited"]["decided"], 0);
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
    assert_eq!(
        report(IPA, "ops_admin", "from=2026-03-31&to=2026-03-01")
            .await
            .status(),
        400
    );
}
