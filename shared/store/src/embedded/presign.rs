//! Presigned URLs of the embedded document store.
//!
//! ```text
//! {base}/_local/objects/{key}?X-Mso-Method=PUT&X-Mso-Expires=<unix>
//!     &X-Mso-Content-Type=<type>&X-Mso-Content-Length=<bytes>&X-Mso-Signature=<hex>
//! ```
//! The signature is HMAC-SHA256, under the secret in `presign.key`, of
//! `mso-presign-v1\n{method}\n{key}\n{expires}\n{content type}\n{content length}`
//! (the last two empty for GET). Keys and content types never contain control
//! characters (checked on the way in), so the newline-separated string is
//! unambiguous.

use std::io::{ErrorKind, Read, Write};
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::StoreError;

/// Path under the local server's base URL where presigned requests arrive.
pub const PRESIGNED_PATH_PREFIX: &str = "/_local/objects/";

const SECRET_LEN: usize = 32;

pub(crate) const P_METHOD: &str = "X-Mso-Method";
pub(crate) const P_EXPIRES: &str = "X-Mso-Expires";
pub(crate) const P_CONTENT_TYPE: &str = "X-Mso-Content-Type";
pub(crate) const P_CONTENT_LENGTH: &str = "X-Mso-Content-Length";
pub(crate) const P_SIGNATURE: &str = "X-Mso-Signature";

/// Reads the signing secret, creating it (32 random bytes, mode 0600) on first use.
pub(crate) fn load_or_create_secret(path: &Path) -> Result<Signer, StoreError> {
    match read_secret(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        other => {
            return other
                .map(Signer)
                .map_err(|e| StoreError::backend("read presign.key", e));
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            let secret = random_secret()?;
            file.write_all(&secret)
                .and_then(|()| file.sync_all())
                .map_err(|e| StoreError::backend("write presign.key", e))?;
            Ok(Signer(secret))
        }
        // Another process created it between our read and our create: use theirs.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => read_secret(path)
            .map(Signer)
            .map_err(|e| StoreError::backend("read presign.key", e)),
        Err(e) => Err(StoreError::backend("create presign.key", e)),
    }
}

fn read_secret(path: &Path) -> std::io::Result<[u8; SECRET_LEN]> {
    let mut bytes = Vec::with_capacity(SECRET_LEN);
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    <[u8; SECRET_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
        std::io::Error::new(
            ErrorKind::InvalidData,
            "presign.key must hold exactly 32 bytes",
        )
    })
}

/// 32 bytes from the OS CSPRNG.
fn random_secret() -> Result<[u8; SECRET_LEN], StoreError> {
    let mut secret = [0; SECRET_LEN];
    getrandom::fill(&mut secret)
        .map_err(|e| StoreError::backend("OS randomness for presign.key", e.to_string()))?;
    Ok(secret)
}

/// Signs and verifies presigned requests. Deliberately not `Debug`: it holds the secret.
pub(crate) struct Signer([u8; SECRET_LEN]);

/// The signed fields of one presigned request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Grant<'a> {
    pub method: &'a str,
    pub key: &'a str,
    pub expires: i64,
    /// PUT only.
    pub content: Option<(&'a str, u64)>,
}

impl Grant<'_> {
    fn canonical(&self) -> String {
        let (content_type, length) = match self.content {
            Some((content_type, length)) => (content_type, length.to_string()),
            None => ("", String::new()),
        };
        format!(
            "mso-presign-v1\n{}\n{}\n{}\n{content_type}\n{length}",
            self.method, self.key, self.expires
        )
    }
}

