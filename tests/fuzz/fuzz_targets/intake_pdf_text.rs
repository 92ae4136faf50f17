//! A PDF's text layer from arbitrary bytes: a reason or the text, never a panic;
//! the page and text limits hold. Also the whole fax path on the same bytes.
#![no_main]

use std::time::Duration;

use intake::{FaxMetadata, IntakeObject, Limits, PdfLimits, Source, extract_text, parse_intake};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = PdfLimits {
        max_text_bytes: 4096,
        max_pages_read: 5,
        time_budget: Duration::from_secs(1),
        ..PdfLimits::default()
    };
    match extract_text(data, &limits) {
        Ok(pdf) => {
            assert!(pdf.pages_read <= limits.max_pages_read);
            assert!(pdf.pages_read <= pdf.pages);
            assert!(pdf.text.len() <= limits.max_text_bytes);
            assert_eq!(pdf.has_text_layer, !pdf.text.is_empty());
        }
        Err(problem) => assert!(!problem.message.is_empty()),
    }
    let item = parse_intake(
        &IntakeObject {
            source: Source::Fax,
            bytes: data.to_vec().into(),
            file_name: None,
            fax: FaxMetadata::default(),
            event_time: None,
        },
        &Limits::default(),
    );
    assert_eq!(item.documents.len(), usize::from(!data.is_empty()));
});
