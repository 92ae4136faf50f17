//! Streaming keeps memory flat: the reader asks for the same small buffer however
//! long the file, and claims come out one at a time while it is still being read.

use std::io::Read;

use mso_x12::{Event, Parser};

const HEAD: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~\nGS*HC*S*R*20240101*1200*1*X*005010X222A1~\nST*837*0001*005010X222A1~\nBHT*0019*00*REF1*20240101*1200*CH~\nNM1*41*2*SUB*****46*S1~\nNM1*40*2*RCV*****46*R1~\nHL*1**20*1~\nNM1*85*2*CLINIC*****XX*1234567893~\n";
const CLAIM: &str = "HL*2*1*22*0~\nSBR*P*18*******CI~\nNM1*IL*1*DOE*JANE****MI*M123~\nNM1*PR*2*PLAN*****PI*P1~\nCLM*PCN*100***11:B:1~\nHI*ABK:E119~\nLX*1~\nSV1*HC:99213*100*UN*1~\nDTP*472*D8*20240101~\n";
const CLAIM_SEGMENTS: u64 = 9;

/// An 837 of `claims` claims, made as it is read; records the largest buffer asked for.
struct Generated {
    claims: u64,
    made: u64,
    pending: Vec<u8>,
    tail_done: bool,
    largest_read: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.largest_read = self.largest_read.max(buf.len());
        if self.pending.is_empty() {
            if self.made < self.claims {
                self.pending.extend_from_slice(CLAIM.as_bytes());
                self.made += 1;
            } else if !self.tail_done {
                let count = 6 + self.claims * CLAIM_SEGMENTS + 1;
                self.pending
                    .extend(format!("SE*{count}*0001~\nGE*1*1~\nIEA*1*000000001~\n").bytes());
                self.tail_done = true;
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn a_long_file_streams_through_a_small_buffer() {
    let claims = 40_000; // about 7 MB
    let mut src = Generated {
        claims,
        made: 0,
        pending: HEAD.as_bytes().to_vec(),
        tail_done: false,
        largest_read: 0,
    };
    let (mut built, mut accepted) = (0u64, false);
    for e in Parser::from_reader(&mut src) {
        match e.unwrap() {
            Event::Claim(c) => {
                assert_eq!(c.total_charge_cents, 10_000);
                built += 1;
            }
            Event::ClaimError(e) => panic!("{e}"),
            Event::Interchange(ic) => accepted = ic.accepted(),
            _ => {}
        }
    }
    assert_eq!(built, claims);
    assert!(
        accepted,
        "counts and control numbers of the generated file are right"
    );
    // The reader never asked for more than its fixed chunk, whatever the file's size.
    assert!(
        src.largest_read <= 256 * 1024,
        "asked for {} bytes at once",
        src.largest_read
    );
}

#[test]
fn claims_come_out_before_the_file_ends() {
    let mut src = Generated {
        claims: 1_000,
        made: 0,
        pending: HEAD.as_bytes().to_vec(),
        tail_done: false,
        largest_read: 0,
    };
    let mut parser = Parser::from_reader(&mut src);
    let first = parser.find(|e| matches!(e, Ok(Event::Claim(_))));
    assert!(first.is_some());
    drop(parser);
    // The first claim came out long before the last was read.
    assert!(
        src.made < 1_000,
        "read {} of 1000 claims before the first came out",
        src.made
    );
}
