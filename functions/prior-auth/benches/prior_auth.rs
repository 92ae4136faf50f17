//! Prior-auth figures, printed (a bench binary, not criterion: the sweep needs a
//! store of 100,000 open auths built once).
//!
//! `cargo bench -p prior-auth --no-default-features --bench prior_auth`
//! (env MSO_BENCH_OPEN=100000)
//!
//! - submit: a criteria-met request through the handler, in-process, on the
//!   embedded store (p50/p99 of 2,000 sequential submits);
//! - sweep: one sweeper pass over a store holding MSO_BENCH_OPEN open auths, of
//!   which 1% are post-stabilisation requests past their answer time, 1% approvals
//!   past their last day and 2% overdue for UM;
//! - full queue scan: reading every UM-queue row once (what a sweep does NOT do),
//!   for scale.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use mso_api::FixedClock;
use mso_domain::ids::{OrgId, RecordKind, ReferenceId};
use mso_domain::prior_auth::review::{self, Action, Decision, Reviewer};
use mso_domain::prior_auth::{Actor, Category, PriorAuth, Request, Source, Urgency, rules};
use mso_records::prior_auths::Change;
use mso_store::{Query, keys};
use mso_testkit::{ANA, Call, PCP_NPI, SUNRISE_NPI, SUNRISE_ORG, SmallIpa};
use prior_auth::Deps;
use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1000.0
}

fn deps(ipa: &SmallIpa) -> Deps {
    Deps {
        records: ipa.records.clone(),
        queue: ipa.queue_port(),
        policy: ipa.policy.clone(),
        clock: ipa.clock.clone(),
    }
}

fn main() {
    let open: usize = std::env::var("MSO_BENCH_OPEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        submit_latency().await;
        sweep_time(open).await;
    });
}

async fn submit_latency() {
    let ipa = SmallIpa::new().await;
    let deps = deps(&ipa);
    let body = json!({
        "member_id": ANA.0, "dob": ANA.1,
        "setting": "outpatient", "category": "imaging", "urgency": "routine",
        "service_from": "2026-03-10", "service_to": "2026-04-10",
        "requesting_npi": PCP_NPI, "servicing_npi": SUNRISE_NPI, "place_of_service": "22",
        "diagnoses": ["M54.16"], "lines": [{"code": "72148", "units": 1}],
        "contact": {"name": "Front desk", "phone": "657-555-0199"}
    });
    let mut times = Vec::with_capacity(2000);
    for i in 0..2200 {
        let call = Call::new("POST /v1/prior-auths", "/v1/prior-auths")
            .by(SUNRISE_ORG, "provider_user")
            .header("idempotency-key", &format!("bench-{i}"))
            .json(&body)
            .build();
        let started = Instant::now();
        let resp = prior_auth::handle(&deps, call).await;
        let took = started.elapsed();
        assert_eq!(resp.status(), 201);
        if i >= 200 {
            times.push(took);
        }
    }
    times.sort_unstable();
    println!(
        "submit (criteria met, in-process, embedded store): p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  ({} submits)",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times.last().unwrap().as_secs_f64() * 1000.0,
        times.len()
    );
}

fn request(category: Category, urgency: Urgency) -> Request {
    serde_json::from_value(json!({
        "member_id": ANA.0, "dob": ANA.1, "setting": if category == Category::PostStabilization { "inpatient" } else { "outpatient" },
        "category": category.as_str(), "urgency": urgency.as_str(),
        "urgency_reason": (urgency == Urgency::Urgent).then_some("x"),
        "service_from": "2026-03-02", "service_to": "2026-03-31",
        "requesting_npi": PCP_NPI, "servicing_npi": SUNRISE_NPI, "place_of_service": "22",
        "diagnoses": ["M25.561"], "lines": [{"code": "97110", "modifiers": [], "units": 20}],
        "contact": {"name": "n", "phone": "657-555-0199", "extension": null, "fax": null, "email": null},
        "admitted_at": (category == Category::PostStabilization).then_some("2026-03-02T16:00:00Z")
    }))
    .unwrap()
}

