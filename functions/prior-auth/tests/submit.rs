//! Submitting prior auths: instant dispositions, bad input, idempotency.

mod support;

use mso_store::Query;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn a_criteria_met_request_is_approved_in_the_same_second() {
    let e = env().await;
    let v = e.filed("k-1", &mri()).await;
    let id = v["id"].as_str().unwrap();
    assert!(
        id.len() == 9 && id.starts_with("PA-"),
        "short readable reference: {id}"
    );
    assert_eq!(v["status"], "approved");
    assert_eq!(v["received_at"], NOW);
    assert_eq!(v["valid_from"], "2026-03-10");
    assert_eq!(
        v["valid_to"], "2026-06-07",
        "90 days from the first date of service"
    );
    let line = &v["lines"][0];
    assert_eq!(line["line"], 1);
    assert_eq!(line["code"], "72148");
    assert_eq!(line["requested_units"], 1);
    assert_eq!(line["authorized_units"], 1);
    assert_eq!(line["disposition"], "criteria_met");
    assert_eq!(line["criteria_id"], "mri-lumbar-radiculopathy");
    assert_eq!(v["determination"]["decided_by"], "system");
    assert_eq!(v["history"][0]["action"], "submitted");

    // Stored, readable, audited and published.
    let again = json(&e.get(id, SUNRISE_ORG, "provider_user").await);
    assert_eq!(again["status"], "approved");
    let events = e.drain("auth-events").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["auth_id"], id);
    assert_eq!(events[0]["to"], "approved");
    assert_eq!(events[0]["action"], "submitted");
    assert!(
        events[0].get("member_id").is_none(),
        "no PHI on the queue: {}",
        events[0]
    );
    let audit = e
        .ipa
        .records
        .query(Query::primary("AUDIT#2026-03-02", ""))
        .await
        .unwrap();
    let actions: Vec<String> = audit
        .records
        .iter()
        .map(|r| {
            r.body.to_value().unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(actions, ["prior_auth.submit", "prior_auth.read"]);
}

/// The key's lease (a write), the probing guard's count and the directory's
/// records (the member and the requesting and servicing providers, one read)
/// at once, then the member's PCP: three reads in two turns, where there were
/// five one after another (the directory's records one by one), then three.
#[tokio::test]
async fn independent_reads_are_made_at_once() {
    let mut e = env().await;
    let slow = SlowReads::new(e.ipa.records.clone(), std::time::Duration::from_millis(5));
    e.deps.records = slow.clone();
    let v = e.filed("k-at-once", &mri()).await;
    assert_eq!(v["status"], "approved");
    assert_eq!(slow.most_at_once(), 2);
    assert_eq!(slow.reads(), 3);
    assert_eq!(slow.reads_in_turn(), 2);
}

#[tokio::test]
async fn a_request_the_criteria_do_not_cover_is_pended_with_its_clock() {
    let e = env().await;
    let v = e.filed("k-1", &therapy()).await;
    assert_eq!(v["status"], "pended");
    // Received Monday 2 March 09:05 Pacific: 5 working days -> Monday 9 March.
    assert_eq!(v["decision_due"], "2026-03-10T06:59:59.999999999Z");
    assert_eq!(v["overdue"], false);
    let line = &v["lines"][0];
    assert_eq!(line["disposition"], "review_required");
    assert_eq!(line["authorized_units"], 0);
    assert!(
        line["reason"]
            .as_str()
            .unwrap()
            .contains("allow at most 12 units, 20 were requested"),
        "{line}"
    );
    assert_eq!(v["valid_to"], Value::Null);

    let queue = json(
        &e.call(Call::new("GET /v1/um/queue", "/v1/um/queue").by(IPA, "um_nurse"))
            .await,
    );
    assert_eq!(queue["items"][0]["id"], v["id"]);
    assert_eq!(queue["items"][0]["status"], "pended");
}

#[tokio::test]
async fn lines_that_need_no_auth_say_so_and_carve_outs_name_the_plan() {
    let e = env().await;
    let mut body = mri();
    body["lines"] = json!([
        {"code": "71046", "units": 1},
        {"code": "90837", "units": 4}
    ]);
    let v = e.filed("k", &body).await;
    assert_eq!(v["status"], "not_required");
    assert_eq!(v["lines"][0]["disposition"], "not_required");
    assert_eq!(
        v["lines"][0]["reason"],
        "71046 is not on Sunrise Physicians IPA's prior-authorization list: no authorization is needed; do not submit it."
    );
    assert_eq!(v["lines"][1]["disposition"], "health_plan_authorizes");
    let reason = v["lines"][1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("Golden State Health Plan authorizes 90837: call 800-555-0110"),
        "{reason}"
    );
    // Kept as proof, with its reference ID.
    assert_eq!(
        e.get(v["id"].as_str().unwrap(), SUNRISE_ORG, "provider_user")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let e = env().await;
    let body = json!({
        "member_id": "", "dob": "1984-02-30", "setting": "outside", "category": "imaging",
        "urgency": "urgent", "service_from": "2026-03-10", "service_to": "2026-03-01",
        "requesting_npi": "1234567890", "servicing_npi": SUNRISE_NPI, "place_of_service": "99x",
        "diagnoses": ["M5"], "lines": [{"code": "7214", "units": 0}, {"code": "72148", "units": 1, "unit": 2}],
        "contact": {"name": "", "phone": "call me"},
        "memberId": "typo"
    });
    // No Idempotency-Key either.
    let resp = e
        .call(
            Call::new("POST /v1/prior-auths", "/v1/prior-auths")
                .by(SUNRISE_ORG, "provider_user")
                .json(&body),
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let v = json(&resp);
    assert_eq!(
        error_fields(&v),
        [
            "Idempotency-Key",
            "member_id",
            "dob",
            "setting",
            "requesting_npi",
            "place_of_service",
            "diagnoses[0]",
            "lines[0].code",
            "lines[0].units",
            "lines[1].unit",
            "contact.name",
            "contact.phone",
            "memberId"
        ]
    );
    // Once every field reads, the rules across fields.
    let mut urgent = mri();
    urgent["urgency"] = json!("urgent");
    urgent["service_to"] = json!("2026-03-01");
    let v = json(&e.submit("k-2", &urgent).await);
    assert_eq!(error_fields(&v), ["service_to", "urgency_reason"]);
    // Nothing was stored.
    let list = json(
        &e.call(
            Call::new("GET /v1/prior-auths", "/v1/prior-auths").by(SUNRISE_ORG, "provider_user"),
        )
        .await,
    );
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn unknown_members_wrong_birth_dates_and_ineligible_dates_are_422() {
    let e = env().await;
    let mut unknown = mri();
    unknown["member_id"] = json!("NOSUCH1");
    let mut wrong_dob = mri();
    wrong_dob["dob"] = json!("1984-03-16");
    let (a, b) = (
        e.submit("k-1", &unknown).await,
        e.submit("k-2", &wrong_dob).await,
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (422, 422));
    let (a, b) = (json(&a), json(&b));
    assert_eq!(a["errors"][0]["code"], "member_not_found");
    assert_eq!(
        a, b,
        "a wrong date of birth reads exactly like an unknown member"
    );

    let mut termed = mri();
    termed["member_id"] = json!(ROSA.0);
    termed["dob"] = json!(ROSA.1);
    let v = json(&e.submit("k-3", &termed).await);
    assert_eq!(v["errors"][0]["field"], "service_from");
    assert_eq!(v["errors"][0]["code"], "terminated");
    assert_eq!(
        v["errors"][0]["message"],
        "Coverage terminated on 2026-01-31."
    );
    let body = v.to_string();
    assert!(
        !body.contains("Rosa") && !body.contains("GSHP-MA"),
        "{body}"
    );

    // Eligible on the first date but not the last.
    let mut future = mri();
    future["member_id"] = json!(LENA.0);
    future["dob"] = json!(LENA.1);
    future["service_from"] = json!("2026-05-20");
    future["service_to"] = json!("2026-06-10");
    let v = json(&e.submit("k-4", &future).await);
    assert_eq!(v["errors"][0]["code"], "not_yet_effective");
}

#[tokio::test]
async fn only_providers_submit_and_only_for_their_own_npis() {
    let e = env().await;
    let mut other_npi = mri();
    other_npi["requesting_npi"] = json!(HARBOR_NPI);
    let resp = e.submit("k", &other_npi).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(json(&resp)["errors"][0]["field"], "requesting_npi");
    for (org, role) in [
        (IPA, "um_nurse"),
        (SUNRISE_ORG, "intake_clerk"),
        (IPA, "provider_user"),
    ] {
        let resp = e
            .call(
                Call::new("POST /v1/prior-auths", "/v1/prior-auths")
                    .by(org, role)
                    .header("idempotency-key", "k")
                    .json(&mri()),
            )
            .await;
        assert_eq!(resp.status(), 403, "{org} {role}");
    }
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_answer() {
    let e = env().await;
    let first = e.filed("same", &mri()).await;
    let again = e.submit("same", &mri()).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json(&again)["id"], first["id"]);
    let mut other = mri();
    other["lines"][0]["units"] = json!(2);
    assert_eq!(e.submit("same", &other).await.status(), 422);
    // A refused request is not saved under its key: fixed, it goes through.
    let mut bad = mri();
    bad["dob"] = json!("1984-03-16");
    assert_eq!(e.submit("retry-me", &bad).await.status(), 422);
    assert_eq!(e.submit("retry-me", &mri()).await.status(), 201);
}

#[tokio::test]
async fn concurrent_duplicates_file_one_auth() {
    let e = std::sync::Arc::new(env().await);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let e = e.clone();
            tokio::spawn(async move { e.submit("dup", &mri()).await.status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let list = json(
        &e.call(
            Call::new("GET /v1/prior-auths", "/v1/prior-auths").by(SUNRISE_ORG, "provider_user"),
        )
        .await,
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test]
async fn an_inpatient_notification_past_24_hours_is_flagged_late() {
    let e = env().await;
    let mut body = mri();
    body["setting"] = json!("inpatient");
    body["category"] = json!("inpatient_notification");
    body["place_of_service"] = json!("21");
    body["service_from"] = json!("2026-03-01");
    body["admitted_at"] = json!("2026-02-28T20:00:00Z");
    let v = e.filed("k", &body).await;
    assert_eq!(v["status"], "pended");
    assert_eq!(
        v["late_notification"],
        "Late notification: received 45 hours after the admission; notifications are due within 24 hours."
    );
    assert_eq!(v["history"][1]["action"], "flagged_late");
}
