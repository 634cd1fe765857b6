//! The public status endpoints, no sign-in: the page, the hosted status-page API v2, the
//! banner, the status line and the feeds, all answered from the in-memory snapshot with
//! `ETag`/`Last-Modified` revalidation and a few seconds of public caching. These routes
//! skip the session middleware: they read nothing per person.
use crate::AppState;
use crate::status_snapshot::{Model, Snapshot};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use domain::text::Locale;
use serde::Deserialize;

/// Seconds a browser or proxy may reuse a public body without asking again.
const MAX_AGE_SECONDS: u32 = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(page))
        .route("/status/events/{id}", get(event_page))
        .route("/status.txt", document("status.txt"))
        .route("/banner.json", banner("banner.json"))
        .route("/banner.html", banner("banner.html"))
        .route("/history.atom", document("history.atom"))
        .route("/history.rss", document("history.rss"))
        .route("/maintenances.ics", document("maintenances.ics"))
        .route("/api/v2/{*document}", get(api_v2))
}

#[derive(Debug, Default, Deserialize)]
pub struct Options {
    #[serde(default)]
    lang: Option<String>,
    /// The banner's environment or service (a component code).
    #[serde(default)]
    scope: Option<String>,
}

/// `?lang=` first, then the browser's languages, else English.
fn locale(options: &Options, headers: &HeaderMap) -> Locale {
    options
        .lang
        .as_deref()
        .and_then(Locale::parse)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or(Locale::En)
}

fn serve(
    snapshot: &Snapshot,
    key: &str,
    locale: Locale,
    headers: &HeaderMap,
    cors: bool,
) -> Response {
    let Some(body) = snapshot.body(key, locale) else {
        return crate::error::AppError::not_found().into_response();
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == snapshot.etag || t.trim() == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, body.content_type)],
            body.bytes.clone(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&snapshot.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&snapshot.last_modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, cache_control());
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if cors {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

fn cache_control() -> HeaderValue {
    static VALUE: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
        HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECONDS}"))
            .expect("a valid header")
    });
    VALUE.clone()
}

async fn page(
    State(state): State<AppState>,
    Query(options): Query<Options>,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.status.get();
    let mut response = serve(
        &snapshot,
        "page",
        locale(&options, &headers),
        &headers,
        false,
    );
    page_security_headers(response.headers_mut());
    response
}

/// `/status/events/{id}`: one incident or maintenance, from the snapshot. An id the snapshot
/// does not hold (unknown, or closed before the page's window) is a 404 page with the same
/// caching headers, so a burst of requests for it costs no more than the page.
async fn event_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(options): Query<Options>,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.status.get();
    let locale = locale(&options, &headers);
    let known = id
        .parse::<i64>()
        .ok()
        .filter(|id| snapshot.model.event(*id).is_some());
    let mut response = match known {
        Some(id) => serve(&snapshot, &event_key(id), locale, &headers, false),
        None => {
            // Conditional headers do not apply to an error (RFC 9110 §13.2.1): never a 304.
            let mut response = serve(
                &snapshot,
                MISSING_EVENT_KEY,
                locale,
                &HeaderMap::new(),
                false,
            );
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    };
    page_security_headers(response.headers_mut());
    response
}

/// The snapshot's key of an event's page.
pub fn event_key(id: i64) -> String {
    format!("event:{id}")
}

/// The snapshot's key of the page for an unknown event.
pub const MISSING_EVENT_KEY: &str = "event:missing";

fn page_security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A public body served as is, in the asker's language, readable from other sites.
fn document(key: &'static str) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>, Query(options): Query<Options>, headers: HeaderMap| async move {
            serve(
                &state.status.get(),
                key,
                locale(&options, &headers),
                &headers,
                true,
            )
        },
    )
}

/// The banner of `?scope=` (a component code), else the one for every environment.
fn banner(kind: &'static str) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>, Query(options): Query<Options>, headers: HeaderMap| async move {
            let snapshot = state.status.get();
            let key = banner_key(kind, &snapshot, &options);
            serve(&snapshot, &key, locale(&options, &headers), &headers, true)
        },
    )
}

fn banner_key(kind: &str, snapshot: &Snapshot, options: &Options) -> String {
    let scope = options
        .scope
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let known = snapshot
        .model
        .components
        .iter()
        .any(|c| c.row.code == scope);
    format!("{kind}:{}", if known { scope.as_str() } else { "" })
}

/// `/api/v2/summary.json`, `status.json`, `components.json`, `incidents.json`,
/// `incidents/unresolved.json`, `scheduled-maintenances.json` and its `upcoming.json` and
/// `active.json`: the hosted status-page API's documents and field names.
async fn api_v2(
    State(state): State<AppState>,
    Path(document): Path<String>,
    Query(options): Query<Options>,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.status.get();
    // The API speaks English unless asked otherwise with ?lang=fr.
    let locale = options
        .lang
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(Locale::En);
    serve(&snapshot, &document, locale, &headers, true)
}

/// The public page: overall status, components with their uptime bars, what is happening,
/// what is planned and the history.
pub fn page_html(model: &Model, locale: Locale) -> String {
    crate::status_page_html::render(model, locale)
}

/// Every event's page (keyed by [`event_key`]) and the page of an unknown one
/// ([`MISSING_EVENT_KEY`]).
pub fn event_pages(model: &Model, locale: Locale) -> Vec<(String, String)> {
    let mut pages: Vec<(String, String)> = model
        .events
        .iter()
        .map(|e| {
            (
                event_key(e.row.id),
                crate::status_page_html::render_event(model, e, locale),
            )
        })
        .collect();
    pages.push((
        MISSING_EVENT_KEY.to_owned(),
        crate::status_page_html::render_missing_event(model, locale),
    ));
    pages
}
