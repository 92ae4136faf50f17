//! Any request body through the disputes parsers (filing and decision): never a
//! panic; a body is either a command or a list of named bad fields.
#![no_main]

use disputes::parse;
use libfuzzer_sys::fuzz_target;
use mso_api::body;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = body::object(data) else { return };
    match parse::request(&root) {
        Ok(r) => {
            assert!(!r.reason.trim().is_empty());
            assert!(r.amount_disputed.is_none_or(|a| a.cents() > 0));
        }
        Err(errors) => assert!(!errors.is_empty()),
    }
    match parse::decision(&root) {
        Ok(d) => assert!(!d.reasons.is_empty() && d.amount.is_none_or(|a| a.cents() > 0)),
        Err(errors) => assert!(!errors.is_empty()),
    }
});
