//! Document verification on real files of each type (tests/fixtures/documents,
//! written by its make.py), and on each of them declared as what it is not.

use mso_domain::document::{DocumentType, FileKind, Rejection, Verified, sniff, verify};

const MAX: u64 = 25 * 1024 * 1024;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check(declared: DocumentType, name: &str) -> Result<Verified, Rejection> {
    let bytes = fixture(name);
    verify(declared, bytes.len() as u64, MAX, &bytes)
}

/// Each accepted fixture and the type it is.
const GOOD: [(&str, DocumentType); 9] = [
    ("letter.pdf", DocumentType::Pdf),
    ("letter-xref-stream.pdf", DocumentType::Pdf),
    ("scan.tiff", DocumentType::Tiff),
    ("gradient-bigendian.tiff", DocumentType::Tiff),
    ("photo.jpg", DocumentType::Jpeg),
    ("chart.png", DocumentType::Png),
    ("letter.docx", DocumentType::Docx),
    ("claims.xlsx", DocumentType::Xlsx),
    ("notes.txt", DocumentType::Text),
];

#[test]
fn each_real_file_is_accepted_as_its_type() {
    for (name, t) in GOOD {
        let size = fixture(name).len() as u64;
        assert_eq!(
            check(t, name),
            Ok(Verified {
                document_type: t,
                size
            }),
            "{name}"
        );
    }
}

#[test]
fn each_real_file_is_rejected_as_any_other_type() {
    for (name, actual) in GOOD {
        for declared in DocumentType::ALL {
            if declared == actual {
                continue;
            }
            let rejection = check(declared, name).expect_err(name);
            // Text has no signature to name; every other file is named for what it is.
            let expected_found = match actual {
                DocumentType::Text => None,
                DocumentType::Pdf => Some(FileKind::Pdf),
                DocumentType::Tiff => Some(FileKind::Tiff),
                DocumentType::Jpeg => Some(FileKind::Jpeg),
                DocumentType::Png => Some(FileKind::Png),
                DocumentType::Docx => Some(FileKind::Docx),
                DocumentType::Xlsx => Some(FileKind::Xlsx),
            };
            if declared == DocumentType::Text {
                // Binary files declared as text: a signature, or else not text.
                assert!(
                    matches!(rejection.code(), "type_mismatch" | "not_text"),
                    "{name} as {declared}: {rejection:?}"
                );
                continue;
            }
            assert_eq!(
                rejection,
                Rejection::TypeMismatch {
                    declared,
                    found: expected_found
                },
                "{name} as {declared}"
            );
        }
    }
}

#[test]
fn the_wrong_type_cases_from_the_issue() {
    let cases = [
        (
            DocumentType::Png,
            "letter.pdf",
            "type_mismatch",
            "declared as a PNG image but the file is a PDF",
        ),
        (
            DocumentType::Pdf,
            "archive.zip",
            "type_mismatch",
            "declared as a PDF but the file is a ZIP archive",
        ),
        (
            DocumentType::Pdf,
            "letter.docx",
            "type_mismatch",
            "declared as a PDF but the file is a Word document (DOCX)",
        ),
        (
            DocumentType::Xlsx,
            "letter.docx",
            "type_mismatch",
            "declared as an Excel workbook (XLSX) but the file is a Word document (DOCX)",
        ),
        (
            DocumentType::Docx,
            "claims.xlsx",
            "type_mismatch",
            "declared as a Word document (DOCX) but the file is an Excel workbook (XLSX)",
        ),
        (
            DocumentType::Jpeg,
            "scan.tiff",
            "type_mismatch",
            "declared as a JPEG image but the file is a TIFF image",
        ),
        (
            DocumentType::Docx,
            "macro.docx",
            "macros_present",
            "the file is a Word document with macros; save it as a macro-free .docx and upload that",
        ),
        (
            DocumentType::Pdf,
            "encrypted.pdf",
            "encrypted_pdf",
            "the PDF is password-protected (encrypted); upload a copy without a password so staff can open it",
        ),
        (
            DocumentType::Pdf,
            "encrypted-xref-stream.pdf",
            "encrypted_pdf",
            "",
        ),
        (
            DocumentType::Docx,
            "archive.zip",
            "not_ooxml",
            "declared as a Word document (DOCX) but the file is not one: it is a ZIP archive without the [Content_Types].xml of an Office document",
        ),
        (
            DocumentType::Docx,
            "truncated.docx",
            "corrupt",
            "the file starts like a Word document (DOCX) but is damaged: the ZIP archive is truncated or damaged (its directory cannot be read)",
        ),
        (
            DocumentType::Text,
            "letter.pdf",
            "type_mismatch",
            "declared as a plain text file but the file is a PDF",
        ),
        (
            DocumentType::Text,
            "archive.zip",
            "type_mismatch",
            "declared as a plain text file but the file is a ZIP archive",
        ),
    ];
    for (declared, name, code, message) in cases {
        let rejection = check(declared, name).expect_err(name);
        assert_eq!(rejection.code(), code, "{name} as {declared}: {rejection}");
        if !message.is_empty() {
            assert_eq!(rejection.message(), message, "{name} as {declared}");
        }
    }
}

#[test]
fn the_size_cases_from_the_issue() {
    let pdf = fixture("letter.pdf");
    let size = pdf.len() as u64;
    assert_eq!(
        verify(DocumentType::Pdf, 0, MAX, &[]),
        Err(Rejection::Empty)
    );
    assert_eq!(
        verify(DocumentType::Pdf, size, 1024, &pdf)
            .unwrap_err()
            .code(),
        "too_large"
    );
    assert_eq!(
        verify(DocumentType::Pdf, size + 1, MAX, &pdf),
        Err(Rejection::SizeMismatch {
            declared: size + 1,
            actual: size
        })
    );
    // Cut short by the upload: the declared size no longer matches.
    assert_eq!(
        verify(DocumentType::Pdf, size, MAX, &pdf[..pdf.len() - 100])
            .unwrap_err()
            .code(),
        "size_mismatch"
    );
}

#[test]
fn text_with_nul_bytes_is_not_text() {
    let mut text = fixture("notes.txt");
    text.insert(10, 0);
    assert_eq!(
        verify(DocumentType::Text, text.len() as u64, MAX, &text)
            .unwrap_err()
            .code(),
        "not_text"
    );
}

#[test]
fn sniff_names_each_fixture() {
    for (name, kind) in [
        ("letter.pdf", Some(FileKind::Pdf)),
        ("encrypted.pdf", Some(FileKind::Pdf)),
        ("scan.tiff", Some(FileKind::Tiff)),
        ("gradient-bigendian.tiff", Some(FileKind::Tiff)),
        ("photo.jpg", Some(FileKind::Jpeg)),
        ("chart.png", Some(FileKind::Png)),
        ("letter.docx", Some(FileKind::Docx)),
        ("macro.docx", Some(FileKind::Docx)),
        ("claims.xlsx", Some(FileKind::Xlsx)),
        ("archive.zip", Some(FileKind::Zip)),
        ("truncated.docx", Some(FileKind::Zip)),
        ("notes.txt", None),
    ] {
        assert_eq!(sniff(&fixture(name)), kind, "{name}");
    }
}
