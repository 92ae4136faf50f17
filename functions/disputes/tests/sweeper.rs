//! The sweeper: overdue clocks flagged once each (history and event), decided
//! disputes closed when their second-level window ends, stuck events relayed.

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;

#[tokio::test]
async fn missed_clocks_are_flagged_once_each_in_the_history_and_on_the_queue() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap().to_string();
    e.drain("dispute-events").await;

    // Just before the acknowledgement is due: nothing.
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2026-03-05T07:59:00Z"))
        .await
        .unwrap();
    assert!(r.flagged.is_empty());
    assert_eq!(r.overdue_count, 0);
    // Just after: flagged, counted, listed.
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2026-03-05T08:01:00Z"))
        .await
        .unwrap();
    assert_eq!(r.flagged, vec![id.clone()]);
    assert_eq!((r.overdue_count, r.overdue.clone()), (1, vec![id.clone()]));
    // Once only.
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2026-03-05T09:00:00Z"))
        .await
        .unwrap();
    assert!(r.flagged.is_empty());
    assert_eq!(r.overdue_count, 1);
    let events = e.drain("dispute-events").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], "acknowledgement_overdue");

    let got = json(&e.get(&id, IPA, "dispute_reviewer").await);
    let last = &got["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "acknowledgement_overdue");
    assert_eq!(last["by"], "system");
    assert_eq!(got["status"], "received");

    // Acknowledged late, then nobody decides: the decision is flagged in May.
    e.ipa.at("2026-03-06T17:00:00Z");
    e.step(&id, "acknowledge", "dispute_reviewer", &json!({}))
        .await;
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2026-05-05T07:00:00Z"))
        .await
        .unwrap();
    assert_eq!(r.flagged, vec![id.clone()]);
    e.ipa.at("2026-05-05T07:00:00Z");
    let got = json(&e.get(&id, IPA, "dispute_reviewer").await);
    assert_eq!(
        got["history"].as_array().unwrap().last().unwrap()["action"],
        "decision_overdue"
    );
    assert_eq!(got["overdue"], "decision_overdue");
}

#[tokio::test]
async fn a_decided_dispute_closes_when_its_second_level_window_ends() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap().to_string();
    e.ipa.at("2026-03-20T17:00:00Z");
    e.step(
        &id,
        "decision",
        "dispute_reviewer",
        &decision("upheld", None),
    )
    .await;
    // Second level by 16 September 2026 (Pacific): still decided that evening.
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2026-09-17T06:59:00Z"))
        .await
        .unwrap();
    assert!(r.closed.is_empty());
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2026-09-17T07:00:00Z"))
        .await
        .unwrap();
    assert_eq!(r.closed, vec![id.clone()]);
    let got = json(&e.get(&id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(got["status"], "closed");
    let closed = json(
        &e.call(
            Call::new("GET /v1/disputes", "/v1/disputes")
                .query("status=closed")
                .by(SUNRISE_ORG, "provider_user"),
        )
        .await,
    );
    assert_eq!(closed["items"][0]["id"], id.as_str());
    // Nothing is left for the sweeper.
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2027-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(r, disputes::sweeper::SweepReport::default());
}

#[tokio::test]
async fn events_a_request_failed_to_send_are_relayed() {
    use std::sync::Arc;

    let mut e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    e.drain("dispute-events").await;
    let up = e.deps.queue.clone();
    e.deps.queue = Arc::new(mso_testkit::QueueDown);
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    assert!(
        e.drain("dispute-events").await.is_empty(),
        "the send failed"
    );
    e.deps.queue = up;
    let r = disputes::sweeper::sweep(&e.deps_of("disputes-sweeper"), ts("2026-03-02T17:10:00Z"))
        .await
        .unwrap();
    assert_eq!(r.relayed_events, 1);
    let events = e.drain("dispute-events").await;
    assert_eq!(events[0]["dispute_id"], filed["id"]);
}

/// The sweeper's everyday minute, nothing due: the timers, the overdue count
/// and both outboxes are read together, one round trip.
#[tokio::test]
async fn a_sweep_with_nothing_due_is_one_round_trip() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let deps = e.deps_of("disputes-sweeper");
    let flagged = disputes::sweeper::sweep(&deps, ts("2026-03-05T08:01:00Z"))
        .await
        .unwrap();
    assert_eq!(flagged.flagged, vec![id.clone()]);

    let slow = mso_testkit::SlowReads::new(deps.records.clone(), Duration::from_millis(5));
    let deps = disputes::Deps {
        records: slow.clone(),
        ..deps
    };
    let r = disputes::sweeper::sweep(&deps, ts("2026-03-05T09:00:00Z"))
        .await
        .unwrap();
    assert!(r.flagged.is_empty() && r.closed.is_empty());
    assert_eq!((r.overdue_count, r.overdue), (1, vec![id]));
    assert_eq!(slow.reads(), 4);
    assert_eq!(slow.reads_in_turn(), 1);
    assert_eq!(slow.writes(), 0);
}
