//! Every fixture through `parse_intake`, checked for what a clerk would see: the
//! kind and why, the references found, the documents to store, and the reasons
//! for anything wrong. The bombs are in tests/bombs.rs.

use bytes::Bytes;
use intake::{
    FaxMetadata, FileKind, IntakeObject, Limits, ParsedItem, PdfLimits, ReceiptSource, Source,
    extract_text, parse_intake,
};
use jiff::Timestamp;
use lopdf::dictionary;
use mso_domain::intake::{Confidence, IntakeKind};

fn fixture(name: &str) -> Bytes {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into()
}

fn gateway() -> FaxMetadata {
    let (meta, problems) = FaxMetadata::from_pairs([
        ("x-amz-meta-fax-from", "+1 323 555 0142"),
        ("x-amz-meta-received-at", "2026-03-02T17:15:00Z"),
    ]);
    assert!(problems.is_empty());
    meta
}

fn fax(bytes: Bytes, fax: FaxMetadata) -> ParsedItem {
    parse_intake(
        &IntakeObject {
            source: Source::Fax,
            bytes,
            file_name: Some("fax-20260302-0915.pdf".into()),
            fax,
            event_time: None,
        },
        &Limits::default(),
    )
}

/// As the handler calls it: with the S3 event time as the fallback receipt time.
fn email(bytes: Bytes) -> ParsedItem {
    email_at(bytes, Some(ts("2026-03-02T09:16:00Z")))
}

fn email_at(bytes: Bytes, event_time: Option<Timestamp>) -> ParsedItem {
    parse_intake(
        &IntakeObject {
            source: Source::Email,
            bytes,
            file_name: None,
            fax: FaxMetadata::default(),
            event_time,
        },
        &Limits::default(),
    )
}

fn problem_codes(item: &ParsedItem) -> Vec<&str> {
    item.problems.iter().map(|p| p.code.as_ref()).collect()
}

fn refs(item: &ParsedItem) -> Vec<&str> {
    item.found.references.iter().map(|r| r.as_str()).collect()
}

