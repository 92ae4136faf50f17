//! Delimiters: read from the fixed-width ISA header, or guessed for a file that
//! starts without one (so its groups can still be named in a 999).

use serde::Serialize;

/// The four X12 delimiters of one interchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Separators {
    /// Between elements: byte 4 of the ISA (`*`).
    pub element: u8,
    /// Between the components of a composite element: ISA16 (`:`).
    pub component: u8,
    /// Between repetitions of an element: ISA11 in 5010 (`^`). `None` when ISA11 is a
    /// letter (the 4010 standards identifier `U`, which some 5010 files keep): data
    /// must never be split on a letter.
    pub repetition: Option<u8>,
    /// After each segment: the byte after ISA16 (`~`). Line breaks after it are ignored.
    pub segment: u8,
}

impl Separators {
    /// The usual `*`, `:`, `^`, `~`.
    pub const STANDARD: Separators = Separators {
        element: b'*',
        component: b':',
        repetition: Some(b'^'),
        segment: b'~',
    };

    /// Every delimiter is a non-alphanumeric byte, no two are the same, and only the
    /// segment terminator may be a line break.
    pub fn is_valid(&self) -> bool {
        let all = [self.element, self.component, self.segment];
        let distinct = all[0] != all[1] && all[0] != all[2] && all[1] != all[2];
        let rep_ok = match self.repetition {
            Some(r) => usable(r) && !all.contains(&r),
            None => true,
        };
        distinct
            && usable(self.element)
            && usable(self.component)
            && (usable(self.segment) || matches!(self.segment, b'\n' | b'\r'))
            && rep_ok
    }
}

/// A byte that can delimit: printable or control, not a letter, digit or blank.
fn usable(b: u8) -> bool {
    !b.is_ascii_alphanumeric() && !matches!(b, b' ' | b'\t' | b'\n' | b'\r') && b != 0
}

/// Why an ISA header could not give the delimiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsaProblem {
    /// The element separator (4th byte) is a letter, digit or blank.
    ElementSeparator,
    /// Fewer than 16 elements before the end of the data.
    TooShort,
    /// ISA16 or the terminator is missing, or two delimiters are the same byte.
    ComponentOrTerminator,
}

impl IsaProblem {
    pub fn reason(self) -> &'static str {
        match self {
            IsaProblem::ElementSeparator => {
                "the ISA element separator (4th byte) is a letter, digit or blank"
            }
            IsaProblem::TooShort => "the ISA header ends before its 16 elements",
            IsaProblem::ComponentOrTerminator => {
                "the ISA component separator (ISA16) or segment terminator is missing or repeats another delimiter"
            }
        }
    }

    /// The TA1 note code for this problem.
    pub fn ta1_code(self) -> &'static str {
        match self {
            IsaProblem::ElementSeparator => "026",
            IsaProblem::TooShort => "023",
            IsaProblem::ComponentOrTerminator => "027",
        }
    }
}

/// Offsets of the 16 element separators in a standard 106-byte ISA.
const FIXED_SEPARATORS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];
pub(crate) const ISA_LEN: usize = 106;
/// How far a tolerant read looks for the 16 elements of a malformed ISA (plus ISA16
/// and the terminator after them).
pub(crate) const ISA_SCAN: usize = 512;

/// The delimiters of an ISA at the start of `w`, and the ISA's length including its
/// terminator. A standard fixed-width ISA is read by position; one with wrong field
/// widths is read by counting element separators (the envelope check reports the
/// widths).
pub(crate) fn from_isa(w: &[u8]) -> Result<(Separators, usize), IsaProblem> {
    // Never look further than a streaming reader is sure to hold.
    let w = &w[..w.len().min(ISA_SCAN + 2)];
    let e = *w.get(3).ok_or(IsaProblem::TooShort)?;
    if !usable(e) {
        return Err(IsaProblem::ElementSeparator);
    }
    let fixed = w.len() >= ISA_LEN && FIXED_SEPARATORS.iter().all(|&i| w[i] == e);
    let (isa11, isa16_at) = if fixed {
        (w[82], 104)
    } else {
        let window = &w[..w.len().min(ISA_SCAN)];
        let mut seps = memchr::memchr_iter(e, window);
        let mut at = [0usize; 16];
        for slot in at.iter_mut() {
            *slot = seps.next().ok_or(IsaProblem::TooShort)?;
        }
        // ISA11 is the single byte after the 11th separator (when it is one byte).
        let isa11 = if at[11] == at[10] + 2 {
            w[at[10] + 1]
        } else {
            b'U'
        };
        (isa11, at[15] + 1)
    };
    let component = *w.get(isa16_at).ok_or(IsaProblem::TooShort)?;
    let segment = *w.get(isa16_at + 1).ok_or(IsaProblem::TooShort)?;
    let mut seps = Separators {
        element: e,
        component,
        repetition: None,
        segment,
    };
    if !seps.is_valid() {
        return Err(IsaProblem::ComponentOrTerminator);
    }
    seps.repetition = Some(isa11);
    if !seps.is_valid() {
        seps.repetition = None;
    }
    Ok((seps, isa16_at + 2))
}

