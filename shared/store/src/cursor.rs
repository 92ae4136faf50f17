//! Opaque query cursors shared by the adapters: JSON, then unpadded URL-safe base64
//! so a cursor can travel in a query string unchanged.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StoreError;

/// Errors of a cursor the caller handed back (tampered or from another query).
#[derive(Debug, thiserror::Error)]
enum CursorError {
    #[error("cursor is not base64")]
    Base64(#[from] base64::DecodeError),
    #[error("cursor does not hold a position")]
    Json(#[from] serde_json::Error),
}

pub(crate) fn encode(position: &impl Serialize) -> Result<String, StoreError> {
    let json =
        serde_json::to_vec(position).map_err(|e| StoreError::backend("encode query cursor", e))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

pub(crate) fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, StoreError> {
    let parse = || -> Result<T, CursorError> {
        let json = URL_SAFE_NO_PAD.decode(cursor)?;
        Ok(serde_json::from_slice(&json)?)
    };
    parse().map_err(|e| StoreError::backend("invalid query cursor", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let c = encode(&("a#b", "c")).unwrap();
        assert!(!c.contains('=') && !c.contains('+') && !c.contains('/'));
        let back: (String, String) = decode(&c).unwrap();
        assert_eq!(back, ("a#b".to_string(), "c".to_string()));
        assert!(decode::<(String, String)>("!!!").is_err());
        assert!(decode::<(String, String)>(&encode(&42).unwrap()).is_err());
    }
}
