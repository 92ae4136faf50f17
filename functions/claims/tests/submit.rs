//! JSON claims: what a portal user sees from `POST /v1/claims` to the claim's
//! final status, on the embedded store.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn a_clean_claim_is_received_then_accepted_on_the_payment_clock() {
    let e = env().await;
    e.ipa.at("2026-03-23T17:00:00Z");
    let resp = e
        .post_as(SUNRISE_ORG, "provider_user", "k1", &visit())
        .await;
    assert_eq!(resp.status(), 202);
    let v = json(&resp);
    assert_eq!(v["status"], "received");
    assert!(v["id"].as_str().unwrap().starts_with("CLM-"));
    // Received Monday 23 March 2026: the 44th working day after is Friday 22
    // May; Memorial Day (25 May) is a Sunrise holiday, so the 45th is 26 May.
    assert_eq!(v["payment"]["due"], "2026-05-26");
    assert_eq!(v["payment"]["working_days"], 45);
    assert_eq!(e.drain().await, 1);
    let claim = e.get(v["id"].as_str().unwrap()).await;
    assert_eq!(claim["status"], "accepted", "{claim}");
    assert_eq!(claim["edits"], json!([]));
    assert_eq!(claim["payment"]["due"], "2026-05-26");
    let actions: Vec<&str> = claim["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["received", "accepted"]);
}

