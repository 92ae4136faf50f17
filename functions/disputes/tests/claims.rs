//! Disputes about claims: payment disputes counted from the remittance, appeals
//! of medical-necessity denials, grievances (final), and the claim sent back for
//! re-adjudication when a payment dispute is overturned.

mod support;

use serde_json::json;
use support::*;

const CLAIM: &str = "CLM-7K3Q9M2P4X";

#[tokio::test]
async fn an_overturned_payment_dispute_sends_the_claim_back_for_readjudication() {
    let e = env().await;
    e.claim(CLAIM, "2026-02-18T17:00:00Z", ClaimDecision::Accepted)
        .await;
    let filed = e.filed("k-1", &pdr(CLAIM, "2026-02-20")).await;
    let id = filed["id"].as_str().unwrap();
    assert_eq!(filed["claim_id"], CLAIM);
    assert_eq!(filed["amount_disputed"], "125.00");
    // ProCare-like: 120 days from the remittance (20 February): 20 June.
    assert_eq!(filed["filing_deadline"], "2026-06-20");
    assert_eq!(
        filed["filing_window"]["rule"],
        "120 calendar days from the remittance notification date"
    );
    // The same claim, kind and reason again: 409 with the first.
    let dup = e.submit("k-2", &pdr(CLAIM, "2026-02-20")).await;
    assert_eq!(dup.status(), 409);
    assert_eq!(json(&dup)["existing_dispute_id"], id);

    e.ipa.at("2026-03-10T17:00:00Z");
    let resp = e
        .step(
            id,
            "decision",
            "dispute_reviewer",
            &decision("partially_overturned", Some("40.00")),
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(v["determination"]["amount"], "40.00");
    let messages = e.drain("claim-readjudication").await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["claim_id"], CLAIM);
    assert_eq!(messages[0]["dispute_id"], id);
    assert_eq!(messages[0]["outcome"], "partially_overturned");
    assert_eq!(messages[0]["amount_cents"], 4_000);
    assert_eq!(
        instant(&messages[0]["decided_at"]),
        ts("2026-03-10T17:00:00Z")
    );

    // Decided: a new dispute on the same claim may be filed again.
    assert_eq!(
        e.submit("k-3", &pdr(CLAIM, "2026-02-20")).await.status(),
        201
    );
}

#[tokio::test]
async fn an_upheld_payment_dispute_sends_nothing_and_an_overturned_one_pays_the_amount_disputed() {
    let e = env().await;
    e.claim(CLAIM, "2026-02-18T17:00:00Z", ClaimDecision::Accepted)
        .await;
    let filed = e.filed("k-1", &pdr(CLAIM, "2026-02-20")).await;
    let id = filed["id"].as_str().unwrap();
    e.step(
        id,
        "decision",
        "dispute_reviewer",
        &decision("upheld", None),
    )
    .await;
    assert!(e.drain("claim-readjudication").await.is_empty());

    let mut bundling = pdr(CLAIM, "2026-02-20");
    bundling["reason_category"] = json!("bundling");
    let filed = e.filed("k-2", &bundling).await;
    let id = filed["id"].as_str().unwrap();
    e.step(
        id,
        "decision",
        "dispute_reviewer",
        &decision("overturned", None),
    )
    .await;
    let messages = e.drain("claim-readjudication").await;
    assert_eq!(messages[0]["outcome"], "overturned");
    assert_eq!(messages[0]["amount_cents"], 12_500);
}

#[tokio::test]
async fn payment_disputes_need_the_remittance_and_are_late_after_its_window() {
    let e = env().await;
    e.claim(CLAIM, "2025-09-25T17:00:00Z", ClaimDecision::Accepted)
        .await;
    let mut no_remittance = pdr(CLAIM, "2025-10-01");
    no_remittance
        .as_object_mut()
        .unwrap()
        .remove("remittance_date");
    no_remittance
        .as_object_mut()
        .unwrap()
        .remove("amount_disputed");
    let resp = e.submit("k-1", &no_remittance).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 400, "{v}");
    assert_eq!(error_fields(&v), ["amount_disputed", "remittance_date"]);
    // Remitted 1 October 2025: the window closed on 29 January 2026.
    let resp = e.submit("k-2", &pdr(CLAIM, "2025-10-01")).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 422, "{v}");
    assert_eq!(
        v["rule"],
        "120 calendar days from the remittance notification date"
    );
    assert_eq!(v["window_start"], "2025-10-01");
    assert_eq!(v["deadline"], "2026-01-29");
    assert_eq!(error_fields(&v), ["remittance_date"]);
}

#[tokio::test]
async fn a_medical_necessity_denial_is_appealed_and_anything_else_is_not() {
    let e = env().await;
    e.claim(
        CLAIM,
        "2026-02-18T17:00:00Z",
        ClaimDecision::MedicalNecessityDenial,
    )
    .await;
    e.claim(
        "CLM-8K3Q9M2P4X",
        "2026-02-18T17:00:00Z",
        ClaimDecision::Accepted,
    )
    .await;
    let appeal = |claim: &str| {
        json!({
            "kind": "appeal", "claim_id": claim, "reason_category": "medical_necessity",
            "reason": "The MRI was needed: progressive weakness.",
            "contact": {"name": "Billing office", "phone": "657-555-0199"}
        })
    };
    let v = e.filed("k-1", &appeal(CLAIM)).await;
    // Appeals count from the last determination, even at a remittance IPA.
    assert_eq!(v["filing_window"]["start"], "2026-02-18");
    let resp = e.submit("k-2", &appeal("CLM-8K3Q9M2P4X")).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 400, "{v}");
    assert_eq!(v["errors"][0]["field"], "kind");
    assert_eq!(v["errors"][0]["code"], "not_medical_necessity");
}

#[tokio::test]
async fn a_grievance_decision_is_final_and_closes() {
    let e = env().await;
    e.claim(CLAIM, "2026-02-18T17:00:00Z", ClaimDecision::Accepted)
        .await;
    let filed = e
        .filed(
            "k-1",
            &json!({
                "kind": "grievance", "claim_id": CLAIM, "reason_category": "claim_issue",
                "reason": "The member was billed for a covered service.",
                "contact": {"name": "Billing office", "phone": "657-555-0199"}
            }),
        )
        .await;
    let id = filed["id"].as_str().unwrap();
    let v = json(
        &e.step(
            id,
            "decision",
            "dispute_reviewer",
            &decision("overturned", None),
        )
        .await,
    );
    assert_eq!(v["status"], "decided");
    assert_eq!(v["determination"]["second_level"], serde_json::Value::Null);
    assert!(
        v["history"].as_array().unwrap().last().unwrap()["reason"]
            .as_str()
            .unwrap()
            .contains("final")
    );
    // Not a payment dispute: no re-adjudication.
    assert!(e.drain("claim-readjudication").await.is_empty());
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts(NOW))
        .await
        .unwrap();
    assert_eq!(r.closed, [id.to_string()]);
}

#[tokio::test]
async fn another_organisations_claim_is_not_found() {
    let e = env().await;
    e.claim(CLAIM, "2026-02-18T17:00:00Z", ClaimDecision::Accepted)
        .await;
    let resp = e
        .submit_as(HARBOR_ORG, "k-1", &pdr(CLAIM, "2026-02-20"))
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(error_fields(&json(&resp)), ["claim_id"]);
}
