//! Claims through `mso serve`: a JSON claim and an X12 file from a practice,
//! judged by the in-process queue consumer, acknowledged with a 999 and a
//! 277CA, read back, and invisible to another organisation; logs without PHI.

mod support;

use mso_testkit::x12::{Line, Spec, professional};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, npis_of, token, until};

async fn get(url: &str, token: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

#[tokio::test]
async fn claims_and_files_are_judged_and_acknowledged_through_the_local_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let npis = npis_of("sunrise-family-medicine");
    let provider = token(
        data.path(),
        "sunrise-family-medicine",
        "provider_user",
        &[&npis[0]],
    );
    let examiner = token(data.path(), "sunrise", "claims_examiner", &[]);
    let other = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date();
    let client = reqwest::Client::new();

    // A JSON claim: 202 received, then accepted by the background consumer.
    let claim = json!({
        "claim_type": "professional", "patient_control_number": "E2E-1",
        "billing_provider": {"npi": npis[0], "tin": "95-1234567"},
        "member_id": "SUN100001", "dob": "1984-03-15", "place_of_service": "11",
        "diagnoses": ["J06.9"],
        "lines": [{"code": "99213", "units": 1, "charge": "125.00",
                   "service_from": today.to_string(), "diagnosis_pointers": [1]}]
    });
    let resp = client
        .post(server.url("/v1/claims"))
        .bearer_auth(&provider)
        .header("idempotency-key", "e2e-claim-1")
        .json(&claim)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let received: Value = resp.json().await.unwrap();
    assert_eq!(received["status"], "received");
    let id = received["id"].as_str().unwrap();
    let url = server.url(&format!("/v1/claims/{id}"));
    let judged = until(&url, &provider, |v| v["status"] != "received").await;
    assert_eq!(judged["status"], "accepted", "{judged}");
    assert!(judged["payment"]["due"].is_string());
    let (status, _) = get(&url, &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&url, &examiner).await;
    assert_eq!(status, StatusCode::OK);

    // An X12 file with two claims, one of them for a provider that is not ours.
    let date = today.strftime("%Y%m%d").to_string();
    let ours = Spec {
        clm01: "E2E-F1".into(),
        member_id: "SUN100001".into(),
        dob: "19840315".into(),
        billing_npi: npis[0].clone(),
        rendering_npi: None,
        frequency: "1".into(),
        original: None,
        prior_auth: None,
        diagnosis: "J069".into(),
        lines: vec![Line {
            code: "99214".into(),
            charge_cents: 18_000,
            units: 1,
            date: date.clone(),
        }],
    };
    let mut theirs = ours.clone();
    theirs.clm01 = "E2E-F2".into();
    theirs.billing_npi = npis_of("coastal-pediatrics")[0].clone();
    let file = professional(901, &[ours, theirs]);
    let resp = client
        .post(server.url("/v1/claim-files"))
        .bearer_auth(&provider)
        .header("idempotency-key", "e2e-file-1")
        .header("content-type", "application/edi-x12")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let posted: Value = resp.json().await.unwrap();
    let file_url = server.url(&format!(
        "/v1/claim-files/{}",
        posted["id"].as_str().unwrap()
    ));
    let acked = until(&file_url, &provider, |v| v["status"] == "acknowledged").await;
    assert_eq!(acked["counts"]["accepted"], 1, "{acked}");
    assert_eq!(acked["counts"]["rejected"], 1);
    let ack = acked["ack_277ca"].as_str().unwrap();
    assert!(ack.contains("TRN*2*E2E-F1~\nSTC*A2:20"), "{ack}");
    assert!(ack.contains("TRN*2*E2E-F2~\nSTC*A3:21:85"), "{ack}");
    assert!(acked["ack_999"].as_str().unwrap().contains("IK5*A~"));
    let (status, _) = get(&file_url, &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A body that is not X12 is a problem, not a file.
    let resp = client
        .post(server.url("/v1/claim-files"))
        .bearer_auth(&provider)
        .header("idempotency-key", "e2e-file-2")
        .header("content-type", "application/edi-x12")
        .body("{\"not\": \"x12\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");

    // The practice's list has both of its claims.
    let (status, list) = get(&server.url("/v1/claims?status=accepted"), &provider).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // Nothing of the members or the claims' content reached the logs.
    let logs = server.stop();
    for phi in [
        "SUN100001",
        "1984-03-15",
        "19840315",
        "J06.9",
        "J069",
        "E2E-F1",
    ] {
        assert!(!logs.contains(phi), "{phi} in the logs");
    }
}
