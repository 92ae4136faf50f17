use std::io::Write;

use proptest::prelude::*;

use super::*;

const MAX: u64 = 25 * 1024 * 1024;

fn check(declared: DocumentType, bytes: &[u8]) -> Result<Verified, Rejection> {
    verify(declared, bytes.len() as u64, MAX, bytes)
}

fn code(declared: DocumentType, bytes: &[u8]) -> &'static str {
    match check(declared, bytes) {
        Ok(_) => "accepted",
        Err(r) => r.code(),
    }
}

/// A ZIP of `(name, content, deflated)` entries.
fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut archive = rawzip::ZipArchiveWriter::new(&mut out);
    for &(name, data, deflated) in entries {
        let method = if deflated {
            rawzip::CompressionMethod::DEFLATE
        } else {
            rawzip::CompressionMethod::STORE
        };
        let (mut entry, config) = archive
            .new_file(name)
            .compression_method(method)
            .start()
            .unwrap();
        let mut writer = config.wrap(Vec::new());
        writer.write_all(data).unwrap();
        let (plain, descriptor) = writer.finish().unwrap();
        if deflated {
            entry
                .write_all(&miniz_oxide::deflate::compress_to_vec(&plain, 6))
                .unwrap();
        } else {
            entry.write_all(&plain).unwrap();
        }
        entry.finish(descriptor).unwrap();
    }
    archive.finish().unwrap();
    out
}

const WORD_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

const EXCEL_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;

fn word(types: &str, extra: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8], bool)> = vec![
        ("[Content_Types].xml", types.as_bytes(), true),
        ("_rels/.rels", b"<Relationships/>", true),
        ("word/document.xml", b"<w:document/>", true),
    ];
    entries.extend_from_slice(extra);
    zip(&entries)
}

fn excel(types: &str) -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", types.as_bytes(), true),
        ("xl/workbook.xml", b"<workbook/>", true),
    ])
}

fn minimal_pdf(trailer_extra: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
         2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
         xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n\
         trailer\n<< /Size 3 /Root 1 0 R{trailer_extra} >>\nstartxref\n110\n%%EOF\n"
    )
    .into_bytes()
}

fn tiff_le() -> Vec<u8> {
    // Header, then a directory with no entries at offset 8.
    let mut t = b"II*\0\x08\0\0\0".to_vec();
    t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    t
}

fn png() -> Vec<u8> {
    let mut p = PNG_SIGNATURE.to_vec();
    p.extend_from_slice(&[0, 0, 0, 13]);
    p.extend_from_slice(b"IHDR");
    p.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
    ]);
    p
}

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 0xFF, 0xD9,
];

#[test]
fn content_types_parse_in_any_case() {
    for t in DocumentType::ALL {
        assert_eq!(DocumentType::parse(t.as_str()), Ok(t));
        assert_eq!(DocumentType::parse(&t.as_str().to_uppercase()), Ok(t));
        assert_eq!(DocumentType::parse(&format!(" {t} ")), Ok(t));
    }
    let err = DocumentType::parse("application/zip").unwrap_err();
    assert_eq!(err.code, "unsupported_content_type");
    assert!(err.message.contains("application/pdf"), "{}", err.message);
    assert_eq!(
        DocumentType::parse("application/pdf; "),
        Ok(DocumentType::Pdf)
    );
    assert!(DocumentType::parse("").is_err());
    assert!(DocumentType::parse("image/jpg").is_err());
    assert!(DocumentType::parse("application/msword").is_err());
}

#[test]
fn only_text_takes_parameters_and_its_charset_must_be_utf8() {
    for ok in [
        "text/plain; charset=utf-8",
        "Text/Plain;charset=\"UTF-8\"",
        "text/plain; charset=us-ascii",
        "text/plain; format=flowed",
        "text/plain;",
    ] {
        assert_eq!(DocumentType::parse(ok), Ok(DocumentType::Text), "{ok}");
    }
    assert_eq!(
        DocumentType::parse("text/plain; charset=iso-8859-1")
            .unwrap_err()
            .code,
        "unsupported_charset"
    );
    assert_eq!(
        DocumentType::parse("application/pdf; charset=utf-8")
            .unwrap_err()
            .code,
        "unsupported_content_type"
    );
}

