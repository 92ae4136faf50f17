//! How the codes a font shows become text (ISO 32000-1, 9.10.2): the font's
//! ToUnicode CMap first; then, for a simple font, its encoding (a standard one,
//! changed by glyph name in /Differences); for a composite font, the predefined
//! Unicode CMaps (UniJIS-UCS2-H and the like).
//!
//! Why not lopdf's `extract_text`: it prefers /Encoding over /ToUnicode, drops a
//! font whose /Differences names one glyph it does not know, links the whole Adobe
//! Glyph List (0.45 MB of code) and encoding_rs, and its CMap reader can be kept busy
//! for minutes by one range (see `cmap`).

use lopdf::{Dictionary, Document, Object};

use super::cmap::{ToUnicode, be, push_utf16, utf16_units};
use super::encodings::{GLYPH_NAMES, MAC_ROMAN, PDF_DOC, STANDARD, WIN_ANSI};

pub(super) struct Font {
    to_unicode: Option<ToUnicode>,
    codes: Codes,
    /// What went wrong reading the font, said once for the page that uses it.
    pub(super) problem: Option<&'static str>,
}

enum Codes {
    /// One byte per code, and the UTF-16 unit of each (0: no character).
    Simple(Box<[u16; 256]>),
    /// A composite font whose CMap is Unicode: codes are UTF-16BE.
    Utf16,
    /// A composite font of another CMap (Identity-H mostly): only the ToUnicode
    /// CMap says which text a code is.
    Cid,
}

impl Font {
    /// Reads a font dictionary; never fails (a damaged part falls back to the
    /// standard encoding, and says so in `problem`).
    /// `cmap_entries_left` bounds the entries its ToUnicode map may add.
    pub(super) fn read(
        font: &Dictionary,
        doc: &Document,
        max_stream_bytes: usize,
        cmap_entries_left: &mut usize,
    ) -> Font {
        let mut problem = None;
        let stream = font
            .get_deref(b"ToUnicode", doc)
            .and_then(Object::as_stream);
        let to_unicode = match stream.map(|s| s.get_plain_content_with_limit(max_stream_bytes)) {
            Ok(Ok(bytes)) => {
                let (map, whole) = ToUnicode::parse(&bytes, cmap_entries_left);
                if !whole {
                    problem = Some("the fonts' character maps are larger than the limit");
                }
                Some(map)
            }
            Ok(Err(e)) => {
                problem = Some(super::describe(&e));
                None
            }
            Err(_) => None,
        };
        let encoding = font.get_deref(b"Encoding", doc).ok();
        let codes = if font.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Type0") {
            match encoding.and_then(|e| e.as_name().ok()) {
                Some(name) if is_unicode_cmap(name) => Codes::Utf16,
                _ => {
                    if to_unicode.is_none() {
                        problem.get_or_insert("a font has no map from its codes to text");
                    }
                    Codes::Cid
                }
            }
        } else {
            Codes::Simple(Box::new(simple_encoding(encoding, doc)))
        };
        Font {
            to_unicode,
            codes,
            problem,
        }
    }

    /// Appends the text of a string the page shows in this font.
    pub(super) fn decode(&self, bytes: &[u8], out: &mut String) {
        match (&self.codes, &self.to_unicode) {
            (Codes::Simple(table), cmap) => {
                for &b in bytes {
                    // Some writers give a simple font's one-byte codes two bytes in
                    // its map.
                    let code = u32::from(b);
                    if cmap
                        .as_ref()
                        .is_some_and(|m| m.push(code, 1, out) || m.push(code, 2, out))
                    {
                        continue;
                    }
                    if let Some(c) =
                        char::from_u32(u32::from(table[usize::from(b)])).filter(|&c| c != '\0')
                    {
                        out.push(c);
                    }
                }
            }
            (Codes::Utf16, None) => push_utf16(utf16_units(bytes), out),
            (Codes::Cid, None) => {}
            (Codes::Utf16 | Codes::Cid, Some(cmap)) => {
                // Two-byte codes unless the CMap's code space says otherwise.
                let fallback = if cmap.has_codes_of_len(2) || !cmap.has_codes_of_len(1) {
                    2
                } else {
                    1
                };
                let mut rest = bytes;
                while !rest.is_empty() {
                    let len = cmap.code_len(rest).unwrap_or(fallback).min(rest.len());
                    let (code, tail) = rest.split_at(len);
                    if !cmap.push(be(code), len, out)
                        && let Codes::Utf16 = self.codes
                        && let [hi, lo] = *code
                        && let Some(c) = char::from_u32(u32::from(u16::from_be_bytes([hi, lo])))
                    {
                        out.push(c);
                    }
                    rest = tail;
                }
            }
        }
    }
}

/// The predefined CMaps whose codes are UTF-16 (ISO 32000-1, Table 118).
fn is_unicode_cmap(name: &[u8]) -> bool {
    name.starts_with(b"Uni")
        && (name.ends_with(b"-UCS2-H")
            || name.ends_with(b"-UCS2-V")
            || name.ends_with(b"-UTF16-H")
            || name.ends_with(b"-UTF16-V"))
}

/// A simple font's code -> UTF-16 table: its /Encoding name, or its encoding
/// dictionary's /BaseEncoding changed by /Differences; StandardEncoding otherwise.
fn simple_encoding(encoding: Option<&Object>, doc: &Document) -> [u16; 256] {
    match encoding {
        Some(Object::Name(name)) => base_encoding(name),
        Some(Object::Dictionary(dict)) => {
            let mut table = dict
                .get(b"BaseEncoding")
                .and_then(Object::as_name)
                .map_or(STANDARD, base_encoding);
            if let Ok(differences) = dict
                .get_deref(b"Differences", doc)
                .and_then(Object::as_array)
            {
                apply_differences(&mut table, differences);
            }
            table
        }
        _ => STANDARD,
    }
}

