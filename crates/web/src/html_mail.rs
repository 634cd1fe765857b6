//! Pages for mail received by the desk (agents: what arrived, what became of it, and the
//! messages waiting for a decision: held for an unknown sender, quarantined for patient
//! information) and for webhook endpoints (administrators). The work is `crate::inbound`'s
//! and `crate::webhooks`', shared with the API.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, local_time, render, render_status};
use crate::inbound::{self, ReleaseInput};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use store::inbound::InboundMessage;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbound", get(list_page))
        .route("/inbound/{id}", get(message_page))
        .route("/inbound/{id}/release", post(release_submit))
        .route("/inbound/{id}/discard", post(discard_submit))
}

/// A received message as a row or a page shows it.
pub struct Row {
    pub message: InboundMessage,
    /// Received, in the operator's time zone.
    pub received: String,
    pub waiting: bool,
    /// The locale keys of its status and reason.
    pub status_key: String,
    pub reason_key: Option<String>,
}

fn to_row(state: &AppState, message: InboundMessage) -> Row {
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    Row {
        received: local_time(&tz, &message.received_at, "%Y-%m-%d %H:%M"),
        waiting: matches!(message.status.as_str(), "held" | "quarantined"),
        status_key: format!("inbound-status-{}", message.status),
        reason_key: message
            .reason
            .as_ref()
            .map(|r| format!("inbound-reason-{r}")),
        message,
    }
}

#[derive(Template)]
#[template(path = "inbound_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
    status: String,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let status = query.status.unwrap_or_else(|| "waiting".into());
    let filter = (status != "all").then_some(status.as_str());
    let messages = inbound::list(&state, &who, filter).await?;
    Ok(render(&ListPage {
        shell: Shell::new(&ctx),
        rows: messages.into_iter().map(|m| to_row(&state, m)).collect(),
        status,
    }))
}

#[derive(Template)]
#[template(path = "inbound_message.html")]
struct MessagePage {
    shell: Shell,
    item: Row,
    attachments: Vec<store::inbound::KeptAttachment>,
    /// The form as submitted, kept when it was refused.
    person: String,
    subject: String,
    body: String,
    error: Option<String>,
}

fn message_page_for(
    ctx: &Ctx,
    state: &AppState,
    message: InboundMessage,
    form: Option<&ReleaseForm>,
    error: Option<&AppError>,
) -> MessagePage {
    let shell = Shell::new(ctx);
    let error = error.map(|e| e.message(shell.tr.0));
    MessagePage {
        attachments: message.kept_attachments(),
        person: form
            .map(|f| f.person.clone())
            .unwrap_or_else(|| message.from_address.clone()),
        subject: form
            .map(|f| f.subject.clone())
            .unwrap_or_else(|| message.subject.clone()),
        body: form
            .map(|f| f.body.clone())
            .unwrap_or_else(|| message.body.clone()),
        item: to_row(state, message),
        shell,
        error,
    }
}

async fn message_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let message = inbound::read(&state, &who, id).await?;
    Ok(render(&message_page_for(&ctx, &state, message, None, None)))
}

#[derive(Debug, Default, Deserialize)]
struct ReleaseForm {
    #[serde(default)]
    person: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

async fn release_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReleaseForm>,
) -> AppResult<Response> {
    let mut conn = state.db.reader().acquire().await?;
    let message = store::inbound::get(&mut conn, id).await?;
    drop(conn);
    let quarantined = message.status == "quarantined";
    let input = ReleaseInput {
        person: (!quarantined).then(|| form.person.clone()),
        subject: quarantined.then(|| form.subject.clone()),
        body: quarantined.then(|| form.body.clone()),
    };
    match inbound::release(&state, &who, id, &input).await {
        Ok(taken) => Ok(match taken.ticket {
            Some(number) => Redirect::to(&format!("/tickets/{number}")).into_response(),
            None => Redirect::to(&format!("/inbound/{id}")).into_response(),
        }),
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::FORBIDDEN => {
            let status = e.status;
            let page = message_page_for(&ctx, &state, message, Some(&form), Some(&e));
            Ok(render_status(status, &page))
        }
        Err(e) => Err(e),
    }
}

async fn discard_submit(
    State(state): State<AppState>,
    PageUser(_, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::html::Empty>,
) -> AppResult<Response> {
    inbound::discard(&state, &who, id).await?;
    Ok(Redirect::to("/inbound").into_response())
}

// ---------- webhooks (administrators) ----------

pub fn webhook_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(webhooks_page).post(webhook_create))
        .route("/admin/webhooks/{id}", get(webhook_page))
        .route("/admin/webhooks/{id}/test", post(webhook_test))
        .route("/admin/webhooks/{id}/deactivate", post(webhook_deactivate))
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    shell: Shell,
    endpoints: Vec<store::webhooks::Endpoint>,
    event_types: Vec<&'static str>,
    /// A refused form, as submitted, and why.
    url: String,
    description: String,
    error: Option<String>,
}

async fn webhooks_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    let endpoints = crate::webhooks::list(&state, &who).await?;
    Ok(render(&WebhooksPage {
        shell: Shell::new(&ctx),
        endpoints,
        event_types: domain::webhook::EVENT_TYPES[..3].to_vec(),
        url: String::new(),
        description: String::new(),
        error: None,
    }))
}

#[derive(Template)]
#[template(path = "admin_webhook.html")]
struct WebhookPage {
    shell: Shell,
    endpoint: store::webhooks::Endpoint,
    types: Vec<String>,
    deliveries: Vec<store::outbox::OutboxMessage>,
    /// Shown once, right after the endpoint was created.
    secret: Option<String>,
}

async fn webhook_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (endpoint, deliveries) = crate::webhooks::show(&state, &who, id).await?;
    Ok(render(&WebhookPage {
        shell: Shell::new(&ctx),
        types: endpoint.types(),
        endpoint,
        deliveries,
        secret: None,
    }))
}

async fn webhook_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let input = crate::webhooks::EndpointInput {
        url: field("url"),
        description: field("description"),
        event_types: form
            .iter()
            .filter(|(k, _)| k == "event_types")
            .map(|(_, v)| v.clone())
            .collect(),
        organization_id: None,
    };
    match crate::webhooks::create(&state, &who, &ctx.actor(), &input).await {
        Ok(endpoint) => {
            let (shown, deliveries) = crate::webhooks::show(&state, &who, endpoint.id).await?;
            Ok(render(&WebhookPage {
                shell: Shell::new(&ctx),
                types: shown.types(),
                endpoint: shown,
                deliveries,
                secret: Some(endpoint.secret),
            }))
        }
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::FORBIDDEN => {
            let shell = Shell::new(&ctx);
            let error = Some(e.message(shell.tr.0));
            let status = e.status;
            let endpoints = crate::webhooks::list(&state, &who).await?;
            Ok(render_status(
                status,
                &WebhooksPage {
                    shell,
                    endpoints,
                    event_types: domain::webhook::EVENT_TYPES[..3].to_vec(),
                    url: input.url,
                    description: input.description,
                    error,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

async fn webhook_test(
    State(state): State<AppState>,
    PageUser(_, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::html::Empty>,
) -> AppResult<Response> {
    crate::webhooks::send_test(&state, &who, id).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

async fn webhook_deactivate(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::html::Empty>,
) -> AppResult<Response> {
    crate::webhooks::deactivate(&state, &who, &ctx.actor(), id).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}
