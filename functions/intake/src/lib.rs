//! Fax and email intake: one object from the intake bucket (a faxed PDF or TIFF with
//! the gateway's metadata, or a raw email as SES stores it) into a [`ParsedItem`]:
//! the documents to store, the text searched, who sent it and when it arrived, the
//! references found and what kind of item it is.
//!
//! Parsing is pure and synchronous: no I/O, no clock but the time budgets. The
//! bucket handler ([`ingest::handle`], on S3's ObjectCreated event) reads the
//! object and its metadata, calls [`parse_intake`], stores each document through
//! the documents port, links the item when a prior-auth reference it quotes
//! exists, and otherwise queues it with [`ParsedItem::problems`] for a clerk.
//! Nothing drops an object: a refused or unreadable one comes back with the
//! reasons and the bytes to store.
//!
//! The clerk's routes ([`handle`], `intake_clerk` only): `GET /v1/intake?status=`,
//! `GET /v1/intake/{id}` (with how long it waited), `POST /v1/intake/{id}/link`
//! and `POST /v1/intake/{id}/create` (a prior auth whose `received_at` is the
//! fax's or email's receipt time).
//!
//! Problem codes ([`Problem::code`]), for the handler and the clerk's screen:
//! - refused emails (the whole message is the one document): `empty_file`,
//!   `message_too_large`, `header_too_large`, `too_many_parts`, `too_deeply_nested`,
//!   `too_many_attachments`, `encoded_forwarded_message`, `not_an_email`;
//! - emails: `unknown_sender`, `subject_not_utf8`, `subject_malformed_encoding`,
//!   `subject_undecodable`, `attachment_encoding`, `content_type_mismatch`,
//!   `empty_attachment`, `text_truncated`;
//! - faxes: `empty_file`, `unknown_file_type`, `unknown_sender`, and from the
//!   gateway's metadata `bad_receipt_time`, `bad_sidecar` ([`FaxMetadata`]);
//! - PDFs (a fax or an attachment): `no_text_layer` (also a TIFF fax), `pdf_unreadable`,
//!   `pdf_encrypted`, `pdf_too_complex`, `pdf_no_pages`, `pdf_time_budget`,
//!   `pdf_page_unreadable`, `pdf_text_truncated`;
//! - any: `no_receipt_time`.
//!
//! **PHI.** Subjects, senders, text, file names, documents and [`Found`] values are
//! PHI. The `Debug` of every type here prints sizes and counts instead of them, and
//! [`Problem`] messages and classification cues never quote them; the handler logs
//! only those.

use bytes::Bytes;
use jiff::Timestamp;
use mso_domain::intake::{Classification, Found, classify, find_references};
use serde::{Deserialize, Serialize};

mod create;
pub mod ingest;
mod link;
pub mod mime;
pub mod pdf_text;
mod problem;
mod read;
mod sniff;
mod view;

pub use mime::{EmailLimits, MimeOutcome, parse_email};
pub use pdf_text::{PdfLimits, PdfText, extract_text};
pub use problem::Problem;
pub use sniff::FileKind;

use pdf_text::truncate_at_char;

pub use aws_lambda_events::s3::S3Event;
pub use view::{FiledRecord, IntakeView};

use std::sync::Arc;

#[cfg(feature = "lambda")]
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::{Body, Clock, Problem as ApiProblem, Request, Response, Role, route_key};
use mso_domain::policy::Policy;
use mso_store::{DocumentStore, RecordStore, WorkQueue};

/// What the handlers need, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub records: Arc<dyn RecordStore>,
    /// The intake bucket: where the fax gateway and SES drop objects (read only).
    pub intake_objects: Arc<dyn DocumentStore>,
    /// The documents bucket: where each attachment is stored as a document.
    pub documents: Arc<dyn DocumentStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub policy: Arc<Policy>,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
}