#[test]
fn serde_uses_the_mime_type() {
    let json = serde_json::to_string(&DocumentType::Docx).unwrap();
    assert_eq!(
        json,
        "\"application/vnd.openxmlformats-officedocument.wordprocessingml.document\""
    );
    for t in DocumentType::ALL {
        let back: DocumentType = serde_json::from_value(serde_json::json!(t.as_str())).unwrap();
        assert_eq!(back, t);
    }
    assert!(serde_json::from_str::<DocumentType>("\"image/gif\"").is_err());
}

#[test]
fn size_rules_come_before_content() {
    let pdf = minimal_pdf("");
    assert_eq!(check(DocumentType::Pdf, b""), Err(Rejection::Empty));
    assert_eq!(
        verify(DocumentType::Pdf, 0, MAX, b""),
        Err(Rejection::Empty)
    );
    assert_eq!(
        verify(DocumentType::Pdf, pdf.len() as u64, 100, &pdf),
        Err(Rejection::TooLarge {
            size: pdf.len() as u64,
            max_bytes: 100
        })
    );
    assert_eq!(
        verify(DocumentType::Pdf, 10_000, MAX, &pdf),
        Err(Rejection::SizeMismatch {
            declared: 10_000,
            actual: pdf.len() as u64
        })
    );
    // Too large wins over a wrong type: the limit is what the provider must fix.
    assert_eq!(
        verify(DocumentType::Png, pdf.len() as u64, 10, &pdf)
            .unwrap_err()
            .code(),
        "too_large"
    );
    assert_eq!(
        verify(DocumentType::Pdf, pdf.len() as u64, pdf.len() as u64, &pdf),
        Ok(Verified {
            document_type: DocumentType::Pdf,
            size: pdf.len() as u64
        })
    );
}

#[test]
fn pdf_header_may_follow_a_short_prefix_but_not_another_format() {
    assert_eq!(code(DocumentType::Pdf, &minimal_pdf("")), "accepted");
    let mut prefixed = b"\r\n\r\nSCANNER-HEADER 1.0\r\n".to_vec();
    prefixed.extend_from_slice(&minimal_pdf(""));
    assert_eq!(code(DocumentType::Pdf, &prefixed), "accepted");

    let mut far = vec![b' '; 1024];
    far.extend_from_slice(&minimal_pdf(""));
    assert_eq!(code(DocumentType::Pdf, &far), "type_mismatch");

    // A ZIP that stores a PDF has %PDF- in its first bytes; it is still a ZIP.
    let zipped = zip(&[("letter.pdf", &minimal_pdf(""), false)]);
    assert!(memmem::find(&zipped[..1024.min(zipped.len())], b"%PDF-").is_some());
    assert_eq!(
        check(DocumentType::Pdf, &zipped),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Pdf,
            found: Some(FileKind::Zip)
        })
    );
}

#[test]
fn an_encrypted_pdf_is_rejected() {
    let encrypted = minimal_pdf(" /Encrypt 4 0 R");
    assert_eq!(
        check(DocumentType::Pdf, &encrypted),
        Err(Rejection::EncryptedPdf)
    );
    let message = Rejection::EncryptedPdf.message();
    assert!(message.contains("password"), "{message}");
}