/// Writes `n` auths straight through the records crate, in transactions of a few
/// auths, many at a time (the embedded store commits them in groups).
async fn fill(ipa: &SmallIpa, n: usize, received: Timestamp) {
    let policy = ipa.policy.clone();
    let plan = policy.plans[0].clone();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<mso_store::WriteOp>>();
    let producer = std::thread::spawn(move || {
        let ctx = rules::Context {
            policy: &policy,
            plan: &plan,
            assigned_pcp: None,
            servicing: None,
            member_age: 40,
        };
        let mut batch = Vec::new();
        for i in 0..n {
            let (category, urgency) = match i % 100 {
                0 => (Category::PostStabilization, Urgency::Urgent),
                _ => (Category::Therapy, Urgency::Routine),
            };
            let entropy: [u8; 10] = std::array::from_fn(|k| ((i >> (5 * k)) & 31) as u8);
            let mut auth = PriorAuth::submitted(
                ReferenceId::from_entropy(RecordKind::PriorAuth, &entropy).unwrap(),
                OrgId::parse(SUNRISE_ORG).unwrap(),
                request(category, urgency),
                // 2% received long ago: overdue for UM.
                if i % 50 == 1 {
                    received
                        .checked_sub(SignedDuration::from_hours(24 * 20))
                        .unwrap()
                } else {
                    received
                },
                received,
                Source::Portal,
                &ctx,
                None,
                Actor::system(),
            );
            if i % 100 == 2 {
                // An approval whose last valid day has passed.
                let approve = Decision {
                    action: Action::Approve,
                    lines: vec![],
                    reason_code: None,
                    reason: None,
                    criteria: None,
                    peer_to_peer: None,
                };
                review::decide(
                    &mut auth,
                    &approve,
                    Reviewer::Nurse,
                    Actor::system(),
                    received,
                    &policy,
                    Some("2026-03-05".parse().unwrap()),
                )
                .unwrap();
            }
            let change = Change::created(&auth, received).unwrap();
            batch.extend(change.ops);
            if batch.len() > 80 {
                tx.send(std::mem::take(&mut batch)).unwrap();
            }
        }
        tx.send(batch).unwrap();
    });
    let store = ipa.records.clone();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let (store, rx) = (store.clone(), rx.clone());
            tokio::spawn(async move {
                loop {
                    let next = rx.lock().unwrap().recv();
                    let Ok(ops) = next else { break };
                    store.transact(ops).await.unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    producer.join().unwrap();
}

async fn sweep_time(open: usize) {
    let ipa = SmallIpa::new().await;
    let received: Timestamp = "2026-03-02T17:00:00Z".parse().unwrap();
    let started = Instant::now();
    fill(&ipa, open, received).await;
    println!(
        "filled {open} auths in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut deps = deps(&ipa);
    let now: Timestamp = "2026-03-07T17:00:00Z".parse().unwrap();
    deps.clock = Arc::new(FixedClock::new(now));
    let started = Instant::now();
    let report = prior_auth::sweeper::sweep(&deps, now).await.unwrap();
    let took = started.elapsed();
    println!(
        "sweep over {open} open auths: {:.1} ms (deemed approved {}, expired {}, overdue {}, skipped {}, relayed {})",
        took.as_secs_f64() * 1000.0,
        report.deemed_approved.len(),
        report.expired.len(),
        report.overdue_count,
        report.skipped,
        report.relayed_events
    );
    let started = Instant::now();
    let again = prior_auth::sweeper::sweep(&deps, now).await.unwrap();
    println!(
        "second sweep: {:.1} ms (deemed approved {}, expired {}, overdue {})",
        started.elapsed().as_secs_f64() * 1000.0,
        again.deemed_approved.len(),
        again.expired.len(),
        again.overdue_count
    );
    let started = Instant::now();
    let third = prior_auth::sweeper::sweep(&deps, now).await.unwrap();
    println!(
        "third sweep (nothing left to change): {:.1} ms (overdue {})",
        started.elapsed().as_secs_f64() * 1000.0,
        third.overdue_count
    );
    let started = Instant::now();
    let mut rows = 0;
    let mut cursor = None;
    loop {
        let page = ipa
            .records
            .query(
                Query::primary(keys::UM_QUEUE, "")
                    .limit(1000)
                    .after(cursor.take()),
            )
            .await
            .unwrap();
        rows += page.records.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    println!(
        "full scan of the UM queue ({rows} rows): {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
}
