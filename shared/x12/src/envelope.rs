//! Envelope and syntax validation for a 999: ISA/IEA, GS/GE and ST/SE control
//! numbers and counts, missing trailers, unreadable headers, unknown segments, and
//! the data elements of the 837 segments that claims are built from.
//!
//! A problem with the envelope (control numbers, counts, a missing trailer, an
//! unreadable ISA, a set that is not a 5010 837, a missing billing provider or claim
//! loop) rejects; segment and element errors inside claims are noted (`E`) and the
//! set is accepted, so the claims they spoil are rejected one by one in the 277CA
//! while the others go on.
//!
//! Codes are those of the 999 (005010X231A1) and, for interchange problems, the
//! TA1: IK304 segment errors, IK403 element errors, IK501/IK502 transaction set
//! verdicts, AK901/AK905 group verdicts, TA105 interchange notes.

use std::borrow::Cow;
use std::collections::VecDeque;

use serde::Serialize;

use crate::Event;
use crate::ids::{self, id_code};
use crate::reader::{Position, ReadError, Segment};
use crate::separators::segment_id_len;
use crate::text::{self, lossy};

fn own(b: &[u8]) -> String {
    lossy(b).into_owned()
}

/// Transaction sets kept in detail per group; more are counted, not listed (a
/// hostile file of empty sets cannot grow the report without bound).
pub const MAX_SETS_LISTED: usize = 10_000;
/// Functional groups kept in detail per interchange, likewise.
pub const MAX_GROUPS_LISTED: usize = 1_000;
/// Segment errors kept per transaction set.
pub const MAX_SEGMENT_ERRORS: usize = 100;

/// A verdict: IK501 for a transaction set, AK901 for a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    /// Accepted, with segment or element errors noted (`E`): the envelope is sound,
    /// and the claims the errors spoil are rejected one by one in the 277CA.
    AcceptedWithErrors,
    /// Some transaction sets of the group were rejected (AK901 `P`).
    PartiallyAccepted,
    Rejected,
}

impl Verdict {
    /// The 999 code: `A`, `E`, `P` or `R`.
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Accepted => "A",
            Verdict::AcceptedWithErrors => "E",
            Verdict::PartiallyAccepted => "P",
            Verdict::Rejected => "R",
        }
    }

    /// Accepted, with or without errors noted.
    pub fn is_accepted(self) -> bool {
        matches!(self, Verdict::Accepted | Verdict::AcceptedWithErrors)
    }
}

/// A problem with an envelope: `code` is the TA105 note (interchange), AK905
/// (group) or IK502 (transaction set) code, when X12 has one for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub code: Option<&'static str>,
    pub reason: Cow<'static, str>,
    pub position: Position,
}

impl Note {
    fn new(code: &'static str, reason: impl Into<Cow<'static, str>>, position: Position) -> Note {
        Note {
            code: Some(code),
            reason: reason.into(),
            position,
        }
    }
}

/// An IK4: element `element` (component `component`) of a segment is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ElementError {
    pub element: u8,
    pub component: Option<u8>,
    /// IK403: 1 required missing, 2 conditional missing, 3 too many elements,
    /// 5 too long, 6 invalid character, 7 invalid code value, 8 invalid date, 9 invalid time.
    pub code: &'static str,
    pub reason: &'static str,
}

/// An IK3: a segment of a transaction set in error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SegmentError {
    /// The segment ID as written (may be invalid, e.g. `Nd4`).
    pub segment_id: String,
    pub position: Position,
    /// IK304: 1 unrecognized segment ID, 2 unexpected segment, 3 required segment
    /// missing, 8 segment has data element errors.
    pub code: &'static str,
    pub reason: &'static str,
    pub elements: Vec<ElementError>,
}

/// The verdict on one transaction set (one AK2 loop of the 999).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetReport {
    /// 0-based index of this set in the file (claims carry it too).
    pub set_index: u64,
    pub position: Position,
    /// ST01 (`837`).
    pub transaction_set: String,
    /// ST02.
    pub control_number: String,
    /// ST03 (`005010X222A1`).
    pub implementation: String,
    pub verdict: Verdict,
    pub errors: Vec<Note>,
    pub segment_errors: Vec<SegmentError>,
    pub segment_errors_omitted: u32,
}

/// The verdict on one functional group (one 999).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupReport {
    pub position: Position,
    /// GS01 (`HC`).
    pub functional_id: String,
    /// GS02, the application sender.
    pub sender: String,
    /// GS03.
    pub receiver: String,
    /// GS06.
    pub control_number: String,
    /// GS08 (`005010X222A1`).
    pub version: String,
    pub verdict: Verdict,
    pub errors: Vec<Note>,
    /// GE01, when the GE was there.
    pub declared_sets: Option<u64>,
    pub received_sets: u64,
    pub accepted_sets: u64,
    pub sets: Vec<SetReport>,
    /// Sets counted but not listed (past [`MAX_SETS_LISTED`]).
    pub sets_omitted: u64,
}