#[test]
fn images_are_told_apart_by_signature() {
    let tiff_be = b"MM\0*\0\0\0\x08\0\0".to_vec();
    assert_eq!(code(DocumentType::Tiff, &tiff_le()), "accepted");
    assert_eq!(code(DocumentType::Tiff, &tiff_be), "accepted");
    assert_eq!(code(DocumentType::Jpeg, JPEG), "accepted");
    assert_eq!(code(DocumentType::Png, &png()), "accepted");

    assert_eq!(
        check(DocumentType::Jpeg, &tiff_le()),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Jpeg,
            found: Some(FileKind::Tiff)
        })
    );
    assert_eq!(
        check(DocumentType::Png, JPEG),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Png,
            found: Some(FileKind::Jpeg)
        })
    );
    assert_eq!(
        check(DocumentType::Tiff, &png()),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Tiff,
            found: Some(FileKind::Png)
        })
    );
    // Close but wrong: a TIFF signature with the wrong byte order marker.
    assert_eq!(
        code(DocumentType::Tiff, b"II\0*\x08\0\0\0\0\0"),
        "type_mismatch"
    );
    assert_eq!(code(DocumentType::Jpeg, &[0xFF, 0xD8]), "type_mismatch");
}

#[test]
fn damaged_images_are_corrupt() {
    // The first directory points past the end.
    assert_eq!(code(DocumentType::Tiff, b"II*\0\xFF\0\0\0\0\0"), "corrupt");
    assert_eq!(code(DocumentType::Tiff, b"MM\0*\0\0\0\x04\0\0"), "corrupt");
    // Signature, then no IHDR.
    let mut p = PNG_SIGNATURE.to_vec();
    p.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
    assert_eq!(code(DocumentType::Png, &p), "corrupt");
    assert_eq!(code(DocumentType::Png, &PNG_SIGNATURE), "corrupt");
}

#[test]
fn office_packages_are_read_from_their_directory() {
    assert_eq!(code(DocumentType::Docx, &word(WORD_TYPES, &[])), "accepted");
    assert_eq!(code(DocumentType::Xlsx, &excel(EXCEL_TYPES)), "accepted");
    // Stored (not deflated) content types, and part names in another case.
    let stored = zip(&[
        ("[CONTENT_TYPES].XML", WORD_TYPES.as_bytes(), false),
        ("Word/Document.xml", b"<w:document/>", false),
    ]);
    assert_eq!(code(DocumentType::Docx, &stored), "accepted");
    // A template is opened like a document.
    let template = WORD_TYPES.replace("document.main+xml", "template.main+xml");
    assert_eq!(code(DocumentType::Docx, &word(&template, &[])), "accepted");
}

#[test]
fn a_docx_declared_as_xlsx_is_a_type_mismatch() {
    assert_eq!(
        check(DocumentType::Xlsx, &word(WORD_TYPES, &[])),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Xlsx,
            found: Some(FileKind::Docx)
        })
    );
    assert_eq!(
        check(DocumentType::Docx, &excel(EXCEL_TYPES)),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Docx,
            found: Some(FileKind::Xlsx)
        })
    );
    let pptx = zip(&[
        ("[Content_Types].xml", b"<Types/>", true),
        ("ppt/presentation.xml", b"<p/>", true),
    ]);
    assert_eq!(
        check(DocumentType::Docx, &pptx),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Docx,
            found: Some(FileKind::Pptx)
        })
    );
}

#[test]
fn zips_that_are_not_office_packages_are_not_ooxml() {
    let plain = zip(&[("notes.txt", b"hello", true)]);
    let odt = zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.text",
            false,
        ),
        ("content.xml", b"<office:document-content/>", true),
    ]);
    let no_types = zip(&[("word/document.xml", b"<w:document/>", true)]);
    let no_body = zip(&[("[Content_Types].xml", WORD_TYPES.as_bytes(), true)]);
    let undeclared_body = word(
        &WORD_TYPES.replace("wordprocessingml.document.main+xml", "xml"),
        &[],
    );
    let empty_zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    for (case, bytes) in [
        ("plain zip", plain),
        ("odt", odt),
        ("no content types", no_types),
        ("no body", no_body),
        ("undeclared body", undeclared_body),
        ("empty zip", empty_zip),
    ] {
        let rejection = check(DocumentType::Docx, &bytes).unwrap_err();
        assert_eq!(rejection.code(), "not_ooxml", "{case}: {rejection}");
    }
}

