use std::fmt;

/// A rule broken by input. `code` is stable and machine-readable; `field` names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DomainError {
    pub code: &'static str,
    pub field: Option<&'static str>,
}

impl DomainError {
    pub fn new(code: &'static str) -> Self {
        Self { code, field: None }
    }
    pub fn field(code: &'static str, field: &'static str) -> Self {
        Self {
            code,
            field: Some(field),
        }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{} ({field})", self.code),
            None => f.write_str(self.code),
        }
    }
}

pub type Result<T> = std::result::Result<T, DomainError>;