/// The verdict on one interchange (ISA..IEA), with its groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterchangeReport {
    pub position: Position,
    /// Whether an ISA opened it (false for a file that starts at GS or ST).
    pub has_header: bool,
    /// ISA05 / ISA06: the sender's qualifier and ID, trimmed.
    pub sender_qualifier: String,
    pub sender_id: String,
    /// ISA07 / ISA08.
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// ISA09 (YYMMDD) and ISA10 (HHMM).
    pub date: String,
    pub time: String,
    /// ISA13.
    pub control_number: String,
    /// ISA15: `P` production, `T` test.
    pub usage: String,
    /// Interchange problems, with TA1 note codes.
    pub errors: Vec<Note>,
    pub groups: Vec<GroupReport>,
    /// Groups counted but not listed (past [`MAX_GROUPS_LISTED`]).
    pub groups_omitted: u64,
}

impl InterchangeReport {
    /// Accepted as a whole: no interchange problem and every group accepted.
    pub fn accepted(&self) -> bool {
        self.errors.is_empty()
            && self.groups_omitted == 0
            && self.groups.iter().all(|g| g.verdict.is_accepted())
    }

    /// Whether the claims of transaction set `set_index` (see [`crate::claim::Source`])
    /// may be adjudicated: the interchange, its group and the set were accepted.
    /// `false` for a set this report does not list.
    pub fn set_accepted(&self, set_index: u64) -> bool {
        let group_ok = |g: &GroupReport| g.verdict != Verdict::Rejected;
        let has_set = |g: &GroupReport| {
            g.sets
                .iter()
                .any(|s| s.set_index == set_index && s.verdict.is_accepted())
        };
        self.errors.is_empty() && self.groups.iter().any(|g| group_ok(g) && has_set(g))
    }

    fn headless(position: Position) -> InterchangeReport {
        InterchangeReport {
            position,
            has_header: false,
            sender_qualifier: String::new(),
            sender_id: String::new(),
            receiver_qualifier: String::new(),
            receiver_id: String::new(),
            date: String::new(),
            time: String::new(),
            control_number: String::new(),
            usage: String::new(),
            errors: Vec::new(),
            groups: Vec::new(),
            groups_omitted: 0,
        }
    }
}

/// What a transaction set is, from GS01/GS08/ST01/ST03.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetKind {
    Professional,
    Institutional,
    Other,
}

pub(crate) fn kind_of(st01: &[u8], version: &[u8]) -> SetKind {
    if st01 != b"837" {
        SetKind::Other
    } else if version.starts_with(b"005010X222") {
        SetKind::Professional
    } else if version.starts_with(b"005010X223") {
        SetKind::Institutional
    } else {
        SetKind::Other
    }
}

struct OpenSet {
    report: SetReport,
    /// Reused for each segment's element checks.
    scratch: Vec<ElementError>,
    kind: SetKind,
    saw_hl20: bool,
    saw_clm: bool,
}

/// The envelope state machine. Fed every segment and read error in order; emits an
/// [`Event::SetEnd`] per transaction set and an [`Event::Interchange`] per interchange.
#[derive(Default)]
pub(crate) struct Validator {
    interchange: Option<InterchangeReport>,
    group: Option<GroupReport>,
    set: Option<OpenSet>,
    groups_in_interchange: u64,
    sets_in_group: u64,
    sets_seen: u64,
    outside_reported: bool,
}

impl Validator {
    pub(crate) fn interchange(&self) -> Option<&InterchangeReport> {
        self.interchange.as_ref()
    }

    pub(crate) fn group(&self) -> Option<&GroupReport> {
        self.group.as_ref()
    }

    /// Index of the set now open (the next set's before any).
    pub(crate) fn set_index(&self) -> u64 {
        self.set
            .as_ref()
            .map_or(self.sets_seen, |s| s.report.set_index)
    }

    pub(crate) fn read_error(&mut self, e: &ReadError, out: &mut VecDeque<Event>) {
        match e {
            ReadError::Io(_) => {}
            ReadError::NotX12 { offset } | ReadError::MissingIsa { offset } => {
                let pos = Position {
                    offset: *offset,
                    ..Position::default()
                };
                self.close_interchange(Some(pos), out);
                let mut ic = InterchangeReport::headless(pos);
                ic.errors.push(Note::new("022", e.to_string(), pos));
                self.interchange = Some(ic);
            }
            ReadError::BadIsa { offset, problem } => {
                let pos = Position {
                    offset: *offset,
                    ..Position::default()
                };
                self.close_interchange(Some(pos), out);
                let mut ic = InterchangeReport::headless(pos);
                ic.errors
                    .push(Note::new(problem.ta1_code(), problem.reason(), pos));
                // Nothing of it can be read: report it now.
                out.push_back(Event::Interchange(ic));
            }
            ReadError::SegmentTooLong { position } => {
                if let Some(set) = &mut self.set {
                    push_segment_error(
                        &mut set.report,
                        SegmentError {
                            segment_id: String::new(),
                            position: *position,
                            code: "8",
                            reason: "segment is too long to read",
                            elements: vec![ElementError {
                                element: 1,
                                component: None,
                                code: "5",
                                reason: "data element too long",
                            }],
                        },
                    );
                } else {
                    self.outside(*position, "segment is too long to read");
                }
            }
        }
    }