#[test]
fn macros_are_found_by_part_name_or_by_content_type() {
    let vba: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let macro_types = WORD_TYPES.replace(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    );
    let vba_default = WORD_TYPES.replace(
        "<Default Extension=\"xml\"",
        "<Default Extension=\"dat\" ContentType=\"application/vnd.ms-office.vbaProject\"/><Default Extension=\"xml\"",
    );
    let xlm_types = EXCEL_TYPES.replace(
        "</Types>",
        "<Override PartName=\"/xl/m/s1.xml\" ContentType=\"application/vnd.ms-excel.macrosheet+xml\"/></Types>",
    );
    for (case, declared, bytes) in [
        (
            "vbaProject.bin",
            DocumentType::Docx,
            word(WORD_TYPES, &[("word/vbaProject.bin", vba, false)]),
        ),
        (
            "vbaProject.bin elsewhere, other case",
            DocumentType::Docx,
            word(WORD_TYPES, &[("custom/VBAPROJECT.BIN", vba, false)]),
        ),
        (
            "macro-enabled main part",
            DocumentType::Docx,
            word(&macro_types, &[]),
        ),
        (
            "VBA project renamed, found by its content type",
            DocumentType::Docx,
            word(&vba_default, &[("word/code.dat", vba, false)]),
        ),
        (
            "Excel 4.0 macro sheet",
            DocumentType::Xlsx,
            excel(&xlm_types),
        ),
        (
            "Excel 4.0 macro sheet part",
            DocumentType::Xlsx,
            zip(&[
                ("[Content_Types].xml", EXCEL_TYPES.as_bytes(), true),
                ("xl/workbook.xml", b"<workbook/>", true),
                ("xl/macrosheets/sheet1.xml", b"<xm:macrosheet/>", true),
            ]),
        ),
    ] {
        assert_eq!(
            check(declared, &bytes),
            Err(Rejection::MacrosPresent { declared }),
            "{case}"
        );
    }
    let message = Rejection::MacrosPresent {
        declared: DocumentType::Docx,
    }
    .message();
    assert!(message.contains("macro-free .docx"), "{message}");
}

#[test]
fn a_damaged_package_is_corrupt() {
    let good = word(WORD_TYPES, &[]);
    // Cut short: the central directory is gone.
    assert_eq!(code(DocumentType::Docx, &good[..good.len() / 2]), "corrupt");
    // The content types entry's data damaged: inflation or its CRC fails.
    let offset = memmem::find(&good, b"[Content_Types].xml").unwrap() + 20;
    let mut damaged = good.clone();
    for b in &mut damaged[offset..offset + 40] {
        *b ^= 0x5A;
    }
    assert_eq!(code(DocumentType::Docx, &damaged), "corrupt");
    // Not a ZIP at all.
    assert_eq!(code(DocumentType::Docx, b"hello"), "type_mismatch");
    assert_eq!(
        check(
            DocumentType::Docx,
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]
        ),
        Err(Rejection::TypeMismatch {
            declared: DocumentType::Docx,
            found: Some(FileKind::OleCompound)
        })
    );
}

#[test]
fn text_must_be_utf8_without_nul_or_another_signature() {
    assert_eq!(
        code(DocumentType::Text, b"Visit note.\r\nPlan: rest.\n"),
        "accepted"
    );
    assert_eq!(
        code(DocumentType::Text, "\u{FEFF}5 \u{b5}g daily".as_bytes()),
        "accepted"
    );
    assert_eq!(
        code(DocumentType::Text, b"BMW of North America\n"),
        "accepted"
    );
    assert_eq!(
        code(DocumentType::Text, b"MZ is not a program\n"),
        "accepted"
    );

    for (case, bytes, rejected) in [
        ("NUL", &b"abc\0def"[..], "not_text"),
        ("Latin-1", b"caf\xE9", "not_text"),
        ("UTF-16", b"\xFF\xFEa\0b\0", "not_text"),
        ("PDF", b"%PDF-1.4\n%%EOF\n", "type_mismatch"),
        ("ZIP", b"PK\x03\x04\x14\0\0\0", "type_mismatch"),
        ("RTF", b"{\\rtf1\\ansi Hello}", "type_mismatch"),
    ] {
        assert_eq!(code(DocumentType::Text, bytes), rejected, "{case}");
    }
    let message = check(DocumentType::Text, b"%PDF-1.4\n")
        .unwrap_err()
        .message();
    assert_eq!(
        message,
        "declared as a plain text file but the file is a PDF"
    );
}

