//! The text one page shows, in the order its content stream shows it.
//!
//! Lines break where the stream ends a text object (`ET`), moves to a new line
//! (`T*`, `'`, `"`, a `Td`/`TD`/`Tm` that changes the line) and words where it moves
//! along the line or leaves a gap in a `TJ` array wider than a fifth of an em.
//! Text in form XObjects (`Do`) is not read: fax and form software write it to
//! the page itself, and a fillable form's values are read from its fields
//! (`form`).

use std::collections::HashMap;
use std::time::Instant;

use lopdf::content::Content;
use lopdf::{Document, Object, ObjectId};

use super::font::Font;

/// A `TJ` gap (thousandths of an em, negative moves right) that separates words.
const WORD_GAP: f32 = -200.0;

/// Operations between two looks at the clock.
const OPS_PER_CLOCK_CHECK: usize = 1024;

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
        let mut out = Page {
            text: String::new(),
            problem: None,
            out_of_time: false,
        };
        let content = match doc.get_page_content_with_limit(page, self.max_stream_bytes) {
            Ok(content) => content,
            Err(e) => {
                out.problem = Some(super::describe(&e));
                return out;
            }
        };
        let page_fonts = doc.get_page_fonts(page).unwrap_or_else(|e| {
            out.problem = Some(super::describe(&e));
            Default::default()
        });
        let (text, problem) = (&mut out.text, &mut out.problem);

        // The current font, as its key in `fonts`.
        let mut font: Option<usize> = None;
        // The y of the current line in text space, while it is known (`T*` moves by
        // the leading, which is not followed here).
        let mut line_y = None;
        for (i, op) in Content::decode_iter(&content).enumerate() {
            if text.len() >= max_text_bytes {
                break;
            }
            if i % OPS_PER_CLOCK_CHECK == 0 && Instant::now() > self.deadline {
                out.out_of_time = true;
                break;
            }
            let Ok(op) = op else {
                *problem = problem.or(Some("a page's content is damaged"));
                break;
            };
            let operands = &op.operands;
            if op.operator == "Tf" {
                let dict = operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|name| page_fonts.get(name));
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
                continue;
            }
            let font = font.and_then(|key| self.fonts.get(&key));
            match op.operator.as_str() {
                "Tj" => show(font, operands.first(), text, problem),
                "'" => {
                    new_line(text);
                    line_y = None;
                    show(font, operands.first(), text, problem);
                }
                "\"" => {
                    new_line(text);
                    line_y = None;
                    show(font, operands.get(2), text, problem);
                }
                "TJ" => {
                    for item in operands
                        .first()
                        .and_then(|o| o.as_array().ok())
                        .into_iter()
                        .flatten()
                    {
                        match item {
                            Object::String(..) => show(font, Some(item), text, problem),
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
        out
    }
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
        None => *problem = problem.or(Some("a page shows text in a font it does not define")),
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
