//! Hostile emails, built at run time (tests/bombs.rs and the bench share them).
#![allow(dead_code)]

/// Multiparts nested `depth` deep, each level with its own boundary.
pub fn deep_nesting(depth: usize) -> Vec<u8> {
    let mut s = String::from(
        "From: a@example.org\r\nSubject: deep PDR\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n",
    );
    for i in 0..depth {
        s += &format!(
            "--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n",
            i + 1
        );
    }
    s += &format!("--b{depth}\r\nContent-Type: text/plain\r\n\r\nhello\r\n");
    for i in (0..=depth).rev() {
        s += &format!("--b{i}--\r\n");
    }
    s.into_bytes()
}

/// `parts` empty parts, side by side, with no Content-Type of their own.
pub fn many_parts(parts: usize) -> Vec<u8> {
    let mut s = String::from(
        "From: a@example.org\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
    );
    for _ in 0..parts {
        s += "--b\r\n\r\nx\r\n";
    }
    s += "--b--\r\n";
    s.into_bytes()
}

/// `n` small PDF attachments.
pub fn many_attachments(n: usize, subject: &str) -> Vec<u8> {
    let mut s = format!(
        "From: a@example.org\r\nSubject: {subject}\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    );
    for i in 0..n {
        s += &format!(
            "--b\r\nContent-Type: application/pdf; name=\"f{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjcK\r\n"
        );
    }
    s += "--b--\r\n";
    s.into_bytes()
}

/// A Subject header `len` bytes long.
pub fn huge_subject(len: usize) -> Vec<u8> {
    let mut s = String::from("From: a@example.org\r\nSubject: ");
    s += &"x".repeat(len);
    s += "\r\n\r\nbody\r\n";
    s.into_bytes()
}

/// `n` short header fields.
pub fn many_headers(n: usize) -> Vec<u8> {
    let mut s = String::from("From: a@example.org\r\n");
    for i in 0..n {
        s += &format!("X-H{i}: v\r\n");
    }
    s += "\r\nbody\r\n";
    s.into_bytes()
}

/// A part (not the message) with a header block `len` bytes long.
pub fn huge_part_header(len: usize) -> Vec<u8> {
    let mut s = String::from(
        "From: a@example.org\r\nSubject: part\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n",
    );
    for i in 0..len / 40 {
        s += &format!("X-Filler-{i:08}: {}\r\n", "y".repeat(20));
    }
    s += "\r\nbody\r\n--b--\r\n";
    s.into_bytes()
}

/// Forwarded messages (message/rfc822) nested `depth` deep, without boundaries.
pub fn forwarded_chain(depth: usize) -> Vec<u8> {
    let mut s = String::from("From: a@example.org\r\nSubject: chain\r\n");
    for _ in 0..depth {
        s += "Content-Type: message/rfc822\r\n\r\n";
    }
    s += "Subject: x\r\n\r\nbody\r\n";
    s.into_bytes()
}

/// A forwarded message in base64 (which MIME forbids), hiding `inner` inside.
pub fn encoded_forward(inner: &[u8]) -> Vec<u8> {
    let mut s = String::from(
        "From: a@example.org\r\nSubject: Fwd: appeal\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n\
         --zz\r\nContent-Type: text/plain\r\n\r\nsee below\r\n\
         --zz\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in base64(inner).as_bytes().chunks(76) {
        s += std::str::from_utf8(line).unwrap();
        s += "\r\n";
    }
    s += "--zz--\r\n";
    s.into_bytes()
}

pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// A scan-like PDF: `pages` pages, each one uncompressible 1-bit fax image
/// (1728 x 2200, 475 KB) and no text layer. 40 pages make 19 MB.
pub fn large_scanned_pdf(pages: usize) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut kids = Vec::new();
    for _ in 0..pages {
        let pixels: Vec<u8> = (0..1728 * 2200 / 8)
            .map(|_| {
                // xorshift: noise a deflate cannot shrink, as a bad scan.
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 1728, "Height" => 2200,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1,
            },
            pixels,
        ));
        let content = doc.add_object(Stream::new(
            dictionary! {},
            b"q 612 0 0 792 0 0 cm /Im0 Do Q".to_vec(),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