    pub(crate) fn segment(&mut self, seg: &Segment<'_>, out: &mut VecDeque<Event>) {
        let pos = seg.position();
        match seg.code() {
            ids::ISA => {
                self.close_interchange(Some(pos), out);
                self.open_interchange(seg);
            }
            ids::IEA => self.close_interchange_with(seg, out),
            ids::GS => {
                if self.interchange.is_none() {
                    self.interchange = Some(InterchangeReport::headless(pos));
                    self.note(Note::new(
                        "024",
                        "GS functional group outside an interchange (no ISA before it)",
                        pos,
                    ));
                }
                self.close_group(Some(pos), out);
                self.open_group(seg);
            }
            ids::GE => self.close_group_with(seg, out),
            // An interchange acknowledgment may stand between the ISA and the first GS.
            ids::TA1 if self.interchange.is_some() && self.group.is_none() => {}
            ids::ST => {
                if self.group.is_none() {
                    if self.interchange.is_none() {
                        self.interchange = Some(InterchangeReport::headless(pos));
                    }
                    self.note(Note::new(
                        "024",
                        "ST transaction set outside a functional group (no GS before it)",
                        pos,
                    ));
                    self.group = Some(empty_group(pos));
                    self.sets_in_group = 0;
                }
                self.close_set(None, out);
                self.open_set(seg);
            }
            ids::SE => self.close_set(Some(seg), out),
            _ => {
                if let Some(set) = &mut self.set {
                    check_set_segment(set, seg);
                } else {
                    self.outside(pos, "segment outside a transaction set");
                }
            }
        }
    }

    /// At the end of the input: whatever is still open lacks its trailer.
    pub(crate) fn finish(&mut self, end: Position, out: &mut VecDeque<Event>) {
        self.close_interchange(Some(end), out);
    }

    fn note(&mut self, note: Note) {
        if let Some(ic) = &mut self.interchange
            && ic.errors.len() < MAX_SEGMENT_ERRORS
        {
            ic.errors.push(note);
        }
    }

    fn outside(&mut self, pos: Position, reason: &'static str) {
        if self.interchange.is_none() {
            self.interchange = Some(InterchangeReport::headless(pos));
            self.outside_reported = false;
        }
        if !self.outside_reported {
            self.outside_reported = true;
            self.note(Note::new("024", reason, pos));
        }
    }

    fn open_interchange(&mut self, seg: &Segment<'_>) {
        let pos = seg.position();
        let t = |n| own(seg.element(n));
        let mut ic = InterchangeReport {
            position: pos,
            has_header: true,
            sender_qualifier: t(5),
            sender_id: t(6),
            receiver_qualifier: t(7),
            receiver_id: t(8),
            date: t(9),
            time: t(10),
            control_number: t(13),
            usage: t(15),
            errors: Vec::new(),
            groups: Vec::new(),
            groups_omitted: 0,
        };
        // Fixed widths of ISA01..ISA16 and the TA1 note for each.
        const WIDTHS: [(usize, &str, &str); 16] = [
            (
                2,
                "010",
                "ISA01 authorization qualifier must be 2 characters",
            ),
            (
                10,
                "011",
                "ISA02 authorization information must be 10 characters",
            ),
            (2, "012", "ISA03 security qualifier must be 2 characters"),
            (
                10,
                "013",
                "ISA04 security information must be 10 characters",
            ),
            (2, "005", "ISA05 sender qualifier must be 2 characters"),
            (15, "006", "ISA06 sender ID must be 15 characters"),
            (2, "007", "ISA07 receiver qualifier must be 2 characters"),
            (15, "008", "ISA08 receiver ID must be 15 characters"),
            (6, "014", "ISA09 date must be YYMMDD"),
            (4, "015", "ISA10 time must be HHMM"),
            (1, "026", "ISA11 repetition separator must be 1 character"),
            (5, "017", "ISA12 version must be 5 digits"),
            (9, "018", "ISA13 control number must be 9 digits"),
            (1, "019", "ISA14 acknowledgment requested must be 0 or 1"),
            (1, "020", "ISA15 usage indicator must be P, T or I"),
            (1, "027", "ISA16 component separator must be 1 character"),
        ];
        if seg.element_count() != 16 {
            ic.errors.push(Note::new(
                "022",
                "the ISA header must have exactly 16 elements",
                pos,
            ));
        }
        for (i, (width, code, reason)) in WIDTHS.iter().enumerate() {
            let v = seg.element(i + 1);
            let ok = v.len() == *width
                && match i + 1 {
                    9 => v.iter().all(u8::is_ascii_digit),
                    10 => text::is_time(v),
                    12 | 13 => v.iter().all(u8::is_ascii_digit),
                    14 => matches!(v, b"0" | b"1"),
                    15 => matches!(v, b"P" | b"T" | b"I"),
                    _ => true,
                };
            if !ok && ic.errors.len() < 16 {
                ic.errors.push(Note::new(code, *reason, pos));
            }
        }
        self.interchange = Some(ic);
        self.groups_in_interchange = 0;
        self.outside_reported = false;
    }

