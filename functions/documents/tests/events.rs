//! Replays every sample event: `events/documents/` (API Gateway) through the
//! HTTP handler, `events/documents-verify/` (S3 ObjectCreated) through the
//! verifying handler, the way each Lambda main receives them.

mod support;

use std::path::Path;

use documents::S3Event;
use documents::verify::{self, Verdict};
use mso_domain::document::DocumentType;
use mso_domain::ids::OrgId;
use mso_domain::prior_auth::Actor;
use mso_records::documents::{self as records, Change, Document, Owner, OwnerKind};
use mso_store::DocumentStore;
use serde_json::Value;
use support::*;

/// The documents the samples name.
const NOTES: &str = "DOC-7K3Q9M2P4X";
const ZIP: &str = "DOC-8M4R0N3Q5Y";

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

/// A document of the test auth awaiting its upload, and its bytes in the bucket.
async fn awaiting(e: &Env, id: &str, bytes: bytes::Bytes) -> String {
    let doc = Document::awaiting(
        records::parse_id(id).unwrap(),
        Owner::parse(OwnerKind::PriorAuth, AUTH).unwrap(),
        OrgId::parse(SUNRISE_ORG).unwrap(),
        "from-a-sample.pdf".into(),
        DocumentType::Pdf,
        bytes.len() as u64,
        1,
        Actor::system(),
        e.ipa.clock.now(),
    );
    let ports = mso_records::Ports {
        records: e.ipa.records.as_ref(),
        queue: e.ipa.queue.as_ref(),
    };
    Change::created(&doc)
        .unwrap()
        .commit(ports, None)
        .await
        .unwrap();
    e.ipa
        .documents
        .put(&doc.object_key, "application/pdf", bytes)
        .await
        .unwrap();
    doc.object_key
}

type Check = fn(&Value);

fn expectation(name: &str) -> Option<(u16, Check)> {
    Some(match name {
        "upload-clinical-notes.json" => (201, |v| {
            assert_eq!(v["status"], "awaiting_upload");
            assert_eq!(v["upload"]["method"], "PUT");
        }),
        "upload-bad-input.json" => (400, |v| {
            assert_eq!(error_fields(v), ["content_type", "size"]);
        }),
        "upload-other-organisation.json" => (404, |_| {}),
        "upload-as-claims-examiner.json" => (403, |_| {}),
        "get-available.json" | "get-as-um-nurse.json" => (200, |v| {
            assert_eq!(v["status"], "available");
            assert!(v["download"]["url"].is_string());
        }),
        "get-other-organisation.json" => (404, |_| {}),
        _ => return None,
    })
}

#[tokio::test]
async fn every_api_sample_gets_its_expected_answer() {
    let e = env().await;
    let key = awaiting(&e, NOTES, fixture("letter.pdf")).await;
    assert_eq!(
        verify::object(&e.deps_of("documents-verify"), &key)
            .await
            .unwrap(),
        Verdict::Available
    );
    let mut replayed = 0;
    for (name, text) in samples("documents") {
        let (status, check) = expectation(&name)
            .unwrap_or_else(|| panic!("{name} has no expectation in tests/events.rs"));
        let req = mso_api::lambda_http::request::from_str(&text).unwrap();
        let resp = documents::handle(&e.deps_of("documents"), req).await;
        let v = json(&resp);
        assert_eq!(resp.status(), status, "{name}: {v}");
        check(&v);
        replayed += 1;
    }
    assert_eq!(replayed, 7);
}

#[tokio::test]
async fn every_s3_sample_is_verified_once_and_replays_change_nothing() {
    let e = env().await;
    awaiting(&e, NOTES, fixture("letter.pdf")).await;
    awaiting(&e, ZIP, fixture("archive.zip")).await;
    let expected = |name: &str| match name {
        "clinical-notes-uploaded.json" => Verdict::Available,
        "zip-declared-as-pdf-uploaded.json" => Verdict::Rejected {
            code: "type_mismatch".into(),
        },
        "foreign-object-uploaded.json" => Verdict::Ignored {
            why: "not a document object",
        },
        other => panic!("{other} has no expectation in tests/events.rs"),
    };
    let samples = samples("documents-verify");
    assert_eq!(samples.len(), 3);
    for (name, text) in &samples {
        // As the Lambda runtime deserialises the payload.
        let event: S3Event = serde_json::from_str(text).unwrap();
        let report = verify::handle(&e.deps_of("documents-verify"), event)
            .await
            .unwrap();
        assert_eq!(report.records.len(), 1, "{name}");
        assert_eq!(report.records[0].verdict, expected(name), "{name}");
    }
    assert_eq!(e.get(NOTES).await["status"], "available");
    assert_eq!(e.get(ZIP).await["rejection"]["code"], "type_mismatch");
    // S3 delivers at least once: the same events again change nothing.
    let history = e.history().await;
    for (name, text) in &samples {
        let event: S3Event = serde_json::from_str(text).unwrap();
        let report = verify::handle(&e.deps_of("documents-verify"), event)
            .await
            .unwrap();
        assert!(
            matches!(
                report.records[0].verdict,
                Verdict::Unchanged { .. } | Verdict::Ignored { .. }
            ),
            "{name}: {:?}",
            report.records[0].verdict
        );
    }
    assert_eq!(e.history().await, history);
}
