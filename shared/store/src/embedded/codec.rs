//! Byte layout of a stored record.
//!
//! A small fixed header (version, expiry, gsi1 key) followed by the JSON body, so
//! condition checks and index maintenance in the writer never parse the body.
//!
//! ```text
//! u8 format (1) | u64 version | u8 flags (1 = expiry, 2 = index)
//! [i64 expires_at] [u32 len, index pk, u32 len, index sk] | JSON body
//! ```
//! Integers are little-endian.

use crate::{Body, Key, Record, StoreError};

const FORMAT: u8 = 1;
const HAS_EXPIRY: u8 = 1;
const HAS_INDEX: u8 = 2;

/// Errors of bytes that are not a record of this format (a corrupt or foreign file).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CodecError {
    #[error("stored record is truncated")]
    Truncated,
    #[error("stored record has unknown format {0}")]
    Format(u8),
    #[error("stored record has a non-UTF-8 index key")]
    Utf8(#[from] std::str::Utf8Error),
}

impl From<CodecError> for StoreError {
    fn from(e: CodecError) -> Self {
        StoreError::backend("decode stored record", e)
    }
}

pub(crate) fn encode(record: &Record) -> Result<Vec<u8>, StoreError> {
    let body = record.body.as_json().as_bytes();
    let mut out = Vec::with_capacity(32 + body.len());
    out.push(FORMAT);
    out.extend_from_slice(&record.version.to_le_bytes());
    let mut flags = 0;
    if record.expires_at.is_some() {
        flags |= HAS_EXPIRY;
    }
    if record.index_key.is_some() {
        flags |= HAS_INDEX;
    }
    out.push(flags);
    if let Some(at) = record.expires_at {
        out.extend_from_slice(&at.to_le_bytes());
    }
    if let Some(index) = &record.index_key {
        for part in [&index.pk, &index.sk] {
            let len = u32::try_from(part.len())
                .map_err(|_| StoreError::backend("encode record", "index key longer than 4 GiB"))?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    out.extend_from_slice(body);
    Ok(out)
}

/// The header of a stored record: all the writer needs for conditions and gsi1.
#[derive(Debug, PartialEq)]
pub(crate) struct Header<'a> {
    pub version: u64,
    pub expires_at: Option<i64>,
    pub index: Option<(&'a str, &'a str)>,
    /// Offset of the JSON body.
    body_at: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.checked_add(n).ok_or(CodecError::Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(CodecError::Truncated)?;
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn str(&mut self) -> Result<&'a str, CodecError> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        Ok(std::str::from_utf8(self.take(len)?)?)
    }
}

pub(crate) fn header(bytes: &[u8]) -> Result<Header<'_>, CodecError> {
    let mut r = Reader { bytes, at: 0 };
    let [format] = r.array()?;
    if format != FORMAT {
        return Err(CodecError::Format(format));
    }
    let version = u64::from_le_bytes(r.array()?);
    let [flags] = r.array()?;
    let expires_at = if flags & HAS_EXPIRY != 0 {
        Some(i64::from_le_bytes(r.array()?))
    } else {
        None
    };
    let index = if flags & HAS_INDEX != 0 {
        Some((r.str()?, r.str()?))
    } else {
        None
    };
    Ok(Header {
        version,
        expires_at,
        index,
        body_at: r.at,
    })
}

pub(crate) fn decode(key: Key, bytes: &[u8]) -> Result<Record, CodecError> {
    let h = header(bytes)?;
    // Read as stored: the reader's decode is its check.
    let body = Body::stored(std::str::from_utf8(&bytes[h.body_at..])?.to_owned());
    Ok(Record {
        key,
        index_key: h.index.map(|(pk, sk)| Key::new(pk, sk)),
        version: h.version,
        expires_at: h.expires_at,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_every_shape() {
        let key = Key::new("P", "S");
        let records = [
            Record::new(key.clone(), json!({"a": 1})),
            Record::new(key.clone(), json!(null))
                .with_expiry(-5)
                .with_version(u64::MAX),
            Record::new(key.clone(), json!(["é", 2.5]))
                .with_index(Key::new("G#ü", ""))
                .with_expiry(1_700_000_000),
        ];
        for record in records {
            let bytes = encode(&record).unwrap();
            let h = header(&bytes).unwrap();
            assert_eq!(h.version, record.version);
            assert_eq!(h.expires_at, record.expires_at);
            assert_eq!(decode(key.clone(), &bytes).unwrap(), record);
        }
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(header(&[]).is_err());
        assert!(header(&[9, 0, 0]).is_err());
        let bytes =
            encode(&Record::new(Key::new("P", "S"), json!(1)).with_index(Key::new("x", "y")))
                .unwrap();
        for cut in 0..bytes.len() {
            let _ = decode(Key::new("P", "S"), &bytes[..cut]);
        }
        let mut huge_len = vec![FORMAT];
        huge_len.extend_from_slice(&1u64.to_le_bytes());
        huge_len.push(HAS_INDEX);
        huge_len.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(header(&huge_len), Err(CodecError::Truncated)));
    }
}
