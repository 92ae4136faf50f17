//! Replays every sample event: `events/intake/` (API Gateway) through the
//! clerk's routes, `events/intake-s3/` (S3 ObjectCreated, from the fax gateway
//! and SES) through the bucket handler, the way each Lambda main receives them.

mod support;

use std::path::Path;

use intake::S3Event;
use intake::ingest::{self, Outcome};
use serde_json::Value;
use support::*;

fn samples(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(dir);
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

type Check = fn(&Value);

fn expectation(name: &str) -> (u16, Check) {
    match name {
        "list-queued.json" => (200, |v| {
            assert_eq!(v["items"].as_array().unwrap().len(), 2, "{v}");
        }),
        "list-as-provider.json" => (403, |_| {}),
        "get-unknown.json" => (404, |_| {}),
        "link-bad-input.json" => (400, |v| assert_eq!(error_fields(v), ["kind"])),
        "create-dispute-bad-fields.json" => (400, |v| {
            assert_eq!(
                error_fields(v),
                [
                    "dispute.reason",
                    "dispute.amount_disputed",
                    "dispute.remittance_date"
                ]
            )
        }),
        "create-without-key.json" => (400, |v| {
            assert_eq!(error_fields(v), ["Idempotency-Key", "prior_auth"])
        }),
        other => panic!("{other} has no expectation in tests/events.rs"),
    }
}

#[tokio::test]
async fn every_s3_sample_files_its_object_once_and_replays_change_nothing() {
    let e = env().await;
    let objects = e.deps.intake_objects.clone();
    objects
        .put(
            "fax/20260228-164000-0142.json",
            "application/json",
            serde_json::to_vec(&sidecar()).unwrap().into(),
        )
        .await
        .unwrap();
    objects
        .put(
            "fax/20260228-164000-0142.pdf",
            "application/pdf",
            fixture("auth-request-form.pdf"),
        )
        .await
        .unwrap();
    objects
        .put(
            "email/o3vlb0ev1mg1tqbasaod6b3ibj5bb8ml1v4ivd01",
            "message/rfc822",
            fixture("three-attachments.eml"),
        )
        .await
        .unwrap();
    let s3_samples = samples("intake-s3");
    assert_eq!(s3_samples.len(), 3);
    let mut filed_items = Vec::new();
    for (name, text) in &s3_samples {
        let event: S3Event = serde_json::from_str(text).unwrap();
        let report = ingest::handle(&e.deps_of("intake-s3"), event)
            .await
            .unwrap();
        assert_eq!(report.records.len(), 1, "{name}");
        match (name.as_str(), &report.records[0].outcome) {
            ("fax-sidecar-written.json", Outcome::Ignored { .. }) => {}
            (
                "fax-received.json" | "email-received-from-ses.json",
                Outcome::Filed { item, status, .. },
            ) => {
                assert_eq!(status, "queued", "{name}");
                filed_items.push(item.clone());
            }
            (name, other) => panic!("{name}: {other:?}"),
        }
    }
    let fax = e.item(&filed_items[1]).await;
    assert_eq!(
        fax.received_at.to_string(),
        FAX_RECEIVED,
        "the sidecar's time"
    );
    // S3 delivers at least once: the same events again change nothing.
    for (name, text) in &s3_samples {
        let event: S3Event = serde_json::from_str(text).unwrap();
        let report = ingest::handle(&e.deps_of("intake-s3"), event)
            .await
            .unwrap();
        assert!(
            matches!(
                report.records[0].outcome,
                Outcome::Unchanged { .. } | Outcome::Ignored { .. }
            ),
            "{name}: {:?}",
            report.records[0].outcome
        );
    }

    // The API samples, over the two queued items.
    let api = samples("intake");
    for (name, text) in &api {
        let (status, check) = expectation(name);
        let req = mso_api::lambda_http::request::from_str(text).unwrap();
        let resp = intake::handle(&e.deps_of("intake"), req).await;
        let v = json(&resp);
        assert_eq!(resp.status(), status, "{name}: {v}");
        check(&v);
    }
    assert_eq!(api.len(), 6);
}