/// The AWS adapters every intake Lambda builds once per cold start, from typed
/// configuration in the environment (a missing variable stops the cold start
/// naming it).
#[cfg(feature = "lambda")]
pub fn aws_deps() -> Result<Deps, LambdaEnvError> {
    let env = LambdaEnv::read()?;
    Ok(Deps {
        records: env.records()?,
        intake_objects: env.bucket("INTAKE_BUCKET")?,
        documents: env.bucket("DOCUMENTS_BUCKET")?,
        queue: env.writer_queues(),
        policy: env.policy()?,
        clock: Arc::new(mso_api::SystemClock),
        limits: Limits::default(),
    })
}

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/intake"),
    ("GET", "/v1/intake/{id}"),
    ("POST", "/v1/intake/{id}/link"),
    ("POST", "/v1/intake/{id}/create"),
];

/// Who works the fax and email queue.
const CLERKS: &[Role] = &[Role::IntakeClerk];

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    match route_key(&req) {
        Some("GET /v1/intake") => read::list(deps, &req).await,
        Some("GET /v1/intake/{id}") => read::get(deps, &req).await,
        Some("POST /v1/intake/{id}/link") => link::post(deps, &req).await,
        Some("POST /v1/intake/{id}/create") => create::post(deps, &req).await,
        _ => ApiProblem::no_route(req.method().as_str(), req.uri().path()).into_response(),
    }
}

/// This function's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(paths(read::list, read::get, link::post, create::post))]
    struct Doc;

    Doc::openapi()
}

/// Where an intake object came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A PDF or TIFF dropped by the fax gateway.
    Fax,
    /// A raw MIME message dropped by SES.
    Email,
}

/// What the fax gateway says about a fax, from the S3 object's user metadata or a
/// sidecar JSON file beside it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FaxMetadata {
    /// The sending fax number (caller ID).
    pub from: Option<String>,
    pub received_at: Option<Timestamp>,
    /// A subject or note from the cover sheet, if the gateway gives one.
    pub subject: Option<String>,
    pub pages: Option<u32>,
}

impl std::fmt::Debug for FaxMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaxMetadata")
            .field("from", &self.from.as_ref().map(|_| "<redacted>"))
            .field("received_at", &self.received_at)
            .field("subject", &self.subject.as_ref().map(|_| "<redacted>"))
            .field("pages", &self.pages)
            .finish()
    }
}

/// Metadata names the gateway may use, after lower-casing, dropping `x-amz-meta-`
/// and writing `_` as `-`.
const FROM_KEYS: &[&str] = &[
    "from",
    "fax-from",
    "sender",
    "caller-id",
    "callerid",
    "ani",
    "remote-id",
];
const RECEIVED_KEYS: &[&str] = &[
    "received-at",
    "received",
    "receive-time",
    "received-time",
    "timestamp",
    "date",
];
const SUBJECT_KEYS: &[&str] = &["subject", "fax-subject", "title", "note"];
const PAGES_KEYS: &[&str] = &["pages", "page-count"];

impl FaxMetadata {
    /// From key/value pairs (S3 user metadata). The receive time is RFC 3339
    /// (`2026-03-02T09:15:00Z`, `2026-03-02T09:15:00-08:00`) or seconds since 1970.
    /// Unknown keys are ignored; a value that does not read is a problem.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (FaxMetadata, Vec<Problem>) {
        let mut meta = FaxMetadata::default();
        let mut problems = Vec::new();
        for (key, value) in pairs {
            let key = key.trim().to_ascii_lowercase().replace('_', "-");
            let key = key.strip_prefix("x-amz-meta-").unwrap_or(&key);
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if FROM_KEYS.contains(&key) {
                meta.from.get_or_insert_with(|| value.to_owned());
            } else if RECEIVED_KEYS.contains(&key) {
                match parse_time(value) {
                    Some(t) => {
                        meta.received_at.get_or_insert(t);
                    }
                    None => problems.push(Problem::new(
                        "bad_receipt_time",
                        "the fax gateway's receive time is not a date and time (RFC 3339, or seconds since 1970)",
                    )),
                }
            } else if SUBJECT_KEYS.contains(&key) {
                meta.subject.get_or_insert_with(|| value.to_owned());
            } else if PAGES_KEYS.contains(&key) {
                meta.pages = meta.pages.or(value.parse().ok());
            }
        }
        (meta, problems)
    }

    /// From a sidecar JSON file: one object with the same names as
    /// [`FaxMetadata::from_pairs`] (`{"from": "+13237983031", "received_at": "…"}`).
    pub fn from_sidecar_json(bytes: &[u8]) -> (FaxMetadata, Vec<Problem>) {
        let bad = || {
            (
                FaxMetadata::default(),
                vec![Problem::new(
                    "bad_sidecar",
                    "the fax gateway's sidecar file is not a JSON object",
                )],
            )
        };
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(bytes) else {
            return bad();
        };
        let pairs: Vec<(String, String)> = map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                serde_json::Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect();
        FaxMetadata::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

fn parse_time(s: &str) -> Option<Timestamp> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Timestamp::from_second(s.parse().ok()?).ok();
    }
    s.parse::<Timestamp>().ok()
}

