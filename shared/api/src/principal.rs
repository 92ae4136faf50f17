//! The caller, from the JWT claims API Gateway's JWT authorizer verified.
//!
//! API Gateway (HTTP API) hands claims to the function as strings: a list claim
//! arrives as `"[a b c]"`. The local server builds the same shape, so one parser
//! serves both. Claim names: `sub`; organisation `org` (or Cognito's `custom:org`);
//! roles `roles` (or `cognito:groups`); NPIs `npis` (or `custom:npis`).

use std::collections::HashMap;

use lambda_http::Request;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use mso_domain::ids::{Npi, OrgId};
use serde::{Deserialize, Serialize};

/// What a user may do. Decisions check roles; reads and writes check the organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ProviderUser,
    /// Manages its own organisation's users.
    SiteAdmin,
    /// Reviews prior auths; may approve or pend, never deny.
    UmNurse,
    /// The only role that may deny for medical necessity.
    MedicalDirector,
    ClaimsExaminer,
    DisputeReviewer,
    /// Works the fax and email intake queue.
    IntakeClerk,
    OpsAdmin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::ProviderUser,
        Role::SiteAdmin,
        Role::UmNurse,
        Role::MedicalDirector,
        Role::ClaimsExaminer,
        Role::DisputeReviewer,
        Role::IntakeClerk,
        Role::OpsAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ProviderUser => "provider_user",
            Role::SiteAdmin => "site_admin",
            Role::UmNurse => "um_nurse",
            Role::MedicalDirector => "medical_director",
            Role::ClaimsExaminer => "claims_examiner",
            Role::DisputeReviewer => "dispute_reviewer",
            Role::IntakeClerk => "intake_clerk",
            Role::OpsAdmin => "ops_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An authenticated user of one provider organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub org: OrgId,
    pub roles: Vec<Role>,
    /// NPIs the user acts for, as the identity provider asserts them.
    pub npis: Vec<Npi>,
}

/// Why a request is not authenticated. Always a 401 at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no verified token: the request did not pass the JWT authorizer")]
    NoClaims,
    #[error("the token has no subject (sub)")]
    NoSubject,
    #[error("the token names no valid organisation (org)")]
    NoOrganisation,
    #[error("the token grants no known role (roles)")]
    NoRole,
}

impl Principal {
    pub fn from_request(req: &Request) -> Result<Principal, AuthError> {
        let claims = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|j| &j.claims),
            _ => None,
        };
        Principal::from_claims(claims.ok_or(AuthError::NoClaims)?)
    }

    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Principal, AuthError> {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| claims.get(*n))
                .map(String::as_str)
        };
        let subject = first(&["sub"])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::NoSubject)?;
        let org = first(&["org", "custom:org"])
            .and_then(|o| OrgId::parse(o).ok())
            .ok_or(AuthError::NoOrganisation)?;
        let roles: Vec<Role> = first(&["roles", "cognito:groups", "custom:roles"])
            .map(list_claim)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| Role::parse(&r))
            .collect();
        if roles.is_empty() {
            return Err(AuthError::NoRole);
        }
        // An NPI the identity provider got wrong is dropped, not trusted.
        let npis = first(&["npis", "custom:npis"])
            .map(list_claim)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| Npi::parse(&n).ok())
            .collect();
        Ok(Principal {
            subject: subject.to_owned(),
            org,
            roles,
            npis,
        })
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Reads a list claim in any of the shapes it arrives in: API Gateway's `[a b c]`,
/// a JSON array string, or a comma- or space-separated string.
fn list_claim(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    if let Ok(items) = serde_json::from_str::<Vec<String>>(raw) {
        return items;
    }
    let inner = raw
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(raw);
    inner
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_api_gateway_list_claims() {
        let p = Principal::from_claims(&claims(&[
            ("sub", "u-1"),
            ("org", "sunrise-fm"),
            ("roles", "[provider_user site_admin]"),
            ("npis", "[1234567893 1245319599]"),
        ]))
        .unwrap();
        assert_eq!(p.roles, [Role::ProviderUser, Role::SiteAdmin]);
        assert_eq!(p.npis.len(), 2);
        assert_eq!(p.org.as_str(), "sunrise-fm");
    }

    #[test]
    fn reads_cognito_and_json_shapes() {
        let p = Principal::from_claims(&claims(&[
            ("sub", "u-2"),
            ("custom:org", "harbor-med"),
            ("cognito:groups", r#"["um_nurse","unknown_role"]"#),
            ("custom:npis", "1234567893,1234567890"),
        ]))
        .unwrap();
        assert_eq!(p.roles, [Role::UmNurse]);
        assert_eq!(p.npis.len(), 1, "an NPI failing Luhn is dropped");
    }

    #[test]
    fn refuses_tokens_missing_what_the_api_needs() {
        assert_eq!(
            Principal::from_claims(&claims(&[])).unwrap_err(),
            AuthError::NoSubject
        );
        assert_eq!(
            Principal::from_claims(&claims(&[("sub", "u")])).unwrap_err(),
            AuthError::NoOrganisation
        );
        assert_eq!(
            Principal::from_claims(&claims(&[("sub", "u"), ("org", "Bad Org")])).unwrap_err(),
            AuthError::NoOrganisation
        );
        assert_eq!(
            Principal::from_claims(&claims(&[
                ("sub", "u"),
                ("org", "ok-org"),
                ("roles", "[admin]")
            ]))
            .unwrap_err(),
            AuthError::NoRole
        );
    }

    #[test]
    fn a_request_without_authorizer_context_is_unauthenticated() {
        let req = Request::default();
        assert_eq!(
            Principal::from_request(&req).unwrap_err(),
            AuthError::NoClaims
        );
    }
}
