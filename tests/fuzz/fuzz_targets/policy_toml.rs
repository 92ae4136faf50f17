//! The IPA policy loader on arbitrary text, as TOML (the file as written) and as
//! JSON (the form the Lambdas read): an error naming the problem, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso_domain::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for loaded in [
        Policy::from_toml(text, "fuzz.toml"),
        Policy::from_json(text, "fuzz.json"),
    ] {
        if let Err(e) = loaded {
            assert!(!e.problems.is_empty());
            let _ = e.to_string();
        }
    }
});
