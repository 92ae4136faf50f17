//! Replays every sample event in `events/eligibility/` through the handler.

mod support;

use std::path::Path;

use eligibility::handle;
use serde_json::Value;
use support::*;

/// Checks the body of an answer.
type Check = fn(&Value);

/// File name -> expected status, and a check of the answer.
fn expectation(name: &str) -> Option<(u16, Check)> {
    Some(match name {
        "eligible.json" => (200, |v| {
            assert_eq!(v["eligible"], true);
            assert_eq!(v["rendering_provider"]["npi"], SUNRISE_NPI);
        }),
        "not-eligible.json" => (200, |v| {
            assert_eq!(v["eligible"], false);
            assert_eq!(v["reasons"][0]["code"], "terminated");
        }),
        "wrong-org.json" => (403, |v| assert_eq!(v["errors"][0]["field"], "npi")),
        "bad-input.json" => (400, |v| {
            let fields: Vec<_> = v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].clone())
                .collect();
            assert_eq!(fields, ["dob", "dos", "npi"]);
        }),
        "no-token.json" => (401, |v| {
            assert_eq!(v["type"], "urn:mso:problem:unauthorized")
        }),
        _ => return None,
    })
}

#[tokio::test]
async fn every_sample_event_gets_its_expected_answer() {
    let f = fixture().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/eligibility");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (status, check) = expectation(&name)
            .unwrap_or_else(|| panic!("{name} has no expectation in tests/events.rs"));
        let req = mso_api::lambda_http::request::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap();
        let resp = handle(&f.deps, req).await;
        assert_eq!(resp.status(), status, "{name}");
        check(&json(&resp));
        replayed += 1;
    }
    assert_eq!(replayed, 5);
}
