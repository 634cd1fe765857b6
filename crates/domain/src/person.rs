//! People: accounts at an organization.
use crate::error::{DomainError, Result};
use crate::text::{Email, Locale, optional, required};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFields {
    pub email: Email,
    pub display_name: String,
    pub phone: Option<String>,
    pub locale: Locale,
}

pub fn validate_person(
    email: &str,
    display_name: &str,
    phone: Option<&str>,
    locale: &str,
) -> Result<PersonFields> {
    let email = Email::parse(email)?;
    let display_name = required("display_name", display_name, 200)?;
    let phone = optional("phone", phone, 40)?;
    let locale = Locale::parse(locale).ok_or(DomainError::field("invalid_choice", "locale"))?;
    Ok(PersonFields {
        email,
        display_name,
        phone,
        locale,
    })
}

/// Length is what matters (NIST SP 800-63B): at least 12 characters, at most 256.
pub fn check_new_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(DomainError::field("password_too_short", "password"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(DomainError::field("too_long", "password"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert_eq!(
            check_new_password("short").unwrap_err().code,
            "password_too_short"
        );
        assert!(check_new_password("correct horse battery").is_ok());
        assert_eq!(
            check_new_password(&"x".repeat(300)).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn person_validation() {
        let p = validate_person("A@B.ca", " Ann ", Some(""), "fr").unwrap();
        assert_eq!(p.display_name, "Ann");
        assert_eq!(p.phone, None);
        assert_eq!(p.locale, Locale::Fr);
        assert_eq!(
            validate_person("a@b.ca", "Ann", None, "de")
                .unwrap_err()
                .code,
            "invalid_choice"
        );
    }
}
