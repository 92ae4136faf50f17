//! Reading a JSON request body field by field, so that every bad field is
//! reported at once (a serde derive stops at the first), each named by its path
//! (`lines[1].units`, `contact.phone`). Values are parsed straight into domain
//! types with their own `parse`; messages come from those parsers and never
//! repeat the value.
//!
//! ```ignore
//! let root = body::object(req.body().as_ref())?;
//! let mut f = Fields::new(&root);
//! let member_id = f.required("member_id", MemberId::parse);
//! let units = f.required_u32("units", 1..=9999);
//! f.deny_unknown(&["member_id", "units"]);
//! let (Some(member_id), Some(units)) = (member_id, units) else { return Err(f.into_errors()) };
//! ```

use std::ops::RangeInclusive;

use mso_domain::Invalid;
use mso_domain::money::Money;
use serde_json::{Map, Value};

use crate::{FieldError, Problem};

/// The body as a JSON object, or the problem to answer (400).
pub fn object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    let problem = |code: &str, message: &str| {
        Problem::invalid_request(vec![FieldError {
            field: "body".into(),
            code: code.into(),
            message: message.into(),
        }])
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(problem("required", "a JSON object is required"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(problem("not_an_object", "must be a JSON object")),
        Err(e) => Err(problem(
            "invalid_json",
            &format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )),
    }
}

/// One JSON object being read; nested objects and arrays get their own, with
/// the path prefixed.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            prefix: String::new(),
            errors: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else if name.starts_with('[') {
            format!("{}{name}", self.prefix)
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// Records a problem with `name` (for rules across fields).
    pub fn problem(&mut self, name: &str, invalid: &Invalid) {
        let path = self.path(name);
        self.errors.push(FieldError::new(&path, invalid));
    }

    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    /// The value of `name`, treating `null` as absent.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn text(&mut self, name: &str) -> Option<Option<&'a str>> {
        match self.get(name) {
            None => Some(None),
            Some(Value::String(s)) => Some(Some(s.as_str())),
            Some(_) => {
                self.problem(name, &Invalid::new("invalid_type", "must be a string"));
                None
            }
        }
    }

    /// A required string, parsed.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<T> {
        match self.text(name)? {
            None => {
                self.problem(name, &Invalid::required());
                None
            }
            Some(s) => match parse(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.problem(name, &e);
                    None
                }
            },
        }
    }

    /// An optional string (absent or `null` is `Some(None)`), parsed; `None`
    /// when it is there and bad.
    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        match self.text(name)? {
            None => Some(None),
            Some(s) if s.trim().is_empty() => Some(None),
            Some(s) => match parse(s) {
                Ok(v) => Some(Some(v)),
                Err(e) => {
                    self.problem(name, &e);
                    None
                }
            },
        }
    }

    /// Free text: trimmed, at most `max` characters, without control characters
    /// other than line breaks and tabs.
    pub fn required_text(&mut self, name: &str, max: usize) -> Option<String> {
        self.required(name, |s| free_text(s, max, true))
    }

    pub fn optional_text(&mut self, name: &str, max: usize) -> Option<Option<String>> {
        self.optional(name, |s| free_text(s, max, false))
    }

    /// A required whole number within `range`.
    pub fn required_u32(&mut self, name: &str, range: RangeInclusive<u32>) -> Option<u32> {
        match self.get(name) {
            None => {
                self.problem(name, &Invalid::required());
                None
            }
            Some(v) => self.number(name, v, range),
        }
    }

    pub fn optional_u32(&mut self, name: &str, range: RangeInclusive<u32>) -> Option<Option<u32>> {
        match self.get(name) {
            None => Some(None),
            Some(v) => self.number(name, v, range).map(Some),
        }
    }

    fn number(&mut self, name: &str, v: &Value, range: RangeInclusive<u32>) -> Option<u32> {
        let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
        match n {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.problem(
                    name,
                    &Invalid::owned(
                        "invalid_number",
                        format!(
                            "must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    ),
                );
                None
            }
        }
    }

    /// A required amount of money: whole cents as a JSON integer (`12550`), or a
    /// decimal string of dollars (`"125.50"`). A JSON float is refused: binary
    /// fractions cannot hold cents exactly.
    pub fn required_money(&mut self, name: &str) -> Option<Money> {
        match self.get(name) {
            None => {
                self.problem(name, &Invalid::required());
                None
            }
            Some(v) => self.money(name, v),
        }
    }

    pub fn optional_money(&mut self, name: &str) -> Option<Option<Money>> {
        match self.get(name) {
            None => Some(None),
            Some(v) => self.money(name, v).map(Some),
        }
    }

    fn money(&mut self, name: &str, v: &Value) -> Option<Money> {
        let parsed = match v {
            Value::Number(n) => match n.as_i64() {
                Some(cents) => Ok(Money::from_cents(cents)),
                None => Err(Invalid::new(
                    "invalid_amount",
                    "must be whole cents (an integer) or a decimal string such as \"125.50\", never a floating-point number",
                )),
            },
            Value::String(s) => Money::parse_dollars(s),
            _ => Err(Invalid::new(
                "invalid_type",
                "must be whole cents (an integer) or a decimal string such as \"125.50\"",
            )),
        };
        match parsed {
            Ok(m) => Some(m),
            Err(e) => {
                self.problem(name, &e);
                None
            }
        }
    }

    /// An optional code written as a string or a whole number (`"7"` or `7`),
    /// parsed as text; absent or `null` is `Some(None)`.
    pub fn optional_code<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        let text = match self.get(name) {
            None => return Some(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            Some(_) => {
                self.problem(
                    name,
                    &Invalid::new("invalid_type", "must be a string or a whole number"),
                );
                return None;
            }
        };
        match parse(&text) {
            Ok(v) => Some(Some(v)),
            Err(e) => {
                self.problem(name, &e);
                None
            }
        }
    }

    /// A boolean; absent is `default`.
    pub fn bool_or(&mut self, name: &str, default: bool) -> Option<bool> {
        match self.get(name) {
            None => Some(default),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.problem(name, &Invalid::new("invalid_type", "must be true or false"));
                None
            }
        }
    }

    /// A required nested object, read by `read`.
    pub fn object<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Fields<'a>) -> Option<T>,
    ) -> Option<T> {
        match self.get(name) {
            None => {
                self.problem(name, &Invalid::required());
                None
            }
            Some(Value::Object(map)) => self.nested(self.path(name), map, read),
            Some(_) => {
                self.problem(name, &Invalid::new("invalid_type", "must be an object"));
                None
            }
        }
    }

    /// An optional nested object.
    pub fn optional_object<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Fields<'a>) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.get(name) {
            None => Some(None),
            Some(_) => self.object(name, read).map(Some),
        }
    }

    fn nested<T>(
        &mut self,
        prefix: String,
        map: &'a Map<String, Value>,
        read: impl FnOnce(&mut Fields<'a>) -> Option<T>,
    ) -> Option<T> {
        let mut child = Fields {
            map,
            prefix,
            errors: Vec::new(),
        };
        let value = read(&mut child);
        let ok = child.errors.is_empty();
        self.errors.append(&mut child.errors);
        value.filter(|_| ok)
    }

    /// A required array with a length in `count`, each item read by `item` (a
    /// string or an object, as the item reader takes it).
    pub fn list<T>(
        &mut self,
        name: &str,
        count: RangeInclusive<usize>,
        mut item: impl FnMut(&mut Item<'a, '_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = match self.get(name) {
            None => {
                self.problem(name, &Invalid::required());
                return None;
            }
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.problem(name, &Invalid::new("invalid_type", "must be an array"));
                return None;
            }
        };
        if !count.contains(&items.len()) {
            self.problem(
                name,
                &Invalid::owned(
                    "invalid_count",
                    format!("must have {} to {} items", count.start(), count.end()),
                ),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, value) in items.iter().enumerate() {
            let path = format!("{}[{i}]", self.path(name));
            let mut it = Item {
                value,
                path,
                parent: self,
            };
            match item(&mut it) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// An optional array (absent or `null` is `Some(None)`).
    pub fn list_or_empty<T>(
        &mut self,
        name: &str,
        count: RangeInclusive<usize>,
        item: impl FnMut(&mut Item<'a, '_>) -> Option<T>,
    ) -> Option<Option<Vec<T>>> {
        match self.get(name) {
            None => Some(None),
            Some(_) => self.list(name, count, item).map(Some),
        }
    }

    /// Refuses fields the request does not define (a misspelt `memberId` must
    /// not be silently ignored).
    pub fn deny_unknown(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            self.problem(
                &k,
                &Invalid::new("unknown_field", "is not a field of this request"),
            );
        }
    }
}

/// One item of an array being read.
pub struct Item<'a, 'p> {
    value: &'a Value,
    path: String,
    parent: &'p mut Fields<'a>,
}

impl<'a> Item<'a, '_> {
    fn problem(&mut self, invalid: &Invalid) {
        self.parent
            .errors
            .push(FieldError::new(&self.path, invalid));
    }

    /// The item as a string, parsed.
    pub fn parse<T>(&mut self, parse: impl FnOnce(&str) -> Result<T, Invalid>) -> Option<T> {
        match self.value {
            Value::String(s) => match parse(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.problem(&e);
                    None
                }
            },
            _ => {
                self.problem(&Invalid::new("invalid_type", "must be a string"));
                None
            }
        }
    }

    /// The item as a whole number within `range`.
    pub fn number(&mut self, range: RangeInclusive<u32>) -> Option<u32> {
        match self.value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.problem(&Invalid::owned(
                    "invalid_number",
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                ));
                None
            }
        }
    }

    /// The item as an object, read by `read`.
    pub fn object<T>(&mut self, read: impl FnOnce(&mut Fields<'a>) -> Option<T>) -> Option<T> {
        match self.value {
            Value::Object(map) => {
                let path = self.path.clone();
                self.parent.nested(path, map, read)
            }
            _ => {
                self.problem(&Invalid::new("invalid_type", "must be an object"));
                None
            }
        }
    }
}

