//! Is a ZIP a Word or Excel package (Office Open XML), and is it free of macros?
//!
//! Only the central directory is read, plus `[Content_Types].xml` (a few KB,
//! inflated with a 1 MiB cap): no other entry is decompressed, so a 25 MB
//! workbook costs what its directory costs, and a zip bomb costs nothing.
//!
//! The ZIP reader is `rawzip`: no dependencies and no `unsafe`, it reads the
//! central directory of an in-memory archive without copying or allocating, and
//! handles ZIP64 and archive comments. The `zip` crate, even with default
//! features off, brings six crates (indexmap, zeroize, typed-path, ...) and
//! allocates an index of every entry; reading the directory by hand would be
//! ~150 lines of offsets to get right and fuzz ourselves. `miniz_oxide` (pure
//! Rust, one dependency, the inflater inside `flate2`) inflates the content types.
//!
//! What counts as macros: a VBA project part (`vbaProject.bin`, any folder), Word's
//! `vbaData.xml`, Excel 4.0 macro sheets (`xl/macrosheets/`), or a content type
//! that is macro-enabled, a VBA project, or a macro sheet, so a renamed part is
//! still caught through `[Content_Types].xml`.

use memchr::memmem;
use rawzip::{CompressionMethod, ZipArchive};

use super::{DocumentType, FileKind, Rejection, mismatch};

/// `[Content_Types].xml` is a few KB; anything near this is not Office's.
const MAX_CONTENT_TYPES: usize = 1024 * 1024;

/// What the central directory shows.
#[derive(Default)]
struct Directory<'a> {
    content_types: Option<rawzip::ZipFileHeaderRecord<'a>>,
    word: bool,
    excel: bool,
    powerpoint: bool,
    /// ODF's first entry, `mimetype`.
    open_document: bool,
    macros: bool,
}

impl Directory<'_> {
    /// The kind of package, by its main part. (One with the main parts of two
    /// kinds is not something Office writes; it is taken as the first.)
    fn kind(&self) -> FileKind {
        if self.content_types.is_some() && self.word {
            FileKind::Docx
        } else if self.content_types.is_some() && self.excel {
            FileKind::Xlsx
        } else if self.content_types.is_some() && self.powerpoint {
            FileKind::Pptx
        } else if self.open_document {
            FileKind::OpenDocument
        } else {
            FileKind::Zip
        }
    }
}

/// Reads every central directory record; `None` when the directory is damaged.
fn read_directory<'a>(archive: &'a rawzip::ZipSliceArchive<&'a [u8]>) -> Option<Directory<'a>> {
    let mut dir = Directory::default();
    let mut entries = archive.entries();
    while let Some(entry) = entries.next_entry().ok()? {
        // OPC part names are case-insensitive.
        let name = entry.file_path().as_bytes();
        let is = |part: &[u8]| name.eq_ignore_ascii_case(part);
        let ends_with = |suffix: &[u8]| {
            name.len() >= suffix.len()
                && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        };
        let starts_with = |prefix: &[u8]| {
            name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
        };
        if is(b"[Content_Types].xml") {
            dir.content_types = Some(entry);
        } else if is(b"word/document.xml") {
            dir.word = true;
        } else if is(b"xl/workbook.xml") {
            dir.excel = true;
        } else if is(b"ppt/presentation.xml") {
            dir.powerpoint = true;
        } else if is(b"mimetype") {
            dir.open_document = true;
        }
        if ends_with(b"vbaProject.bin")
            || is(b"word/vbaData.xml")
            || starts_with(b"xl/macrosheets/")
        {
            dir.macros = true;
        }
    }
    Some(dir)
}

/// What a ZIP archive holds, by its directory alone (for messages).
pub(super) fn zip_kind(bytes: &[u8]) -> FileKind {
    ZipArchive::from_slice(bytes)
        .ok()
        .and_then(|archive| read_directory(&archive).map(|dir| dir.kind()))
        .unwrap_or(FileKind::Zip)
}

