//! The documents job in-process: signing upload and download URLs (both
//! adapters; S3's SigV4 is computed locally, no request is sent), the upload
//! slot handler, and the verifying handler on a 25 MB PDF on the embedded store.
//!
//! `cargo bench -p documents --bench documents`
//!
//! Targets (docs/performance.md): presigning under 1 ms; verifying a 25 MB PDF
//! (the handler: read the document and the object, verify, commit the decision
//! with the owner's history) under 100 ms.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use documents::verify::{self, Verdict};
use documents::{DOWNLOAD_URL_LIFETIME, UPLOAD_URL_LIFETIME};
use mso_store::DocumentStore;
use support::*;

/// Just under the default limit of 25 MiB.
const SIZE: usize = 25 * 1024 * 1024 - 4096;

/// A one-page PDF of `SIZE` bytes whose content stream is incompressible noise
/// (like a scan), with a classic xref table.
fn scanned_pdf() -> Bytes {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut noise = Vec::with_capacity(SIZE);
    while noise.len() < SIZE - 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", offsets.len()).unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut out,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    );
    let mut stream = format!("<< /Length {} >>\nstream\n", noise.len()).into_bytes();
    stream.extend_from_slice(&noise);
    stream.extend_from_slice(b"\nendstream");
    object(&mut out, &stream);
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).unwrap();
    for o in &offsets {
        writeln!(out, "{o:010} 00000 n ").unwrap();
    }
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    )
    .unwrap();
    Bytes::from(out)
}

fn presign(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt.block_on(env()).without_role_checks();
    let key = "documents/DOC-7K3Q9M2P4X.pdf";
    let mut group = c.benchmark_group("presign");
    group.bench_function("PUT, embedded (HMAC-SHA256)", |b| {
        b.iter(|| {
            rt.block_on(e.deps.documents.presign_put(
                black_box(key),
                "application/pdf",
                48_213,
                UPLOAD_URL_LIFETIME,
            ))
            .unwrap()
        })
    });
    #[cfg(feature = "lambda")]
    {
        use aws_sdk_dynamodb::config::Credentials;
        let sdk = mso_store::aws::sdk_config_for(
            "us-west-2",
            None,
            Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("session".into()),
                None,
                "bench",
            ),
        );
        let s3 = mso_store::aws::S3DocumentStore::new(&sdk, "mso-sunrise-docs-123456789012");
        group.bench_function("PUT, S3 (SigV4, create-only)", |b| {
            b.iter(|| {
                rt.block_on(s3.presign_put(
                    black_box(key),
                    "application/pdf",
                    48_213,
                    UPLOAD_URL_LIFETIME,
                ))
                .unwrap()
            })
        });
        group.bench_function("GET, S3 (SigV4, attachment + no-store)", |b| {
            b.iter(|| {
                rt.block_on(s3.presign_get(black_box(key), DOWNLOAD_URL_LIFETIME))
                    .unwrap()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("handlers");
    let mut n = 0u64;
    let mut auth = AUTH.to_string();
    group.bench_function("POST /v1/documents (slot, durable commit)", |b| {
        b.iter_batched(
            || {
                // A fresh auth every 20 uploads (untimed), so the auth holds a
                // realistic handful of documents rather than thousands.
                n += 1;
                if n.is_multiple_of(20) {
                    auth = mso_api::ids::new_reference(mso_domain::ids::RecordKind::PriorAuth)
                        .to_string();
                    rt.block_on(e.ipa.file_auth(&auth));
                }
                let mut body = slot("notes.pdf", "application/pdf", 48_213);
                body["owner"]["id"] = serde_json::json!(auth);
                (format!("bench-{n}"), body)
            },
            |(key, body)| {
                let resp = rt.block_on(e.post_as(SUNRISE_ORG, "provider_user", &key, &body));
                assert_eq!(resp.status(), 201);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn verification(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt.block_on(env()).without_role_checks();
    let pdf = scanned_pdf();
    let mut group = c.benchmark_group("verify handler");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(20));
    // Setup (not timed): a fresh document awaiting its upload, its 25 MB
    // object in the store. Timed: the ObjectCreated handler deciding it.
    group.bench_function("25 MB PDF -> available", |b| {
        b.iter_batched(
            || {
                rt.block_on(async {
                    let v = e
                        .slot(&slot("scan.pdf", "application/pdf", pdf.len() as u64))
                        .await;
                    let key = e.object_key(v["id"].as_str().unwrap()).await;
                    e.ipa
                        .documents
                        .put(&key, "application/pdf", pdf.clone())
                        .await
                        .unwrap();
                    key
                })
            },
            |key| {
                let verdict = rt.block_on(verify::object(&e.deps, &key)).unwrap();
                assert_eq!(verdict, Verdict::Available);
            },
            BatchSize::PerIteration,
        )
    });
    let v = rt.block_on(e.slot(&slot("scan.pdf", "application/pdf", pdf.len() as u64)));
    let key = rt.block_on(e.object_key(v["id"].as_str().unwrap()));
    rt.block_on(e.ipa.documents.put(&key, "application/pdf", pdf.clone()))
        .unwrap();
    rt.block_on(verify::object(&e.deps, &key)).unwrap();
    group.bench_function("duplicate event (already available)", |b| {
        b.iter(|| {
            rt.block_on(verify::object(&e.deps, black_box(&key)))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, presign, verification);
criterion_main!(benches);
