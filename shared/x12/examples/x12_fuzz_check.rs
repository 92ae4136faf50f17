//! Runs the fuzz target's checks on files (to replay a fuzz artifact without cargo-fuzz):
//!   cargo run -p mso-x12 --example x12_fuzz_check -- FILE...
use mso_x12::ack999::{self, AckEnvelope, Stamp};
use mso_x12::{Event, Parser};

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap();
        let from_slice: Vec<Event> = Parser::from_slice(&data).map(|e| e.unwrap()).collect();
        let streamed: Vec<Event> = Parser::from_reader(Trickle(&data))
            .map(|e| e.unwrap())
            .collect();
        if format!("{from_slice:?}") != format!("{streamed:?}") {
            let same = |(a, b): &(&Event, &Event)| format!("{a:?}") == format!("{b:?}");
            let n = from_slice.iter().zip(&streamed).take_while(same).count();
            panic!(
                "slice and stream differ at event {n} of {}/{}:\n{:?}\n{:?}",
                from_slice.len(),
                streamed.len(),
                from_slice.get(n),
                streamed.get(n)
            );
        }
        let env = AckEnvelope {
            interchange_control_number: 1,
            group_control_number: 1,
            first_set_control_number: 1,
            stamp: Stamp::new("2026-01-31", "1230").unwrap(),
            our_qualifier: "ZZ".into(),
            our_id: "MSO".into(),
        };
        for e in &from_slice {
            if let Event::Interchange(ic) = e {
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
        }
        println!("{path}: ok ({} events)", from_slice.len());
    }
}

/// Hands out 7 bytes per read, like the fuzz target, to cross every buffer boundary.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
