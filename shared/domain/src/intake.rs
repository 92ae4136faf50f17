//! Fax and email intake: what a clerk looks for in an incoming item, as plain rules.
//!
//! [`find_references`] reads text (a subject, an email body, a PDF's text layer) for
//! this system's reference IDs (`PA-7K3Q9M`, `CLM-…`, `DSP-…`), member ID + date of
//! birth pairs, NPIs, and labelled procedure and diagnosis codes. [`classify`] decides
//! what the item is (a prior-auth request, clinical notes for an existing auth, a
//! claim, a dispute, an appeal, or other) from tables of cues, and says which cues
//! decided it in words a clerk reads.
//!
//! Everything found is a *candidate*: the intake handler links an item only after
//! looking the reference (or the member with that date of birth) up.
//!
//! **PHI.** Member IDs, dates of birth and diagnosis codes are PHI. [`Found`] and
//! [`MemberMention`] print only counts through `Debug`, and the handler never logs
//! them (nor the subject or text they came from); they are stored on the intake item
//! for the clerk. [`Cue`]s quote only this module's own table phrases, never the
//! document, so a classification may be logged.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub mod item;

use crate::codes::{Icd10, ProcedureCode};
use crate::ids::{MemberId, Npi, RecordKind, ReferenceId};

// ---------------------------------------------------------------------------------
// Reference IDs
// ---------------------------------------------------------------------------------

/// The kinds of record whose reference IDs a fax or email may quote (reference
/// IDs themselves are [`ReferenceId`], shared with every job).
pub const FINDABLE: [RecordKind; 3] = [
    RecordKind::PriorAuth,
    RecordKind::Claim,
    RecordKind::Dispute,
];

/// Crockford base32: the digits and the upper-case letters except I, L, O and U
/// (matched here in either case).
fn is_crockford(b: u8) -> bool {
    let b = b.to_ascii_uppercase();
    b.is_ascii_digit() || (b.is_ascii_uppercase() && !matches!(b, b'I' | b'L' | b'O' | b'U'))
}

/// The reference ID starting at byte `at` of `s`, and where it ends. The caller
/// checks what comes before `at`; this checks the prefix, the separator, the body and
/// that no letter or digit follows it.
fn match_reference(s: &str, at: usize) -> Option<(ReferenceId, usize)> {
    let b = s.as_bytes();
    for kind in FINDABLE {
        let prefix = kind.prefix().as_bytes();
        let Some(head) = b.get(at..at + prefix.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(prefix) {
            continue;
        }
        let mut i = at + prefix.len();
        let hyphen = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b' ') => {
                i += 1;
                false
            }
            _ => false,
        };
        let n = kind.code_len();
        let Some(body) = b.get(i..i + n) else {
            continue;
        };
        if !body.iter().all(|&c| is_crockford(c)) {
            continue;
        }
        // Written without its hyphen, an all-letter body is too like a word to take
        // ("PAYMENT" would be PA-YMENT...); generated IDs with a digit are still found.
        if !hyphen && !body.iter().any(u8::is_ascii_digit) {
            continue;
        }
        let end = i + n;
        if s[end..].chars().next().is_some_and(char::is_alphanumeric) {
            continue;
        }
        let id = format!("{}-{}", kind.prefix(), String::from_utf8_lossy(body));
        // The body is Crockford base32 by now, so this always parses.
        return ReferenceId::parse(&id).ok().map(|id| (id, end));
    }
    None
}

// ---------------------------------------------------------------------------------
// What was found
// ---------------------------------------------------------------------------------

/// A member ID found near a member-ID label, with the date of birth found near a
/// date-of-birth label closest to it (within [`PAIRING_DISTANCE`] bytes), if any.
/// PHI: `Debug` prints neither value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberMention {
    pub member_id: MemberId,
    #[serde(default, with = "optional_date")]
    pub dob: Option<Date>,
}

impl fmt::Debug for MemberMention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemberMention")
            .field("member_id", &"<redacted>")
            .field("dob", &self.dob.map(|_| "<redacted>"))
            .finish()
    }
}

/// Everything [`find_references`] found, each list in order of first appearance and
/// without repeats, each at most [`MAX_FOUND`] long.
///
/// PHI (member IDs, dates of birth, diagnosis codes): `Debug` prints the reference
/// IDs (not PHI) and only the count of everything else. Never log the lists.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub references: Vec<ReferenceId>,
    pub members: Vec<MemberMention>,
    pub npis: Vec<Npi>,
    pub procedure_codes: Vec<ProcedureCode>,
    pub diagnosis_codes: Vec<Icd10>,
}

/// At most this many of each thing are kept: enough for any real document, and a
/// bound on what a hostile one can make us store.
pub const MAX_FOUND: usize = 50;

/// How far (in bytes of text) a date of birth may be from a member ID to be taken as
/// that member's: one form row or a few lines of a letter.
pub const PAIRING_DISTANCE: usize = 400;

impl fmt::Debug for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Found")
            .field("references", &self.references)
            .field("members", &self.members.len())
            .field("npis", &self.npis.len())
            .field("procedure_codes", &self.procedure_codes.len())
            .field("diagnosis_codes", &self.diagnosis_codes.len())
            .finish()
    }
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.references.is_empty()
            && self.members.is_empty()
            && self.npis.is_empty()
            && self.procedure_codes.is_empty()
            && self.diagnosis_codes.is_empty()
    }

    /// The reference IDs of one kind.
    pub fn references_of(&self, kind: RecordKind) -> impl Iterator<Item = &ReferenceId> {
        self.references.iter().filter(move |r| r.kind() == kind)
    }

    /// Member IDs that came with a date of birth: what a record can be linked by.
    pub fn members_with_dob(&self) -> impl Iterator<Item = (&MemberId, Date)> {
        self.members
            .iter()
            .filter_map(|m| m.dob.map(|d| (&m.member_id, d)))
    }

    /// Adds what `other` found after what this one found (the subject's findings
    /// first, then the body's, then each attachment's), without repeats.
    pub fn merge(&mut self, other: Found) {
        push_all(&mut self.references, other.references);
        for m in other.members {
            // A member seen without a DOB and later with one keeps the DOB; a
            // mention without a DOB adds nothing to one with.
            if m.dob.is_none() && self.members.iter().any(|x| x.member_id == m.member_id) {
                continue;
            }
            match self
                .members
                .iter_mut()
                .find(|x| x.member_id == m.member_id && (x.dob.is_none() || x.dob == m.dob))
            {
                Some(x) => {
                    if x.dob.is_none() {
                        x.dob = m.dob;
                    }
                }
                None => push_unique(&mut self.members, m),
            }
        }
        push_all(&mut self.npis, other.npis);
        push_all(&mut self.procedure_codes, other.procedure_codes);
        push_all(&mut self.diagnosis_codes, other.diagnosis_codes);
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if v.len() < MAX_FOUND && !v.contains(&x) {
        v.push(x);
    }
}

