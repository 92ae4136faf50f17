//! Element values: text, dates, amounts, and the reverse for writing.

use std::borrow::Cow;
use std::fmt;

/// Element bytes as trimmed text; bytes that are not UTF-8 become U+FFFD.
pub(crate) fn lossy(b: &[u8]) -> Cow<'_, str> {
    let b = b.trim_ascii();
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(String::from_utf8_lossy(b).trim().to_owned()),
    }
}

/// Owned trimmed text, `None` when empty.
pub(crate) fn opt(b: &[u8]) -> Option<Text> {
    let b = b.trim_ascii();
    (!b.is_empty()).then(|| own(b))
}

/// Owned trimmed text, empty when absent.
pub(crate) fn own(b: &[u8]) -> Text {
    let b = b.trim_ascii();
    if b.len() <= INLINE && b.is_ascii() {
        // The common case: a short ASCII value, copied as is.
        let mut buf = [0; INLINE];
        buf[..b.len()].copy_from_slice(b);
        return Text(Repr::Inline(b.len() as u8, buf));
    }
    match std::str::from_utf8(b) {
        Ok(s) => Text::from(s),
        Err(_) => Text::from(String::from_utf8_lossy(b).trim()),
    }
}

/// Owned text that keeps values up to 22 bytes (codes, IDs, most names) inline, not
/// on the heap, so a claim of a hundred fields costs a handful of allocations.
/// Derefs to `str`; serialises as a string.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline(u8, [u8; INLINE]),
    Heap(Box<str>),
}

const INLINE: usize = 22;

impl Text {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only whole UTF-8 strings are stored, so this never falls back.
            Repr::Inline(len, buf) => {
                std::str::from_utf8(&buf[..*len as usize]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(Repr::Inline(0, [0; INLINE]))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            Text(Repr::Inline(s.len() as u8, buf))
        } else {
            Text(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            Text::from(s.as_str())
        } else {
            Text(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A calendar date read from X12 (`CCYYMMDD`), shown and serialised `YYYY-MM-DD`
/// (what the domain's `parse_date` reads). Only real dates in 1900..=2199 exist.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    pub fn year(self) -> u16 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }
    /// `CCYYMMDD`, as X12 writes it.
    pub fn x12(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq<&str> for Date {
    fn eq(&self, other: &&str) -> bool {
        let b = other.as_bytes();
        b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && date(&[&b[..4], &b[5..7], &b[8..]].concat()) == Some(*self)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An X12 date `CCYYMMDD`, when it is a real calendar date in 1900..=2199.
pub fn date(b: &[u8]) -> Option<Date> {
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1900..=2199).contains(&y) || d == 0 || d > days {
        return None;
    }
    Some(Date {
        year: y as u16,
        month: m as u8,
        day: d as u8,
    })
}

/// A time `HHMM` (optionally with seconds) that is a real time of day.
pub(crate) fn is_time(b: &[u8]) -> bool {
    if !matches!(b.len(), 4 | 6 | 7 | 8) || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let hh = (b[0] - b'0') * 10 + (b[1] - b'0');
    let mm = (b[2] - b'0') * 10 + (b[3] - b'0');
    let ss = if b.len() >= 6 {
        (b[4] - b'0') * 10 + (b[5] - b'0')
    } else {
        0
    };
    hh < 24 && mm < 60 && ss < 60
}

/// A dollar amount (X12 type R: `125`, `12.25`, `-10`, `.5`) in cents. More than two
/// decimals, an exponent, or more than 15 digits is refused.
pub fn cents(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let (whole, frac) = match memchr::memchr(b'.', digits) {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, &[][..]),
    };
    if (whole.is_empty() && frac.is_empty())
        || whole.len() > 15
        || frac.len() > 2
        || !whole.iter().chain(frac).all(u8::is_ascii_digit)
    {
        return None;
    }
    let mut c = whole.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')) * 100;
    match frac {
        [t] => c += i64::from(t - b'0') * 10,
        [t, h] => c += i64::from(t - b'0') * 10 + i64::from(h - b'0'),
        _ => {}
    }
    Some(if negative { -c } else { c })
}

/// A decimal quantity (X12 type R: `1`, `1.5`, `3.000`), up to 15 digits.
pub(crate) fn is_decimal(b: &[u8]) -> bool {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let mut dots = 0;
    let mut count = 0;
    for &c in digits {
        match c {
            b'.' => dots += 1,
            b'0'..=b'9' => count += 1,
            _ => return false,
        }
    }
    dots <= 1 && count > 0 && count <= 15
}

/// Cents as an X12 amount without needless zeros: `125`, `12.5`, `12.25`, `-0.05`.
pub fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (whole, frac) = (abs / 100, abs % 100);
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// Text safe to write between the standard delimiters (`*`, `:`, `^`, `~`): those
/// and line breaks become spaces.
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    if s.bytes()
        .any(|b| matches!(b, b'*' | b':' | b'^' | b'~' | b'\r' | b'\n'))
    {
        Cow::Owned(s.replace(['*', ':', '^', '~', '\r', '\n'], " "))
    } else {
        Cow::Borrowed(s)
    }
}

/// `YYYY-MM-DD` back to `CCYYMMDD`.
pub(crate) fn x12_date(iso: &str) -> String {
    iso.replace('-', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!(date(b"20240229").unwrap().to_string(), "2024-02-29");
        assert_eq!(date(b"20240229").unwrap(), "2024-02-29");
        assert_eq!(date(b"20240229").unwrap().x12(), "20240229");
        for bad in [
            &b"20230229"[..],
            b"20241301",
            b"2024011",
            b"2024O101",
            b"10010101",
            b"20240100",
        ] {
            assert_eq!(date(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(cents(b"500"), Some(50000));
        assert_eq!(cents(b"12.25"), Some(1225));
        assert_eq!(cents(b"125.0"), Some(12500));
        assert_eq!(cents(b".5"), Some(50));
        assert_eq!(cents(b"-10"), Some(-1000));
        for bad in [
            &b""[..],
            b".",
            b"-",
            b"1.234",
            b"1,000",
            b"1e5",
            b"9999999999999999",
            b"1.2.3",
        ] {
            assert_eq!(cents(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(amount(12550), "125.5");
        assert_eq!(amount(1225), "12.25");
        assert_eq!(amount(50000), "500");
        assert_eq!(amount(-5), "-0.05");
    }

    #[test]
    fn text_is_a_string_inline_or_not() {
        let short = Text::from("A37YH556");
        let long = Text::from("A PATIENT CONTROL NUMBER OF 38 CHARS..");
        assert_eq!(short, "A37YH556");
        assert_eq!(long.as_str(), "A PATIENT CONTROL NUMBER OF 38 CHARS..");
        assert!(
            long < short && Text::default().is_empty(),
            "ordered as strings"
        );
        assert_eq!(own(b" \xff1 "), "\u{fffd}1");
        assert_eq!(format!("{short:?}"), "\"A37YH556\"");
    }

    #[test]
    fn times_and_quantities() {
        assert!(is_time(b"0932") && is_time(b"100831") && !is_time(b"2460") && !is_time(b"93"));
        assert!(
            is_decimal(b"1") && is_decimal(b"3.00") && !is_decimal(b"1.2.3") && !is_decimal(b"x")
        );
    }
}
