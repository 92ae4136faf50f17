//! The clerk's routes over items the bucket handler filed: who may use them,
//! the queue, how long an item waited, linking (to an auth, a claim or a
//! dispute), and filing a prior auth or a dispute whose clocks start at the
//! fax's receipt time.

mod support;

use mso_domain::ids::ReferenceId;
use mso_domain::prior_auth::Source;
use serde_json::json;
use support::*;

const CLERK: (&str, &str) = (IPA, "intake_clerk");

async fn queued_fax(env: &Env, name: &str) -> String {
    filed(
        &env.fax(name, fixture("auth-request-form.pdf"), Some(sidecar()))
            .await,
    )
    .0
}

/// The clerk's fields for Ana's MRI, read off the faxed form.
fn auth_fields() -> serde_json::Value {
    json!({
        "member_id": ANA.0, "dob": ANA.1,
        "setting": "outpatient", "category": "imaging", "urgency": "routine",
        "service_from": "2026-03-10", "service_to": "2026-04-10",
        "requesting_npi": PCP_NPI, "servicing_npi": SUNRISE_NPI, "place_of_service": "22",
        "diagnoses": ["M54.16"], "lines": [{"code": "72148", "units": 1}],
        "contact": {"name": "Front desk", "phone": "657-555-0199"}
    })
}

/// The claim the faxed PDRs are about.
const CLAIM: &str = "CLM-7K3Q9M2P4X";

/// The clerk's fields for a payment dispute on `claim_id`, read off a faxed
/// PDR form: the fields of `POST /v1/disputes`.
fn pdr(claim_id: &str, remittance_date: &str) -> serde_json::Value {
    json!({
        "kind": "pdr",
        "claim_id": claim_id,
        "reason_category": "underpayment",
        "reason": "Paid $112.50 against a contract rate of $150.00.",
        "amount_disputed": "37.50",
        "remittance_date": remittance_date,
        "contact": {"name": "Billing office", "phone": "657-555-0199"}
    })
}

async fn dispute(env: &Env, id: &str) -> mso_domain::disputes::Dispute {
    mso_records::disputes::load(env.ipa.records.as_ref(), &ReferenceId::parse(id).unwrap())
        .await
        .unwrap()
        .expect("the dispute is stored")
        .value
        .0
}

#[tokio::test]
async fn only_intake_clerks_of_the_ipa_use_the_queue() {
    let env = env().await;
    let id = queued_fax(&env, "a.pdf").await;
    for (org, role) in [
        (SUNRISE_ORG, "provider_user"),
        (SUNRISE_ORG, "site_admin"),
        (IPA, "um_nurse"),
        (IPA, "claims_examiner"),
        // A clerk's role in a provider organisation's token is refused.
        (SUNRISE_ORG, "intake_clerk"),
    ] {
        assert_eq!(env.list("", org, role).await.status(), 403, "{org} {role}");
        assert_eq!(env.get(&id, org, role).await.status(), 403, "{org} {role}");
        let link = env
            .post(
                &id,
                "link",
                Some("k"),
                &json!({"kind": "prior_auth", "id": "PA-7K3Q9M"}),
                org,
                role,
            )
            .await;
        assert_eq!(link.status(), 403, "{org} {role}");
        let create = env
            .post(
                &id,
                "create",
                Some("c"),
                &json!({"kind": "dispute", "dispute": pdr(CLAIM, "2025-11-01")}),
                org,
                role,
            )
            .await;
        assert_eq!(create.status(), 403, "{org} {role}");
    }
    let no_token = env.call(Call::new("GET /v1/intake", "/v1/intake")).await;
    assert_eq!(no_token.status(), 401);
}

