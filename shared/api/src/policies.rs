//! The IPA policies shipped with the code (`infra/ipas/*.toml`). A Lambda picks its
//! IPA's policy by name (`MSO_IPA`), so one reviewed, tested file is what runs, and a
//! stack for a new IPA is a new file plus a deploy.

use mso_domain::policy::{Policy, PolicyError};

/// One bundled policy, as `build.rs` finds it in `infra/ipas/`.
#[derive(Clone, Copy, Debug)]
pub struct Bundled {
    /// The IPA's name (`MSO_IPA`), the file's stem.
    pub name: &'static str,
    /// Its path in the repository, in every error.
    pub path: &'static str,
    /// The file as written and reviewed.
    pub toml: &'static str,
    /// The same document as JSON, converted at build time: what [`load`] reads.
    pub json: &'static str,
}

/// Every policy in `infra/ipas/`, by name.
pub const BUNDLED: &[Bundled] = include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The policy the local demo runs with.
pub const DEMO: &str = "sunrise";

#[derive(Debug, thiserror::Error)]
pub enum BundledPolicyError {
    #[error("no bundled IPA policy named {0:?} (known: {known})", known = names().join(", "))]
    Unknown(String),
    #[error(transparent)]
    Invalid(#[from] PolicyError),
}

pub fn names() -> Vec<&'static str> {
    BUNDLED.iter().map(|b| b.name).collect()
}

fn bundled(name: &str) -> Option<&'static Bundled> {
    BUNDLED.iter().find(|b| b.name == name)
}

/// The TOML of a bundled policy and its repository path.
pub fn text(name: &str) -> Option<(&'static str, &'static str)> {
    bundled(name).map(|b| (b.path, b.toml))
}

/// A bundled policy, parsed and checked from its JSON form (errors name the
/// TOML file). The tests below load every bundled file through
/// `Policy::from_json`, which names a bad key; a Lambda's load need not link
/// that parse (`Policy::from_checked_json`).
pub fn load(name: &str) -> Result<Policy, BundledPolicyError> {
    let b = bundled(name).ok_or_else(|| BundledPolicyError::Unknown(name.into()))?;
    Ok(Policy::from_checked_json(b.json, b.path)?)
}

#[cfg(test)]
mod tests {
    use mso_domain::policy::FilingWindowStart;

    use super::*;

    #[test]
    fn every_bundled_policy_is_valid_and_named_after_its_file() {
        // Every file in infra/ipas/ is bundled (build.rs finds them).
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/ipas");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".toml").map(str::to_owned)
            })
            .collect();
        files.sort();
        assert_eq!(names(), files);
        assert!(files.contains(&"sunrise".to_owned()) && files.contains(&"harbor".to_owned()));
        for b in BUNDLED {
            // The parse that names a bad key, which `load` leaves out.
            Policy::from_json(b.json, b.path).unwrap_or_else(|e| panic!("{e}"));
            let policy = load(b.name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(policy.ipa.id, b.name);
            assert_eq!(b.path, format!("infra/ipas/{}.toml", b.name));
        }
    }

    /// What a Lambda reads is what was reviewed: the JSON form gives the policy
    /// the TOML gives, field for field.
    #[test]
    fn the_json_form_is_the_toml_policy() {
        for b in BUNDLED {
            let from_toml = Policy::from_toml(b.toml, b.path).unwrap_or_else(|e| panic!("{e}"));
            let from_json = load(b.name).unwrap();
            assert_eq!(
                format!("{from_json:?}"),
                format!("{from_toml:?}"),
                "{}",
                b.name
            );
        }
    }

    #[test]
    fn the_two_shapes_differ_where_the_seeds_do() {
        let sunrise = load("sunrise").unwrap();
        let harbor = load("harbor").unwrap();
        // ProCare: 120 calendar days from the remittance notification.
        assert_eq!(sunrise.disputes.filing_window_days, 120);
        assert_eq!(
            sunrise.disputes.filing_window_from,
            FilingWindowStart::RemittanceDate
        );
        // CalOptima: 365 days from the last determination, and a PA-required list.
        assert_eq!(harbor.disputes.filing_window_days, 365);
        assert_eq!(
            harbor.disputes.filing_window_from,
            FilingWindowStart::LastDetermination
        );
        assert!(!harbor.prior_auth.pa_required_codes.is_empty());
        assert!(!harbor.holidays().is_empty());
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = load("nope").unwrap_err().to_string();
        assert!(err.contains("sunrise") && err.contains("harbor"), "{err}");
    }
}
