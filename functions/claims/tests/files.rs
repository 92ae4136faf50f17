//! X12 837 files: posted through the API or dropped by a clearinghouse, read by
//! the bucket's event handler, acknowledged with a 999 and a 277CA. Every real
//! sample (../shared/samples/x12, kept in shared/x12/tests/samples) goes through.

mod support;

use mso_testkit::x12::{Spec, professional};
use serde_json::Value;
use support::*;

fn samples() -> Vec<(String, Vec<u8>)> {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/x12/tests/samples");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("LICENSE")
        })
        .filter(|p| p.extension().is_none_or(|x| x != "md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn trn2_count(ack: &str) -> usize {
    ack.matches("TRN*2*").count()
}

#[tokio::test]
async fn every_real_sample_is_read_and_acknowledged() {
    let e = env().await;
    let samples = samples();
    assert!(samples.len() >= 60, "the samples are missing");
    for (name, bytes) in &samples {
        let resp = e.post_file_as(SUNRISE_ORG, name, bytes).await;
        let status = resp.status().as_u16();
        // Every sample starts with an ISA: taken, never a 5xx.
        assert_eq!(status, 202, "{name}: {}", json(&resp));
        let id = json(&resp)["id"].as_str().unwrap().to_string();
        e.object_created(&format!("claim-files/{id}.x12")).await;
        e.drain().await;
        let file = e.get_file(&id, SUNRISE_ORG, "provider_user").await;
        let ack_999 = file["ack_999"].as_str().unwrap_or_default();
        assert!(ack_999.starts_with("ISA*"), "{name}: no 999");
        let claims = file["counts"]["claims"].as_u64().unwrap();
        if claims == 0 {
            assert_eq!(file["status"], "rejected", "{name}");
            continue;
        }
        // Their providers are not ours: each claim is rejected in the 277CA,
        // the file is not.
        assert_eq!(file["status"], "acknowledged", "{name}: {}", file["counts"]);
        assert_eq!(file["counts"]["rejected"].as_u64(), Some(claims), "{name}");
        let ack = file["ack_277ca"].as_str().unwrap();
        assert_eq!(
            trn2_count(ack) as u64,
            claims + 1,
            "{name}: a TRN*2 per claim and the batch's"
        );
        let rejections = ack.matches("STC*A3:").count() + ack.matches("STC*A7:").count();
        assert_eq!(rejections as u64, claims, "{name}");
        let json_claims: usize = file["ack_277ca_json"]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["claims"].as_array().unwrap().len())
            .sum();
        assert_eq!(json_claims as u64, claims, "{name}");
    }
}

#[tokio::test]
async fn good_claims_are_accepted_and_bad_ones_rejected_in_the_277ca() {
    let e = env().await;
    let mut bad_npi = Spec::office_visit("BAD-NPI", "20260312");
    bad_npi.rendering_npi = Some("1234567890".into());
    bad_npi.billing_npi = "1234567890".into();
    let mut theirs = Spec::office_visit("THEIRS", "20260313");
    theirs.billing_npi = HARBOR_NPI.into();
    theirs.rendering_npi = None;
    let file = professional(
        42,
        &[
            Spec::office_visit("GOOD-1", "20260310"),
            bad_npi,
            Spec::office_visit("GOOD-2", "20260311").with_line("36415", 1_500, 1),
            theirs,
        ],
    );
    let v = e.file(file.as_bytes()).await;
    assert_eq!(v["status"], "acknowledged", "{v}");
    assert_eq!(v["counts"]["claims"], 4);
    assert_eq!(v["counts"]["accepted"], 2);
    assert_eq!(v["counts"]["rejected"], 2);
    let ack_999 = v["ack_999"].as_str().unwrap();
    assert!(ack_999.contains("AK9*A*1*1*1~"), "{ack_999}");
    let ack = v["ack_277ca"].as_str().unwrap();
    assert!(ack.contains("TRN*2*GOOD-1~\nSTC*A2:20"), "{ack}");
    assert!(ack.contains("TRN*2*GOOD-2~\nSTC*A2:20"), "{ack}");
    // No provider of ours: rejected naming the billing provider.
    assert!(ack.contains("TRN*2*BAD-NPI~\nSTC*A3:21:85"), "{ack}");
    assert!(ack.contains("TRN*2*THEIRS~\nSTC*A3:21:85"), "{ack}");
    // The accepted claims carry their claim ID (REF*1K), as the provider's list does.
    let claims = e.list("", SUNRISE_ORG, "provider_user").await;
    let items = claims["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for c in items.iter().filter(|c| c["status"] == "accepted") {
        assert!(ack.contains(&format!("REF*1K*{}~", c["id"].as_str().unwrap())));
        assert_eq!(c["file_id"], v["id"]);
    }
    // The file is read as JSON too.
    let providers = v["ack_277ca_json"]["providers"].as_array().unwrap();
    let statuses: Vec<&str> = providers
        .iter()
        .flat_map(|p| p["claims"].as_array().unwrap())
        .map(|c| c["decision"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "accepted").count(), 2);
}

