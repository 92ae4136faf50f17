//! The text one page shows, in the order its content stream shows it.
//!
//! Lines break where the stream ends a text object (`ET`), moves to a new line
//! (`T*`, `'`, `"`, a `Td`/`TD`/`Tm` that changes the line) and words where it moves
//! along the line or leaves a gap in a `TJ` array wider than a fifth of an em.
//! Form XObjects a page draws (`Do`) are shown where they are drawn, with their
//! own fonts: printers and merging tools wrap pages in them. A fillable form's
//! values are read from its fields (`form`), not from its widgets' appearances.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::font::Font;

/// A `TJ` gap (thousandths of an em, negative moves right) that separates words.
const WORD_GAP: f32 = -200.0;

/// Operations between two looks at the clock.
const OPS_PER_CLOCK_CHECK: usize = 1024;

/// Forms drawn within forms: a letterhead in a page wrapped by a printer is 2.
const MAX_FORM_DEPTH: usize = 8;

/// Forms drawn on one page (a form drawn twice counts twice).
const MAX_FORMS_PER_PAGE: usize = 256;

/// What reading the pages of one document shares: the fonts already read, the
/// limits and the clock.
pub(super) struct Reader<'a> {
    doc: &'a Document,
    /// By the address of their dictionary in the loaded document: pages share
    /// fonts, and a ToUnicode CMap is read once.
    fonts: HashMap<usize, Font>,
    max_stream_bytes: usize,
    /// ToUnicode entries still to be read in this document (each costs memory).
    cmap_entries_left: usize,
    deadline: Instant,
}

/// The text of one page, and what stopped it being read whole.
pub(super) struct Page {
    pub(super) text: String,
    pub(super) problem: Option<&'static str>,
    pub(super) out_of_time: bool,
}

impl<'a> Reader<'a> {
    pub(super) fn new(doc: &'a Document, limits: &super::PdfLimits, deadline: Instant) -> Self {
        Reader {
            doc,
            fonts: HashMap::new(),
            max_stream_bytes: limits.max_stream_bytes,
            cmap_entries_left: limits.max_cmap_entries,
            deadline,
        }
    }

    /// Reads the text of one page, stopping once it holds `max_text_bytes` or the
    /// time runs out.
    pub(super) fn page(&mut self, page: ObjectId, max_text_bytes: usize) -> Page {
        let doc = self.doc;
        let mut out = Shown {
            page: Page {
                text: String::new(),
                problem: None,
                out_of_time: false,
            },
            max_text_bytes,
            ops: 0,
            forms_left: MAX_FORMS_PER_PAGE,
        };
        let content = match doc.get_page_content_with_limit(page, self.max_stream_bytes) {
            Ok(content) => content,
            Err(e) => {
                out.page.problem = Some(super::describe(&e));
                return out.page;
            }
        };
        // The page's own resources, then those it inherits from the page tree.
        let resources = match doc.get_page_resources(page) {
            Ok((own, inherited)) => Resources::of(
                own.into_iter().chain(
                    inherited
                        .iter()
                        .filter_map(|&id| doc.get_dictionary(id).ok()),
                ),
                doc,
            ),
            Err(e) => {
                out.page.problem = Some(super::describe(&e));
                Resources::default()
            }
        };
        self.content(&content, &resources, 0, &mut out);
        out.page
    }

    /// Shows one content stream: the page's, or a form's it draws (`Do`).
    fn content(
        &mut self,
        content: &[u8],
        resources: &Resources<'a>,
        depth: usize,
        out: &mut Shown,
    ) {
        let doc = self.doc;
        // The current font, as its key in `fonts`.
        let mut font: Option<usize> = None;
        // The y of the current line in text space, while it is known (`T*` moves by
        // the leading, which is not followed here).
        let mut line_y = None;
        for op in Content::decode_iter(content) {
            if out.page.text.len() >= out.max_text_bytes || out.page.out_of_time {
                break;
            }
            out.ops += 1;
            if out.ops.is_multiple_of(OPS_PER_CLOCK_CHECK) && Instant::now() > self.deadline {
                out.page.out_of_time = true;
                break;
            }
            let (text, problem) = (&mut out.page.text, &mut out.page.problem);
            let Ok(op) = op else {
                problem.get_or_insert("a page's content is damaged");
                break;
            };
            let operands = &op.operands;
            match op.operator.as_str() {
                "Tf" => {
                    let dict = operands
                        .first()
                        .and_then(|o| o.as_name().ok())
                        .and_then(|name| resources.fonts.get(name));
                    font = dict.map(|&dict| {
                        let key = std::ptr::from_ref(dict) as usize;
                        let read = self.fonts.entry(key).or_insert_with(|| {
                            Font::read(
                                dict,
                                doc,
                                self.max_stream_bytes,
                                &mut self.cmap_entries_left,
                            )
                        });
                        *problem = problem.or(read.problem);
                        key
                    });
                }
                "Do" => {
                    if let Some(name) = operands.first().and_then(|o| o.as_name().ok()) {
                        self.form(name, resources, depth, out);
                    }
                }
                "Tj" => show(self.font(font), operands.first(), text, problem),
                "'" => {
                    new_line(text);
                    line_y = None;
                    show(self.font(font), operands.first(), text, problem);
                }
                "\"" => {
                    new_line(text);
                    line_y = None;
                    show(self.font(font), operands.get(2), text, problem);
                }
                "TJ" => {
                    for item in operands
                        .first()
                        .and_then(|o| o.as_array().ok())
                        .into_iter()
                        .flatten()
                    {
                        match item {
                            Object::String(..) => show(self.font(font), Some(item), text, problem),
                            gap => {
                                if gap.as_float().is_ok_and(|g| g < WORD_GAP) {
                                    space(text);
                                }
                            }
                        }
                    }
                }
                "BT" => line_y = Some(0.0),
                "Td" | "TD" => {
                    let (tx, ty) = (number(operands.first()), number(operands.get(1)));
                    match (tx, ty) {
                        (_, Some(ty)) if ty != 0.0 => new_line(text),
                        (Some(tx), _) if tx != 0.0 => space(text),
                        _ => {}
                    }
                    line_y = line_y.zip(ty).map(|(y, ty)| y + ty);
                }
                "Tm" => {
                    // Where the line is, absolutely: the same line is a word apart.
                    let y = number(operands.get(5));
                    if y.is_some() && y == line_y {
                        space(text);
                    } else {
                        new_line(text);
                    }
                    line_y = y;
                }
                "T*" => {
                    new_line(text);
                    line_y = None;
                }
                "ET" => new_line(text),
                _ => {}
            }
        }
    }

