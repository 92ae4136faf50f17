//! The caller, from the JWT claims API Gateway's JWT authorizer verified.
//!
//! API Gateway (HTTP API) hands claims to the function as strings: a list claim
//! arrives as `"[a b c]"`. The local server builds the same shape, so one parser
//! serves both.
//!
//! Only claims the identity provider's administrators control are trusted: `sub`;
//! the organisation `org`; roles from `cognito:groups` (group membership is set by
//! administrators) or `roles`; NPIs from `npis`. `org`, `roles` and `npis` must come
//! from the issuer itself or a pre-token-generation trigger, never from an attribute
//! users may write. Cognito's `custom:*` attributes are writable by the user unless
//! the app client says otherwise, so `custom:org`, `custom:roles` and `custom:npis`
//! are ignored (see infra/README.md, "Identity provider").

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

    /// IPA staff roles act for the IPA (their token's organisation is the IPA's
    /// id); the others act for a provider organisation.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::ProviderUser | Role::SiteAdmin)
    }
}

/// The roles of a provider organisation.
pub const PROVIDER_ROLES: &[Role] = &[Role::ProviderUser, Role::SiteAdmin];

/// Whose records a caller may see once a route has let them in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A provider user: only their own organisation's records.
    Organisation(OrgId),
    /// IPA staff: every organisation's records of their job.
    Ipa,
}

impl Scope {
    /// Whether a record owned by `org` is visible. A record outside the scope is
    /// answered as not found (404), never as forbidden, so IDs cannot be probed.
    pub fn covers(&self, org: &OrgId) -> bool {
        match self {
            Scope::Organisation(own) => own == org,
            Scope::Ipa => true,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Scope::Ipa)
    }
}

/// Why an authenticated caller may not use a route. Always a 403.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("IPA staff roles are only valid in a token of the IPA's own organisation")]
    StaffRoleInProviderOrganisation,
    #[error("provider roles are not valid in a token of the IPA's own organisation")]
    ProviderRoleInIpa,
    #[error("your role may not use this route")]
    RoleNotAllowed,
}

/// An authenticated user: of a provider organisation, or IPA staff (whose
/// organisation is the IPA's own id, the policy's `ipa.id`).
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
        let org = first(&["org"])
            .and_then(|o| OrgId::parse(o).ok())
            .ok_or(AuthError::NoOrganisation)?;
        let roles: Vec<Role> = first(&["cognito:groups", "roles"])
            .map(list_claim)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| Role::parse(&r))
            .collect();
        if roles.is_empty() {
            return Err(AuthError::NoRole);
        }
        // An NPI the identity provider got wrong is dropped, not trusted.
        let npis = first(&["npis"])
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

    /// Lets the caller in if one of their roles is `allowed` on the route, and
    /// says what they may see. `ipa_id` is the policy's `ipa.id`: a token of that
    /// organisation is IPA staff and may carry staff roles only; any other token is
    /// a provider organisation's and may carry provider roles only. A token mixing
    /// the two is refused whatever the route.
    pub fn authorize(&self, ipa_id: &str, allowed: &[Role]) -> Result<Scope, Forbidden> {
        let staff = self.org.as_str() == ipa_id;
        if staff && self.roles.iter().any(|r| !r.is_staff()) {
            return Err(Forbidden::ProviderRoleInIpa);
        }
        if !staff && self.roles.iter().any(|r| r.is_staff()) {
            return Err(Forbidden::StaffRoleInProviderOrganisation);
        }
        if !self.roles.iter().any(|r| allowed.contains(r)) {
            return Err(Forbidden::RoleNotAllowed);
        }
        Ok(if staff {
            Scope::Ipa
        } else {
            Scope::Organisation(self.org.clone())
        })
    }
}

