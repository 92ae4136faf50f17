//! Clinical documents: the seven types providers may upload, and the rule that
//! decides whether an uploaded object's bytes are what was declared.
//!
//! A provider declares a content type and a size, uploads through a presigned PUT,
//! and the S3 event handler calls [`verify`] on the object's bytes: the document
//! becomes `available` on `Ok`, or `rejected` with [`Rejection::code`] and
//! [`Rejection::message`]. The same checks serve fax and e-mail intake, where
//! [`sniff`] names what an attachment really is.
//!
//! Verification reads as little as it can: signatures at the start, one
//! `memmem` pass over a PDF for `/Encrypt`, and only the central directory of a
//! ZIP plus its small `[Content_Types].xml`. A 25 MB PDF takes a few milliseconds
//! (`cargo bench -p mso-domain --bench verify`, docs/performance.md). No input
//! panics (fuzzed: tests/fuzz `document_verify`).
//!
//! Messages name the rule that failed and the sizes involved, never the
//! document's content, so they are safe to log and to show.

pub mod messages;
mod ooxml;
mod pdf;

use std::fmt;

use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A type of document providers may upload (the policy's `attachments.content_types`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum DocumentType {
    Pdf,
    Tiff,
    Jpeg,
    Png,
    /// Word, Office Open XML (`.docx`), without macros.
    Docx,
    /// Excel, Office Open XML (`.xlsx`), without macros.
    Xlsx,
    /// Plain text, UTF-8.
    Text,
}

impl DocumentType {
    pub const ALL: [DocumentType; 7] = [
        DocumentType::Pdf,
        DocumentType::Tiff,
        DocumentType::Jpeg,
        DocumentType::Png,
        DocumentType::Docx,
        DocumentType::Xlsx,
        DocumentType::Text,
    ];

    /// Reads a declared content type: the MIME type, in any case. Only `text/plain`
    /// takes parameters, and its `charset`, if given, must be UTF-8 (or US-ASCII,
    /// a subset), since that is what verification accepts.
    pub fn parse(content_type: &str) -> Result<DocumentType, Invalid> {
        let (essence, params) = content_type
            .split_once(';')
            .map_or((content_type, None), |(e, p)| (e, Some(p)));
        let essence = essence.trim();
        let found = DocumentType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(essence))
            .ok_or(Invalid::new(
                "unsupported_content_type",
                "must be one of application/pdf, image/tiff, image/jpeg, image/png, \
                 application/vnd.openxmlformats-officedocument.wordprocessingml.document (DOCX), \
                 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (XLSX), text/plain",
            ))?;
        match (found, params) {
            (_, None) => Ok(found),
            (_, Some(params)) if params.trim().is_empty() => Ok(found),
            (DocumentType::Text, Some(params)) => {
                for param in params.split(';') {
                    let (name, value) = param.split_once('=').unwrap_or((param, ""));
                    if !name.trim().eq_ignore_ascii_case("charset") {
                        continue;
                    }
                    let value = value.trim().trim_matches('"');
                    if !["utf-8", "utf8", "us-ascii"]
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(value))
                    {
                        return Err(Invalid::new(
                            "unsupported_charset",
                            "text/plain must be UTF-8 (charset=utf-8)",
                        ));
                    }
                }
                Ok(found)
            }
            (_, Some(_)) => Err(Invalid::new(
                "unsupported_content_type",
                "takes no parameters (only text/plain may have a charset)",
            )),
        }
    }

    /// The canonical MIME type.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::Tiff => "image/tiff",
            DocumentType::Jpeg => "image/jpeg",
            DocumentType::Png => "image/png",
            DocumentType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            DocumentType::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            DocumentType::Text => "text/plain",
        }
    }

    /// The file extension downloads get, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            DocumentType::Pdf => "pdf",
            DocumentType::Tiff => "tif",
            DocumentType::Jpeg => "jpg",
            DocumentType::Png => "png",
            DocumentType::Docx => "docx",
            DocumentType::Xlsx => "xlsx",
            DocumentType::Text => "txt",
        }
    }

    /// What a provider calls it, with its article ("a PDF", "a Word document (DOCX)").
    pub fn label(self) -> &'static str {
        match self {
            DocumentType::Pdf => "a PDF",
            DocumentType::Tiff => "a TIFF image",
            DocumentType::Jpeg => "a JPEG image",
            DocumentType::Png => "a PNG image",
            DocumentType::Docx => "a Word document (DOCX)",
            DocumentType::Xlsx => "an Excel workbook (XLSX)",
            DocumentType::Text => "a plain text file",
        }
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for DocumentType {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        DocumentType::parse(&s)
    }
}

