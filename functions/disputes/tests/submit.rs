//! Filing: the answer and its clocks, idempotency, duplicates, organisation
//! scope, and every refusal the rules make.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn an_appeal_of_a_denied_auth_is_filed_with_its_clocks_history_and_event() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    e.drain("dispute-events").await;
    let v = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = v["id"].as_str().unwrap();
    assert!(id.starts_with("DSP-"), "{id}");
    assert_eq!(v["status"], "received");
    assert_eq!(v["kind"], "appeal");
    assert_eq!(v["prior_auth_id"], "PA-7K3Q9M");
    assert_eq!(v["channel"], "electronic");
    assert_eq!(instant(&v["received_at"]), ts(NOW));
    // Two working days (electronic) and 45 working days, Pacific.
    assert_eq!(instant(&v["acknowledge_due"]), ts(ACK_DUE));
    assert_eq!(instant(&v["decision_due"]), ts(DECISION_DUE));
    // 120 days from the denial (2 March): 30 June.
    assert_eq!(v["filing_deadline"], "2026-06-30");
    assert_eq!(
        v["filing_window"]["rule"],
        "120 calendar days from the last determination"
    );
    assert_eq!(v["history"][0]["action"], "filed");
    assert_eq!(v["history"][0]["by"], "provider_user");
    assert_eq!(
        v["history"][0]["reason"],
        "appeal (medical_necessity) filed electronically; acknowledgement due by 2026-03-04, decision by 2026-05-04."
    );
    assert_eq!(v["overdue"], serde_json::Value::Null);

    // Stored: the organisation reads it back.
    let got = e.get(id, SUNRISE_ORG, "provider_user").await;
    assert_eq!(got.status(), 200);
    assert_eq!(json(&got)["id"], id);
    // Published: one event, without PHI.
    let events = e.drain("dispute-events").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["dispute_id"], id);
    assert_eq!(events[0]["action"], "filed");
    assert_eq!(events[0]["to"], "received");
    assert!(events[0].get("member_id").is_none());
}

/// The subject and an open dispute of the same subject are one read; the
/// member's coverage, named by the subject, is the other.
#[tokio::test]
async fn the_subject_and_an_open_duplicate_are_read_at_once() {
    let mut e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let slow = SlowReads::new(e.deps.records.clone(), std::time::Duration::from_millis(5));
    e.deps.records = slow.clone();
    let v = e.filed("k-at-once", &appeal("PA-7K3Q9M")).await;
    assert_eq!(v["status"], "received");
    assert_eq!(slow.reads(), 2);
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_and_a_second_filing_is_409_with_the_first_id() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let first = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let again = e.submit("k-1", &appeal("PA-7K3Q9M")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(json(&again)["id"], first["id"]);

    let second = e.submit("k-2", &appeal("PA-7K3Q9M")).await;
    let v = json(&second);
    assert_eq!(second.status(), 409, "{v}");
    assert_eq!(v["type"], "urn:mso:problem:dispute-already-open");
    assert_eq!(v["existing_dispute_id"], first["id"]);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap())
    );

    // The same key with another body is refused.
    let mut other = appeal("PA-7K3Q9M");
    other["reason"] = json!("Something else");
    assert_eq!(e.submit("k-1", &other).await.status(), 422);

    let list = e
        .call(
            Call::new("GET /v1/disputes", "/v1/disputes")
                .query("prior_auth_id=PA-7K3Q9M")
                .by(SUNRISE_ORG, "provider_user"),
        )
        .await;
    assert_eq!(json(&list)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn another_organisations_auth_and_an_unknown_claim_are_404() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let resp = e.submit_as(HARBOR_ORG, "k-1", &appeal("PA-7K3Q9M")).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 404, "{v}");
    assert_eq!(error_fields(&v), ["prior_auth_id"]);
    let mut on_claim = appeal("PA-7K3Q9M");
    on_claim.as_object_mut().unwrap().remove("prior_auth_id");
    on_claim["claim_id"] = json!("CLM-7K3Q9M2P4X");
    let resp = e.submit("k-2", &on_claim).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(error_fields(&json(&resp)), ["claim_id"]);
    // Nothing filed for anyone.
    let list = e
        .call(Call::new("GET /v1/disputes", "/v1/disputes").by(IPA, "dispute_reviewer"))
        .await;
    assert_eq!(json(&list)["items"], json!([]));
}

