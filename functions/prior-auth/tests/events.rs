//! Replays every sample event in `events/prior-auth/` through the handler, and the
//! scheduled event of `events/prior-auth-sweeper/` through the sweeper.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

type Check = fn(&Value);

fn expectation(name: &str) -> Option<(u16, Check)> {
    Some(match name {
        "submit-criteria-met.json" => (201, |v| {
            assert_eq!(v["status"], "approved");
            assert_eq!(v["lines"][0]["disposition"], "criteria_met");
        }),
        "submit-review-required.json" => (201, |v| {
            assert_eq!(v["status"], "pended");
            assert_eq!(v["lines"][0]["disposition"], "review_required");
        }),
        "submit-bad-input.json" => (400, |v| {
            assert_eq!(error_fields(v), ["dob", "lines[0].code", "lines[0].units"]);
        }),
        "queue-as-provider.json" => (403, |v| assert_eq!(v["type"], "urn:mso:problem:forbidden")),
        "queue-as-nurse.json" => (200, |v| assert!(v["items"].is_array())),
        "get-unknown.json" => (404, |v| assert_eq!(v["type"], "urn:mso:problem:not-found")),
        "decide-as-provider.json" => (403, |_| {}),
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
    for (name, text) in samples("prior-auth") {
        let (status, check) = expectation(&name)
            .unwrap_or_else(|| panic!("{name} has no expectation in tests/events.rs"));
        let req = mso_api::lambda_http::request::from_str(&text).unwrap();
        let resp = prior_auth::handle(&e.deps_of("prior-auth"), req).await;
        let v = json(&resp);
        assert_eq!(resp.status(), status, "{name}: {v}");
        check(&v);
        replayed += 1;
    }
    assert_eq!(replayed, 7);
}

#[tokio::test]
async fn the_scheduled_event_is_an_event_the_sweeper_main_accepts() {
    let e = env().await;
    for (_, text) in samples("prior-auth-sweeper") {
        // The main takes any JSON and ignores it; it must at least be JSON.
        let _: Value = serde_json::from_str(&text).unwrap();
        let report = prior_auth::sweeper::sweep(
            &e.deps_of("prior-auth-sweeper"),
            "2026-03-02T18:06:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(report.overdue_count, 0);
    }
}
