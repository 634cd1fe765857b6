//! The desk's status-page console: components and their statuses, incidents and
//! maintenances with their updates and the notices sent, the banner, and publishing a desk
//! incident. The work is `crate::status`', shared with the API.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, render_status};
use crate::status::{self, AffectedInput, EventDetail};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::policy::Action;
use domain::status_page::{ComponentStatus, IncidentImpact, IncidentStatus, MaintenanceStatus};
use domain::text::Locale;
use std::str::FromStr;
use store::status_page as sp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/status", get(overview))
        .route("/console/status/incidents", post(incident_submit))
        .route("/console/status/maintenances", post(maintenance_submit))
        .route("/console/status/banner", post(banner_submit))
        .route("/console/status/banner/clear", post(banner_clear))
        .route("/console/status/components", post(component_submit))
        .route("/console/status/groups", post(group_submit))
        .route(
            "/console/status/components/{id}/status",
            post(component_status_submit),
        )
        .route("/console/status/{id}", get(event_page))
        .route("/console/status/{id}/updates", post(update_submit))
        .route("/console/status/{id}/schedule", post(schedule_submit))
        .route(
            "/tickets/{number}/publish",
            get(publish_page).post(publish_submit),
        )
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn time_zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A `datetime-local` value (the operator's time zone) as an RFC 3339 instant; anything
/// else is passed on for the service to refuse with its field.
fn from_local(state: &AppState, value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    match value.parse::<jiff::civil::DateTime>() {
        Ok(dt) => dt
            .to_zoned(time_zone(state))
            .map(|z| z.timestamp().to_string())
            .unwrap_or_else(|_| value.to_owned()),
        Err(_) => value.to_owned(),
    }
}

/// A stored instant as a `datetime-local` value.
fn to_local(state: &AppState, db: Option<&str>) -> String {
    db.and_then(domain::time::from_db)
        .map(|t| {
            t.to_zoned(time_zone(state))
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn shown(state: &AppState, db: &str, locale: Locale) -> String {
    status::local_time(db, &time_zone(state), locale)
}

/// The affected components chosen on a form: `c{id}` is the status ("" not affected),
/// `t{id}_en` and `t{id}_fr` its line of text.
fn affected_from(form: &[(String, String)], components: &[sp::Component]) -> Vec<AffectedInput> {
    components
        .iter()
        .filter_map(|c| {
            let status = field(form, &format!("c{}", c.id));
            (!status.is_empty()).then(|| AffectedInput {
                component_id: c.id,
                status,
                text_en: field(form, &format!("t{}_en", c.id)),
                text_fr: field(form, &format!("t{}_fr", c.id)),
            })
        })
        .collect()
}

fn refused(e: AppError, locale: Locale) -> Result<String, AppError> {
    if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN {
        Ok(e.message(locale))
    } else {
        Err(e)
    }
}

/// A value and its label, for the page's selects.
pub struct Choice {
    pub value: &'static str,
    pub label: String,
}

fn choices<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    label: impl Fn(T) -> String,
) -> Vec<Choice> {
    all.iter()
        .map(|&v| Choice {
            value: value(v),
            label: label(v),
        })
        .collect()
}

pub struct ComponentRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub group: String,
    pub status: String,
    pub status_label: String,
}

pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub status_label: String,
    pub impact: String,
    pub when: String,
    /// A critical incident's next update, and whether it is late.
    pub due: Option<String>,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "console_status.html")]
struct OverviewPage {
    shell: Shell,
    components: Vec<ComponentRow>,
    groups: Vec<(i64, String)>,
    open: Vec<EventRow>,
    recent: Vec<EventRow>,
    banners: Vec<sp::Banner>,
    component_statuses: Vec<Choice>,
    affecting_statuses: Vec<Choice>,
    impacts: Vec<Choice>,
    incident_statuses: Vec<Choice>,
    error: Option<String>,
}

