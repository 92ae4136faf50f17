//! Parse + classify, end to end within the crate (`parse_intake`: MIME, PDF text
//! layers, finding references, classifying), on the committed fixtures, how
//! long the bombs take to refuse, and intake-s3's handler filing a fax from its
//! ObjectCreated event on the embedded store.
//!
//! `cargo bench -p intake --bench parse`

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use intake::ingest::Outcome;
use intake::{FaxMetadata, IntakeObject, Limits, Source, parse_intake};
use mso_testkit::bench;
use support::{bombs, fixture};

fn object(source: Source, bytes: Bytes) -> IntakeObject {
    IntakeObject {
        source,
        bytes,
        file_name: None,
        fax: FaxMetadata::default(),
        event_time: Some("2026-03-02T09:16:00Z".parse().unwrap()),
    }
}

fn intake(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("intake");
    for (name, source, file) in [
        ("10-page PDF fax", Source::Fax, "fax-10-pages.pdf"),
        (
            "1-page auth request form fax",
            Source::Fax,
            "auth-request-form.pdf",
        ),
        ("scanned TIFF fax", Source::Fax, "scanned-fax.tif"),
        (
            "email, 5 attachments (2 PDFs, 5 pages)",
            Source::Email,
            "five-attachments.eml",
        ),
        (
            "email, 3 attachments",
            Source::Email,
            "three-attachments.eml",
        ),
        (
            "email, quoted-printable PDR",
            Source::Email,
            "pdr-quoted-printable.eml",
        ),
    ] {
        let obj = object(source, fixture(file));
        group.bench_function(name, |b| b.iter(|| parse_intake(black_box(&obj), &limits)));
    }
    let obj = object(Source::Fax, Bytes::from(bombs::large_scanned_pdf(40)));
    group.sample_size(20);
    group.bench_function("40-page scanned PDF fax (19 MB, no text layer)", |b| {
        b.iter(|| parse_intake(black_box(&obj), &limits))
    });
    group.finish();

    let mut group = c.benchmark_group("intake bombs (refused)");
    group.sample_size(20);
    for (name, raw) in [
        (
            "multipart nested 100,000 deep (6.9 MB)",
            bombs::deep_nesting(100_000),
        ),
        ("1,000,000 parts (9.5 MB)", bombs::many_parts(1_000_000)),
        ("2,000 parts (20 KB)", bombs::many_parts(2_000)),
        ("10 MB subject", bombs::huge_subject(10 * 1024 * 1024)),
        (
            "base64 forward of 1,000,000 parts (13 MB)",
            bombs::encoded_forward(&bombs::many_parts(1_000_000)),
        ),
    ] {
        let obj = object(Source::Email, Bytes::from(raw));
        group.bench_function(name, |b| b.iter(|| parse_intake(black_box(&obj), &limits)));
    }
    group.finish();
}

/// Faxes filed on one store before the bench starts on a fresh one, so the
/// store stays the size of a day's intake.
const PER_STORE: u64 = 40;

/// intake-s3's handler: the auth request form and its gateway's sidecar in the
/// intake bucket (put before the clock starts), then its ObjectCreated event:
/// the filed check, the fax and the sidecar read, the fax parsed, its document
/// stored, the member read and the item committed (durably). On a
/// current-thread runtime, as in Lambda, where the parse runs in place.
fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let form = fixture("auth-request-form.pdf");
    let mut group = c.benchmark_group("intake-s3");
    group.sample_size(30);
    group.bench_function("a 1-page auth request fax filed from its event", |b| {
        b.iter_custom(|iters| {
            rt.block_on(bench::timed(
                iters,
                PER_STORE,
                async || support::env().await.without_role_checks(),
                async |e, i| {
                    let (name, sidecar) = (format!("bench-{i}.pdf"), support::sidecar());
                    e.put_fax(&name, form.clone(), Some(sidecar)).await
                },
                async |e, key| {
                    let mut report = e.deliver(&key, form.len() as u64).await;
                    let outcome = report.records.remove(0).outcome;
                    assert!(matches!(outcome, Outcome::Filed { .. }), "{outcome:?}");
                },
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, intake, ingest);
criterion_main!(benches);