impl From<DocumentType> for &'static str {
    fn from(t: DocumentType) -> Self {
        t.as_str()
    }
}

/// What a file's bytes show it to be, as far as its signature (and, for a ZIP, its
/// central directory) tells. Used to say what a wrong file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    Pdf,
    Tiff,
    Jpeg,
    Png,
    Docx,
    Xlsx,
    Pptx,
    /// OpenDocument (LibreOffice: ODT, ODS, ...).
    OpenDocument,
    /// A ZIP archive that is none of the above.
    Zip,
    /// An OLE compound file: a legacy `.doc`/`.xls`, or any password-protected
    /// Office document (Office encrypts OOXML into this container).
    OleCompound,
    Gif,
    Bmp,
    WebP,
    /// HEIC/HEIF/AVIF, the format of iPhone photos.
    Heif,
    Dicom,
    Rtf,
    Gzip,
    SevenZip,
    Rar,
    /// A Windows (PE) or Linux (ELF) program.
    Executable,
}

impl FileKind {
    /// "a ZIP archive", for messages.
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Pdf => "a PDF",
            FileKind::Tiff => "a TIFF image",
            FileKind::Jpeg => "a JPEG image",
            FileKind::Png => "a PNG image",
            FileKind::Docx => "a Word document (DOCX)",
            FileKind::Xlsx => "an Excel workbook (XLSX)",
            FileKind::Pptx => "a PowerPoint presentation (PPTX)",
            FileKind::OpenDocument => "an OpenDocument file (ODT, ODS)",
            FileKind::Zip => "a ZIP archive",
            FileKind::OleCompound => {
                "a legacy Office file (DOC, XLS) or a password-protected Office document"
            }
            FileKind::Gif => "a GIF image",
            FileKind::Bmp => "a BMP image",
            FileKind::WebP => "a WebP image",
            FileKind::Heif => "a HEIC/HEIF image (the iPhone photo format)",
            FileKind::Dicom => "a DICOM image",
            FileKind::Rtf => "an RTF document",
            FileKind::Gzip => "a gzip archive",
            FileKind::SevenZip => "a 7-Zip archive",
            FileKind::Rar => "a RAR archive",
            FileKind::Executable => "a program (executable)",
        }
    }

    /// The accepted type this kind would be uploaded as, if any.
    pub fn document_type(self) -> Option<DocumentType> {
        match self {
            FileKind::Pdf => Some(DocumentType::Pdf),
            FileKind::Tiff => Some(DocumentType::Tiff),
            FileKind::Jpeg => Some(DocumentType::Jpeg),
            FileKind::Png => Some(DocumentType::Png),
            FileKind::Docx => Some(DocumentType::Docx),
            FileKind::Xlsx => Some(DocumentType::Xlsx),
            _ => None,
        }
    }
}

/// A document whose bytes are what was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub document_type: DocumentType,
    pub size: u64,
}