fn push_all<T: PartialEq>(v: &mut Vec<T>, xs: Vec<T>) {
    for x in xs {
        push_unique(v, x);
    }
}

// ---------------------------------------------------------------------------------
// Finding
// ---------------------------------------------------------------------------------

/// Labels before a member ID, lower case. A space in a label matches any run of
/// spaces, tabs or hyphens, or none ("Member ID", "MemberID", "Member-ID").
pub const MEMBER_ID_LABELS: &[&str] = &[
    "member id",
    "member #",
    "member no",
    "member number",
    "mbr id",
    "id #",
    "subscriber id",
    "subscriber #",
    "subscriber no",
    "subscriber number",
];

/// Labels before a date of birth.
pub const DOB_LABELS: &[&str] = &["dob", "d.o.b", "date of birth", "birth date", "birthdate"];

/// Labels before procedure codes.
pub const PROCEDURE_LABELS: &[&str] = &[
    "cpt",
    "hcpcs",
    "cpt/hcpcs",
    "cpt code",
    "cpt codes",
    "procedure code",
    "procedure codes",
    "proc code",
];

/// Labels before diagnosis codes.
pub const DIAGNOSIS_LABELS: &[&str] = &[
    "icd 10",
    "icd 10 cm",
    "icd",
    "diagnosis",
    "diagnosis code",
    "diagnosis codes",
    "dx",
    "dx code",
    "dx codes",
];

/// How far after a label its value may start (past colons, `#`, spaces, a newline).
const VALUE_GAP: usize = 12;

/// Finds this system's reference IDs, member IDs with dates of birth, NPIs and
/// labelled procedure and diagnosis codes in `text`.
///
/// - Reference IDs: `PA-` or `DSP-` and 6, `CLM-` and 10 Crockford base32 characters,
///   in any case, with a hyphen, a space or nothing after the prefix, never inside a
///   longer word; normalised to `PA-7K3Q9M`. Without the hyphen the body must hold a
///   digit. A body with I, L, O or U is not one.
/// - Member IDs after a label ([`MEMBER_ID_LABELS`]: "Member ID", "Member #", "ID#",
///   "Subscriber ID", ...): 3 to 20 letters, digits or hyphens, with at least one
///   digit (so "Member ID: N/A" finds nothing). Each is paired with the nearest date
///   of birth after a label ("DOB", "Date of birth", "D.O.B.") written `MM/DD/YYYY`,
///   `M/D/YY`, `MM-DD-YYYY` or `YYYY-MM-DD`. A two-digit year is 20YY up to 29, else 19YY.
/// - NPIs: any 10-digit number starting with 1 or 2 (CMS issues no other) whose
///   check digit is right, not part of a longer number or word.
/// - Procedure (CPT/HCPCS) and diagnosis (ICD-10) codes only after their labels: the
///   list right after the label ("CPT: 99213, 99214"), and on the rest of that line
///   further codes of the same kind (ICD-10 codes only in their dotted form there, so
///   words like "A1C" are not taken).
pub fn find_references(text: &str) -> Found {
    let mut found = Found::default();
    let lower = text.to_ascii_lowercase();

    // Reference IDs: only where a word starts with P, C or D.
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if matches!(c, b'p' | b'P' | b'c' | b'C' | b'd' | b'D')
            && word_starts_at(text, i)
            && let Some((id, _)) = match_reference(text, i)
        {
            push_unique(&mut found.references, id);
        }
    }

    // Member IDs and dates of birth, with their positions for pairing.
    let mut members: Vec<(usize, MemberId)> = Vec::new();
    for at in label_ends(&lower, MEMBER_ID_LABELS) {
        if let Some(start) = value_start(b, at)
            && let Some(id) = member_id_at(text, start)
            && !members.iter().any(|(_, m)| *m == id)
            && members.len() < MAX_FOUND
        {
            members.push((start, id));
        }
    }
    let mut dobs: Vec<(usize, Date)> = Vec::new();
    for at in label_ends(&lower, DOB_LABELS) {
        if let Some(start) = value_start(b, at)
            && let Some(d) = date_at(b, start)
            && dobs.len() < MAX_FOUND
        {
            dobs.push((start, d));
        }
    }
    members.sort_by_key(|(p, _)| *p);
    for (pos, member_id) in members {
        let dob = dobs
            .iter()
            .map(|&(p, d)| (p.abs_diff(pos), d))
            .filter(|&(dist, _)| dist <= PAIRING_DISTANCE)
            .min_by_key(|&(dist, _)| dist)
            .map(|(_, d)| d);
        push_unique(&mut found.members, MemberMention { member_id, dob });
    }

    // NPIs: runs of exactly ten digits.
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 10
                && matches!(b[start], b'1' | b'2')
                && word_starts_at(text, start)
                && !text[i..].chars().next().is_some_and(char::is_alphanumeric)
                && let Ok(npi) = Npi::parse(&text[start..i])
            {
                push_unique(&mut found.npis, npi);
            }
        } else {
            i += 1;
        }
    }

    // Labelled codes.
    for at in label_ends(&lower, PROCEDURE_LABELS) {
        labelled_codes(text, at, |tok, _| {
            let code = tok.split('-').next().unwrap_or_default();
            ProcedureCode::parse(code).ok()
        })
        .into_iter()
        .for_each(|c| push_unique(&mut found.procedure_codes, c));
    }
    for at in label_ends(&lower, DIAGNOSIS_LABELS) {
        labelled_codes(text, at, |tok, in_list| {
            // Past the list right after the label, only the dotted form: "A1C" or
            // "B12" in a sentence are words, not codes.
            if in_list || tok.contains('.') {
                Icd10::parse(tok).ok()
            } else {
                None
            }
        })
        .into_iter()
        .for_each(|c| push_unique(&mut found.diagnosis_codes, c));
    }
    found
}

