//! The eligibility handler in-process on the embedded store: parse, authorise, read
//! member and providers, judge, write the audit record (a durable commit), answer.
//!
//! `cargo bench -p eligibility`

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use support::*;

fn lookups(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = rt.block_on(fixture());
    let eligible = format!("member_id=SUN100001&dob=1984-03-15&dos=2026-03-02&npi={SUNRISE_NPI}");

    let mut group = c.benchmark_group("eligibility");
    group.bench_function("eligible member, with npi", |b| {
        b.iter(|| {
            rt.block_on(eligibility::handle(
                &f.deps,
                eligibility(&eligible, SUNRISE_ORG),
            ))
        })
    });
    group.bench_function("unknown member", |b| {
        b.iter(|| {
            rt.block_on(eligibility::handle(
                &f.deps,
                eligibility(
                    "member_id=NOSUCH1&dob=1984-03-15&dos=2026-03-02",
                    SUNRISE_ORG,
                ),
            ))
        })
    });
    group.bench_function("invalid query (no store access)", |b| {
        b.iter(|| {
            rt.block_on(eligibility::handle(
                &f.deps,
                eligibility("member_id=&dob=1984-02-30&dos=x", SUNRISE_ORG),
            ))
        })
    });
    // Sixteen concurrent lookups: audit writes share one commit (group commit).
    group.bench_function("16 concurrent eligible lookups", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..16)
                    .map(|_| {
                        let deps = f.deps.clone();
                        let q = eligible.clone();
                        tokio::spawn(async move {
                            eligibility::handle(&deps, eligibility(&q, SUNRISE_ORG)).await
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