#[tokio::test]
async fn a_late_appeal_is_422_naming_the_rule_the_start_and_the_deadline() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    // 30 June 2026 is the last day; 1 July at 10:00 Pacific is late.
    e.ipa.at("2026-07-01T17:00:00Z");
    let resp = e.submit("k-1", &appeal("PA-7K3Q9M")).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 422, "{v}");
    assert_eq!(v["type"], "urn:mso:problem:filing-window-closed");
    assert_eq!(v["rule"], "120 calendar days from the last determination");
    assert_eq!(v["window_start"], "2026-03-02");
    assert_eq!(v["deadline"], "2026-06-30");
    assert_eq!(error_fields(&v), ["prior_auth_id"]);
    assert_eq!(v["errors"][0]["code"], "filing_window_closed");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("closed on 2026-06-30")
    );
    // The key was given back: the same key works once the problem is fixed
    // (here: on the last day).
    e.ipa.at("2026-07-01T06:00:00Z");
    assert_eq!(e.submit("k-1", &appeal("PA-7K3Q9M")).await.status(), 201);
}

#[tokio::test]
async fn expedited_appeals_are_refused_with_the_fax_and_corrected_claims_with_resubmission() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let mut expedited = appeal("PA-7K3Q9M");
    expedited["expedited"] = json!(true);
    let resp = e.submit("k-1", &expedited).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 422, "{v}");
    assert_eq!(v["type"], "urn:mso:problem:expedited-appeal-by-fax");
    assert_eq!(v["expedited_appeal_fax"], "855-555-0103");
    assert!(v["detail"].as_str().unwrap().contains("855-555-0103"));
    assert_eq!(error_fields(&v), ["expedited"]);

    let corrected = json!({
        "kind": "pdr", "claim_id": "CLM-7K3Q9M2P4X", "reason_category": "corrected_claim",
        "reason": "Wrong modifier", "amount_disputed": "40.00", "remittance_date": "2026-02-20",
        "contact": {"name": "Billing", "phone": "657-555-0199"}
    });
    let resp = e.submit("k-2", &corrected).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 422, "{v}");
    assert_eq!(v["type"], "urn:mso:problem:corrected-claim-not-a-dispute");
    assert_eq!(v["resubmit_as"]["frequency_code"], "7");
    assert!(v["detail"].as_str().unwrap().contains("frequency 7"));
}

#[tokio::test]
async fn the_kind_must_fit_the_auth() {
    let e = env().await;
    e.approved_auth("PA-8K3Q9M").await;
    e.denied_auth("PA-7K3Q9M").await;
    // An approval is not adverse: nothing to appeal.
    let resp = e.submit("k-1", &appeal("PA-8K3Q9M")).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 400, "{v}");
    assert_eq!(error_fields(&v), ["prior_auth_id"]);
    assert_eq!(v["errors"][0]["code"], "not_adverse");
    // A payment dispute is about a claim.
    let mut pdr = appeal("PA-7K3Q9M");
    pdr["kind"] = json!("pdr");
    pdr["reason_category"] = json!("underpayment");
    pdr["amount_disputed"] = json!("125.00");
    pdr["remittance_date"] = json!("2026-02-20");
    let resp = e.submit("k-2", &pdr).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 400, "{v}");
    assert_eq!(v["errors"][0]["code"], "claim_required");
}

#[tokio::test]
async fn bad_input_names_every_field_and_staff_may_not_file() {
    let e = env().await;
    let resp = e
        .call(
            Call::new("POST /v1/disputes", "/v1/disputes")
                .by(SUNRISE_ORG, "provider_user")
                .json(&json!({"kind": "complaint", "prior_auth_id": "PA-1", "reason": "", "contact": {"name": "A"}})),
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 400, "{v}");
    assert_eq!(
        error_fields(&v),
        [
            "Idempotency-Key",
            "kind",
            "prior_auth_id",
            "reason_category",
            "reason",
            "contact.phone"
        ]
    );
    let resp = e
        .call(
            Call::new("POST /v1/disputes", "/v1/disputes")
                .by(IPA, "dispute_reviewer")
                .header("idempotency-key", "k")
                .json(&appeal("PA-7K3Q9M")),
        )
        .await;
    assert_eq!(resp.status(), 403);
    for body in [&b"{"[..], b"[1]", b""] {
        let mut call = Call::new("POST /v1/disputes", "/v1/disputes")
            .by(SUNRISE_ORG, "provider_user")
            .header("idempotency-key", "k");
        call.body = body.to_vec();
        assert_eq!(e.call(call).await.status(), 400);
    }
}
