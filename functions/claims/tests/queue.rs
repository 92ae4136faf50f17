//! The queue consumer as SQS really behaves: messages delivered more than once,
//! batches with a poisoned message, redelivery until the dead-letter queue.

mod support;

use mso_api::directory;
use mso_domain::ids::{MemberId, Npi};
use mso_domain::member::CoverageSpan;
use mso_store::ReceiveOptions;
use serde_json::json;
use support::*;

/// The edits read the member, the member's auths and the member's other claims
/// at once: for the MRI, the member, the auths' list and the claims' list are
/// outstanding together.
#[tokio::test]
async fn the_edits_read_the_members_records_at_once() {
    let mut e = env().await;
    let id = e.submit(&mri()).await;
    let slow = SlowReads::new(e.deps.records.clone(), std::time::Duration::from_millis(5));
    e.deps.records = slow.clone();
    e.drain().await;
    // The claim; the member's turn with the member; the PCP, the member's auths
    // (their list, then the auths) and their other claims.
    assert_eq!(slow.reads(), 6);
    assert_eq!(slow.most_at_once(), 3);
    assert_eq!(e.get(&id).await["status"], "accepted");
}

/// However many of the member's auths could cover the claim, the edits read
/// them in one request.
#[tokio::test]
async fn the_members_auths_are_read_in_one_request() {
    let reads = async |more_auths: &[&str]| {
        let mut e = env().await;
        for id in more_auths {
            e.ipa.file_auth(id).await;
        }
        let id = e.submit(&mri()).await;
        let slow = SlowReads::new(e.deps.records.clone(), std::time::Duration::from_millis(1));
        e.deps.records = slow.clone();
        e.drain().await;
        let reads = slow.reads();
        assert_eq!(e.get(&id).await["status"], "accepted");
        reads
    };
    let one = reads(&[]).await;
    assert_eq!(reads(&["PA-7K3Q9N", "PA-7K3Q9P"]).await, one);
}

/// A member whose PCP changed has each PCP read, all in one request: the edits of
/// a claim make as many reads as for a member with one PCP.
#[tokio::test]
async fn the_pcps_of_every_span_are_read_in_one_request() {
    let reads = async |pcps: &[&str]| {
        let mut e = env().await;
        let records = e.deps.records.clone();
        let mut ana = directory::member(&*records, &MemberId::parse(ANA.0).unwrap())
            .await
            .unwrap()
            .unwrap();
        // One span per PCP, back to back; the last, Ana's PCP, covers the claim.
        let starts = ["2025-01-01", "2025-07-01", "2026-01-01"];
        let ends = ["2025-06-30", "2025-12-31"];
        let span = ana.spans[0].clone();
        ana.spans = pcps
            .iter()
            .enumerate()
            .map(|(i, npi)| CoverageSpan {
                start: starts[starts.len() - pcps.len() + i].parse().unwrap(),
                end: (i + 1 < pcps.len())
                    .then(|| ends[starts.len() - pcps.len() + i].parse().unwrap()),
                pcp_npi: Some(Npi::parse(npi).unwrap()),
                ..span.clone()
            })
            .collect();
        directory::write_all(&*records, directory::member_writes(&[ana]).unwrap())
            .await
            .unwrap();
        let id = e.submit(&mri()).await;
        let slow = SlowReads::new(records, std::time::Duration::from_millis(1));
        e.deps.records = slow.clone();
        e.drain().await;
        assert_eq!(e.get(&id).await["status"], "accepted");
        slow.reads()
    };
    let one = reads(&[PCP_NPI]).await;
    assert_eq!(reads(&[HARBOR_NPI, SUNRISE_NPI, PCP_NPI]).await, one);
}

