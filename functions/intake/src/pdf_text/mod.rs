//! The text layer of a PDF (a faxed form, an emailed attachment), within limits.
//!
//! [`lopdf`] reads the file: lenient with damaged cross-reference tables, bounded in
//! how far one stream may decompress and how deep objects nest, and it returns errors
//! rather than panicking (fuzzed here too: tests/fuzz `intake_pdf_text`). Chosen over
//! `pdf-extract`, which wraps an older lopdf with its own font parsers (more crates,
//! better glyph mapping for odd fonts) and is known to panic on malformed files.
//! The text itself is read here ([`page`], [`font`], [`cmap`]) rather than by lopdf's
//! `extract_text` (see `font` for why), and so are the values of a filled-in
//! form ([`form`]).
//!
//! lopdf parses every object when it loads a file, and decodes object streams as it
//! goes. One stream's expansion is capped, but not how many there are: a 25 MB file
//! of small deflate bombs could expand to gigabytes. [`extract_text`] therefore loads
//! through a filter that counts objects and object streams and watches the clock,
//! and drops everything past [`PdfLimits`], then reports it. Only the first
//! [`PdfLimits::max_pages_read`] pages are read, and text stops at
//! [`PdfLimits::max_text_bytes`].
//!
//! No `catch_unwind`: the Lambda profile builds with `panic = "abort"`, where it would
//! catch nothing; robustness comes from lopdf's own bounds and from fuzzing.

mod cmap;
mod encodings;
mod font;
mod form;
mod page;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use lopdf::{Document, LoadOptions, Object, ObjectId};

use crate::Problem;

/// Limits on reading one PDF.
#[derive(Clone, Debug)]
pub struct PdfLimits {
    /// Pages whose text is read (the page count is still reported in full).
    pub max_pages_read: u32,
    /// Text kept, in bytes of UTF-8.
    pub max_text_bytes: usize,
    /// Objects loaded; a 10-page fax has under a hundred.
    pub max_objects: usize,
    /// Object streams decoded (each holds many objects, compressed).
    pub max_object_streams: usize,
    /// How far any one stream may decompress.
    pub max_stream_bytes: usize,
    /// Entries of fonts' ToUnicode maps read, over the whole document: each costs
    /// about 100 bytes, and a font subset has a few hundred.
    pub max_cmap_entries: usize,
    /// Wall-clock budget for loading and reading, checked between objects, between
    /// pages, every 1,024 operations of a page and before each form it draws.
    pub time_budget: Duration,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            max_pages_read: 50,
            max_text_bytes: 200 * 1024,
            max_objects: 200_000,
            max_object_streams: 200,
            max_stream_bytes: 8 * 1024 * 1024,
            max_cmap_entries: 200_000,
            time_budget: Duration::from_secs(3),
        }
    }
}

/// What was read of a PDF.
#[derive(Clone, PartialEq, Eq)]
pub struct PdfText {
    /// Pages in the document.
    pub pages: u32,
    /// Pages whose text was read.
    pub pages_read: u32,
    /// The text of the pages read, a blank line between pages, then the values
    /// filled into the PDF's form, a line `label: value` each. PHI: never logged.
    pub text: String,
    /// The PDF has text: on a page read, or in its filled form. A scanned fax
    /// has neither.
    pub has_text_layer: bool,
    /// Text stopped early: the page or text limit, or the time budget.
    pub truncated: bool,
    /// Pages that could not be read, and limits reached.
    pub problems: Vec<Problem>,
}

impl std::fmt::Debug for PdfText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfText")
            .field("pages", &self.pages)
            .field("pages_read", &self.pages_read)
            .field("text", &self.text.len())
            .field("has_text_layer", &self.has_text_layer)
            .field("truncated", &self.truncated)
            .field("problems", &self.problems)
            .finish()
    }
}