fn event_row(state: &AppState, e: &sp::Event, locale: Locale) -> EventRow {
    let due = if e.kind == status::INCIDENT && e.resolved_at.is_none() {
        status::next_update_due(e)
    } else {
        None
    };
    let when = match (&e.scheduled_for, &e.scheduled_until) {
        (Some(a), Some(b)) => format!("{} – {}", shown(state, a, locale), shown(state, b, locale)),
        _ => shown(state, &e.created_at, locale),
    };
    EventRow {
        id: e.id,
        kind: e.kind.clone(),
        title: locale.pick(&e.title_en, &e.title_fr).to_owned(),
        status_label: status::status_label(e, locale),
        impact: IncidentImpact::from_str(&e.impact)
            .map(|i| i.label(locale).to_owned())
            .unwrap_or_else(|_| e.impact.clone()),
        when,
        overdue: due.is_some_and(|d| d < domain::time::now()),
        due: due.map(|d| shown(state, &domain::time::to_db(d), locale)),
    }
}

async fn overview_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let mut conn = state.db.reader().acquire().await?;
    let groups = sp::groups(&mut conn).await?;
    let components = sp::components(&mut conn).await?;
    let events = status::recent(&mut conn).await?;
    let banners = sp::banners(&mut conn).await?;
    drop(conn);
    let group_name = |id: Option<i64>| {
        groups
            .iter()
            .find(|g| Some(g.id) == id)
            .map(|g| locale.pick(&g.name_en, &g.name_fr).to_owned())
            .unwrap_or_default()
    };
    let components = components
        .iter()
        .map(|c| ComponentRow {
            id: c.id,
            code: c.code.clone(),
            name: locale.pick(&c.name_en, &c.name_fr).to_owned(),
            group: group_name(c.group_id),
            status: c.status.clone(),
            status_label: ComponentStatus::from_str(&c.status)
                .map(|s| s.label(locale).to_owned())
                .unwrap_or_default(),
        })
        .collect();
    let (open, closed): (Vec<_>, Vec<_>) = events.iter().partition(|e| e.resolved_at.is_none());
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = OverviewPage {
        components,
        groups: groups
            .iter()
            .map(|g| (g.id, locale.pick(&g.name_en, &g.name_fr).to_owned()))
            .collect(),
        open: open.iter().map(|e| event_row(state, e, locale)).collect(),
        recent: closed
            .iter()
            .take(20)
            .map(|e| event_row(state, e, locale))
            .collect(),
        banners,
        component_statuses: choices(&ComponentStatus::ALL, ComponentStatus::as_str, |s| {
            s.label(locale).to_owned()
        }),
        affecting_statuses: choices(
            &[
                ComponentStatus::DegradedPerformance,
                ComponentStatus::PartialOutage,
                ComponentStatus::MajorOutage,
                ComponentStatus::UnderMaintenance,
            ],
            ComponentStatus::as_str,
            |s| s.label(locale).to_owned(),
        ),
        impacts: choices(&IncidentImpact::ALL, IncidentImpact::as_str, |s| {
            s.label(locale).to_owned()
        }),
        incident_statuses: choices(
            &[
                IncidentStatus::Investigating,
                IncidentStatus::Identified,
                IncidentStatus::Monitoring,
            ],
            IncidentStatus::as_str,
            |s| s.label(locale).to_owned(),
        ),
        error,
        shell,
    };
    Ok(render_status(status, &page))
}

async fn overview(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    overview_view(&state, &ctx, &who, None).await
}

/// Runs a console action: on success go to `then`, on a refused form show the overview
/// with the message.
async fn act<T>(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    outcome: AppResult<T>,
    then: impl FnOnce(T) -> String,
) -> AppResult<Response> {
    match outcome {
        Ok(value) => Ok(Redirect::to(&then(value)).into_response()),
        Err(e) => {
            let status = e.status;
            let message = refused(e, ctx.tr().0)?;
            overview_view(state, ctx, who, Some((status, message))).await
        }
    }
}