#[tokio::test]
async fn a_message_delivered_three_times_is_one_judgement() {
    let e = env().await;
    let id = e.submit(&visit()).await;
    let messages = e
        .deps
        .queue
        .receive(claims::CLAIM_EDITS, ReceiveOptions::default())
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    // The same message three times, in one batch and in two more.
    let thrice = vec![
        messages[0].clone(),
        messages[0].clone(),
        messages[0].clone(),
    ];
    let response = claims::edits::handle(
        &e.deps_of("claims-edits"),
        sqs_event(claims::CLAIM_EDITS, &thrice),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    for _ in 0..2 {
        let response = claims::edits::handle(
            &e.deps_of("claims-edits"),
            sqs_event(claims::CLAIM_EDITS, &messages),
        )
        .await;
        assert!(response.batch_item_failures.is_empty());
    }
    let claim = e.get(&id).await;
    assert_eq!(claim["status"], "accepted");
    assert_eq!(claim["history"].as_array().unwrap().len(), 2, "{claim}");
    assert_eq!(e.all_claims().await.len(), 1);
}

#[tokio::test]
async fn a_poisoned_message_fails_alone_and_ends_in_the_dead_letter_queue() {
    let e = env().await;
    let good = e.submit(&visit()).await;
    let queue = e.deps.queue.clone();
    queue
        .send(claims::CLAIM_EDITS, "{\"claim_id\": 17}", "poison-1")
        .await
        .unwrap();
    queue
        .send(
            claims::CLAIM_EDITS,
            &json!({"claim_id": "CLM-0000000000"}).to_string(),
            "poison-2",
        )
        .await
        .unwrap();
    let now = ReceiveOptions {
        visibility_timeout: std::time::Duration::ZERO,
        ..ReceiveOptions::default()
    };
    // As Lambda's event source mapping: handle, delete the ones that passed.
    for round in 0..10 {
        let messages = queue.receive(claims::CLAIM_EDITS, now).await.unwrap();
        if messages.is_empty() {
            break;
        }
        let response = claims::edits::handle(
            &e.deps_of("claims-edits"),
            sqs_event(claims::CLAIM_EDITS, &messages),
        )
        .await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        if round == 0 {
            assert_eq!(messages.len(), 3);
            assert_eq!(failed.len(), 2, "only the poisoned ones fail");
        }
        for m in &messages {
            if !failed.contains(&m.id.as_str()) {
                queue.delete(claims::CLAIM_EDITS, &m.receipt).await.unwrap();
            }
        }
    }
    assert_eq!(e.get(&good).await["status"], "accepted");
    let dead = queue
        .receive("claim-edits-dlq", ReceiveOptions::default())
        .await
        .unwrap();
    let mut bodies: Vec<String> = dead.iter().map(|m| m.body.clone()).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            "{\"claim_id\": 17}".to_string(),
            json!({"claim_id": "CLM-0000000000"}).to_string()
        ]
    );
}

#[tokio::test]
async fn an_overturned_dispute_sends_the_claim_back_to_an_examiner_once() {
    let e = env().await;
    let claim = e.judged(&visit()).await;
    let id = claim["id"].as_str().unwrap();
    let message = json!({
        "claim_id": id, "dispute_id": "DSP-7K3Q9M", "outcome": "partially_overturned",
        "amount_cents": 4_550, "decided_at": "2026-04-20T17:00:00Z"
    })
    .to_string();
    for n in 0..2 {
        e.deps
            .queue
            .send(claims::CLAIM_READJUDICATION, &message, &format!("r-{n}"))
            .await
            .unwrap();
        e.drain().await;
    }
    let claim = e.get(id).await;
    assert_eq!(claim["status"], "pended");
    let readjudications: Vec<&serde_json::Value> = claim["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "readjudication")
        .collect();
    assert_eq!(readjudications.len(), 1);
    assert_eq!(
        readjudications[0]["reason"],
        "Dispute DSP-7K3Q9M was decided partially overturned ($45.50 found owed): a claims examiner re-adjudicates the claim."
    );
    // The examiner's work list has it.
    let queue = e.list("status=pended", IPA, "claims_examiner").await;
    assert_eq!(queue["items"][0]["id"].as_str(), Some(id));
}

#[tokio::test]
async fn a_stored_claim_whose_message_was_lost_is_relayed_by_the_sweeper() {
    let e = env().await;
    let id = e.submit(&visit()).await;
    // The message was sent: take it off the queue, as if it had been lost, and
    // put its outbox copy back (as a crash before the send would leave it).
    let lost = e
        .deps
        .queue
        .receive(claims::CLAIM_EDITS, ReceiveOptions::default())
        .await
        .unwrap();
    e.deps
        .queue
        .delete(claims::CLAIM_EDITS, &lost[0].receipt)
        .await
        .unwrap();
    let at: jiff::Timestamp = BILLED_AT.parse().unwrap();
    let event = mso_api::outbox::OutboxEvent::new(claims::CLAIM_EDITS, lost[0].body.clone(), at);
    e.deps
        .records
        .transact(vec![event.stage().unwrap()])
        .await
        .unwrap();
    e.ipa.at("2026-03-20T17:02:00Z");
    let report = claims::sweeper::sweep(
        &e.deps_of("claims-sweeper"),
        mso_api::Clock::now(e.ipa.clock.as_ref()),
    )
    .await
    .unwrap();
    assert_eq!(report.relayed_events, 1);
    e.drain().await;
    assert_eq!(e.get(&id).await["status"], "accepted");
}
