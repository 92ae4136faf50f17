//! Properties: no input makes the parser panic, and writing a file again with other
//! delimiters reads back to the same claims.

use std::path::Path;

use mso_x12::{Parsed, Parser, SegmentReader, Separators};
use proptest::prelude::*;
use serde_json::Value;

const CLAIM_FILES: &[&str] = &[
    "837P_imsweb_x12_complex.txt",
    "837P_imsweb_x12_bad_segment_identifier.txt",
    "837P_imsweb_x12_missing_elements.txt",
    "837P_imsweb_x12_multiple_gs.txt",
    "837P_lfh_demo.ambulance.example5.837",
    "837P_lfh_demo.cob.example3.A.837",
    "837P_lfh_demo.drug.example10.1.837",
    "837P_lfh_demo.example1.837",
    "837P_lfh_demo.example7.837",
    "837P_staedi_sample837-original.edi",
    "837I_lfh_institutional-claim.837i",
    "837I_lfh_two-claims-single-provider.837i",
    "837I_silvenga_complete.edi",
    "837I_silvenga_odd-separator.edi",
    "837I_imsweb_x223-test.txt",
];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/samples")
            .join(name),
    )
    .unwrap()
}

/// Claims, claim errors and envelope verdicts as JSON, byte offsets removed (they
/// change with the delimiters' line breaks; segment positions must not).
fn outcome(data: &[u8]) -> Value {
    let p = Parsed::from_slice(data);
    let mut v = serde_json::json!({
        "claims": p.claims,
        "errors": p.claim_errors,
        "not_claims": p.not_claims,
        "interchanges": p.interchanges,
    });
    strip_offsets(&mut v);
    v
}

fn strip_offsets(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("offset");
            m.values_mut().for_each(strip_offsets);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_offsets),
        _ => {}
    }
}

/// The file written again segment by segment with `new` delimiters and `eol` after
/// each terminator. ISA11 and ISA16 are rewritten in place (the ISA keeps its width).
fn reserialise(data: &[u8], new: Separators, eol: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut r = SegmentReader::from_slice(data);
    while let Some(seg) = r.next_segment() {
        let Ok(seg) = seg else { continue };
        let old = seg.separators();
        let mut raw: Vec<u8> = seg
            .raw()
            .iter()
            .map(|&b| {
                if b == old.element {
                    new.element
                } else if b == old.component {
                    new.component
                } else if Some(b) == old.repetition {
                    new.repetition.unwrap_or(b)
                } else {
                    b
                }
            })
            .collect();
        if seg.is("ISA") && raw.len() == 105 {
            if old.repetition.is_some() {
                raw[82] = new.repetition.unwrap_or(b'^');
            }
            raw[104] = new.component;
        }
        out.extend_from_slice(&raw);
        out.push(new.segment);
        out.extend_from_slice(eol);
    }
    out
}

/// Four distinct delimiters from bytes that occur nowhere in `data`.
fn delimiters(data: &[u8], pick: [usize; 4]) -> Option<Separators> {
    let candidates: Vec<u8> = b"*|~^!>:<{}#@%&\x1d\x1e\x1f"
        .iter()
        .copied()
        .filter(|b| !data.contains(b))
        .collect();
    let mut chosen: Vec<u8> = Vec::new();
    for p in pick {
        let left: Vec<u8> = candidates
            .iter()
            .copied()
            .filter(|b| !chosen.contains(b))
            .collect();
        chosen.push(*left.get(p % left.len().max(1))?);
    }
    Some(Separators {
        element: chosen[0],
        component: chosen[1],
        repetition: Some(chosen[2]),
        segment: chosen[3],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for e in Parser::from_slice(&data) {
            let _ = e;
        }
    }

    #[test]
    fn arbitrary_bytes_after_an_isa_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = read("837P_lfh_demo.example1.837")[..106].to_vec();
        data.extend_from_slice(&tail);
        let slice: Vec<String> = Parser::from_slice(&data).map(|e| format!("{:?}", e.unwrap())).collect();
        let stream: Vec<String> =
            Parser::from_reader(std::io::Cursor::new(&data)).map(|e| format!("{:?}", e.unwrap())).collect();
        prop_assert_eq!(slice, stream);
    }

    #[test]
    fn damaged_samples_never_panic(
        file in 0..CLAIM_FILES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..20),
    ) {
        let mut data = read(CLAIM_FILES[file]);
        for (at, byte, op) in edits {
            let i = at.index(data.len().max(1)).min(data.len());
            match op {
                0 if i < data.len() => data[i] = byte,
                1 => data.insert(i, byte),
                _ if i < data.len() => { data.remove(i); }
                _ => {}
            }
        }
        let parsed = Parsed::from_slice(&data);
        for c in parsed.claims.iter().chain(parsed.claim_errors.iter().map(|e| &*e.claim)) {
            prop_assert!(c.lines.len() <= mso_x12::MAX_LINES);
        }
    }

    #[test]
    fn other_delimiters_read_to_the_same_claims(
        file in 0..CLAIM_FILES.len(),
        pick in any::<[usize; 4]>(),
        eol in prop::sample::select(vec![&b""[..], b"\n", b"\r\n"]),
    ) {
        let data = read(CLAIM_FILES[file]);
        let Some(new) = delimiters(&data, pick) else { return Ok(()) };
        let again = reserialise(&data, new, eol);
        // The reference is the same file written with its own delimiters, so only the
        // delimiters differ (not a missing final terminator or stray blanks).
        let first = SegmentReader::from_slice(&data).next_segment().and_then(Result::ok).map(|s| s.separators());
        let Some(old) = first else { return Ok(()) };
        let reference = reserialise(&data, old, b"\n");
        prop_assume!(new != old);
        prop_assert_ne!(&again, &reference);
        prop_assert_eq!(outcome(&again), outcome(&reference));
        prop_assert!(!Parsed::from_slice(&again).claims.is_empty() || !Parsed::from_slice(&again).claim_errors.is_empty());
    }
}