async fn components_of(state: &AppState) -> AppResult<Vec<sp::Component>> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(sp::components(&mut conn).await?)
}

async fn incident_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let components = components_of(&state).await?;
    let input = status::IncidentInput {
        title_en: field(&form, "title_en"),
        title_fr: field(&form, "title_fr"),
        impact: field(&form, "impact"),
        status: Some(field(&form, "status")),
        body_en: field(&form, "body_en"),
        body_fr: field(&form, "body_fr"),
        components: affected_from(&form, &components),
        next_update_by: Some(from_local(&state, &field(&form, "next_update_by"))),
        banner: Some(field(&form, "banner") == "on"),
    };
    let outcome = status::create_incident(&state, &ctx.actor(), &input, None).await;
    act(&state, &ctx, &who, outcome, |p| {
        format!("/console/status/{}", p.event_id)
    })
    .await
}

async fn maintenance_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let components = components_of(&state).await?;
    let input = status::MaintenanceInput {
        title_en: field(&form, "title_en"),
        title_fr: field(&form, "title_fr"),
        scheduled_for: from_local(&state, &field(&form, "scheduled_for")),
        scheduled_until: from_local(&state, &field(&form, "scheduled_until")),
        body_en: field(&form, "body_en"),
        body_fr: field(&form, "body_fr"),
        components: affected_from(&form, &components),
        auto_transition: Some(field(&form, "auto_transition") == "on"),
    };
    let outcome = status::create_maintenance(&state, &ctx.actor(), &input, None).await;
    act(&state, &ctx, &who, outcome, |p| {
        format!("/console/status/{}", p.event_id)
    })
    .await
}

async fn banner_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let input = status::BannerInput {
        scope: field(&form, "scope"),
        text_en: field(&form, "text_en"),
        text_fr: field(&form, "text_fr"),
        level: Some(field(&form, "level")).filter(|l| !l.is_empty()),
    };
    let outcome = status::set_banner(&state, &ctx.actor(), &input).await;
    act(&state, &ctx, &who, outcome, |()| "/console/status".into()).await
}

async fn banner_clear(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let outcome = status::clear_banner(&state, &ctx.actor(), &field(&form, "scope")).await;
    act(&state, &ctx, &who, outcome, |()| "/console/status".into()).await
}

async fn component_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::EditCatalogue)?;
    let input = status::ComponentInput {
        code: field(&form, "code"),
        name_en: field(&form, "name_en"),
        name_fr: field(&form, "name_fr"),
        description_en: field(&form, "description_en"),
        description_fr: field(&form, "description_fr"),
        group_id: field(&form, "group_id").parse().ok(),
        service_id: None,
        source_organization_id: None,
        position: None,
    };
    let outcome = status::create_component(&state, &ctx.actor(), &input).await;
    act(&state, &ctx, &who, outcome, |_| "/console/status".into()).await
}

async fn group_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::EditCatalogue)?;
    let input = status::GroupInput {
        name_en: field(&form, "name_en"),
        name_fr: field(&form, "name_fr"),
        position: None,
    };
    let outcome = status::create_group(&state, &ctx.actor(), &input).await;
    act(&state, &ctx, &who, outcome, |_| "/console/status".into()).await
}

async fn component_status_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let outcome =
        status::set_component_status(&state, &ctx.actor(), id, &field(&form, "status")).await;
    act(&state, &ctx, &who, outcome, |()| "/console/status".into()).await
}

// ---------- one incident or maintenance ----------

pub struct AffectedRow {
    pub id: i64,
    pub name: String,
    /// The status it gives the component ("" when not affected).
    pub status: String,
    pub text_en: String,
    pub text_fr: String,
}

pub struct UpdateRow {
    pub at: String,
    pub status_label: String,
    pub body: String,
    pub next_update_by: Option<String>,
}

pub struct NoticeRow {
    pub key: String,
    pub at: String,
    pub recipients: i64,
}

