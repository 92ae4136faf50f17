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

#[tokio::test]
async fn an_auth_lists_its_documents_with_their_status() {
    use mso_domain::document::DocumentType;
    use mso_domain::prior_auth::Actor;
    use mso_records::documents::{self, Change, Document, Owner, OwnerKind, RejectionNote};

    let e = env().await;
    let v = e.filed("k", &therapy()).await;
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        json(&e.get(id, SUNRISE_ORG, "provider_user").await)["documents"],
        json!([])
    );
    // Two documents, as the documents job stores them: one verified, one rejected.
    let store = e.ipa.records.as_ref();
    let ports = mso_records::Ports {
        records: store,
        queue: e.ipa.queue.as_ref(),
    };
    let now = "2026-03-02T17:06:00Z".parse().unwrap();
    for (doc_id, name, verdict) in [
        ("DOC-0000000001", "notes.pdf", Ok(())),
        (
            "DOC-0000000002",
            "scan.pdf",
            Err(RejectionNote {
                code: "encrypted_pdf".into(),
                message: "the PDF is password-protected".into(),
            }),
        ),
    ] {
        let doc = Document::awaiting(
            documents::parse_id(doc_id).unwrap(),
            Owner::parse(OwnerKind::PriorAuth, id).unwrap(),
            mso_domain::ids::OrgId::parse(SUNRISE_ORG).unwrap(),
            name.into(),
            DocumentType::Pdf,
            1234,
            1,
            Actor::system(),
            now,
        );
        Change::created(&doc)
            .unwrap()
            .commit(ports, None)
            .await
            .unwrap();
        let stored = documents::load(store, &doc.id).await.unwrap().unwrap();
        Change::updated(&stored, &doc.checked(verdict, now))
            .unwrap()
            .commit(ports, None)
            .await
            .unwrap();
    }
    let seen = json(&e.get(id, SUNRISE_ORG, "provider_user").await);
    let docs = seen["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2, "{seen}");
    assert_eq!(
        (&docs[0]["id"], &docs[0]["file_name"], &docs[0]["status"]),
        (
            &json!("DOC-0000000001"),
            &json!("notes.pdf"),
            &json!("available")
        )
    );
    assert_eq!(docs[1]["rejection"]["code"], "encrypted_pdf");
    assert_eq!(docs[1]["message"], 1);
    // The answer to a decision shows them too.
    let resp = e
        .decide(id, "um_nurse", &json!({"action": "approve"}))
        .await;
    let decided = json(&resp);
    assert_eq!(resp.status(), 200, "{decided}");
    assert_eq!(decided["documents"], seen["documents"]);
}

/// The read's audit entry and the auth's documents: one round trip, after the
/// auth itself.
#[tokio::test]
async fn a_read_keeps_its_audit_entry_while_reading_the_documents() {
    let mut e = env().await;
    let v = e.filed("k-audit", &mri()).await;
    let id = v["id"].as_str().unwrap();
    let slow = mso_testkit::SlowReads::with_slow_writes(
        e.deps.records.clone(),
        std::time::Duration::from_millis(5),
    );
    e.deps.records = slow.clone();
    assert_eq!(e.get(id, SUNRISE_ORG, "provider_user").await.status(), 200);
    assert_eq!((slow.reads(), slow.writes()), (3, 1));
    assert_eq!(slow.reads_in_turn(), 2);
}