pub(super) fn verify(declared: DocumentType, bytes: &[u8]) -> Result<(), Rejection> {
    if !bytes.starts_with(b"PK\x03\x04") {
        if bytes.starts_with(b"PK\x05\x06") {
            return Err(not_ooxml(declared, "it is an empty ZIP archive"));
        }
        return Err(mismatch(declared, bytes));
    }
    let damaged = Rejection::Corrupt {
        declared,
        detail: "the ZIP archive is truncated or damaged (its directory cannot be read)",
    };
    let archive = ZipArchive::from_slice(bytes).map_err(|_| damaged.clone())?;
    let dir = read_directory(&archive).ok_or_else(|| damaged.clone())?;

    match dir.kind() {
        kind @ (FileKind::Docx | FileKind::Xlsx | FileKind::Pptx) => {
            if kind.document_type() != Some(declared) {
                return Err(Rejection::TypeMismatch {
                    declared,
                    found: Some(kind),
                });
            }
        }
        FileKind::OpenDocument => {
            return Err(not_ooxml(
                declared,
                "it is an OpenDocument file (ODT, ODS); save it in Office format",
            ));
        }
        _ if dir.content_types.is_none() => {
            return Err(not_ooxml(
                declared,
                "it is a ZIP archive without the [Content_Types].xml of an Office document",
            ));
        }
        _ => {
            return Err(not_ooxml(
                declared,
                match declared {
                    DocumentType::Xlsx => "the Office package has no workbook (xl/workbook.xml)",
                    _ => "the Office package has no document body (word/document.xml)",
                },
            ));
        }
    }
    if dir.macros {
        return Err(Rejection::MacrosPresent { declared });
    }
    let Some(record) = dir.content_types else {
        return Err(not_ooxml(
            declared,
            "the package has no [Content_Types].xml",
        ));
    };
    let types = read_content_types(&archive, &record).ok_or(Rejection::Corrupt {
        declared,
        detail: "its [Content_Types].xml cannot be read",
    })?;
    let has = |needle: &[u8]| memmem::find(&types, needle).is_some();
    if has(b"macroenabled")
        || has(b"application/vnd.ms-office.vbaproject")
        || has(b"macrosheet+xml")
    {
        return Err(Rejection::MacrosPresent { declared });
    }
    let main_declared = match declared {
        DocumentType::Xlsx => {
            has(b"spreadsheetml.sheet.main+xml") || has(b"spreadsheetml.template.main+xml")
        }
        _ => {
            has(b"wordprocessingml.document.main+xml") || has(b"wordprocessingml.template.main+xml")
        }
    };
    if !main_declared {
        return Err(not_ooxml(
            declared,
            match declared {
                DocumentType::Xlsx => "its [Content_Types].xml does not declare a workbook",
                _ => "its [Content_Types].xml does not declare a Word document",
            },
        ));
    }
    Ok(())
}

fn not_ooxml(declared: DocumentType, detail: &'static str) -> Rejection {
    Rejection::NotOoxml { declared, detail }
}

/// `[Content_Types].xml`, inflated, CRC-checked and lower-cased (content types are
/// case-insensitive); `None` when it is damaged, encrypted or too large.
fn read_content_types(
    archive: &rawzip::ZipSliceArchive<&[u8]>,
    record: &rawzip::ZipFileHeaderRecord<'_>,
) -> Option<Vec<u8>> {
    if record.flags().is_encrypted() || record.uncompressed_size_hint() > MAX_CONTENT_TYPES as u64 {
        return None;
    }
    let entry = archive.get_entry(record.wayfinder()).ok()?;
    let mut types = match record.compression_method() {
        CompressionMethod::STORE => entry.data().to_vec(),
        CompressionMethod::DEFLATE => {
            miniz_oxide::inflate::decompress_to_vec_with_limit(entry.data(), MAX_CONTENT_TYPES)
                .ok()?
        }
        _ => return None,
    };
    let claimed = entry.claim_verifier();
    if types.len() as u64 != claimed.uncompressed_size || rawzip::crc32(&types) != claimed.crc {
        return None;
    }
    types.make_ascii_lowercase();
    Some(types)
}
