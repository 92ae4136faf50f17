//! The whole local loop with real files: a slot, the PUT to the presigned URL,
//! S3's ObjectCreated event, the document available (and downloadable) or
//! rejected with the reason; duplicates, late and out-of-order events, failures.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use documents::verify::{self, Verdict};
use mso_store::embedded::PresignedOutcome;
use mso_store::{DocumentStore, ObjectMeta, PresignedRequest, StoreError};
use serde_json::json;
use support::*;

const PDF: &str = "application/pdf";
const TIFF: &str = "image/tiff";
const JPEG: &str = "image/jpeg";
const PNG: &str = "image/png";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const TEXT: &str = "text/plain";

#[tokio::test]
async fn every_real_file_of_each_type_becomes_available_and_downloads_as_uploaded() {
    let e = env().await;
    for (name, content_type) in [
        ("letter.pdf", PDF),
        ("letter-xref-stream.pdf", PDF),
        ("scan.tiff", TIFF),
        ("gradient-bigendian.tiff", TIFF),
        ("photo.jpg", JPEG),
        ("chart.png", PNG),
        ("letter.docx", DOCX),
        ("claims.xlsx", XLSX),
        ("notes.txt", "text/plain; charset=utf-8"),
    ] {
        let bytes = fixture(name);
        let v = e.upload(name, content_type, bytes.clone()).await;
        assert_eq!(v["status"], "available", "{name}: {v}");
        assert!(v["rejection"].is_null());
        assert!(v["checked_at"].is_string());
        // The download URL works, and gives back exactly the bytes.
        let download = &v["download"];
        assert_eq!(download["method"], "GET", "{name}: {v}");
        let url = download["url"].as_str().unwrap();
        let path = &url[url.find("/_local/").unwrap()..];
        let got = e
            .ipa
            .documents
            .serve_presigned(
                &http::Method::GET,
                path,
                &http::HeaderMap::new(),
                Bytes::new(),
                now_unix(),
            )
            .await
            .unwrap();
        let PresignedOutcome::Found(meta, body) = got else {
            panic!("{name}: {got:?}")
        };
        assert_eq!(body, bytes, "{name}");
        let headers = PresignedOutcome::download_headers(&meta);
        let id = v["id"].as_str().unwrap();
        assert!(
            headers.contains(&(
                "content-disposition",
                format!("attachment; filename=\"{id}.{}\"", extension(content_type))
            )),
            "{name}: {headers:?}"
        );
    }
    // Each GET that issued a URL is in the audit trail, naming the document.
    let audited = e.audited("document.download_url").await;
    assert_eq!(audited.len(), 9);
    assert!(audited.iter().all(|a| a["subject_type"] == "document"
        && a["actor_org"] == SUNRISE_ORG
        && a["subject_id"].as_str().unwrap().starts_with("DOC-")));
    // The auth's history lists each one.
    let added = e
        .history()
        .await
        .into_iter()
        .filter(|(action, _)| action == "document_added")
        .count();
    assert_eq!(added, 9);
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        PDF => "pdf",
        TIFF => "tif",
        JPEG => "jpg",
        PNG => "png",
        DOCX => "docx",
        XLSX => "xlsx",
        _ => "txt",
    }
}