fn member_pairs(item: &ParsedItem) -> Vec<(String, String)> {
    item.found
        .members_with_dob()
        .map(|(m, d)| (m.to_string(), d.to_string()))
        .collect()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

// --- faxes ----------------------------------------------------------------------

#[test]
fn a_faxed_authorization_request_form_is_read_and_classified() {
    let item = fax(fixture("auth-request-form.pdf"), gateway());

    assert_eq!(item.classification.kind, IntakeKind::PriorAuthRequest);
    assert_eq!(item.classification.confidence, Confidence::High);
    assert_eq!(
        item.classification.explanation(),
        "text has 'Authorization Request Form'; text has 'Requested Units'"
    );
    assert_eq!(
        member_pairs(&item),
        [("ABC123456".into(), "1984-03-15".into())]
    );
    let npis: Vec<_> = item.found.npis.iter().map(|n| n.as_str()).collect();
    assert_eq!(npis, ["1234567893"]);
    let cpt: Vec<_> = item
        .found
        .procedure_codes
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(cpt, ["73721"]);
    let icd: Vec<_> = item
        .found
        .diagnosis_codes
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(icd, ["M17.11"]);
    assert!(refs(&item).is_empty(), "a new request has no reference yet");

    assert_eq!(item.documents.len(), 1);
    let doc = &item.documents[0];
    assert_eq!(doc.content_type, "application/pdf");
    assert_eq!(doc.pages, Some(1));
    assert_eq!(doc.has_text_layer, Some(true));
    assert_eq!(doc.file_name.as_deref(), Some("fax-20260302-0915.pdf"));
    assert_eq!(doc.bytes, fixture("auth-request-form.pdf"));

    assert_eq!(item.sender.as_deref(), Some("+1 323 555 0142"));
    assert_eq!(
        item.received.map(|r| (r.at, r.source)),
        Some((ts("2026-03-02T17:15:00Z"), ReceiptSource::FaxGateway))
    );
    assert!(item.problems.is_empty(), "{:?}", item.problems);
    assert!(!item.refused);
}

#[test]
fn a_form_printed_with_an_embedded_font_reads_as_the_same_form() {
    // A composite font subset (Type0, Identity-H): its text is only in its
    // ToUnicode map, as in PDFs from Word and PDF printers.
    let item = fax(fixture("auth-request-embedded-font.pdf"), gateway());
    assert_eq!(item.classification.kind, IntakeKind::PriorAuthRequest);
    assert_eq!(item.classification.confidence, Confidence::High);
    assert_eq!(
        member_pairs(&item),
        [("ABC123456".into(), "1984-03-15".into())]
    );
    assert_eq!(item.documents[0].has_text_layer, Some(true));
    assert!(item.problems.is_empty(), "{:?}", item.problems);

    let pdf = extract_text(
        &fixture("auth-request-embedded-font.pdf"),
        &PdfLimits::default(),
    )
    .unwrap();
    assert!(
        pdf.text.contains("Member Name: José Núñez-Ibáñez\n"),
        "{}",
        pdf.text.len()
    );
    assert!(
        pdf.text
            .ends_with("Urgent \u{2022} expedited review requested \u{2014} see notes")
    );
}

#[test]
fn a_ten_page_fax_of_clinical_notes_links_to_its_auth() {
    let item = fax(fixture("fax-10-pages.pdf"), gateway());
    assert_eq!(item.documents[0].pages, Some(10));
    assert_eq!(refs(&item), ["PA-7K3Q9M"]);
    assert_eq!(item.classification.kind, IntakeKind::ClinicalNotes);
    let why = item.classification.explanation();
    assert!(why.contains("text has 'Clinical Notes'"), "{why}");
    assert!(why.contains("found reference PA-7K3Q9M"), "{why}");
    // Every page was read: page 10's own line is in the text.
    assert!(item.text.contains("Page 10 of 10"));
    assert!(item.problems.is_empty(), "{:?}", item.problems);
}

#[test]
fn a_scanned_tiff_fax_is_stored_with_no_text_and_classified_from_metadata_only() {
    let item = fax(fixture("scanned-fax.tif"), gateway());
    assert_eq!(item.documents.len(), 1);
    assert_eq!(item.documents[0].kind, FileKind::Tiff);
    assert_eq!(item.documents[0].content_type, "image/tiff");
    assert!(item.text.is_empty());
    assert!(item.found.is_empty());
    assert_eq!(item.classification.kind, IntakeKind::Other);
    assert_eq!(problem_codes(&item), ["no_text_layer"]);

    // The gateway's cover-sheet subject is all there is to go on.
    let (mut meta, _) = FaxMetadata::from_sidecar_json(
        br#"{"from": "+13235550142", "received_at": 1772471700, "subject": "PDR for claim CLM-8D2K4M9QXZ"}"#,
    );
    meta.pages = Some(2);
    let item = fax(fixture("scanned-fax.tif"), meta);
    assert_eq!(refs(&item), ["CLM-8D2K4M9QXZ"]);
    assert_eq!(item.classification.kind, IntakeKind::Dispute);
    assert_eq!(item.classification.explanation(), "subject mentions 'PDR'");
    assert_eq!(
        item.received.map(|r| r.at),
        Some(Timestamp::from_second(1_772_471_700).unwrap())
    );
}

#[test]
fn a_scanned_pdf_has_no_text_layer_and_says_so() {
    let item = fax(fixture("scanned-no-text-layer.pdf"), gateway());
    let doc = &item.documents[0];
    assert_eq!((doc.pages, doc.has_text_layer), (Some(1), Some(false)));
    assert!(item.text.is_empty());
    assert_eq!(problem_codes(&item), ["no_text_layer"]);
    assert!(item.problems[0].message.contains("no text layer"));
}

#[test]
fn a_corrupt_pdf_is_stored_and_queued_with_the_reason() {
    let item = fax(fixture("corrupt.pdf"), gateway());
    assert_eq!(item.documents.len(), 1, "the fax is still stored");
    assert_eq!(item.documents[0].content_type, "application/pdf");
    assert_eq!(item.documents[0].pages, None);
    assert_eq!(problem_codes(&item), ["pdf_unreadable"]);
    assert!(
        item.problems[0]
            .message
            .starts_with("the fax: the PDF could not be read"),
        "{}",
        item.problems[0].message
    );
    assert_eq!(item.classification.kind, IntakeKind::Other);
}

#[test]
fn a_pdf_cut_short_is_still_read_or_refused_with_a_reason() {
    let whole = fixture("fax-10-pages.pdf");
    for cut in [9, 100, whole.len() / 3, whole.len() / 2, whole.len() - 30] {
        let item = fax(whole.slice(..cut), gateway());
        assert_eq!(item.documents.len(), 1, "cut at {cut}");
        let doc = &item.documents[0];
        // lopdf rebuilds what it can; whatever it cannot is a stated problem.
        assert!(
            doc.has_text_layer == Some(true) || !item.problems.is_empty(),
            "cut at {cut}: {item:?}"
        );
    }
}

#[test]
fn a_zero_byte_fax_is_queued_with_nothing_to_store() {
    let item = fax(fixture("zero-bytes.pdf"), gateway());
    assert!(item.documents.is_empty());
    assert_eq!(problem_codes(&item), ["empty_file"]);
    assert_eq!(item.classification.kind, IntakeKind::Other);
    assert!(item.received.is_some(), "the clock still starts");
}

#[test]
fn a_fax_with_no_metadata_has_an_unknown_sender_and_the_event_time() {
    let item = parse_intake(
        &IntakeObject {
            source: Source::Fax,
            bytes: fixture("auth-request-form.pdf"),
            file_name: None,
            fax: FaxMetadata::default(),
            event_time: Some(ts("2026-03-02T17:16:03Z")),
        },
        &Limits::default(),
    );
    assert_eq!(item.sender, None);
    assert_eq!(problem_codes(&item), ["unknown_sender"]);
    assert_eq!(
        item.received.map(|r| (r.at, r.source)),
        Some((ts("2026-03-02T17:16:03Z"), ReceiptSource::S3Event))
    );
    // Still classified and searched.
    assert_eq!(item.classification.kind, IntakeKind::PriorAuthRequest);

    let item = fax(fixture("auth-request-form.pdf"), FaxMetadata::default());
    assert_eq!(problem_codes(&item), ["unknown_sender", "no_receipt_time"]);
}

#[test]
fn a_file_that_is_neither_pdf_nor_tiff_is_stored_as_it_is() {
    let item = fax(Bytes::from_static(b"GIF89a not a fax"), gateway());
    assert_eq!(item.documents[0].content_type, "application/octet-stream");
    assert_eq!(problem_codes(&item), ["unknown_file_type"]);
}

#[test]
fn fax_metadata_reads_the_gateways_names_and_says_what_it_cannot_read() {
    let (meta, problems) = FaxMetadata::from_pairs([
        ("X-Amz-Meta-Caller_ID", "3235550142"),
        ("x-amz-meta-receive-time", "2026-03-02T09:15:00-08:00"),
        ("x-amz-meta-page-count", "10"),
        ("x-amz-meta-something-else", "ignored"),
    ]);
    assert!(problems.is_empty());
    assert_eq!(meta.from.as_deref(), Some("3235550142"));
    assert_eq!(meta.received_at, Some(ts("2026-03-02T17:15:00Z")));
    assert_eq!(meta.pages, Some(10));

    let (meta, problems) = FaxMetadata::from_pairs([("received-at", "yesterday at 9")]);
    assert_eq!(meta.received_at, None);
    assert_eq!(problems[0].code, "bad_receipt_time");

    let (_, problems) = FaxMetadata::from_sidecar_json(b"[1, 2]");
    assert_eq!(problems[0].code, "bad_sidecar");
    let (_, problems) = FaxMetadata::from_sidecar_json(b"{\"from\": ");
    assert_eq!(problems[0].code, "bad_sidecar");
}

// --- emails ---------------------------------------------------------------------

#[test]
fn an_email_with_three_attachments_files_each_and_links_by_the_subjects_reference() {
    let item = email(fixture("three-attachments.eml"));
    assert_eq!(
        item.subject.as_deref(),
        Some("Clinical notes for PA-7K3Q9M")
    );
    assert_eq!(item.sender.as_deref(), Some("frontdesk@sunrisefm.example"));
    assert_eq!(
        item.message_id.as_deref(),
        Some("20260302091500.1@sunrisefm.example")
    );
    // SES's Received time, not the sender's Date header (ten minutes slow).
    assert_eq!(
        item.received.map(|r| (r.at, r.source)),
        Some((ts("2026-03-02T09:15:00Z"), ReceiptSource::ReceivedHeader))
    );

    let docs: Vec<_> = item
        .documents
        .iter()
        .map(|d| {
            (
                d.file_name.as_deref().unwrap_or(""),
                d.content_type.as_str(),
                d.kind,
            )
        })
        .collect();
    assert_eq!(
        docs,
        [
            ("progress-note.pdf", "application/pdf", FileKind::Pdf),
            ("referral-scan.tif", "image/tiff", FileKind::Tiff),
            (
                "cover-letter.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                FileKind::Zip
            ),
        ]
    );
    // The base64 attachments decode to the exact files.
    assert!(item.documents[0].bytes.starts_with(b"%PDF-"));
    assert!(item.documents[1].bytes.starts_with(b"II*\0"));
    assert_eq!(item.documents[0].pages, Some(1));

    assert_eq!(refs(&item), ["PA-7K3Q9M"]);
    assert_eq!(item.classification.kind, IntakeKind::ClinicalNotes);
    assert_eq!(item.classification.confidence, Confidence::High);
    assert!(
        item.classification
            .explanation()
            .starts_with("subject mentions 'Clinical Notes'"),
        "{}",
        item.classification.explanation()
    );
    // The body is the text/plain alternative, then the PDF's text layer.
    assert!(item.text.starts_with("Hello,"));
    assert!(!item.text.contains("<html>"));
    assert!(item.text.contains("Chief Complaint: right knee pain"));
    assert_eq!(
        member_pairs(&item),
        [("ABC123456".into(), "1984-03-15".into())]
    );
    assert!(item.problems.is_empty(), "{:?}", item.problems);
}

#[test]
fn a_pdr_in_a_quoted_printable_body_is_decoded_and_classified_as_a_dispute() {
    let item = email(fixture("pdr-quoted-printable.eml"));
    assert!(item.documents.is_empty());
    // Soft line breaks joined, =3D decoded, UTF-8 decoded.
    assert!(
        item.text
            .contains("was paid at 62% of the contracted rate = $1,204.16"),
        "{}",
        item.text
    );
    assert!(item.text.contains("Régards — Valley"));
    assert_eq!(item.classification.kind, IntakeKind::Dispute);
    assert_eq!(item.classification.confidence, Confidence::High);
    assert_eq!(
        item.classification.explanation(),
        "subject mentions 'PDR'; text has 'Provider Dispute Resolution'; text has 'Underpaid'"
    );
    assert_eq!(refs(&item), ["CLM-8D2K4M9QXZ"]);
    assert_eq!(
        member_pairs(&item),
        [("XYZ-00991".into(), "1950-07-04".into())]
    );
    let npis: Vec<_> = item.found.npis.iter().map(|n| n.as_str()).collect();
    assert_eq!(npis, ["1003000126"]);
}

#[test]
fn a_latin1_subject_is_read_as_latin1_with_a_note() {
    let item = email(fixture("latin1-subject.eml"));
    assert_eq!(
        item.subject.as_deref(),
        Some("Apelación - expedited appeal para el paciente")
    );
    assert_eq!(problem_codes(&item), ["subject_not_utf8"]);
    assert_eq!(item.classification.kind, IntakeKind::Appeal);
    // The 8-bit Latin-1 body is decoded by its declared charset.
    assert!(item.text.contains("Adjuntamos la apelación."));
    assert_eq!(
        member_pairs(&item),
        [("MX-22001".into(), "1961-11-02".into())]
    );
}

#[test]
fn a_broken_encoded_word_subject_is_kept_as_received_with_a_note() {
    let item = email(fixture("broken-encoded-word-subject.eml"));
    assert_eq!(
        item.subject.as_deref(),
        Some("=?utf-8?B?not*base64!?= Appeal of adverse determination")
    );
    assert_eq!(problem_codes(&item), ["subject_malformed_encoding"]);
    assert_eq!(item.classification.kind, IntakeKind::Appeal);
    // No Received header: the Date header is the receipt time.
    assert_eq!(
        item.received.map(|r| r.source),
        Some(ReceiptSource::DateHeader)
    );
}

#[test]
fn an_email_with_no_from_and_no_dates_has_an_unknown_sender_and_the_event_time() {
    let raw =
        b"Subject: claim form attached\r\nContent-Type: text/plain\r\n\r\nCMS-1500 attached.\r\n";
    let item = email_at(Bytes::from_static(raw), Some(ts("2026-03-02T09:16:00Z")));
    assert_eq!(item.sender, None);
    assert_eq!(problem_codes(&item), ["unknown_sender"]);
    assert_eq!(
        item.received.map(|r| r.source),
        Some(ReceiptSource::S3Event)
    );
    assert_eq!(item.classification.kind, IntakeKind::Claim);
}

#[test]
fn a_zero_byte_email_is_queued_with_nothing_to_store() {
    let item = email(Bytes::new());
    assert!(item.refused);
    assert!(item.documents.is_empty());
    assert_eq!(problem_codes(&item), ["empty_file"]);
}

#[test]
fn a_file_that_is_not_an_email_is_kept_whole() {
    let item = email(Bytes::from_static(b"\x00\x01\x02 binary junk, no headers"));
    assert!(item.refused);
    assert_eq!(item.documents.len(), 1);
    assert_eq!(item.documents[0].content_type, "message/rfc822");
    assert_eq!(problem_codes(&item)[0], "not_an_email");
}

#[test]
fn an_attachment_whose_bytes_are_not_its_declared_type_is_stored_as_what_it_is() {
    let tiff = fixture("scanned-fax.tif");
    let raw = mime_with_attachment("application/pdf", "scan.pdf", &tiff);
    let item = email(raw.into());
    assert_eq!(item.documents[0].content_type, "image/tiff");
    assert_eq!(
        item.documents[0].declared_content_type.as_deref(),
        Some("application/pdf")
    );
    assert_eq!(problem_codes(&item), ["content_type_mismatch"]);
    assert!(
        item.problems[0]
            .message
            .starts_with("attachment 1 (application/pdf)"),
        "{}",
        item.problems[0].message
    );
}

#[test]
fn a_corrupt_pdf_attachment_is_stored_with_the_reason_and_the_rest_is_read() {
    let raw = mime_with_attachment("application/pdf", "notes.pdf", &fixture("corrupt.pdf"));
    let item = email(raw.into());
    assert_eq!(item.documents.len(), 1);
    assert_eq!(problem_codes(&item), ["pdf_unreadable"]);
    assert!(item.text.contains("see attached for PA-7K3Q9M"));
    assert_eq!(refs(&item), ["PA-7K3Q9M"]);
}

#[test]
fn a_forwarded_message_contributes_its_text_and_attachments() {
    let inner = String::from_utf8(fixture("pdr-quoted-printable.eml").to_vec()).unwrap();
    let raw = format!(
        "From: office@example.org\r\nSubject: Fwd: see below\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n\
         --o\r\nContent-Type: text/plain\r\n\r\nForwarding the dispute.\r\n\
         --o\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--o--\r\n"
    );
    let item = email(Bytes::from(raw));
    assert!(!item.refused, "{:?}", item.problems);
    assert!(item.text.contains("Forwarding the dispute."));
    assert!(item.text.contains("PROVIDER DISPUTE RESOLUTION REQUEST"));
    assert_eq!(item.classification.kind, IntakeKind::Dispute);
    assert_eq!(refs(&item), ["CLM-8D2K4M9QXZ"]);
}

#[test]
fn searched_text_is_capped_and_says_so() {
    let body = "Lorem ipsum dolor sit amet. ".repeat(10_000);
    let raw = format!(
        "From: a@example.org\r\nSubject: long\r\nContent-Type: text/plain\r\n\r\n{body}\r\nPA-7K3Q9M\r\n"
    );
    let item = email(Bytes::from(raw));
    assert_eq!(item.text.len(), Limits::default().max_text_bytes);
    assert_eq!(problem_codes(&item), ["text_truncated"]);
    assert!(refs(&item).is_empty(), "the reference was past the cap");
}

#[test]
fn nothing_found_or_stored_shows_in_debug_output() {
    let item = email(fixture("pdr-quoted-printable.eml"));
    let shown = format!("{item:?}");
    for phi in [
        "XYZ-00991",
        "1950-07-04",
        "billing@valleyortho",
        "PDR - claim",
        "Valley Orthopedics",
    ] {
        assert!(!shown.contains(phi), "{phi} in {shown}");
    }
    assert!(shown.contains("Dispute"));
    let item = email(fixture("three-attachments.eml"));
    let shown = format!("{item:?}");
    assert!(!shown.contains("progress-note.pdf"), "{shown}");
}

// --- the PDF reader's limits ----------------------------------------------------

#[test]
fn pdf_pages_and_text_stop_at_their_limits() {
    let limits = PdfLimits {
        max_pages_read: 3,
        ..PdfLimits::default()
    };
    let pdf = extract_text(&fixture("fax-10-pages.pdf"), &limits).unwrap();
    assert_eq!((pdf.pages, pdf.pages_read, pdf.truncated), (10, 3, true));
    assert!(pdf.text.contains("Page 3 of 10"));
    assert!(!pdf.text.contains("Page 4 of 10"));

    let limits = PdfLimits {
        max_text_bytes: 100,
        ..PdfLimits::default()
    };
    let pdf = extract_text(&fixture("fax-10-pages.pdf"), &limits).unwrap();
    assert_eq!(pdf.text.len(), 100);
    assert_eq!(pdf.problems[0].code, "pdf_text_truncated");
}

#[test]
fn pdf_objects_and_object_streams_are_bounded() {
    let limits = PdfLimits {
        max_objects: 5,
        ..PdfLimits::default()
    };
    let err = extract_text(&fixture("fax-10-pages.pdf"), &limits).unwrap_err();
    assert_eq!(err.code, "pdf_too_complex");
    assert_eq!(err.message, "the PDF has more than 5 objects");

    // The same fax saved with object streams: read in full, or refused past the cap.
    let packed = with_object_streams(&fixture("fax-10-pages.pdf"));
    let pdf = extract_text(&packed, &PdfLimits::default()).unwrap();
    assert_eq!(pdf.pages, 10);
    assert!(pdf.text.contains("Re: Clinical notes for PA-7K3Q9M"));
    let limits = PdfLimits {
        max_object_streams: 0,
        ..PdfLimits::default()
    };
    let err = extract_text(&packed, &limits).unwrap_err();
    assert_eq!(err.message, "the PDF has more than 0 object streams");
}

#[test]
fn a_stream_that_expands_past_the_limit_is_refused() {
    let limits = PdfLimits {
        max_stream_bytes: 1000,
        ..PdfLimits::default()
    };
    // Each page's content stream is larger than 1000 bytes once decompressed.
    let pdf = extract_text(&fixture("fax-10-pages.pdf"), &limits).unwrap();
    assert!(!pdf.has_text_layer);
    assert!(
        pdf.problems.iter().all(|p| p.code == "pdf_page_unreadable"
            && p.message
                .ends_with("a compressed stream expands beyond the limit")),
        "{:?}",
        pdf.problems
    );
}

// --- fonts: which text a page's codes are -----------------------------------------

const CMAP_HEAD: &str = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
    /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
    /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n";
const CMAP_TAIL: &str = "\nendcmap CMapName currentdict /CMap defineresource pop end end";

fn composite_font() -> lopdf::Dictionary {
    dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+Arial", "Encoding" => "Identity-H",
    }
}

