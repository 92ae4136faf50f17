//! The segment reader: splits bytes into segments and elements with `memchr`, over
//! a borrowed slice (zero copy) or any `std::io::Read` through a bounded buffer.

use std::fmt;
use std::io::{self, Read};

use serde::Serialize;

use crate::separators::{self, ISA_SCAN, IsaProblem, Separators};

/// Longest segment accepted (the longest 837 segment is a few hundred bytes). A
/// longer one is reported and skipped, so hostile input cannot grow the buffer.
pub const MAX_SEGMENT_LEN: usize = 64 * 1024;
/// Most elements kept per segment (CLM has 20, SV1 21); further ones are counted
/// in [`Segment::dropped_elements`] for the envelope check, not stored.
pub const MAX_ELEMENTS: usize = 64;
/// Bytes asked of the underlying reader at a time.
const CHUNK: usize = 128 * 1024;

/// Where a segment is: its 1-based index in the file, its 1-based position in its
/// transaction set (ST = 1; 0 outside ST..SE), and the byte offset of its first byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub segment: u64,
    pub in_set: u32,
    pub offset: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {}", self.segment)?;
        if self.in_set > 0 {
            write!(f, " (position {} in its transaction set)", self.in_set)?;
        }
        write!(f, ", byte {}", self.offset)
    }
}

/// One segment, borrowed from the reader's buffer until the next call.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    raw: &'a [u8],
    /// `(start, end)` of each element in `raw`; element 0 is the segment ID.
    spans: &'a [(u32, u32)],
    dropped: usize,
    seps: Separators,
    pos: Position,
    code: u32,
}

impl<'a> Segment<'a> {
    /// The segment ID as written (`NM1`); may be invalid (`Nd4`, empty).
    pub fn id(&self) -> &'a [u8] {
        self.element_bytes(0)
    }

    /// Whether the ID is `id`.
    pub fn is(&self, id: &str) -> bool {
        self.id() == id.as_bytes()
    }

    /// Element `n`, numbered as in X12 (NM109 is `element(9)`); empty when absent.
    pub fn element(&self, n: usize) -> &'a [u8] {
        if n == 0 { &[] } else { self.element_bytes(n) }
    }

    fn element_bytes(&self, n: usize) -> &'a [u8] {
        match self.spans.get(n) {
            Some(&(s, e)) => &self.raw[s as usize..e as usize],
            None => &[],
        }
    }

    /// Element `n` as text, trimmed (lossy for bytes that are not UTF-8).
    pub fn text(&self, n: usize) -> std::borrow::Cow<'a, str> {
        crate::text::lossy(self.element(n))
    }

    /// Component `c` (1-based) of composite element `n`; empty when absent.
    pub fn component(&self, n: usize, c: usize) -> &'a [u8] {
        if c == 0 {
            return &[];
        }
        self.components(n).nth(c - 1).unwrap_or(&[])
    }

    /// The components of element `n` (one, the element itself, when not composite).
    pub fn components(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let e = self.element(n);
        let c = self.seps.component;
        let mut parts = e.split(move |&b| b == c);
        // An absent element has no components rather than one empty one.
        if e.is_empty() {
            parts.next();
        }
        parts
    }

    /// The repetitions of element `n` (split on ISA11 when it is a delimiter).
    pub fn repetitions(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let e = self.element(n);
        let r = self.seps.repetition;
        e.split(move |&b| Some(b) == r)
    }

    /// Number of elements after the ID (trailing empty elements included), counting
    /// any past [`MAX_ELEMENTS`].
    pub fn element_count(&self) -> usize {
        self.spans.len().saturating_sub(1) + self.dropped
    }

    /// Elements past [`MAX_ELEMENTS`] that were not stored.
    pub fn dropped_elements(&self) -> usize {
        self.dropped
    }

    /// The segment's bytes without its terminator.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn position(&self) -> Position {
        self.pos
    }

    /// The ID packed in an integer (see `ids`), for fast dispatch.
    pub(crate) fn code(&self) -> u32 {
        self.code
    }

    pub fn separators(&self) -> Separators {
        self.seps
    }
}

