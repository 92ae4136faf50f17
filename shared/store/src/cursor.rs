//! Paging cursors: the adapter's position (the last key of a page), sealed so a
//! client can neither read it (keys may hold IDs such as `MEMBER#<id>`) nor forge
//! one, and bound to the query that made it.
//!
//! ```text
//! cursor = base64url( nonce (24 bytes) || XChaCha20-Poly1305(position JSON) )
//! associated data = the query: index, partition key, sort-key prefix, direction
//! ```
//! The nonce is synthetic (an HMAC of the query and the position under a second
//! key, as in SIV modes): the same page always gets the same cursor and no random
//! number generator is needed. A cursor that is not one of ours, was altered, or
//! belongs to another query is [`StoreError::InvalidInput`] (a 400), not a
//! storage failure.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::{Index, Query, StoreError};

const NONCE_LEN: usize = 24;
/// Longest cursor accepted (a page position is a few hundred bytes at most).
const MAX_CURSOR_LEN: usize = 4096;

/// The secret that seals cursors. Every instance serving one table must use the
/// same key (a cursor from one Lambda instance is used on another). Deliberately
/// not `Debug`.
#[derive(Clone)]
pub struct CursorKey {
    cipher: XChaCha20Poly1305,
    nonce_key: [u8; 32],
}

impl CursorKey {
    /// The environment variable the Lambda mains read the key from: a random
    /// string of at least 32 characters, generated per stack (a Secrets Manager
    /// secret in infra/template.yaml).
    pub const ENV: &'static str = "CURSOR_KEY";

    /// Derives the key from a secret of at least 32 bytes.
    pub fn from_secret(secret: &[u8]) -> Result<CursorKey, StoreError> {
        if secret.len() < 32 {
            return Err(StoreError::backend(
                "cursor key",
                "the secret must be at least 32 bytes",
            ));
        }
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = hmac(secret);
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        let cipher = XChaCha20Poly1305::new(&derive(b"mso-cursor-v1 encrypt").into());
        Ok(CursorKey {
            cipher,
            nonce_key: derive(b"mso-cursor-v1 nonce"),
        })
    }

    /// Reads [`CursorKey::ENV`].
    pub fn from_env() -> Result<CursorKey, StoreError> {
        let value = std::env::var(Self::ENV).map_err(|_| {
            StoreError::NotConfigured(format!("{} (the paging cursor key)", Self::ENV))
        })?;
        CursorKey::from_secret(value.trim().as_bytes())
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// What a cursor is bound to: a cursor of one query is refused by any other.
fn associated_data(query: &Query) -> Vec<u8> {
    let index = match query.index {
        Index::Primary => "primary",
        Index::Gsi1 => "gsi1",
    };
    serde_json::to_vec(&(
        "mso-cursor-v1",
        index,
        &query.pk,
        &query.sk_prefix,
        &query.sk_between,
        query.descending,
    ))
    .unwrap_or_default()
}

pub(crate) fn seal(
    key: &CursorKey,
    query: &Query,
    position: &impl Serialize,
) -> Result<String, StoreError> {
    let plaintext =
        serde_json::to_vec(position).map_err(|e| StoreError::backend("encode query cursor", e))?;
    let aad = associated_data(query);
    let mut mac = hmac(&key.nonce_key);
    mac.update(&(aad.len() as u64).to_le_bytes());
    mac.update(&aad);
    mac.update(&plaintext);
    let tag = mac.finalize().into_bytes();
    let nonce = XNonce::from_slice(&tag[..NONCE_LEN]);
    let sealed = key
        .cipher
        .encrypt(
            nonce,
            Payload {
                msg: &plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| StoreError::backend("encode query cursor", "encryption failed"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    Ok(URL_SAFE_NO_PAD.encode(out))
}

pub(crate) fn open<T: DeserializeOwned>(
    key: &CursorKey,
    query: &Query,
    cursor: &str,
) -> Result<T, StoreError> {
    let invalid = || StoreError::InvalidInput("the paging cursor is not valid for this query");
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    if bytes.len() <= NONCE_LEN {
        return Err(invalid());
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let plaintext = key
        .cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: &associated_data(query),
            },
        )
        .map_err(|_| invalid())?;
    serde_json::from_slice(&plaintext).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> CursorKey {
        CursorKey::from_secret(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trip_hides_the_position() {
        let q = Query::primary("ORG#a", "PA#");
        let c = seal(&key(1), &q, &("MEMBER#SUN100001", "x")).unwrap();
        assert!(!c.contains('=') && !c.contains('+') && !c.contains('/'));
        assert!(!c.contains("MEMBER") && !c.contains("SUN100001"));
        let back: (String, String) = open(&key(1), &q, &c).unwrap();
        assert_eq!(back, ("MEMBER#SUN100001".to_string(), "x".to_string()));
        assert_eq!(
            c,
            seal(&key(1), &q, &("MEMBER#SUN100001", "x")).unwrap(),
            "deterministic"
        );
    }

    #[test]
    fn garbage_tampered_foreign_and_other_query_cursors_are_invalid_input() {
        let q = Query::primary("ORG#a", "PA#");
        let c = seal(&key(1), &q, &("a#b",)).unwrap();
        let refused = |r: Result<(String,), StoreError>| {
            assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}")
        };
        refused(open(&key(1), &q, "!!!"));
        refused(open(&key(1), &q, ""));
        refused(open(&key(1), &q, &"A".repeat(5000)));
        let mut tampered = c.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        refused(open(&key(1), &q, std::str::from_utf8(&tampered).unwrap()));
        refused(open(&key(2), &q, &c));
        refused(open(&key(1), &Query::primary("ORG#b", "PA#"), &c));
        refused(open(
            &key(1),
            &Query::primary("ORG#a", "PA#").descending(),
            &c,
        ));
        refused(open(&key(1), &Query::gsi1("ORG#a", "PA#"), &c));
    }

    #[test]
    fn keys_come_from_secrets_of_32_bytes_or_more() {
        assert!(CursorKey::from_secret(&[1; 32]).is_ok());
        assert!(CursorKey::from_secret(&[1; 31]).is_err());
    }
}
