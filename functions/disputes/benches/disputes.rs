//! The disputes handler in-process on the embedded store (criterion): a PDR
//! filed on an accepted claim (the claim read, the filing window and both legal
//! clocks computed, the dispute, its rows, timers, outbox event and audit record
//! committed durably).
//!
//! `cargo bench -p disputes --no-default-features --bench disputes`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mso_domain::ids::{RecordKind, ReferenceId};
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
            rt.block_on(async {
                let (mut total, mut e) = (Duration::ZERO, env().await.without_role_checks());
                for i in 0..iters {
                    if i > 0 && i % PER_STORE == 0 {
                        e = env().await.without_role_checks();
                    }
                    let claim = claim(&e, i).await;
                    let body = pdr(&claim, "2026-02-20");
                    let t = Instant::now();
                    e.filed(&format!("bench-{i}"), &body).await;
                    total += t.elapsed();
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, handlers);
criterion_main!(benches);
