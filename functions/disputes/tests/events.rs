//! Replays every sample event in `events/disputes/` through the handler, and the
//! scheduled event of `events/disputes-sweeper/` through the sweeper.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

type Check = fn(&Value);

fn expectation(name: &str) -> Option<(u16, Check)> {
    Some(match name {
        "submit-bad-input.json" => (400, |v| {
            assert_eq!(
                error_fields(v),
                [
                    "kind",
                    "prior_auth_id",
                    "reason_category",
                    "reason",
                    "contact.phone"
                ]
            );
        }),
        "submit-unknown-auth.json" => (404, |v| {
            assert_eq!(error_fields(v), ["prior_auth_id"]);
        }),
        "submit-expedited-appeal.json" => (422, |v| {
            assert_eq!(v["expedited_appeal_fax"], "855-555-0103");
        }),
        "submit-corrected-claim.json" => (422, |v| {
            assert_eq!(v["type"], "urn:mso:problem:corrected-claim-not-a-dispute");
        }),
        "queue-as-reviewer.json" => (200, |v| assert!(v["items"].is_array())),
        "queue-as-provider.json" => (403, |v| assert_eq!(v["type"], "urn:mso:problem:forbidden")),
        "get-unknown.json" => (404, |v| assert_eq!(v["type"], "urn:mso:problem:not-found")),
        "decide-as-provider.json" => (403, |_| {}),
        "report-as-ops.json" => (200, |v| assert_eq!(v["figures"]["total"], 0)),
        _ => return None,
    })
}

fn samples(function: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(function);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_sample_event_gets_its_expected_answer() {
    let e = env().await;
    let mut replayed = 0;
    for (name, text) in samples("disputes") {
        let (status, check) = expectation(&name)
            .unwrap_or_else(|| panic!("{name} has no expectation in tests/events.rs"));
        let req = mso_api::lambda_http::request::from_str(&text).unwrap();
        let resp = disputes::handle(&e.deps_of("disputes"), req).await;
        let v = json(&resp);
        assert_eq!(resp.status(), status, "{name}: {v}");
        check(&v);
        replayed += 1;
    }
    assert_eq!(replayed, 9);
}

#[tokio::test]
async fn the_scheduled_event_is_an_event_the_sweeper_main_accepts() {
    let e = env().await;
    for (_, text) in samples("disputes-sweeper") {
        // The main takes any JSON and ignores it; it must at least be JSON.
        let _: Value = serde_json::from_str(&text).unwrap();
        let report = disputes::sweeper::sweep(
            &e.deps_of("disputes-sweeper"),
            "2026-03-02T18:06:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(report.overdue_count, 0);
    }
}