/// What the reader could not read. None of these stop it except [`ReadError::Io`]
/// and [`ReadError::NotX12`]; the rest are reported and reading goes on.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading the file failed: {0}")]
    Io(#[from] io::Error),
    /// The file does not start with an ISA, GS or ST segment.
    #[error("not an X12 file: no ISA header and no recognisable segment at byte {offset}")]
    NotX12 { offset: u64 },
    /// The file starts with another segment than ISA; its delimiters were guessed.
    #[error(
        "the file has no ISA interchange header (it starts with another segment at byte {offset})"
    )]
    MissingIsa { offset: u64 },
    /// An ISA header whose delimiters cannot be read; the reader skips to the next ISA.
    #[error("unreadable ISA header at byte {offset}: {}", problem.reason())]
    BadIsa { offset: u64, problem: IsaProblem },
    /// A segment longer than [`MAX_SEGMENT_LEN`]; it is skipped.
    #[error("segment at {position} is longer than {MAX_SEGMENT_LEN} bytes")]
    SegmentTooLong { position: Position },
}

/// Where bytes come from: a whole slice, or a reader refilling a bounded buffer.
pub trait Input {
    /// All bytes held (consumed ones included, up to the last refill).
    fn held(&self) -> &[u8];
    /// Index in [`Input::held`] of the first unconsumed byte.
    fn start(&self) -> usize;
    fn consume(&mut self, n: usize);
    /// Reads more, keeping the unconsumed bytes (which may move to the front).
    /// `Ok(false)` at the end of the input.
    fn fill(&mut self) -> io::Result<bool>;
    /// File offset of `held()[0]`.
    fn base(&self) -> u64;
}

/// A borrowed slice: nothing is copied.
pub struct SliceInput<'a> {
    data: &'a [u8],
    start: usize,
}

impl Input for SliceInput<'_> {
    fn held(&self) -> &[u8] {
        self.data
    }
    fn start(&self) -> usize {
        self.start
    }
    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.data.len());
    }
    fn fill(&mut self) -> io::Result<bool> {
        Ok(false)
    }
    fn base(&self) -> u64 {
        0
    }
}

/// A `Read` behind a buffer that never grows past about `MAX_SEGMENT_LEN + 2 * CHUNK`.
/// Short reads (a socket, a decompressor) are appended without re-zeroing the buffer.
pub struct ReadInput<R> {
    inner: R,
    /// `buf[..end]` holds data; `buf[end..]` is room for the next read.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    base: u64,
    eof: bool,
}

impl<R: Read> Input for ReadInput<R> {
    fn held(&self) -> &[u8] {
        &self.buf[..self.end]
    }
    fn start(&self) -> usize {
        self.start
    }
    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.buf.len() - self.end < CHUNK / 2 {
            // Move the unconsumed tail to the front, then make room if still short.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < CHUNK / 2 {
                self.buf.resize(self.end + CHUNK, 0);
            }
        }
        let n = loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.end += n;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }
    fn base(&self) -> u64 {
        self.base
    }
}

enum Mode {
    /// At the start of the file: looking for the ISA (or guessing).
    Start,
    Segments,
    /// After an unreadable ISA: looking for the next one, from this index.
    Resync {
        from: usize,
    },
    /// Inside an over-long segment: dropping bytes up to its terminator.
    Skip,
    Done,
}

/// Reads segments one at a time: `while let Some(seg) = reader.next_segment()`.
/// Each ISA sets the delimiters of the segments that follow it.
pub struct SegmentReader<I> {
    input: I,
    seps: Separators,
    mode: Mode,
    spans: Vec<(u32, u32)>,
    segment: u64,
    in_set: u32,
    set_open: bool,
    /// Elements past `MAX_ELEMENTS` in the segment last split.
    dropped: usize,
}

impl<'a> SegmentReader<SliceInput<'a>> {
    pub fn from_slice(data: &'a [u8]) -> Self {
        Self::new(SliceInput { data, start: 0 })
    }
}

impl<R: Read> SegmentReader<ReadInput<R>> {
    pub fn from_reader(inner: R) -> Self {
        Self::new(ReadInput {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
        })
    }
}

