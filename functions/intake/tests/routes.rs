//! The clerk's routes over items the bucket handler filed: who may use them,
//! the queue, how long an item waited, linking, and filing a prior auth whose
//! clock starts at the fax's receipt time.

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
    // EXTENSION POINT (claims): no claim exists to link to yet.
    let claim = env
        .post(
            &id,
            "link",
            Some("k2"),
            &json!({"kind": "claim", "id": "CLM-8D2K4M9QXZ"}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(claim.status(), 422);

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
async fn the_clerks_fields_are_checked_and_disputes_wait_for_their_job() {
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

    // EXTENSION POINT (disputes): a 422 naming `kind` until the disputes job lands.
    let dispute = env
        .post(
            &id,
            "create",
            Some("c3"),
            &json!({"kind": "dispute"}),
            CLERK.0,
            CLERK.1,
        )
        .await;
    assert_eq!(dispute.status(), 422);
    assert_eq!(error_fields(&json(&dispute)), ["kind"]);

    // Nothing was filed: the item still waits.
    let item = json(&env.get(&id, CLERK.0, CLERK.1).await);
    assert_eq!(item["status"], "queued");
}