/// One object from the intake bucket, as the handler read it.
#[derive(Clone, Debug)]
pub struct IntakeObject {
    pub source: Source,
    pub bytes: Bytes,
    /// The file name from the object key, for a fax's document.
    pub file_name: Option<String>,
    /// For a fax: what the gateway said. Ignored for an email.
    pub fax: FaxMetadata,
    /// The S3 event time: the receipt time when nothing better is known.
    pub event_time: Option<Timestamp>,
}

/// All limits for one object.
#[derive(Clone, Debug)]
pub struct Limits {
    pub email: EmailLimits,
    pub pdf: PdfLimits,
    /// Text searched and kept on the item, all parts together.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            email: EmailLimits::default(),
            pdf: PdfLimits::default(),
            max_text_bytes: 200 * 1024,
        }
    }
}

/// Where the receipt time came from, best first: the legal clock starts at receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptSource {
    /// The fax gateway's receive time.
    FaxGateway,
    /// The top-most Received header: the time SES took the message.
    ReceivedHeader,
    /// The email's Date header (the sender's clock).
    DateHeader,
    /// The S3 event: when the object landed in the bucket.
    S3Event,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub at: Timestamp,
    pub source: ReceiptSource,
}

/// A file to store as a document.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentPart {
    pub file_name: Option<String>,
    /// The type to store it under: the declared type when the bytes match it,
    /// else the type the bytes show.
    pub content_type: String,
    /// As the email declared it (emails only).
    pub declared_content_type: Option<String>,
    pub kind: FileKind,
    /// An image shown inside an email's body (a logo, a signature) rather than attached.
    pub inline: bool,
    /// PDFs: the page count, and whether it had text (on a page read, or in its
    /// filled-in form).
    pub pages: Option<u32>,
    pub has_text_layer: Option<bool>,
    pub bytes: Bytes,
}

impl std::fmt::Debug for DocumentPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentPart")
            .field("file_name", &self.file_name.as_ref().map(|_| "<redacted>"))
            .field("content_type", &self.content_type)
            .field("declared_content_type", &self.declared_content_type)
            .field("kind", &self.kind)
            .field("inline", &self.inline)
            .field("pages", &self.pages)
            .field("has_text_layer", &self.has_text_layer)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// An intake object, parsed.
#[derive(Clone)]
pub struct ParsedItem {
    pub source: Source,
    /// The From address, or the sending fax number.
    pub sender: Option<String>,
    /// The email's subject, or the fax cover sheet's subject if the gateway gives one.
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// `None` only when there is no metadata, no header and no event time.
    pub received: Option<Receipt>,
    /// What to store. A refused email is one document, the whole message.
    pub documents: Vec<DocumentPart>,
    /// The text searched: the email's text bodies and the PDFs' text layers.
    pub text: String,
    pub found: Found,
    pub classification: Classification,
    /// Everything a clerk should know: refusals, unreadable parts, no text layer,
    /// unknown sender. Empty for a clean item.
    pub problems: Vec<Problem>,
    /// The email broke a limit and was not parsed: its only document is the whole
    /// message, and it goes to a clerk.
    pub refused: bool,
}

impl std::fmt::Debug for ParsedItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedItem")
            .field("source", &self.source)
            .field("sender", &self.sender.as_ref().map(|_| "<redacted>"))
            .field("subject", &self.subject.as_ref().map(|_| "<redacted>"))
            .field("received", &self.received)
            .field("documents", &self.documents)
            .field("text", &self.text.len())
            .field("found", &self.found)
            .field("classification", &self.classification)
            .field("problems", &self.problems)
            .field("refused", &self.refused)
            .finish()
    }
}

