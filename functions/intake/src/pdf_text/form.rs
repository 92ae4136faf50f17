//! The values filled into a PDF form (AcroForm, ISO 32000-1 12.7).
//!
//! Plans publish their request forms as fillable PDFs, and a provider who fills
//! one in and emails it sends values that are on no page's content stream: they
//! are in the form's fields (and drawn by their widgets' appearance streams,
//! which are not read). Each filled field becomes a line `label: value`, the
//! label being the field's description for users (/TU, what accessible forms
//! carry: "Member ID") or else its name (/T).

use std::collections::HashSet;

use lopdf::{Dictionary, Document, Object, ObjectId, decode_text_string};

/// Fields nest (a field's /Kids); deeper than this is not a form a person filled.
const MAX_DEPTH: usize = 16;

/// Appends a line per filled field to `out`, until it holds `max_bytes`; at
/// most `max_fields` fields are visited.
pub(super) fn read(doc: &Document, out: &mut String, max_bytes: usize, max_fields: usize) {
    let fields = doc
        .catalog()
        .ok()
        .and_then(|catalog| catalog.get_deref(b"AcroForm", doc).ok())
        .and_then(|form| form.as_dict().ok())
        .and_then(|form| form.get_deref(b"Fields", doc).ok())
        .and_then(|fields| fields.as_array().ok());
    let mut walk = Walk {
        doc,
        out,
        max_bytes,
        fields_left: max_fields,
        seen: HashSet::new(),
    };
    for field in fields.into_iter().flatten() {
        walk.field(field, None, 0);
    }
}

struct Walk<'a, 'o> {
    doc: &'a Document,
    out: &'o mut String,
    max_bytes: usize,
    fields_left: usize,
    /// Fields already read: a /Kids loop is read once.
    seen: HashSet<ObjectId>,
}

impl<'a> Walk<'a, '_> {
    /// One field and its kids; `label` is the nearest label above it.
    fn field(&mut self, field: &'a Object, label: Option<String>, depth: usize) {
        if depth > MAX_DEPTH || self.fields_left == 0 || self.out.len() >= self.max_bytes {
            return;
        }
        if let Object::Reference(id) = field
            && !self.seen.insert(*id)
        {
            return;
        }
        let Ok((_, Object::Dictionary(dict))) = self.doc.dereference(field) else {
            return;
        };
        self.fields_left -= 1;
        let label = text(dict, b"TU", self.doc)
            .or_else(|| text(dict, b"T", self.doc))
            .or(label);
        if let Some(value) = value(dict, self.doc) {
            let label = label.as_deref().unwrap_or("field");
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.out.push_str(label);
            self.out.push_str(": ");
            self.out.push_str(&value);
        }
        if let Ok(kids) = dict.get_deref(b"Kids", self.doc).and_then(Object::as_array) {
            for kid in kids {
                self.field(kid, label.clone(), depth + 1);
            }
        }
    }
}

/// A text string entry, trimmed; `None` when absent or blank.
fn text(dict: &Dictionary, key: &[u8], doc: &Document) -> Option<String> {
    let object = dict.get_deref(key, doc).ok()?;
    let s = decode_text_string(object).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A field's value (/V) as text: a string as it is; a choice of several joined;
/// a check box or radio button by its state's name, unless it is off.
fn value(dict: &Dictionary, doc: &Document) -> Option<String> {
    match dict.get_deref(b"V", doc).ok()? {
        Object::Name(state) if state.as_slice() != b"Off" => {
            Some(String::from_utf8_lossy(state).into_owned())
        }
        Object::Array(choices) => {
            let chosen: Vec<String> = choices
                .iter()
                .filter_map(|c| decode_text_string(c).ok())
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect();
            (!chosen.is_empty()).then(|| chosen.join(", "))
        }
        _ => text(dict, b"V", doc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn form(fields: impl FnOnce(&mut Document) -> Vec<Object>) -> Document {
        let mut doc = Document::with_version("1.7");
        let fields = fields(&mut doc);
        let catalog = doc.add_object(dictionary! {
            "Type" => "Catalog", "AcroForm" => dictionary! { "Fields" => fields },
        });
        doc.trailer.set("Root", catalog);
        doc
    }

    fn read_all(doc: &Document, max_fields: usize) -> String {
        let mut out = String::new();
        read(doc, &mut out, 10_000, max_fields);
        out
    }

    #[test]
    fn a_loop_of_kids_is_read_once_and_depth_and_count_are_bounded() {
        let doc = form(|doc| {
            let id = doc.new_object_id();
            doc.objects.insert(
                id,
                Object::Dictionary(dictionary! {
                    "T" => Object::string_literal("loop"), "V" => Object::string_literal("x"),
                    "Kids" => vec![Object::Reference(id)],
                }),
            );
            vec![Object::Reference(id)]
        });
        assert_eq!(read_all(&doc, 100), "loop: x");

        // A chain of 40 nested fields, each with a value: the first 17 levels are read.
        let doc = form(|doc| {
            let mut kid: Option<ObjectId> = None;
            for level in (0..40).rev() {
                let mut f =
                    dictionary! { "T" => Object::string_literal(format!("f{level}")), "V" => "On" };
                if let Some(k) = kid {
                    f.set("Kids", vec![Object::Reference(k)]);
                }
                kid = Some(doc.add_object(f));
            }
            vec![Object::Reference(kid.unwrap())]
        });
        assert_eq!(read_all(&doc, 100).lines().count(), MAX_DEPTH + 1);
        assert_eq!(read_all(&doc, 5).lines().count(), 5);
    }

    #[test]
    fn no_form_reads_nothing() {
        let doc = form(|_| vec![]);
        assert_eq!(read_all(&doc, 100), "");
        let mut doc = Document::with_version("1.7");
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog" });
        doc.trailer.set("Root", catalog);
        assert_eq!(read_all(&doc, 100), "");
    }
}
