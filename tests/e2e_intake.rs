//! Fax and email intake through `mso serve`: `mso intake` drops a fax as the
//! gateway would, the server files it with the same handler the Lambda runs,
//! and an intake clerk finds it on the queue, files a prior auth from it whose
//! clock starts at the fax's receipt, and links a second fax to that auth,
//! whose UM nurse then reads the faxed notes. A faxed PDR is filed as a paper
//! dispute on the claim it contests, its clocks from the fax's receipt, and a
//! later fax is linked to it as more documents. Nothing of the faxes is logged.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::{MSO, Server, send, token, until};

fn fixture(name: &str) -> String {
    format!(
        "{}/functions/intake/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
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

#[tokio::test]
async fn a_faxed_pdr_becomes_a_paper_dispute_that_runs_from_the_fax_receipt() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let port = server.addr().rsplit(':').next().unwrap().to_string();
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
    let clerk = token(data.path(), "sunrise", "intake_clerk", &[]);
    let reviewer = token(data.path(), "sunrise", "dispute_reviewer", &[]);
    // The PDR form was faxed three hours ago (the clerk files it below). Its
    // dates are that day's in the IPA's time zone: between midnight and 3 am
    // there, today would be after the day the filing is received.
    let received = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(3))
        .round(jiff::Unit::Second)
        .unwrap();
    let fax_day = received
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date()
        .to_string();

    // A claim, accepted by the edits consumer.
    let (status, claim) = send(
        reqwest::Method::POST,
        &server.url("/v1/claims"),
        &provider,
        Some(&json!({
            "claim_type": "professional", "patient_control_number": "E2E-FAX-PDR-1",
            "billing_provider": {"npi": npis[0], "tin": "95-1234567"},
            "member_id": "SUN100001", "dob": "1984-03-15", "place_of_service": "11",
            "diagnoses": ["J06.9"],
            "lines": [{"code": "99214", "units": 1, "charge": "180.00",
                       "service_from": fax_day, "diagnosis_pointers": [1]}]
        })),
        Some("claim-1"),
    )
    .await;
    assert_eq!(status, 202, "{claim}");
    let claim_id = claim["id"].as_str().unwrap().to_string();
    let claim_url = server.url(&format!("/v1/claims/{claim_id}"));
    let judged = until(&claim_url, &provider, |v| v["status"] != "received").await;
    assert_eq!(judged["status"], "accepted", "{judged}");

    // The clerk files the faxed form now.
    let fax = drop_file(
        data.path(),
        &port,
        &fixture("scanned-fax.tif"),
        &[
            "--from",
            "+13235550142",
            "--received-at",
            &received.to_string(),
        ],
    );
    assert_eq!(fax["status"], "queued", "{fax}");
    let item_id = fax["item"].as_str().unwrap().to_string();
    let pdr = json!({
        "kind": "pdr", "claim_id": claim_id, "reason_category": "underpayment",
        "reason": "Paid $155.00 against a contract rate of $180.00.",
        "amount_disputed": "25.00", "remittance_date": fax_day,
        "contact": {"name": "Billing office", "phone": "657-555-0199"}
    });
    let create = server.url(&format!("/v1/intake/{item_id}/create"));
    let body = json!({"kind": "dispute", "dispute": pdr});
    let (status, _) = send(
        reqwest::Method::POST,
        &create,
        &provider,
        Some(&body),
        Some("c-x"),
    )
    .await;
    assert_eq!(status, 403, "providers do not file from intake");
    let (status, created) = send(
        reqwest::Method::POST,
        &create,
        &clerk,
        Some(&body),
        Some("c-1"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["item"]["status"], "filed");
    assert_eq!(created["record"]["kind"], "dispute");
    let dispute_id = created["record"]["id"].as_str().unwrap().to_string();

    // The practice sees its paper dispute: received when the fax was, on the
    // paper clock (15 working days: three weekends at least), naming the fax.
    let (status, dispute) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/disputes/{dispute_id}")),
        &provider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{dispute}");
    assert_eq!(dispute["channel"], "paper");
    assert_eq!(dispute["intake_item_id"], item_id.as_str());
    assert_eq!(dispute["received_at"], received.to_string());
    let ack: jiff::Timestamp = dispute["acknowledge_due"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let days = ack.duration_since(received).as_secs() / 86_400;
    assert!(
        (19..=25).contains(&days),
        "acknowledgement due {days} days after the fax"
    );
    assert!(
        dispute["history"][0]["reason"]
            .as_str()
            .unwrap()
            .contains(&item_id),
        "{dispute}"
    );

    // More documents for it, faxed later: the clerk links them; the reviewer
    // sees the link in the dispute's history.
    let more = drop_file(
        data.path(),
        &port,
        &fixture("auth-request-form.pdf"),
        &["--from", "+13235550142"],
    );
    let more_id = more["item"].as_str().unwrap().to_string();
    let (status, linked) = send(
        reqwest::Method::POST,
        &server.url(&format!("/v1/intake/{more_id}/link")),
        &clerk,
        Some(&json!({"kind": "dispute", "id": dispute_id})),
        Some("l-1"),
    )
    .await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["link"]["kind"], "dispute");
    let (status, seen) = send(
        reqwest::Method::GET,
        &server.url(&format!("/v1/disputes/{dispute_id}")),
        &reviewer,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{seen}");
    let history = seen["history"].to_string();
    assert!(
        history.contains("intake_linked") && history.contains(&more_id),
        "{history}"
    );

    let logs = server.stop();
    for phi in ["+13235550142", "SUN100001", "1984-03-15", "contract rate"] {
        assert!(!logs.contains(phi), "{phi} logged");
    }
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