    /// Shows the form XObject `name` (an image is not text), with its own
    /// resources, or its parent's when it has none.
    fn form(&mut self, name: &[u8], resources: &Resources<'a>, depth: usize, out: &mut Shown) {
        let doc = self.doc;
        let Some(stream) = resources
            .xobjects
            .iter()
            .find_map(|x| x.get_deref(name, doc).and_then(Object::as_stream).ok())
        else {
            return;
        };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form") {
            return;
        }
        if depth >= MAX_FORM_DEPTH || out.forms_left == 0 {
            out.page
                .problem
                .get_or_insert("its forms nest too deeply or are too many");
            return;
        }
        out.forms_left -= 1;
        if Instant::now() > self.deadline {
            out.page.out_of_time = true;
            return;
        }
        let content = match stream.get_plain_content_with_limit(self.max_stream_bytes) {
            Ok(content) => content,
            Err(e) => {
                out.page.problem.get_or_insert(super::describe(&e));
                return;
            }
        };
        let own = stream
            .dict
            .get_deref(b"Resources", doc)
            .and_then(Object::as_dict)
            .ok();
        let own = own.map(|r| Resources::of([r], doc));
        self.content(&content, own.as_ref().unwrap_or(resources), depth + 1, out);
    }

    fn font(&self, key: Option<usize>) -> Option<&Font> {
        key.and_then(|key| self.fonts.get(&key))
    }
}

/// Where a content stream finds the fonts and forms it names.
#[derive(Default)]
struct Resources<'a> {
    fonts: BTreeMap<Vec<u8>, &'a Dictionary>,
    /// XObject dictionaries, nearest first (a page's own, then inherited).
    xobjects: Vec<&'a Dictionary>,
}

impl<'a> Resources<'a> {
    /// The fonts and forms of resource dictionaries, nearest first: a font's
    /// name means what the nearest dictionary naming it says.
    fn of(dicts: impl IntoIterator<Item = &'a Dictionary>, doc: &'a Document) -> Self {
        let mut resources = Resources::default();
        for dict in dicts {
            if let Ok(fonts) = dict.get_deref(b"Font", doc).and_then(Object::as_dict) {
                for (name, font) in fonts.iter() {
                    if let Ok((_, Object::Dictionary(font))) = doc.dereference(font) {
                        resources.fonts.entry(name.clone()).or_insert(font);
                    }
                }
            }
            if let Ok(xobjects) = dict.get_deref(b"XObject", doc).and_then(Object::as_dict) {
                resources.xobjects.push(xobjects);
            }
        }
        resources
    }
}

/// A page being shown: its text so far, and what bounds the rest.
struct Shown {
    page: Page,
    max_text_bytes: usize,
    /// Operations run, over the page and its forms.
    ops: usize,
    /// Form XObjects still to be shown on this page.
    forms_left: usize,
}

fn show(
    font: Option<&Font>,
    string: Option<&Object>,
    text: &mut String,
    problem: &mut Option<&'static str>,
) {
    let Some(Object::String(bytes, _)) = string else {
        return;
    };
    match font {
        Some(font) => font.decode(bytes, text),
        None => {
            problem.get_or_insert("a page shows text in a font it does not define");
        }
    }
}

fn number(operand: Option<&Object>) -> Option<f32> {
    operand.and_then(|o| o.as_float().ok())
}

fn new_line(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        if text.ends_with(' ') {
            text.pop();
        }
        text.push('\n');
    }
}

fn space(text: &mut String) {
    if !text.is_empty() && !text.ends_with([' ', '\n']) {
        text.push(' ');
    }
}