/// Guesses the delimiters of a file that starts with another segment than ISA (a bare
/// GS or ST): the element separator follows the segment ID, and the terminator is the
/// first byte after which, past line breaks, another segment ID and that separator
/// follow. The component separator is assumed `:` (or `>` if `:` is taken).
pub(crate) fn infer(w: &[u8]) -> Option<Separators> {
    let id_len = segment_id_len(w)?;
    let e = *w.get(id_len)?;
    if !usable(e) {
        return None;
    }
    let window = &w[..w.len().min(4096)];
    let segment = (id_len + 1..window.len()).find_map(|i| {
        let t = window[i];
        if t.is_ascii_alphanumeric() || t == e || t == b' ' {
            return None;
        }
        let mut j = i + 1;
        while j < window.len()
            && matches!(window[j], b'\r' | b'\n' | b' ' | b'\t')
            && window[j] != t
        {
            j += 1;
        }
        let next = &window[j.min(window.len())..];
        let n = segment_id_len(next)?;
        (next.get(n) == Some(&e)).then_some(t)
    })?;
    let component = if e != b':' && segment != b':' {
        b':'
    } else {
        b'>'
    };
    let seps = Separators {
        element: e,
        component,
        repetition: None,
        segment,
    };
    seps.is_valid().then_some(seps)
}

/// Length of a syntactically valid segment ID at the start of `w`: an upper-case
/// letter, then one or two upper-case letters or digits.
pub(crate) fn segment_id_len(w: &[u8]) -> Option<usize> {
    let upper_or_digit = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    if !w.first()?.is_ascii_uppercase() || !upper_or_digit(w.get(1)?) {
        return None;
    }
    Some(if w.get(2).is_some_and(upper_or_digit) {
        3
    } else {
        2
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] = b"ISA*00*          *01*SECRET    *ZZ*SUBMITTERS.ID  *ZZ*RECEIVERS.ID   *030101*1253*^*00501*000000905*1*T*:~\nGS*";

    #[test]
    fn reads_the_standard_isa_by_position() {
        let (s, len) = from_isa(ISA).unwrap();
        assert_eq!(s, Separators::STANDARD);
        assert_eq!(len, 106);
    }

    #[test]
    fn a_letter_in_isa11_is_not_a_repetition_separator() {
        let isa = String::from_utf8(ISA.to_vec())
            .unwrap()
            .replace("*^*", "*U*");
        let (s, _) = from_isa(isa.as_bytes()).unwrap();
        assert_eq!(s.repetition, None);
    }

    #[test]
    fn reads_a_short_isa_by_counting_separators() {
        let (s, len) = from_isa(b"ISA|00||00||ZZ|A|ZZ|B|030101|1253|^|00501|1|0|T|!\n").unwrap();
        assert_eq!(
            (s.element, s.component, s.segment, s.repetition),
            (b'|', b'!', b'\n', Some(b'^'))
        );
        assert_eq!(len, 50);
    }

    #[test]
    fn refuses_unusable_delimiters() {
        assert_eq!(
            from_isa(b"ISAA00").unwrap_err(),
            IsaProblem::ElementSeparator
        );
        assert_eq!(from_isa(b"ISA*00*").unwrap_err(), IsaProblem::TooShort);
        let same = String::from_utf8(ISA.to_vec())
            .unwrap()
            .replace("*:~", "*~~");
        assert_eq!(
            from_isa(same.as_bytes()).unwrap_err(),
            IsaProblem::ComponentOrTerminator
        );
    }

    #[test]
    fn guesses_delimiters_of_a_file_without_isa() {
        let s = infer(b"GS*HC*A*B*19991231*0802*1*X*005010X222A1~\nST*837*1~").unwrap();
        assert_eq!((s.element, s.segment, s.component), (b'*', b'~', b':'));
        let s = infer(b"GS|HC|A.B|C\nST|837|1\n").unwrap();
        assert_eq!((s.element, s.segment), (b'|', b'\n'));
        assert!(infer(b"hello world").is_none());
    }
}