/// No letter or digit ends right before byte `i` (which is a char boundary).
fn word_starts_at(text: &str, i: usize) -> bool {
    !text[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}

/// The byte offsets just past each place a label occurs in `lower` (the lower-cased
/// text) as whole words.
fn label_ends(lower: &str, labels: &[&str]) -> Vec<usize> {
    let b = lower.as_bytes();
    let mut ends = Vec::new();
    for label in labels {
        let first = label.split(' ').next().unwrap_or_default();
        for (start, _) in lower.match_indices(first) {
            if !word_starts_at(lower, start) {
                continue;
            }
            let Some(end) = match_label(b, start, label.as_bytes()) else {
                continue;
            };
            // A label ending in a letter must end a word ("dob" is not "dobson").
            let last = label.as_bytes()[label.len() - 1];
            if last.is_ascii_alphanumeric() && b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                continue;
            }
            ends.push(end);
            if ends.len() >= 4 * MAX_FOUND {
                return ends;
            }
        }
    }
    ends.sort_unstable();
    ends.dedup();
    ends
}

/// Matches `label` at `at`, a space in it matching any run of spaces, tabs or
/// hyphens (or none). Returns the end of the match.
fn match_label(b: &[u8], at: usize, label: &[u8]) -> Option<usize> {
    let mut i = at;
    for &c in label {
        if c == b' ' {
            while i < b.len() && matches!(b[i], b' ' | b'\t' | b'-') {
                i += 1;
            }
        } else if b.get(i) == Some(&c) {
            i += 1;
        } else {
            return None;
        }
    }
    Some(i)
}

/// Where the value after a label starts: past at most [`VALUE_GAP`] bytes of
/// separators (spaces, colons, `#`, dots, `=`, parentheses, one line break).
fn value_start(b: &[u8], mut i: usize) -> Option<usize> {
    let limit = i + VALUE_GAP;
    let mut newlines = 0;
    while i < b.len() && i < limit {
        match b[i] {
            b' ' | b'\t' | b':' | b'#' | b'.' | b'=' | b'-' | b'(' | b')' => i += 1,
            b'\r' => i += 1,
            b'\n' if newlines == 0 => {
                newlines += 1;
                i += 1;
            }
            _ => break,
        }
    }
    (i < b.len() && b[i].is_ascii_alphanumeric()).then_some(i)
}

/// The member ID starting at `start`: a run of letters, digits and hyphens with at
/// least one digit.
fn member_id_at(text: &str, start: usize) -> Option<MemberId> {
    let b = text.as_bytes();
    let mut end = start;
    while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'-') && end - start <= 20 {
        end += 1;
    }
    let tok = text[start..end].trim_end_matches('-');
    if text[end..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric)
    {
        return None;
    }
    if !tok.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    MemberId::parse(tok).ok()
}

/// A date starting at `start`: `M/D/YY`, `MM/DD/YYYY`, `MM-DD-YYYY` or `YYYY-MM-DD`,
/// a real calendar date from 1900 to 2199.
fn date_at(b: &[u8], start: usize) -> Option<Date> {
    let num = |i: usize, min: usize, max: usize| -> Option<(u32, usize, usize)> {
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() && j - i < max {
            j += 1;
        }
        if j - i < min || b.get(j).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut n = 0u32;
        for &c in &b[i..j] {
            n = n * 10 + u32::from(c - b'0');
        }
        Some((n, j, j - i))
    };
    let (first, i, len) = num(start, 1, 4)?;
    let sep = *b.get(i)?;
    if !matches!(sep, b'/' | b'-') {
        return None;
    }
    let (second, i, _) = num(i + 1, 1, 2)?;
    if b.get(i) != Some(&sep) {
        return None;
    }
    let (y, m, d) = if len == 4 {
        if sep != b'-' {
            return None;
        }
        let (third, j, _) = num(i + 1, 2, 2)?;
        ends_value(b, j)?;
        (first, second, third)
    } else {
        let (third, j, ylen) = num(i + 1, 2, 4)?;
        let year = match ylen {
            2 if third <= 29 => 2000 + third,
            2 => 1900 + third,
            4 => third,
            _ => return None,
        };
        ends_value(b, j)?;
        (year, first, second)
    };
    if !(1900..=2199).contains(&y) {
        return None;
    }
    Date::new(y as i16, m as i8, d as i8).ok()
}

/// A value must not run on into a letter or digit.
fn ends_value(b: &[u8], end: usize) -> Option<()> {
    (!b.get(end).is_some_and(u8::is_ascii_alphanumeric)).then_some(())
}

/// Codes after a label at `at`: first the list right after it (tokens separated by
/// commas, semicolons, slashes, spaces or "and"), stopping at the first token that is
/// not a code; then the rest of that line, where `take` decides with `in_list` false.
fn labelled_codes<T>(text: &str, at: usize, take: impl Fn(&str, bool) -> Option<T>) -> Vec<T> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let Some(mut i) = value_start(b, at) else {
        return out;
    };
    let line_end = b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p)
        .min(i + 240);
    let mut in_list = true;
    while i < line_end && out.len() < 20 {
        // One token: letters, digits, dots and hyphens.
        let start = i;
        while i < line_end && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'-')) {
            i += 1;
        }
        if i > start {
            let tok = text[start..i].trim_end_matches(['.', '-']);
            let before_ok = word_starts_at(text, start);
            let after_ok = !text[i..].chars().next().is_some_and(char::is_alphanumeric);
            match (before_ok && after_ok)
                .then(|| take(tok, in_list))
                .flatten()
            {
                Some(code) => out.push(code),
                None if tok.eq_ignore_ascii_case("and") && in_list => {}
                None => in_list = false,
            }
        } else {
            // Separators keep the list going; anything else (a parenthesis, a word
            // of another script) ends it.
            let c = text[i..].chars().next().unwrap_or(' ');
            if !matches!(c, ',' | ';' | '/' | ' ' | '\t' | '\r' | '&') {
                in_list = false;
            }
            i += c.len_utf8();
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------

/// What an intake item is, for routing to the right queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeKind {
    PriorAuthRequest,
    /// Clinical notes for an existing auth: a prior-auth reference and clinical wording.
    ClinicalNotes,
    Claim,
    /// A provider dispute (PDR), payment dispute, reconsideration or grievance.
    Dispute,
    /// An appeal of an adverse (medical necessity) determination.
    Appeal,
    Other,
}

