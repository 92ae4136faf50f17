//! The disputes handler in-process on the embedded store (criterion): a PDR
//! filed on an accepted claim (the claim read, the filing window and both legal
//! clocks computed, the dispute, its rows, timers, outbox event and audit record
//! committed durably).
//!
//! `cargo bench -p disputes --no-default-features --bench disputes`

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use mso_domain::ids::{RecordKind, ReferenceId};
use mso_testkit::bench;
use support::{ClaimDecision, Env, env, pdr};

/// Disputes pile up in the store; a fresh one every this many keeps the lists
/// an IPA's size rather than the bench's.
const PER_STORE: u64 = 200;

/// A new accepted claim to dispute (one open PDR per claim and reason), of a
/// service on its own day (one live claim per service).
async fn claim(e: &Env, i: u64) -> String {
    // Five bits of `i` per character (from_entropy keeps five bits a byte).
    let entropy: Vec<u8> = (0..16)
        .map(|k| i.checked_shr(5 * k).unwrap_or(0) as u8 & 31)
        .collect();
    let id = ReferenceId::from_entropy(RecordKind::Claim, &entropy)
        .unwrap()
        .to_string();
    let day = jiff::civil::date(2025, 3, 1) + jiff::Span::new().days((i % PER_STORE) as i64);
    e.claim_of(
        &id,
        &day.to_string(),
        "2026-02-20T17:00:00Z",
        ClaimDecision::Accepted,
    )
    .await;
    id
}

fn handlers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("disputes");
    group.sample_size(30);
    group.bench_function("POST /v1/disputes (PDR, 201, durable commit)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(bench::timed(
                iters,
                PER_STORE,
                async || env().await.without_role_checks(),
                async |e, i| (format!("bench-{i}"), pdr(&claim(e, i).await, "2026-02-20")),
                async |e, (key, body)| {
                    e.filed(&key, &body).await;
                },
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, handlers);
criterion_main!(benches);
