//! `POST /v1/documents`: upload slots, the policy's limits, who may attach,
//! messages of at most five, idempotent retries.

mod support;

use serde_json::json;
use support::*;

const PDF: &str = "application/pdf";

#[tokio::test]
async fn a_provider_gets_an_upload_url_bound_to_type_length_and_creation() {
    let e = env().await;
    let before = now_unix();
    let resp = e.post(&slot("Ana MRI notes.pdf", PDF, 48_213)).await;
    assert_eq!(resp.status(), 201);
    let v = json(&resp);
    assert!(v["id"].as_str().unwrap().starts_with("DOC-"), "{v}");
    assert_eq!(v["status"], "awaiting_upload");
    assert_eq!(v["owner"], json!({"kind": "prior_auth", "id": AUTH}));
    assert_eq!(v["file_name"], "Ana MRI notes.pdf");
    assert_eq!(
        (v["size"].as_u64(), v["message"].as_u64()),
        (Some(48_213), Some(1))
    );
    let upload = &v["upload"];
    assert_eq!(upload["method"], "PUT");
    assert_eq!(
        upload["headers"],
        json!({"content-type": PDF, "content-length": "48213", "if-none-match": "*"})
    );
    let expires: jiff::Timestamp = upload["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires.as_second() - before;
    assert!(
        (299..=302).contains(&lifetime),
        "valid for minutes: {lifetime} s"
    );
    assert!(v["download"].is_null());
    // The key carries the document's ID only: no name, member or file name.
    let url = upload["url"].as_str().unwrap();
    let key = format!("documents/{}.pdf", v["id"].as_str().unwrap());
    assert!(url.contains(&format!("/_local/objects/{key}?")), "{url}");
    for phi in ["Ana", "MRI", "notes", "SUN100001"] {
        assert!(!url.contains(phi), "{phi} in {url}");
    }
    assert_eq!(e.audited("document.upload_requested").await.len(), 1);
}

/// The owner, its message counter and its documents: one query of the
/// owner's partition, one read per upload.
#[tokio::test]
async fn the_owner_and_its_messages_are_one_read() {
    let mut e = env().await;
    let slow = SlowReads::new(e.deps.records.clone(), std::time::Duration::from_millis(5));
    e.deps.records = slow.clone();
    let resp = e.post(&slot("notes.pdf", PDF, 1_000)).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(slow.reads(), 1);
    // Once the owner has a message, the counter read with the owner and its
    // documents still guards the next upload: a second one goes to the same
    // message.
    let resp = e.post(&slot("labs.pdf", PDF, 1_000)).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(slow.reads(), 2);
    let second: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(second["message"], 1);
}

#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let e = env().await;
    let resp = e
        .call(
            Call::new("POST /v1/documents", "/v1/documents")
                .by(SUNRISE_ORG, "provider_user")
                .json(&json!({
                    "owner": {"kind": "member", "id": AUTH},
                    "file_name": "",
                    "content_type": "image/gif",
                    "size": 0,
                    "message": 0,
                    "sizes": 1
                })),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let v = json(&resp);
    assert_eq!(
        error_fields(&v),
        [
            "Idempotency-Key",
            "owner.kind",
            "file_name",
            "content_type",
            "size",
            "message",
            "sizes"
        ],
        "{v}"
    );
}

#[tokio::test]
async fn the_policy_limits_type_and_size() {
    let e = env().await;
    let max = e.ipa.policy.attachments.max_bytes;
    for (body, field, code) in [
        (
            slot("a.gif", "image/gif", 10),
            "content_type",
            "unsupported_content_type",
        ),
        (
            slot("a.doc", "application/msword", 10),
            "content_type",
            "unsupported_content_type",
        ),
        (slot("a.pdf", PDF, max + 1), "size", "too_large"),
        (slot("a.pdf", PDF, 0), "size", "empty"),
        (
            slot("a.pdf", "text/plain; charset=latin-1", 10),
            "content_type",
            "unsupported_charset",
        ),
        (slot("a.pdf", PDF, 10), "", ""),
    ] {
        let resp = e.post(&body).await;
        let v = json(&resp);
        if field.is_empty() {
            assert_eq!(resp.status(), 201, "{v}");
            continue;
        }
        assert_eq!(resp.status(), 400, "{body}: {v}");
        assert_eq!(error_fields(&v), [field], "{v}");
        assert_eq!(v["errors"][0]["code"], code, "{v}");
    }
    // Exactly the limit is fine, and every type of the policy.
    assert_eq!(e.post(&slot("big.pdf", PDF, max)).await.status(), 201);
    for t in &e.ipa.policy.attachments.content_types {
        assert_eq!(e.post(&slot("f", t, 10)).await.status(), 201, "{t}");
    }
}

#[tokio::test]
async fn only_the_owners_organisation_and_its_staff_may_attach() {
    let e = env().await;
    let body = slot("a.pdf", PDF, 10);
    // Another practice: as if the auth did not exist.
    let resp = e.post_as(HARBOR_ORG, "provider_user", "k1", &body).await;
    assert_eq!(resp.status(), 404, "{}", json(&resp));
    let mut unknown = body.clone();
    unknown["owner"]["id"] = json!("PA-ZZZZZZ");
    assert_eq!(e.post(&unknown).await.status(), 404);
    // A claim that does not exist is as unknown as an auth that does not.
    let claim = json!({"owner": {"kind": "claim", "id": "CLM-7K3Q9M2P4X"}, "file_name": "a.pdf", "content_type": PDF, "size": 10});
    assert_eq!(e.post(&claim).await.status(), 404);
    // UM staff work auths; claims staff do not; ops has no documents role.
    let by_nurse = e.post_as(IPA, "um_nurse", "k2", &body).await;
    assert_eq!(by_nurse.status(), 201);
    assert_eq!(json(&by_nurse)["uploaded_by"], "um_nurse");
    assert_eq!(
        e.post_as(IPA, "medical_director", "k3", &body)
            .await
            .status(),
        201
    );
    assert_eq!(
        e.post_as(IPA, "claims_examiner", "k4", &body)
            .await
            .status(),
        403
    );
    assert_eq!(e.post_as(IPA, "ops_admin", "k5", &body).await.status(), 403);
    // A staff role in a practice's token is refused whatever the route.
    assert_eq!(
        e.post_as(SUNRISE_ORG, "um_nurse", "k6", &body)
            .await
            .status(),
        403
    );
    assert!(
        e.owner_partition()
            .await
            .iter()
            .filter(|sk| sk.starts_with("DOC#"))
            .count()
            == 2
    );
}

#[tokio::test]
async fn a_sixth_file_opens_a_follow_up_message_and_a_full_named_message_refuses_it() {
    let e = env().await;
    for i in 0..5 {
        let v = e.slot(&slot(&format!("page{i}.pdf"), PDF, 10)).await;
        assert_eq!(v["message"], 1);
    }
    let history_before = e.history().await.len();
    let sixth = e.slot(&slot("page5.pdf", PDF, 10)).await;
    assert_eq!(sixth["message"], 2, "{sixth}");
    let history = e.history().await;
    assert_eq!(history.len(), history_before + 1);
    assert_eq!(history.last().unwrap().0, "follow_up_message");
    assert_eq!(
        history.last().unwrap().1.as_deref(),
        Some("documents continue in follow-up message 2")
    );

    // Naming the full message: refused, naming the field and the rule.
    let mut to_first = slot("late.pdf", PDF, 10);
    to_first["message"] = json!(1);
    let resp = e.post(&to_first).await;
    assert_eq!(resp.status(), 409);
    let v = json(&resp);
    assert_eq!(v["type"], "urn:mso:problem:message-full");
    assert_eq!(error_fields(&v), ["message"]);
    assert_eq!(v["errors"][0]["code"], "message_full");
    // Naming a message that is neither open nor next.
    to_first["message"] = json!(4);
    let resp = e.post(&to_first).await;
    assert_eq!(resp.status(), 422, "{}", json(&resp));
    // Naming the next one opens it.
    to_first["message"] = json!(3);
    assert_eq!(e.slot(&to_first).await["message"], 3);
    // Without a message the last one with room takes it.
    assert_eq!(e.slot(&slot("x.pdf", PDF, 10)).await["message"], 3);
    // Nothing was stored for the refused requests.
    let rows = e.owner_partition().await;
    assert_eq!(rows.iter().filter(|sk| sk.starts_with("DOC#")).count(), 8);
}

#[tokio::test]
async fn a_rejected_document_frees_its_place_in_the_message() {
    let e = env().await;
    for i in 0..4 {
        e.slot(&slot(&format!("p{i}.pdf"), PDF, 10)).await;
    }
    // The fifth is a ZIP declared as a PDF: rejected.
    let zip = fixture("archive.zip");
    let rejected = e.upload("scan.pdf", PDF, zip).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["message"], 1);
    // Its replacement still fits in message 1.
    let mut again = slot("scan-fixed.pdf", PDF, 10);
    again["message"] = json!(1);
    assert_eq!(e.slot(&again).await["message"], 1);
    let resp = e.post(&again).await;
    assert_eq!(resp.status(), 409, "now it is full: {}", json(&resp));
}

