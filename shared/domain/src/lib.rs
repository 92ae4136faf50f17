//! The MSO domain: validated values, the IPA policy, eligibility, the regulatory
//! clock, and the verification of uploaded documents. Plain types and plain
//! functions; no I/O, no async, no AWS.
//!
//! Every rule lives here once and is tested beside it. Handlers parse requests into
//! these types (`parse` / `TryFrom`), call the rules, and persist the results.

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
