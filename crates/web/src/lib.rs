//! Triage's HTTP layer: HTML pages (askama, EN/FR), the JSON API under /api/v1 with its
//! OpenAPI document, health, readiness and metrics.
#![forbid(unsafe_code)]

pub mod api;
pub mod api_cab;
pub mod api_change_implementation;
pub mod api_changes;
pub mod api_cmdb;
pub mod api_mail;
pub mod api_major_incident_reports;
pub mod api_major_incidents;
pub mod api_notices;
pub mod api_problem_trends;
pub mod api_problems;
pub mod api_status;
pub mod api_tickets;
pub mod cab;
pub mod callers;
pub mod change_calendar;
pub mod change_implementation;
pub mod changes;
pub mod cmdb;
pub mod csrf;
pub mod ctx;
pub mod delivery;
pub mod directory;
pub mod error;
pub mod freezes;
pub mod fresh;
pub mod html;
pub mod html_cab;
pub mod html_change_implementation;
pub mod html_changes;
pub mod html_cmdb;
pub mod html_mail;
pub mod html_major_incident_reports;
pub mod html_major_incidents;
pub mod html_notices;
pub mod html_policy;
pub mod html_problem_trends;
pub mod html_problems;
pub mod html_status;
pub mod html_tickets;
pub mod i18n;
pub mod imap;
pub mod inbound;
pub mod latent_rfcs;
pub mod mail;
pub mod major_incident_reports;
pub mod major_incidents;
pub mod notices;
pub mod oidc;
pub mod policy_admin;
pub mod problem_reviews;
pub mod problem_trends;
pub mod problems;
pub mod service;
pub mod sla;
pub mod smtp;
pub mod status;
pub mod status_page_html;
pub mod status_public;
pub mod status_snapshot;
pub mod status_subscriptions;
pub mod tickets;
pub mod tls;
pub mod webhooks;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::text::Locale;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use store::Db;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Settings the web layer needs (the app crate reads them from triage.toml / TRIAGE_*).
#[derive(Debug, Clone)]
pub struct Settings {
    pub public_base_url: String,
    pub default_locale: Locale,
    pub time_zone: String,
    /// Mark cookies `Secure`: on by default when the public URL is https.
    pub secure_cookies: bool,
    /// Failed sign-ins before an account is locked, and for how long.
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
    pub attachments_dir: std::path::PathBuf,
    pub attachment_max_bytes: usize,
    /// Run on every upload (contents on standard input); a non-zero exit refuses the file.
    pub attachment_scan_command: Option<String>,
    pub reopen_days: i64,
    /// Outgoing mail server (`smtp://…`, `smtps://…`); `None`: the local outbox.
    pub smtp_url: Option<String>,
    pub mail_retry: domain::delivery::RetryPolicy,
    /// Bearer secret of `POST /api/v1/inbound/email`; `None`: the endpoint is off.
    pub inbound_token: Option<String>,
    pub inbound_max_bytes: usize,
    /// More messages than this from one sender within an hour are taken as a mail loop.
    pub inbound_sender_limit_per_hour: i64,
}

impl Settings {
    pub fn new(public_base_url: &str) -> Self {
        Self {
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            default_locale: Locale::En,
            time_zone: "America/Toronto".into(),
            secure_cookies: public_base_url.starts_with("https://"),
            lockout_threshold: 5,
            lockout_minutes: 15,
            attachments_dir: "data/attachments".into(),
            attachment_max_bytes: domain::attachment::DEFAULT_MAX_BYTES,
            attachment_scan_command: None,
            reopen_days: 7,
            smtp_url: None,
            mail_retry: Default::default(),
            inbound_token: None,
            inbound_max_bytes: 50 * 1024 * 1024,
            inbound_sender_limit_per_hour: 200,
        }
    }
}

pub struct Inner {
    pub db: Db,
    pub settings: Settings,
    pub metrics: PrometheusHandle,
    pub http: reqwest::Client,
    pub files: store::files::FileStore,
    /// Group commit for new tickets.
    pub creates: tickets::CreateQueue,
    pub directory: directory::Directory,
    /// Bearer-token callers read in the last moment.
    pub callers: callers::TokenCallers,
    /// Parsed policy packs.
    pub packs: Arc<sla::Packs>,
    /// Active webhook endpoints.
    pub webhooks: webhooks::Cache,
    /// Mail templates in use and the key that signs unsubscribe links.
    pub mailer: mail::Mailer,
    /// The public status page, rendered in memory.
    pub status: status_snapshot::Live,
    /// Status-page subscribe requests per client on this node (no mail bomb).
    pub subscribe_clients: status_subscriptions::ClientLimit,
    /// The operator organization's id, read once: it never changes while running.
    operator_org: tokio::sync::OnceCell<i64>,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder().handle())
        })
        .clone()
}

impl AppState {
    /// Composes mail with the templates in use.
    pub async fn composer(&self, conn: &mut store::Conn) -> error::AppResult<mail::Composer> {
        self.mailer
            .composer(conn, &self.settings.public_base_url)
            .await
    }

    pub fn new(db: Db, settings: Settings) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("http client");
        Self(Arc::new(Inner {
            db,
            metrics: metrics_handle(),
            http,
            files: store::files::FileStore::new(settings.attachments_dir.clone()),
            creates: tickets::CreateQueue::default(),
            directory: Default::default(),
            callers: Default::default(),
            packs: Arc::default(),
            webhooks: Default::default(),
            mailer: Default::default(),
            status: Default::default(),
            subscribe_clients: Default::default(),
            operator_org: tokio::sync::OnceCell::new(),
            settings,
        }))
    }

    /// The operator organization's id (-1 before the demo or an install created it).
    pub async fn operator_org_id(&self, conn: &mut store::Conn) -> Result<i64, error::AppError> {
        if let Some(id) = self.operator_org.get() {
            return Ok(*id);
        }
        match store::orgs::operator_id(conn).await? {
            Some(id) => {
                let _ = self.operator_org.set(id);
                Ok(id)
            }
            None => Ok(-1),
        }
    }

    /// Records a token's last use without holding up the request.
    pub fn touch_token(&self, token_id: i64) {
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Ok(mut tx) = db.begin().await
                && store::auth::touch_token(&mut tx, token_id).await.is_ok()
            {
                let _ = tx.commit().await;
            }
        });
    }
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(html::routes())
        .merge(status_subscriptions::routes())
        .merge(api::routes())
        .route("/healthz", get(|| async { "ok" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async { error::AppError::not_found() })
        .layer(middleware::from_fn_with_state(state.clone(), ctx::context))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(record_metrics))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        // Added after the layers above: the public status endpoints read nothing per
        // person and must stay cheap when everyone reloads during an outage.
        .merge(status_public::routes().layer(middleware::from_fn(record_metrics)))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("triage_http_requests_total", "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("triage_http_request_duration_seconds", "method" => method)
        .record(start.elapsed().as_secs_f64());
    response
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    );
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    response
}
