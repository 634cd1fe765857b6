//! CSRF protection for HTML forms: the double-submit pattern. Every visitor gets a random
//! HttpOnly, SameSite=Lax cookie; every state-changing form carries the same value in a
//! hidden `_csrf` field, compared in constant time. Cross-site pages can neither read the
//! cookie nor set it.
use crate::ctx::{CSRF_COOKIE, CSRF_FIELD, Ctx, cookie};
use crate::error::AppError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A urlencoded form whose `_csrf` field matched the cookie.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let cookie_value = cookie(req.headers(), CSRF_COOKIE).map(str::to_owned);
        let ctx = req.extensions().get::<Ctx>().cloned();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| AppError::bad_request("invalid_form"))?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str());
        let ok = match (sent, cookie_value.as_deref()) {
            (Some(sent), Some(cookie)) => same(sent, cookie),
            _ => false,
        };
        if !ok || ctx.is_none() {
            return Err(AppError::new(StatusCode::FORBIDDEN, "csrf_failed"));
        }
        let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != CSRF_FIELD).collect();
        let encoded =
            serde_urlencoded::to_string(rest).map_err(|_| AppError::bad_request("invalid_form"))?;
        let value = serde_urlencoded::from_str(&encoded)
            .map_err(|_| AppError::bad_request("invalid_form"))?;
        Ok(CsrfForm(value))
    }
}
