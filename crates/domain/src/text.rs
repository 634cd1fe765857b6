//! Validated text newtypes: what passes through them is safe to store.
use crate::error::{DomainError, Result};
use serde::{Deserialize, Serialize};

/// Trims, refuses empty (when required) and over-long text, and control characters.
pub fn clean(field: &'static str, value: &str, max_chars: usize) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max_chars {
        return Err(DomainError::field("too_long", field));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::field("invalid_characters", field));
    }
    Ok(value.to_owned())
}

pub fn required(field: &'static str, value: &str, max_chars: usize) -> Result<String> {
    let value = clean(field, value, max_chars)?;
    if value.is_empty() {
        return Err(DomainError::field("required", field));
    }
    Ok(value)
}

/// Empty input becomes `None`.
pub fn optional(
    field: &'static str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = clean(field, v, max_chars)?;
            Ok((!v.is_empty()).then_some(v))
        }
    }
}

/// An email address, stored lower-case. Deliberately simple: one `@`, a dotted domain,
/// no spaces, at most 254 characters (RFC 5321 path limit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self> {
        Self::parse_field("email", value)
    }

    pub fn parse_field(field: &'static str, value: &str) -> Result<Self> {
        let value = value.trim().to_lowercase();
        if value.is_empty() {
            return Err(DomainError::field("required", field));
        }
        if value.len() > 254 {
            return Err(DomainError::field("too_long", field));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(DomainError::field("invalid_email", field));
        };
        let ok = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && value
                .chars()
                .all(|c| c.is_alphanumeric() || "@.!#$%&'*+/=?^_`{|}~-".contains(c));
        if !ok {
            return Err(DomainError::field("invalid_email", field));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Interface language. Everything user-visible exists in both.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Fr,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
        }
    }
    pub fn parse(value: &str) -> Option<Self> {
        let primary = value.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            "fr" => Some(Locale::Fr),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut candidates: Vec<(f32, Locale)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?;
                let q = pieces
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                Some((q, Locale::parse(tag)?))
            })
            .filter(|(q, _)| *q > 0.0)
            .collect();
        candidates.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        candidates.first().map(|(_, l)| *l)
    }

    /// Picks the English or French variant of a bilingual value.
    pub fn pick<'a>(self, en: &'a str, fr: &'a str) -> &'a str {
        match self {
            Locale::Fr if !fr.is_empty() => fr,
            _ => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ann.Lee@Example.ORG ").unwrap().as_str(),
            "ann.lee@example.org"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.org",
            "ann@x",
            "a b@x.org",
            "ann@@x.org",
            "ann@x..org",
            "ann@.x.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@x.org", "a".repeat(65));
        assert_eq!(Email::parse(&long).unwrap_err().code, "invalid_email");
    }

    #[test]
    fn text_limits() {
        assert_eq!(required("name", "  ", 10).unwrap_err().code, "required");
        assert_eq!(
            required("name", "abcdefghijk", 10).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            required("name", "ok\u{0}", 10).unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(optional("x", Some("  "), 5).unwrap(), None);
        assert_eq!(required("name", "élève", 5).unwrap(), "élève");
    }

    #[test]
    fn accept_language_prefers_highest_q() {
        assert_eq!(
            Locale::from_accept_language("fr-CA,fr;q=0.9,en;q=0.8"),
            Some(Locale::Fr)
        );
        assert_eq!(
            Locale::from_accept_language("de, en;q=0.5, fr;q=0.7"),
            Some(Locale::Fr)
        );
        assert_eq!(Locale::from_accept_language("de"), None);
        assert_eq!(Locale::from_accept_language("fr;q=0, en"), Some(Locale::En));
    }
}

/// Lower-case text without accents, for search: "Événement" → "evenement". Covers the
/// Latin letters French and English use; other characters are only lower-cased.
pub fn fold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let base = match c {
            'À'..='Å' | 'à'..='å' | 'Ā'..='ą' => "a",
            'Ç' | 'ç' | 'Ć'..='č' => "c",
            'È'..='Ë' | 'è'..='ë' | 'Ē'..='ě' => "e",
            'Ì'..='Ï' | 'ì'..='ï' | 'Ĩ'..='ı' => "i",
            'Ñ' | 'ñ' | 'Ń'..='ň' => "n",
            'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō'..='ő' => "o",
            'Ù'..='Ü' | 'ù'..='ü' | 'Ũ'..='ų' => "u",
            'Ý' | 'ý' | 'ÿ' | 'Ÿ' => "y",
            'Œ' | 'œ' => "oe",
            'Æ' | 'æ' => "ae",
            'ß' => "ss",
            _ => {
                out.extend(c.to_lowercase());
                continue;
            }
        };
        out.push_str(base);
    }
    out
}

#[cfg(test)]
mod fold_tests {
    #[test]
    fn folds_french_accents() {
        assert_eq!(
            super::fold("Événement à Hôpital Œuvre Ça"),
            "evenement a hopital oeuvre ca"
        );
        assert_eq!(super::fold("INC-000123"), "inc-000123");
    }
}