fn page_text(font: lopdf::Dictionary, to_unicode: Option<&str>, content: &str) -> intake::PdfText {
    let cmap = to_unicode.map(|body| format!("{CMAP_HEAD}{body}{CMAP_TAIL}"));
    let pdf = pdf_with_font(font, cmap.as_deref(), content);
    extract_text(&pdf, &PdfLimits::default()).unwrap()
}

#[test]
fn a_composite_font_is_read_through_its_to_unicode_map() {
    // What Word and most PDF printers write: two-byte glyph ids, and a map to text.
    let pdf = page_text(
        composite_font(),
        Some(
            "2 beginbfchar <0003> <0020> <0011> <00660069> endbfchar\n\
              2 beginbfrange <0024> <003D> <0041> <0044> <005D> <0061> endbfrange",
        ),
        "BT /F1 11 Tf <0030004800500045004800550003002C002700030011> Tj ET",
    );
    assert_eq!(pdf.text, "Member ID fi");
    assert!(pdf.problems.is_empty(), "{:?}", pdf.problems);
}

#[test]
fn a_to_unicode_map_wins_over_the_encoding() {
    // ISO 32000-1 9.10.2: ToUnicode first. lopdf's extraction took the encoding.
    let font = dictionary! {
        "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "X", "Encoding" => "WinAnsiEncoding",
    };
    let pdf = page_text(
        font,
        Some("1 beginbfchar <41> <00E9> endbfchar"),
        "BT /F1 11 Tf (AB) Tj ET",
    );
    assert_eq!(pdf.text, "éB", "A through the map, B through WinAnsi");
    // Some writers give a simple font's one-byte codes two bytes in its map.
    let font = dictionary! { "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "X" };
    let pdf = page_text(
        font,
        Some("1 beginbfchar <0041> <00E9> endbfchar"),
        "BT /F1 11 Tf (AB) Tj ET",
    );
    assert_eq!(pdf.text, "éB");
}

#[test]
fn an_unknown_glyph_name_costs_its_own_character_only() {
    // lopdf's extraction dropped the whole font over one name it did not know.
    let font = dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "X",
        "Encoding" => dictionary! {
            "Type" => "Encoding", "BaseEncoding" => "WinAnsiEncoding",
            "Differences" => vec![1.into(), "g17".into(), "uni00E9".into(), "bullet".into()],
        },
    };
    let pdf = page_text(font, None, "BT /F1 11 Tf (Caf\\002 \\001 \\003) Tj ET");
    assert_eq!(pdf.text, "Café \u{FFFD} \u{2022}");
}

