//! Fax and email intake through `mso serve`: `mso intake` drops a fax as the
//! gateway would, the server files it with the same handler the Lambda runs,
//! and an intake clerk finds it on the queue, files a prior auth from it whose
//! clock starts at the fax's receipt, and links a second fax to that auth,
//! whose UM nurse then reads the faxed notes. Nothing of the faxes is logged.

mod support;

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{MSO, Server, token};

fn fixture(name: &str) -> String {
    format!(
        "{}/functions/intake/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn send(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `mso intake FILE ARGS...` against the server on `port`; the report's one record.
fn drop_file(data: &Path, port: &str, file: &str, args: &[&str]) -> Value {
    let out = Command::new(MSO)
        .args(["intake", file, "--port", port, "--data-dir"])
        .arg(data)
        .args(args)
        .env_remove("MSO_POLICY_FILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    report["records"][0].clone()
}

#[tokio::test]
async fn a_faxed_request_becomes_an_auth_that_runs_from_the_fax_receipt() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let port = server.addr().rsplit(':').next().unwrap().to_string();
    let clerk = token(data.path(), "sunrise", "intake_clerk", &[]);
    let nurse = token(data.path(), "sunrise", "um_nurse", &[]);
    let provider = token(data.path(), "sunrise-family-medicine", "provider_user", &[]);

    // The fax arrived two hours ago; the clerk gets to it now.
    let received = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2))
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string();
    let fax = drop_file(
        data.path(),
        &port,
        &fixture("auth-request-form.pdf"),
        &["--from", "+13235550142", "--received-at", &received],
    );
    assert_eq!(fax["outcome"], "filed", "{fax}");
    assert_eq!(fax["status"], "queued");
    assert_eq!(fax["kind"], "prior_auth_request");
    let item_id = fax["item"].as_str().unwrap().to_string();

    // Providers never see the queue.
    let (status, _) = send(
        reqwest::Method::GET,
        &server.url("/v1/intake?status=queued"),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);

    let (status, queue) = send(
        reqwest::Method::GET,
        &server.url("/v1/intake?status=queued"),
        &clerk,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["items"][0]["id"], item_id.as_str());
    assert_eq!(queue["items"][0]["received_at"], received.as_str());
    assert!(queue["items"][0]["waited_seconds"].as_i64().unwrap() >= 7_199);

    let (status, item) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/intake/{item_id}")),
        &clerk,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["sender"], "+13235550142");
    assert_eq!(item["documents"][0]["status"], "available");

    let npis: Vec<String> = mso::demo::providers()
        .into_iter()
        .filter(|p| p.org_id == "sunrise-family-medicine")
        .map(|p| p.npi)
        .collect();
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date()
        .to_string();
    let fields = json!({
        "member_id": "SUN100001", "dob": "1984-03-15",
        "setting": "outpatient", "category": "imaging", "urgency": "routine",
        "service_from": today, "service_to": today,
        "requesting_npi": npis[0], "servicing_npi": npis[1], "place_of_service": "22",
        "diagnoses": ["I10"], "lines": [{"code": "93306", "units": 1}],
        "contact": {"name": "Front desk", "phone": "657-555-0199"}
    });
    let (status, created) = send(
        reqwest::Method::POST,
        &server.url(&format!("/v1/intake/{item_id}/create")),
        &clerk,
        Some(&json!({"kind": "prior_auth", "prior_auth": fields})),
        Some("create-1"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["item"]["status"], "filed");
    assert_eq!(created["record"]["received_at"], received.as_str());
    let auth_id = created["record"]["id"].as_str().unwrap().to_string();

    // The auth, as its organisation sees it: filed from intake, received when the fax was.
    let (status, auth) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/prior-auths/{auth_id}")),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{auth}");
    assert_eq!(auth["received_at"], received.as_str());

    // A second fax (a scan, no text layer) is linked to the auth by the clerk.
    let notes = drop_file(
        data.path(),
        &port,
        &fixture("scanned-fax.tif"),
        &["--from", "+13235550142"],
    );
    assert_eq!(notes["status"], "queued");
    let notes_id = notes["item"].as_str().unwrap().to_string();
    let (status, linked) = send(
        reqwest::Method::POST,
        &server.url(&format!("/v1/intake/{notes_id}/link")),
        &clerk,
        Some(&json!({"kind": "prior_auth", "id": auth_id})),
        Some("link-1"),
    )
    .await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["status"], "linked");
    let doc_id = linked["documents"][0]["id"].as_str().unwrap().to_string();

    // The UM nurse sees the link in the auth's history and reads the faxed notes.
    let (_, auth) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/prior-auths/{auth_id}")),
        &nurse,
        None,
        None,
    )
    .await;
    let history = auth["history"].to_string();
    assert!(
        history.contains("intake_linked") && history.contains(&notes_id),
        "{history}"
    );
    let (status, doc) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/documents/{doc_id}")),
        &nurse,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let tif = reqwest::get(doc["download"]["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        tif.bytes().await.unwrap().as_ref(),
        std::fs::read(fixture("scanned-fax.tif")).unwrap()
    );

    // An email dropped as SES would: filed too (the auth it quotes is not this one).
    let email = drop_file(data.path(), &port, &fixture("three-attachments.eml"), &[]);
    assert_eq!(email["outcome"], "filed", "{email}");
    assert_eq!(email["documents"], 3);

    // The gateway's and clerk's PHI stay out of the logs.
    let logs = server.stop();
    for phi in ["+13235550142", "SUN100001", "1984-03-15"] {
        assert!(!logs.contains(phi), "{phi} logged");
    }
    assert!(logs.contains(&item_id), "the item is traceable by its ID");
}

#[test]
fn mso_intake_says_when_no_server_is_listening() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(MSO)
        .args([
            "intake",
            &fixture("auth-request-form.pdf"),
            "--port",
            "9",
            "--data-dir",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `mso serve` on port 9"));
}
