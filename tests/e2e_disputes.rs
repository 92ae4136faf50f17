//! Disputes through `mso serve`: a denied prior auth is appealed by its
//! provider (with the clinical notes attached through the documents API), the
//! dispute reviewer works it from the queue to a decision that says where a
//! second level goes, and the auth is approved; a claim paid short goes from a
//! PDR to a decision to its re-adjudication by the claims job. Another
//! organisation sees nothing, and no PHI reaches the logs.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Server, send, token, until};

#[tokio::test]
async fn an_appeal_goes_from_a_denied_auth_to_a_decision_through_the_local_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let npis: Vec<String> = mso::demo::providers()
        .into_iter()
        .filter(|p| p.org_id == "sunrise-family-medicine")
        .map(|p| p.npi)
        .collect();
    let provider = token(
        data.path(),
        "sunrise-family-medicine",
        "provider_user",
        &[&npis[0]],
    );
    let director = token(data.path(), "sunrise", "medical_director", &[]);
    let reviewer = token(data.path(), "sunrise", "dispute_reviewer", &[]);
    let ops = token(data.path(), "sunrise", "ops_admin", &[]);
    let other = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date()
        .to_string();

    // A pended echo, denied by the medical director.
    let (status, auth) = send(
        Method::POST,
        &server.url("/v1/prior-auths"),
        &provider,
        Some(&json!({
            "member_id": "SUN100001", "dob": "1984-03-15",
            "setting": "outpatient", "category": "imaging", "urgency": "routine",
            "urgency_reason": null, "service_from": today, "service_to": today,
            "requesting_npi": npis[0], "servicing_npi": npis[1], "place_of_service": "22",
            "diagnoses": ["I10"], "lines": [{"code": "93306", "units": 1}],
            "contact": {"name": "Front desk", "phone": "657-555-0199"},
            "admitted_at": null
        })),
        Some("auth-1"),
    )
    .await;
    assert_eq!(status, 201, "{auth}");
    let auth_id = auth["id"].as_str().unwrap();
    let (status, denied) = send(
        Method::POST,
        &server.url(&format!("/v1/prior-auths/{auth_id}/decision")),
        &director,
        Some(&json!({
            "action": "deny", "reason_code": "not_medically_necessary",
            "reason": "No change in symptoms since the last echo.", "criteria": "MCG A-0322",
            "peer_to_peer": {"name": "Dr. Lee", "phone": "657-555-0110"}
        })),
        None,
    )
    .await;
    assert_eq!(status, 200, "{denied}");
    assert_eq!(denied["status"], "denied");

    // The provider appeals.
    let appeal = json!({
        "kind": "appeal", "prior_auth_id": auth_id, "reason_category": "medical_necessity",
        "reason": "New dyspnoea on exertion since the last echo; notes attached.",
        "contact": {"name": "Billing office", "phone": "657-555-0199"}
    });
    let url = server.url("/v1/disputes");
    let (status, filed) = send(Method::POST, &url, &provider, Some(&appeal), Some("d-1")).await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    assert_eq!(filed["status"], "received");
    for field in [
        "received_at",
        "acknowledge_due",
        "decision_due",
        "filing_deadline",
    ] {
        assert!(filed[field].is_string(), "{field}: {filed}");
    }
    // Retried: the same dispute; filed again with another key: 409 naming it.
    let (status, again) = send(Method::POST, &url, &provider, Some(&appeal), Some("d-1")).await;
    assert_eq!((status, &again["id"]), (StatusCode::CREATED, &filed["id"]));
    let (status, dup) = send(Method::POST, &url, &provider, Some(&appeal), Some("d-2")).await;
    assert_eq!(status, 409, "{dup}");
    assert_eq!(dup["existing_dispute_id"], id.as_str());
    // Expedited: the fax, not the portal.
    let mut expedited = appeal.clone();
    expedited["expedited"] = json!(true);
    let (status, refused) =
        send(Method::POST, &url, &provider, Some(&expedited), Some("d-3")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["expedited_appeal_fax"].is_string());
    // Another organisation can neither appeal this auth nor see the dispute.
    let (status, _) = send(Method::POST, &url, &other, Some(&appeal), Some("d-4")).await;
    assert_eq!(status, 404);
    let dispute_url = server.url(&format!("/v1/disputes/{id}"));
    let (status, _) = send(Method::GET, &dispute_url, &other, None, None).await;
    assert_eq!(status, 404);

    // The notes, attached to the dispute through the documents API.
    let letter = std::fs::read(format!(
        "{}/shared/domain/tests/fixtures/documents/letter.pdf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (status, slot) = send(
        Method::POST,
        &server.url("/v1/documents"),
        &provider,
        Some(&json!({
            "owner": {"kind": "dispute", "id": id},
            "file_name": "Cardiology notes.pdf",
            "content_type": "application/pdf",
            "size": letter.len()
        })),
        Some("doc-1"),
    )
    .await;
    assert_eq!(status, 201, "{slot}");
    let mut put = reqwest::Client::new().put(slot["upload"]["url"].as_str().unwrap());
    for (name, value) in slot["upload"]["headers"].as_object().unwrap() {
        if name != "content-length" {
            put = put.header(name.as_str(), value.as_str().unwrap());
        }
    }
    assert_eq!(put.body(letter).send().await.unwrap().status(), 200);

    // The reviewer's queue, then acknowledge, review, decide.
    let (status, queue) = send(
        Method::GET,
        &server.url("/v1/disputes/queue"),
        &reviewer,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let (status, _) = send(
        Method::GET,
        &server.url("/v1/disputes/queue"),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let step = |name: &str| server.url(&format!("/v1/disputes/{id}/{name}"));
    let (status, acked) = send(Method::POST, &step("acknowledge"), &reviewer, None, None).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["status"], "acknowledged");
    let (status, _) = send(Method::POST, &step("start-review"), &reviewer, None, None).await;
    assert_eq!(status, 200);
    let decision = json!({
        "outcome": "overturned",
        "reasons": ["New symptoms documented since the prior study."],
        "determination": "We reviewed the appeal and the cardiology notes. The denial is overturned."
    });
    let (status, _) = send(
        Method::POST,
        &step("decision"),
        &provider,
        Some(&decision),
        None,
    )
    .await;
    assert_eq!(status, 403, "providers do not decide");
    let (status, decided) = send(
        Method::POST,
        &step("decision"),
        &reviewer,
        Some(&decision),
        None,
    )
    .await;
    assert_eq!(status, 200, "{decided}");

    // The provider reads the decision, where a second level goes, and the notes.
    let (status, seen) = send(Method::GET, &dispute_url, &provider, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(seen["status"], "decided");
    assert_eq!(seen["determination"]["outcome"], "overturned");
    let second = &seen["determination"]["second_level"];
    assert!(second["by"].is_string(), "{seen}");
    assert!(
        second["instructions"]
            .as_str()
            .unwrap()
            .contains("within 180 days"),
        "{second}"
    );
    assert_eq!(seen["documents"][0]["status"], "available", "{seen}");
    let actions: Vec<&str> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "filed",
            "document_added",
            "acknowledged",
            "review_started",
            "decided"
        ]
    );
    // The appeal won: the auth is approved.
    let (status, auth_now) = send(
        Method::GET,
        &server.url(&format!("/v1/prior-auths/{auth_id}")),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(auth_now["status"], "approved", "{auth_now}");
    assert_eq!(
        auth_now["history"].as_array().unwrap().last().unwrap()["action"],
        "approved_on_appeal"
    );
    let (status, list) = send(
        Method::GET,
        &server.url(&format!(
            "/v1/disputes?prior_auth_id={auth_id}&status=decided"
        )),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], id.as_str());

    // The report, for staff.
    let report_url = server.url(&format!("/v1/reports/disputes?from={today}&to={today}"));
    let (status, report) = send(Method::GET, &report_url, &ops, None, None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["figures"]["by_kind"]["appeal"], 1);
    assert_eq!(report["figures"]["by_outcome"]["overturned"], 1);
    let (status, _) = send(Method::GET, &report_url, &provider, None, None).await;
    assert_eq!(status, 403);

    let logs = server.stop();
    for phi in ["SUN100001", "1984-03-15", "dyspnoea", "I10"] {
        assert!(!logs.contains(phi), "{phi} in server logs");
    }
}

