//! Document verification on arbitrary bytes, declared as each of the seven types:
//! a decision with a known code and a message, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso_domain::document::{DocumentType, Rejection, sniff, verify};

fuzz_target!(|data: &[u8]| {
    let size = data.len() as u64;
    let kind = sniff(data);
    for declared in DocumentType::ALL {
        match verify(declared, size, u64::MAX, data) {
            Ok(v) => {
                assert_eq!(v.size, size);
                assert_eq!(v.document_type, declared);
                // What verification accepts, sniffing must not call something else.
                // (Text has no signature, and may mention %PDF- near its start.)
                if let Some(found) = kind.and_then(|k| k.document_type())
                    && declared != DocumentType::Text
                {
                    assert_eq!(
                        found, declared,
                        "accepted as {declared} but sniffed as {kind:?}"
                    );
                }
            }
            Err(r) => {
                assert!(Rejection::CODES.contains(&r.code()));
                assert!(!r.message().is_empty());
            }
        }
    }
});