    fn close_interchange_with(&mut self, iea: &Segment<'_>, out: &mut VecDeque<Event>) {
        let pos = iea.position();
        if self.interchange.is_none() {
            self.interchange = Some(InterchangeReport::headless(pos));
            self.note(Note::new("024", "IEA trailer without an ISA header", pos));
        }
        self.close_group(Some(pos), out);
        let groups = self.groups_in_interchange;
        if let Some(ic) = &mut self.interchange {
            if ic.has_header && iea.element(2) != ic.control_number.as_bytes() {
                ic.errors.push(Note::new(
                    "001",
                    "the interchange control numbers in ISA13 and IEA02 do not match",
                    pos,
                ));
            }
            if lossy(iea.element(1)).parse::<u64>().ok() != Some(groups) {
                ic.errors.push(Note::new(
                    "021",
                    format!("IEA01 does not match the {groups} functional group(s) received"),
                    pos,
                ));
            }
        }
        self.emit_interchange(out);
    }

    /// Closes an open interchange whose IEA is missing (`at` is where it was due).
    fn close_interchange(&mut self, at: Option<Position>, out: &mut VecDeque<Event>) {
        self.close_group(at, out);
        if let (Some(ic), Some(at)) = (&mut self.interchange, at) {
            ic.errors.push(Note::new(
                "023",
                "the IEA interchange trailer is missing (file cut off?)",
                at,
            ));
        }
        self.emit_interchange(out);
    }

    fn emit_interchange(&mut self, out: &mut VecDeque<Event>) {
        let Some(mut ic) = self.interchange.take() else {
            return;
        };
        if !ic.errors.is_empty() {
            // Nothing in a rejected interchange is accepted.
            for g in &mut ic.groups {
                g.verdict = Verdict::Rejected;
                g.accepted_sets = 0;
                for s in &mut g.sets {
                    s.verdict = Verdict::Rejected;
                }
            }
        }
        out.push_back(Event::Interchange(ic));
    }

    fn open_group(&mut self, seg: &Segment<'_>) {
        let pos = seg.position();
        let mut g = empty_group(pos);
        g.functional_id = own(seg.element(1));
        g.sender = own(seg.element(2));
        g.receiver = own(seg.element(3));
        g.control_number = own(seg.element(6));
        g.version = own(seg.element(8));
        if g.functional_id != "HC" {
            g.errors.push(Note::new(
                "1",
                "functional group is not HC (health care claims)",
                pos,
            ));
        } else if kind_of(b"837", seg.element(8)) == SetKind::Other {
            g.errors.push(Note::new(
                "2",
                "GS08 version is not 005010X222 (837P) or 005010X223 (837I)",
                pos,
            ));
        }
        let gs06 = seg.element(6);
        if gs06.is_empty() || gs06.len() > 9 || !gs06.iter().all(u8::is_ascii_digit) {
            g.errors.push(Note::new(
                "6",
                "GS06 group control number must be 1 to 9 digits",
                pos,
            ));
        }
        self.group = Some(g);
        self.sets_in_group = 0;
        self.groups_in_interchange += 1;
    }

    fn close_group_with(&mut self, ge: &Segment<'_>, out: &mut VecDeque<Event>) {
        let pos = ge.position();
        if self.group.is_none() {
            if self.interchange.is_none() {
                self.interchange = Some(InterchangeReport::headless(pos));
            }
            self.note(Note::new("024", "GE trailer without a GS header", pos));
            return;
        }
        self.close_set(None, out);
        let sets = self.sets_in_group;
        if let Some(g) = &mut self.group {
            let declared = lossy(ge.element(1)).parse::<u64>().ok();
            g.declared_sets = declared;
            if ge.element(2) != g.control_number.as_bytes() {
                g.errors.push(Note::new(
                    "4",
                    "the group control numbers in GS06 and GE02 do not match",
                    pos,
                ));
            }
            if declared != Some(sets) {
                g.errors.push(Note::new(
                    "5",
                    format!("GE01 does not match the {sets} transaction set(s) received"),
                    pos,
                ));
            }
        }
        self.emit_group();
    }

