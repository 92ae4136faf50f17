//! A raw email through the whole intake parse (limits, MIME, PDF attachments,
//! references, classification): never a panic; a refused message keeps its bytes.
#![no_main]

use intake::{FaxMetadata, IntakeObject, Limits, Source, parse_intake};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let object = IntakeObject {
        source: Source::Email,
        bytes: data.to_vec().into(),
        file_name: None,
        fax: FaxMetadata::default(),
        event_time: None,
    };
    let item = parse_intake(&object, &limits);
    assert!(item.text.len() <= limits.max_text_bytes);
    if item.refused {
        assert!(!item.problems.is_empty());
        assert_eq!(item.documents.len(), usize::from(!data.is_empty()));
    } else {
        assert!(item.documents.len() <= limits.email.max_attachments);
    }
    let _ = item.classification.explanation();
});