fn base_encoding(name: &[u8]) -> [u16; 256] {
    match name {
        b"WinAnsiEncoding" => WIN_ANSI,
        b"MacRomanEncoding" => MAC_ROMAN,
        b"PDFDocEncoding" => PDF_DOC,
        _ => STANDARD,
    }
}

/// `[code name name ... code name ...]`: each name is the glyph of the code after
/// the one before. A glyph whose name says no character shows U+FFFD, so that
/// the text says something was there.
fn apply_differences(table: &mut [u16; 256], differences: &[Object]) {
    let mut code: Option<u8> = None;
    for item in differences {
        match item {
            Object::Integer(n) => code = u8::try_from(*n).ok(),
            Object::Name(name) => {
                if let Some(c) = code {
                    table[usize::from(c)] = glyph_unit(name);
                    code = c.checked_add(1);
                }
            }
            _ => {}
        }
    }
}

/// The character of a glyph name (the Adobe Glyph List for new fonts): a Latin
/// name, `uniXXXX` or `uXXXX`, with any `.suffix` (`a.sc`) dropped.
fn glyph_unit(name: &[u8]) -> u16 {
    let base = name.split(|&b| b == b'.').next().unwrap_or_default();
    if base.is_empty() {
        // `.notdef`: no glyph at all.
        return 0;
    }
    if let Ok(i) = GLYPH_NAMES.binary_search_by(|(n, _)| n.as_bytes().cmp(base)) {
        return GLYPH_NAMES[i].1;
    }
    let hex = match base {
        [b'u', b'n', b'i', rest @ ..] if rest.len() == 4 => Some(rest),
        [b'u', rest @ ..] if rest.len() == 4 => Some(rest),
        _ => None,
    };
    hex.and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u16::from_str_radix(h, 16).ok())
        .filter(|&u| !(0xD800..=0xDFFF).contains(&u) && u != 0)
        .unwrap_or(0xFFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names_of_the_latin_set_and_by_code_point() {
        assert_eq!(glyph_unit(b"A"), 0x41);
        assert_eq!(glyph_unit(b"eacute"), 0xE9);
        assert_eq!(glyph_unit(b"quoteright"), 0x2019);
        assert_eq!(glyph_unit(b"fi"), 0xFB01);
        assert_eq!(glyph_unit(b"uni20AC"), 0x20AC);
        assert_eq!(glyph_unit(b"u00E9"), 0xE9);
        assert_eq!(glyph_unit(b"a.sc"), 0x61, "a variant is its base glyph");
        assert_eq!(glyph_unit(b".notdef"), 0);
        assert_eq!(
            glyph_unit(b"g123"),
            0xFFFD,
            "a subset's own name is no character"
        );
        assert_eq!(
            glyph_unit(b"uniD800"),
            0xFFFD,
            "a lone surrogate is no character"
        );
    }

    #[test]
    fn differences_change_codes_from_each_number_on() {
        let mut table = WIN_ANSI;
        let name = |s: &str| Object::Name(s.as_bytes().to_vec());
        let diffs = [
            Object::Integer(65),
            name("bullet"),
            name("eacute"),
            Object::Integer(255),
            name("x"),
            name("y"),
        ];
        apply_differences(&mut table, &diffs);
        assert_eq!(table[65], 0x2022);
        assert_eq!(table[66], 0xE9);
        assert_eq!(
            table[67],
            u16::from(b'C'),
            "after the names, the base encoding"
        );
        assert_eq!(
            table[255],
            u16::from(b'x'),
            "a name past 255 is dropped, not wrapped to 0"
        );
        assert_eq!(table[0], 0);
    }

    /// Our decoding of one code of a simple font, against lopdf's own.
    fn both(encoding: Object, code: u8) -> (String, String) {
        let doc = Document::new();
        let font =
            lopdf::dictionary! { "Type" => "Font", "Subtype" => "Type1", "Encoding" => encoding };
        let mut ours = String::new();
        Font::read(&font, &doc, 1 << 20, &mut 100).decode(&[code], &mut ours);
        let encoding = font.get_font_encoding(&doc).unwrap();
        let theirs = Document::decode_text(&encoding, &[code]).unwrap();
        (ours, theirs)
    }

    #[test]
    fn the_four_encodings_decode_every_code_as_lopdf_does() {
        for name in [
            "StandardEncoding",
            "WinAnsiEncoding",
            "MacRomanEncoding",
            "PDFDocEncoding",
        ] {
            for code in 0..=255 {
                let (ours, theirs) = both(Object::Name(name.into()), code);
                assert_eq!(ours, theirs, "{name} {code:#04x}");
            }
        }
    }

    #[test]
    fn every_glyph_name_kept_means_what_it_means_to_lopdf() {
        assert!(GLYPH_NAMES.is_sorted_by(|a, b| a.0.as_bytes() < b.0.as_bytes()));
        for (name, _) in GLYPH_NAMES {
            let differences = vec![Object::Integer(1), Object::Name(name.into())];
            let encoding = Object::Dictionary(lopdf::dictionary! { "Differences" => differences });
            let (ours, theirs) = both(encoding, 1);
            assert_eq!(ours, theirs, "{name}");
        }
    }

    #[test]
    fn the_unicode_cmaps_are_recognised_by_name() {
        assert!(is_unicode_cmap(b"UniJIS-UCS2-H"));
        assert!(is_unicode_cmap(b"UniGB-UTF16-V"));
        assert!(!is_unicode_cmap(b"Identity-H"));
        assert!(!is_unicode_cmap(b"90ms-RKSJ-H"));
    }
}