    /// Closes an open group whose GE is missing.
    fn close_group(&mut self, at: Option<Position>, out: &mut VecDeque<Event>) {
        self.close_set(None, out);
        if let (Some(g), Some(at)) = (&mut self.group, at) {
            g.errors.push(Note::new(
                "3",
                "the GE functional group trailer is missing",
                at,
            ));
        }
        self.emit_group();
    }

    fn emit_group(&mut self) {
        let Some(mut g) = self.group.take() else {
            return;
        };
        g.received_sets = self.sets_in_group;
        let noted = g
            .sets
            .iter()
            .any(|s| s.verdict == Verdict::AcceptedWithErrors);
        g.verdict = if !g.errors.is_empty() || g.accepted_sets == 0 {
            Verdict::Rejected
        } else if g.accepted_sets < g.received_sets {
            Verdict::PartiallyAccepted
        } else if noted {
            Verdict::AcceptedWithErrors
        } else {
            Verdict::Accepted
        };
        if !g.errors.is_empty() {
            g.accepted_sets = 0;
            for s in &mut g.sets {
                s.verdict = Verdict::Rejected;
            }
        }
        match &mut self.interchange {
            Some(ic) if ic.groups.len() >= MAX_GROUPS_LISTED => ic.groups_omitted += 1,
            Some(ic) => ic.groups.push(g),
            None => {
                let mut ic = InterchangeReport::headless(g.position);
                ic.groups.push(g);
                self.interchange = Some(ic);
            }
        }
    }

    fn open_set(&mut self, seg: &Segment<'_>) {
        let pos = seg.position();
        let group_version = self
            .group
            .as_ref()
            .map(|g| g.version.clone())
            .unwrap_or_default();
        let st03 = seg.element(3);
        let version = if st03.is_empty() {
            group_version.as_bytes()
        } else {
            st03
        };
        let kind = kind_of(seg.element(1), version);
        let mut report = SetReport {
            set_index: self.sets_seen,
            position: pos,
            transaction_set: own(seg.element(1)),
            control_number: own(seg.element(2)),
            implementation: own(st03),
            verdict: Verdict::Accepted,
            errors: Vec::new(),
            segment_errors: Vec::new(),
            segment_errors_omitted: 0,
        };
        if seg.element(1) != b"837" {
            report
                .errors
                .push(Note::new("1", "transaction set is not an 837 claim", pos));
        } else if kind == SetKind::Other {
            report.errors.push(Note::new(
                "I6",
                "implementation guide is not 005010X222 (837P) or 005010X223 (837I)",
                pos,
            ));
        }
        let st02 = seg.element(2);
        if st02.len() < 4 || st02.len() > 9 {
            report.errors.push(Note::new(
                "7",
                "ST02 control number must be 4 to 9 characters",
                pos,
            ));
        }
        self.sets_seen += 1;
        self.sets_in_group += 1;
        self.set = Some(OpenSet {
            report,
            scratch: Vec::new(),
            kind,
            saw_hl20: false,
            saw_clm: false,
        });
    }

    /// Closes the open set: with its SE, or (`se` None) because something else began.
    fn close_set(&mut self, se: Option<&Segment<'_>>, out: &mut VecDeque<Event>) {
        let Some(mut set) = self.set.take() else {
            if let Some(se) = se {
                self.outside(se.position(), "SE trailer without an ST header");
            }
            return;
        };
        let r = &mut set.report;
        match se {
            Some(se) => {
                let pos = se.position();
                if se.element(2) != r.control_number.as_bytes() {
                    r.errors.push(Note::new(
                        "3",
                        "the transaction set control numbers in ST02 and SE02 do not match",
                        pos,
                    ));
                }
                if lossy(se.element(1)).parse::<u32>().ok() != Some(pos.in_set) {
                    r.errors.push(Note::new(
                        "4",
                        format!(
                            "SE01 does not match the {} segments counted from ST to SE",
                            pos.in_set
                        ),
                        pos,
                    ));
                }
                if set.kind != SetKind::Other {
                    if !set.saw_hl20 {
                        push_segment_error(
                            r,
                            missing(
                                "HL",
                                pos,
                                "no billing provider loop (HL*20) in the claim set",
                            ),
                        );
                    }
                    if !set.saw_clm {
                        push_segment_error(
                            r,
                            missing("CLM", pos, "no claim (CLM) in the claim set"),
                        );
                    }
                }
            }
            None => {
                let pos = r.position;
                r.errors.push(Note::new(
                    "2",
                    "the SE transaction set trailer is missing",
                    pos,
                ));
            }
        }
        // Envelope problems and missing loops reject the set; segment and element
        // errors are noted (E), and the claims they spoil are rejected one by one.
        let fatal = !r.errors.is_empty() || r.segment_errors.iter().any(|e| e.code == "3");
        let noted = !r.segment_errors.is_empty() || r.segment_errors_omitted > 0;
        if noted {
            r.errors.push(Note::new(
                "5",
                "one or more segments are in error",
                r.position,
            ));
        }
        r.verdict = match (fatal, noted) {
            (true, _) => Verdict::Rejected,
            (false, true) => Verdict::AcceptedWithErrors,
            (false, false) => Verdict::Accepted,
        };
        let report = set.report;
        out.push_back(Event::SetEnd(report.clone()));
        if let Some(g) = &mut self.group {
            if report.verdict.is_accepted() {
                g.accepted_sets += 1;
            }
            if g.sets.len() < MAX_SETS_LISTED {
                g.sets.push(report);
            } else {
                g.sets_omitted += 1;
            }
        }
    }
}