#[test]
fn a_composite_font_without_a_map_is_a_stated_problem() {
    let pdf = page_text(composite_font(), None, "BT /F1 11 Tf <00300048> Tj ET");
    assert!(!pdf.has_text_layer);
    assert_eq!(
        problem_messages(&pdf),
        ["part of the text of page 1 could not be read: a font has no map from its codes to text"]
    );
    let pdf = page_text(composite_font(), None, "BT /F2 11 Tf <00300048> Tj ET");
    assert_eq!(
        problem_messages(&pdf),
        [
            "part of the text of page 1 could not be read: a page shows text in a font it does not define"
        ]
    );
}

#[test]
fn a_to_unicode_range_over_every_code_is_read_at_once() {
    // 200 bytes that kept lopdf's CMap reader busy for minutes (an entry per code).
    let pdf = page_text(
        composite_font(),
        Some(
            "1 begincodespacerange <00000000> <FFFFFFFF> endcodespacerange\n\
              1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange",
        ),
        "BT /F1 11 Tf <00000001> Tj ET",
    );
    assert_eq!(pdf.text, "B");
}

#[test]
fn fonts_character_maps_are_read_within_a_budget() {
    // Each entry costs memory: a map past the document's budget is cut, and said.
    let cmap = format!(
        "{CMAP_HEAD}1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
         3 beginbfchar <0001> <0041> <0002> <0042> <0003> <0043> endbfchar{CMAP_TAIL}"
    );
    let pdf = pdf_with_font(
        composite_font(),
        Some(&cmap),
        "BT /F1 11 Tf <000100020003> Tj ET",
    );
    let limits = PdfLimits {
        max_cmap_entries: 2,
        ..PdfLimits::default()
    };
    let pdf = extract_text(&pdf, &limits).unwrap();
    assert_eq!(pdf.text, "AB");
    assert_eq!(
        problem_messages(&pdf),
        [
            "part of the text of page 1 could not be read: the fonts' character maps are larger than the limit"
        ]
    );
}

