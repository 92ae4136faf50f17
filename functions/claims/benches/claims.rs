//! The claims handlers in-process on the embedded store (criterion): a JSON
//! claim submitted (202 after the durable commit of the claim, its rows and its
//! edit work item), one claim judged from its SQS message (the member, their
//! PCPs, auths and other claims read, the claim and the member's turn
//! committed), a claim's status read back, and claims-s3's handler on a
//! clearinghouse's one-visit 837 (the object read, its 999 written, the
//! file's record and its claim committed).
//!
//! `cargo bench -p claims --no-default-features --bench claims`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use claims::intake::Verdict;
use criterion::{Criterion, criterion_group, criterion_main};
use mso_testkit::bench;
use mso_testkit::x12::{Spec, professional};
use serde_json::json;
use support::{Env, env, visit};

/// A member's claims are compared with each other when judged, so every this
/// many claims the bench starts on a fresh store, keeping the comparison the
/// size a real member's history has.
const PER_STORE: u64 = 40;

/// The visit on the `i`-th of 40 distinct January-February days (distinct
/// services, so no claim is a duplicate of another).
fn visit_on(i: u64) -> serde_json::Value {
    let day = jiff::civil::date(2026, 1, 5) + jiff::Span::new().days((i % PER_STORE) as i64);
    let mut v = visit();
    v["lines"][0]["service_from"] = json!(day.to_string());
    v
}

/// The visit of [`visit_on`] as a clearinghouse's 837 of one claim, under a
/// key of its own.
fn dropped_on(i: u64) -> (String, Vec<u8>) {
    let day = jiff::civil::date(2026, 1, 5) + jiff::Span::new().days((i % PER_STORE) as i64);
    let date = day.strftime("%Y%m%d").to_string();
    let file = professional(
        100 + i as u32,
        &[Spec::office_visit(&format!("B-{i}"), &date)],
    );
    (format!("inbound/acme/{i}.837"), file.into_bytes())
}

/// [`bench::timed`] on the claims' environment, a fresh one every
/// [`PER_STORE`] runs.
async fn timed(
    iters: u64,
    prepare: impl AsyncFn(&Env, u64) -> String,
    measured: impl AsyncFn(&Env, String),
) -> Duration {
    let fresh = async || env().await.without_role_checks();
    bench::timed(iters, PER_STORE, fresh, prepare, measured).await
}

fn handlers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("claims");
    group.sample_size(30);
    group.bench_function("POST /v1/claims (202, durable commit)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(timed(
                iters,
                async |_, i| i.to_string(),
                async |e, i| {
                    e.submit(&visit_on(i.parse().unwrap())).await;
                },
            ))
        })
    });
    group.bench_function("one claim judged from its queue message", |b| {
        b.iter_custom(|iters| {
            rt.block_on(timed(
                iters,
                async |e, i| e.submit(&visit_on(i)).await,
                async |e, _| assert_eq!(e.drain().await, 1),
            ))
        })
    });
    group.bench_function("GET /v1/claims/{id} (judged claim)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(timed(
                iters,
                async |e, i| {
                    let id = e.submit(&visit_on(i)).await;
                    e.drain().await;
                    id
                },
                async |e, id| {
                    e.get(&id).await;
                },
            ))
        })
    });
    group.bench_function(
        "claims-s3: a one-visit 837 dropped (read, 999, stored)",
        |b| {
            b.iter_custom(|iters| {
                rt.block_on(timed(
                    iters,
                    async |e, i| {
                        let (key, file) = dropped_on(i);
                        e.drop_file(&key, file).await;
                        key
                    },
                    async |e, key| {
                        let report = e.object_created(&key).await;
                        let read = &report.records[0].verdict;
                        assert!(
                            matches!(
                                read,
                                Verdict::Read {
                                    claims: 1,
                                    rejected: 0,
                                    ..
                                }
                            ),
                            "{read:?}"
                        );
                    },
                ))
            })
        },
    );
    group.finish();
}

criterion_group!(benches, handlers);
criterion_main!(benches);