impl<I: Input> SegmentReader<I> {
    fn new(input: I) -> Self {
        SegmentReader {
            input,
            seps: Separators::STANDARD,
            mode: Mode::Start,
            spans: Vec::with_capacity(MAX_ELEMENTS + 1),
            segment: 0,
            in_set: 0,
            set_open: false,
            dropped: 0,
        }
    }

    fn window(&self) -> &[u8] {
        &self.input.held()[self.input.start()..]
    }

    fn offset(&self) -> u64 {
        self.input.base() + self.input.start() as u64
    }

    /// Ensures at least `n` unconsumed bytes unless the input ends first.
    fn want(&mut self, n: usize) -> io::Result<()> {
        while self.window().len() < n {
            if !self.input.fill()? {
                break;
            }
        }
        Ok(())
    }

    /// Drops blanks and line breaks before a segment (a UTF-8 BOM too at the start).
    /// `false` at the end of the input.
    fn skip_blanks(&mut self) -> io::Result<bool> {
        loop {
            let w = self.window();
            let seps = self.seps;
            let mut n = 0;
            if matches!(self.mode, Mode::Start) && w.starts_with(b"\xEF\xBB\xBF") {
                n = 3;
            }
            while n < w.len()
                && matches!(w[n], b' ' | b'\t' | b'\r' | b'\n')
                && w[n] != seps.element
            {
                n += 1;
            }
            let all = n == w.len();
            self.input.consume(n);
            if !all {
                return Ok(true);
            }
            if !self.input.fill()? {
                return Ok(false);
            }
        }
    }