/// Reads the page count and the text layer of the first pages of a PDF. A file
/// that cannot be read as a PDF at all is an `Err` with the reason in plain words;
/// it never panics.
pub fn extract_text(bytes: &[u8], limits: &PdfLimits) -> Result<PdfText, Problem> {
    let started = Instant::now();
    let deadline = started + limits.time_budget;
    let mut doc = load(bytes, limits, deadline, false)?;
    // With a filter, lopdf does not rebuild a damaged cross-reference table by itself
    // (a filter may drop the page tree on purpose); ask for the rebuild when the
    // pages were lost.
    if doc.get_pages().is_empty() && doc.xref_recovery.is_some() {
        doc = load(bytes, limits, deadline, true)?;
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(Problem::new("pdf_no_pages", "the PDF has no pages"));
    }

    let mut out = PdfText {
        pages: u32::try_from(pages.len()).unwrap_or(u32::MAX),
        pages_read: 0,
        text: String::new(),
        has_text_layer: false,
        truncated: false,
        problems: Vec::new(),
    };
    let mut reader = page::Reader::new(&doc, limits, deadline);
    let out_of_time = |pages_read: u32| {
        Problem::new(
            "pdf_time_budget",
            format!(
                "text was read from the first {pages_read} pages only: the time budget of {} ms ran out",
                limits.time_budget.as_millis()
            ),
        )
    };
    let mut timed_out = false;
    for (&number, &page_id) in &pages {
        if out.pages_read >= limits.max_pages_read {
            out.truncated = true;
            break;
        }
        if Instant::now() > deadline {
            out.truncated = true;
            out.problems.push(out_of_time(out.pages_read));
            timed_out = true;
            break;
        }
        out.pages_read += 1;
        let room = limits.max_text_bytes.saturating_sub(out.text.len());
        let page = reader.page(page_id, room);
        if let Some(why) = page.problem {
            out.problems.push(Problem::new(
                "pdf_page_unreadable",
                format!("part of the text of page {number} could not be read: {why}"),
            ));
        }
        if page.out_of_time {
            // What was read of this page is kept; no page after it is read.
            out.truncated = true;
            out.problems.push(out_of_time(out.pages_read));
            timed_out = true;
        }
        let text = page.text.trim();
        if text.is_empty() {
            if page.out_of_time {
                break;
            }
            continue;
        }
        out.append(text);
        if page.out_of_time {
            break;
        }
        if out.text.len() >= limits.max_text_bytes {
            out.cut(limits);
            break;
        }
    }
    // A filled form's values, after the pages, within what is left of the budget.
    let room = limits.max_text_bytes.saturating_sub(out.text.len() + 2);
    if room > 0 && !timed_out {
        let mut fields = String::new();
        form::read(&doc, &mut fields, room, MAX_FORM_FIELDS);
        if !fields.is_empty() {
            out.append(&fields);
            if out.text.len() > limits.max_text_bytes {
                out.cut(limits);
            }
        }
    }
    Ok(out)
}

impl PdfText {
    /// Adds a page's text or the form's values, a blank line after what came before.
    fn append(&mut self, text: &str) {
        self.has_text_layer = true;
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
        }
        self.text.push_str(text);
    }

    /// Cuts the text to the limit, and says so.
    fn cut(&mut self, limits: &PdfLimits) {
        truncate_at_char(&mut self.text, limits.max_text_bytes);
        self.truncated = true;
        self.problems.push(Problem::new(
            "pdf_text_truncated",
            format!(
                "the text layer is longer than {} bytes; only the first {} bytes were read",
                limits.max_text_bytes, limits.max_text_bytes
            ),
        ));
    }
}

/// Form fields read (a long form has a few hundred).
const MAX_FORM_FIELDS: usize = 2_000;

/// Cuts `s` to at most `max` bytes, on a character boundary.
pub(crate) fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