#[test]
fn sniff_names_common_wrong_files() {
    let mut dicom = vec![0u8; 128];
    dicom.extend_from_slice(b"DICM\x02\0");
    let mut exe = b"MZ".to_vec();
    exe.resize(0x40, 0);
    exe[0x3C] = 0x40;
    exe.extend_from_slice(b"PE\0\0");
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&20u32.to_le_bytes());
    bmp.resize(20, 0);
    for (bytes, kind) in [
        (&b"GIF89a\x01\0"[..], FileKind::Gif),
        (b"\0\0\0\x18ftypheic\0\0\0\0", FileKind::Heif),
        (b"RIFF\0\0\0\0WEBPVP8 ", FileKind::WebP),
        (&dicom, FileKind::Dicom),
        (&exe, FileKind::Executable),
        (b"\x7FELF\x02\x01", FileKind::Executable),
        (&bmp, FileKind::Bmp),
        (b"\x1F\x8B\x08\0", FileKind::Gzip),
        (b"7z\xBC\xAF\x27\x1C\0\x04", FileKind::SevenZip),
        (b"Rar!\x1A\x07\x01\0", FileKind::Rar),
        (
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],
            FileKind::OleCompound,
        ),
    ] {
        assert_eq!(sniff(bytes), Some(kind), "{}", kind.describe());
    }
    assert_eq!(sniff(&word(WORD_TYPES, &[])), Some(FileKind::Docx));
    assert_eq!(sniff(&excel(EXCEL_TYPES)), Some(FileKind::Xlsx));
    assert_eq!(sniff(b"plain words"), None);
    assert_eq!(FileKind::Docx.document_type(), Some(DocumentType::Docx));
    assert_eq!(FileKind::Gif.document_type(), None);

    let heic = b"\0\0\0\x18ftypheic\0\0\0\0";
    assert_eq!(
        check(DocumentType::Jpeg, heic).unwrap_err().message(),
        "declared as a JPEG image but the file is a HEIC/HEIF image (the iPhone photo format)"
    );
}

#[test]
fn messages_say_what_is_wrong_in_plain_words() {
    let cases = [
        (Rejection::Empty, "the file is empty (0 bytes)"),
        (
            Rejection::TooLarge {
                size: 31_981_568,
                max_bytes: MAX,
            },
            "the file is 30.5 MB, over the limit of 25 MB",
        ),
        (
            Rejection::TooLarge {
                size: MAX + 1,
                max_bytes: MAX,
            },
            "the file is 26,214,401 bytes, over the limit of 26,214,400 bytes (25 MB)",
        ),
        (
            Rejection::SizeMismatch {
                declared: 2_000,
                actual: 1_000,
            },
            "the file is 1,000 bytes but 2,000 bytes were declared (the upload may have been cut short)",
        ),
        (
            Rejection::TypeMismatch {
                declared: DocumentType::Pdf,
                found: Some(FileKind::Zip),
            },
            "declared as a PDF but the file is a ZIP archive",
        ),
        (
            Rejection::TypeMismatch {
                declared: DocumentType::Png,
                found: None,
            },
            "declared as a PNG image but the file is not one (nor another type we recognise)",
        ),
        (
            Rejection::Corrupt {
                declared: DocumentType::Docx,
                detail: "x",
            },
            "the file starts like a Word document (DOCX) but is damaged: x",
        ),
    ];
    for (rejection, message) in cases {
        assert_eq!(rejection.message(), message);
        assert_eq!(rejection.to_string(), message);
        assert!(Rejection::CODES.contains(&rejection.code()));
    }
    assert_eq!(human_size(0), "0 bytes");
    assert_eq!(human_size(1536), "1.5 KB");
    assert_eq!(group(999), "999");
    assert_eq!(group(1_000), "1,000");
}