#[test]
fn a_filled_in_form_is_read_with_its_values() {
    // A plan's fillable request form, filled in and emailed: the page has the
    // labels, the fields have the values.
    use lopdf::{Object, StringFormat};
    let utf16 = |s: &str| {
        let mut b = vec![0xFE, 0xFF];
        b.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        Object::String(b, StringFormat::Hexadecimal)
    };
    let field = |name: &str, label: Option<&str>, value: Object| {
        let mut f = dictionary! { "FT" => "Tx", "T" => Object::string_literal(name), "V" => value };
        if let Some(label) = label {
            f.set("TU", Object::string_literal(label));
        }
        Object::Dictionary(f)
    };
    let fields = vec![
        field(
            "Text1",
            Some("Member ID"),
            Object::string_literal("ABC123456"),
        ),
        field("Text2", Some("DOB"), utf16("03/15/1984")),
        field("Text3", Some("Member Name"), utf16("José Núñez")),
        Object::Dictionary(dictionary! {
            "T" => Object::string_literal("provider"),
            "Kids" => vec![field("NPI", None, Object::string_literal("1234567893"))],
        }),
        field("urgent", Some("Urgent"), Object::Name(b"Yes".to_vec())),
        field("retro", Some("Retro"), Object::Name(b"Off".to_vec())),
        field("notes", Some("Notes"), Object::string_literal("  ")),
    ];
    let font = dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    };
    let pdf = pdf_with_form(
        font,
        None,
        "BT /F1 11 Tf 72 700 Td (AUTHORIZATION REQUEST FORM) Tj 0 -14 Td (Requested Units) Tj ET",
        fields,
    );

    let text = extract_text(&pdf, &PdfLimits::default()).unwrap();
    assert_eq!(
        text.text,
        "AUTHORIZATION REQUEST FORM\nRequested Units\n\nMember ID: ABC123456\nDOB: 03/15/1984\n\
         Member Name: José Núñez\nNPI: 1234567893\nUrgent: Yes",
        "a box left unticked and a blank field say nothing"
    );
    let item = email(mime_with_attachment("application/pdf", "pa-request.pdf", &pdf).into());
    assert_eq!(item.classification.kind, IntakeKind::PriorAuthRequest);
    assert_eq!(
        member_pairs(&item),
        [("ABC123456".into(), "1984-03-15".into())]
    );
    let npis: Vec<_> = item.found.npis.iter().map(|n| n.as_str()).collect();
    assert_eq!(npis, ["1234567893"]);
    assert_eq!(item.documents[0].has_text_layer, Some(true));

    // Within the text budget, like the pages.
    let limits = PdfLimits {
        max_text_bytes: 60,
        ..PdfLimits::default()
    };
    let text = extract_text(&pdf, &limits).unwrap();
    assert_eq!(
        text.text,
        "AUTHORIZATION REQUEST FORM\nRequested Units\n\nMember ID: ABC12"
    );
    assert!(text.truncated);
    assert_eq!(text.problems[0].code, "pdf_text_truncated");
}

