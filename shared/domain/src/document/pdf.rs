//! Is a PDF encrypted? Without parsing it.
//!
//! An encrypted PDF names its security handler with an `/Encrypt` entry in the
//! trailer dictionary, or, from PDF 1.5, in the dictionary of the cross-reference
//! stream that replaces the trailer. A PDF that is not encrypted normally has no
//! `/Encrypt` name at all, and content streams are compressed, so one `memmem`
//! pass over the file finds nothing and that is the whole cost.
//!
//! Each `/Encrypt` found is checked against the dictionary it sits in: the nearest
//! `trailer` or `N G obj` keyword before it (searched backwards, so a few bytes
//! for a real trailer) opens that dictionary, which is read token by token
//! (strings, comments and nesting skipped) to its end or the next keyword. It
//! counts when `/Encrypt` is a key of the trailer, or of an object whose
//! dictionary has `/Type /XRef`. So a string that mentions "/Encrypt" in an
//! uncompressed page does not make a PDF encrypted.
//!
//! Hostile input stays linear: a backward search never goes behind the previous
//! hit or the end of the last dictionary read, and a hit inside a dictionary
//! already read is not read again. So every byte is read a bounded number of
//! times (measured: 25 MB with `/Encrypt` on every line in ~25 ms).
//!
//! Not handled, on purpose: `/Encrypt` spelt with `#` escapes (`/Encr#79pt`),
//! which no writer produces. Rejecting encrypted PDFs is a usability rule (staff
//! cannot open them), not a security boundary.

use memchr::memmem;

/// How far a trailer or cross-reference stream dictionary is read; real ones are
/// a few hundred bytes.
const MAX_DICTIONARY: usize = 64 * 1024;

pub(super) fn is_encrypted(bytes: &[u8]) -> bool {
    let keywords = [b"trailer".as_slice(), b"obj"].map(|w| (w, memmem::FinderRev::new(w)));
    // Keywords before `searched_from` were found for an earlier hit; bytes before
    // `read_until` belong to a dictionary already read.
    let mut searched_from = 0;
    let mut read_until = 0;
    for hit in memmem::find_iter(bytes, b"/Encrypt") {
        // `/EncryptMetadata` and the like are other names.
        if hit < read_until || bytes.get(hit + 8).is_some_and(|&b| is_regular(b)) {
            continue;
        }
        let from = searched_from.max(read_until);
        searched_from = hit;
        // The nearest keyword before the hit; none means it was handled already.
        let Some((start, word)) = keywords
            .iter()
            .filter_map(|(word, finder)| {
                finder
                    .rfind_iter(&bytes[from..hit])
                    .map(|i| from + i)
                    .find(|&i| is_token(bytes, i, i + word.len()))
                    .map(|i| (i, *word))
            })
            .max()
        else {
            continue;
        };
        let open = start + word.len();
        let end = bytes.len().min(open.saturating_add(MAX_DICTIONARY));
        let (dict, read) = scan_dictionary(&bytes[open..end]);
        read_until = open + read;
        if dict.encrypt && (word == b"trailer" || dict.xref) {
            return true;
        }
    }
    false
}

/// Is `bytes[start..end]` a token of its own (so not the `obj` of `endobj`)?
fn is_token(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).and_then(|i| bytes.get(i));
    before.is_none_or(|&b| !is_regular(b)) && bytes.get(end).is_none_or(|&b| !is_regular(b))
}

#[derive(Debug, Default, PartialEq)]
struct Dictionary {
    /// `/Encrypt` is one of its keys.
    encrypt: bool,
    /// It has `/Type /XRef`: a cross-reference stream.
    xref: bool,
}

/// Keywords that cannot occur inside a dictionary: reading stops there.
const STOP: [&[u8]; 7] = [
    b"obj",
    b"endobj",
    b"stream",
    b"endstream",
    b"trailer",
    b"xref",
    b"startxref",
];