    /// The next segment, or a problem met on the way; `None` at the end.
    pub fn next_segment(&mut self) -> Option<Result<Segment<'_>, ReadError>> {
        match self.advance() {
            Ok(Some(range)) => Some(Ok(self.segment_at(range))),
            Ok(None) => None,
            Err(e) => {
                if matches!(e, ReadError::Io(_) | ReadError::NotX12 { .. }) {
                    self.mode = Mode::Done;
                }
                Some(Err(e))
            }
        }
    }

    /// Finds the next segment: `(start, end)` in `held()`, terminator excluded.
    fn advance(&mut self) -> Result<Option<(usize, usize, u64)>, ReadError> {
        loop {
            match self.mode {
                Mode::Done => return Ok(None),
                Mode::Skip => {
                    let t = self.seps.segment;
                    match memchr::memchr(t, self.window()) {
                        Some(i) => {
                            self.input.consume(i + 1);
                            self.mode = Mode::Segments;
                        }
                        None => {
                            let n = self.window().len();
                            self.input.consume(n);
                            if !self.input.fill()? {
                                self.mode = Mode::Done;
                            }
                        }
                    }
                }
                Mode::Resync { from } => {
                    self.want(4)?;
                    let w = self.window();
                    // `from` is 1 at the unreadable ISA itself, so the search moves on.
                    match memchr::memmem::find(w.get(from..).unwrap_or_default(), b"ISA") {
                        Some(i) => {
                            self.input.consume(i + from);
                            self.mode = Mode::Segments;
                        }
                        None => {
                            // Keep 2 bytes: an "ISA" may straddle the refill.
                            let keep = w.len().min(2);
                            let n = w.len() - keep;
                            self.input.consume(n);
                            self.mode = Mode::Resync { from: 0 };
                            if !self.input.fill()? {
                                self.mode = Mode::Done;
                            }
                        }
                    }
                }
                Mode::Start | Mode::Segments => {
                    if !self.skip_blanks()? {
                        self.mode = Mode::Done;
                        return Ok(None);
                    }
                    self.want(4)?;
                    let w = self.window();
                    if w.starts_with(b"ISA") && w.get(3).is_some_and(|b| !b.is_ascii_alphanumeric())
                    {
                        self.want(ISA_SCAN + 2)?;
                        let offset = self.offset();
                        match separators::from_isa(self.window()) {
                            Ok((seps, len)) => {
                                self.seps = seps;
                                self.mode = Mode::Segments;
                                let mut split = Split::new(&mut self.spans);
                                let from = self.input.start();
                                let isa = &self.input.held()[from..from + len - 1];
                                let _ =
                                    split.scan(&mut self.spans, isa, 0, seps.element, seps.element);
                                split.end(&mut self.spans, len - 1);
                                self.dropped = split.dropped;
                                let start = self.input.start();
                                self.input.consume(len);
                                return Ok(Some((start, start + len - 1, offset)));
                            }
                            Err(problem) => {
                                self.mode = Mode::Resync { from: 1 };
                                return Err(ReadError::BadIsa { offset, problem });
                            }
                        }
                    }
                    if matches!(self.mode, Mode::Start) {
                        self.want(4096)?;
                        let offset = self.offset();
                        match separators::infer(self.window()) {
                            Some(seps) => {
                                self.seps = seps;
                                self.mode = Mode::Segments;
                                // Reported first; the segment is read on the next call.
                                return Err(ReadError::MissingIsa { offset });
                            }
                            None => return Err(ReadError::NotX12 { offset }),
                        }
                    }
                    return self.find_end().map(Some);
                }
            }
        }
    }

    /// The segment starting at the current position, ending at the next terminator
    /// (or at the end of the input), its elements split on the way (one pass).
    fn find_end(&mut self) -> Result<(usize, usize, u64), ReadError> {
        let (e, t) = (self.seps.element, self.seps.segment);
        let mut split = Split::new(&mut self.spans);
        let mut searched = 0;
        loop {
            let w = &self.input.held()[self.input.start()..];
            if let Some(i) = split.scan(&mut self.spans, w, searched, e, t) {
                self.dropped = split.dropped;
                if i > MAX_SEGMENT_LEN {
                    let position = self.too_long();
                    self.input.consume(i + 1);
                    return Err(ReadError::SegmentTooLong { position });
                }
                let start = self.input.start();
                let offset = self.offset();
                self.input.consume(i + 1);
                return Ok((start, start + i, offset));
            }
            searched = w.len();
            if searched > MAX_SEGMENT_LEN {
                let position = self.too_long();
                self.input.consume(searched);
                self.mode = Mode::Skip;
                return Err(ReadError::SegmentTooLong { position });
            }
            if !self.input.fill()? {
                // The last segment has no terminator: take it as it is; a cut-off
                // file is caught by its missing trailers.
                let len = self.input.held().len() - self.input.start();
                split.end(&mut self.spans, len);
                self.dropped = split.dropped;
                let start = self.input.start();
                let offset = self.offset();
                self.input.consume(len);
                return Ok((start, start + len, offset));
            }
        }
    }

    /// Counts a segment that is skipped for its length, and says where it was.
    fn too_long(&mut self) -> Position {
        self.segment += 1;
        let in_set = if self.set_open {
            self.in_set = self.in_set.saturating_add(1);
            self.in_set
        } else {
            0
        };
        Position {
            segment: self.segment,
            in_set,
            offset: self.offset(),
        }
    }

    fn segment_at(&mut self, (start, end, offset): (usize, usize, u64)) -> Segment<'_> {
        let raw = &self.input.held()[start..end];
        let dropped = self.dropped;
        self.segment += 1;
        let id = &raw[..self.spans[0].1 as usize];
        let in_set = if id == b"ST" {
            self.set_open = true;
            self.in_set = 1;
            1
        } else if self.set_open && !matches!(id, b"GE" | b"IEA" | b"ISA" | b"GS") {
            self.in_set = self.in_set.saturating_add(1);
            self.in_set
        } else {
            self.set_open = false;
            0
        };
        if id == b"SE" {
            self.set_open = false;
        }
        let pos = Position {
            segment: self.segment,
            in_set,
            offset,
        };
        let code = crate::ids::id_code(id);
        Segment {
            raw,
            spans: &self.spans,
            dropped,
            seps: self.seps,
            pos,
            code,
        }
    }

    /// Delimiters in force (those of the last ISA read).
    pub fn separators(&self) -> Separators {
        self.seps
    }
}

/// Element boundaries found while looking for the terminator, eight bytes at a
/// time (SWAR): most segments are 20 to 40 bytes, too short for `memchr` to pay off
/// per separator.
struct Split {
    from: usize,
    dropped: usize,
}