/// Reads a list claim in the shapes API Gateway really produces: its flattening of
/// a JSON array (`[a b c]`), a JSON array string, or a plain string, which is ONE
/// item. Nothing else is split: a group named `x,medical_director` is that one
/// (unknown) name, never two roles.
fn list_claim(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    if raw.starts_with('[') {
        if let Ok(items) = serde_json::from_str::<Vec<String>>(raw) {
            return items;
        }
        if let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return inner
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
    }
    if raw.is_empty() {
        Vec::new()
    } else {
        vec![raw.to_owned()]
    }
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
            ("org", "harbor-med"),
            ("cognito:groups", r#"["um_nurse","unknown_role"]"#),
            ("npis", r#"["1234567893","1234567890"]"#),
        ]))
        .unwrap();
        assert_eq!(p.roles, [Role::UmNurse]);
        assert_eq!(p.npis.len(), 1, "an NPI failing Luhn is dropped");
    }

    #[test]
    fn list_claims_are_split_only_in_the_shapes_api_gateway_produces() {
        let roles = |raw: &str| -> Vec<String> { list_claim(raw) };
        assert_eq!(
            roles("[um_nurse provider_user]"),
            ["um_nurse", "provider_user"]
        );
        assert_eq!(
            roles(r#"["um_nurse","provider_user"]"#),
            ["um_nurse", "provider_user"]
        );
        assert_eq!(roles("um_nurse"), ["um_nurse"]);
        assert_eq!(roles("[]"), Vec::<String>::new());
        assert_eq!(roles(""), Vec::<String>::new());
        // Commas and spaces in a plain string are part of one name.
        assert_eq!(roles("x,medical_director"), ["x,medical_director"]);
        assert_eq!(roles("x medical_director"), ["x medical_director"]);
        assert_eq!(roles("[x,medical_director]"), ["x,medical_director"]);
    }

    #[test]
    fn a_group_named_with_a_comma_grants_no_role() {
        for shape in [
            "x,medical_director",
            "[x,medical_director]",
            r#"["x,medical_director"]"#,
        ] {
            let p = Principal::from_claims(&claims(&[
                ("sub", "u"),
                ("org", "sunrise"),
                ("cognito:groups", shape),
            ]));
            assert_eq!(p.unwrap_err(), AuthError::NoRole, "{shape}");
        }
    }

    #[test]
    fn user_writable_cognito_attributes_are_ignored() {
        // A provider user who wrote custom:org and custom:roles into their own
        // profile gains nothing from them.
        let p = Principal::from_claims(&claims(&[
            ("sub", "u"),
            ("org", "sunrise-fm"),
            ("custom:org", "other-org"),
            ("roles", "[provider_user]"),
            ("custom:roles", "[medical_director]"),
            ("custom:npis", "[1245319599]"),
        ]))
        .unwrap();
        assert_eq!(p.org.as_str(), "sunrise-fm");
        assert_eq!(p.roles, [Role::ProviderUser]);
        assert!(p.npis.is_empty());
        let only_custom = Principal::from_claims(&claims(&[
            ("sub", "u"),
            ("custom:org", "sunrise"),
            ("custom:roles", "[medical_director]"),
        ]));
        assert_eq!(only_custom.unwrap_err(), AuthError::NoOrganisation);
        let no_role = Principal::from_claims(&claims(&[
            ("sub", "u"),
            ("org", "sunrise"),
            ("custom:roles", "[medical_director]"),
        ]));
        assert_eq!(no_role.unwrap_err(), AuthError::NoRole);
    }

    fn principal(org: &str, roles: &str) -> Principal {
        Principal::from_claims(&claims(&[("sub", "u"), ("org", org), ("roles", roles)])).unwrap()
    }

    #[test]
    fn staff_act_for_the_ipa_and_providers_for_their_organisation() {
        let nurse = principal("sunrise", "[um_nurse]");
        assert_eq!(nurse.authorize("sunrise", &[Role::UmNurse]), Ok(Scope::Ipa));
        let provider = principal("sunrise-fm", "[provider_user]");
        let scope = provider
            .authorize("sunrise", &[Role::ProviderUser])
            .unwrap();
        assert!(scope.covers(&OrgId::parse("sunrise-fm").unwrap()));
        assert!(!scope.covers(&OrgId::parse("harbor-med").unwrap()));
        assert!(Scope::Ipa.covers(&OrgId::parse("harbor-med").unwrap()));
    }

    #[test]
    fn roles_of_the_wrong_side_are_forbidden() {
        let allowed = Role::ALL.as_slice();
        assert_eq!(
            principal("sunrise-fm", "[intake_clerk]").authorize("sunrise", allowed),
            Err(Forbidden::StaffRoleInProviderOrganisation)
        );
        assert_eq!(
            principal("sunrise", "[provider_user]").authorize("sunrise", allowed),
            Err(Forbidden::ProviderRoleInIpa)
        );
        assert_eq!(
            principal("sunrise-fm", "[provider_user medical_director]")
                .authorize("sunrise", allowed),
            Err(Forbidden::StaffRoleInProviderOrganisation)
        );
        assert_eq!(
            principal("sunrise", "[ops_admin]").authorize("sunrise", &[Role::UmNurse]),
            Err(Forbidden::RoleNotAllowed)
        );
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