impl Signer {
    /// The paging-cursor key of this data directory, derived from the same secret
    /// (under its own label, so neither key reveals the other).
    pub(crate) fn cursor_key(&self) -> Result<crate::CursorKey, StoreError> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!());
        mac.update(b"mso-local cursor key");
        crate::CursorKey::from_secret(&mac.finalize().into_bytes())
    }

    fn mac(&self, grant: &Grant<'_>) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!());
        mac.update(grant.canonical().as_bytes());
        mac
    }

    pub(crate) fn sign(&self, grant: &Grant<'_>) -> String {
        hex::encode(self.mac(grant).finalize().into_bytes())
    }

    /// Constant-time comparison (`verify_slice`), so timing reveals nothing.
    pub(crate) fn verify(&self, grant: &Grant<'_>, signature_hex: &str) -> bool {
        match hex::decode(signature_hex) {
            Ok(signature) => self.mac(grant).verify_slice(&signature).is_ok(),
            Err(_) => false,
        }
    }

    /// The URL for `grant`, under `base_url` (no trailing slash).
    pub(crate) fn url(&self, base_url: &str, grant: &Grant<'_>) -> String {
        let mut url = format!(
            "{base_url}{PRESIGNED_PATH_PREFIX}{}?{P_METHOD}={}&{P_EXPIRES}={}",
            encode(grant.key, true),
            grant.method,
            grant.expires
        );
        if let Some((content_type, length)) = grant.content {
            url.push_str(&format!(
                "&{P_CONTENT_TYPE}={}&{P_CONTENT_LENGTH}={length}",
                encode(content_type, false)
            ));
        }
        url.push_str(&format!("&{P_SIGNATURE}={}", self.sign(grant)));
        url
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` in paths).
pub(crate) fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes `s`; in query components `+` is a space. `None` when malformed
/// or not UTF-8.
pub(crate) fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The presign parameters of a query string; anything else in it is ignored.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub method: Option<String>,
    pub expires: Option<String>,
    pub content_type: Option<String>,
    pub content_length: Option<String>,
    pub signature: Option<String>,
}

pub(crate) fn parse_query(query: &str) -> Result<Params, StoreError> {
    let mut params = Params::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name =
            decode(name, true).ok_or(StoreError::PresignRefused("malformed query string"))?;
        let slot = match name.as_str() {
            P_METHOD => &mut params.method,
            P_EXPIRES => &mut params.expires,
            P_CONTENT_TYPE => &mut params.content_type,
            P_CONTENT_LENGTH => &mut params.content_length,
            P_SIGNATURE => &mut params.signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(StoreError::PresignRefused("repeated query parameter"));
        }
        *slot =
            Some(decode(value, true).ok_or(StoreError::PresignRefused("malformed query string"))?);
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        for s in [
            "a/b c+d%e",
            "text/plain; charset=utf-8",
            "application/ld+json",
            "é/ü?&=",
        ] {
            assert_eq!(decode(&encode(s, false), true).as_deref(), Some(s));
            assert_eq!(decode(&encode(s, true), false).as_deref(), Some(s));
        }
        assert_eq!(encode("a/b c", true), "a/b%20c");
        assert_eq!(decode("%zz", false), None);
        assert_eq!(decode("%4", false), None);
        assert_eq!(decode("%FF", false), None);
    }

    #[test]
    fn signature_binds_every_field() {
        let signer = Signer([7; SECRET_LEN]);
        let grant = Grant {
            method: "PUT",
            key: "a/b",
            expires: 10,
            content: Some(("text/plain", 3)),
        };
        let sig = signer.sign(&grant);
        assert!(signer.verify(&grant, &sig));
        for other in [
            Grant {
                method: "GET",
                ..grant
            },
            Grant {
                key: "a/c",
                ..grant
            },
            Grant {
                expires: 11,
                ..grant
            },
            Grant {
                content: Some(("text/html", 3)),
                ..grant
            },
            Grant {
                content: Some(("text/plain", 4)),
                ..grant
            },
            Grant {
                content: None,
                ..grant
            },
        ] {
            assert!(!signer.verify(&other, &sig), "{other:?}");
        }
        assert!(!signer.verify(&grant, "nothex"));
        assert!(!Signer([8; SECRET_LEN]).verify(&grant, &sig));
    }

    #[test]
    fn query_parsing() {
        let p = parse_query("X-Mso-Method=GET&x=1&X-Mso-Content-Type=a%2Fb+c&X-Mso-Signature=ab")
            .unwrap();
        assert_eq!(p.method.as_deref(), Some("GET"));
        assert_eq!(p.content_type.as_deref(), Some("a/b c"));
        assert!(parse_query("X-Mso-Method=GET&X-Mso-Method=PUT").is_err());
    }

    #[test]
    fn secret_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("presign.key");
        let first = load_or_create_secret(&path).unwrap();
        let second = load_or_create_secret(&path).unwrap();
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(load_or_create_secret(&path).is_err());
    }
}
