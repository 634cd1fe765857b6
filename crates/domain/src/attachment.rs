//! Which files may be attached: size limit, an allow-list of types, and the type checked
//! against the file's first bytes so that a renamed executable is refused.
use crate::error::{DomainError, Result};

pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// (extension, content type, is text).
const ALLOWED: &[(&str, &str, bool)] = &[
    ("png", "image/png", false),
    ("jpg", "image/jpeg", false),
    ("jpeg", "image/jpeg", false),
    ("gif", "image/gif", false),
    ("webp", "image/webp", false),
    ("pdf", "application/pdf", false),
    ("txt", "text/plain", true),
    ("log", "text/plain", true),
    ("csv", "text/csv", true),
    ("json", "application/json", true),
    ("xml", "application/xml", true),
    ("hl7", "text/plain", true),
    ("eml", "message/rfc822", true),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        false,
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        false,
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        false,
    ),
];

/// A file that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub filename: String,
    pub content_type: &'static str,
    /// Text files are scanned for PHI like any other text.
    pub is_text: bool,
}

/// Keeps the last path component, drops control characters and quotes, limits the length.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | ';'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "attachment".to_owned()
    } else {
        cleaned
    }
}

pub fn check(name: &str, bytes: &[u8], max_bytes: usize) -> Result<Accepted> {
    if bytes.is_empty() {
        return Err(DomainError::field("empty_file", "attachment"));
    }
    if bytes.len() > max_bytes {
        return Err(DomainError::field("attachment_too_large", "attachment"));
    }
    let filename = clean_filename(name);
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let Some(&(_, content_type, is_text)) = ALLOWED.iter().find(|(e, _, _)| *e == ext) else {
        return Err(DomainError::field("attachment_type_refused", "attachment"));
    };
    let magic_ok = match ext.as_str() {
        "png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "webp" => bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        "pdf" => bytes.starts_with(b"%PDF-"),
        "docx" | "xlsx" | "pptx" => bytes.starts_with(b"PK\x03\x04"),
        _ => std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0),
    };
    if !magic_ok {
        return Err(DomainError::field("attachment_type_mismatch", "attachment"));
    }
    Ok(Accepted {
        filename,
        content_type,
        is_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_files_and_refuses_disguises() {
        let png = b"\x89PNG\r\n\x1a\n0000";
        let ok = check("C:\\shots\\screen.PNG", png, 1000).unwrap();
        assert_eq!(ok.filename, "screen.PNG");
        assert_eq!(ok.content_type, "image/png");
        assert_eq!(
            check("virus.exe", b"MZ...", 1000).unwrap_err().code,
            "attachment_type_refused"
        );
        assert_eq!(
            check("virus.png", b"MZ...", 1000).unwrap_err().code,
            "attachment_type_mismatch"
        );
        assert_eq!(
            check("big.txt", &[b'a'; 11], 10).unwrap_err().code,
            "attachment_too_large"
        );
        assert_eq!(check("x.txt", b"", 10).unwrap_err().code, "empty_file");
        assert!(
            check("notes.log", "journal d'événements".as_bytes(), 100)
                .unwrap()
                .is_text
        );
        assert_eq!(clean_filename("../../.bashrc"), "bashrc");
        assert_eq!(clean_filename(""), "attachment");
    }
}
