//! The sweeper keeps the clocks: deemed approvals, expiries, overdue work, and
//! events a failed request left in the outbox.

mod support;

use std::sync::Arc;
use std::time::Duration;

use prior_auth::sweeper::sweep;
use serde_json::json;
use support::*;

fn post_stabilization() -> serde_json::Value {
    let mut body = mri();
    body["setting"] = json!("inpatient");
    body["category"] = json!("post_stabilization");
    body["urgency"] = json!("urgent");
    body["urgency_reason"] = json!("Stabilized in the ER; admitted for monitoring.");
    body["place_of_service"] = json!("21");
    body["service_from"] = json!("2026-03-02");
    body["service_to"] = json!("2026-03-04");
    body["admitted_at"] = json!("2026-03-02T16:30:00Z");
    body["lines"] = json!([{"code": "99223", "units": 1}]);
    body
}

#[tokio::test]
async fn unanswered_post_stabilisation_is_deemed_approved_after_an_hour() {
    let e = env().await;
    let v = e.filed("k", &post_stabilization()).await;
    let id = v["id"].as_str().unwrap();
    assert_eq!(v["status"], "pended");
    assert_eq!(v["deemed_approval_at"], "2026-03-02T18:05:00Z");
    e.drain("auth-events").await;

    let early = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-02T18:04:59Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(early.deemed_approved.is_empty());
    let report = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-02T18:05:30Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(report.deemed_approved, [id]);
    let after = json(&e.get(id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(after["status"], "approved");
    assert_eq!(after["determination"]["deemed"], true);
    assert_eq!(
        after["history"].as_array().unwrap().last().unwrap()["action"],
        "deemed_approved"
    );
    let events = e.drain("auth-events").await;
    assert_eq!(events[0]["action"], "deemed_approved");
    // Once only.
    let again = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-02T18:10:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(again.deemed_approved.is_empty());
}

#[tokio::test]
async fn a_decision_in_time_stops_the_deemed_approval() {
    let e = env().await;
    let id = e.filed("k", &post_stabilization()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deny = json!({"action": "deny", "reason_code": "c", "reason": "r", "criteria": "MCG", "peer_to_peer": {"name": "Dr. R", "phone": "657-555-0100"}});
    assert_eq!(e.decide(&id, "medical_director", &deny).await.status(), 200);
    let report = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-02T19:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(report.deemed_approved.is_empty());
    assert_eq!(json(&e.get(&id, IPA, "um_nurse").await)["status"], "denied");
}

#[tokio::test]
async fn approvals_expire_after_their_last_day_and_overdue_work_is_counted() {
    let e = env().await;
    let approved = e.filed("k1", &mri()).await;
    assert_eq!(approved["valid_to"], "2026-06-07");
    let pended = e.filed("k2", &therapy()).await;
    // Due 9 March (end of day, Pacific).
    let before = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-10T06:59:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(before.overdue_count, 0);
    let late = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-10T07:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(late.overdue_count, 1);
    assert_eq!(late.overdue, [pended["id"].as_str().unwrap()]);
    e.ipa.at("2026-03-10T07:00:00Z");
    let shown = json(&e.get(pended["id"].as_str().unwrap(), IPA, "um_nurse").await);
    assert_eq!(shown["overdue"], true);

    let still = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-06-08T06:59:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(still.expired.is_empty());
    let gone = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-06-08T07:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(gone.expired, [approved["id"].as_str().unwrap()]);
    let v = json(
        &e.get(
            approved["id"].as_str().unwrap(),
            SUNRISE_ORG,
            "provider_user",
        )
        .await,
    );
    assert_eq!(v["status"], "expired");
}

#[tokio::test]
async fn an_event_the_queue_refused_is_sent_by_the_next_sweep() {
    let mut e = env().await;
    let working = e.deps.queue.clone();
    e.deps.queue = Arc::new(mso_testkit::QueueDown);
    let v = e.filed("k", &mri()).await;
    assert_eq!(
        v["status"], "approved",
        "the change stands while the queue is down"
    );
    let mut ct = mri();
    ct["lines"] = json!([{"code": "70450", "units": 1}]);
    let w = e.filed("k2", &ct).await;
    assert_ne!(w["id"], v["id"]);
    assert!(e.drain("auth-events").await.is_empty());
    e.deps.queue = working;
    let soon = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-02T17:05:10Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        soon.relayed_events, 0,
        "still within its request's grace time"
    );
    let later = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-02T17:06:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    // Both sent, and their rows removed together, as the sweeper's role
    // allows (`BatchWriteItem` on its outbox).
    assert_eq!(later.relayed_events, 2);
    let events = e.drain("auth-events").await;
    let mut relayed: Vec<&str> = events
        .iter()
        .map(|e| e["auth_id"].as_str().unwrap())
        .collect();
    relayed.sort_unstable();
    let mut filed = [v["id"].as_str().unwrap(), w["id"].as_str().unwrap()];
    filed.sort_unstable();
    assert_eq!(relayed, filed);
    let none = sweep(
        &e.deps_of("prior-auth-sweeper"),
        "2026-03-02T17:07:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(none.relayed_events, 0);
}

/// The sweeper's everyday minute, with nothing due: the timers, the overdue
/// count and the outbox are read together, one round trip.
#[tokio::test]
async fn a_sweep_with_nothing_due_is_one_round_trip() {
    let e = env().await;
    let pended = e.filed("k", &therapy()).await;
    let deps = e.deps_of("prior-auth-sweeper");
    let slow = mso_testkit::SlowReads::new(deps.records.clone(), Duration::from_millis(5));
    let deps = prior_auth::Deps {
        records: slow.clone(),
        ..deps
    };
    let report = sweep(&deps, "2026-03-10T07:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(report.overdue, [pended["id"].as_str().unwrap()]);
    assert!(report.expired.is_empty() && report.deemed_approved.is_empty());
    assert_eq!(slow.reads(), 3);
    assert_eq!(slow.reads_in_turn(), 1);
    assert_eq!(slow.writes(), 0);
}

/// The overdue count is read beside the timers; a deemed approval takes its
/// auth off the UM queue, so after one the count is read again.
#[tokio::test]
async fn an_auth_deemed_approved_is_not_counted_overdue() {
    let e = env().await;
    let v = e.filed("k", &post_stabilization()).await;
    let at = "2026-03-02T18:05:30Z".parse().unwrap();
    // Overdue for UM by the time its approval is deemed.
    e.ipa.at("2026-03-02T18:05:30Z");
    assert_eq!(
        json(&e.get(v["id"].as_str().unwrap(), IPA, "um_nurse").await)["overdue"],
        true
    );
    let report = sweep(&e.deps_of("prior-auth-sweeper"), at).await.unwrap();
    assert_eq!(report.deemed_approved, [v["id"].as_str().unwrap()]);
    assert_eq!(report.overdue_count, 0);
    assert!(report.overdue.is_empty());
}