fn load(
    bytes: &[u8],
    limits: &PdfLimits,
    deadline: Instant,
    force_reconstruct: bool,
) -> Result<Document, Problem> {
    let options = LoadOptions {
        filter: Some(budget_filter),
        max_decompressed_size: Some(limits.max_stream_bytes),
        force_reconstruct,
        ..LoadOptions::default()
    };
    BUDGET.with(|b| {
        *b.borrow_mut() = Some(Budget {
            objects: 0,
            object_streams: 0,
            max_objects: limits.max_objects,
            max_object_streams: limits.max_object_streams,
            deadline,
            exceeded: None,
        })
    });
    let loaded = Document::load_mem_with_options(bytes, options);
    let exceeded = BUDGET.with(|b| b.borrow_mut().take().and_then(|b| b.exceeded));
    if let Some(what) = exceeded {
        return Err(match what {
            Exceeded::Objects => Problem::new(
                "pdf_too_complex",
                format!("the PDF has more than {} objects", limits.max_objects),
            ),
            Exceeded::ObjectStreams => Problem::new(
                "pdf_too_complex",
                format!(
                    "the PDF has more than {} object streams",
                    limits.max_object_streams
                ),
            ),
            Exceeded::Time => Problem::new(
                "pdf_time_budget",
                format!(
                    "the PDF could not be loaded within the time budget of {} ms",
                    limits.time_budget.as_millis()
                ),
            ),
        });
    }
    loaded.map_err(|e| {
        let code = match e {
            lopdf::Error::Decryption(_)
            | lopdf::Error::InvalidPassword
            | lopdf::Error::UnsupportedSecurityHandler(_) => "pdf_encrypted",
            lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
                "pdf_too_complex"
            }
            _ => "pdf_unreadable",
        };
        Problem::new(code, format!("the PDF could not be read: {}", describe(&e)))
    })
}

/// What went wrong, in words that quote nothing from the file (lopdf's messages can
/// carry names and strings from it).
fn describe(e: &lopdf::Error) -> &'static str {
    use lopdf::Error as E;
    match e {
        E::Decryption(_) | E::InvalidPassword | E::UnsupportedSecurityHandler(_) => {
            "it is encrypted (password-protected)"
        }
        E::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            "a compressed stream expands beyond the limit"
        }
        E::Decompress(_) => "a compressed stream is damaged",
        E::Parse(_) => "its structure is damaged (not a PDF, or cut short)",
        E::Xref(_) | E::MissingXrefEntry | E::InvalidOffset(_) => {
            "its cross-reference table is damaged"
        }
        E::ReferenceCycle(_) | E::ReferenceLimit | E::RecursionLimit => {
            "its objects refer to each other in a loop or too deeply"
        }
        E::Syntax(_) | E::InvalidInlineImage(_) => "a page's content is damaged",
        _ => "an object is missing or damaged",
    }
}

#[derive(Clone, Copy)]
enum Exceeded {
    Objects,
    ObjectStreams,
    Time,
}

struct Budget {
    objects: usize,
    object_streams: usize,
    max_objects: usize,
    max_object_streams: usize,
    deadline: Instant,
    exceeded: Option<Exceeded>,
}

thread_local! {
    // lopdf's filter is a plain `fn`, so the budget of the load under way lives
    // here (loading is single-threaded without lopdf's `rayon` feature).
    static BUDGET: RefCell<Option<Budget>> = const { RefCell::new(None) };
}

/// lopdf calls this for every object it parses (top-level objects before it decodes
/// an object stream, and each object taken out of one). `None` drops the object.
///
/// lopdf uses the returned object for members of object streams, but keeps its own
/// for top-level objects and only looks at `is_none()`: so a stream (always
/// top-level) is answered with a cheap placeholder, and anything else with a copy.
/// The text-layer tests fail if a lopdf upgrade changes this.
fn budget_filter(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let keep = BUDGET.with(|b| {
        let mut b = b.borrow_mut();
        let Some(b) = b.as_mut() else {
            return true;
        };
        if b.exceeded.is_some() {
            return false;
        }
        b.objects += 1;
        if b.objects > b.max_objects {
            b.exceeded = Some(Exceeded::Objects);
            return false;
        }
        if let Object::Stream(s) = object
            && s.dict.has_type(b"ObjStm")
        {
            b.object_streams += 1;
            if b.object_streams > b.max_object_streams {
                b.exceeded = Some(Exceeded::ObjectStreams);
                return false;
            }
        }
        if b.objects.is_multiple_of(256) && Instant::now() > b.deadline {
            b.exceeded = Some(Exceeded::Time);
            return false;
        }
        true
    });
    if !keep {
        return None;
    }
    match object {
        Object::Stream(_) => Some((id, Object::Null)),
        other => Some((id, other.clone())),
    }
}
