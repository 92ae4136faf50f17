//! The MSO domain: validated values, the IPA policy, eligibility, the regulatory
//! clock, and the verification of uploaded documents. Plain types and plain
//! functions; no I/O, no async, no AWS.
//!
//! Every rule lives here once and is tested beside it. Handlers parse requests into
//! these types (`parse` / `TryFrom`), call the rules, and persist the results.

/// An enum with one wire name per variant (its serde name and its `as_str`),
/// `ALL` its variants, and `parse` naming the allowed values when refused.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $wire)] $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),* }
            }

            pub fn parse(s: &str) -> Result<$name, $crate::Invalid> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s.trim())
                    .ok_or_else(|| $crate::Invalid::owned(
                        "invalid_value",
                        format!("must be one of {}", [$($wire),*].join(", ")),
                    ))
            }
        }
    };
}

pub mod claims;
pub mod clock;
pub mod codes;
pub mod dates;
pub mod disputes;
pub mod document;
pub mod eligibility;
pub mod ids;
pub mod intake;
mod invalid;
pub mod member;
pub mod money;
pub mod policy;
pub mod prior_auth;
pub mod provider;
pub mod roster;

pub use invalid::Invalid;
