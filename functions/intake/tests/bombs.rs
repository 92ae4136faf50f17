//! MIME bombs: each is refused with a reason, kept whole for a clerk, and costs
//! bounded memory, measured by a counting allocator. (Time is measured in
//! benches/parse.rs, never in a test.)
//!
//! Its own test binary: the allocator counts the whole process, so these tests run
//! one at a time behind a lock.

#[path = "support/bombs.rs"]
mod bombs;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use intake::{FaxMetadata, IntakeObject, Limits, ParsedItem, Source, parse_intake};
use mso_domain::intake::IntakeKind;

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Makes a message and parses it as an email; returns the item, the message's
/// size, and the most memory the parse held at once beyond what was allocated
/// before it (the message's own bytes). Other tests wait meanwhile, making theirs.
fn parse_measured(make: impl FnOnce() -> Vec<u8>) -> (ParsedItem, usize, usize) {
    measured(Source::Email, make)
}

fn measured(source: Source, make: impl FnOnce() -> Vec<u8>) -> (ParsedItem, usize, usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let raw = make();
    let len = raw.len();
    let object = IntakeObject {
        source,
        bytes: Bytes::from(raw),
        file_name: None,
        fax: FaxMetadata::default(),
        event_time: Some("2026-03-02T09:16:00Z".parse().unwrap()),
    };
    let limits = Limits::default();
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let item = parse_intake(&object, &limits);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    (item, len, peak)
}

const MB: usize = 1024 * 1024;

/// A refused message: the whole message is its one document, the reason is the
/// first problem, and nothing was parsed out of it.
fn assert_refused(item: &ParsedItem, code: &str, raw_len: usize) {
    assert!(item.refused, "{item:?}");
    assert_eq!(item.problems[0].code, code, "{:?}", item.problems);
    assert_eq!(item.documents.len(), 1);
    assert_eq!(item.documents[0].content_type, "message/rfc822");
    assert_eq!(item.documents[0].bytes.len(), raw_len);
    assert!(item.text.is_empty());
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let (item, len, peak) = parse_measured(|| bombs::deep_nesting(100_000));
    assert_refused(&item, "too_many_parts", len);
    // The top headers are still read, so the clerk sees the subject.
    assert_eq!(item.subject.as_deref(), Some("deep PDR"));
    assert_eq!(item.classification.kind, IntakeKind::Dispute);
    assert!(peak < MB, "{peak} bytes for a {len}-byte bomb");
}

#[test]
fn nesting_within_the_part_count_but_too_deep_is_refused_after_parsing() {
    let (item, len, _) = parse_measured(|| bombs::deep_nesting(50));
    assert_refused(&item, "too_deeply_nested", len);
    assert_eq!(
        item.problems[0].message,
        "the message's parts nest more than 10 deep"
    );
}

#[test]
fn a_million_parts_are_refused_before_parsing() {
    let (item, len, peak) = parse_measured(|| bombs::many_parts(1_000_000));
    assert_refused(&item, "too_many_parts", len);
    assert!(peak < MB, "{peak} bytes for a {len}-byte bomb");
}

#[test]
fn thousands_of_parts_are_refused_by_the_exact_count() {
    // Few enough boundary lines to get past the scan; the parsed tree is counted.
    let (item, len, peak) = parse_measured(|| bombs::many_parts(2_000));
    assert_refused(&item, "too_many_parts", len);
    assert_eq!(
        item.problems[0].message,
        "the message has more than 100 MIME parts"
    );
    assert!(peak < 4 * MB, "{peak} bytes for a {len}-byte bomb");
}

#[test]
fn a_huge_subject_is_refused_without_reading_the_headers() {
    let (item, len, peak) = parse_measured(|| bombs::huge_subject(10 * MB));
    assert_refused(&item, "header_too_large", len);
    assert_eq!(item.subject, None);
    assert!(peak < MB, "{peak} bytes for a {len}-byte bomb");
}

#[test]
fn a_million_header_fields_are_refused() {
    let (item, len, peak) = parse_measured(|| bombs::many_headers(1_000_000));
    assert_refused(&item, "header_too_large", len);
    assert!(peak < MB, "{peak} bytes for a {len}-byte bomb");
}

