//! What a file is, by its first bytes (the same magic numbers the documents port
//! verifies), whatever its name or declared type says.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Tiff,
    Jpeg,
    Png,
    /// A ZIP container: DOCX, XLSX.
    Zip,
    Empty,
    Other,
}

impl FileKind {
    pub fn of(bytes: &[u8]) -> FileKind {
        if bytes.is_empty() {
            FileKind::Empty
        } else if is_pdf(bytes) {
            FileKind::Pdf
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            FileKind::Tiff
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            FileKind::Jpeg
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            FileKind::Png
        } else if bytes.starts_with(b"PK\x03\x04") {
            FileKind::Zip
        } else {
            FileKind::Other
        }
    }

    /// The content type to store a file of this kind under when nothing better is
    /// declared.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Tiff => "image/tiff",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Zip => "application/zip",
            FileKind::Empty | FileKind::Other => "application/octet-stream",
        }
    }

    /// Whether a declared content type is one this kind of file may carry.
    pub fn fits(self, declared: &str) -> bool {
        match self {
            FileKind::Pdf => declared == "application/pdf",
            FileKind::Tiff => declared == "image/tiff",
            FileKind::Jpeg => declared == "image/jpeg",
            FileKind::Png => declared == "image/png",
            FileKind::Zip => {
                declared == "application/zip"
                    || declared.starts_with("application/vnd.openxmlformats-officedocument.")
            }
            FileKind::Empty | FileKind::Other => !matches!(
                declared,
                "application/pdf" | "image/tiff" | "image/jpeg" | "image/png"
            ),
        }
    }
}

/// `%PDF-` within the first 1024 bytes, as readers accept it.
fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_magic_number() {
        assert_eq!(FileKind::of(b"%PDF-1.7\n"), FileKind::Pdf);
        assert_eq!(FileKind::of(b"\r\n%PDF-1.4"), FileKind::Pdf);
        assert_eq!(FileKind::of(b"II*\0\x08\0\0\0"), FileKind::Tiff);
        assert_eq!(FileKind::of(b"MM\0*\0\0\0\x08"), FileKind::Tiff);
        assert_eq!(FileKind::of(b"PK\x03\x04rest"), FileKind::Zip);
        assert_eq!(FileKind::of(b""), FileKind::Empty);
        assert_eq!(FileKind::of(b"hello"), FileKind::Other);
        assert!(
            FileKind::Zip
                .fits("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert!(!FileKind::Other.fits("application/pdf"));
    }
}