fn empty_group(pos: Position) -> GroupReport {
    GroupReport {
        position: pos,
        functional_id: String::new(),
        sender: String::new(),
        receiver: String::new(),
        control_number: String::new(),
        version: String::new(),
        verdict: Verdict::Rejected,
        errors: Vec::new(),
        declared_sets: None,
        received_sets: 0,
        accepted_sets: 0,
        sets: Vec::new(),
        sets_omitted: 0,
    }
}

fn missing(id: &str, pos: Position, reason: &'static str) -> SegmentError {
    SegmentError {
        segment_id: id.to_owned(),
        position: pos,
        code: "3",
        reason,
        elements: Vec::new(),
    }
}

fn push_segment_error(r: &mut SetReport, e: SegmentError) {
    // `e` is cheap when the cap is reached: its ID and elements are left empty.
    if r.segment_errors.len() < MAX_SEGMENT_ERRORS {
        r.segment_errors.push(e);
    } else {
        r.segment_errors_omitted = r.segment_errors_omitted.saturating_add(1);
    }
}

/// Segment IDs an 837P or 837I may hold (5010), ST/SE excluded, as [`id_code`]s,
/// sorted for a binary search (one comparison of integers, not of strings, per step).
const SEGMENTS_837: [u32; 53] = {
    let mut ids = [
        id_code(b"AMT"),
        id_code(b"BHT"),
        id_code(b"CAS"),
        id_code(b"CL1"),
        id_code(b"CLM"),
        id_code(b"CN1"),
        id_code(b"CR1"),
        id_code(b"CR2"),
        id_code(b"CR3"),
        id_code(b"CR5"),
        id_code(b"CR6"),
        id_code(b"CR7"),
        id_code(b"CRC"),
        id_code(b"CTP"),
        id_code(b"CUR"),
        id_code(b"DMG"),
        id_code(b"DN1"),
        id_code(b"DN2"),
        id_code(b"DTP"),
        id_code(b"FRM"),
        id_code(b"HCP"),
        id_code(b"HI"),
        id_code(b"HL"),
        id_code(b"HSD"),
        id_code(b"K3"),
        id_code(b"LIN"),
        id_code(b"LQ"),
        id_code(b"LX"),
        id_code(b"MEA"),
        id_code(b"MIA"),
        id_code(b"MOA"),
        id_code(b"N3"),
        id_code(b"N4"),
        id_code(b"NM1"),
        id_code(b"NTE"),
        id_code(b"OI"),
        id_code(b"PAT"),
        id_code(b"PER"),
        id_code(b"PRV"),
        id_code(b"PS1"),
        id_code(b"PWK"),
        id_code(b"QTY"),
        id_code(b"REF"),
        id_code(b"SBR"),
        id_code(b"SV1"),
        id_code(b"SV2"),
        id_code(b"SV3"),
        id_code(b"SV4"),
        id_code(b"SV5"),
        id_code(b"SV6"),
        id_code(b"SV7"),
        id_code(b"SVD"),
        id_code(b"TOO"),
    ];
    // Insertion sort: const fn cannot call slice::sort.
    let mut i = 1;
    while i < ids.len() {
        let mut j = i;
        while j > 0 && ids[j - 1] > ids[j] {
            let t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
            j -= 1;
        }
        i += 1;
    }
    ids
};