#[tokio::test]
async fn every_bad_field_is_named_at_once_and_nothing_is_stored() {
    let e = env().await;
    let mut bad = visit();
    bad["billing_provider"]["npi"] = json!("1234567890");
    bad["member_id"] = json!(null);
    bad["diagnoses"] = json!(["J06.9", "not-a-code"]);
    bad["lines"][0]["charge"] = json!(125.5);
    bad["lines"][0]["code"] = json!("9921");
    bad["lines"][0]["diagnosis_pointers"] = json!([3]);
    bad["memberId"] = json!("typo");
    let resp = e
        .call(
            Call::new("POST /v1/claims", "/v1/claims")
                .by(SUNRISE_ORG, "provider_user")
                .json(&bad),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let v = json(&resp);
    assert_eq!(
        error_fields(&v),
        [
            "Idempotency-Key",
            "member_id",
            "lines[0].charge",
            "memberId",
            "billing_provider.npi",
            "diagnoses[1]",
            "lines[0].code",
            "lines[0].diagnosis_pointers[0]",
        ]
    );
    let charge = &v["errors"][2]["message"];
    assert!(
        charge
            .as_str()
            .unwrap()
            .contains("never a floating-point number")
    );
    assert!(e.all_claims().await.is_empty());
}

#[tokio::test]
async fn the_billing_or_rendering_provider_must_be_the_callers() {
    let e = env().await;
    let resp = e.post_as(HARBOR_ORG, "provider_user", "k1", &visit()).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(error_fields(&json(&resp)), ["billing_provider.npi"]);
    // Billed by another practice, rendered by one of ours: ours to bill.
    let mut v = visit();
    v["billing_provider"]["npi"] = json!(HARBOR_NPI);
    v["rendering_npi"] = json!(SUNRISE_NPI);
    assert_eq!(
        e.post_as(SUNRISE_ORG, "provider_user", "k2", &v)
            .await
            .status(),
        202
    );
    // IPA staff do not bill.
    assert_eq!(
        e.post_as(IPA, "claims_examiner", "k3", &visit())
            .await
            .status(),
        403
    );
}

/// Every provider a claim names (billing, rendering, lines') is one read, made
/// with the key's lease: a claim whose first NPI is not ours costs no second
/// round trip.
#[tokio::test]
async fn the_providers_a_claim_names_are_one_read() {
    let mut e = env().await;
    let slow = SlowReads::new(e.deps.records.clone(), std::time::Duration::from_millis(5));
    e.deps.records = slow.clone();
    let mut v = visit();
    v["billing_provider"]["npi"] = json!(HARBOR_NPI);
    v["rendering_npi"] = json!(SUNRISE_NPI);
    let resp = e
        .post_as(SUNRISE_ORG, "provider_user", "k-one-read", &v)
        .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(slow.reads(), 1);
}

#[tokio::test]
async fn retries_with_the_same_key_are_one_claim() {
    let e = std::sync::Arc::new(env().await);
    let first = json(
        &e.post_as(SUNRISE_ORG, "provider_user", "same", &visit())
            .await,
    );
    let again = json(
        &e.post_as(SUNRISE_ORG, "provider_user", "same", &visit())
            .await,
    );
    assert_eq!(first["id"], again["id"]);
    let mut other = visit();
    other["lines"][0]["charge"] = json!("130.00");
    let resp = e
        .post_as(SUNRISE_ORG, "provider_user", "same", &other)
        .await;
    assert_eq!(resp.status(), 422);
    // Sixteen concurrent sends of one key: one claim.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let e = e.clone();
        let other = other.clone();
        tasks.push(tokio::spawn(async move {
            e.post_as(SUNRISE_ORG, "provider_user", "burst", &other)
                .await
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert!([202, 409].contains(&t.await.unwrap()));
    }
    assert_eq!(e.all_claims().await.len(), 2);
}

#[tokio::test]
async fn another_organisation_sees_nothing_and_staff_see_everything() {
    let e = env().await;
    let id = e.submit(&visit()).await;
    e.drain().await;
    assert_eq!(
        e.get_as(&id, HARBOR_ORG, "provider_user").await.status(),
        404
    );
    assert_eq!(
        e.get_as("CLM-0000000000", SUNRISE_ORG, "provider_user")
            .await
            .status(),
        404
    );
    assert_eq!(e.get_as(&id, IPA, "claims_examiner").await.status(), 200);
    assert_eq!(e.get_as(&id, IPA, "um_nurse").await.status(), 403);
    let theirs = e.list("", HARBOR_ORG, "provider_user").await;
    assert_eq!(theirs["items"], json!([]));
    let ours = e
        .list("status=accepted", SUNRISE_ORG, "provider_user")
        .await;
    assert_eq!(ours["items"][0]["id"].as_str(), Some(id.as_str()));
    assert!(ours["items"][0].get("services").is_none());
    let none = e
        .list("status=rejected", SUNRISE_ORG, "provider_user")
        .await;
    assert_eq!(none["items"], json!([]));
    let by_member = e
        .list(
            &format!("member_id={}", ANA.0),
            SUNRISE_ORG,
            "provider_user",
        )
        .await;
    assert_eq!(by_member["items"].as_array().unwrap().len(), 1);
    let resp = e
        .call(
            Call::new("GET /v1/claims", "/v1/claims")
                .query("status=paid&from=2026-13-01")
                .by(SUNRISE_ORG, "provider_user"),
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(error_fields(&json(&resp)), ["status", "from"]);
}

#[tokio::test]
async fn a_service_on_the_pa_list_needs_an_auth_that_covers_it() {
    let e = env().await;
    // The fixture auth covers one unit of 72148 from 10 March.
    let claim = e.judged(&mri()).await;
    assert_eq!(claim["status"], "accepted", "{claim}");
    // Before the auth's first day: no auth covers it.
    let mut early = mri();
    early["lines"][0]["service_from"] = json!("2026-03-01");
    early["patient_control_number"] = json!("ACCT-1002");
    let claim = e.judged(&early).await;
    assert_eq!(claim["status"], "rejected");
    assert_eq!(edit_codes(&claim), ["prior_auth_missing"]);
    assert_eq!(claim["edits"][0]["line"], 1);
    assert!(
        claim["payment"].is_null(),
        "a rejected claim is not payable"
    );
    // Naming the auth of another member's record changes nothing.
    let mut named = early.clone();
    named["prior_auth_id"] = json!("PA-ZZZZZZ");
    let claim = e.judged(&named).await;
    assert!(
        claim["edits"][0]["message"]
            .as_str()
            .unwrap()
            .contains("PA-ZZZZZZ does not authorise it")
    );
}

#[tokio::test]
async fn units_beyond_the_auth_wait_for_an_examiner() {
    let e = env().await;
    let mut two = mri();
    two["lines"][0]["units"] = json!(2);
    two["lines"][0]["charge"] = json!(250_000);
    let claim = e.judged(&two).await;
    assert_eq!(claim["status"], "pended");
    assert_eq!(edit_codes(&claim), ["prior_auth_units_exceeded"]);
    let id = claim["id"].as_str().unwrap();
    // Pended claims are the examiner's work list.
    let queue = e.list("status=pended", IPA, "claims_examiner").await;
    assert_eq!(queue["items"][0]["id"].as_str(), Some(id));
    let decision = json!({"action": "accept", "reason": "Second view authorised by phone"});
    assert_eq!(
        e.review(id, SUNRISE_ORG, "provider_user", &decision)
            .await
            .status(),
        403
    );
    let bad = e
        .review(id, IPA, "claims_examiner", &json!({"action": "pay"}))
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(error_fields(&json(&bad)), ["action", "reason"]);
    let resp = e.review(id, IPA, "claims_examiner", &decision).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json(&resp)["status"], "accepted");
    let again = e.review(id, IPA, "claims_examiner", &decision).await;
    assert_eq!(again.status(), 409);
    let claim = e.get(id).await;
    let last = claim["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "examiner_accepted");
    assert_eq!(last["by"], "claims_examiner");
}

#[tokio::test]
async fn late_claims_are_refused_with_the_deadline_they_missed() {
    let e = env().await;
    let mut old = visit();
    old["lines"][0]["service_from"] = json!("2025-03-01");
    let claim = e.judged(&old).await;
    assert_eq!(edit_codes(&claim), ["timely_filing"]);
    let message = claim["edits"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("within 365 days, by 2026-03-01"),
        "{message}"
    );
}

#[tokio::test]
async fn eligibility_is_judged_on_each_date_of_service() {
    let e = env().await;
    // Rosa's coverage ended on 31 January 2026.
    let mut rosa = visit();
    rosa["member_id"] = json!(ROSA.0);
    rosa["dob"] = json!(ROSA.1);
    let claim = e.judged(&rosa).await;
    assert_eq!(edit_codes(&claim), ["member_not_eligible"]);
    assert_eq!(
        claim["edits"][0]["message"],
        "Line 1: Coverage terminated on 2026-01-31."
    );
    // A wrong date of birth is no member at all (and says nothing more).
    let mut wrong = visit();
    wrong["dob"] = json!("1984-03-16");
    let claim = e.judged(&wrong).await;
    assert_eq!(edit_codes(&claim), ["member_not_found"]);
    assert!(
        !claim["edits"][0]["message"]
            .as_str()
            .unwrap()
            .contains("1984")
    );
}

#[tokio::test]
async fn a_carved_out_service_is_billed_to_the_plan() {
    let e = env().await;
    let mut eye = visit();
    eye["lines"][0]["code"] = json!("92004");
    let claim = e.judged(&eye).await;
    assert_eq!(edit_codes(&claim), ["carved_out"]);
    let message = claim["edits"][0]["message"].as_str().unwrap();
    assert!(message.contains("Vision Service Plan"), "{message}");
}

#[tokio::test]
async fn the_same_service_twice_is_a_duplicate_and_a_close_match_a_suspect() {
    let e = env().await;
    let first = e.judged(&visit()).await;
    assert_eq!(first["status"], "accepted");
    let second = e.judged(&visit()).await;
    assert_eq!(second["status"], "rejected");
    assert_eq!(edit_codes(&second), ["duplicate"]);
    assert!(
        second["edits"][0]["message"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap())
    );
    let mut close = visit();
    close["lines"][0]["charge"] = json!("150.00");
    let third = e.judged(&close).await;
    assert_eq!(third["status"], "pended");
    assert_eq!(edit_codes(&third), ["suspect_duplicate"]);
}

#[tokio::test]
async fn identical_claims_judged_at_once_are_one_accepted_one_duplicate() {
    let e = env().await;
    let a = e.submit(&visit()).await;
    let b = e.submit(&visit()).await;
    // Both judged concurrently: the live-claim guard lets only one through.
    let (ida, idb) = (
        mso_domain::ids::ReferenceId::parse(&a).unwrap(),
        mso_domain::ids::ReferenceId::parse(&b).unwrap(),
    );
    let edits = e.deps_of("claims-edits");
    let (ra, rb) = tokio::join!(
        claims::edits::judge(&edits, &ida),
        claims::edits::judge(&edits, &idb),
    );
    ra.unwrap();
    rb.unwrap();
    let mut statuses = [
        e.get(&a).await["status"].as_str().unwrap().to_string(),
        e.get(&b).await["status"].as_str().unwrap().to_string(),
    ];
    statuses.sort();
    assert_eq!(statuses, ["accepted", "rejected"]);
}

#[tokio::test]
async fn replacements_and_voids_follow_the_claim_they_name() {
    let e = env().await;
    let original = e.judged(&visit()).await;
    let original_id = original["id"].as_str().unwrap();
    // A replacement of the same service corrects the diagnosis.
    let mut replacement = visit();
    replacement["frequency"] = json!(7);
    replacement["original_claim_id"] = json!(original_id);
    replacement["diagnoses"] = json!(["J02.9"]);
    let replaced_by = e.judged(&replacement).await;
    assert_eq!(replaced_by["status"], "accepted", "{replaced_by}");
    let original = e.get(original_id).await;
    assert_eq!(original["status"], "replaced");
    assert_eq!(original["superseded_by"], replaced_by["id"]);
    // Replacing or voiding it again is refused.
    let mut again = replacement.clone();
    again["frequency"] = json!("8");
    let refused = e.judged(&again).await;
    assert_eq!(edit_codes(&refused), ["original_claim_replaced"]);
    // Voiding the replacement cancels it.
    let mut void = visit();
    void["frequency"] = json!("8");
    void["original_claim_id"] = replaced_by["id"].clone();
    let voided_by = e.judged(&void).await;
    assert_eq!(voided_by["status"], "accepted", "{voided_by}");
    let voided = e.get(replaced_by["id"].as_str().unwrap()).await;
    assert_eq!(voided["status"], "voided");
    assert!(voided["payment"].is_null());
    // A void of a claim nobody knows is refused.
    let mut unknown = void.clone();
    unknown["original_claim_id"] = json!("CLM-0000000000");
    assert_eq!(
        edit_codes(&e.judged(&unknown).await),
        ["original_claim_unknown"]
    );
    // After the void, the same service may be billed afresh.
    let fresh = e.judged(&visit()).await;
    assert_eq!(fresh["status"], "accepted", "{fresh}");
}

/// The read's audit entry and the claim's documents: one round trip, after the
/// claim itself.
#[tokio::test]
async fn a_read_keeps_its_audit_entry_while_reading_the_documents() {
    let mut e = env().await;
    let id = e.submit(&visit()).await;
    e.drain().await;
    let slow = mso_testkit::SlowReads::with_slow_writes(
        e.deps.records.clone(),
        std::time::Duration::from_millis(5),
    );
    e.deps.records = slow.clone();
    assert_eq!(
        e.get_as(&id, SUNRISE_ORG, "provider_user").await.status(),
        200
    );
    assert_eq!((slow.reads(), slow.writes()), (3, 1));
    assert_eq!(slow.reads_in_turn(), 2);
}
