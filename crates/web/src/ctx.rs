//! Per-request context: who is calling (session cookie or bearer token), in which language,
//! and the CSRF token. One middleware resolves it and renders errors at the end.
use crate::error::{AppError, AppResult};
use crate::{AppState, i18n};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use domain::policy::Principal;
use domain::text::Locale;
use store::people::Person;

pub const SESSION_COOKIE: &str = "triage_session";
pub const CSRF_COOKIE: &str = "triage_csrf";
pub const LANG_COOKIE: &str = "triage_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Session,
    Token,
    /// A mail the desk received from this person.
    Mail,
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub principal: Principal,
    pub person: Person,
    pub method: AuthMethod,
}

impl Identity {
    /// Refuses (403) unless the person may do `action`.
    pub fn require(&self, action: domain::policy::Action) -> AppResult<()> {
        if self.principal.allows(action) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    pub fn actor(&self, ip: Option<String>) -> store::audit::Actor {
        store::audit::Actor {
            person_id: Some(self.person.id),
            label: self.person.email.clone(),
            ip,
        }
    }
}

/// What every handler may know about the request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub identity: Option<Identity>,
    pub locale: Locale,
    pub csrf: String,
    pub ip: Option<String>,
    pub path: String,
    pub is_api: bool,
    /// The CSRF token in a header or cookie-less API call matched the cookie.
    pub csrf_header_ok: bool,
}

impl Ctx {
    pub fn actor(&self) -> store::audit::Actor {
        match &self.identity {
            Some(id) => id.actor(self.ip.clone()),
            None => store::audit::Actor {
                person_id: None,
                label: "anonymous".into(),
                ip: self.ip.clone(),
            },
        }
    }
    pub fn tr(&self) -> i18n::Tr {
        i18n::Tr(self.locale)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(AppError::internal)
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    http_only: bool,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(http_only)
        .secure(state.settings.secure_cookies)
        .same_site(SameSite::Lax);
    if let Some(seconds) = max_age {
        c = c.max_age(cookie_duration(seconds));
    }
    HeaderValue::from_str(&c.build().to_string()).expect("cookie header")
}

fn cookie_duration(seconds: i64) -> time::Duration {
    time::Duration::seconds(seconds)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Identity>, AppError> {
    let (credential, method) = if let Some(token) = bearer(headers) {
        (store::people::Credential::Token(token), AuthMethod::Token)
    } else if let Some(token) = cookie(headers, SESSION_COOKIE) {
        (
            store::people::Credential::Session(token),
            AuthMethod::Session,
        )
    } else {
        return Ok(None);
    };
    let cache_key = match credential {
        store::people::Credential::Token(token) => Some(store::secret_hash(token)),
        _ => None,
    };
    let cached = cache_key.as_deref().and_then(|key| state.callers.get(key));
    let read_now = cached.is_none();
    let caller = match cached {
        Some(caller) => caller,
        None => {
            let mut conn = state.db.reader().acquire().await?;
            let operator = state.operator_org_id(&mut conn).await?;
            let Some(caller) = store::people::caller(&mut conn, credential, operator).await? else {
                return match method {
                    AuthMethod::Token => {
                        Err(AppError::new(StatusCode::UNAUTHORIZED, "invalid_token"))
                    }
                    _ => Ok(None),
                };
            };
            match cache_key {
                Some(key) => state.callers.put(key, caller),
                None => std::sync::Arc::new(caller),
            }
        }
    };
    // A cached caller was touched, if it needed it, when it was read.
    if read_now
        && let Some(token) = &caller.token
        && token.needs_touch()
    {
        state.touch_token(token.id);
    }
    let Some(principal) = caller.principal.clone() else {
        return Ok(None);
    };
    Ok(Some(Identity {
        principal,
        person: caller.person.clone(),
        method,
    }))
}

fn client_ip(req: &Request) -> Option<String> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

/// Resolves the context, runs the handler, then renders any `AppError` in the caller's language.
pub async fn context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    let identity = identify(&state, &headers).await;
    let (identity, early_error) = match identity {
        Ok(id) => (id, None),
        Err(e) => (None, Some(e)),
    };
    // The explicit switch, then Accept-Language, then the person's preference.
    let locale = cookie(&headers, LANG_COOKIE)
        .and_then(Locale::parse)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .or_else(|| {
            identity
                .as_ref()
                .and_then(|i| Locale::parse(&i.person.locale))
        })
        .unwrap_or(state.settings.default_locale);
    let existing_csrf = cookie(&headers, CSRF_COOKIE)
        .filter(|c| c.len() >= 32)
        .map(str::to_owned);
    let new_csrf = existing_csrf.is_none();
    let csrf = existing_csrf.unwrap_or_else(|| store::random_token(32));
    let csrf_header_ok = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::csrf::same(v, &csrf) && !new_csrf);
    let ctx = Ctx {
        identity,
        locale,
        csrf: csrf.clone(),
        ip: client_ip(&req),
        path,
        is_api,
        csrf_header_ok,
    };
    req.extensions_mut().insert(ctx.clone());
    let mut response = match early_error {
        Some(e) => e.into_response(),
        None => next.run(req).await,
    };
    if new_csrf && !is_api {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, CSRF_COOKIE, &csrf, true, None),
        );
    }
    render_error(&state, &ctx, response)
}

fn render_error(state: &AppState, ctx: &Ctx, response: Response) -> Response {
    let status = response.status();
    let error = match response.extensions().get::<AppError>() {
        Some(e) => e.clone(),
        None if status == StatusCode::METHOD_NOT_ALLOWED => {
            AppError::new(status, "method_not_allowed")
        }
        None if status == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(status, "payload_too_large")
        }
        None => return response,
    };
    let message = error.message(ctx.locale);
    let mut out = if ctx.is_api || ctx.path == "/metrics" {
        let mut body = serde_json::json!({ "code": error.code, "message": message });
        if let Some(field) = error.field {
            body["field"] = field.into();
        }
        if let Some(detail) = &error.detail {
            body["detail"] = detail.clone();
        }
        (error.status, axum::Json(body)).into_response()
    } else {
        crate::html::error_page(state, ctx, &error, &message)
    };
    for (name, value) in response.headers() {
        if name == header::SET_COOKIE
            || name == header::LOCATION
            || name == header::WWW_AUTHENTICATE
        {
            out.headers_mut().append(name, value.clone());
        }
    }
    if error.status == StatusCode::UNAUTHORIZED && ctx.is_api {
        out.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"triage\""),
        );
    }
    out
}

/// A signed-in caller of the JSON API. Cookie sessions must also send the CSRF header on
/// requests that change state; bearer tokens need not.
pub struct ApiUser(pub Ctx, pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let identity = ctx.identity.clone().ok_or_else(AppError::unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe && identity.method == AuthMethod::Session && !ctx.csrf_header_ok {
            return Err(AppError::new(StatusCode::FORBIDDEN, "csrf_failed"));
        }
        Ok(ApiUser(ctx, identity))
    }
}

/// A signed-in person on an HTML page; anonymous visitors are sent to the sign-in page.
pub struct PageUser(pub Ctx, pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match ctx.identity.clone() {
            Some(identity) => Ok(PageUser(ctx, identity)),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let target = format!(
                    "/signin?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Err(axum::response::Redirect::to(&target).into_response())
            }
        }
    }
}