#[tokio::test]
async fn each_wrong_file_is_rejected_with_the_reason_and_its_bytes_deleted() {
    let e = env().await;
    for (name, declared, code, words) in [
        (
            "archive.zip",
            PDF,
            "type_mismatch",
            "declared as a PDF but the file is a ZIP archive",
        ),
        ("encrypted.pdf", PDF, "encrypted_pdf", "password-protected"),
        (
            "encrypted-xref-stream.pdf",
            PDF,
            "encrypted_pdf",
            "password-protected",
        ),
        ("macro.docx", DOCX, "macros_present", "with macros"),
        ("truncated.docx", DOCX, "corrupt", "damaged"),
        (
            "archive.zip",
            DOCX,
            "not_ooxml",
            "without the [Content_Types].xml",
        ),
        ("claims.xlsx", DOCX, "type_mismatch", "is an Excel workbook"),
        (
            "letter.pdf",
            PNG,
            "type_mismatch",
            "declared as a PNG image but the file is a PDF",
        ),
        ("photo.jpg", TIFF, "type_mismatch", "is a JPEG image"),
        ("chart.png", TEXT, "type_mismatch", "is a PNG image"),
        ("letter.docx", XLSX, "type_mismatch", "is a Word document"),
        ("scan.tiff", JPEG, "type_mismatch", "is a TIFF image"),
    ] {
        let v = e.upload(name, declared, fixture(name)).await;
        assert_eq!(v["status"], "rejected", "{name} as {declared}: {v}");
        assert_eq!(v["rejection"]["code"], code, "{name} as {declared}: {v}");
        let message = v["rejection"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{name}: {message}");
        assert!(v["download"].is_null(), "no download of a rejected file");
        let key = e.object_key(v["id"].as_str().unwrap()).await;
        assert_eq!(
            e.ipa.documents.head(&key).await.unwrap(),
            None,
            "{name} deleted"
        );
    }
    let history = e.history().await;
    let rejected: Vec<_> = history
        .iter()
        .filter(|(action, _)| action == "document_rejected")
        .collect();
    assert_eq!(rejected.len(), 12);
    assert!(
        rejected[0]
            .1
            .as_deref()
            .unwrap()
            .ends_with("was rejected: declared as a PDF but the file is a ZIP archive"),
        "{rejected:?}"
    );
    // A rejection reads the same in the owner's list row.
    let rows = e.owner_partition().await;
    assert_eq!(rows.iter().filter(|sk| sk.starts_with("DOC#")).count(), 12);
}

#[tokio::test]
async fn an_upload_of_another_length_or_type_never_reaches_the_bucket() {
    let e = env().await;
    let bytes = fixture("letter.pdf");
    let slot_json = e.slot(&slot("a.pdf", PDF, bytes.len() as u64)).await;
    let id = slot_json["id"].as_str().unwrap().to_string();
    // Longer or shorter than declared: refused before anything is stored.
    let mut longer = bytes.to_vec();
    longer.push(b'\n');
    assert!(matches!(
        e.put(&slot_json, Bytes::from(longer)).await,
        Err(StoreError::PresignRefused(_))
    ));
    let mut other_type = slot_json.clone();
    other_type["upload"]["headers"]["content-type"] = json!("application/zip");
    assert!(matches!(
        e.put(&other_type, bytes.clone()).await,
        Err(StoreError::PresignRefused(_))
    ));
    // Expired, or tampered with.
    let expires: jiff::Timestamp = slot_json["upload"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(matches!(
        e.put_at(&slot_json, bytes.clone(), expires.as_second() + 1)
            .await,
        Err(StoreError::PresignRefused("expired"))
    ));
    let mut tampered = slot_json.clone();
    let url = tampered["upload"]["url"].as_str().unwrap().to_string();
    let longer_life = url.replace("X-Mso-Expires=", "X-Mso-Expires=9");
    tampered["upload"]["url"] = json!(longer_life);
    assert!(matches!(
        e.put(&tampered, bytes.clone()).await,
        Err(StoreError::PresignRefused("signature does not match"))
    ));
    let key = e.object_key(&id).await;
    assert_eq!(e.ipa.documents.head(&key).await.unwrap(), None);
    assert_eq!(e.get(&id).await["status"], "awaiting_upload");

    // The real upload works once; the URL cannot replace what was verified.
    e.put(&slot_json, bytes.clone()).await.unwrap();
    e.event(&key, bytes.len() as u64).await;
    assert_eq!(e.get(&id).await["status"], "available");
    let mut zip = fixture("archive.zip").to_vec();
    zip.resize(bytes.len(), 0);
    assert!(matches!(
        e.put(&slot_json, Bytes::from(zip)).await,
        Err(StoreError::ConditionFailed)
    ));
    assert_eq!(e.ipa.documents.get(&key).await.unwrap().unwrap().1, bytes);
}

#[tokio::test]
async fn an_object_that_differs_from_the_declaration_is_rejected_by_size() {
    // S3 enforces the signed length; should an object arrive some other way
    // (a console upload), verification still compares it with the declaration.
    let e = env().await;
    let bytes = fixture("letter.pdf");
    let slot_json = e.slot(&slot("a.pdf", PDF, bytes.len() as u64 + 100)).await;
    let id = slot_json["id"].as_str().unwrap();
    let key = e.object_key(id).await;
    e.ipa.documents.put(&key, PDF, bytes.clone()).await.unwrap();
    e.event(&key, bytes.len() as u64).await;
    let v = e.get(id).await;
    assert_eq!(v["rejection"]["code"], "size_mismatch", "{v}");
    // And an empty one.
    let slot_json = e.slot(&slot("b.pdf", PDF, 10)).await;
    let key = e.object_key(slot_json["id"].as_str().unwrap()).await;
    e.ipa.documents.put(&key, PDF, Bytes::new()).await.unwrap();
    e.event(&key, 0).await;
    assert_eq!(
        e.get(slot_json["id"].as_str().unwrap()).await["rejection"]["code"],
        "empty"
    );
}

#[tokio::test]
async fn duplicate_late_and_foreign_events_change_nothing() {
    let e = env().await;
    let bytes = fixture("letter.pdf");
    let slot_json = e.slot(&slot("a.pdf", PDF, bytes.len() as u64)).await;
    let id = slot_json["id"].as_str().unwrap().to_string();
    let key = e.object_key(&id).await;

    // The event before the object is there (out of order): nothing changes.
    let report = e.event(&key, bytes.len() as u64).await;
    assert_eq!(
        report.records[0].verdict,
        Verdict::Unchanged {
            why: "the object is not there"
        }
    );
    assert_eq!(e.get(&id).await["status"], "awaiting_upload");

    e.put(&slot_json, bytes.clone()).await.unwrap();
    let report = e.event(&key, bytes.len() as u64).await;
    assert_eq!(report.records[0].verdict, Verdict::Available);
    let history = e.history().await;
    let checked_at = e.get(&id).await["checked_at"].clone();

    // The same event again, and again later: nothing changes.
    for _ in 0..2 {
        e.ipa.at("2026-03-02T18:00:00Z");
        let report = e.event(&key, bytes.len() as u64).await;
        assert_eq!(
            report.records[0].verdict,
            Verdict::Unchanged {
                why: "already available"
            }
        );
    }
    assert_eq!(e.history().await, history);
    assert_eq!(e.get(&id).await["checked_at"], checked_at);

    // Keys this job did not issue are ignored.
    for (foreign, why) in [
        ("documents/DOC-ZZZZZZZZZZ.pdf", "no such document"),
        ("intake/fax-1.tif", "not a document object"),
        (
            &key.replace(".pdf", ".png") as &str,
            "not the document's object",
        ),
    ] {
        let report = e.event(foreign, 10).await;
        assert_eq!(
            report.records[0].verdict,
            Verdict::Ignored { why },
            "{foreign}"
        );
    }
    // Other event types too.
    let mut removed = verify::object_created("b", &key, 1, e.ipa.clock.now());
    removed.records[0].event_name = Some("ObjectRemoved:Delete".into());
    let report = verify::handle(&e.deps_of("documents-verify"), removed)
        .await
        .unwrap();
    assert!(matches!(report.records[0].verdict, Verdict::Ignored { .. }));
    assert_eq!(e.get(&id).await["status"], "available");
}

#[tokio::test]
async fn a_late_event_for_a_rejected_document_removes_a_reupload() {
    let e = env().await;
    let zip = fixture("archive.zip");
    let v = e.upload("a.pdf", PDF, zip.clone()).await;
    assert_eq!(v["status"], "rejected");
    let key = e.object_key(v["id"].as_str().unwrap()).await;
    // The key is free again after the delete; someone puts bytes there.
    e.ipa.documents.put(&key, PDF, zip.clone()).await.unwrap();
    let report = e.event(&key, zip.len() as u64).await;
    assert_eq!(
        report.records[0].verdict,
        Verdict::Unchanged {
            why: "already rejected"
        }
    );
    assert_eq!(e.ipa.documents.head(&key).await.unwrap(), None);
    assert_eq!(e.get(v["id"].as_str().unwrap()).await["status"], "rejected");
}

#[tokio::test]
async fn concurrent_events_for_one_upload_decide_once() {
    let e = env().await;
    let bytes = fixture("letter.pdf");
    let slot_json = e.slot(&slot("a.pdf", PDF, bytes.len() as u64)).await;
    let key = e.object_key(slot_json["id"].as_str().unwrap()).await;
    e.put(&slot_json, bytes.clone()).await.unwrap();
    let history = e.history().await.len();
    let at = e.ipa.clock.now();
    let event = verify::object_created("b", &key, bytes.len() as u64, at);
    let verifier = e.deps_of("documents-verify");
    let (a, b) = tokio::join!(
        verify::handle(&verifier, event.clone()),
        verify::handle(&verifier, event.clone())
    );
    let mut verdicts = vec![
        a.unwrap().records[0].verdict.clone(),
        b.unwrap().records[0].verdict.clone(),
    ];
    verdicts.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(
        verdicts,
        [
            Verdict::Available,
            Verdict::Unchanged {
                why: "already available"
            }
        ]
    );
    assert_eq!(e.history().await.len(), history + 1);
}

/// The embedded store, with reads that fail while `down` is set.
struct Flaky {
    inner: Arc<dyn DocumentStore>,
    down: AtomicBool,
}

#[async_trait]
impl DocumentStore for Flaky {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.inner.put(key, content_type, bytes).await
    }
    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<bool, StoreError> {
        self.inner.put_if_absent(key, content_type, bytes).await
    }
    async fn get(&self, key: &str) -> Result<Option<(ObjectMeta, Bytes)>, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("S3 GetObject", "503 Slow Down"));
        }
        self.inner.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: std::time::Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.inner
            .presign_put(key, content_type, content_length, expires_in)
            .await
    }
    async fn presign_get(
        &self,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.inner.presign_get(key, expires_in).await
    }
}