#[tokio::test]
async fn a_claim_with_bad_codes_in_a_file_is_rejected_with_the_reason() {
    let e = env().await;
    let mut bad = Spec::office_visit("BAD-CODE", "20260312");
    bad.lines[0].code = "9921".into();
    bad.diagnosis = "Q".into();
    let v = e
        .file(professional(7, &[bad, Spec::office_visit("OK", "20260312")]).as_bytes())
        .await;
    assert_eq!(v["counts"]["rejected"], 1, "{v}");
    assert_eq!(v["counts"]["accepted"], 1);
    let ack = v["ack_277ca"].as_str().unwrap();
    assert!(ack.contains("TRN*2*OK~\nSTC*A2:20"), "{ack}");
    assert!(ack.contains("TRN*2*BAD-CODE~\nSTC*A7:"), "{ack}");
    let rejected: Vec<Value> = e
        .all_claims()
        .await
        .into_iter()
        .filter(|c| c["status"] == "rejected")
        .collect();
    let claim = e.get(rejected[0]["id"].as_str().unwrap()).await;
    let codes = edit_codes(&claim);
    assert!(
        codes.contains(&"invalid_diagnosis".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"invalid_procedure".to_string()),
        "{codes:?}"
    );
}

#[tokio::test]
async fn a_truncated_file_or_a_bad_isa_is_rejected_by_the_999_and_stores_no_claim() {
    let e = env().await;
    let whole = professional(9, &[Spec::office_visit("CUT", "20260312")]);
    let cut = &whole[..whole.find("SE*").unwrap()];
    let v = e.file(cut.as_bytes()).await;
    assert_eq!(v["status"], "rejected", "{v}");
    assert_eq!(v["counts"]["claims"], 0);
    let ack_999 = v["ack_999"].as_str().unwrap();
    assert!(
        ack_999.contains("IK5*R") || ack_999.contains("AK9*R"),
        "{ack_999}"
    );
    assert!(v["ack_277ca"].is_null());
    let bad_isa = whole.replacen("*00501*", "*0050*", 1);
    let v = e.file(bad_isa.as_bytes()).await;
    assert_eq!(v["counts"]["claims"], 0, "{v}");
    assert!(e.all_claims().await.is_empty());
}