#[test]
fn text_in_forms_the_page_draws_is_read_where_they_are_drawn() {
    // As printers and merging tools write pages: the content wrapped in a form
    // XObject with its own fonts, and here a letterhead form drawn inside it.
    use lopdf::{Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let helvetica = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let form = |content: &str, resources: Option<lopdf::Dictionary>| {
        let mut dict = dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 612.into(), 792.into()] };
        if let Some(r) = resources {
            dict.set("Resources", r);
        }
        Stream::new(dict, content.as_bytes().to_vec())
    };
    // No resources of its own: it uses those of the form that draws it.
    let letterhead = doc.add_object(form(
        "BT /F9 9 Tf (IMS MSO - Utilization Management) Tj ET",
        None,
    ));
    let image = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1, "BitsPerComponent" => 8, "ColorSpace" => "DeviceGray" },
        vec![0],
    ));
    let looping = doc.new_object_id();
    doc.objects.insert(
        looping,
        Object::Stream(form(
            "BT /F9 9 Tf (again) Tj ET /Loop Do",
            Some(dictionary! {
                "Font" => dictionary! { "F9" => helvetica },
                "XObject" => dictionary! { "Loop" => looping },
            }),
        )),
    );
    let body = doc.add_object(form(
        "/Head Do BT /F9 11 Tf 72 700 Td (Member ID: ABC123456) Tj ET /Logo Do",
        Some(dictionary! {
            "Font" => dictionary! { "F9" => helvetica },
            "XObject" => dictionary! { "Head" => letterhead, "Logo" => image },
        }),
    ));
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for content in ["q /Fm0 Do Q", "/Loop Do"] {
        let content = doc.add_object(Stream::new(dictionary! {}, content.as_bytes().to_vec()));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "Resources" => dictionary! { "XObject" => dictionary! { "Fm0" => body, "Loop" => looping } },
        })));
    }
    let pdf = saved(doc, pages_id, kids, dictionary! {});

    let text = extract_text(&pdf, &PdfLimits::default()).unwrap();
    let (first, second) = text.text.split_once("\n\n").unwrap();
    assert_eq!(
        first,
        "IMS MSO - Utilization Management\nMember ID: ABC123456"
    );
    // A form that draws itself stops at the depth limit, and says so.
    assert_eq!(second.lines().count(), 8);
    assert!(second.lines().all(|l| l == "again"));
    assert_eq!(
        problem_messages(&text),
        ["part of the text of page 2 could not be read: its forms nest too deeply or are too many"]
    );
}

