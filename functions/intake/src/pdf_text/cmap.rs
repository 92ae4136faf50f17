//! A font's ToUnicode CMap (ISO 32000-1, 9.10.3): which text each character code
//! of the font shows.
//!
//! Ranges are kept as ranges. lopdf's own reader also builds a reverse map with an
//! entry per code, so a 200-byte CMap with one range of 2^28 codes kept it busy for
//! minutes; here that range is one entry, and a lookup is a search in a `BTreeMap`.
//!
//! The stream is PostScript; lopdf's content-stream tokenizer reads it (names,
//! numbers, hex strings, arrays, dictionaries; every keyword is an "operator" whose
//! operands are the tokens before it), so `endbfchar` arrives with its pairs.

use std::collections::BTreeMap;

use lopdf::Object;
use lopdf::content::Content;

/// Codes are 1 to 4 bytes (9.7.6.2).
const MAX_CODE_LEN: usize = 4;

/// Code space ranges kept (real maps have one to a few; each code is checked
/// against all of them).
const MAX_CODESPACE_RANGES: usize = 64;

#[derive(Debug, Default)]
pub(super) struct ToUnicode {
    /// (code length, low code) -> the range's high code and its text.
    ranges: BTreeMap<(u8, u32), Range>,
    /// (code length, low, high) of each code space range; bounds apply per byte.
    codespace: Vec<(u8, u32, u32)>,
}

#[derive(Debug)]
struct Range {
    high: u32,
    /// UTF-16 of the text of the low code. In a range, the last unit grows with the
    /// code: `<01> <05> <0041>` maps 01 to A and 05 to E.
    text: Vec<u16>,
}