impl IntakeKind {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            IntakeKind::PriorAuthRequest => "prior_auth_request",
            IntakeKind::ClinicalNotes => "clinical_notes",
            IntakeKind::Claim => "claim",
            IntakeKind::Dispute => "dispute",
            IntakeKind::Appeal => "appeal",
            IntakeKind::Other => "other",
        }
    }

    /// For a clerk.
    pub fn label(self) -> &'static str {
        match self {
            IntakeKind::PriorAuthRequest => "prior authorization request",
            IntakeKind::ClinicalNotes => "clinical notes for an existing authorization",
            IntakeKind::Claim => "claim",
            IntakeKind::Dispute => "provider dispute",
            IntakeKind::Appeal => "appeal",
            IntakeKind::Other => "other",
        }
    }
}

/// One row of a cue table: a phrase that suggests a kind, and how strongly (1 to 10).
/// Phrases match as whole words, in any case, with any punctuation or spacing between
/// their words ("CMS-1500" matches "cms 1500"; "PDR" does not match "PDRX").
#[derive(Clone, Copy, Debug)]
pub struct CueRule {
    pub kind: IntakeKind,
    pub phrase: &'static str,
    pub weight: u8,
}

const fn cue(kind: IntakeKind, phrase: &'static str, weight: u8) -> CueRule {
    CueRule {
        kind,
        phrase,
        weight,
    }
}

use IntakeKind::{Appeal, Claim, ClinicalNotes, Dispute, PriorAuthRequest};

/// The cue table. Titles of forms and letters weigh most (8); single words that
/// other kinds also use weigh least. To teach the classifier a new form, add its
/// title here and a test beside the others. Wording from the seeds: ProCare ("PDR",
/// "Second-Level Review", "payment dispute"), IMS ("Authorization Request Form",
/// "clinical notes"), CareSource ("Document Clinical", "Claim Appeals"), CalOptima
/// ("Provider Dispute Resolution (PDR) form", "Authorization Request Form (ARF)",
/// "CMS1500"), EmblemHealth ("adverse determination", "medical necessity denial",
/// "Expedited Appeal", "Grievance").
pub const CUES: &[CueRule] = &[
    // A new prior-auth request.
    cue(PriorAuthRequest, "Authorization Request Form", 8),
    cue(PriorAuthRequest, "Treatment Authorization Request", 8),
    cue(PriorAuthRequest, "Prior Authorization Request", 8),
    cue(PriorAuthRequest, "Request for Prior Authorization", 8),
    cue(PriorAuthRequest, "Preauthorization Request", 8),
    cue(PriorAuthRequest, "Pre-authorization Request", 8),
    cue(PriorAuthRequest, "Request for Authorization", 7),
    cue(PriorAuthRequest, "Authorization Request", 7),
    cue(PriorAuthRequest, "Referral Request", 6),
    cue(PriorAuthRequest, "Inpatient Notification", 6),
    cue(PriorAuthRequest, "Post-stabilization", 4),
    cue(PriorAuthRequest, "Prior Authorization", 4),
    cue(PriorAuthRequest, "Preauthorization", 4),
    cue(PriorAuthRequest, "Pre-authorization", 4),
    cue(PriorAuthRequest, "Precertification", 4),
    cue(PriorAuthRequest, "Pre-certification", 4),
    cue(PriorAuthRequest, "TAR", 4),
    cue(PriorAuthRequest, "ARF", 4),
    cue(PriorAuthRequest, "Requested Units", 3),
    cue(PriorAuthRequest, "Units Requested", 3),
    // Clinical notes: count only when a prior-auth reference was found.
    cue(ClinicalNotes, "Clinical Notes", 6),
    cue(ClinicalNotes, "Clinical Information", 5),
    cue(ClinicalNotes, "Clinical Documentation", 5),
    cue(ClinicalNotes, "Document Clinical", 5),
    cue(ClinicalNotes, "Progress Note", 5),
    cue(ClinicalNotes, "Progress Notes", 5),
    cue(ClinicalNotes, "Office Visit Note", 5),
    cue(ClinicalNotes, "History of Present Illness", 5),
    cue(ClinicalNotes, "Assessment and Plan", 5),
    cue(ClinicalNotes, "Operative Report", 5),
    cue(ClinicalNotes, "Discharge Summary", 5),
    cue(ClinicalNotes, "Medical Records", 4),
    cue(ClinicalNotes, "Supporting Documentation", 4),
    cue(ClinicalNotes, "Chief Complaint", 4),
    cue(ClinicalNotes, "Physical Exam", 4),
    cue(ClinicalNotes, "Lab Results", 4),
    cue(ClinicalNotes, "Imaging Report", 4),
    cue(ClinicalNotes, "Radiology Report", 4),
    cue(ClinicalNotes, "Face Sheet", 4),
    cue(ClinicalNotes, "Clinical Review", 4),
    cue(ClinicalNotes, "HPI", 3),
    // A claim.
    cue(Claim, "CMS-1500", 8),
    cue(Claim, "CMS1500", 8),
    cue(Claim, "HCFA-1500", 8),
    cue(Claim, "UB-04", 8),
    cue(Claim, "UB04", 8),
    cue(Claim, "Health Insurance Claim Form", 8),
    cue(Claim, "Claim Form", 7),
    cue(Claim, "Corrected Claim", 7),
    cue(Claim, "Claim Submission", 5),
    cue(Claim, "Itemized Bill", 5),
    cue(Claim, "Superbill", 5),
    cue(Claim, "Total Charges", 5),
    cue(Claim, "Total Charge", 5),
    cue(Claim, "Billed Charges", 4),
    cue(Claim, "Type of Bill", 4),
    cue(Claim, "Balance Due", 3),
    cue(Claim, "Amount Paid", 3),
    // A provider dispute.
    cue(Dispute, "Provider Dispute Resolution", 8),
    cue(Dispute, "PDR", 7),
    cue(Dispute, "Provider Dispute", 7),
    cue(Dispute, "Payment Dispute", 7),
    cue(Dispute, "Claim Dispute", 6),
    cue(Dispute, "Second Level Review", 5),
    cue(Dispute, "Underpaid", 5),
    cue(Dispute, "Underpayment", 5),
    cue(Dispute, "Contested Claim", 5),
    cue(Dispute, "Request for Reconsideration", 5),
    cue(Dispute, "Reconsideration", 4),
    cue(Dispute, "Dispute", 4),
    cue(Dispute, "Grievance", 4),
    cue(Dispute, "Incorrect Payment", 4),
    cue(Dispute, "Down-coding", 3),
    cue(Dispute, "Downcoded", 3),
    // An appeal of an adverse determination.
    cue(Appeal, "Expedited Appeal", 9),
    cue(Appeal, "Adverse Determination", 8),
    cue(Appeal, "Medical Necessity Denial", 8),
    cue(Appeal, "Denial of Medical Necessity", 8),
    cue(Appeal, "Request for Appeal", 7),
    cue(Appeal, "Appeal Request", 7),
    cue(Appeal, "Appeal", 6),
    cue(Appeal, "Appeals", 6),
    cue(Appeal, "Peer to Peer", 3),
];

