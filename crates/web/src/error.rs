//! The web layer's one error type. Handlers return `AppError`; the response middleware
//! renders it as `{"code", "message"}` JSON under /api and as an HTML page elsewhere, in the
//! caller's language.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::DomainError;
use store::StoreError;

#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<&'static str>,
    /// Extra values for the message (`{ $name }` in the .ftl string).
    pub args: Vec<(&'static str, String)>,
    /// Machine-readable detail returned in the JSON body, e.g. where PHI was found.
    pub detail: Option<serde_json::Value>,
}

impl AppError {
    pub const fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            field: None,
            args: Vec::new(),
            detail: None,
        }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated")
    }
    pub fn bad_request(code: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }
    pub fn invalid(code: &'static str, field: &'static str) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
            field: Some(field),
            args: Vec::new(),
            detail: None,
        }
    }

    pub fn with_arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
    }

    /// The localized message, e.g. "This value is too long (name)".
    pub fn message(&self, locale: domain::text::Locale) -> String {
        let key = format!("error-{}", self.code);
        let field = self
            .field
            .map(|f| crate::i18n::t(locale, &format!("field-{f}")))
            .unwrap_or_default();
        let mut args = vec![("field", field)];
        args.extend(self.args.iter().cloned());
        let message = crate::i18n::t_args(locale, &key, &args);
        if message == key {
            crate::i18n::t(locale, "error-internal")
        } else {
            message
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: e.code,
            field: e.field,
            args: Vec::new(),
            detail: None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict(code) => Self::new(StatusCode::CONFLICT, code),
            StoreError::Invalid(e) => e.into(),
            other => {
                tracing::error!(error = %other, "store error");
                Self::internal()
            }
        }
    }
}

impl From<store::SqlxError> for AppError {
    fn from(e: store::SqlxError) -> Self {
        StoreError::from(e).into()
    }
}

/// The response carries the error in its extensions; the middleware writes the body.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