/// Parses one intake object. Never panics and never fails: whatever cannot be read
/// is a problem on the item, and the bytes are still there to store.
pub fn parse_intake(object: &IntakeObject, limits: &Limits) -> ParsedItem {
    match object.source {
        Source::Fax => parse_fax(object, limits),
        Source::Email => parse_mail(object, limits),
    }
}

fn parse_fax(object: &IntakeObject, limits: &Limits) -> ParsedItem {
    let mut problems = Vec::new();
    let mut documents = Vec::new();
    let mut text = String::new();
    let kind = FileKind::of(&object.bytes);
    match kind {
        FileKind::Empty => problems.push(Problem::new(
            "empty_file",
            "the fax is empty (0 bytes): nothing was received",
        )),
        FileKind::Pdf => {
            let (pages, layer) =
                read_pdf(&object.bytes, "the fax", limits, &mut text, &mut problems);
            documents.push(document(object, kind, pages, layer));
        }
        FileKind::Tiff => {
            problems.push(Problem::new(
                "no_text_layer",
                "the fax is a TIFF image: its text is not read (no OCR), so only the gateway's metadata was searched",
            ));
            documents.push(document(object, kind, None, None));
        }
        _ => {
            problems.push(Problem::new(
                "unknown_file_type",
                format!(
                    "the fax is neither a PDF nor a TIFF (its bytes look like {})",
                    kind.content_type()
                ),
            ));
            documents.push(document(object, kind, None, None));
        }
    }
    let sender = object.fax.from.clone();
    if sender.is_none() {
        problems.push(Problem::new(
            "unknown_sender",
            "the fax gateway gave no sending fax number",
        ));
    }
    let received = receipt(&[
        (object.fax.received_at, ReceiptSource::FaxGateway),
        (object.event_time, ReceiptSource::S3Event),
    ]);
    finish(
        object.source,
        sender,
        object.fax.subject.clone(),
        None,
        received,
        documents,
        text,
        problems,
        false,
        limits,
    )
}

fn document(
    object: &IntakeObject,
    kind: FileKind,
    pages: Option<u32>,
    has_text_layer: Option<bool>,
) -> DocumentPart {
    DocumentPart {
        file_name: object.file_name.clone(),
        content_type: kind.content_type().to_owned(),
        declared_content_type: None,
        kind,
        inline: false,
        pages,
        has_text_layer,
        bytes: object.bytes.clone(),
    }
}

/// Reads a PDF's text into `text` within what is left of the text budget; returns
/// the page count and whether it has a text layer (both `None` when unreadable).
fn read_pdf(
    bytes: &[u8],
    label: &str,
    limits: &Limits,
    text: &mut String,
    problems: &mut Vec<Problem>,
) -> (Option<u32>, Option<bool>) {
    let left = limits.max_text_bytes.saturating_sub(text.len());
    let pdf_limits = PdfLimits {
        max_text_bytes: left.min(limits.pdf.max_text_bytes),
        ..limits.pdf.clone()
    };
    match extract_text(bytes, &pdf_limits) {
        Ok(pdf) => {
            if !pdf.has_text_layer {
                problems.push(Problem::new(
                    "no_text_layer",
                    format!(
                        "{label} is a PDF with no text layer (a scan): its text is not read (no OCR)"
                    ),
                ));
            }
            for p in pdf.problems {
                problems.push(Problem {
                    message: format!("{label}: {}", p.message),
                    ..p
                });
            }
            if !pdf.text.is_empty() {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(&pdf.text);
            }
            (Some(pdf.pages), Some(pdf.has_text_layer))
        }
        Err(p) => {
            problems.push(Problem {
                message: format!("{label}: {}", p.message),
                ..p
            });
            (None, None)
        }
    }
}

fn receipt(candidates: &[(Option<Timestamp>, ReceiptSource)]) -> Option<Receipt> {
    candidates
        .iter()
        .find_map(|&(at, source)| at.map(|at| Receipt { at, source }))
}