/// Why an uploaded document was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    Empty,
    TooLarge {
        size: u64,
        max_bytes: u64,
    },
    /// The object's length is not the size declared when the upload was requested.
    SizeMismatch {
        declared: u64,
        actual: u64,
    },
    /// The bytes are not the declared type; `found` says what they are when known.
    TypeMismatch {
        declared: DocumentType,
        found: Option<FileKind>,
    },
    EncryptedPdf,
    /// Declared DOCX or XLSX, and the file is a ZIP but not that Office package.
    NotOoxml {
        declared: DocumentType,
        detail: &'static str,
    },
    /// A DOCX or XLSX with a VBA project or macro sheets (a `.docm`/`.xlsm` renamed).
    MacrosPresent {
        declared: DocumentType,
    },
    /// The right signature, but the structure behind it is broken (a truncated ZIP).
    Corrupt {
        declared: DocumentType,
        detail: &'static str,
    },
    /// Declared text, and the bytes are not UTF-8 text.
    NotText {
        detail: &'static str,
    },
}

impl Rejection {
    /// Every code [`Rejection::code`] returns, for API documentation.
    pub const CODES: [&'static str; 9] = [
        "empty",
        "too_large",
        "size_mismatch",
        "type_mismatch",
        "encrypted_pdf",
        "not_ooxml",
        "macros_present",
        "corrupt",
        "not_text",
    ];