/// Reads the dictionary that starts (after white space) at the beginning of `s`,
/// noting its top-level names. Stops at its end, at a keyword that cannot be in
/// it, or at the end of `s`; returns what it found and how many bytes it read.
fn scan_dictionary(s: &[u8]) -> (Dictionary, usize) {
    let mut found = Dictionary::default();
    let mut i = skip_space(s, 0);
    if !s[i..].starts_with(b"<<") {
        return (found, i);
    }
    i += 2;
    // Nesting of dictionaries and arrays: names at depth 1 are the keys (and
    // simple values) of this dictionary.
    let mut depth = 1usize;
    let mut after_type = false;
    while i < s.len() {
        match s[i] {
            b'%' => {
                i = memchr::memchr2(b'\r', b'\n', &s[i..]).map_or(s.len(), |n| i + n);
                continue;
            }
            b if is_white(b) => {
                i += 1;
                continue;
            }
            b'<' if s.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            b'>' if s.get(i + 1) == Some(&b'>') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return (found, i);
                }
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b']' => {
                if depth == 1 {
                    return (found, i); // unbalanced: not a dictionary we understand
                }
                depth -= 1;
                i += 1;
            }
            b'<' => {
                // Hex string.
                i = memchr::memchr(b'>', &s[i..]).map_or(s.len(), |n| i + n + 1);
            }
            b'(' => i = skip_literal_string(s, i),
            b'/' => {
                let start = i + 1;
                i = start;
                while i < s.len() && is_regular(s[i]) {
                    i += 1;
                }
                if depth == 1 {
                    let name = &s[start..i];
                    found.encrypt |= name == b"Encrypt";
                    found.xref |= after_type && name == b"XRef";
                    after_type = name == b"Type";
                }
                continue;
            }
            b if is_regular(b) => {
                let start = i;
                while i < s.len() && is_regular(s[i]) {
                    i += 1;
                }
                if STOP.contains(&&s[start..i]) {
                    return (found, start);
                }
            }
            // A stray `)`, `>`, `{` or `}`.
            _ => i += 1,
        }
        after_type = false;
    }
    (found, s.len())
}

/// The index just past the literal string opening at `s[open]` (balanced
/// parentheses, backslash escapes), or the end of `s`.
fn skip_literal_string(s: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    s.len()
}

fn skip_space(s: &[u8], mut i: usize) -> usize {
    while i < s.len() {
        if is_white(s[i]) {
            i += 1;
        } else if s[i] == b'%' {
            i = memchr::memchr2(b'\r', b'\n', &s[i..]).map_or(s.len(), |n| i + n);
        } else {
            break;
        }
    }
    i
}

/// PDF white space (ISO 32000-1, 7.2.2).
fn is_white(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// Neither white space nor a delimiter: part of a name, number or keyword.
fn is_regular(b: u8) -> bool {
    !is_white(b)
        && !matches!(
            b,
            b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypted(s: &str) -> bool {
        is_encrypted(s.as_bytes())
    }

    #[test]
    fn a_trailer_with_encrypt_is_encrypted() {
        assert!(encrypted(
            "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 1\n0000000000 65535 f \n\
             trailer\n<< /Size 2 /Root 1 0 R /Encrypt 5 0 R /ID [<ab><cd>] >>\nstartxref\n9\n%%EOF\n"
        ));
        // No space before the dictionary, comments, nested values before the key.
        assert!(encrypted(
            "trailer<</Info<</X(a)>>%c\n/ID[(x)(y)]/Encrypt<</Filter/Standard>>>>"
        ));
    }

    #[test]
    fn an_xref_stream_with_encrypt_is_encrypted() {
        assert!(encrypted(
            "%PDF-1.5\n9 0 obj\n<< /DecodeParms << /Columns 5 >> /Encrypt 3 0 R /Type /XRef /W [1 2 1] >>\nstream\n"
        ));
    }

    #[test]
    fn encrypt_outside_a_trailer_or_xref_dictionary_is_not() {
        // A page object, a string in a content stream, a nested dictionary, a value
        // in an array, and the /EncryptMetadata key of the security handler.
        for text in [
            "%PDF-1.4\n4 0 obj\n<< /Type /Page /Encrypt 1 0 R >>\nendobj\n",
            "%PDF-1.4\n5 0 obj\n<< /Length 30 >>\nstream\nBT (see /Encrypt 5 0 R) Tj ET\nendstream\nendobj\n",
            "trailer\n<< /Size 3 /Info << /Encrypt 1 >> >>\n",
            "trailer\n<< /Size 3 /ID [ /Encrypt ] >>\n",
            "6 0 obj\n<< /Filter /Standard /EncryptMetadata false >>\nendobj\n",
            "trailer\n<< /Size 3 (unterminated /Encrypt",
            "trailer\n<< /Size 3 >>\n/Encrypt 1 0 R",
            "/Encrypt 1 0 R trailer",
            "<< /Encrypt 1 0 R >>",
        ] {
            assert!(!encrypted(text), "{text}");
        }
    }

    #[test]
    fn a_keyword_must_stand_alone() {
        // `endobj` and `xtrailer` do not open a dictionary.
        assert!(!encrypted("endobj << /Encrypt 1 0 R >>"));
        assert!(!encrypted("xtrailer << /Encrypt 1 0 R >>"));
    }

    #[test]
    fn hostile_repetition_stays_linear() {
        // 1.5 MB of candidates; a quadratic scan would take minutes.
        let text = "1 0 obj << /Encrypt (".repeat(70_000);
        assert!(!encrypted(&text));
        let text = "/Encrypt ".repeat(200_000);
        assert!(!encrypted(&text));
    }
}
