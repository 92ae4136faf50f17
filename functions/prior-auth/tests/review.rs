//! UM review: who may decide what, the history, the queue, the events.

mod support;

use serde_json::{Value, json};
use support::*;

fn denial() -> Value {
    json!({
        "action": "deny",
        "reason_code": "not_medically_necessary",
        "reason": "Six weeks of conservative therapy are not documented.",
        "criteria": "MCG A-0140",
        "peer_to_peer": {"name": "Dr. Reyes", "phone": "657-555-0100"}
    })
}

async fn pended(e: &Env) -> String {
    let v = e.filed("k-pended", &therapy()).await;
    assert_eq!(v["status"], "pended");
    e.drain("auth-events").await;
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_nurse_approves_and_the_queue_history_and_events_follow() {
    let e = env().await;
    let id = pended(&e).await;
    e.ipa.at("2026-03-03T18:00:00Z");
    let resp = e
        .decide(&id, "um_nurse", &json!({"action": "approve"}))
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(v["status"], "approved");
    assert_eq!(v["lines"][0]["authorized_units"], 20);
    assert_eq!(v["valid_from"], "2026-03-10");
    assert_eq!(v["determination"]["decided_by"], "um_nurse");
    let history: Vec<(&str, &str)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        history,
        [("submitted", "provider_user"), ("approved", "um_nurse")]
    );
    let queue = json(
        &e.call(Call::new("GET /v1/um/queue", "/v1/um/queue").by(IPA, "um_nurse"))
            .await,
    );
    assert_eq!(queue["items"], json!([]));
    let events = e.drain("auth-events").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0]["from"].as_str(), events[0]["to"].as_str()),
        (Some("pended"), Some("approved"))
    );
    // The provider sees it.
    let mine = json(&e.get(&id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(mine["status"], "approved");
}

#[tokio::test]
async fn only_the_medical_director_denies_and_the_provider_sees_why() {
    let e = env().await;
    let id = pended(&e).await;
    assert_eq!(e.decide(&id, "um_nurse", &denial()).await.status(), 403);
    // A nurse cannot deny a line by authorising none of it either.
    let zero = json!({"action": "partially_approve", "lines": [{"line": 1, "authorized_units": 0}], "reason": "x"});
    assert_eq!(e.decide(&id, "um_nurse", &zero).await.status(), 403);
    let incomplete = e
        .decide(&id, "medical_director", &json!({"action": "deny"}))
        .await;
    assert_eq!(incomplete.status(), 400);
    assert_eq!(
        error_fields(&json(&incomplete)),
        ["reason_code", "reason", "criteria", "peer_to_peer"]
    );
    let resp = e.decide(&id, "medical_director", &denial()).await;
    assert_eq!(resp.status(), 200);
    let v = json(&e.get(&id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(v["status"], "denied");
    assert_eq!(v["determination"]["decided_by"], "medical_director");
    assert_eq!(v["determination"]["criteria"], "MCG A-0140");
    assert_eq!(v["determination"]["peer_to_peer"]["phone"], "657-555-0100");
    assert_eq!(v["lines"][0]["authorized_units"], 0);
}

#[tokio::test]
async fn decided_or_cancelled_auths_are_409_and_providers_cannot_decide() {
    let e = env().await;
    let id = pended(&e).await;
    let as_provider = e
        .call(
            Call::new(
                "POST /v1/prior-auths/{id}/decision",
                &format!("/v1/prior-auths/{id}/decision"),
            )
            .by(SUNRISE_ORG, "provider_user")
            .json(&json!({"action": "approve"})),
        )
        .await;
    assert_eq!(as_provider.status(), 403);
    assert_eq!(
        e.decide(&id, "um_nurse", &json!({"action": "approve"}))
            .await
            .status(),
        200
    );
    let again = e
        .decide(&id, "um_nurse", &json!({"action": "approve"}))
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(json(&again)["type"], "urn:mso:problem:auth-not-open");

    let mut other = therapy();
    other["lines"][0]["units"] = json!(24);
    let v = e.filed("k-other", &other).await;
    let other_id = v["id"].as_str().unwrap();
    let cancel = e
        .call(
            Call::new(
                "POST /v1/prior-auths/{id}/cancel",
                &format!("/v1/prior-auths/{other_id}/cancel"),
            )
            .by(SUNRISE_ORG, "provider_user")
            .json(&json!({"reason": "Patient moved away."})),
        )
        .await;
    assert_eq!(cancel.status(), 200);
    assert_eq!(json(&cancel)["status"], "cancelled");
    assert_eq!(
        e.decide(other_id, "medical_director", &denial())
            .await
            .status(),
        409
    );
}

#[tokio::test]
async fn a_partial_approval_and_a_downgrade_with_its_new_clock() {
    let e = env().await;
    let mut urgent = therapy();
    urgent["urgency"] = json!("urgent");
    urgent["urgency_reason"] = json!("Post-operative, risk of losing function.");
    let v = e.filed("k-u", &urgent).await;
    let id = v["id"].as_str().unwrap();
    assert_eq!(v["decision_due"], "2026-03-05T17:05:00Z", "72 hours");
    let down = e
        .decide(
            id,
            "um_nurse",
            &json!({"action": "downgrade", "reason": "Stable; standard timeframe is safe."}),
        )
        .await;
    let d = json(&down);
    assert_eq!(down.status(), 200, "{d}");
    assert_eq!(d["urgency"], "routine");
    assert_eq!(
        d["decision_due"], "2026-03-10T06:59:59.999999999Z",
        "recomputed from receipt"
    );
    assert_eq!(d["history"][1]["action"], "downgraded");
    assert_eq!(
        d["history"][1]["reason"],
        "Stable; standard timeframe is safe."
    );
    let partial = e
        .decide(id, "um_nurse", &json!({"action": "partially_approve", "lines": [{"line": 1, "authorized_units": 12}], "reason": "12 visits, then re-evaluate."}))
        .await;
    let p = json(&partial);
    assert_eq!(p["status"], "partially_approved");
    assert_eq!(p["lines"][0]["authorized_units"], 12);
    assert_eq!(
        p["lines"][0]["reason"],
        "Partially approved after review: 12 units of 20 requested."
    );
}

#[tokio::test]
async fn one_idempotency_key_on_two_auths_decides_both() {
    let e = env().await;
    let a = pended(&e).await;
    let mut second = therapy();
    second["lines"][0]["units"] = json!(24);
    let b = e.filed("k-b", &second).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let decide = |id: &str| {
        Call::new(
            "POST /v1/prior-auths/{id}/decision",
            &format!("/v1/prior-auths/{id}/decision"),
        )
        .by(IPA, "um_nurse")
        .header("idempotency-key", "approve-1")
        .json(&json!({"action": "approve"}))
    };
    assert_eq!(e.call(decide(&a)).await.status(), 200);
    let replay = e.call(decide(&a)).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let on_b = e.call(decide(&b)).await;
    assert_eq!(on_b.status(), 200);
    assert!(
        on_b.headers().get("idempotent-replayed").is_none(),
        "B was decided, not answered with A"
    );
    assert_eq!(
        json(&e.get(&b, IPA, "um_nurse").await)["status"],
        "approved"
    );
}

#[tokio::test]
async fn bad_decisions_name_their_fields() {
    let e = env().await;
    let id = pended(&e).await;
    let resp = e
        .decide(&id, "um_nurse", &json!({"action": "approve", "lines": [{"line": 7, "authorized_units": 1}], "extra": 1}))
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(error_fields(&json(&resp)), ["extra"]);
    let resp = e
        .decide(
            &id,
            "um_nurse",
            &json!({"action": "approve", "lines": [{"line": 7, "authorized_units": 1}]}),
        )
        .await;
    assert_eq!(error_fields(&json(&resp)), ["lines[0].line"]);
    let resp = e.decide(&id, "um_nurse", &json!({"action": "maybe"})).await;
    assert_eq!(error_fields(&json(&resp)), ["action"]);
    assert_eq!(
        e.decide("PA-ZZZZZZ", "um_nurse", &json!({"action": "approve"}))
            .await
            .status(),
        404
    );
}