#[tokio::test]
async fn concurrent_uploads_never_put_six_in_one_message() {
    let e = env().await;
    let bodies: Vec<_> = (0..12)
        .map(|i| slot(&format!("c{i}.pdf"), PDF, 10))
        .collect();
    let answers = futures_join(&e, &bodies).await;
    let mut per_message = std::collections::BTreeMap::<u64, usize>::new();
    for (status, v) in &answers {
        if *status == 201 {
            *per_message
                .entry(v["message"].as_u64().unwrap())
                .or_default() += 1;
        } else {
            assert_eq!(*status, 409, "only a retryable collision: {v}");
        }
    }
    assert!(per_message.values().all(|n| *n <= 5), "{per_message:?}");
    let created: usize = per_message.values().sum();
    assert!(created >= 5, "most get through: {per_message:?}");
    let rows = e.owner_partition().await;
    assert_eq!(
        rows.iter().filter(|sk| sk.starts_with("DOC#")).count(),
        created
    );
}

async fn futures_join(e: &Env, bodies: &[serde_json::Value]) -> Vec<(u16, serde_json::Value)> {
    let calls = bodies.iter().map(|b| async move {
        let resp = e.post(b).await;
        (resp.status().as_u16(), json(&resp))
    });
    let mut out = Vec::new();
    // Started together, so their reads and writes interleave on the store.
    let handles: Vec<_> = calls.collect();
    for result in join_all(handles).await {
        out.push(result);
    }
    out
}

