//! X12 5010 for claims intake: a streaming segment reader, the envelope checks a
//! 999 needs, an 837P/837I claim builder, and 999 and 277CA writers.
//!
//! ```
//! use mso_x12::{Event, Parser};
//!
//! let file = std::fs::read("tests/samples/837P_lfh_demo.example1.837").unwrap();
//! for event in Parser::from_slice(&file) {
//!     match event.unwrap() {
//!         Event::Claim(claim) => assert_eq!(claim.patient_control_number, "26463774"),
//!         Event::ClaimError(bad) => panic!("{bad}"),
//!         Event::Interchange(report) => assert!(report.accepted()),
//!         _ => {}
//!     }
//! }
//! ```
//!
//! - [`SegmentReader`] splits any delimiters (read from each ISA) over a slice (zero
//!   copy) or a `std::io::Read` (a buffer of a few hundred kilobytes, whatever the
//!   file's size). Every segment knows its [`Position`].
//! - [`Parser`] runs the envelope checks and the claim builder over it and yields
//!   [`Event`]s: each claim as soon as it is complete (or a [`ClaimError`] naming its
//!   problems and their positions), a [`SetReport`] at each SE, and an
//!   [`InterchangeReport`] at each IEA, from which [`ack999::write`] writes the 999.
//! - [`ack277::Ack277Builder`] writes a 277CA from the claims and the claims
//!   function's accept/reject decisions.
//!
//! How the claims function uses it: write the 999 from each [`Event::Interchange`];
//! adjudicate the claims of a transaction set only if
//! [`InterchangeReport::set_accepted`] (claims stream out before their SE and IEA are
//! seen, so a cut-off file's claims arrive before the report that rejects them);
//! reject each [`ClaimError`] in the 277CA by its CLM01. A set whose claims have bad
//! values is accepted with errors noted (999 `E`), so its good claims go on.
//!
//! Nothing here panics on any input, and every allocation is capped (segment length,
//! elements, lines, codes, problems, reports), so hostile files cost bounded memory.
//! Problems and notes never quote values; claims themselves derive `Debug` and hold
//! PHI, so log positions and reasons, not claims.
//!
//! Why hand-written: the Rust X12 crates either deserialise a whole document into
//! generated structs (`x12-types`, nom-based, no streaming, no positions, a large
//! build) or are unmaintained (`edi`, 2020). The reader is a few hundred lines of byte
//! scanning (eight bytes at a time per segment, `memchr` for long searches), measured
//! in `benches/x12_837.rs` and docs/performance.md.

pub mod ack277;
pub mod ack999;
mod build837;
pub mod claim;
mod envelope;
mod ids;
mod reader;
mod separators;
mod text;

use std::collections::VecDeque;
use std::io::{self, Read};

pub use build837::{MAX_HEALTH_CODES, MAX_LINES, MAX_PROBLEMS};
pub use claim::{Claim, ClaimError, ClaimKind, NotClaims, Problem};
pub use envelope::{
    ElementError, GroupReport, InterchangeReport, MAX_GROUPS_LISTED, MAX_SEGMENT_ERRORS,
    MAX_SETS_LISTED, Note, SegmentError, SetReport, Verdict,
};
pub use reader::{
    Input, MAX_ELEMENTS, MAX_SEGMENT_LEN, Position, ReadError, ReadInput, Segment, SegmentReader,
    SliceInput,
};
pub use separators::{IsaProblem, Separators};
pub use text::{Date, amount as format_amount, cents as parse_cents, date as parse_date};

use build837::ClaimBuilder;
use envelope::Validator;

/// What the parser reports, in file order.
#[derive(Debug)]
pub enum Event {
    /// A claim with no problem found while reading it.
    Claim(Box<Claim>),
    /// A claim that cannot be accepted as read; the others go on.
    ClaimError(ClaimError),
    /// A transaction set that is not a 5010 837 (a 270, a 4010 837...).
    NotClaims(NotClaims),
    /// The verdict on a transaction set's own envelope and syntax, after its claims.
    /// Its interchange's report can still reject it (a missing IEA).
    SetEnd(SetReport),
    /// The final verdict on an interchange and its groups and sets: write the 999
    /// from it. Claims of a set it rejects must not be adjudicated.
    Interchange(InterchangeReport),
}

/// Reads a whole X12 file as [`Event`]s; see the crate docs.
pub struct Parser<I> {
    reader: SegmentReader<I>,
    validator: Validator,
    builder: ClaimBuilder,
    queue: VecDeque<Event>,
    last: Position,
    done: bool,
}

impl<'a> Parser<SliceInput<'a>> {
    pub fn from_slice(data: &'a [u8]) -> Self {
        Parser::new(SegmentReader::from_slice(data))
    }
}

impl<R: Read> Parser<ReadInput<R>> {
    /// Streams from a reader (a file, an S3 body) with a bounded buffer.
    pub fn from_reader(inner: R) -> Self {
        Parser::new(SegmentReader::from_reader(inner))
    }
}

impl<I: Input> Parser<I> {
    fn new(reader: SegmentReader<I>) -> Self {
        Parser {
            reader,
            validator: Validator::default(),
            builder: ClaimBuilder::new(),
            queue: VecDeque::new(),
            last: Position::default(),
            done: false,
        }
    }
}

impl<I: Input> Iterator for Parser<I> {
    /// An I/O error ends the stream; everything else is an [`Event`].
    type Item = Result<Event, io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(Ok(e));
            }
            if self.done {
                return None;
            }
            let out = &mut self.queue;
            match self.reader.next_segment() {
                None => {
                    self.builder.end_set(out);
                    self.validator.finish(self.last, out);
                    self.done = true;
                }
                Some(Err(ReadError::Io(e))) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Some(Err(e)) => {
                    if !matches!(e, ReadError::SegmentTooLong { .. }) {
                        self.builder.end_set(out);
                    }
                    self.validator.read_error(&e, out);
                }
                Some(Ok(seg)) => {
                    self.last = seg.position();
                    match seg.code() {
                        ids::ST => {
                            self.builder.end_set(out);
                            self.validator.segment(&seg, out);
                            self.builder.start_set(&seg, &self.validator, out);
                        }
                        ids::SE | ids::GE | ids::IEA | ids::ISA | ids::GS => {
                            self.builder.end_set(out);
                            self.validator.segment(&seg, out);
                        }
                        _ => {
                            self.validator.segment(&seg, out);
                            self.builder.segment(&seg, out);
                        }
                    }
                }
            }
        }
    }
}

/// Everything in a file, collected: for small files and tests. Large files should
/// iterate a [`Parser`] instead and handle each claim as it comes.
#[derive(Debug, Default)]
pub struct Parsed {
    pub claims: Vec<Claim>,
    pub claim_errors: Vec<ClaimError>,
    pub not_claims: Vec<NotClaims>,
    pub interchanges: Vec<InterchangeReport>,
}

impl Parsed {
    /// Parses a whole file held in memory.
    pub fn from_slice(data: &[u8]) -> Parsed {
        let mut p = Parsed::default();
        for e in Parser::from_slice(data).flatten() {
            match e {
                Event::Claim(c) => p.claims.push(*c),
                Event::ClaimError(e) => p.claim_errors.push(e),
                Event::NotClaims(n) => p.not_claims.push(n),
                Event::SetEnd(_) => {}
                Event::Interchange(i) => p.interchanges.push(i),
            }
        }
        p
    }
}