    /// A stable snake_case code for clients and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::SizeMismatch { .. } => "size_mismatch",
            Rejection::TypeMismatch { .. } => "type_mismatch",
            Rejection::EncryptedPdf => "encrypted_pdf",
            Rejection::NotOoxml { .. } => "not_ooxml",
            Rejection::MacrosPresent { .. } => "macros_present",
            Rejection::Corrupt { .. } => "corrupt",
            Rejection::NotText { .. } => "not_text",
        }
    }

    /// What a provider reads: the rule that failed and what to do, in plain English.
    pub fn message(&self) -> String {
        match *self {
            Rejection::Empty => "the file is empty (0 bytes)".to_owned(),
            Rejection::TooLarge { size, max_bytes } => {
                let (shown, limit) = (human_size(size), human_size(max_bytes));
                if shown == limit {
                    // Rounding would say "25 MB, over the limit of 25 MB".
                    format!(
                        "the file is {} bytes, over the limit of {} bytes ({limit})",
                        group(size),
                        group(max_bytes)
                    )
                } else {
                    format!("the file is {shown}, over the limit of {limit}")
                }
            }
            Rejection::SizeMismatch { declared, actual } => format!(
                "the file is {} bytes but {} bytes were declared{}",
                group(actual),
                group(declared),
                if actual < declared {
                    " (the upload may have been cut short)"
                } else {
                    ""
                }
            ),
            Rejection::TypeMismatch { declared, found } => match found {
                Some(found) => format!(
                    "declared as {} but the file is {}",
                    declared.label(),
                    found.describe()
                ),
                None => format!(
                    "declared as {} but the file is not one (nor another type we recognise)",
                    declared.label()
                ),
            },
            Rejection::EncryptedPdf => "the PDF is password-protected (encrypted); \
                 upload a copy without a password so staff can open it"
                .to_owned(),
            Rejection::NotOoxml { declared, detail } => {
                format!(
                    "declared as {} but the file is not one: {detail}",
                    declared.label()
                )
            }
            Rejection::MacrosPresent { declared } => format!(
                "the file is {} with macros; save it as a macro-free .{} and upload that",
                if declared == DocumentType::Xlsx {
                    "an Excel workbook"
                } else {
                    "a Word document"
                },
                declared.extension()
            ),
            Rejection::Corrupt { declared, detail } => format!(
                "the file starts like {} but is damaged: {detail}",
                declared.label()
            ),
            Rejection::NotText { detail } => {
                format!("declared as a plain text file but {detail}")
            }
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Rejection {}

/// Verifies an uploaded document: not empty, within `max_bytes` (the policy's
/// `attachments.max_bytes`), exactly `declared_size` bytes, and of the declared
/// type by its content:
///
/// - PDF: `%PDF-` within the first 1024 bytes (readers allow a short prefix, but a
///   file that starts with another known signature is that file), and no
///   `/Encrypt` entry in a trailer or cross-reference stream dictionary.
/// - TIFF (`II*\0` or `MM\0*`, first directory inside the file), JPEG (`FF D8 FF`),
///   PNG (signature, then the `IHDR` chunk).
/// - DOCX, XLSX: a ZIP whose central directory has `[Content_Types].xml` and the
///   main part (`word/document.xml`, `xl/workbook.xml`), whose content types declare
///   that main part, and with no VBA project or macro sheet (`vbaProject.bin`, a
///   `macroEnabled` or macro-sheet content type).
/// - Text: UTF-8 (an optional BOM; US-ASCII is a subset) without NUL bytes, and
///   not starting with another format's signature (RTF included).
pub fn verify(
    declared: DocumentType,
    declared_size: u64,
    max_bytes: u64,
    bytes: &[u8],
) -> Result<Verified, Rejection> {
    let size = bytes.len() as u64;
    if size == 0 {
        return Err(Rejection::Empty);
    }
    if size > max_bytes {
        return Err(Rejection::TooLarge { size, max_bytes });
    }
    if size != declared_size {
        return Err(Rejection::SizeMismatch {
            declared: declared_size,
            actual: size,
        });
    }
    match declared {
        DocumentType::Pdf => verify_pdf(bytes)?,
        DocumentType::Tiff => verify_tiff(bytes)?,
        DocumentType::Jpeg => {
            if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                return Err(mismatch(declared, bytes));
            }
        }
        DocumentType::Png => verify_png(bytes)?,
        DocumentType::Docx | DocumentType::Xlsx => ooxml::verify(declared, bytes)?,
        DocumentType::Text => verify_text(bytes)?,
    }
    Ok(Verified {
        document_type: declared,
        size,
    })
}

/// What the bytes are, by their signature; `None` when no known signature matches
/// (plain text has none). A ZIP is looked into to tell DOCX, XLSX, PPTX and
/// OpenDocument from other archives. Does not verify: see [`verify`].
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    sniff_start(bytes).or_else(|| pdf_header_near_start(bytes).then_some(FileKind::Pdf))
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// Signatures at offset 0 (plus DICOM's at 128).
fn sniff_start(b: &[u8]) -> Option<FileKind> {
    let at = |offset: usize, sig: &[u8]| b.get(offset..).is_some_and(|s| s.starts_with(sig));
    let kind = if at(0, b"%PDF-") {
        FileKind::Pdf
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        FileKind::Tiff
    } else if at(0, &[0xFF, 0xD8, 0xFF]) {
        FileKind::Jpeg
    } else if at(0, &PNG_SIGNATURE) {
        FileKind::Png
    } else if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") {
        ooxml::zip_kind(b)
    } else if at(0, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        FileKind::OleCompound
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        FileKind::Gif
    } else if at(0, b"BM") && le_u32(b, 2).is_some_and(|n| n as usize == b.len()) {
        // Two letters alone would catch text starting "BM"; the size field must agree.
        FileKind::Bmp
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        FileKind::WebP
    } else if at(4, b"ftyp")
        && [
            &b"heic"[..],
            b"heix",
            b"heim",
            b"heis",
            b"hevc",
            b"hevx",
            b"mif1",
            b"msf1",
            b"avif",
        ]
        .iter()
        .any(|brand| at(8, brand))
    {
        FileKind::Heif
    } else if at(128, b"DICM") {
        FileKind::Dicom
    } else if at(0, b"{\\rtf") {
        FileKind::Rtf
    } else if at(0, &[0x1F, 0x8B]) {
        FileKind::Gzip
    } else if at(0, b"7z\xBC\xAF\x27\x1C") {
        FileKind::SevenZip
    } else if at(0, b"Rar!\x1A\x07") {
        FileKind::Rar
    } else if at(0, b"\x7FELF")
        || (at(0, b"MZ") && le_u32(b, 0x3C).is_some_and(|pe| at(pe as usize, b"PE\0\0")))
    {
        FileKind::Executable
    } else {
        return None;
    };
    Some(kind)
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// PDF readers accept the header anywhere in the first 1024 bytes.
fn pdf_header_near_start(bytes: &[u8]) -> bool {
    memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some()
}

/// The rejection for bytes that are not the declared type.
fn mismatch(declared: DocumentType, bytes: &[u8]) -> Rejection {
    Rejection::TypeMismatch {
        declared,
        found: sniff(bytes),
    }
}

fn verify_pdf(bytes: &[u8]) -> Result<(), Rejection> {
    if !bytes.starts_with(b"%PDF-") {
        // A ZIP holding a stored PDF has `%PDF-` a few bytes in: it is still a ZIP.
        if sniff_start(bytes).is_some() || !pdf_header_near_start(bytes) {
            return Err(mismatch(DocumentType::Pdf, bytes));
        }
    }
    if pdf::is_encrypted(bytes) {
        return Err(Rejection::EncryptedPdf);
    }
    Ok(())
}

fn verify_tiff(bytes: &[u8]) -> Result<(), Rejection> {
    let first_ifd = match bytes.get(..8) {
        Some([b'I', b'I', b'*', 0, o @ ..]) => u32::from_le_bytes([o[0], o[1], o[2], o[3]]),
        Some([b'M', b'M', 0, b'*', o @ ..]) => u32::from_be_bytes([o[0], o[1], o[2], o[3]]),
        _ => return Err(mismatch(DocumentType::Tiff, bytes)),
    };
    // The directory starts with its 2-byte entry count, after the 8-byte header.
    if first_ifd < 8 || u64::from(first_ifd) + 2 > bytes.len() as u64 {
        return Err(Rejection::Corrupt {
            declared: DocumentType::Tiff,
            detail: "its first image directory is outside the file",
        });
    }
    Ok(())
}

fn verify_png(bytes: &[u8]) -> Result<(), Rejection> {
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(mismatch(DocumentType::Png, bytes));
    }
    // The first chunk must be IHDR, 13 bytes long.
    if bytes.get(8..16) != Some(&[0, 0, 0, 13, b'I', b'H', b'D', b'R'][..]) {
        return Err(Rejection::Corrupt {
            declared: DocumentType::Png,
            detail: "its header chunk (IHDR) is missing",
        });
    }
    Ok(())
}

fn verify_text(bytes: &[u8]) -> Result<(), Rejection> {
    if let Some(found) = sniff_start(bytes) {
        return Err(Rejection::TypeMismatch {
            declared: DocumentType::Text,
            found: Some(found),
        });
    }
    let not_text = |detail| Err(Rejection::NotText { detail });
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return not_text("the file is UTF-16 text; save it as UTF-8 and upload that");
    }
    if memchr::memchr(0, bytes).is_some() {
        return not_text("the file contains NUL bytes, so it is binary data, not text");
    }
    if std::str::from_utf8(bytes).is_err() {
        return not_text("the file is not UTF-8 text; save it as UTF-8 and upload that");
    }
    Ok(())
}

/// "25 MB", "1.5 MB", "300 KB", "12 bytes" (binary units, as upload limits are set).
fn human_size(n: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    let (unit, name) = match n {
        n if n >= MB => (MB, "MB"),
        n if n >= KB => (KB, "KB"),
        _ => return format!("{n} bytes"),
    };
    let (whole, tenths) = (n / unit, n % unit * 10 / unit);
    if tenths == 0 {
        format!("{whole} {name}")
    } else {
        format!("{whole}.{tenths} {name}")
    }
}

/// 26214400 -> "26,214,400".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
