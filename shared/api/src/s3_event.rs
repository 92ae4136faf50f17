//! S3 ObjectCreated events: the keys S3 URL-encodes in them, and the event
//! itself as S3 delivers it, for `mso serve` to hand the same handlers the same
//! shape after it stores an object (documents, claim files, intake drops).

use aws_lambda_events::s3::S3Event;
use jiff::Timestamp;

/// Decodes a key as S3 encodes it in events (`%XX`, and `+` for a space);
/// `None` when it is not valid UTF-8 once decoded.
pub fn decode_key(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
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

/// Encodes a key as S3 does in events.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for &b in key.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The event S3 sends when `key` of `bucket` was created by a PUT of `size`
/// bytes at `at`, field for field as S3 delivers it; `configuration` names the
/// bucket's notification (`documents-verify`, `claims-intake`).
pub fn object_created(
    bucket: &str,
    configuration: &str,
    key: &str,
    size: u64,
    at: Timestamp,
) -> S3Event {
    let event = serde_json::json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "local",
            "eventTime": at.to_string(),
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "mso-serve"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": configuration,
                "bucket": {
                    "name": bucket,
                    "ownerIdentity": {"principalId": "mso-serve"},
                    "arn": format!("arn:aws:s3:::{bucket}")
                },
                "object": {
                    "key": encode_key(key),
                    "size": size,
                    "sequencer": format!("{:016X}", at.as_nanosecond())
                }
            }
        }]
    });
    // The shape is fixed above and matches aws_lambda_events' S3Event (a test
    // says so: an empty event here would be a silent no-op).
    serde_json::from_value(event).unwrap_or_default()
}

/// Whether a record of an event is an ObjectCreated one.
pub fn is_created(record: &aws_lambda_events::s3::S3EventRecord) -> bool {
    record
        .event_name
        .as_deref()
        .is_some_and(|name| name.starts_with("ObjectCreated:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_event_encoding() {
        for key in [
            "documents/DOC-7K3Q9M2P4X.pdf",
            "a b/c+d%é",
            "inbound/\u{2713}.x12",
        ] {
            assert_eq!(decode_key(&encode_key(key)).as_deref(), Some(key));
        }
        assert_eq!(
            decode_key("inbound/a+b%2Fc.x12").as_deref(),
            Some("inbound/a b/c.x12")
        );
        for bad in ["a%2", "a%ZZ", "a%C3"] {
            assert_eq!(decode_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_event_has_s3s_shape() {
        let at: Timestamp = "2026-12-05T18:00:00Z".parse().unwrap();
        let event = object_created("b", "claims-intake", "inbound/a b.x12", 10, at);
        assert_eq!(event.records.len(), 1);
        let record = &event.records[0];
        assert!(is_created(record));
        assert_eq!(record.s3.object.key.as_deref(), Some("inbound/a+b.x12"));
        assert_eq!(record.s3.object.size, Some(10));
        assert_eq!(record.s3.bucket.name.as_deref(), Some("b"));
        assert_eq!(record.event_time.timestamp(), at.as_second());
        assert_eq!(decode_key("%FF"), None);
    }
}