impl Split {
    fn new(spans: &mut Vec<(u32, u32)>) -> Self {
        spans.clear();
        Split {
            from: 0,
            dropped: 0,
        }
    }

    fn push(&mut self, spans: &mut Vec<(u32, u32)>, end: usize) {
        if spans.len() <= MAX_ELEMENTS {
            spans.push((self.from as u32, end as u32));
        } else {
            self.dropped += 1;
        }
        self.from = end + 1;
    }

    /// The last element ends at `end`.
    fn end(&mut self, spans: &mut Vec<(u32, u32)>, end: usize) {
        self.push(spans, end);
    }

    /// Scans `w[pos..]` for `e` (recording elements) and `t`; the index of `t`, with
    /// the last element recorded, or `None` at the end of `w`. When `e == t` only
    /// elements are recorded.
    fn scan(
        &mut self,
        spans: &mut Vec<(u32, u32)>,
        w: &[u8],
        mut pos: usize,
        e: u8,
        t: u8,
    ) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        // High bit of each byte set where that byte of `x` is zero (exact, no carries).
        let zero = |x: u64| !((x & LOW7).wrapping_add(LOW7) | x | LOW7);
        let (ee, tt) = (ONES * u64::from(e), ONES * u64::from(t));
        while let Some(chunk) = w.get(pos..pos + 8) {
            let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
            let mut hits = zero(word ^ ee) | zero(word ^ tt);
            while hits != 0 {
                let i = pos + (hits.trailing_zeros() / 8) as usize;
                if w[i] == t && e != t {
                    self.push(spans, i);
                    return Some(i);
                }
                self.push(spans, i);
                hits &= hits - 1;
            }
            pos += 8;
        }
        while let Some(&b) = w.get(pos) {
            if b == t && e != t {
                self.push(spans, pos);
                return Some(pos);
            }
            if b == e {
                self.push(spans, pos);
            }
            pos += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(data: &[u8]) -> Vec<String> {
        let mut r = SegmentReader::from_slice(data);
        let mut out = Vec::new();
        while let Some(s) = r.next_segment() {
            match s {
                Ok(s) => out.push(String::from_utf8_lossy(s.id()).into_owned()),
                Err(e) => out.push(format!("!{e}")),
            }
        }
        out
    }

    const ISA: &str = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *030101*1253*^*00501*000000905*1*T*:~";

    #[test]
    fn splits_segments_and_elements() {
        let data = format!("{ISA}\r\nGS*HC*A*B~ST*837*1~NM1*85*2*X:Y~SE*3*1~");
        let mut r = SegmentReader::from_slice(data.as_bytes());
        let isa = r.next_segment().unwrap().unwrap();
        assert_eq!(isa.element(16), b":");
        assert_eq!(isa.element_count(), 16);
        let gs = r.next_segment().unwrap().unwrap();
        assert_eq!((gs.position().segment, gs.position().offset), (2, 108));
        r.next_segment();
        let nm1 = r.next_segment().unwrap().unwrap();
        assert_eq!(nm1.id(), b"NM1");
        assert_eq!(nm1.component(3, 2), b"Y");
        assert_eq!(nm1.element(9), b"");
        assert_eq!(nm1.position().in_set, 2);
        let se = r.next_segment().unwrap().unwrap();
        assert_eq!(se.position().in_set, 3);
        assert!(r.next_segment().is_none());
    }

    #[test]
    fn streams_through_a_small_buffer_identically() {
        let body: String = (0..5000).map(|i| format!("REF*EI*{i}~\n")).collect();
        let data = format!("{ISA}\nGS*HC~{body}");
        let mut a = SegmentReader::from_slice(data.as_bytes());
        let mut b = SegmentReader::from_reader(OneByteAtATime(data.as_bytes()));
        loop {
            match (a.next_segment(), b.next_segment()) {
                (None, None) => break,
                (Some(Ok(x)), Some(Ok(y))) => {
                    assert_eq!((x.raw(), x.position()), (y.raw(), y.position()));
                }
                other => panic!("differ: {:?}", other.0.map(|r| r.is_ok())),
            }
        }
    }

    struct OneByteAtATime<'a>(&'a [u8]);
    impl Read for OneByteAtATime<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(7).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn skips_a_bom_and_reports_a_missing_isa() {
        assert_eq!(
            ids(format!("\u{feff}  {ISA}GS*HC~").as_bytes()),
            ["ISA", "GS"]
        );
        let got = ids(b"GS*HC*X~\nST*837*1~");
        assert!(got[0].starts_with("!the file has no ISA"), "{got:?}");
        assert_eq!(&got[1..], ["GS", "ST"]);
        assert!(ids(b"%PDF-1.4 hello")[0].starts_with("!not an X12 file"));
    }

