//! The IPA policies shipped with the code (`infra/ipas/*.toml`). A Lambda picks its
//! IPA's policy by name (`MSO_IPA`), so one reviewed, tested file is what runs, and a
//! stack for a new IPA is a new file plus a deploy.

use mso_domain::policy::{Policy, PolicyError};

/// `(name, path in the repository, text)` of every bundled policy.
pub const BUNDLED: &[(&str, &str, &str)] = &[
    (
        "sunrise",
        "infra/ipas/sunrise.toml",
        include_str!("../../../infra/ipas/sunrise.toml"),
    ),
    (
        "harbor",
        "infra/ipas/harbor.toml",
        include_str!("../../../infra/ipas/harbor.toml"),
    ),
];

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
    BUNDLED.iter().map(|(name, _, _)| *name).collect()
}

/// The text of a bundled policy and its repository path.
pub fn text(name: &str) -> Option<(&'static str, &'static str)> {
    BUNDLED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, path, text)| (*path, *text))
}

pub fn load(name: &str) -> Result<Policy, BundledPolicyError> {
    let (path, text) = text(name).ok_or_else(|| BundledPolicyError::Unknown(name.into()))?;
    Ok(Policy::from_toml(text, path)?)
}

#[cfg(test)]
mod tests {
    use mso_domain::policy::FilingWindowStart;

    use super::*;

    #[test]
    fn every_bundled_policy_is_valid_and_named_after_its_file() {
        for (name, path, _) in BUNDLED {
            let policy = load(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(policy.ipa.id, *name);
            assert_eq!(*path, format!("infra/ipas/{name}.toml"));
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