#[test]
fn messages_never_echo_the_content() {
    // Distinctive content in every kind of wrong file: none of it may surface.
    let secret = "JANE-Q-PUBLIC-1960-01-01";
    let mut inputs: Vec<Vec<u8>> = vec![
        format!("%PDF-1.4 {secret}").into_bytes(),
        format!("{secret}\0").into_bytes(),
        [b"caf\xE9 ", secret.as_bytes()].concat(),
        zip(&[(secret, secret.as_bytes(), false)]),
        word(
            WORD_TYPES,
            &[(&format!("{secret}/vbaProject.bin"), b"x", false)],
        ),
        minimal_pdf(&format!(" /Encrypt 4 0 R /X ({secret})")),
    ];
    inputs.push(inputs[0][..10].to_vec());
    for bytes in &inputs {
        for t in DocumentType::ALL {
            if let Err(r) = check(t, bytes) {
                assert!(!r.message().contains("JANE"), "{t}: {r}");
            }
        }
    }
}

#[test]
fn every_code_is_listed() {
    let all = [
        Rejection::Empty,
        Rejection::TooLarge {
            size: 2,
            max_bytes: 1,
        },
        Rejection::SizeMismatch {
            declared: 1,
            actual: 2,
        },
        Rejection::TypeMismatch {
            declared: DocumentType::Pdf,
            found: None,
        },
        Rejection::EncryptedPdf,
        Rejection::NotOoxml {
            declared: DocumentType::Docx,
            detail: "x",
        },
        Rejection::MacrosPresent {
            declared: DocumentType::Xlsx,
        },
        Rejection::Corrupt {
            declared: DocumentType::Png,
            detail: "x",
        },
        Rejection::NotText { detail: "x" },
    ];
    let codes: Vec<_> = all.iter().map(Rejection::code).collect();
    assert_eq!(codes, Rejection::CODES);
}

fn any_type() -> impl Strategy<Value = DocumentType> {
    proptest::sample::select(DocumentType::ALL.to_vec())
}

/// Arbitrary tails behind each signature, so the checks past the first bytes run.
fn signed_bytes() -> impl Strategy<Value = Vec<u8>> {
    let heads: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"%PDF-1.7\n".to_vec(),
        b"II*\0".to_vec(),
        b"MM\0*".to_vec(),
        PNG_SIGNATURE.to_vec(),
        b"PK\x03\x04".to_vec(),
        b"trailer <<".to_vec(),
    ];
    (
        proptest::sample::select(heads),
        proptest::collection::vec(any::<u8>(), 0..2048),
    )
        .prop_map(|(mut head, tail)| {
            head.extend(tail);
            head
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(declared in any_type(), bytes in signed_bytes()) {
        let result = verify(declared, bytes.len() as u64, MAX, &bytes);
        if let Err(r) = &result {
            prop_assert!(Rejection::CODES.contains(&r.code()));
            prop_assert!(!r.message().is_empty());
        }
        let _ = sniff(&bytes);
    }

    #[test]
    fn damaged_packages_never_panic(cut in 0usize..2000, flip in 0usize..2000, byte: u8) {
        let mut bytes = word(WORD_TYPES, &[]);
        let flip = flip % bytes.len();
        bytes[flip] ^= byte;
        bytes.truncate(bytes.len() - cut.min(bytes.len()));
        let _ = check(DocumentType::Docx, &bytes);
        let _ = sniff(&bytes);
    }
}