    #[test]
    fn resyncs_after_an_unreadable_isa() {
        let data = format!("ISA*00~junk~{ISA}GS*HC~");
        let got = ids(data.as_bytes());
        assert!(got[0].starts_with("!unreadable ISA"), "{got:?}");
        assert_eq!(&got[1..], ["ISA", "GS"]);
    }

    #[test]
    fn resyncs_the_same_way_when_streamed() {
        // Found by fuzzing: an "ISA" straddling a refill was skipped when streaming.
        let data = format!("ISA*00~junk~{}ISA*01~more~{ISA}GS*HC~", "x".repeat(50));
        let slice: Vec<String> = ids(data.as_bytes());
        let mut r = SegmentReader::from_reader(OneByteAtATime(data.as_bytes()));
        let mut streamed = Vec::new();
        while let Some(s) = r.next_segment() {
            streamed.push(match s {
                Ok(s) => String::from_utf8_lossy(s.id()).into_owned(),
                Err(e) => format!("!{e}"),
            });
        }
        assert_eq!(slice, streamed);
        assert_eq!(slice.len(), 4, "{slice:?}");
    }

    #[test]
    fn a_long_malformed_isa_reads_the_same_when_streamed() {
        // Found by fuzzing: ISA16 just past the bytes a stream was sure to hold.
        // After an unreadable ISA, so the good one starts anywhere in a refill.
        for (pad, skew) in (460..480).flat_map(|p| (0..7).map(move |k| (p, k))) {
            let zeros = "0".repeat(pad);
            let isa = format!("ISA*{zeros}*00*A*B*C*D*E*F*G*H*^*00501*1*0*T*:~");
            let data = format!("ISA*00~{}{isa}GS*HC~", "y".repeat(skew));
            let streamed = {
                let mut r = SegmentReader::from_reader(OneByteAtATime(data.as_bytes()));
                let mut v = Vec::new();
                while let Some(s) = r.next_segment() {
                    v.push(s.map(|s| s.raw().to_vec()).map_err(|e| e.to_string()));
                }
                v
            };
            let mut r = SegmentReader::from_slice(data.as_bytes());
            let mut sliced = Vec::new();
            while let Some(s) = r.next_segment() {
                sliced.push(s.map(|s| s.raw().to_vec()).map_err(|e| e.to_string()));
            }
            assert_eq!(sliced, streamed, "pad {pad}, skew {skew}");
        }
    }

    #[test]
    fn reports_and_skips_an_overlong_segment() {
        let data = format!("{ISA}NTE*{}~REF*EI*1~", "A".repeat(MAX_SEGMENT_LEN + 10));
        let got = ids(data.as_bytes());
        assert_eq!(
            got.len(),
            3,
            "{:?}",
            got.iter()
                .map(|g| &g[..g.len().min(40)])
                .collect::<Vec<_>>()
        );
        assert!(got[1].contains("longer than"));
        assert_eq!(got[2], "REF");
    }

    #[test]
    fn caps_elements_per_segment() {
        let data = format!("{ISA}HI{}~", "*A".repeat(1000));
        let mut r = SegmentReader::from_slice(data.as_bytes());
        r.next_segment();
        let hi = r.next_segment().unwrap().unwrap();
        assert_eq!(hi.element_count(), 1000);
        assert_eq!(hi.dropped_elements(), 1000 - MAX_ELEMENTS);
    }
}
