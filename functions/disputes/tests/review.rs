//! The reviewers' work: the queue, acknowledge, start review, decide; who may;
//! what each step stores and publishes.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn the_queue_shows_open_disputes_earliest_clock_first_with_the_overdue_named() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    e.denied_auth("PA-8K3Q9M").await;
    let first = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    // The second arrives a day later: its acknowledgement is due a day later.
    e.ipa.at("2026-03-03T17:00:00Z");
    let second = e.filed("k-2", &appeal("PA-8K3Q9M")).await;
    // Thursday 5 March: the first's acknowledgement (due end of Wednesday) is late.
    e.ipa.at("2026-03-05T17:00:00Z");
    let queue = |role: &'static str| {
        let call = Call::new("GET /v1/disputes/queue", "/v1/disputes/queue").by(IPA, role);
        e.call(call)
    };
    let resp = queue("dispute_reviewer").await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], first["id"]);
    assert_eq!(items[0]["overdue"], "acknowledgement_overdue");
    assert_eq!(items[1]["id"], second["id"]);
    assert_eq!(items[1]["overdue"], serde_json::Value::Null);

    // Acknowledged, the first waits on its decision (due in May): it moves behind.
    let resp = e
        .step(
            first["id"].as_str().unwrap(),
            "acknowledge",
            "dispute_reviewer",
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v = json(&queue("dispute_reviewer").await);
    assert_eq!(v["items"][0]["id"], second["id"]);
    assert_eq!(v["items"][1]["id"], first["id"]);
    assert_eq!(v["items"][1]["status"], "acknowledged");
    assert_eq!(queue("um_nurse").await.status(), 403);
    let provider =
        Call::new("GET /v1/disputes/queue", "/v1/disputes/queue").by(SUNRISE_ORG, "provider_user");
    assert_eq!(e.call(provider).await.status(), 403);
}

