//! Documents through `mso serve`: a provider attaches clinical notes to an
//! auth with the upload URL the API returned, the server verifies them as S3's
//! event would, and the auth lists them; a tampered URL, a second PUT and
//! another organisation get nothing.

mod support;

use serde_json::{Value, json};
use support::{Server, send, token};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/shared/domain/tests/fixtures/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// PUTs `bytes` to the slot's upload URL with exactly the headers it names.
async fn upload(slot: &Value, url: &str, bytes: Vec<u8>) -> reqwest::Response {
    let mut req = reqwest::Client::new().put(url);
    for (name, value) in slot["upload"]["headers"].as_object().unwrap() {
        if name != "content-length" {
            req = req.header(name.as_str(), value.as_str().unwrap());
        }
    }
    req.body(bytes).send().await.unwrap()
}

#[tokio::test]
async fn a_provider_attaches_notes_to_an_auth_through_the_local_server() {
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
    let nurse = token(data.path(), "sunrise", "um_nurse", &[]);
    let other = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date()
        .to_string();
    let (status, auth) = send(
        reqwest::Method::POST,
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

    // A slot for the clinical notes, then the upload to the URL it names.
    let letter = fixture("letter.pdf");
    let (status, slot) = send(
        reqwest::Method::POST,
        &server.url("/v1/documents"),
        &provider,
        Some(&json!({
            "owner": {"kind": "prior_auth", "id": auth_id},
            "file_name": "Echo clinical notes.pdf",
            "content_type": "application/pdf",
            "size": letter.len()
        })),
        Some("doc-1"),
    )
    .await;
    assert_eq!(status, 201, "{slot}");
    assert_eq!(slot["status"], "awaiting_upload");
    let doc_id = slot["id"].as_str().unwrap();
    let url = slot["upload"]["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&server.base),
        "the URL points at the local server: {url}"
    );

    // A tampered URL (a later expiry) is refused, and stores nothing.
    let tampered = url.replace("X-Mso-Expires=", "X-Mso-Expires=1");
    let resp = upload(&slot, &tampered, letter.clone()).await;
    assert_eq!(resp.status(), 403);
    let (_, still) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/documents/{doc_id}")),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(still["status"], "awaiting_upload");

    let resp = upload(&slot, &url, letter.clone()).await;
    assert_eq!(resp.status(), 200);
    // The URL creates once: it cannot replace what was verified.
    let resp = upload(&slot, &url, letter.clone()).await;
    assert_eq!(resp.status(), 412);

    // Verified as soon as the PUT is answered; the download gives the bytes back.
    let (status, doc) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/documents/{doc_id}")),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["status"], "available", "{doc}");
    let download = reqwest::get(doc["download"]["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["cache-control"], "no-store");
    assert_eq!(
        download.headers()["content-disposition"],
        format!("attachment; filename=\"{doc_id}.pdf\"").as_str()
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), letter);
    // A tampered download URL is refused too.
    let forged = doc["download"]["url"]
        .as_str()
        .unwrap()
        .replace(&format!("{doc_id}.pdf"), "DOC-0000000000.pdf");
    assert_eq!(reqwest::get(forged).await.unwrap().status(), 403);

    // A ZIP declared as a PDF is rejected with the reason.
    let zip = fixture("archive.zip");
    let (_, bad) = send(
        reqwest::Method::POST,
        &server.url("/v1/documents"),
        &provider,
        Some(&json!({
            "owner": {"kind": "prior_auth", "id": auth_id},
            "file_name": "scan.pdf",
            "content_type": "application/pdf",
            "size": zip.len()
        })),
        Some("doc-2"),
    )
    .await;
    let bad_url = bad["upload"]["url"].as_str().unwrap().to_string();
    assert_eq!(upload(&bad, &bad_url, zip).await.status(), 200);

    // The auth lists both, as its UM nurse sees it.
    let (status, seen) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/prior-auths/{auth_id}")),
        &nurse,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let docs = seen["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2, "{seen}");
    assert_eq!(
        (&docs[0]["id"], &docs[0]["status"]),
        (&json!(doc_id), &json!("available"))
    );
    assert_eq!(docs[1]["status"], "rejected");
    assert_eq!(docs[1]["rejection"]["code"], "type_mismatch");
    let actions: Vec<&str> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"document_added") && actions.contains(&"document_rejected"),
        "{actions:?}"
    );

    // Another organisation gets nothing.
    let (status, _) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/documents/{doc_id}")),
        &other,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);

    let logs = server.stop();
    for phi in ["Echo clinical notes", "SUN100001", "scan.pdf"] {
        assert!(!logs.contains(phi), "{phi} in server logs");
    }
}