/// Checks one segment inside a transaction set (segment ID, and the elements the
/// claim builder relies on).
fn check_set_segment(set: &mut OpenSet, seg: &Segment<'_>) {
    if set.kind == SetKind::Other {
        return;
    }
    let id = seg.id();
    let pos = seg.position();
    // Past the cap, errors are only counted: build nothing for them.
    let room = set.report.segment_errors.len() < MAX_SEGMENT_ERRORS;
    let id_text = || {
        if room {
            String::from_utf8_lossy(id).into_owned()
        } else {
            String::new()
        }
    };
    if segment_id_len(id) != Some(id.len()) {
        push_segment_error(
            &mut set.report,
            SegmentError {
                segment_id: id_text(),
                position: pos,
                code: "1",
                reason: "unrecognized segment ID",
                elements: Vec::new(),
            },
        );
        return;
    }
    if SEGMENTS_837.binary_search(&seg.code()).is_err() {
        push_segment_error(
            &mut set.report,
            SegmentError {
                segment_id: id_text(),
                position: pos,
                code: "2",
                reason: "segment does not belong in an 837 claim",
                elements: Vec::new(),
            },
        );
        return;
    }
    if pos.in_set == 2 && seg.code() != ids::BHT {
        push_segment_error(&mut set.report, missing("BHT", pos, "BHT must follow ST"));
    }
    match seg.code() {
        ids::HL if seg.element(3) == b"20" => set.saw_hl20 = true,
        ids::CLM => set.saw_clm = true,
        _ => {}
    }
    let errs = &mut set.scratch;
    errs.clear();
    check_elements(seg, errs);
    if seg.dropped_elements() > 0 {
        errs.push(ElementError {
            element: 64,
            component: None,
            code: "3",
            reason: "too many data elements",
        });
    }
    if !errs.is_empty() {
        let elements = if room { errs.clone() } else { Vec::new() };
        push_segment_error(
            &mut set.report,
            SegmentError {
                segment_id: id_text(),
                position: pos,
                code: "8",
                reason: "segment has data element errors",
                elements,
            },
        );
    }
}

struct Check<'s, 'a> {
    seg: &'s Segment<'a>,
    errs: &'s mut Vec<ElementError>,
}

impl Check<'_, '_> {
    fn push(
        &mut self,
        element: usize,
        component: Option<u8>,
        code: &'static str,
        reason: &'static str,
    ) {
        self.errs.push(ElementError {
            element: element as u8,
            component,
            code,
            reason,
        });
    }
    fn required(&mut self, n: usize) -> bool {
        let present = !self.seg.element(n).is_empty();
        if !present {
            self.push(n, None, "1", "required data element missing");
        }
        present
    }
    fn code(&mut self, n: usize, allowed: &[&[u8]]) {
        let v = self.seg.element(n);
        if !v.is_empty() && !allowed.contains(&v) {
            self.push(n, None, "7", "invalid code value");
        }
    }
    fn date(&mut self, n: usize) {
        let v = self.seg.element(n);
        if !v.is_empty() && text::date(v).is_none() {
            self.push(n, None, "8", "invalid date");
        }
    }
    fn amount(&mut self, n: usize) {
        let v = self.seg.element(n);
        if !v.is_empty() && text::cents(v).is_none() {
            self.push(
                n,
                None,
                "6",
                "invalid character in data element (not an amount)",
            );
        }
    }
    fn decimal(&mut self, n: usize) {
        let v = self.seg.element(n);
        if !v.is_empty() && !text::is_decimal(v) {
            self.push(
                n,
                None,
                "6",
                "invalid character in data element (not a number)",
            );
        }
    }
    /// A composite whose first two components (qualifier, code) are required.
    fn pair(&mut self, n: usize) {
        if self.seg.element(n).is_empty() {
            return;
        }
        if self.seg.component(n, 1).is_empty() {
            self.push(n, Some(1), "1", "required component missing (qualifier)");
        }
        if self.seg.component(n, 2).is_empty() {
            self.push(n, Some(2), "1", "required component missing (code)");
        }
    }
}