#[tokio::test]
async fn a_payment_dispute_goes_from_a_claim_to_its_readjudication_through_the_local_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let npis: Vec<String> = mso::demo::providers()
        .into_iter()
        .filter(|p| p.org_id == "sunrise-family-medicine")
        .map(|p| p.npi)
        .collect();
    let provider = token(
        data.path(),
        "sunrise-family-medicine",
        "provider_user",
        &[&npis[0]],
    );
    let reviewer = token(data.path(), "sunrise", "dispute_reviewer", &[]);
    let other = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date()
        .to_string();

    // A claim, accepted by the edits consumer.
    let (status, received) = send(
        Method::POST,
        &server.url("/v1/claims"),
        &provider,
        Some(&json!({
            "claim_type": "professional", "patient_control_number": "E2E-PDR-1",
            "billing_provider": {"npi": npis[0], "tin": "95-1234567"},
            "member_id": "SUN100001", "dob": "1984-03-15", "place_of_service": "11",
            "diagnoses": ["J06.9"],
            "lines": [{"code": "99214", "units": 1, "charge": "180.00",
                       "service_from": today, "diagnosis_pointers": [1]}]
        })),
        Some("claim-1"),
    )
    .await;
    assert_eq!(status, 202, "{received}");
    let claim_id = received["id"].as_str().unwrap().to_string();
    let claim_url = server.url(&format!("/v1/claims/{claim_id}"));
    let judged = until(&claim_url, &provider, |v| v["status"] != "received").await;
    assert_eq!(judged["status"], "accepted", "{judged}");

    // Paid less than the contract: a PDR, counted from the remittance.
    let pdr = json!({
        "kind": "pdr", "claim_id": claim_id, "reason_category": "underpayment",
        "reason": "Paid $155.00 against a contract rate of $180.00.",
        "amount_disputed": "25.00", "remittance_date": today,
        "contact": {"name": "Billing office", "phone": "657-555-0199"}
    });
    let url = server.url("/v1/disputes");
    let (status, _) = send(Method::POST, &url, &other, Some(&pdr), Some("pdr-x")).await;
    assert_eq!(status, 404, "another organisation's claim");
    let (status, filed) = send(Method::POST, &url, &provider, Some(&pdr), Some("pdr-1")).await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["claim_id"], claim_id.as_str());
    assert_eq!(
        filed["filing_window"]["rule"],
        "120 calendar days from the remittance notification date"
    );
    let id = filed["id"].as_str().unwrap();
    let (status, listed) = send(
        Method::GET,
        &server.url(&format!("/v1/disputes?claim_id={claim_id}")),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"][0]["id"], id);

    // Overturned: the claim goes back to an examiner through claim-readjudication.
    let (status, decided) = send(
        Method::POST,
        &server.url(&format!("/v1/disputes/{id}/decision")),
        &reviewer,
        Some(&json!({
            "outcome": "overturned",
            "reasons": ["The contract rate for 99214 is $180.00."],
            "determination": "We reviewed the remittance against the contract; $25.00 is owed."
        })),
        None,
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["determination"]["amount"], "25.00");
    let back = until(&claim_url, &provider, |v| v["status"] == "pended").await;
    let last = back["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "readjudication", "{back}");

    let logs = server.stop();
    for phi in ["SUN100001", "1984-03-15", "J06.9", "contract rate"] {
        assert!(!logs.contains(phi), "{phi} in server logs");
    }
}