#[test]
fn words_and_lines_follow_the_text_positioning() {
    let font = dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    };
    let pdf = page_text(
        font,
        None,
        "BT /F1 11 Tf 72 700 Td (Member) Tj 60 0 Td (ID:) Tj [(ABC) -30 (123) -450 (456)] TJ\n\
         0 -14 Td (DOB:) Tj T* (Plan) Tj (MCAL) ' 1 0 0 1 72 600 Tm (Re:) Tj 1 0 0 1 100 600 Tm (PA) Tj ET",
    );
    assert_eq!(pdf.text, "Member ID:ABC123 456\nDOB:\nPlan\nMCAL\nRe: PA");
}

fn problem_messages(pdf: &intake::PdfText) -> Vec<&str> {
    pdf.problems.iter().map(|p| p.message.as_str()).collect()
}

// --- helpers --------------------------------------------------------------------

fn mime_with_attachment(content_type: &str, name: &str, bytes: &[u8]) -> Vec<u8> {
    use std::fmt::Write;
    let mut b64 = String::new();
    for chunk in base64_lines(bytes) {
        writeln!(b64, "{chunk}\r").unwrap();
    }
    format!(
        "From: a@example.org\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nsee attached for PA-7K3Q9M\r\n\
         --b\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{b64}--b--\r\n"
    )
    .into_bytes()
}