#[derive(Template)]
#[template(path = "console_status_event.html")]
struct EventPage {
    shell: Shell,
    row: EventRow,
    is_maintenance: bool,
    is_open: bool,
    ticket_number: Option<String>,
    affected: Vec<AffectedRow>,
    updates: Vec<UpdateRow>,
    notices: Vec<NoticeRow>,
    statuses: Vec<Choice>,
    affecting_statuses: Vec<Choice>,
    impacts: Vec<Choice>,
    current_status: String,
    current_impact: String,
    scheduled_for: String,
    scheduled_until: String,
    error: Option<String>,
}

async fn event_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let mut conn = state.db.reader().acquire().await?;
    let detail: EventDetail = status::detail(&mut conn, id).await?;
    let components = sp::components(&mut conn).await?;
    drop(conn);
    let e = &detail.event;
    let is_maintenance = e.kind == status::MAINTENANCE;
    let affected = components
        .iter()
        .map(|c| {
            let a = detail.affected.iter().find(|a| a.component_id == c.id);
            AffectedRow {
                id: c.id,
                name: locale.pick(&c.name_en, &c.name_fr).to_owned(),
                status: a.map(|a| a.status.clone()).unwrap_or_default(),
                text_en: a.map(|a| a.text_en.clone()).unwrap_or_default(),
                text_fr: a.map(|a| a.text_fr.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let statuses = if is_maintenance {
        choices(&MaintenanceStatus::ALL, MaintenanceStatus::as_str, |s| {
            s.label(locale).to_owned()
        })
    } else {
        choices(&IncidentStatus::ALL, IncidentStatus::as_str, |s| {
            s.label(locale).to_owned()
        })
    };
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = EventPage {
        row: event_row(state, e, locale),
        is_maintenance,
        is_open: e.resolved_at.is_none()
            || (e.kind == status::INCIDENT && e.status == IncidentStatus::Resolved.as_str()),
        ticket_number: detail.ticket_number.clone(),
        affected,
        updates: detail
            .updates
            .iter()
            .map(|u| UpdateRow {
                at: shown(state, &u.created_at, locale),
                status_label: if is_maintenance {
                    MaintenanceStatus::from_str(&u.status)
                        .map(|s| s.label(locale).to_owned())
                        .unwrap_or_default()
                } else {
                    IncidentStatus::from_str(&u.status)
                        .map(|s| s.label(locale).to_owned())
                        .unwrap_or_default()
                },
                body: locale.pick(&u.body_en, &u.body_fr).to_owned(),
                next_update_by: u.next_update_by.as_deref().map(|t| shown(state, t, locale)),
            })
            .collect(),
        notices: detail
            .notices
            .iter()
            .map(|n| NoticeRow {
                key: n.notice_key.clone(),
                at: shown(state, &n.sent_at, locale),
                recipients: n.recipients,
            })
            .collect(),
        statuses,
        affecting_statuses: choices(
            &[
                ComponentStatus::DegradedPerformance,
                ComponentStatus::PartialOutage,
                ComponentStatus::MajorOutage,
                ComponentStatus::UnderMaintenance,
            ],
            ComponentStatus::as_str,
            |s| s.label(locale).to_owned(),
        ),
        impacts: choices(&IncidentImpact::ALL, IncidentImpact::as_str, |s| {
            s.label(locale).to_owned()
        }),
        current_status: e.status.clone(),
        current_impact: e.impact.clone(),
        scheduled_for: to_local(state, e.scheduled_for.as_deref()),
        scheduled_until: to_local(state, e.scheduled_until.as_deref()),
        error,
        shell,
    };
    Ok(render_status(status, &page))
}

async fn event_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    event_view(&state, &ctx, &who, id, None).await
}

async fn on_event<T>(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    outcome: AppResult<T>,
) -> AppResult<Response> {
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/console/status/{id}")).into_response()),
        Err(e) => {
            let status = e.status;
            let message = refused(e, ctx.tr().0)?;
            event_view(state, ctx, who, id, Some((status, message))).await
        }
    }
}

async fn update_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let components = components_of(&state).await?;
    let input = status::UpdateInput {
        status: field(&form, "status"),
        body_en: field(&form, "body_en"),
        body_fr: field(&form, "body_fr"),
        impact: Some(field(&form, "impact")).filter(|i| !i.is_empty()),
        components: Some(affected_from(&form, &components)),
        next_update_by: Some(from_local(&state, &field(&form, "next_update_by"))),
    };
    let outcome = status::post_update(&state, &ctx.actor(), id, &input).await;
    on_event(&state, &ctx, &who, id, outcome).await
}

