//! Replays every sample event: `events/claims/` (API Gateway) through the HTTP
//! handler, `events/claims-s3/` (S3 ObjectCreated) through the bucket's
//! handler, `events/claims-edits/` (SQS) through the consumer, and the
//! sweeper's schedule. Replaying changes nothing the second time.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

type Check = fn(&Value);

fn expectation(name: &str) -> Option<(u16, Check)> {
    Some(match name {
        "submit-visit.json" => (202, |v| assert_eq!(v["status"], "received")),
        "submit-bad-input.json" => (400, |v| {
            assert_eq!(
                error_fields(v),
                ["dob", "lines[0].charge", "billing_provider.npi"]
            );
        }),
        "get-other-organisation.json" => {
            (404, |v| assert_eq!(v["type"], "urn:mso:problem:not-found"))
        }
        "list-pended-as-examiner.json" => (200, |v| assert!(v["items"].is_array())),
        "review-as-provider.json" => (403, |v| assert_eq!(v["type"], "urn:mso:problem:forbidden")),
        "post-file.json" => (202, |v| assert_eq!(v["status"], "received")),
        _ => return None,
    })
}

fn samples(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
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
async fn every_api_event_gets_its_expected_answer_twice() {
    let e = env().await;
    let mut replayed = 0;
    for round in 0..2 {
        for (name, text) in samples("claims") {
            let (status, check) = expectation(&name)
                .unwrap_or_else(|| panic!("{name} has no expectation in tests/events.rs"));
            let req = mso_api::lambda_http::request::from_str(&text).unwrap();
            let resp = claims::handle(&e.deps_of("claims"), req).await;
            let v = json(&resp);
            assert_eq!(resp.status(), status, "{name} (round {round}): {v}");
            check(&v);
            replayed += 1;
        }
    }
    assert_eq!(replayed, 12);
    // The visit, stored once (the posted file waits for its bucket event,
    // which this replay does not send).
    e.drain().await;
    let all = e.all_claims().await;
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn the_bucket_events_read_a_dropped_file_once_and_ignore_the_rest() {
    let e = env().await;
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/claims-s3/one-visit.837"),
    )
    .unwrap();
    e.drop_file("inbound/acme/2026-03-20 batch 501.837", body)
        .await;
    for round in 0..2 {
        for (name, text) in samples("claims-s3") {
            let event: claims::S3Event = serde_json::from_str(&text).unwrap();
            let report = claims::intake::handle(&e.deps_of("claims-s3"), event)
                .await
                .unwrap();
            let outcome = serde_json::to_value(&report).unwrap()["records"][0]["outcome"].clone();
            let expected = match (name.as_str(), round) {
                ("file-dropped.json", 0) => "read",
                ("file-dropped.json", _) => "unchanged",
                ("foreign-object.json", _) => "ignored",
                _ => panic!("{name} has no expectation"),
            };
            assert_eq!(outcome, expected, "{name} round {round}");
        }
    }
    e.drain().await;
    let claims = e.all_claims().await;
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0]["status"], "accepted", "{}", claims[0]);
    assert_eq!(claims[0]["org"], SUNRISE_ORG);
}

#[tokio::test]
async fn the_queue_event_reports_each_failed_message_alone() {
    let e = env().await;
    for (name, text) in samples("claims-edits") {
        let event: claims::SqsEvent = serde_json::from_str(&text).unwrap();
        let ids: Vec<String> = event
            .records
            .iter()
            .map(|r| r.message_id.clone().unwrap())
            .collect();
        let response = claims::edits::handle(&e.deps_of("claims-edits"), event).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        // An unknown claim and a body that is no work item: both redelivered,
        // then dead-lettered by the queue.
        assert_eq!(failed, ids, "{name}");
    }
}

#[tokio::test]
async fn the_scheduled_event_is_one_the_sweeper_main_accepts() {
    let e = env().await;
    for (_, text) in samples("claims-sweeper") {
        let _: Value = serde_json::from_str(&text).unwrap();
        let report = claims::sweeper::sweep(
            &e.deps_of("claims-sweeper"),
            "2026-03-20T17:05:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(report.relayed_events, 0);
    }
}