/// A minimal join_all (no futures crate): polls every future to completion.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).map(Some).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, out) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn a_retry_answers_the_same_document_with_a_fresh_url() {
    let e = env().await;
    let body = slot("a.pdf", PDF, 10);
    let first = e.post_as(SUNRISE_ORG, "provider_user", "same", &body).await;
    assert_eq!(first.status(), 201);
    let first = json(&first);
    let again = e.post_as(SUNRISE_ORG, "provider_user", "same", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = json(&again);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["upload"]["headers"], first["upload"]["headers"]);
    // The same key with another body is refused, not a second document.
    let other = e
        .post_as(
            SUNRISE_ORG,
            "provider_user",
            "same",
            &slot("b.pdf", PDF, 11),
        )
        .await;
    assert_eq!(other.status(), 422);
    // Once uploaded and verified, a retry shows it without an upload URL.
    let bytes = fixture("letter.pdf");
    let body = slot("letter.pdf", PDF, bytes.len() as u64);
    let created = json(
        &e.post_as(SUNRISE_ORG, "provider_user", "letter", &body)
            .await,
    );
    e.put(&created, bytes.clone()).await.unwrap();
    e.event(
        &e.object_key(created["id"].as_str().unwrap()).await,
        bytes.len() as u64,
    )
    .await;
    let replay = json(
        &e.post_as(SUNRISE_ORG, "provider_user", "letter", &body)
            .await,
    );
    assert_eq!(
        (&replay["id"], &replay["status"]),
        (&created["id"], &json!("available"))
    );
    assert!(replay["upload"].is_null());
    assert_eq!(
        e.owner_partition()
            .await
            .iter()
            .filter(|sk| sk.starts_with("DOC#"))
            .count(),
        2
    );
}

#[tokio::test]
async fn the_file_name_stays_out_of_every_key() {
    let e = env().await;
    let v = e
        .slot(&slot("Ana Testcase SUN100001 MRI.pdf", PDF, 10))
        .await;
    let id = v["id"].as_str().unwrap();
    let object_key = e.object_key(id).await;
    assert_eq!(object_key, format!("documents/{id}.pdf"));
    for key in e.owner_partition().await.into_iter().chain([object_key]) {
        for phi in ["Ana", "SUN100001", "MRI"] {
            assert!(!key.contains(phi), "{phi} in key {key}");
        }
    }
}
