//! Dev JWTs for the local server: HS256 with a key that lives only in the data
//! directory, so a token minted here is worthless anywhere else. In AWS, API
//! Gateway's JWT authorizer verifies the identity provider's tokens instead.

use jiff::Timestamp;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mso_api::Role;
use mso_domain::ids::{Npi, OrgId};
use serde::Serialize;

const ISSUER: &str = "mso-local";
const AUDIENCE: &str = "mso-local";

/// What a dev token should say.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub org: String,
    pub roles: Vec<String>,
    pub npis: Vec<String>,
    pub subject: Option<String>,
    pub ttl_minutes: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("--org must be a lower-case slug such as sunrise-family-medicine")]
    BadOrg,
    #[error("unknown role {0:?}; roles are {roles}", roles = Role::ALL.map(Role::as_str).join(", "))]
    BadRole(String),
    #[error("--npi {0:?} is not a valid NPI (10 digits with a Luhn check digit)")]
    BadNpi(String),
    #[error("--ttl-minutes must be between 1 and 10080 (a week)")]
    BadTtl,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid here")]
    Invalid,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: String,
    org: &'a str,
    roles: &'a [String],
    npis: &'a [String],
    iat: i64,
    exp: i64,
}

pub struct DevTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl DevTokens {
    pub fn new(key: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        DevTokens {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
        }
    }

    pub fn mint(&self, req: &TokenRequest, now: Timestamp) -> Result<String, TokenError> {
        let org = OrgId::parse(&req.org).map_err(|_| TokenError::BadOrg)?;
        if let Some(bad) = req.roles.iter().find(|r| Role::parse(r).is_none()) {
            return Err(TokenError::BadRole(bad.clone()));
        }
        if let Some(bad) = req.npis.iter().find(|n| Npi::parse(n).is_err()) {
            return Err(TokenError::BadNpi(bad.clone()));
        }
        if !(1..=7 * 24 * 60).contains(&req.ttl_minutes) {
            return Err(TokenError::BadTtl);
        }
        let claims = Claims {
            iss: ISSUER,
            aud: AUDIENCE,
            sub: req
                .subject
                .clone()
                .unwrap_or_else(|| format!("dev-{}@{}", req.roles.join("+"), org)),
            org: org.as_str(),
            roles: &req.roles,
            npis: &req.npis,
            iat: now.as_second(),
            exp: now.as_second() + i64::from(req.ttl_minutes) * 60,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)
    }

    /// The verified claims of a token minted with this key.
    pub fn verify(
        &self,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, TokenError> {
        jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &self.decoding,
            &self.validation,
        )
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> TokenRequest {
        TokenRequest {
            org: "sunrise-family-medicine".into(),
            roles: vec!["provider_user".into()],
            npis: vec!["1234567893".into()],
            subject: None,
            ttl_minutes: 60,
        }
    }

    #[test]
    fn minted_tokens_verify_with_the_same_key_only() {
        let tokens = DevTokens::new(&[7; 32]);
        let token = tokens.mint(&request(), Timestamp::now()).unwrap();
        let claims = tokens.verify(&token).unwrap();
        assert_eq!(claims["org"], "sunrise-family-medicine");
        assert_eq!(claims["roles"][0], "provider_user");
        assert_eq!(
            DevTokens::new(&[8; 32]).verify(&token).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn expired_and_tampered_tokens_are_refused() {
        let tokens = DevTokens::new(&[7; 32]);
        let old = tokens
            .mint(&request(), "2020-01-01T00:00:00Z".parse().unwrap())
            .unwrap();
        assert_eq!(tokens.verify(&old).unwrap_err(), TokenError::Expired);
        let token = tokens.mint(&request(), Timestamp::now()).unwrap();
        let mut forged = token.clone();
        forged.replace_range(token.len() - 3.., "AAA");
        assert_eq!(tokens.verify(&forged).unwrap_err(), TokenError::Invalid);
        assert_eq!(tokens.verify("not-a-jwt").unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn mint_refuses_what_the_api_would_refuse() {
        let tokens = DevTokens::new(&[7; 32]);
        let now = Timestamp::now();
        assert_eq!(
            tokens
                .mint(
                    &TokenRequest {
                        org: "Bad Org".into(),
                        ..request()
                    },
                    now
                )
                .unwrap_err(),
            TokenError::BadOrg
        );
        assert!(matches!(
            tokens.mint(
                &TokenRequest {
                    roles: vec!["root".into()],
                    ..request()
                },
                now
            ),
            Err(TokenError::BadRole(_))
        ));
        assert!(matches!(
            tokens.mint(
                &TokenRequest {
                    npis: vec!["1234567890".into()],
                    ..request()
                },
                now
            ),
            Err(TokenError::BadNpi(_))
        ));
    }
}
