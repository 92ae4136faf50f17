//! The X12 reader, envelope checks and 837 claim builder on arbitrary bytes: never a
//! panic, the same events from a slice and from a stream, bounded claims, and a 999
//! written for every interchange that reads back with correct counts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso_x12::ack999::{self, AckEnvelope, Stamp};
use mso_x12::{Event, Parser};

fuzz_target!(|data: &[u8]| {
    let from_slice: Vec<Event> = Parser::from_slice(data).map(|e| e.unwrap()).collect();
    // A reader that hands out 7 bytes at a time exercises every buffer boundary.
    let streamed: Vec<Event> = Parser::from_reader(Trickle(data))
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(format!("{from_slice:?}"), format!("{streamed:?}"));

    let env = AckEnvelope {
        interchange_control_number: 1,
        group_control_number: 1,
        first_set_control_number: 1,
        stamp: Stamp::new("2026-01-31", "1230").unwrap(),
        our_qualifier: "ZZ".into(),
        our_id: "MSO".into(),
    };
    for e in &from_slice {
        match e {
            Event::Claim(c) => {
                assert!(c.lines.len() <= mso_x12::MAX_LINES);
                assert!(c.health_codes.len() <= mso_x12::MAX_HEALTH_CODES);
            }
            Event::ClaimError(e) => {
                assert!(!e.problems.is_empty() && e.problems.len() <= mso_x12::MAX_PROBLEMS);
            }
            Event::Interchange(ic) => {
                let ack = ack999::write(ic, &env);
                for back in Parser::from_slice(ack.as_bytes()) {
                    if let Ok(Event::Interchange(r)) = back {
                        assert!(
                            r.errors.is_empty(),
                            "our 999 has envelope errors: {:?}\n{ack}",
                            r.errors
                        );
                    }
                }
            }
            _ => {}
        }
    }
});

struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