async fn schedule_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let input = status::RescheduleInput {
        scheduled_for: from_local(&state, &field(&form, "scheduled_for")),
        scheduled_until: from_local(&state, &field(&form, "scheduled_until")),
    };
    let outcome = status::reschedule(&state, &ctx.actor(), id, &input).await;
    on_event(&state, &ctx, &who, id, outcome).await
}

// ---------- publishing a desk incident ----------

#[derive(Template)]
#[template(path = "console_status_publish.html")]
struct PublishPage {
    shell: Shell,
    number: String,
    summary: String,
    impact: String,
    banner: bool,
    impacts: Vec<Choice>,
    affecting_statuses: Vec<Choice>,
    affected: Vec<AffectedRow>,
    error: Option<String>,
}

async fn publish_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let mut conn = state.db.reader().acquire().await?;
    let ticket =
        store::tickets::get_by_number(&mut conn, &who.principal.ticket_scope(), number).await?;
    if ticket.kind != "incident" {
        return Err(AppError::not_found());
    }
    let components = sp::components(&mut conn).await?;
    drop(conn);
    let affected = components
        .iter()
        .map(|c| AffectedRow {
            id: c.id,
            name: locale.pick(&c.name_en, &c.name_fr).to_owned(),
            status: if c.service_id.is_some() && c.service_id == ticket.service_id {
                ComponentStatus::MajorOutage.as_str().to_owned()
            } else {
                String::new()
            },
            text_en: String::new(),
            text_fr: String::new(),
        })
        .collect();
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = PublishPage {
        number: ticket.number.clone(),
        summary: ticket.summary.clone(),
        impact: status::impact_of_priority(ticket.priority)
            .as_str()
            .to_owned(),
        banner: ticket.priority <= 2,
        impacts: choices(&IncidentImpact::ALL, IncidentImpact::as_str, |s| {
            s.label(locale).to_owned()
        }),
        affecting_statuses: choices(
            &[
                ComponentStatus::DegradedPerformance,
                ComponentStatus::PartialOutage,
                ComponentStatus::MajorOutage,
            ],
            ComponentStatus::as_str,
            |s| s.label(locale).to_owned(),
        ),
        affected,
        error,
        shell,
    };
    Ok(render_status(status, &page))
}

async fn publish_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
) -> AppResult<Response> {
    publish_view(&state, &ctx, &who, &number, None).await
}

async fn publish_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let components = components_of(&state).await?;
    let input = status::PublishInput {
        title_en: Some(field(&form, "title_en")),
        title_fr: Some(field(&form, "title_fr")),
        impact: Some(field(&form, "impact")),
        body_en: field(&form, "body_en"),
        body_fr: field(&form, "body_fr"),
        components: Some(affected_from(&form, &components)),
        next_update_by: Some(from_local(&state, &field(&form, "next_update_by"))),
        banner: Some(field(&form, "banner") == "on"),
    };
    match status::publish_ticket(
        &state,
        &ctx.actor(),
        &who.principal.ticket_scope(),
        &number,
        &input,
    )
    .await
    {
        Ok(posted) => {
            Ok(Redirect::to(&format!("/console/status/{}", posted.event_id)).into_response())
        }
        Err(e) => {
            let status = e.status;
            let message = refused(e, ctx.tr().0)?;
            publish_view(&state, &ctx, &who, &number, Some((status, message))).await
        }
    }
}