#[tokio::test]
async fn acknowledge_review_and_decide_an_appeal_with_its_second_level() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    e.drain("dispute-events").await;

    e.ipa.at("2026-03-03T17:00:00Z");
    let resp = e
        .step(id, "acknowledge", "dispute_reviewer", &json!({}))
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(v["status"], "acknowledged");
    assert_eq!(instant(&v["acknowledged_at"]), ts("2026-03-03T17:00:00Z"));
    assert_eq!(v["history"][1]["reason"], "Acknowledged on time.");
    // Twice is a conflict, not a second acknowledgement.
    let again = e
        .step(id, "acknowledge", "dispute_reviewer", &json!({}))
        .await;
    assert_eq!(again.status(), 409);

    let resp = e
        .step(id, "start-review", "dispute_reviewer", &json!({}))
        .await;
    assert_eq!(json(&resp)["status"], "in_review");

    e.ipa.at("2026-03-20T17:00:00Z");
    let resp = e
        .step(
            id,
            "decision",
            "dispute_reviewer",
            &decision("overturned", None),
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(v["status"], "decided");
    let det = &v["determination"];
    assert_eq!(det["outcome"], "overturned");
    assert_eq!(det["decided_by"], "dispute_reviewer");
    assert_eq!(
        det["reasons"][0],
        "The clinical notes show the failed home program."
    );
    // 180 days from 20 March 2026 is 16 September, at the member's plan.
    assert_eq!(det["second_level"]["to"], "Golden State Health Plan");
    assert_eq!(det["second_level"]["by"], "2026-09-16");
    assert!(
        det["second_level"]["instructions"]
            .as_str()
            .unwrap()
            .contains("within 180 days (by 2026-09-16)")
    );
    let actions: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["filed", "acknowledged", "review_started", "decided"]
    );

    // Stored as answered.
    let got = json(&e.get(id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(got["determination"]["second_level"]["by"], "2026-09-16");
    // Every step published; an appeal of an auth re-adjudicates no claim.
    let events: Vec<String> = e
        .drain("dispute-events")
        .await
        .into_iter()
        .map(|m| m["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["acknowledged", "review_started", "decided"]);
    assert!(e.drain("claim-readjudication").await.is_empty());
    // The appeal won: the auth is approved, counted as approved after appeal.
    let auth_id = mso_domain::ids::ReferenceId::parse("PA-7K3Q9M").unwrap();
    let auth = mso_records::prior_auths::load(e.ipa.records.as_ref(), &auth_id)
        .await
        .unwrap()
        .unwrap()
        .value
        .0;
    assert_eq!(auth.status.as_str(), "approved");
    assert!(auth.approved_after_appeal);
    assert_eq!(auth.lines[0].authorized_units, 20);
    assert_eq!(auth.history.last().unwrap().action, "approved_on_appeal");
    let auth_events = e.drain("auth-events").await;
    assert_eq!(auth_events.last().unwrap()["action"], "approved_on_appeal");
    // Decided: no more steps, and off the queue.
    let late = e
        .step(
            id,
            "decision",
            "dispute_reviewer",
            &decision("upheld", None),
        )
        .await;
    assert_eq!(late.status(), 409);
    let queue = e
        .call(Call::new("GET /v1/disputes/queue", "/v1/disputes/queue").by(IPA, "dispute_reviewer"))
        .await;
    assert_eq!(json(&queue)["items"], json!([]));
}

#[tokio::test]
async fn an_upheld_appeal_leaves_the_auth_denied() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    let resp = e
        .step(
            id,
            "decision",
            "dispute_reviewer",
            &decision("upheld", None),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let auth_id = mso_domain::ids::ReferenceId::parse("PA-7K3Q9M").unwrap();
    let auth = mso_records::prior_auths::load(e.ipa.records.as_ref(), &auth_id)
        .await
        .unwrap()
        .unwrap()
        .value
        .0;
    assert_eq!(auth.status.as_str(), "denied");
    assert!(!auth.approved_after_appeal);
}

#[tokio::test]
async fn provider_and_other_staff_roles_may_not_decide() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    for role in [
        "provider_user",
        "site_admin",
        "um_nurse",
        "medical_director",
        "claims_examiner",
    ] {
        let resp = e
            .step(id, "decision", role, &decision("overturned", None))
            .await;
        assert_eq!(resp.status(), 403, "{role}");
        let resp = e.step(id, "acknowledge", role, &json!({})).await;
        assert_eq!(resp.status(), 403, "{role}");
    }
    let got = json(&e.get(id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(got["status"], "received");
    assert_eq!(got["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_incomplete_decision_names_every_field_and_changes_nothing() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    let resp = e
        .step(
            id,
            "decision",
            "dispute_reviewer",
            &json!({"outcome": "won", "reasons": [], "amount": "1.234"}),
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 400, "{v}");
    assert_eq!(
        error_fields(&v),
        ["outcome", "amount", "reasons", "determination"]
    );
    // An upheld decision with an amount is inconsistent.
    let resp = e
        .step(
            id,
            "decision",
            "dispute_reviewer",
            &decision("upheld", Some("10.00")),
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 400, "{v}");
    assert_eq!(v["errors"][0]["code"], "not_with_upheld");
    let got = json(&e.get(id, IPA, "dispute_reviewer").await);
    assert_eq!(got["status"], "received");
    assert_eq!(got["determination"], serde_json::Value::Null);
    // Unknown and malformed IDs are simply not found.
    for bad in ["DSP-000000", "PA-7K3Q9M", "nope"] {
        let resp = e
            .step(bad, "acknowledge", "dispute_reviewer", &json!({}))
            .await;
        assert_eq!(resp.status(), 404, "{bad}");
    }
}

#[tokio::test]
async fn a_decision_retried_with_its_key_replays_the_first_answer() {
    let e = env().await;
    e.denied_auth("PA-7K3Q9M").await;
    let filed = e.filed("k-1", &appeal("PA-7K3Q9M")).await;
    let id = filed["id"].as_str().unwrap();
    let call = || {
        Call::new(
            "POST /v1/disputes/{id}/decision",
            &format!("/v1/disputes/{id}/decision"),
        )
        .by(IPA, "dispute_reviewer")
        .header("idempotency-key", "d-1")
        .json(&decision("upheld", None))
    };
    let first = e.call(call()).await;
    assert_eq!(first.status(), 200);
    let again = e.call(call()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(json(&again)["determination"], json(&first)["determination"]);
    let got = json(&e.get(id, IPA, "dispute_reviewer").await);
    assert_eq!(got["history"].as_array().unwrap().len(), 3, "{got}");
}