impl ToUnicode {
    /// Reads what it can: a damaged stream keeps the mappings before the damage.
    /// Adds at most `entries_left` entries (and takes them off it); false when
    /// that cut the map short.
    pub(super) fn parse(stream: &[u8], entries_left: &mut usize) -> (ToUnicode, bool) {
        let mut cmap = ToUnicode::default();
        for op in Content::decode_iter(stream) {
            let Ok(op) = op else { break };
            match op.operator.as_str() {
                "endcodespacerange" => {
                    for pair in op.operands.chunks_exact(2) {
                        if let (Some((len, low)), Some((len_high, high))) =
                            (code(&pair[0]), code(&pair[1]))
                            && len == len_high
                            && low <= high
                            && cmap.codespace.len() < MAX_CODESPACE_RANGES
                        {
                            cmap.codespace.push((len, low, high));
                        }
                    }
                }
                "endbfchar" => {
                    for pair in op.operands.chunks_exact(2) {
                        if let (Some((len, c)), Some(text)) = (code(&pair[0]), utf16(&pair[1]))
                            && !cmap.add(entries_left, (len, c), Range { high: c, text })
                        {
                            return (cmap, false);
                        }
                    }
                }
                "endbfrange" => {
                    for triple in op.operands.chunks_exact(3) {
                        let (Some((len, low)), Some((len_high, high))) =
                            (code(&triple[0]), code(&triple[1]))
                        else {
                            continue;
                        };
                        if len != len_high || low > high {
                            continue;
                        }
                        match &triple[2] {
                            // `[<...> <...>]`: one text per code, as many as both allow.
                            Object::Array(texts) => {
                                for (c, text) in (low..=high).zip(texts) {
                                    if let Some(text) = utf16(text)
                                        && !cmap.add(
                                            entries_left,
                                            (len, c),
                                            Range { high: c, text },
                                        )
                                    {
                                        return (cmap, false);
                                    }
                                }
                            }
                            other => {
                                if let Some(text) = utf16(other)
                                    && !text.is_empty()
                                    && !cmap.add(entries_left, (len, low), Range { high, text })
                                {
                                    return (cmap, false);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        (cmap, true)
    }

    /// Adds a mapping if the budget allows; false when it is spent.
    fn add(&mut self, entries_left: &mut usize, key: (u8, u32), range: Range) -> bool {
        let Some(left) = entries_left.checked_sub(1) else {
            return false;
        };
        *entries_left = left;
        self.ranges.insert(key, range);
        true
    }

    /// The length of the code at the start of `bytes`, by the code space ranges
    /// (9.7.6.2); `None` when they do not say (no ranges, or none matches).
    pub(super) fn code_len(&self, bytes: &[u8]) -> Option<usize> {
        (1..=MAX_CODE_LEN.min(bytes.len())).find(|&len| {
            let c = be(&bytes[..len]);
            self.codespace.iter().any(|&(l, low, high)| {
                usize::from(l) == len
                    && (0..len).all(|i| {
                        let shift = 8 * i;
                        let byte = (c >> shift) as u8;
                        (low >> shift) as u8 <= byte && byte <= (high >> shift) as u8
                    })
            })
        })
    }

    /// Whether the map has any code of `len` bytes.
    pub(super) fn has_codes_of_len(&self, len: usize) -> bool {
        let len = len as u8;
        self.ranges
            .range((len, 0)..=(len, u32::MAX))
            .next()
            .is_some()
    }

    /// Appends the text of `code` (of `len` bytes); false when the map has none.
    pub(super) fn push(&self, code: u32, len: usize, out: &mut String) -> bool {
        let len = len as u8;
        // The nearest range at or below the code; a few more back in case a single
        // code was mapped inside a wider range.
        let found = self
            .ranges
            .range((len, 0)..=(len, code))
            .rev()
            .take(8)
            .find(|(_, range)| code <= range.high);
        let Some((&(_, low), range)) = found else {
            return false;
        };
        let Some((last, head)) = range.text.split_last() else {
            return false;
        };
        // Wrapping as the specification's ranges do not; a malformed range shows
        // odd characters rather than failing.
        let last = last.wrapping_add((code - low) as u16);
        push_utf16(head.iter().copied().chain([last]), out);
        true
    }
}

/// A big-endian code of 1 to 4 bytes.
pub(super) fn be(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0, |c, &b| (c << 8) | u32::from(b))
}

/// The UTF-16BE code units of `bytes` (an odd last byte is no unit).
pub(super) fn utf16_units(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|u| u16::from_be_bytes([u[0], u[1]]))
}

/// Appends UTF-16 as text; a lone surrogate shows U+FFFD.
pub(super) fn push_utf16(units: impl IntoIterator<Item = u16>, out: &mut String) {
    out.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
}

/// A source code operand: its length in bytes and its value.
fn code(object: &Object) -> Option<(u8, u32)> {
    match object {
        Object::String(bytes, _) if (1..=MAX_CODE_LEN).contains(&bytes.len()) => {
            Some((bytes.len() as u8, be(bytes)))
        }
        _ => None,
    }
}

/// A destination operand: UTF-16BE (a name in old CMaps is not text, and skipped).
fn utf16(object: &Object) -> Option<Vec<u16>> {
    match object {
        Object::String(bytes, _) => Some(utf16_units(bytes).collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cmap: &ToUnicode, code: u32, len: usize) -> Option<String> {
        let mut out = String::new();
        cmap.push(code, len, &mut out).then_some(out)
    }

    const HEAD: &str = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
        /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
        /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n";
    const TAIL: &str = "endcmap CMapName currentdict /CMap defineresource pop end end";

    fn parse(body: &str) -> ToUnicode {
        let (cmap, whole) = ToUnicode::parse(format!("{HEAD}{body}\n{TAIL}").as_bytes(), &mut 1000);
        assert!(whole);
        cmap
    }

    #[test]
    fn entries_past_the_budget_are_not_read() {
        let body = "3 beginbfchar <01> <0041> <02> <0042> <03> <0043> endbfchar 1 beginbfchar <04> <0044> endbfchar";
        let mut left = 4;
        let (cmap, whole) = ToUnicode::parse(body.as_bytes(), &mut left);
        assert!(whole);
        assert_eq!((text(&cmap, 4, 1).as_deref(), left), (Some("D"), 0));
        let mut left = 3;
        let (cmap, whole) = ToUnicode::parse(body.as_bytes(), &mut left);
        assert!(!whole, "the fourth entry does not fit");
        assert_eq!(
            (text(&cmap, 3, 1).as_deref(), text(&cmap, 4, 1)),
            (Some("C"), None)
        );
    }

    #[test]
    fn chars_ranges_and_arrays_map_codes_to_text() {
        let cmap = parse(
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
             2 beginbfchar <0003> <0020> <0011> <00660069> endbfchar\n\
             2 beginbfrange <0024> <0026> <0041> <0030> <0031> [<00E9> <D83DDE00>] endbfrange",
        );
        assert_eq!(text(&cmap, 0x0003, 2).as_deref(), Some(" "));
        assert_eq!(
            text(&cmap, 0x0011, 2).as_deref(),
            Some("fi"),
            "a ligature is two characters"
        );
        assert_eq!(text(&cmap, 0x0024, 2).as_deref(), Some("A"));
        assert_eq!(
            text(&cmap, 0x0026, 2).as_deref(),
            Some("C"),
            "the last unit grows in a range"
        );
        assert_eq!(text(&cmap, 0x0030, 2).as_deref(), Some("é"));
        assert_eq!(
            text(&cmap, 0x0031, 2).as_deref(),
            Some("😀"),
            "a surrogate pair"
        );
        assert_eq!(text(&cmap, 0x0027, 2), None);
        assert_eq!(
            text(&cmap, 0x24, 1),
            None,
            "a one-byte 24 is not the two-byte 0024"
        );
        let nested = parse(
            "1 beginbfrange <0000> <00FF> <0041> endbfrange 1 beginbfchar <0010> <0078> endbfchar",
        );
        assert_eq!(text(&nested, 0x10, 2).as_deref(), Some("x"));
        assert_eq!(
            text(&nested, 0x11, 2).as_deref(),
            Some("R"),
            "the range around a single code still maps"
        );
    }

    #[test]
    fn code_lengths_come_from_the_code_space_byte_by_byte() {
        // Shift-JIS style: one byte below 0x80, two bytes from 0x81 0x40.
        let cmap = parse("2 begincodespacerange <00> <80> <8140> <9FFC> endcodespacerange");
        assert_eq!(cmap.code_len(&[0x41, 0x81]), Some(1));
        assert_eq!(cmap.code_len(&[0x81, 0x40]), Some(2));
        assert_eq!(
            cmap.code_len(&[0x81, 0x3F]),
            None,
            "the second byte is out of bounds"
        );
        assert_eq!(parse("").code_len(&[0x41]), None);
    }

    #[test]
    fn a_huge_range_is_one_entry() {
        // lopdf's reader spent minutes on this one (an entry per code).
        let cmap = parse(
            "1 begincodespacerange <00000000> <FFFFFFFF> endcodespacerange\n\
             1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange",
        );
        assert_eq!(text(&cmap, 1, 4).as_deref(), Some("B"));
        assert_eq!(cmap.ranges.len(), 1);
    }

    #[test]
    fn a_damaged_stream_keeps_what_came_before_the_damage() {
        let cmap = parse(
            "1 beginbfchar <01> <0041> endbfchar\n1 beginbfchar <02> <0042> endbfchar ) ] >> <<",
        );
        assert_eq!(text(&cmap, 1, 1).as_deref(), Some("A"));
        // Operands of the wrong kind are skipped, not fatal.
        let cmap = parse(
            "2 beginbfchar /x <0041> <03> <0043> endbfchar 1 beginbfrange <05> <01> <0041> endbfrange",
        );
        assert_eq!(
            text(&cmap, 3, 1).as_deref(),
            Some("C"),
            "a pair of the wrong kind is skipped"
        );
        assert_eq!(
            text(&cmap, 5, 1),
            None,
            "a range whose end is below its start is ignored"
        );
    }
}