/// Base64 in 76-character lines, without a base64 crate.
fn base64_lines(bytes: &[u8]) -> Vec<String> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s.as_bytes()
        .chunks(76)
        .map(|l| String::from_utf8(l.to_vec()).unwrap())
        .collect()
}

fn with_object_streams(pdf: &[u8]) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut out = Vec::new();
    doc.save_with_options(
        &mut out,
        lopdf::SaveOptions::builder()
            .use_object_streams(true)
            .use_xref_streams(true)
            .build(),
    )
    .unwrap();
    // Make sure the test tests what it says.
    assert!(out.windows(7).any(|w| w == b"/ObjStm"));
    out
}

/// A one-page PDF that shows `content` with `font` as /F1, given `to_unicode` as
/// its ToUnicode CMap.
fn pdf_with_font(font: lopdf::Dictionary, to_unicode: Option<&str>, content: &str) -> Vec<u8> {
    pdf_with_form(font, to_unicode, content, vec![])
}

/// The same, with a form (AcroForm) of `fields`.
fn pdf_with_form(
    mut font: lopdf::Dictionary,
    to_unicode: Option<&str>,
    content: &str,
    fields: Vec<lopdf::Object>,
) -> Vec<u8> {
    use lopdf::{Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    if let Some(cmap) = to_unicode {
        let id = doc.add_object(Stream::new(dictionary! {}, cmap.as_bytes().to_vec()));
        font.set("ToUnicode", id);
    }
    let font = doc.add_object(font);
    let content = doc.add_object(Stream::new(dictionary! {}, content.as_bytes().to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    let mut catalog = dictionary! {};
    if !fields.is_empty() {
        let fields: Vec<Object> = fields
            .into_iter()
            .map(|f| Object::Reference(doc.add_object(f)))
            .collect();
        catalog.set("AcroForm", dictionary! { "Fields" => fields });
    }
    saved(doc, pages_id, vec![Object::Reference(page)], catalog)
}

/// `doc` with its page tree (`kids` under `pages_id`) and its catalog (`catalog`
/// and the tree), as a file.
fn saved(
    mut doc: lopdf::Document,
    pages_id: lopdf::ObjectId,
    kids: Vec<lopdf::Object>,
    mut catalog: lopdf::Dictionary,
) -> Vec<u8> {
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        lopdf::Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count },
        ),
    );
    catalog.set("Type", "Catalog");
    catalog.set("Pages", pages_id);
    let catalog = doc.add_object(catalog);
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
