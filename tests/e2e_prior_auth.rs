//! Prior auth through `mso serve`: a provider submits, UM decides, both read the
//! result, with the tokens a newcomer mints.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, npis_of, send, token};

#[tokio::test]
async fn a_provider_submits_and_um_decides_through_the_local_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let npis = npis_of("sunrise-family-medicine");
    let provider = token(
        data.path(),
        "sunrise-family-medicine",
        "provider_user",
        &[&npis[0]],
    );
    let nurse = token(data.path(), "sunrise", "um_nurse", &[]);
    let other = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date();
    let body = |lines: Value, diagnoses: Value| {
        json!({
            "member_id": "SUN100001", "dob": "1984-03-15",
            "setting": "outpatient", "category": "imaging", "urgency": "routine",
            "urgency_reason": null, "service_from": today.to_string(), "service_to": today.to_string(),
            "requesting_npi": npis[0], "servicing_npi": npis[1], "place_of_service": "22",
            "diagnoses": diagnoses, "lines": lines,
            "contact": {"name": "Front desk", "phone": "657-555-0199", "extension": null, "fax": null, "email": null},
            "admitted_at": null
        })
    };
    let url = server.url("/v1/prior-auths");

    // Criteria met: approved in the same request.
    let mri = body(
        json!([{"code": "72148", "modifiers": [], "units": 1}]),
        json!(["M54.16"]),
    );
    let (status, approved) = send(
        reqwest::Method::POST,
        &url,
        &provider,
        Some(&mri),
        Some("e2e-1"),
    )
    .await;
    assert_eq!(status, 201, "{approved}");
    assert_eq!(approved["status"], "approved");
    // A retry with the same key is the same auth.
    let (status, again) = send(
        reqwest::Method::POST,
        &url,
        &provider,
        Some(&mri),
        Some("e2e-1"),
    )
    .await;
    assert_eq!(
        (status, &again["id"]),
        (StatusCode::CREATED, &approved["id"])
    );

    // Review required: pended, on the UM queue, decided by the nurse.
    let echo = body(json!([{"code": "93306", "units": 1}]), json!(["I10"]));
    let (status, pended) = send(
        reqwest::Method::POST,
        &url,
        &provider,
        Some(&echo),
        Some("e2e-2"),
    )
    .await;
    assert_eq!(status, 201, "{pended}");
    assert_eq!(pended["status"], "pended");
    let id = pended["id"].as_str().unwrap();
    let (status, queue) = send(
        reqwest::Method::GET,
        &server.url("/v1/um/queue"),
        &nurse,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(queue["items"][0]["id"], id);
    let (status, _) = send(
        reqwest::Method::GET,
        &server.url("/v1/um/queue"),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let decision = server.url(&format!("/v1/prior-auths/{id}/decision"));
    let (status, decided) = send(
        reqwest::Method::POST,
        &decision,
        &nurse,
        Some(&json!({"action": "approve"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    let (status, seen) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/prior-auths/{id}")),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen["status"], "approved");
    assert_eq!(seen["history"].as_array().unwrap().len(), 2);
    let (status, _) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/prior-auths/{id}")),
        &other,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "another organisation's auth is not found");

    let (status, list) = send(reqwest::Method::GET, &url, &provider, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let logs = server.stop();
    for phi in ["SUN100001", "1984-03-15", "M54.16"] {
        assert!(!logs.contains(phi), "{phi} in server logs");
    }
}