fn parse_mail(object: &IntakeObject, limits: &Limits) -> ParsedItem {
    let mut problems = Vec::new();
    match parse_email(&object.bytes, &limits.email) {
        MimeOutcome::Parsed(email) => {
            problems.extend(email.problems);
            let mut text = email.text;
            if text.len() > limits.max_text_bytes {
                truncate_at_char(&mut text, limits.max_text_bytes);
                problems.push(Problem::new(
                    "text_truncated",
                    format!(
                        "the message's text is longer than {} bytes; only the first {} were searched",
                        limits.max_text_bytes, limits.max_text_bytes
                    ),
                ));
            }
            let mut documents = Vec::with_capacity(email.attachments.len());
            for (i, a) in email.attachments.into_iter().enumerate() {
                let n = i + 1;
                let kind = FileKind::of(&a.bytes);
                // The declared type is the sender's text: keep it short in messages.
                let mut shown = a.content_type.clone();
                truncate_at_char(&mut shown, 80);
                let label = format!("attachment {n} ({shown})");
                let content_type = if kind.fits(&a.content_type) {
                    a.content_type.clone()
                } else {
                    problems.push(Problem::new(
                        "content_type_mismatch",
                        format!(
                            "{label}: its bytes are not what it declares (they look like {}); stored as that",
                            kind.content_type()
                        ),
                    ));
                    kind.content_type().to_owned()
                };
                if kind == FileKind::Empty {
                    problems.push(Problem::new(
                        "empty_attachment",
                        format!("{label} is empty"),
                    ));
                }
                let (pages, layer) = if kind == FileKind::Pdf {
                    read_pdf(&a.bytes, &label, limits, &mut text, &mut problems)
                } else {
                    (None, None)
                };
                documents.push(DocumentPart {
                    file_name: a.file_name,
                    content_type,
                    declared_content_type: Some(a.content_type),
                    kind,
                    inline: a.inline,
                    pages,
                    has_text_layer: layer,
                    bytes: Bytes::from(a.bytes),
                });
            }
            let h = email.headers;
            let received = receipt(&[
                (h.received, ReceiptSource::ReceivedHeader),
                (h.date, ReceiptSource::DateHeader),
                (object.event_time, ReceiptSource::S3Event),
            ]);
            finish(
                Source::Email,
                h.from,
                h.subject,
                h.message_id,
                received,
                documents,
                text,
                problems,
                false,
                limits,
            )
        }
        MimeOutcome::Refused(refusal) => {
            problems.push(refusal.problem);
            let h = refusal.headers.unwrap_or_default();
            // The whole message is the document; an empty file has nothing to store.
            let documents = if object.bytes.is_empty() {
                Vec::new()
            } else {
                vec![DocumentPart {
                    file_name: Some("message.eml".to_owned()),
                    content_type: "message/rfc822".to_owned(),
                    declared_content_type: None,
                    kind: FileKind::of(&object.bytes),
                    inline: false,
                    pages: None,
                    has_text_layer: None,
                    bytes: object.bytes.clone(),
                }]
            };
            let received = receipt(&[
                (h.received, ReceiptSource::ReceivedHeader),
                (h.date, ReceiptSource::DateHeader),
                (object.event_time, ReceiptSource::S3Event),
            ]);
            finish(
                Source::Email,
                h.from,
                h.subject,
                h.message_id,
                received,
                documents,
                String::new(),
                problems,
                true,
                limits,
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    source: Source,
    sender: Option<String>,
    subject: Option<String>,
    message_id: Option<String>,
    received: Option<Receipt>,
    documents: Vec<DocumentPart>,
    text: String,
    mut problems: Vec<Problem>,
    refused: bool,
    limits: &Limits,
) -> ParsedItem {
    // A subject is a header line, but a hostile one could be the whole header block.
    let subject = subject.map(|mut s| {
        truncate_at_char(&mut s, 1000.min(limits.max_text_bytes));
        s
    });
    let mut found = subject.as_deref().map(find_references).unwrap_or_default();
    found.merge(find_references(&text));
    let classification = classify(subject.as_deref(), &text, &found);
    if received.is_none() {
        problems.push(Problem::new(
            "no_receipt_time",
            "no receipt time is known (no metadata, header or event time)",
        ));
    }
    ParsedItem {
        source,
        sender,
        subject,
        message_id,
        received,
        documents,
        text,
        found,
        classification,
        problems,
        refused,
    }
}