/// A cue found in the subject weighs this much more: the sender chose those words.
pub const SUBJECT_BONUS: u8 = 2;
/// A dispute reference (`DSP-…`) is a follow-up to a dispute.
pub const DISPUTE_REFERENCE_WEIGHT: u8 = 6;
/// A kind needs at least this score to win; below it the item is `other`.
pub const MIN_SCORE: u32 = 4;
/// When two kinds score the same, the first of these wins: the kinds with the
/// shortest legal clocks first, so a tie never delays an appeal or a dispute.
pub const TIE_ORDER: [IntakeKind; 5] = [Appeal, Dispute, ClinicalNotes, PriorAuthRequest, Claim];

/// Where a cue was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CuePlace {
    Subject,
    Text,
    /// A reference ID found in the subject or text.
    Reference,
}

/// One reason for a classification, e.g. "subject mentions 'PDR'". It quotes only
/// this module's phrases and reference IDs, never the document, so it is safe to log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cue {
    pub kind: IntakeKind,
    pub place: CuePlace,
    pub phrase: Cow<'static, str>,
    pub weight: u8,
}

impl fmt::Display for Cue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            CuePlace::Subject => write!(f, "subject mentions '{}'", self.phrase),
            CuePlace::Text => write!(f, "text has '{}'", self.phrase),
            CuePlace::Reference => write!(f, "found reference {}", self.phrase),
        }
    }
}

/// How sure the classifier is, for the clerk's queue ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// What [`classify`] decided, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub kind: IntakeKind,
    pub confidence: Confidence,
    pub score: u32,
    /// The cues that count for `kind`, strongest first (empty for `other` when
    /// nothing matched).
    pub cues: Vec<Cue>,
}