/// Trims `s` and checks it is short, printable free text.
pub fn free_text(s: &str, max: usize, required: bool) -> Result<String, Invalid> {
    let s = s.trim();
    if s.is_empty() && required {
        return Err(Invalid::required());
    }
    if s.chars().count() > max {
        return Err(Invalid::owned(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Invalid::new(
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use mso_domain::dates::parse_date;
    use mso_domain::ids::MemberId;
    use serde_json::json;

    use super::*;

    fn fields_of(v: &Value) -> &Map<String, Value> {
        v.as_object().unwrap()
    }

    #[test]
    fn money_is_cents_or_a_decimal_string_never_a_float() {
        let v = json!({"a": 12550, "b": "125.50", "c": 125.5, "d": "12.345", "e": true, "f": null});
        let mut f = Fields::new(fields_of(&v));
        assert_eq!(f.required_money("a"), Some(Money::from_cents(12_550)));
        assert_eq!(f.required_money("b"), Some(Money::from_cents(12_550)));
        assert_eq!(f.required_money("c"), None);
        assert_eq!(f.required_money("d"), None);
        assert_eq!(f.required_money("e"), None);
        assert_eq!(f.optional_money("f"), Some(None));
        assert_eq!(f.required_money("g"), None);
        let errors = f.into_errors();
        let codes: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("c", "invalid_amount"),
                ("d", "invalid_amount"),
                ("e", "invalid_type"),
                ("g", "required"),
            ]
        );
        assert!(errors[0].message.contains("never a floating-point number"));
    }

    #[test]
    fn codes_may_be_written_as_numbers() {
        let v = json!({"a": 7, "b": "8", "c": 7.5, "d": [1, 0, "x"]});
        let mut f = Fields::new(fields_of(&v));
        let text = |s: &str| Ok::<_, Invalid>(s.to_owned());
        assert_eq!(f.optional_code("a", text), Some(Some("7".into())));
        assert_eq!(f.optional_code("b", text), Some(Some("8".into())));
        assert_eq!(f.optional_code("c", text), None);
        assert_eq!(f.optional_code("z", text), Some(None));
        assert_eq!(f.list("d", 1..=4, |i| i.number(1..=12)), None);
        let fields: Vec<String> = f.into_errors().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["c", "d[1]", "d[2]"]);
    }

    #[test]
    fn every_bad_field_is_named_by_its_path() {
        let v = json!({
            "member_id": "",
            "dob": "1984-02-30",
            "units": -1,
            "lines": [{"code": 5}, {"code": "ok"}, "x"],
            "contact": {"name": "A", "phone": null},
            "membr_id": "typo"
        });
        let mut f = Fields::new(fields_of(&v));
        assert!(f.required("member_id", MemberId::parse).is_none());
        assert!(f.required("dob", parse_date).is_none());
        assert!(f.required_u32("units", 1..=10).is_none());
        let lines = f.list("lines", 1..=5, |item| {
            item.object(|l| l.required("code", |s| Ok(s.to_owned())))
        });
        assert!(lines.is_none());
        let contact = f.object("contact", |c| {
            let name = c.required_text("name", 10);
            let phone = c.required_text("phone", 20);
            Some((name?, phone?))
        });
        assert!(contact.is_none());
        assert!(f.required("missing", |s| Ok(s.to_owned())).is_none());
        f.deny_unknown(&["member_id", "dob", "units", "lines", "contact", "missing"]);
        let errors: Vec<(String, String)> = f
            .into_errors()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        let expect = [
            ("member_id", "required"),
            ("dob", "invalid_date"),
            ("units", "invalid_number"),
            ("lines[0].code", "invalid_type"),
            ("lines[2]", "invalid_type"),
            ("contact.phone", "required"),
            ("missing", "required"),
            ("membr_id", "unknown_field"),
        ];
        assert_eq!(
            errors,
            expect.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
        );
    }

    #[test]
    fn good_values_come_out_parsed() {
        let v =
            json!({"id": " sun100001 ", "n": 3, "tags": ["a", "b"], "flag": true, "note": null});
        let mut f = Fields::new(fields_of(&v));
        assert_eq!(
            f.required("id", MemberId::parse).unwrap().as_str(),
            "SUN100001"
        );
        assert_eq!(f.required_u32("n", 1..=3), Some(3));
        assert_eq!(
            f.list("tags", 1..=2, |i| i.parse(|s| Ok(s.to_owned()))),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(f.bool_or("flag", false), Some(true));
        assert_eq!(f.optional_text("note", 5), Some(None));
        assert!(f.is_valid());
    }

    #[test]
    fn bodies_that_are_not_objects_are_400() {
        for body in [&b""[..], b"  ", b"[1]", b"{", b"\"x\""] {
            let p = object(body).unwrap_err();
            assert_eq!(p.status, 400);
            assert_eq!(p.errors[0].field, "body");
        }
        assert!(object(b"{}").is_ok());
    }

    #[test]
    fn free_text_is_bounded_and_printable() {
        assert_eq!(free_text("  hi ", 5, true).unwrap(), "hi");
        assert_eq!(free_text("", 5, true).unwrap_err().code, "required");
        assert_eq!(free_text("abcdef", 5, true).unwrap_err().code, "too_long");
        assert_eq!(
            free_text("a\u{0}b", 5, true).unwrap_err().code,
            "invalid_characters"
        );
        assert!(free_text("line\nbreak", 20, true).is_ok());
    }
}