#[tokio::test]
async fn a_file_read_twice_is_the_same_claims() {
    let e = env().await;
    let file = professional(
        11,
        &[
            Spec::office_visit("A", "20260310"),
            Spec::office_visit("B", "20260311"),
        ],
    );
    let first = e.file(file.as_bytes()).await;
    // Posted again under another key: the same file.
    let resp = e
        .post_file_as(SUNRISE_ORG, "other-key", file.as_bytes())
        .await;
    assert_eq!(json(&resp)["id"], first["id"]);
    // S3 delivers the event again.
    let id = first["id"].as_str().unwrap();
    let report = e.object_created(&format!("claim-files/{id}.x12")).await;
    assert_eq!(
        serde_json::to_value(&report).unwrap()["records"][0]["outcome"],
        "unchanged"
    );
    assert_eq!(e.drain().await, 0);
    assert_eq!(e.all_claims().await.len(), 2);
    // The same key with another file is refused.
    let other = professional(12, &[Spec::office_visit("C", "20260312")]);
    let resp = e
        .post_file_as(SUNRISE_ORG, "other-key", other.as_bytes())
        .await;
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn a_file_cut_short_by_a_crash_is_read_again_whole() {
    let e = env().await;
    let specs: Vec<Spec> = (0..40)
        .map(|i| {
            let mut s = Spec::office_visit(&format!("N{i}"), "20260312");
            s.lines[0].charge_cents += i;
            s
        })
        .collect();
    let file = professional(13, &specs);
    let resp = e.post_file_as(SUNRISE_ORG, "crash", file.as_bytes()).await;
    let id = json(&resp)["id"].as_str().unwrap().to_string();
    e.object_created(&format!("claim-files/{id}.x12")).await;
    // As if the first read had stored its claims and died before marking the
    // file read: put the file back to `received`, and deliver the event again.
    let key = mso_store::keys::claim_file(&id);
    let mut record = e.deps.records.get(&key).await.unwrap().unwrap();
    let mut body = record.body.to_value().unwrap();
    body["status"] = "received".into();
    record.body = body.into();
    e.deps
        .records
        .put(record, mso_store::Condition::None)
        .await
        .unwrap();
    e.object_created(&format!("claim-files/{id}.x12")).await;
    e.drain().await;
    let v = e.get_file(&id, SUNRISE_ORG, "provider_user").await;
    assert_eq!(v["counts"]["claims"], 40, "{}", v["counts"]);
    // Each a different charge for the same visit: the first accepted, the rest
    // suspect duplicates of it, pended; none stored twice.
    assert_eq!(v["counts"]["accepted"], 1, "{}", v["counts"]);
    assert_eq!(v["counts"]["pended"], 39, "{}", v["counts"]);
    assert_eq!(e.all_claims().await.len(), 40);
}

#[tokio::test]
async fn a_clearinghouse_drop_files_each_claim_with_its_providers_organisation() {
    let e = env().await;
    let mut theirs = Spec::office_visit("H-1", "20260312");
    theirs.billing_npi = HARBOR_NPI.into();
    theirs.rendering_npi = None;
    let mut nobody = Spec::office_visit("X-1", "20260312");
    nobody.billing_npi = "1234567890".into();
    nobody.rendering_npi = None;
    let file = professional(21, &[Spec::office_visit("S-1", "20260312"), theirs, nobody]);
    e.drop_file("inbound/acme/2026-03-20 batch.837", file.into_bytes())
        .await;
    let report = e.object_created("inbound/acme/2026-03-20 batch.837").await;
    let outcome = serde_json::to_value(&report).unwrap();
    assert_eq!(outcome["records"][0]["outcome"], "read", "{outcome}");
    assert_eq!(outcome["records"][0]["claims"], 3);
    assert_eq!(outcome["records"][0]["rejected"], 1);
    e.drain().await;
    let ours = e.list("", SUNRISE_ORG, "provider_user").await;
    assert_eq!(ours["items"].as_array().unwrap().len(), 1);
    let harbor = e.list("", HARBOR_ORG, "provider_user").await;
    assert_eq!(harbor["items"].as_array().unwrap().len(), 1);
    // The drop's acknowledgements are the IPA staff's to read.
    let file_id = ours["items"][0]["file_id"].as_str().unwrap().to_string();
    let resp = e
        .call(
            Call::new(
                "GET /v1/claim-files/{id}",
                &format!("/v1/claim-files/{file_id}"),
            )
            .by(SUNRISE_ORG, "provider_user"),
        )
        .await;
    assert_eq!(resp.status(), 404);
    let v = e.get_file(&file_id, IPA, "claims_examiner").await;
    assert_eq!(v["status"], "acknowledged", "{v}");
    assert_eq!(trn2_count(v["ack_277ca"].as_str().unwrap()), 4);
}

/// An event whose object was deleted before it was read (a clearinghouse that
/// took a drop back) is ignored, not failed: the stack's role may list the
/// bucket, so S3 answers the read 404, and the event does not go to the
/// dead-letter queue after its retries.
#[tokio::test]
async fn a_drop_deleted_before_its_event_is_read_is_ignored() {
    let e = env().await;
    let key = "inbound/acme/taken back.837";
    let file = professional(22, &[Spec::office_visit("S-2", "20260312")]);
    e.drop_file(key, file.into_bytes()).await;
    e.deps.files.delete(key).await.unwrap();
    let report = e.object_created(key).await;
    let outcome = serde_json::to_value(&report).unwrap();
    assert_eq!(outcome["records"][0]["outcome"], "ignored", "{outcome}");
    assert_eq!(
        outcome["records"][0]["why"], "the object is gone",
        "{outcome}"
    );
    assert!(e.all_claims().await.is_empty());
}

/// A dropped file's record is created, not read back, and the providers its
/// claims name (billing and rendering, three here) are read in one request:
/// one read in all. The file is marked read in its claims' transaction: two
/// writes of the table before the outbox's removals (the record's creation,
/// then the claims with the mark). A second delivery of the event changes
/// nothing.
#[tokio::test]
async fn a_clearinghouse_drop_reads_its_providers_in_one_request_and_nothing_else() {
    let mut e = env().await;
    let mut theirs = Spec::office_visit("H-1", "20260312");
    theirs.billing_npi = HARBOR_NPI.into();
    theirs.rendering_npi = None;
    let file = professional(
        22,
        &[
            Spec::office_visit("S-1", "20260312"),
            Spec::office_visit("S-2", "20260313"),
            theirs,
        ],
    );
    let key = "inbound/acme/2026-03-21.837";
    e.drop_file(key, file.into_bytes()).await;
    let slow = SlowReads::new(e.deps.records.clone(), std::time::Duration::from_millis(1));
    e.deps.records = slow.clone();
    let outcome = serde_json::to_value(e.object_created(key).await).unwrap();
    assert_eq!(outcome["records"][0]["outcome"], "read", "{outcome}");
    assert_eq!(outcome["records"][0]["claims"], 3);
    assert_eq!(
        slow.reads(),
        1,
        "every provider the file names, in one request"
    );
    assert_eq!(
        slow.writes(),
        2 + 3,
        "the file's record, its claims with the mark, and one outbox removal per claim"
    );
    let again = serde_json::to_value(e.object_created(key).await).unwrap();
    assert_eq!(again["records"][0]["outcome"], "unchanged", "{again}");
}

/// S3 may deliver one drop's event twice at once. Both read the file; the
/// first to commit its last claims marks it read, the other stores nothing
/// and says so: each claim once, one work item each.
#[tokio::test]
async fn a_drop_delivered_twice_at_once_is_read_once() {
    let e = env().await;
    let file = professional(
        23,
        &[
            Spec::office_visit("T-1", "20260312"),
            Spec::office_visit("T-2", "20260313"),
            Spec::office_visit("T-3", "20260314"),
        ],
    );
    let key = "inbound/acme/2026-03-22.837";
    e.drop_file(key, file.into_bytes()).await;
    let (first, second) = tokio::join!(e.object_created(key), e.object_created(key));
    let mut outcomes: Vec<String> = [first, second]
        .iter()
        .map(|r| serde_json::to_value(r).unwrap()["records"][0]["outcome"].to_string())
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, [r#""read""#, r#""unchanged""#]);
    assert_eq!(e.all_claims().await.len(), 3);
    assert_eq!(e.drain().await, 3, "one edit work item per claim");
    let ours = e.list("", SUNRISE_ORG, "provider_user").await;
    let file_id = ours["items"][0]["file_id"].as_str().unwrap().to_string();
    let v = e.get_file(&file_id, IPA, "claims_examiner").await;
    assert_eq!(v["counts"]["claims"], 3, "{v}");
}

/// A drop is read in three round trips: its bytes; then its record's
/// creation, its providers and both forms of its 999 together; then its
/// claims with the mark. (In the stack the table's stream sends the claims'
/// work items; here each is sent and its outbox row removed after.)
#[tokio::test]
async fn a_clearinghouse_drop_is_read_in_three_round_trips() {
    let mut e = env().await;
    let file = professional(24, &[Spec::office_visit("R-1", "20260312")]);
    let key = "inbound/acme/2026-03-23.837";
    e.drop_file(key, file.into_bytes()).await;
    let slow = mso_testkit::SlowReads::with_slow_writes(
        e.deps.records.clone(),
        std::time::Duration::from_millis(5),
    );
    e.deps.files = mso_testkit::SlowObjects::counted_with(e.deps.files.clone(), &slow);
    e.deps.records = slow.clone();
    let outcome = serde_json::to_value(e.object_created(key).await).unwrap();
    assert_eq!(outcome["records"][0]["outcome"], "read", "{outcome}");
    assert_eq!(
        slow.most_at_once(),
        4,
        "record, providers, 999 and its JSON at once"
    );
    assert_eq!(
        slow.reads_in_turn(),
        3 + 1,
        "three, then the one claim's outbox row"
    );
    let file_id = outcome["records"][0]["file_id"].as_str().unwrap();
    let v = e.get_file(file_id, IPA, "claims_examiner").await;
    assert!(
        v["ack_999"].as_str().unwrap().contains("AK9*A*1*1*1"),
        "{v}"
    );
}

/// A posted file's record and bytes are read together: one round trip fewer
/// than one after the other.
#[tokio::test]
async fn a_posted_file_is_read_in_three_round_trips() {
    let mut e = env().await;
    let file = professional(25, &[Spec::office_visit("R-2", "20260312")]);
    let resp = e
        .post_file_as(SUNRISE_ORG, &fresh_key(), file.as_bytes())
        .await;
    assert_eq!(resp.status(), 202);
    let id = json(&resp)["id"].as_str().unwrap().to_string();
    let slow = mso_testkit::SlowReads::with_slow_writes(
        e.deps.records.clone(),
        std::time::Duration::from_millis(5),
    );
    e.deps.files = mso_testkit::SlowObjects::counted_with(e.deps.files.clone(), &slow);
    e.deps.records = slow.clone();
    let outcome =
        serde_json::to_value(e.object_created(&format!("claim-files/{id}.x12")).await).unwrap();
    assert_eq!(outcome["records"][0]["outcome"], "read", "{outcome}");
    assert_eq!(
        slow.reads_in_turn(),
        3 + 1,
        "three, then the one claim's outbox row"
    );
}

/// A clearinghouse that uploads a file it sent before, the next day: the
/// same bytes at the same key are the same file, read already. Its second
/// event changes nothing, not even the 999 the first one wrote (whose stamp,
/// written again that day, would have changed).
#[tokio::test]
async fn a_drop_uploaded_again_later_keeps_its_999() {
    let e = env().await;
    let file = professional(26, &[Spec::office_visit("U-1", "20260312")]);
    let key = "inbound/acme/2026-03-24.837";
    e.drop_file(key, file.clone().into_bytes()).await;
    let first = serde_json::to_value(e.object_created(key).await).unwrap();
    assert_eq!(first["records"][0]["outcome"], "read", "{first}");
    let file_id = first["records"][0]["file_id"].as_str().unwrap().to_string();
    let ack_999 = || async {
        e.deps
            .files
            .get(&mso_store::keys::claim_ack_object(&file_id, "999.x12"))
            .await
            .unwrap()
            .unwrap()
            .1
    };
    let acknowledged = ack_999().await;

    e.ipa.at("2026-03-21T18:30:00Z");
    e.drop_file(key, file.into_bytes()).await;
    let again = serde_json::to_value(e.object_created(key).await).unwrap();
    assert_eq!(again["records"][0]["outcome"], "unchanged", "{again}");
    assert_eq!(again["records"][0]["file_id"], file_id.as_str());
    assert_eq!(ack_999().await, acknowledged);
    assert_eq!(e.all_claims().await.len(), 1);
}

#[tokio::test]
async fn bodies_that_are_no_x12_file_are_refused_with_the_reason() {
    let e = env().await;
    let empty = e.post_file_as(SUNRISE_ORG, "e", b"").await;
    assert_eq!(empty.status(), 400);
    assert_eq!(json(&empty)["errors"][0]["code"], "required");
    let pdf = e.post_file_as(SUNRISE_ORG, "p", b"%PDF-1.7 ...").await;
    assert_eq!(pdf.status(), 400);
    assert_eq!(json(&pdf)["errors"][0]["code"], "not_x12");
    let big = vec![b'A'; claims::MAX_FILE_BYTES + 1];
    assert_eq!(e.post_file_as(SUNRISE_ORG, "b", &big).await.status(), 413);
    let mut call = Call::new("POST /v1/claim-files", "/v1/claim-files")
        .by(SUNRISE_ORG, "provider_user")
        .header("idempotency-key", "j")
        .header("content-type", "application/json");
    call.body = b"{}".to_vec();
    assert_eq!(e.call(call).await.status(), 415);
    // Staff do not post files; another organisation does not read ours.
    let file = professional(31, &[Spec::office_visit("A", "20260312")]);
    let v = e.file(file.as_bytes()).await;
    let resp = e
        .call(
            Call::new(
                "GET /v1/claim-files/{id}",
                &format!("/v1/claim-files/{}", v["id"].as_str().unwrap()),
            )
            .by(HARBOR_ORG, "provider_user"),
        )
        .await;
    assert_eq!(resp.status(), 404);
    assert!(e.all_claims().await.len() == 1);
}

#[tokio::test]
async fn mangled_files_never_fail_the_handler_nor_half_store_a_claim() {
    let e = env().await;
    let good = professional(
        51,
        &[
            Spec::office_visit("M-1", "20260310"),
            Spec::office_visit("M-2", "20260311").with_line("36415", 1_500, 1),
        ],
    );
    let mut rng = fastrand::Rng::with_seed(0x837);
    for round in 0..150 {
        let mut bytes = good.clone().into_bytes();
        match round % 3 {
            // Cut anywhere.
            0 => bytes.truncate(rng.usize(1..bytes.len())),
            // Overwrite a few bytes with anything (delimiters included).
            1 => {
                for _ in 0..rng.usize(1..6) {
                    let at = rng.usize(..bytes.len());
                    bytes[at] = *rng.choice(b"*:~^\n0A9 \x00\xff").unwrap();
                }
            }
            // Drop a segment.
            _ => {
                let segments: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'~').collect();
                let drop = rng.usize(..segments.len());
                bytes = segments
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != drop)
                    .flat_map(|(_, s)| s.iter().copied())
                    .collect();
            }
        }
        let resp = e
            .post_file_as(SUNRISE_ORG, &format!("m-{round}"), &bytes)
            .await;
        let status = resp.status().as_u16();
        assert!(status == 202 || status == 400, "round {round}: {status}");
        if status == 400 {
            continue;
        }
        let id = json(&resp)["id"].as_str().unwrap().to_string();
        // The handler answers (Ok) for every file; storage is all it may fail on.
        e.object_created(&format!("claim-files/{id}.x12")).await;
        e.drain().await;
        let v = e.get_file(&id, SUNRISE_ORG, "provider_user").await;
        let counts = &v["counts"];
        assert_eq!(counts["received"], 0, "round {round}: {counts}");
        let judged = ["accepted", "rejected", "pended", "superseded"]
            .iter()
            .map(|k| counts[*k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(judged, counts["claims"].as_u64().unwrap(), "round {round}");
    }
}

#[tokio::test]
async fn a_files_acknowledgements_are_read_at_once() {
    let mut e = env().await;
    let file = professional(7, &[Spec::office_visit("AT-ONCE", "20260310")]);
    let v = e.file(file.as_bytes()).await;
    assert_eq!(v["status"], "acknowledged", "{v}");
    let id = v["id"].as_str().unwrap();
    let objects =
        mso_testkit::SlowObjects::new(e.deps.files.clone(), std::time::Duration::from_millis(5));
    e.deps.files = objects.clone();
    let again = e.get_file(id, SUNRISE_ORG, "provider_user").await;
    // The 999 and the 277CA, each as X12 and as JSON: one round trip.
    assert_eq!(objects.most_at_once(), 4);
    for ack in ["ack_999", "ack_999_json", "ack_277ca", "ack_277ca_json"] {
        assert!(!again[ack].is_null(), "{ack}: {again}");
        assert_eq!(again[ack], v[ack], "{ack}");
    }
}