#[tokio::test]
async fn the_queue_lists_what_waits_oldest_first_and_an_item_shows_how_long_it_waited() {
    let env = env().await;
    let first = queued_fax(&env, "a.pdf").await;
    env.ipa.file_auth("PA-7K3Q9M").await;
    let (linked, _) = filed(&env.email("m1", fixture("three-attachments.eml")).await);
    // Without a sidecar, the second fax's receipt is the (later) S3 event time.
    env.ipa.at("2026-03-02T18:00:00Z");
    let (second, _) = filed(&env.fax("b.pdf", fixture("scanned-fax.tif"), None).await);
    env.ipa.at("2026-03-02T20:00:00Z");

    let resp = env.list("status=queued", CLERK.0, CLERK.1).await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(v["items"][0]["kind"], "prior_auth_request");
    assert_eq!(v["items"][1]["problems"][0], "no_text_layer");
    // From the fax's receipt (28 Feb 16:40) to now (2 Mar 20:00).
    assert_eq!(
        v["items"][0]["waited_seconds"],
        2 * 86_400 + 3 * 3600 + 20 * 60
    );
    assert_eq!(v["items"][1]["waited_seconds"], 2 * 3600);

    let all = json(&env.list("", CLERK.0, CLERK.1).await);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let linked_only = json(&env.list("status=linked", CLERK.0, CLERK.1).await);
    assert_eq!(linked_only["items"][0]["id"], linked.as_str());
    assert_eq!(linked_only["items"][0]["link"]["id"], "PA-7K3Q9M");

    let bad = env.list("status=open&limit=0", CLERK.0, CLERK.1).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(error_fields(&json(&bad)), ["status", "limit"]);

    let resp = env.get(&first, CLERK.0, CLERK.1).await;
    let item = json(&resp);
    assert_eq!(resp.status(), 200, "{item}");
    assert_eq!(item["status"], "queued");
    assert_eq!(item["received_at"], FAX_RECEIVED);
    assert_eq!(item["receipt_source"], "fax_gateway");
    assert_eq!(item["sender"], FAX_FROM);
    assert_eq!(item["waited_seconds"], 2 * 86_400 + 3 * 3600 + 20 * 60);
    assert_eq!(item["documents"].as_array().unwrap().len(), 1);
    assert_eq!(item["history"][0]["action"], "received");
    assert!(!item["reasons"].as_array().unwrap().is_empty());

    for unknown in ["INT-0000AA", "PA-7K3Q9M", "nonsense"] {
        assert_eq!(
            env.get(unknown, CLERK.0, CLERK.1).await.status(),
            404,
            "{unknown}"
        );
    }
}

