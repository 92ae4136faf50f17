//! The intake bucket's handler with real files on the embedded store: what the
//! clerk finds on the queue, what was linked and noted, which documents were
//! kept, and that bad input is filed with its reasons, never dropped.

mod support;

use bytes::Bytes;
use intake::ingest::Outcome;
use mso_domain::ids::ReferenceId;
use mso_domain::intake::IntakeKind;
use mso_domain::intake::item::ItemStatus;
use mso_records::documents::{self, DocumentStatus, Owner, OwnerKind};
use mso_records::intake::LinkKind;
use mso_store::{DocumentStore, Query, keys};
use support::*;

async fn documents_of(env: &Env, item: &str) -> Vec<documents::DocumentSummary> {
    let owner = Owner::parse(OwnerKind::Intake, item).unwrap();
    documents::of_owner(env.ipa.records.as_ref(), &owner)
        .await
        .unwrap()
}

async fn queued_ids(env: &Env) -> Vec<String> {
    let page = env
        .ipa
        .records
        .query(Query::primary(keys::intake_list("queued"), ""))
        .await
        .unwrap();
    page.records
        .into_iter()
        .map(|r| {
            r.body.to_value().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_faxed_auth_request_with_a_text_layer_waits_with_what_was_found() {
    let env = env().await;
    let outcome = env
        .fax(
            "20260228-1640.pdf",
            fixture("auth-request-form.pdf"),
            Some(sidecar()),
        )
        .await;
    let (id, status) = filed(&outcome);
    assert_eq!(status, "queued");
    let item = env.item(&id).await;
    assert_eq!(item.classification.kind, IntakeKind::PriorAuthRequest);
    assert_eq!(item.sender.as_deref(), Some(FAX_FROM));
    // The legal start is the gateway's receive time, not when we filed it.
    assert_eq!(item.received_at.to_string(), FAX_RECEIVED);
    assert_eq!(item.receipt_source, "fax_gateway");
    assert_eq!(item.arrived_at, env.now());
    assert!(!item.found.npis.is_empty(), "{:?}", item.found);
    assert!(item.text_bytes > 0);
    assert_eq!(queued_ids(&env).await, std::slice::from_ref(&id));
    // The fax itself is a verified document of the item, with its bytes stored.
    let docs = documents_of(&env, &id).await;
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].status, "available");
    assert_eq!(docs[0].content_type, "application/pdf");
    let doc = documents::load(
        env.ipa.records.as_ref(),
        &documents::parse_id(&docs[0].id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value
    .0;
    let (_, bytes) = env
        .ipa
        .documents
        .get(&doc.object_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, fixture("auth-request-form.pdf"));
    assert_eq!(doc.org.as_str(), IPA);
}

/// Whether the fax was filed before, the fax and its gateway's sidecar are
/// read at once (one round trip), then the member the form quotes.
#[tokio::test]
async fn a_fax_and_its_sidecar_are_read_at_once_with_the_filed_check() {
    let mut env = env().await;
    let reads = SlowReads::new(
        env.deps.records.clone(),
        std::time::Duration::from_millis(5),
    );
    env.deps.intake_objects = SlowObjects::counted_with(env.deps.intake_objects.clone(), &reads);
    env.deps.records = reads.clone();
    let outcome = env
        .fax(
            "20260228-1641.pdf",
            fixture("auth-request-form.pdf"),
            Some(sidecar()),
        )
        .await;
    assert_eq!(filed(&outcome).1, "queued");
    assert_eq!(reads.most_at_once(), 3);
    assert_eq!(reads.reads(), 4);
    assert_eq!(reads.reads_in_turn(), 2);
}

#[tokio::test]
async fn clinical_notes_quoting_an_existing_auth_are_linked_and_noted_in_its_history() {
    let env = env().await;
    env.ipa.file_auth("PA-7K3Q9M").await;
    env.ipa.at("2026-03-02T18:00:00Z");
    let outcome = env
        .email("ses-message-1", fixture("three-attachments.eml"))
        .await;
    let (id, status) = filed(&outcome);
    assert_eq!(status, "linked");
    let item = env.item(&id).await;
    let link = item.link.clone().unwrap();
    assert_eq!(
        (link.kind, link.id.as_str(), link.automatic),
        (LinkKind::PriorAuth, "PA-7K3Q9M", true)
    );
    assert_eq!(item.classification.kind, IntakeKind::ClinicalNotes);
    assert!(
        queued_ids(&env).await.is_empty(),
        "a linked item does not wait"
    );
    let docs = documents_of(&env, &id).await;
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert!(docs.iter().all(|d| d.status == "available"), "{docs:?}");
    // The auth's history says which item, when it was received, and its documents.
    let auth = mso_records::prior_auths::load(
        env.ipa.records.as_ref(),
        &ReferenceId::parse("PA-7K3Q9M").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value
    .0;
    let last = auth.history.last().unwrap();
    assert_eq!(last.action, "intake_linked");
    let reason = last.reason.as_deref().unwrap();
    assert!(reason.contains(&id), "{reason}");
    assert!(reason.contains(&docs[0].id), "{reason}");
}

#[tokio::test]
async fn a_reference_to_no_record_waits_for_a_clerk_with_the_reason() {
    let env = env().await;
    let (id, status) = filed(&env.email("ses-2", fixture("three-attachments.eml")).await);
    assert_eq!(status, "queued");
    let item = env.item(&id).await;
    assert!(
        codes(&item).contains(&"reference_not_found"),
        "{:?}",
        item.problems
    );
    assert_eq!(queued_ids(&env).await, [id]);
}

#[tokio::test]
async fn a_bill_quoting_an_existing_claim_is_linked_and_a_dispute_waits_to_be_filed() {
    let env = env().await;
    // Without the claim: the reference is a reason for the clerk.
    let (id, status) = filed(
        &env.email("ses-3", fixture("pdr-quoted-printable.eml"))
            .await,
    );
    assert_eq!(status, "queued");
    let item = env.item(&id).await;
    assert_eq!(item.classification.kind, IntakeKind::Dispute);
    assert!(
        item.problems
            .iter()
            .any(|p| p.code == "reference_not_found" && p.message.contains("CLM-"))
    );

    file_claim(&env, "CLM-8D2K4M9QXZ").await;
    // A PDR quoting the claim starts a dispute (its own clock): it is not
    // linked away from the queue, and the clerk is told why.
    let (id, status) = filed(
        &env.email("ses-4", fixture("pdr-quoted-printable.eml"))
            .await,
    );
    assert_eq!(status, "queued");
    assert!(codes(&env.item(&id).await).contains(&"awaits_filing"));

    // An itemized bill for the claim is a follow-up: linked, and noted on the claim.
    let bill = Bytes::from_static(
        b"From: billing@clinic.example\r\nTo: claims@ipa.example\r\n\
          Subject: Itemized bill for claim CLM-8D2K4M9QXZ\r\n\
          Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n\r\n\
          Itemized bill attached for claim CLM-8D2K4M9QXZ. Total charges 150.00\r\n",
    );
    let (id, status) = filed(&env.email("ses-5", bill).await);
    assert_eq!(status, "linked");
    let link = env.item(&id).await.link.unwrap();
    assert_eq!(
        (link.kind, link.id.as_str()),
        (LinkKind::Claim, "CLM-8D2K4M9QXZ")
    );
    let claim = mso_records::claims::load(
        env.ipa.records.as_ref(),
        &ReferenceId::parse("CLM-8D2K4M9QXZ").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value
    .0;
    let last = claim.history.last().unwrap();
    assert_eq!(last.action, "intake_linked");
    assert!(last.reason.as_deref().unwrap().contains(&id));
}

#[tokio::test]
async fn a_scanned_tiff_fax_is_kept_and_queued_without_text() {
    let env = env().await;
    let (id, status) = filed(
        &env.fax("scan-1.tif", fixture("scanned-fax.tif"), Some(sidecar()))
            .await,
    );
    assert_eq!(status, "queued");
    let item = env.item(&id).await;
    assert!(codes(&item).contains(&"no_text_layer"));
    assert_eq!(item.classification.kind, IntakeKind::Other);
    let docs = documents_of(&env, &id).await;
    assert_eq!(
        (
            docs.len(),
            docs[0].status.as_str(),
            docs[0].content_type.as_str()
        ),
        (1, "available", "image/tiff")
    );
}

#[tokio::test]
async fn five_attachments_are_five_documents() {
    let env = env().await;
    let (id, _) = filed(&env.email("ses-5", fixture("five-attachments.eml")).await);
    let docs = documents_of(&env, &id).await;
    assert_eq!(docs.len(), 5, "{docs:?}");
}

#[tokio::test]
async fn bad_input_is_filed_with_its_reasons_never_dropped() {
    let env = env().await;
    // A corrupt PDF: kept as received (it starts as a PDF), its text unread.
    let (id, status) = filed(
        &env.fax("c.pdf", fixture("corrupt.pdf"), Some(sidecar()))
            .await,
    );
    assert_eq!(status, "queued");
    let corrupt = env.item(&id).await;
    assert!(
        codes(&corrupt).iter().any(|c| c.starts_with("pdf_")),
        "{:?}",
        corrupt.problems
    );
    assert_eq!(documents_of(&env, &id).await.len(), 1);

    // A zero-byte fax: nothing to keep, but the item says what arrived and when.
    let (id, status) = filed(
        &env.fax("z.pdf", fixture("zero-bytes.pdf"), Some(sidecar()))
            .await,
    );
    assert_eq!(status, "queued");
    let empty = env.item(&id).await;
    assert!(codes(&empty).contains(&"empty_file"));
    assert_eq!(empty.received_at.to_string(), FAX_RECEIVED);
    assert!(documents_of(&env, &id).await.is_empty());

    // No sidecar: an unknown sender, and the S3 event's time as the receipt.
    let (id, _) = filed(
        &env.fax("n.pdf", fixture("auth-request-form.pdf"), None)
            .await,
    );
    let unknown = env.item(&id).await;
    assert!(codes(&unknown).contains(&"unknown_sender"));
    assert_eq!(unknown.receipt_source, "s3_event");
    assert_eq!(unknown.received_at, env.now());

    // A bad sidecar is a reason too.
    env.deps
        .intake_objects
        .put(
            "fax/b.json",
            "application/json",
            Bytes::from_static(b"[1,2"),
        )
        .await
        .unwrap();
    let (id, _) = filed(
        &env.fax("b.pdf", fixture("auth-request-form.pdf"), None)
            .await,
    );
    assert!(codes(&env.item(&id).await).contains(&"bad_sidecar"));

    // A raw Latin-1 subject.
    let (id, _) = filed(&env.email("latin1", fixture("latin1-subject.eml")).await);
    let latin = env.item(&id).await;
    assert!(
        codes(&latin).contains(&"subject_not_utf8"),
        "{:?}",
        latin.problems
    );
    assert_eq!(latin.classification.kind, IntakeKind::Appeal);
    assert!(codes(&latin).contains(&"member_not_on_file"));

    // A MIME bomb: refused before parsing, the original kept in the intake bucket.
    let bomb = Bytes::from(support::bombs::many_parts(100_000));
    let (id, status) = filed(&env.email("bomb", bomb).await);
    assert_eq!(status, "queued");
    let refused = env.item(&id).await;
    assert!(
        codes(&refused).contains(&"too_many_parts"),
        "{:?}",
        refused.problems
    );
    assert!(codes(&refused).contains(&"not_a_document_type"));
    assert_eq!(refused.object_key, "email/bomb");
    assert!(
        env.deps
            .intake_objects
            .head("email/bomb")
            .await
            .unwrap()
            .is_some()
    );

    assert_eq!(queued_ids(&env).await.len(), 6);
}

#[tokio::test]
async fn a_redelivered_event_files_nothing_twice() {
    let env = env().await;
    let bytes = fixture("auth-request-form.pdf");
    let size = bytes.len() as u64;
    let (id, _) = filed(&env.fax("r.pdf", bytes, Some(sidecar())).await);
    let kept = env.ipa.object_keys("documents/");
    assert_eq!(kept.len(), 1);
    let again = env.deliver("fax/r.pdf", size).await;
    assert_eq!(
        again.records[0].outcome,
        Outcome::Unchanged {
            item: id.clone(),
            why: "already filed"
        }
    );
    // The redelivery stored nothing: the filed item's document is as it was.
    assert_eq!(env.ipa.object_keys("documents/"), kept);
    let docs = documents_of(&env, &id).await;
    assert_eq!(docs.len(), 1);
    assert_eq!(format!("documents/{}.pdf", docs[0].id), kept[0]);
    // Concurrent duplicates of a new object: one item.
    env.deps
        .intake_objects
        .put(
            "fax/s.pdf",
            "application/pdf",
            fixture("auth-request-form.pdf"),
        )
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        env.deliver("fax/s.pdf", size),
        env.deliver("fax/s.pdf", size)
    );
    let filed_count = [a, b]
        .iter()
        .filter(|r| matches!(r.records[0].outcome, Outcome::Filed { .. }))
        .count();
    assert_eq!(filed_count, 1);
    assert_eq!(queued_ids(&env).await.len(), 2);
    assert_eq!(documents_of(&env, &id).await.len(), 1);
    // One document object per item: the loser's spare copy was removed.
    assert_eq!(env.ipa.object_keys("documents/").len(), 2);
}

#[tokio::test]
async fn sidecars_and_foreign_keys_are_ignored_and_a_vanished_object_is_a_failed_item() {
    let env = env().await;
    let report = env
        .drop_object(
            "fax/x.json",
            Bytes::from(serde_json::to_vec(&sidecar()).unwrap()),
        )
        .await;
    assert!(matches!(report.records[0].outcome, Outcome::Ignored { .. }));
    let report = env
        .drop_object("documents/DOC-1.pdf", Bytes::from_static(b"%PDF-"))
        .await;
    assert!(matches!(report.records[0].outcome, Outcome::Ignored { .. }));
    let report = env.deliver("fax/gone.pdf", 10).await;
    let (id, status) = filed(&report.records[0].outcome);
    assert_eq!(status, "failed");
    let item = env.item(&id).await;
    assert_eq!(item.status, ItemStatus::Failed);
    assert_eq!(codes(&item), ["object_missing"]);
}

#[tokio::test]
async fn an_attachment_that_fails_verification_is_recorded_as_rejected() {
    let env = env().await;
    // A PDF declared and sent, but encrypted: the document is rejected with the
    // reason, and its bytes are not kept as a document.
    let mut pdf = fixture("auth-request-form.pdf").to_vec();
    pdf.extend_from_slice(b"\ntrailer\n<< /Encrypt 5 0 R >>\n");
    let (id, _) = filed(&env.fax("e.pdf", Bytes::from(pdf), Some(sidecar())).await);
    let docs = documents_of(&env, &id).await;
    assert_eq!(docs[0].status, DocumentStatus::Rejected.as_str());
    assert!(codes(&env.item(&id).await).contains(&"document_encrypted_pdf"));
}

#[tokio::test]
async fn a_member_on_file_is_no_problem_and_one_not_on_file_is_said() {
    let env = env().await;
    let email = |member: &str, dob: &str| {
        Bytes::from(format!(
            "From: office@clinic.example\r\nTo: intake@ipa.example\r\nSubject: Referral request\r\n\
             Date: Mon, 02 Mar 2026 09:00:00 +0000\r\nMessage-ID: <{member}@clinic.example>\r\n\r\n\
             Referral request for Member ID: {member} DOB: {dob}\r\n"
        ))
    };
    let (on_file, _) = filed(&env.email("m1", email(ANA.0, "03/15/1984")).await);
    assert!(!codes(&env.item(&on_file).await).contains(&"member_not_on_file"));
    let (wrong_dob, _) = filed(&env.email("m2", email(ANA.0, "03/16/1984")).await);
    let item = env.item(&wrong_dob).await;
    assert!(codes(&item).contains(&"member_not_on_file"));
    // The message names no member or date.
    let message = &item
        .problems
        .iter()
        .find(|p| p.code == "member_not_on_file")
        .unwrap()
        .message;
    assert!(
        !message.contains(ANA.0) && !message.contains("1984"),
        "{message}"
    );
}

/// Stores an open payment dispute `DSP-7K3Q9M` on claim `claim`, filed by the
/// practice through the API now.
async fn file_dispute(env: &Env, claim: &str) -> ReferenceId {
    use mso_domain::disputes::Channel;
    let body = serde_json::json!({
        "kind": "pdr", "claim_id": claim, "reason_category": "underpayment",
        "reason": "Paid below the contract rate.", "amount_disputed": "37.50",
        "remittance_date": "2026-02-25", "contact": {"name": "Billing", "phone": "657-555-0199"}
    });
    let request = mso_records::disputes::request::request(body.as_object().unwrap()).unwrap();
    let id = ReferenceId::parse("DSP-7K3Q9M").unwrap();
    let now = env.now();
    let dispute = mso_records::disputes::file(
        env.ipa.records.as_ref(),
        &env.ipa.policy,
        None,
        request,
        now,
        Channel::Electronic,
        None,
        id.clone(),
        mso_domain::prior_auth::Actor::system(),
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("the fixture dispute is refused: {e:?}"));
    mso_records::disputes::Change::created(&dispute, now)
        .unwrap()
        .commit(
            mso_records::Ports {
                records: env.ipa.records.as_ref(),
                queue: env.ipa.queue.as_ref(),
            },
            None,
        )
        .await
        .unwrap();
    id
}

/// More documents for a dispute, quoting it and its claim.
fn documents_for_dispute(n: u32) -> Bytes {
    Bytes::from(format!(
        "From: billing@sunrisefm.example\r\nTo: intake@ipa.example\r\n\
         Subject: PDR DSP-7K3Q9M additional documents\r\n\
         Message-ID: <more-{n}@sunrisefm.example>\r\n\
         Date: Tue, 03 Mar 2026 09:00:00 +0000\r\n\r\n\
         Additional documents for provider dispute DSP-7K3Q9M on claim CLM-8D2K4M9QXZ:\r\n\
         the contract page showing the rate for 99213.\r\n"
    ))
}

#[tokio::test]
async fn correspondence_quoting_an_open_dispute_is_linked_to_it_and_a_closed_one_waits() {
    let env = env().await;
    file_claim(&env, "CLM-8D2K4M9QXZ").await;
    let dispute_id = file_dispute(&env, "CLM-8D2K4M9QXZ").await;

    // Classified a dispute (it quotes the claim too), but the dispute it
    // quotes is open: the item is correspondence on it, not a new filing.
    let (id, status) = filed(&env.email("ses-d1", documents_for_dispute(1)).await);
    assert_eq!(status, "linked");
    let item = env.item(&id).await;
    assert_eq!(item.classification.kind, IntakeKind::Dispute);
    let link = item.link.clone().unwrap();
    assert_eq!(
        (link.kind, link.id.as_str(), link.automatic),
        (LinkKind::Dispute, "DSP-7K3Q9M", true)
    );
    assert!(
        !codes(&item).contains(&"awaits_filing"),
        "{:?}",
        item.problems
    );
    let stored = mso_records::disputes::load(env.ipa.records.as_ref(), &dispute_id)
        .await
        .unwrap()
        .unwrap();
    let noted: Vec<_> = stored
        .value
        .0
        .history
        .iter()
        .filter(|h| h.action == "intake_linked")
        .collect();
    assert_eq!(noted.len(), 1);
    assert!(noted[0].reason.as_deref().unwrap().contains(&id));

    // Once the dispute is closed, the same letter waits for a clerk, who
    // decides whether it is a new dispute.
    let mut closed = stored.value.0.clone();
    closed.status = mso_domain::disputes::Status::Closed;
    mso_records::disputes::Change::updated(&stored, &closed, env.now())
        .unwrap()
        .commit(
            mso_records::Ports {
                records: env.ipa.records.as_ref(),
                queue: env.ipa.queue.as_ref(),
            },
            None,
        )
        .await
        .unwrap();
    let (id, status) = filed(&env.email("ses-d2", documents_for_dispute(2)).await);
    assert_eq!(status, "queued");
    let item = env.item(&id).await;
    assert!(
        codes(&item).contains(&"dispute_not_open"),
        "{:?}",
        item.problems
    );
    assert!(
        codes(&item).contains(&"awaits_filing"),
        "{:?}",
        item.problems
    );
}
