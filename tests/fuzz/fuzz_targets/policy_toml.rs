//! The IPA policy loader on arbitrary text: an error naming the problem, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso_domain::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = Policy::from_toml(text, "fuzz.toml") {
        assert!(!e.problems.is_empty());
        let _ = e.to_string();
    }
});