#[tokio::test]
async fn a_clerk_links_a_queued_item_to_an_auth_once() {
    let env = env().await;
    env.ipa.file_auth("PA-7K3Q9M").await;
    let id = queued_fax(&env, "a.pdf").await;
    env.ipa.at("2026-03-02T19:05:00Z");
    let body = json!({"kind": "prior_auth", "id": "pa-7k3q9m"});

    let missing_key = env.post(&id, "link", None, &body, CLERK.0, CLERK.1).await;
    assert_eq!(missing_key.status(), 400);
    assert_eq!(error_fields(&json(&missing_key)), ["Idempotency-Key"]);

    let bad = env
        .post(
            &id,
            "link",
            Some("k0"),
            &json!({"kind": "member", "id": "x", "extra": 1}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(error_fields(&json(&bad)), ["kind", "extra"]);

    let unknown = env
        .post(
            &id,
            "link",
            Some("k1"),
            &json!({"kind": "prior_auth", "id": "PA-0000AA"}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(unknown.status(), 422);
    assert_eq!(json(&unknown)["errors"][0]["code"], "no_such_record");
    for (kind, other) in [("claim", "CLM-8D2K4M9QXZ"), ("dispute", "DSP-0000AA")] {
        let none = env
            .post(
                &id,
                "link",
                Some(&format!("k2-{kind}")),
                &json!({"kind": kind, "id": other}),
                CLERK.0,
                CLERK.1,
            )
            .await;
        assert_eq!(none.status(), 422, "{kind}");
        assert_eq!(json(&none)["errors"][0]["code"], "no_such_record");
    }

    let resp = env
        .post(&id, "link", Some("k3"), &body, CLERK.0, CLERK.1)
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(v["status"], "linked");
    assert_eq!(
        v["link"],
        json!({"kind": "prior_auth", "id": "PA-7K3Q9M", "automatic": false})
    );
    assert_eq!(v["closed_at"], "2026-03-02T19:05:00Z");
    assert_eq!(v["history"][1]["by"], format!("user-of-{IPA}"));
    // The same key and body replay the answer; the item is not linked twice.
    let replay = env
        .post(&id, "link", Some("k3"), &body, CLERK.0, CLERK.1)
        .await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let again = env
        .post(&id, "link", Some("k4"), &body, CLERK.0, CLERK.1)
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(json(&again)["errors"][0]["code"], "already_linked");

    let auth = mso_records::prior_auths::load(
        env.ipa.records.as_ref(),
        &ReferenceId::parse("PA-7K3Q9M").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value
    .0;
    let linked: Vec<_> = auth
        .history
        .iter()
        .filter(|h| h.action == "intake_linked")
        .collect();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].actor.role, "intake_clerk");
    assert!(linked[0].reason.as_deref().unwrap().contains(&id));
}

#[tokio::test]
async fn an_auth_filed_from_a_fax_starts_its_clock_at_the_fax_receipt() {
    let env = env().await;
    let id = queued_fax(&env, "a.pdf").await;
    // The clerk gets to it two days after it arrived.
    env.ipa.at("2026-03-02T19:05:00Z");
    let body = json!({"kind": "prior_auth", "prior_auth": auth_fields()});
    let resp = env
        .post(&id, "create", Some("c1"), &body, CLERK.0, CLERK.1)
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 201, "{v}");
    assert_eq!(v["item"]["status"], "filed");
    assert_eq!(v["record"]["kind"], "prior_auth");
    assert_eq!(v["record"]["received_at"], FAX_RECEIVED);
    let auth_id = v["record"]["id"].as_str().unwrap().to_string();
    assert_eq!(v["item"]["link"]["id"], auth_id.as_str());

    let auth = mso_records::prior_auths::load(
        env.ipa.records.as_ref(),
        &ReferenceId::parse(&auth_id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value
    .0;
    assert_eq!(auth.received_at.to_string(), FAX_RECEIVED);
    assert!(
        auth.decision_due < "2026-03-09T19:05:00Z".parse().unwrap(),
        "due from the fax, not the clerk"
    );
    assert_eq!(
        auth.source,
        Source::Intake {
            item_id: ReferenceId::parse(&id).unwrap()
        }
    );
    assert_eq!(
        auth.org.as_str(),
        SUNRISE_ORG,
        "the requesting NPI's organisation"
    );

    let replay = env
        .post(&id, "create", Some("c1"), &body, CLERK.0, CLERK.1)
        .await;
    assert_eq!(replay.status(), 201);
    assert_eq!(json(&replay)["record"]["id"], auth_id.as_str());
    let again = env
        .post(&id, "create", Some("c2"), &body, CLERK.0, CLERK.1)
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(json(&again)["errors"][0]["code"], "already_filed");
}

#[tokio::test]
async fn the_clerks_fields_are_checked_and_named_under_the_record_they_file() {
    let env = env().await;
    let id = queued_fax(&env, "a.pdf").await;
    let mut fields = auth_fields();
    fields["member_id"] = json!("");
    fields["lines"] = json!([]);
    let bad = env
        .post(
            &id,
            "create",
            Some("c1"),
            &json!({"kind": "prior_auth", "prior_auth": fields}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        error_fields(&json(&bad)),
        ["prior_auth.member_id", "prior_auth.lines"]
    );

    let missing = env
        .post(
            &id,
            "create",
            None,
            &json!({"kind": "prior_auth"}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(
        error_fields(&json(&missing)),
        ["Idempotency-Key", "prior_auth"]
    );

    let mut wrong_dob = auth_fields();
    wrong_dob["dob"] = json!("1984-03-16");
    let refused = env
        .post(
            &id,
            "create",
            Some("c2"),
            &json!({"kind": "prior_auth", "prior_auth": wrong_dob}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(error_fields(&json(&refused)), ["prior_auth.member_id"]);

    // A dispute's fields are those of POST /v1/disputes, named under `dispute.`.
    let mut bad_dispute = pdr(CLAIM, "2025-11-31");
    bad_dispute["reason"] = json!("");
    bad_dispute["claim_id"] = json!("PA-7K3Q9M");
    for (body, fields) in [
        (json!({"kind": "dispute"}), vec!["dispute"]),
        (
            json!({"kind": "dispute", "dispute": bad_dispute}),
            vec![
                "dispute.claim_id",
                "dispute.reason",
                "dispute.remittance_date",
            ],
        ),
        (
            json!({"kind": "dispute", "dispute": [], "prior_auth": {}}),
            vec!["dispute"],
        ),
    ] {
        let resp = env
            .post(&id, "create", Some("c3"), &body, CLERK.0, CLERK.1)
            .await;
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(error_fields(&json(&resp)), fields, "{body}");
    }

    // Nothing was filed: the item still waits.
    let item = json(&env.get(&id, CLERK.0, CLERK.1).await);
    assert_eq!(item["status"], "queued");
}

#[tokio::test]
async fn a_clerk_links_an_item_to_a_claim_and_the_claim_notes_it() {
    let env = env().await;
    file_claim(&env, CLAIM).await;
    let id = queued_fax(&env, "a.pdf").await;
    let resp = env
        .post(
            &id,
            "link",
            Some("k1"),
            &json!({"kind": "claim", "id": CLAIM}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(
        v["link"],
        json!({"kind": "claim", "id": CLAIM, "automatic": false})
    );
    let claim = mso_records::claims::load(
        env.ipa.records.as_ref(),
        &ReferenceId::parse(CLAIM).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value
    .0;
    let noted = serde_json::to_value(&claim.history).unwrap();
    assert!(noted.to_string().contains(&id), "{noted}");
}

#[tokio::test]
async fn a_faxed_pdr_is_filed_as_a_dispute_on_the_paper_clock_from_the_fax_receipt() {
    let env = env().await;
    file_claim(&env, CLAIM).await;
    let id = queued_fax(&env, "pdr.pdf").await;
    // The clerk gets to it a week after the fax arrived (Saturday 28 Feb,
    // 08:40 Pacific), after the window closed on Sunday 1 March: the fax's
    // receipt, not the clerk's day, is the filing.
    env.ipa.at("2026-03-09T18:00:00Z");
    let body = json!({"kind": "dispute", "dispute": pdr(CLAIM, "2025-11-01")});
    let resp = env
        .post(&id, "create", Some("d1"), &body, CLERK.0, CLERK.1)
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 201, "{v}");
    assert_eq!(v["item"]["status"], "filed");
    assert_eq!(v["record"]["kind"], "dispute");
    assert_eq!(v["record"]["status"], "received");
    assert_eq!(v["record"]["received_at"], FAX_RECEIVED);
    assert_eq!(v["record"]["filing_deadline"], "2026-03-01");
    // 15 working days (paper) from Saturday's receipt: Friday 20 March, end
    // of day Pacific (daylight time); 45 working days: Friday 1 May.
    assert_eq!(
        v["record"]["acknowledge_due"],
        "2026-03-21T06:59:59.999999999Z"
    );
    assert_eq!(
        v["record"]["decision_due"],
        "2026-05-02T06:59:59.999999999Z"
    );
    let dispute_id = v["record"]["id"].as_str().unwrap().to_string();
    assert!(dispute_id.starts_with("DSP-"), "{dispute_id}");
    assert_eq!(
        v["item"]["link"],
        json!({"kind": "dispute", "id": dispute_id, "automatic": false})
    );
    assert_eq!(v["item"]["waited_seconds"], 9 * 86_400 + 3600 + 20 * 60);
    let closing = v["item"]["history"].as_array().unwrap().last().unwrap();
    assert_eq!(
        closing["reason"],
        format!("{dispute_id} filed from the item by the clerk")
    );

    // Stored as a paper dispute of the claim's organisation, naming the item.
    let d = dispute(&env, &dispute_id).await;
    assert_eq!(d.org.as_str(), SUNRISE_ORG);
    assert_eq!(d.channel, mso_domain::disputes::Channel::Paper);
    assert_eq!(d.received_at.to_string(), FAX_RECEIVED);
    assert_eq!(
        d.intake_item_id.as_ref().map(|i| i.as_str()),
        Some(id.as_str())
    );
    assert_eq!(d.history[0].actor.role, "intake_clerk");
    let filed = d.history[0].reason.as_deref().unwrap();
    assert!(
        filed.starts_with(&format!(
            "pdr (underpayment) filed on paper from intake item {id};"
        )),
        "{filed}"
    );
    // Published to dispute-events, without PHI.
    let events = drain(&env, "dispute-events").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["dispute_id"], dispute_id.as_str());
    assert_eq!(events[0]["action"], "filed");
    assert!(events[0].get("member_id").is_none());

    // The same key and body replay the answer; the item is filed once.
    let replay = env
        .post(&id, "create", Some("d1"), &body, CLERK.0, CLERK.1)
        .await;
    assert_eq!(replay.status(), 201);
    assert_eq!(json(&replay)["record"]["id"], dispute_id.as_str());
    let again = env
        .post(&id, "create", Some("d2"), &body, CLERK.0, CLERK.1)
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(json(&again)["errors"][0]["code"], "already_filed");

    // The same dispute faxed again (another item) is the open one: 409 naming it.
    let second = queued_fax(&env, "pdr-again.pdf").await;
    let dup = env
        .post(&second, "create", Some("d3"), &body, CLERK.0, CLERK.1)
        .await;
    let v = json(&dup);
    assert_eq!(dup.status(), 409, "{v}");
    assert_eq!(v["type"], "urn:mso:problem:dispute-already-open");
    assert_eq!(v["existing_dispute_id"], dispute_id.as_str());
    assert_eq!(env.item(&second).await.status.as_str(), "queued");
}

#[tokio::test]
async fn a_dispute_received_after_its_window_is_refused_with_the_rule() {
    let env = env().await;
    file_claim(&env, CLAIM).await;
    let id = queued_fax(&env, "late.pdf").await;
    // Remitted 31 October 2025: the window closed on 28 February 2026, the
    // day the fax arrived... at 08:40 Pacific, so in time; one day earlier
    // remitted is late.
    let on_time_body = json!({"kind": "dispute", "dispute": pdr(CLAIM, "2025-10-31")});
    let late_body = json!({"kind": "dispute", "dispute": pdr(CLAIM, "2025-10-30")});
    let late = env
        .post(&id, "create", Some("l1"), &late_body, CLERK.0, CLERK.1)
        .await;
    let v = json(&late);
    assert_eq!(late.status(), 422, "{v}");
    assert_eq!(v["type"], "urn:mso:problem:filing-window-closed");
    assert_eq!(
        v["rule"],
        "120 calendar days from the remittance notification date"
    );
    assert_eq!(v["window_start"], "2025-10-30");
    assert_eq!(v["deadline"], "2026-02-27");
    assert_eq!(error_fields(&v), ["dispute.remittance_date"]);
    assert_eq!(v["errors"][0]["code"], "filing_window_closed");

    // Expedited appeals go by fax to the IPA's line; a corrected claim is a
    // resubmission; an unknown claim is 404 naming the field.
    let mut expedited = pdr(CLAIM, "2026-02-20");
    expedited["kind"] = json!("appeal");
    expedited["reason_category"] = json!("medical_necessity");
    expedited["expedited"] = json!(true);
    let resp = env
        .post(
            &id,
            "create",
            Some("l2"),
            &json!({"kind": "dispute", "dispute": expedited}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 422, "{v}");
    assert_eq!(v["expedited_appeal_fax"], "855-555-0103");
    assert_eq!(error_fields(&v), ["dispute.expedited"]);
    let mut corrected = pdr(CLAIM, "2026-02-20");
    corrected["reason_category"] = json!("corrected_claim");
    let resp = env
        .post(
            &id,
            "create",
            Some("l3"),
            &json!({"kind": "dispute", "dispute": corrected}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 422, "{v}");
    assert_eq!(v["resubmit_as"]["frequency_code"], "7");
    let unknown = env
        .post(
            &id,
            "create",
            Some("l4"),
            &json!({"kind": "dispute", "dispute": pdr("CLM-8D2K4M9QXZ", "2026-02-20")}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_fields(&json(&unknown)), ["dispute.claim_id"]);

    // Nothing was filed; the refused key is given back for the corrected fields.
    assert_eq!(env.item(&id).await.status.as_str(), "queued");
    assert!(drain(&env, "dispute-events").await.is_empty());
    let resp = env
        .post(&id, "create", Some("l1"), &on_time_body, CLERK.0, CLERK.1)
        .await;
    assert_eq!(resp.status(), 201, "{}", json(&resp));
}

#[tokio::test]
async fn a_clerk_links_an_item_to_a_dispute_and_the_dispute_notes_it() {
    let env = env().await;
    file_claim(&env, CLAIM).await;
    let first = queued_fax(&env, "pdr.pdf").await;
    let filed = json(
        &env.post(
            &first,
            "create",
            Some("d1"),
            &json!({"kind": "dispute", "dispute": pdr(CLAIM, "2026-02-20")}),
            CLERK.0,
            CLERK.1,
        )
        .await,
    );
    let dispute_id = filed["record"]["id"].as_str().unwrap().to_string();
    drain(&env, "dispute-events").await;

    // The provider's cover letter and notes for it, faxed later.
    let more = queued_fax(&env, "notes.pdf").await;
    env.ipa.at("2026-03-03T17:00:00Z");
    let resp = env
        .post(
            &more,
            "link",
            Some("k1"),
            &json!({"kind": "dispute", "id": dispute_id.to_lowercase()}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    let v = json(&resp);
    assert_eq!(resp.status(), 200, "{v}");
    assert_eq!(v["status"], "linked");
    assert_eq!(
        v["link"],
        json!({"kind": "dispute", "id": dispute_id, "automatic": false})
    );

    let d = dispute(&env, &dispute_id).await;
    let noted: Vec<_> = d
        .history
        .iter()
        .filter(|h| h.action == "intake_linked")
        .collect();
    assert_eq!(noted.len(), 1, "{:?}", d.history);
    assert_eq!(noted[0].actor.role, "intake_clerk");
    assert_eq!(noted[0].to, d.status, "a note does not change the status");
    let reason = noted[0].reason.as_deref().unwrap();
    assert!(
        reason.contains(&more) && reason.contains("documents DOC-"),
        "{reason}"
    );
    let events = drain(&env, "dispute-events").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], "intake_linked");
}

/// The read's audit entry and the item's documents: one round trip, after the
/// item itself.
#[tokio::test]
async fn a_read_keeps_its_audit_entry_while_reading_the_documents() {
    let mut env = env().await;
    let id = queued_fax(&env, "audit.pdf").await;
    let slow = mso_testkit::SlowReads::with_slow_writes(
        env.deps.records.clone(),
        std::time::Duration::from_millis(5),
    );
    env.deps.records = slow.clone();
    assert_eq!(env.get(&id, CLERK.0, CLERK.1).await.status(), 200);
    assert_eq!((slow.reads(), slow.writes()), (3, 1));
    assert_eq!(slow.reads_in_turn(), 2);
}