impl Classification {
    /// The cues in one line for a clerk: "subject mentions 'PDR'; text has 'Provider
    /// Dispute Resolution'", or "no cue found".
    pub fn explanation(&self) -> String {
        if self.cues.is_empty() {
            return "no cue found".to_owned();
        }
        self.cues
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Decides what an intake item is from its subject (emails), its text (body and
/// text layers) and what [`find_references`] found in them.
///
/// Each kind scores its strongest cue, plus one for each further distinct cue (at
/// most three more): a form's title decides, and many weak words cannot outvote it.
/// A cue in the subject weighs [`SUBJECT_BONUS`] more. A phrase inside a longer
/// matched phrase of the same place is not counted again ("Authorization Request"
/// inside "Authorization Request Form"). Clinical notes count only when a prior-auth
/// reference was found: notes without one are most likely part of a new request. A
/// `DSP-` reference is a dispute cue. The highest score wins if it reaches
/// [`MIN_SCORE`]; ties go by [`TIE_ORDER`]; otherwise the item is `other`.
///
/// Confidence: high when the winner scores at least 8 and at least twice the
/// runner-up; medium when it scores at least 6 and 2 more than the runner-up; low
/// otherwise.
pub fn classify(subject: Option<&str>, text: &str, found: &Found) -> Classification {
    let subject_n = subject.map(normalise).unwrap_or_default();
    let text_n = normalise(text);

    // Each cue's phrase in the form searched for, made once per process.
    static NEEDLES: LazyLock<Vec<String>> =
        LazyLock::new(|| CUES.iter().map(|r| normalise(r.phrase)).collect());
    let mut matched: Vec<Cue> = Vec::new();
    for (place, hay) in [(CuePlace::Subject, &subject_n), (CuePlace::Text, &text_n)] {
        let mut here: Vec<(&CueRule, &str)> = CUES
            .iter()
            .zip(NEEDLES.iter().map(String::as_str))
            .filter(|(_, p)| contains_words(hay, p))
            .collect();
        // Longest first, then drop phrases inside a longer one already taken.
        here.sort_by_key(|(_, p)| std::cmp::Reverse(p.len()));
        let mut taken: Vec<&str> = Vec::new();
        for (rule, p) in here {
            if taken.iter().any(|t| contains_words(t, p)) {
                continue;
            }
            // The same phrase in subject and text counts once, as the subject's.
            if place == CuePlace::Text
                && matched
                    .iter()
                    .any(|c| c.place == CuePlace::Subject && c.phrase == rule.phrase)
            {
                taken.push(p);
                continue;
            }
            let weight = match place {
                CuePlace::Subject => rule.weight + SUBJECT_BONUS,
                _ => rule.weight,
            };
            matched.push(Cue {
                kind: rule.kind,
                place,
                phrase: Cow::Borrowed(rule.phrase),
                weight,
            });
            taken.push(p);
        }
    }
    if let Some(r) = found.references_of(RecordKind::Dispute).next() {
        matched.push(Cue {
            kind: Dispute,
            place: CuePlace::Reference,
            phrase: Cow::Owned(r.to_string()),
            weight: DISPUTE_REFERENCE_WEIGHT,
        });
    }
    let has_pa = found.references_of(RecordKind::PriorAuth).next().is_some();
    if !has_pa {
        matched.retain(|c| c.kind != ClinicalNotes);
    } else if matched.iter().any(|c| c.kind == ClinicalNotes)
        && let Some(r) = found.references_of(RecordKind::PriorAuth).next()
    {
        // Shown to the clerk as the reason notes count; adds nothing to the score.
        matched.push(Cue {
            kind: ClinicalNotes,
            place: CuePlace::Reference,
            phrase: Cow::Owned(r.to_string()),
            weight: 0,
        });
    }

    let score_of = |kind: IntakeKind| -> u32 {
        let mut ws: Vec<u32> = matched
            .iter()
            .filter(|c| c.kind == kind && c.weight > 0)
            .map(|c| u32::from(c.weight))
            .collect();
        ws.sort_unstable_by(|a, b| b.cmp(a));
        match ws.split_first() {
            Some((top, rest)) => top + rest.len().min(3) as u32,
            None => 0,
        }
    };
    let mut scores: Vec<(IntakeKind, u32)> = TIE_ORDER.iter().map(|&k| (k, score_of(k))).collect();
    // Stable: equal scores keep TIE_ORDER.
    scores.sort_by_key(|&(_, s)| std::cmp::Reverse(s));
    let (best, top) = scores[0];
    let second = scores[1].1;

    if top < MIN_SCORE {
        return Classification {
            kind: IntakeKind::Other,
            confidence: Confidence::Low,
            score: top,
            cues: Vec::new(),
        };
    }
    let confidence = if top >= 8 && top >= 2 * second {
        Confidence::High
    } else if top >= 6 && top >= second + 2 {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    let mut cues: Vec<Cue> = matched.into_iter().filter(|c| c.kind == best).collect();
    cues.sort_by_key(|c| std::cmp::Reverse(c.weight));
    Classification {
        kind: best,
        confidence,
        score: top,
        cues,
    }
}

/// Lower-case ASCII, every run of other characters than letters and digits one
/// space, with a space at each end, so whole-word search is a substring search.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(' ');
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// `needle` (normalised, so " word word ") occurs in `hay` (normalised).
fn contains_words(hay: &str, needle: &str) -> bool {
    !needle.trim().is_empty() && hay.contains(needle)
}

mod optional_date {
    use jiff::civil::Date;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => crate::dates::parse_date(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn refs(text: &str) -> Vec<String> {
        find_references(text)
            .references
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    fn date(y: i16, m: i8, d: i8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    // --- reference IDs ---------------------------------------------------------

    #[test]
    fn reference_ids_in_every_accepted_form_normalise_to_upper_case_with_hyphen() {
        for text in [
            "PA-7K3Q9M",
            "pa-7k3q9m",
            "Re: PA 7K3Q9M follow-up",
            "ref PA7K3Q9M.",
            "(Pa-7K3q9M)",
            "auth #PA-7K3Q9M, thanks",
        ] {
            assert_eq!(refs(text), ["PA-7K3Q9M"], "{text}");
        }
        assert_eq!(refs("claim CLM-8D2K4M9QXZ paid"), ["CLM-8D2K4M9QXZ"]);
        assert_eq!(refs("clm 8d2k4m9qxz"), ["CLM-8D2K4M9QXZ"]);
        assert_eq!(refs("dispute DSP-4R7T2W"), ["DSP-4R7T2W"]);
        assert_eq!(refs("dsp4r7t2w"), ["DSP-4R7T2W"]);
    }

    #[test]
    fn several_references_keep_their_order_without_repeats() {
        assert_eq!(
            refs("DSP-4R7T2W about CLM-8D2K4M9QXZ (auth PA-7K3Q9M); again dsp-4r7t2w"),
            ["DSP-4R7T2W", "CLM-8D2K4M9QXZ", "PA-7K3Q9M"]
        );
    }

    #[test]
    fn references_are_never_taken_from_inside_a_word() {
        for text in [
            "XPA-7K3Q9M",
            "PA-7K3Q9MX",
            "PA-7K3Q9M2",
            "1PA-7K3Q9M",
            "éPA-7K3Q9M",
            "PA-7K3Q9Mé",
            "PAYMENT",
            "PAYMENTS received",
            "DISPLAY",
            "CLMS",
        ] {
            assert!(refs(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_body_with_i_l_o_or_u_or_the_wrong_length_is_not_a_reference() {
        for text in [
            "PA-7K3Q9I",
            "PA-7L3Q9M",
            "PA-7K3O9M",
            "PA-7K3U9M",
            "PA-7K3Q9",
            "CLM-8D2K4M9QX",
            "DSP-4R7T2",
            "PA--7K3Q9M",
            "PA  7K3Q9M",
        ] {
            assert!(refs(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn without_a_hyphen_an_all_letter_body_is_a_word_not_a_reference() {
        assert!(refs("pa backed").is_empty());
        assert!(refs("PAYMENT").is_empty());
        assert_eq!(refs("PA-BCDEFG"), ["PA-BCDEFG"]);
    }

    #[test]
    fn reference_id_parse_takes_one_id_and_nothing_else() {
        let r = ReferenceId::parse(" pa 7k3q9m ").unwrap();
        assert_eq!(r.as_str(), "PA-7K3Q9M");
        assert_eq!(r.kind(), RecordKind::PriorAuth);
        assert_eq!(
            ReferenceId::parse("CLM-8D2K4M9QXZ").unwrap().kind(),
            RecordKind::Claim
        );
        assert_eq!(
            ReferenceId::parse("DSP-4R7T2W").unwrap().kind(),
            RecordKind::Dispute
        );
        for bad in ["", "PA-7K3Q9M x", "PA-7K3Q9L", "XX-7K3Q9M"] {
            assert_eq!(
                ReferenceId::parse(bad).unwrap_err().code,
                "invalid_reference_id",
                "{bad}"
            );
        }
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"PA-7K3Q9M\"");
        assert!(serde_json::from_str::<ReferenceId>("\"PA-OOOOOO\"").is_err());
    }

    // --- members and dates of birth ----------------------------------------------

    #[test]
    fn member_id_with_dob_in_each_date_form() {
        for (text, dob) in [
            ("Member ID: ABC123456  DOB: 03/15/1984", date(1984, 3, 15)),
            ("Member #ABC123456\nDate of birth: 3/5/84", date(1984, 3, 5)),
            ("ID# ABC123456, D.O.B. 1984-03-15", date(1984, 3, 15)),
            ("Subscriber ID abc123456 dob 03-15-1984", date(1984, 3, 15)),
            ("DOB: 1/2/05 Member ID: ABC123456", date(2005, 1, 2)),
        ] {
            let f = find_references(text);
            let pairs: Vec<_> = f
                .members_with_dob()
                .map(|(m, d)| (m.as_str().to_owned(), d))
                .collect();
            assert_eq!(pairs, [("ABC123456".to_owned(), dob)], "{text}");
        }
    }

    #[test]
    fn member_id_without_a_dob_is_kept_without_one() {
        let f = find_references("Member ID: XYZ-00991 called about her auth.");
        assert_eq!(f.members.len(), 1);
        assert_eq!(f.members[0].member_id.as_str(), "XYZ-00991");
        assert_eq!(f.members[0].dob, None);
        assert_eq!(f.members_with_dob().count(), 0);
    }

    #[test]
    fn each_member_pairs_with_the_nearest_dob() {
        let text = "Member ID: AAA111 DOB: 01/01/1950\n\
                    (other text ...)\n\
                    Member ID: BBB222 DOB: 02/02/1960";
        let pairs: Vec<_> = find_references(text)
            .members_with_dob()
            .map(|(m, d)| (m.as_str().to_owned(), d))
            .collect();
        assert_eq!(
            pairs,
            [
                ("AAA111".to_owned(), date(1950, 1, 1)),
                ("BBB222".to_owned(), date(1960, 2, 2))
            ]
        );
    }

    #[test]
    fn no_member_without_a_label_or_a_digit_and_no_impossible_dob() {
        assert!(
            find_references("ABC123456 DOB 03/15/1984")
                .members
                .is_empty()
        );
        assert!(find_references("Member ID: N/A").members.is_empty());
        assert!(
            find_references("Member ID: see attached")
                .members
                .is_empty()
        );
        assert!(find_references("Membership ID 12345").members.is_empty());
        let f = find_references("Member ID: ABC123 DOB: 02/30/1984");
        assert_eq!(f.members[0].dob, None, "February 30th is no date");
        let f = find_references("Member ID: ABC123 DOBSON 03/15/1984");
        assert_eq!(f.members[0].dob, None, "a label must be a whole word");
        let f = find_references("Member ID: ABC123 DOB: 03/15/19845");
        assert_eq!(f.members[0].dob, None);
    }

    #[test]
    fn found_values_never_show_in_debug() {
        let f = find_references("PA-7K3Q9M Member ID: ABC123 DOB: 03/15/1984 ICD-10: E11.9");
        let shown = format!("{f:?} {:?}", f.members);
        assert!(shown.contains("PA-7K3Q9M"), "reference IDs are not PHI");
        assert!(!shown.contains("ABC123"), "{shown}");
        assert!(!shown.contains("1984"), "{shown}");
        assert!(!shown.contains("E11"), "{shown}");
    }

    // --- NPIs and codes -----------------------------------------------------------

    #[test]
    fn npis_are_ten_digits_with_a_good_check_digit() {
        let f = find_references("NPI: 1234567893, group 1003000126; fax 3237983031");
        let npis: Vec<_> = f.npis.iter().map(Npi::as_str).collect();
        assert_eq!(npis, ["1234567893", "1003000126"]);
        // Wrong check digit, inside a longer number, or a word.
        assert!(
            find_references("1234567890 11234567893 A1234567893")
                .npis
                .is_empty()
        );
        // A phone number that happens to pass the check, but starts with 3.
        let phone = Npi::with_check_digit(323_798_303).unwrap();
        assert!(find_references(&format!("call {phone}")).npis.is_empty());
    }

    #[test]
    fn labelled_procedure_and_diagnosis_codes() {
        let text = "CPT: 99213, 99214 and J3490-RT\n\
                    ICD-10-CM: E11.9, M17.11\n\
                    Diagnosis (ICD-10): I10 essential hypertension\n\
                    Diagnosis: primary osteoarthritis of knee (M17.0)\n\
                    A1C was 7.2 on the last visit; code 73721";
        let f = find_references(text);
        let cpt: Vec<_> = f
            .procedure_codes
            .iter()
            .map(ProcedureCode::as_str)
            .collect();
        assert_eq!(cpt, ["99213", "99214", "J3490"]);
        let icd: Vec<_> = f.diagnosis_codes.iter().map(Icd10::as_str).collect();
        assert_eq!(icd, ["E11.9", "M17.11", "I10", "M17.0"]);
    }

    #[test]
    fn codes_need_their_label() {
        let f = find_references("Patient seen 99213 times; E11.9 noted; A1C high");
        assert!(f.procedure_codes.is_empty());
        assert!(f.diagnosis_codes.is_empty());
        // After the list, only dotted ICD-10 codes on the label's line are taken.
        let f = find_references("Diagnosis: vitamin B12 deficiency, see A1C");
        assert!(f.diagnosis_codes.is_empty(), "{:?}", f.diagnosis_codes);
    }

    #[test]
    fn found_round_trips_through_serde_for_the_intake_item() {
        let text = format!(
            "PA-7K3Q9M Member ID: ABC123 DOB: 03/15/1984 {} Member ID: XYZ789 NPI 1234567893 CPT: 99213 ICD-10: E11.9",
            "filler ".repeat(100)
        );
        let f = find_references(&text);
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            json.contains(r#"{"member_id":"ABC123","dob":"1984-03-15"}"#),
            "{json}"
        );
        assert!(
            json.contains(r#"{"member_id":"XYZ789","dob":null}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Found>(&json).unwrap(), f);
    }

    #[test]
    fn finding_is_bounded() {
        let text = "PA-7K3Q9M ".repeat(10)
            + &(0..200)
                .map(|i| format!("Member ID: M{i:05} "))
                .collect::<String>();
        let f = find_references(&text);
        assert_eq!(f.references.len(), 1);
        assert_eq!(f.members.len(), MAX_FOUND);
    }

    #[test]
    fn merge_keeps_first_seen_order_and_adds_a_later_dob() {
        let mut a = find_references("Re: PA-7K3Q9M Member ID: ABC123");
        a.merge(find_references(
            "Member ID: ABC123 DOB: 03/15/1984 CLM-8D2K4M9QXZ PA-7K3Q9M",
        ));
        assert_eq!(a.references.len(), 2);
        assert_eq!(a.members.len(), 1);
        assert_eq!(a.members[0].dob, Some(date(1984, 3, 15)));
        a.merge(find_references("Member ID: ABC123"));
        assert_eq!(a.members.len(), 1);
    }

    proptest! {
        #[test]
        fn finding_never_panics(s in "\\PC{0,200}") {
            let f = find_references(&s);
            let _ = classify(Some(&s), &s, &f);
        }

        #[test]
        fn every_generated_reference_is_found_in_any_case(
            body in "[0-9A-HJKMNP-TV-Z]{6}", lower in any::<bool>(), sep in "[- ]?",
        ) {
            prop_assume!(sep == "-" || body.bytes().any(|b| b.is_ascii_digit()));
            let written = format!("PA{sep}{body}");
            let written = if lower { written.to_lowercase() } else { written };
            let text = format!("Re: auth {written}, notes attached");
            prop_assert_eq!(refs(&text), vec![format!("PA-{body}")]);
        }
    }

    // --- classification -----------------------------------------------------------

    fn kind_of(subject: Option<&str>, text: &str) -> Classification {
        let mut found = subject.map(find_references).unwrap_or_default();
        found.merge(find_references(text));
        classify(subject, text, &found)
    }

    #[test]
    fn a_prior_auth_request_form() {
        let c = kind_of(
            Some("Fax from Sunrise Family Medicine"),
            "AUTHORIZATION REQUEST FORM\nMember ID: ABC123 DOB: 01/02/1960\nCPT: 73721 Requested Units: 1",
        );
        assert_eq!(c.kind, IntakeKind::PriorAuthRequest);
        assert_eq!(c.confidence, Confidence::High);
        assert_eq!(
            c.cues[0].to_string(),
            "text has 'Authorization Request Form'"
        );
        // "Authorization Request" is inside the form's title and not counted again.
        assert!(!c.explanation().contains("'Authorization Request';"));
        let c = kind_of(None, "Medi-Cal Treatment Authorization Request (TAR)");
        assert_eq!(c.kind, IntakeKind::PriorAuthRequest);
    }

    #[test]
    fn clinical_notes_need_a_pa_reference_and_clinical_wording() {
        let c = kind_of(
            Some("Clinical notes for PA-7K3Q9M"),
            "Progress Note\nChief Complaint: knee pain\nAssessment and Plan: MRI",
        );
        assert_eq!(c.kind, IntakeKind::ClinicalNotes);
        assert!(
            c.explanation()
                .contains("subject mentions 'Clinical Notes'"),
            "{}",
            c.explanation()
        );
        assert!(c.explanation().contains("found reference PA-7K3Q9M"));

        // The same notes without a reference: not notes for an existing auth.
        let c = kind_of(
            None,
            "Progress Note\nChief Complaint: knee pain\nAssessment and Plan: MRI",
        );
        assert_eq!(c.kind, IntakeKind::Other);
        // A reference alone, no clinical wording: linked, but not called notes.
        let c = kind_of(Some("PA-7K3Q9M"), "Please call me back.");
        assert_eq!(c.kind, IntakeKind::Other);
    }

    #[test]
    fn a_claim() {
        for text in [
            "HEALTH INSURANCE CLAIM FORM\nAPPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) 02/12",
            "UB-04 Type of Bill 0111 Total Charges $12,400.00",
            "Attached corrected claim, total charge 240.00",
            "Please find the CMS 1500 attached",
        ] {
            assert_eq!(kind_of(None, text).kind, IntakeKind::Claim, "{text}");
        }
    }

    #[test]
    fn a_dispute() {
        let c = kind_of(
            Some("PDR - claim CLM-8D2K4M9QXZ"),
            "Provider Dispute Resolution Request\nWe believe this claim was underpaid.",
        );
        assert_eq!(c.kind, IntakeKind::Dispute);
        assert_eq!(c.confidence, Confidence::High);
        assert_eq!(
            c.explanation(),
            "subject mentions 'PDR'; text has 'Provider Dispute Resolution'; text has 'Underpaid'"
        );
        for text in [
            "Payment dispute for DOS 01/02/2026",
            "Request for reconsideration of payment",
            "Second-Level Review request",
        ] {
            assert_eq!(kind_of(None, text).kind, IntakeKind::Dispute, "{text}");
        }
        // A follow-up naming only the dispute's reference.
        let c = kind_of(Some("Re: DSP-4R7T2W"), "Additional information attached.");
        assert_eq!(c.kind, IntakeKind::Dispute);
        assert_eq!(c.explanation(), "found reference DSP-4R7T2W");
    }

    #[test]
    fn an_appeal() {
        for (subject, text) in [
            (Some("Expedited appeal"), "Member is inpatient."),
            (
                None,
                "We request reconsideration of the adverse determination dated 01/05/2026.",
            ),
            (
                None,
                "Appeal of medical necessity denial for PA-7K3Q9M. Medical records attached.",
            ),
        ] {
            let c = kind_of(subject, text);
            assert_eq!(c.kind, IntakeKind::Appeal, "{text}: {}", c.explanation());
        }
    }

    #[test]
    fn other_when_nothing_matches_and_no_cue_inside_words() {
        let c = kind_of(Some("Hello"), "Please update our office address.");
        assert_eq!(c.kind, IntakeKind::Other);
        assert_eq!(c.explanation(), "no cue found");
        // "PDR" inside a word, "appeal" inside "appealing", "TAR" in "STARTED".
        let c = kind_of(
            None,
            "The PDRX shipment looked appealing; we STARTED a new TARGET",
        );
        assert_eq!(c.kind, IntakeKind::Other, "{}", c.explanation());
    }

    #[test]
    fn ties_go_to_the_kind_with_the_shorter_clock() {
        // "Appeal" (6) and "Claim Dispute" (6): the appeal wins the tie.
        let c = kind_of(None, "appeal; claim dispute");
        assert_eq!(c.kind, IntakeKind::Appeal);
        assert_eq!(c.confidence, Confidence::Low);
    }

    #[test]
    fn cue_table_phrases_are_distinct_and_weighted_1_to_10() {
        let mut seen = std::collections::HashSet::new();
        for r in CUES {
            assert!((1..=10).contains(&r.weight), "{}", r.phrase);
            assert!(
                seen.insert(normalise(r.phrase)),
                "duplicate cue {}",
                r.phrase
            );
        }
    }

    #[test]
    fn kinds_have_stable_wire_names() {
        for k in [
            IntakeKind::PriorAuthRequest,
            IntakeKind::ClinicalNotes,
            IntakeKind::Claim,
            IntakeKind::Dispute,
            IntakeKind::Appeal,
            IntakeKind::Other,
        ] {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }
}
