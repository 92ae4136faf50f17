//! Document verification on 25 MB uploads (the default attachment limit).
//!
//!     cargo bench -p mso-domain --bench verify
//!
//! Target: a 25 MB PDF verified in under 100 ms (docs/performance.md).

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mso_domain::document::{DocumentType, verify};

/// Just under the default limit of 25 MiB.
const SIZE: usize = 25 * 1024 * 1024 - 4096;

/// Deterministic incompressible bytes (xorshift64), like scanned image data.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A one-page PDF whose content stream fills it to `SIZE`, with a classic xref
/// table and a trailer naming `/Encrypt` or not.
fn pdf(content: &[u8], encrypted: bool) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", offsets.len()).unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut out,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    );
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    object(&mut out, &stream);
    object(
        &mut out,
        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /O <00> /U <00> >>",
    );
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).unwrap();
    for o in &offsets {
        writeln!(out, "{o:010} 00000 n ").unwrap();
    }
    let encrypt = if encrypted { " /Encrypt 5 0 R" } else { "" };
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R{encrypt} /ID [<00><00>] >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    )
    .unwrap();
    out
}

/// Text-showing operators, as an uncompressed page description has them.
fn text_content(n: usize, line: &str) -> Vec<u8> {
    line.as_bytes().iter().copied().cycle().take(n).collect()
}

fn png() -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];
    out.extend_from_slice(&[0, 0, 0, 13]);
    out.extend_from_slice(b"IHDR\0\0\x10\0\0\0\x10\0\x08\x02\0\0\0\0\0\0\0");
    let data = noise(SIZE - 64);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(b"IDAT");
    out.extend_from_slice(&data);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
    out
}

fn jpeg() -> Vec<u8> {
    let mut out = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    out.extend_from_slice(&noise(SIZE - 32));
    out.extend_from_slice(b"\xFF\xD9");
    out
}

/// A Word document carrying a 25 MB image, its XML parts deflated as Word does.
fn docx() -> Vec<u8> {
    let types = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    let image = noise(SIZE - 4096);
    let parts: [(&str, &[u8], bool); 5] = [
        ("[Content_Types].xml", types, true),
        ("_rels/.rels", b"<Relationships/>", true),
        (
            "word/document.xml",
            b"<w:document><w:body/></w:document>",
            true,
        ),
        ("word/_rels/document.xml.rels", b"<Relationships/>", true),
        ("word/media/image1.png", &image, false),
    ];
    let mut out = Vec::new();
    let mut archive = rawzip::ZipArchiveWriter::new(&mut out);
    for (name, data, deflated) in parts {
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

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let binary = noise(SIZE);
    let text_ops = text_content(
        SIZE,
        "BT /F1 11 Tf 72 700 Td (Plan: continue therapy.) Tj ET\n",
    );
    // Worst case: a name the scanner must check on every line.
    let hostile = text_content(SIZE, "BT (see /Encrypt 5 0 R) Tj ET\n");
    let cases: Vec<(&str, DocumentType, Vec<u8>, bool)> = vec![
        (
            "pdf 25 MB, scanned (binary stream)",
            DocumentType::Pdf,
            pdf(&binary, false),
            true,
        ),
        (
            "pdf 25 MB, encrypted trailer",
            DocumentType::Pdf,
            pdf(&binary, true),
            false,
        ),
        (
            "pdf 25 MB, uncompressed text",
            DocumentType::Pdf,
            pdf(&text_ops, false),
            true,
        ),
        (
            "pdf 25 MB, /Encrypt on every line (worst case)",
            DocumentType::Pdf,
            pdf(&hostile, false),
            true,
        ),
        ("png 25 MB", DocumentType::Png, png(), true),
        ("jpeg 25 MB", DocumentType::Jpeg, jpeg(), true),
        (
            "docx 25 MB (one large image)",
            DocumentType::Docx,
            docx(),
            true,
        ),
        (
            "docx 36 KB (fixture)",
            DocumentType::Docx,
            fixture("letter.docx"),
            true,
        ),
        (
            "text 25 MB",
            DocumentType::Text,
            text_content(
                SIZE,
                "Telephone note: caller asked about a prior authorisation, 5 \u{b5}g.\n",
            ),
            true,
        ),
    ];
    let mut group = c.benchmark_group("verify");
    group.sample_size(20);
    for (name, declared, bytes, accepted) in &cases {
        let size = bytes.len() as u64;
        // The bench measures the real decision, not a rejection by accident.
        assert_eq!(
            verify(*declared, size, 25 * 1024 * 1024, bytes).is_ok(),
            *accepted,
            "{name}"
        );
        group.throughput(Throughput::Bytes(size));
        group.bench_function(*name, |b| {
            b.iter(|| verify(*declared, size, 25 * 1024 * 1024, black_box(bytes)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