#[test]
fn a_part_with_a_huge_header_block_is_refused() {
    let (item, len, _) = parse_measured(|| bombs::huge_part_header(200 * 1024));
    assert_refused(&item, "header_too_large", len);
    assert!(
        item.problems[0]
            .message
            .starts_with("part 2 has a header block")
    );
}

#[test]
fn a_long_chain_of_forwarded_messages_is_refused_before_parsing() {
    // 100,000 deep crashed the process with a stack overflow when parsed.
    let (item, len, peak) = parse_measured(|| bombs::forwarded_chain(100_000));
    assert_refused(&item, "too_many_parts", len);
    assert!(peak < MB, "{peak} bytes for a {len}-byte bomb");

    let (item, len, _) = parse_measured(|| bombs::forwarded_chain(20));
    assert_refused(&item, "too_deeply_nested", len);
}

#[test]
fn a_base64_forwarded_message_hiding_a_bomb_is_refused() {
    let (item, len, peak) =
        parse_measured(|| bombs::encoded_forward(&bombs::many_parts(1_000_000)));
    assert_refused(&item, "encoded_forwarded_message", len);
    assert_eq!(item.subject.as_deref(), Some("Fwd: appeal"));
    assert_eq!(item.classification.kind, IntakeKind::Appeal);
    assert!(peak < MB, "{peak} bytes for a {len}-byte bomb");
}

#[test]
fn too_many_attachments_are_refused_but_the_subject_is_read() {
    let (item, len, _) = parse_measured(|| bombs::many_attachments(25, "PDR for CLM-8D2K4M9QXZ"));
    assert_refused(&item, "too_many_attachments", len);
    assert_eq!(
        item.problems[0].message,
        "the message has 25 attachments, over the limit of 20"
    );
    let refs: Vec<_> = item.found.references.iter().map(|r| r.as_str()).collect();
    assert_eq!(refs, ["CLM-8D2K4M9QXZ"]);
    assert_eq!(item.classification.kind, IntakeKind::Dispute);
    // Twenty are fine.
    let (item, _, _) = parse_measured(|| bombs::many_attachments(20, "files"));
    assert!(!item.refused, "{:?}", item.problems);
    assert_eq!(item.documents.len(), 20);
}

#[test]
fn a_message_over_the_size_limit_is_refused_unread() {
    let (item, len, peak) = parse_measured(|| {
        let mut raw = b"From: a@example.org\r\nSubject: big\r\n\r\n".to_vec();
        raw.resize(41 * MB, b'a');
        raw
    });
    assert_refused(&item, "message_too_large", len);
    assert_eq!(item.subject, None);
    assert!(peak < MB, "{peak} bytes for a {len}-byte message");
}

#[test]
fn a_large_legitimate_message_costs_about_its_own_size() {
    // Five 5 MB attachments in base64: 34 MB on the wire, 25 MB decoded.
    let (item, len, peak) = parse_measured(|| {
        let mut raw = String::from(
            "From: a@example.org\r\nSubject: records\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
        );
        let payload = bombs::base64(&vec![7u8; 5 * MB]);
        for i in 0..5 {
            raw += &format!(
                "--b\r\nContent-Type: application/octet-stream; name=\"r{i}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            );
            for line in payload.as_bytes().chunks(76) {
                raw += std::str::from_utf8(line).unwrap();
                raw += "\r\n";
            }
        }
        raw += "--b--\r\n";
        raw.into_bytes()
    });
    assert!(!item.refused, "{:?}", item.problems);
    assert_eq!(item.documents.len(), 5);
    assert!(item.documents.iter().all(|d| d.bytes.len() == 5 * MB));
    // The decoded attachments, and no copy of them: less than the message itself.
    assert!(peak < len, "{peak} bytes for {len} bytes");
}

#[test]
fn a_large_scanned_pdf_fax_costs_about_its_own_size() {
    let (item, len, peak) = measured(Source::Fax, || bombs::large_scanned_pdf(40));
    assert_eq!(item.documents[0].pages, Some(40));
    assert_eq!(item.documents[0].has_text_layer, Some(false));
    let codes: Vec<_> = item.problems.iter().map(|p| p.code.as_ref()).collect();
    assert_eq!(codes, ["no_text_layer", "unknown_sender"]);
    // lopdf holds a copy of every stream while it reads the file.
    assert!(peak < len + 4 * MB, "{peak} bytes for a {len}-byte PDF");
}