fn check_elements(seg: &Segment<'_>, errs: &mut Vec<ElementError>) {
    let mut c = Check { seg, errs };
    match seg.code() {
        ids::BHT => {
            for n in 1..=4 {
                c.required(n);
            }
            c.date(4);
            if !seg.element(5).is_empty() && !text::is_time(seg.element(5)) {
                c.push(5, None, "9", "invalid time");
            }
        }
        ids::NM1 => {
            c.required(1);
            if c.required(2) {
                c.code(2, &[b"1", b"2"]);
            }
            let (q, id) = (seg.element(8), seg.element(9));
            if !q.is_empty() && id.is_empty() {
                c.push(
                    9,
                    None,
                    "2",
                    "identification code missing for its qualifier (NM108)",
                );
            } else if q.is_empty() && !id.is_empty() {
                c.push(
                    8,
                    None,
                    "2",
                    "identification code qualifier missing (NM108)",
                );
            }
        }
        ids::N3 | ids::N4 | ids::LX | ids::PER => {
            c.required(1);
            if seg.code() == ids::LX {
                c.decimal(1);
            }
        }
        ids::REF => {
            c.required(1);
            c.required(2);
        }
        ids::HL => {
            c.required(1);
            if c.required(3) {
                c.code(3, &[b"20", b"22", b"23"]);
            }
            c.code(4, &[b"0", b"1"]);
        }
        ids::SBR if c.required(1) => {
            let payer_responsibility: &[&[u8]] = &[
                b"A", b"B", b"C", b"D", b"E", b"F", b"G", b"H", b"P", b"S", b"T", b"U",
            ];
            c.code(1, payer_responsibility);
        }
        ids::DMG => {
            if seg.element(1) == b"D8" {
                c.date(2);
            }
            c.code(3, &[b"F", b"M", b"U"]);
        }
        ids::CLM => {
            c.required(1);
            if c.required(2) {
                c.amount(2);
            }
            if c.required(5) {
                if seg.component(5, 1).is_empty() {
                    c.push(
                        5,
                        Some(1),
                        "1",
                        "required component missing (facility code)",
                    );
                }
                if seg.component(5, 3).is_empty() {
                    c.push(
                        5,
                        Some(3),
                        "1",
                        "required component missing (claim frequency)",
                    );
                }
            }
        }
        ids::DTP => {
            c.required(1);
            if c.required(2) {
                c.code(2, &[b"D8", b"RD8", b"DT"]);
            }
            if c.required(3) {
                let v = seg.element(3);
                let ok = match seg.element(2) {
                    b"D8" => text::date(v).is_some(),
                    b"RD8" => {
                        v.len() == 17
                            && v[8] == b'-'
                            && text::date(&v[..8]).is_some()
                            && text::date(&v[9..]).is_some()
                    }
                    b"DT" => {
                        v.len() == 12 && text::date(&v[..8]).is_some() && text::is_time(&v[8..])
                    }
                    _ => true,
                };
                if !ok {
                    c.push(3, None, "8", "invalid date");
                }
            }
        }
        ids::HI => {
            c.required(1);
            for n in 1..=seg.element_count().min(24) {
                c.pair(n);
            }
        }
        ids::SV1 => {
            if c.required(1) {
                c.pair(1);
            }
            if c.required(2) {
                c.amount(2);
            }
            if c.required(3) {
                c.code(3, &[b"UN", b"MJ"]);
            }
            if c.required(4) {
                c.decimal(4);
            }
            for (i, p) in seg.components(7).enumerate().take(4) {
                let ok = !p.is_empty() && p.len() <= 2 && p.iter().all(u8::is_ascii_digit);
                if !ok {
                    c.push(
                        7,
                        Some(i as u8 + 1),
                        "7",
                        "diagnosis pointer must be 1 to 12",
                    );
                }
            }
        }
        ids::SV2 => {
            c.required(1);
            if c.required(3) {
                c.amount(3);
            }
            c.code(4, &[b"UN", b"DA"]);
            c.decimal(5);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::{InterchangeReport, Parsed};

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~";

    fn report(body: &str) -> InterchangeReport {
        Parsed::from_slice(format!("{ISA}{body}").as_bytes())
            .interchanges
            .remove(0)
    }

    fn codes(notes: &[super::Note]) -> Vec<&str> {
        notes.iter().filter_map(|n| n.code).collect()
    }

    #[test]
    fn control_numbers_and_counts_must_agree() {
        let r = report(
            "GS*HC*S*R*20240101*1200*7*X*005010X222A1~ST*837*0001*005010X222A1~SE*9*0002~GE*2*8~IEA*3*000000002~",
        );
        assert_eq!(codes(&r.errors), ["001", "021"]);
        assert_eq!(codes(&r.groups[0].errors), ["4", "5"]);
        assert_eq!(codes(&r.groups[0].sets[0].errors), ["3", "4", "5"]);
        assert_eq!(
            r.groups[0].sets[0].segment_errors.len(),
            2,
            "no HL*20 and no CLM"
        );
        assert!(!r.accepted());
    }

    #[test]
    fn a_bad_st02_and_an_unsupported_set_are_named() {
        let r = report(
            "GS*HC*S*R*20240101*1200*7*X*005010X222A1~ST*835*01~SE*2*01~GE*1*7~IEA*1*000000001~",
        );
        assert_eq!(codes(&r.groups[0].sets[0].errors), ["1", "7"]);
    }

    #[test]
    fn groups_past_the_cap_are_counted_not_listed() {
        let groups: String = (0..super::MAX_GROUPS_LISTED + 5)
            .map(|i| format!("GS*HC*S*R*20240101*1200*{i}*X*005010X222A1~GE*0*{i}~"))
            .collect();
        let r = report(&format!("{groups}IEA*1005*000000001~"));
        assert_eq!(
            (r.groups.len(), r.groups_omitted),
            (super::MAX_GROUPS_LISTED, 5)
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert!(!r.accepted());
    }
}
