//! The review report's pages: the desk's page (review, draft, redaction highlighted,
//! release, copy requests) and the printable report, where a partner asks for a copy.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, local_time, render_status};
use crate::major_incident_reports::{self as reports, BodyInput, CopyStatus, Reading, ReviewInput};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::major_incident::find_sensitive;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/report.css", get(css))
        .route("/major-incidents/{number}/report", get(report_page))
        .route(
            "/major-incidents/{number}/report/requests",
            post(request_submit),
        )
        .route("/console/major-incidents/{number}/report", get(desk_page))
        .route(
            "/console/major-incidents/{number}/report/{step}",
            post(desk_submit),
        )
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/report.css"),
    )
        .into_response()
}

/// A line of the report as shown: `# ` and `## ` lines are headings, `- ` lines items.
pub enum Block {
    Title(String),
    Heading(String),
    Item(String),
    Text(String),
}

fn blocks(body: &str) -> Vec<Block> {
    body.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            if let Some(rest) = line.strip_prefix("## ") {
                Block::Heading(rest.to_owned())
            } else if let Some(rest) = line.strip_prefix("# ") {
                Block::Title(rest.to_owned())
            } else if let Some(rest) = line.strip_prefix("- ") {
                Block::Item(rest.to_owned())
            } else {
                Block::Text(line.to_owned())
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "major_incident_report.html")]
struct ReportPage {
    shell: Shell,
    number: String,
    summary: String,
    draft: bool,
    released: String,
    blocks: Vec<Block>,
}

#[derive(Template)]
#[template(path = "major_incident_report_request.html")]
struct RequestPage {
    shell: Shell,
    number: String,
    requested: bool,
}

fn time_zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

async fn report_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
) -> AppResult<Response> {
    let shell = Shell::new(&ctx);
    match reports::read(&state, &who, &number).await? {
        Reading::Report(report) => {
            let page = ReportPage {
                draft: report.status != "released",
                released: report
                    .released_at
                    .as_deref()
                    .map(|at| local_time(&time_zone(&state), at, "%Y-%m-%d %H:%M"))
                    .unwrap_or_default(),
                blocks: blocks(&report.body),
                number: report.number,
                summary: report.summary,
                shell,
            };
            Ok(render_status(StatusCode::OK, &page))
        }
        Reading::Partner(standing) => {
            let page = RequestPage {
                number,
                requested: standing != CopyStatus::NotRequested,
                shell,
            };
            Ok(render_status(StatusCode::OK, &page))
        }
    }
}

async fn request_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    reports::request_copy(&state, &who, &ctx.actor(), &number).await?;
    Ok(Redirect::to(&format!("/major-incidents/{number}/report")).into_response())
}

/// A stretch of the draft, flagged when it is an IP address or host name.
pub struct Segment {
    pub text: String,
    pub sensitive: bool,
}

fn segments(body: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut copied = 0;
    for found in find_sensitive(body) {
        out.push(Segment {
            text: body[copied..found.start].to_owned(),
            sensitive: false,
        });
        out.push(Segment {
            text: found.text.clone(),
            sensitive: true,
        });
        copied = found.end;
    }
    out.push(Segment {
        text: body[copied..].to_owned(),
        sensitive: false,
    });
    out
}

pub struct RequestRow {
    pub name: String,
    pub email: String,
    pub requested: String,
}

#[derive(Template)]
#[template(path = "console_major_incident_report.html")]
struct DeskPage {
    shell: Shell,
    number: String,
    summary: String,
    exists: bool,
    released: bool,
    body: String,
    segments: Vec<Segment>,
    sensitive_count: usize,
    review_held: String,
    attendees: String,
    requests: Vec<RequestRow>,
    error: Option<String>,
}

async fn desk_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let view = reports::view(state, who, number).await?;
    let tz = time_zone(state);
    let shell = Shell::new(ctx);
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let report = view.report.as_ref();
    let body = report.map(|r| r.body.clone()).unwrap_or_default();
    let page = DeskPage {
        exists: report.is_some(),
        released: report.is_some_and(|r| r.status == "released"),
        segments: segments(&body),
        sensitive_count: view.sensitive.len(),
        review_held: report
            .and_then(|r| r.review_held_at.as_deref())
            .map(|at| local_time(&tz, at, "%Y-%m-%dT%H:%M"))
            .unwrap_or_default(),
        attendees: report.map(|r| r.attendees.clone()).unwrap_or_default(),
        requests: view
            .requests
            .iter()
            .map(|r| RequestRow {
                name: r.person_name.clone(),
                email: r.email.clone(),
                requested: local_time(&tz, &r.requested_at, "%Y-%m-%d %H:%M"),
            })
            .collect(),
        body,
        number: view.number,
        summary: view.summary,
        error,
        shell,
    };
    Ok(render_status(status, &page))
}

async fn desk_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
) -> AppResult<Response> {
    desk_view(&state, &ctx, &who, &number, None).await
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

async fn desk_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((number, step)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = ctx.actor();
    let locale = ctx.tr().0;
    let outcome = match step.as_str() {
        "draft" => reports::draft(&state, &who, &actor, &number, locale).await,
        "edit" => {
            let input = BodyInput {
                body: field(&form, "body"),
            };
            reports::edit(&state, &who, &actor, &number, &input).await
        }
        "redact" => reports::redact(&state, &who, &actor, &number, locale)
            .await
            .map(|_| ()),
        "review" => {
            let input = ReviewInput {
                held_at: field(&form, "held_at"),
                attendees: field(&form, "attendees"),
            };
            reports::record_review(&state, &who, &actor, &number, &input, locale).await
        }
        "release" => reports::release(&state, &who, &actor, &number).await,
        _ => Err(AppError::not_found()),
    };
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/console/major-incidents/{number}/report")).into_response())
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let message = e.message(locale);
            desk_view(&state, &ctx, &who, &number, Some((e.status, message))).await
        }
        Err(e) => Err(e),
    }
}