#[tokio::test]
async fn a_storage_failure_fails_the_event_so_it_is_retried_and_nothing_is_lost() {
    let mut e = env().await;
    let flaky = Arc::new(Flaky {
        inner: e.ipa.documents_port(),
        down: AtomicBool::new(true),
    });
    e.deps.documents = flaky.clone();
    let good = fixture("letter.pdf");
    let a = e.slot(&slot("a.pdf", PDF, good.len() as u64)).await;
    e.put(&a, good.clone()).await.unwrap();
    let key_a = e.object_key(a["id"].as_str().unwrap()).await;
    // An event with two records, one of a foreign key: the batch fails as a
    // whole, saying how many of its records failed.
    let mut event = verify::object_created("b", &key_a, good.len() as u64, e.ipa.clock.now());
    let mut foreign = event.records[0].clone();
    foreign.s3.object.key = Some("intake/x.eml".into());
    event.records.push(foreign);
    let err = verify::handle(&e.deps_of("documents-verify"), event.clone())
        .await
        .unwrap_err();
    assert_eq!((err.failed, err.total), (1, 2));
    assert!(err.to_string().contains("will be retried"), "{err}");
    assert_eq!(
        e.get(a["id"].as_str().unwrap()).await["status"],
        "awaiting_upload"
    );
    // Lambda retries the same event once S3 answers again.
    flaky.down.store(false, Ordering::SeqCst);
    let report = verify::handle(&e.deps_of("documents-verify"), event)
        .await
        .unwrap();
    assert_eq!(report.records[0].verdict, Verdict::Available);
    assert_eq!(
        e.get(a["id"].as_str().unwrap()).await["status"],
        "available"
    );
}

/// The verifier reads the object and the document's owner at once: after the
/// document, one round trip for both.
#[tokio::test]
async fn the_object_and_the_owner_are_read_at_once() {
    let mut e = env().await;
    let bytes = fixture("letter.pdf");
    let slot = e.slot(&slot("letter.pdf", PDF, bytes.len() as u64)).await;
    let stored = e.put(&slot, bytes).await.unwrap();
    let mso_store::embedded::PresignedOutcome::Stored(meta) = stored else {
        panic!("not stored: {stored:?}")
    };
    let reads = SlowReads::new(e.deps.records.clone(), std::time::Duration::from_millis(5));
    e.deps.documents = SlowObjects::counted_with(e.deps.documents.clone(), &reads);
    e.deps.records = reads.clone();
    assert_eq!(
        verify::object(&e.deps_of("documents-verify"), &meta.key)
            .await
            .unwrap(),
        Verdict::Available
    );
    assert_eq!(reads.most_at_once(), 2);
}
