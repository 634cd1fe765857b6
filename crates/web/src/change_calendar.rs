//! The change calendar: approved and pending changes, the pack's maintenance windows and
//! the freezes of a period, optionally for one service; as a week or month page in the
//! console, as JSON and as an iCalendar export. Operator agents only: partners see their
//! own changes and freezes on their pages.
use crate::AppState;
use crate::api::ErrorBody;
use crate::ctx::{ApiUser, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::Shell;
use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use domain::change::{ChangeStatus, ChangeType};
use domain::change_schedule::{IcsEvent, ics_calendar, week_start};
use domain::policy::Action;
use domain::text::Locale;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;
use utoipa::{IntoParams, ToSchema};

/// Longest period one request covers.
const MAX_DAYS: i64 = 400;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/changes/calendar", get(calendar_page))
}

/// What an event on the calendar is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Change,
    Window,
    Freeze,
}

/// One event of the change calendar.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarEvent {
    pub kind: EventKind,
    /// Stable across exports: `chg-000012@triage`, `window-0-20261213@triage`, `freeze-3@triage`.
    pub uid: String,
    pub title: String,
    #[schema(value_type = String)]
    pub starts_at: Timestamp,
    #[schema(value_type = String)]
    pub ends_at: Timestamp,
    /// Changes: `approved` (authorized and later) or `pending` (submitted, assessed).
    pub approval: Option<String>,
    /// Changes: the workflow status and type.
    pub change_status: Option<String>,
    pub change_type: Option<String>,
    pub number: Option<String>,
    /// Service codes (changes; freezes limited to some services).
    pub services: Vec<String>,
    /// The requesting organization (changes) or announcing partner (freezes).
    pub organization: Option<String>,
    /// Where to read more, relative to the site.
    pub url: Option<String>,
}

/// A period of the calendar and its events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarPeriod {
    #[schema(value_type = String)]
    pub from: Timestamp,
    #[schema(value_type = String)]
    pub to: Timestamp,
    pub service: Option<String>,
    pub events: Vec<CalendarEvent>,
}

fn require_agent(who: &Identity) -> AppResult<()> {
    who.require(Action::WorkTickets)
}

/// The events overlapping `[from, to)`, changes and freezes of `service` only when one is
/// given (windows apply to every service), in order of start.
pub async fn events(
    state: &AppState,
    who: &Identity,
    from: Timestamp,
    to: Timestamp,
    service: Option<&str>,
    locale: Locale,
) -> AppResult<CalendarPeriod> {
    require_agent(who)?;
    if to <= from {
        return Err(AppError::invalid("end_before_start", "to"));
    }
    if to.duration_since(from).as_hours() > MAX_DAYS * 24 {
        return Err(AppError::invalid("range_too_long", "to"));
    }
    let service = service.map(str::trim).filter(|s| !s.is_empty());
    let mut conn = state.db.reader().acquire().await?;
    if let Some(code) = service
        && !store::orgs::services(&mut conn)
            .await?
            .iter()
            .any(|known| known.code == code)
    {
        return Err(AppError::invalid("unknown_service", "service"));
    }
    let policy = crate::changes::change_policy(state, &mut conn).await?;
    let (from_db, to_db) = (domain::time::to_db(from), domain::time::to_db(to));
    let filter = service.unwrap_or("");
    let changes =
        store::change_calendar::changes_between(&mut conn, &from_db, &to_db, filter).await?;
    let freezes =
        store::change_calendar::freezes_between(&mut conn, &from_db, &to_db, filter).await?;
    let ids: Vec<i64> = changes.iter().map(|c| c.ticket_id).collect();
    let mut services: HashMap<i64, Vec<String>> = HashMap::new();
    for row in store::changes::services_of(&mut conn, &ids).await? {
        services.entry(row.ticket_id).or_default().push(row.code);
    }
    let freeze_ids: Vec<i64> = freezes.iter().map(|f| f.id).collect();
    let mut freeze_services: HashMap<i64, Vec<String>> = HashMap::new();
    for (freeze_id, code) in store::changes::freeze_service_codes(&mut conn, &freeze_ids).await? {
        freeze_services.entry(freeze_id).or_default().push(code);
    }
    drop(conn);

    let pick = |en: &str, fr: &str| match locale {
        Locale::En => en.to_owned(),
        Locale::Fr => fr.to_owned(),
    };
    let mut events = Vec::new();
    for change in changes {
        let (Some(starts_at), Some(ends_at)) = (
            domain::time::from_db(&change.starts_at),
            domain::time::from_db(&change.ends_at),
        ) else {
            continue;
        };
        let status = ChangeStatus::from_str(&change.status).ok();
        let approval = match status {
            Some(status) if status.is_approved() => "approved",
            _ => "pending",
        };
        let kind_label = ChangeType::from_str(&change.change_type)
            .map(|kind| kind.label(locale).to_owned())
            .unwrap_or_else(|_| change.change_type.clone());
        events.push(CalendarEvent {
            kind: EventKind::Change,
            uid: format!("{}@triage", change.number.to_lowercase()),
            title: format!("{} {} ({kind_label})", change.number, change.summary),
            starts_at,
            ends_at,
            approval: Some(approval.to_owned()),
            change_status: Some(change.status.clone()),
            change_type: Some(change.change_type.clone()),
            number: Some(change.number.clone()),
            services: services.remove(&change.ticket_id).unwrap_or_default(),
            organization: Some(pick(
                &change.organization_name_en,
                &change.organization_name_fr,
            )),
            url: Some(format!("/console/changes/{}", change.number)),
        });
    }
    let windows = policy
        .windows_between(from, to)
        .map_err(|_| AppError::invalid("range_too_long", "to"))?;
    for window in windows {
        let rule = &policy.windows[window.rule];
        let day = window
            .starts_at
            .to_zoned(policy.calendar.time_zone().clone())
            .strftime("%Y%m%d")
            .to_string();
        events.push(CalendarEvent {
            kind: EventKind::Window,
            uid: format!("window-{}-{day}@triage", window.rule),
            title: rule.label(locale).to_owned(),
            starts_at: window.starts_at,
            ends_at: window.ends_at,
            approval: None,
            change_status: None,
            change_type: None,
            number: None,
            services: Vec::new(),
            organization: None,
            url: None,
        });
    }
    for freeze in freezes {
        let (Some(starts_at), Some(ends_at)) = (
            domain::time::from_db(&freeze.starts_at),
            domain::time::from_db(&freeze.ends_at),
        ) else {
            continue;
        };
        let prefix = match locale {
            Locale::En => "Change freeze",
            Locale::Fr => "Gel des changements",
        };
        events.push(CalendarEvent {
            kind: EventKind::Freeze,
            uid: format!("freeze-{}@triage", freeze.id),
            title: format!("{prefix}: {}", freeze.name),
            starts_at,
            ends_at,
            approval: None,
            change_status: None,
            change_type: None,
            number: None,
            services: freeze_services.remove(&freeze.id).unwrap_or_default(),
            organization: match (&freeze.organization_name_en, &freeze.organization_name_fr) {
                (Some(en), Some(fr)) => Some(pick(en, fr)),
                _ => None,
            },
            url: Some("/console/freezes".to_owned()),
        });
    }
    events.sort_by(|a, b| (a.starts_at, &a.uid).cmp(&(b.starts_at, &b.uid)));
    Ok(CalendarPeriod {
        from,
        to,
        service: service.map(str::to_owned),
        events,
    })
}

/// The period as an iCalendar document: one event per change, window occurrence and freeze.
pub fn to_ics(period: &CalendarPeriod, base_url: &str, locale: Locale) -> String {
    let events: Vec<IcsEvent> = period
        .events
        .iter()
        .map(|event| {
            let mut description = Vec::new();
            if let Some(status) = &event.change_status {
                description.push(match locale {
                    Locale::En => format!("Status: {status}"),
                    Locale::Fr => format!("Statut : {status}"),
                });
            }
            if !event.services.is_empty() {
                description.push(format!("Services: {}", event.services.join(", ")));
            }
            if let Some(organization) = &event.organization {
                description.push(organization.clone());
            }
            IcsEvent {
                uid: event.uid.clone(),
                start: event.starts_at,
                end: event.ends_at,
                summary: event.title.clone(),
                description: description.join("\n"),
                category: match event.kind {
                    EventKind::Change => "CHANGE",
                    EventKind::Window => "WINDOW",
                    EventKind::Freeze => "FREEZE",
                },
                status: match event.approval.as_deref() {
                    Some("pending") => "TENTATIVE",
                    _ => "CONFIRMED",
                },
                url: event
                    .url
                    .as_ref()
                    .map(|path| format!("{}{path}", base_url.trim_end_matches('/'))),
            }
        })
        .collect();
    let name = match locale {
        Locale::En => "Triage change calendar",
        Locale::Fr => "Calendrier des changements Triage",
    };
    ics_calendar(name, &events, domain::time::now())
}

// ---- API ------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// Start of the period (RFC 3339). Default: the start of this week (JSON) or 30 days
    /// ago (iCalendar).
    pub from: Option<String>,
    /// End of the period, at most 400 days after `from`. Default: a week after `from`
    /// (JSON) or 180 days from now (iCalendar).
    pub to: Option<String>,
    /// A service code: only its changes and the freezes covering it.
    pub service: Option<String>,
}

fn instant(value: Option<&str>, field: &'static str) -> AppResult<Option<Timestamp>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse::<Timestamp>()
            .ok()
            .filter(|at| in_range(at.to_zoned(TimeZone::UTC).date()))
            .map(Some)
            .ok_or_else(|| AppError::invalid("invalid_datetime", field)),
    }
}

fn period(
    q: &PeriodQuery,
    zone: &TimeZone,
    default_back: i64,
    default_ahead: i64,
) -> AppResult<(Timestamp, Timestamp)> {
    let now = domain::time::now();
    let from = match instant(q.from.as_deref(), "from")? {
        Some(from) => from,
        None if default_back == 0 => start_of(zone, week_start(now.to_zoned(zone.clone()).date())),
        None => now - (default_back * 24).hours(),
    };
    let to = match instant(q.to.as_deref(), "to")? {
        Some(to) => to,
        None if default_back == 0 => from + (default_ahead * 24).hours(),
        None => now + (default_ahead * 24).hours(),
    };
    Ok((from, to))
}

/// Dates the calendar accepts: far enough from jiff's limits that a month's grid, a default
/// period or a neighbouring page is always representable.
fn in_range(date: Date) -> bool {
    (1900..=9000).contains(&date.year())
}

fn start_of(zone: &TimeZone, date: Date) -> Timestamp {
    date.to_zoned(zone.clone())
        .map(|zoned| zoned.timestamp())
        .unwrap_or_else(|_| domain::time::now())
}

/// Agents: the change calendar of a period as events: changes (approved and pending),
/// maintenance windows and freezes.
#[utoipa::path(get, path = "/api/v1/changes/calendar", tag = "changes", params(PeriodQuery),
    responses((status = 200, body = CalendarPeriod), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn calendar_json(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Json<CalendarPeriod>> {
    let ApiUser(ctx, who) = api_user;
    let zone = zone(&state, &who).await?;
    let (from, to) = period(&q, &zone, 0, 7)?;
    Ok(Json(
        events(&state, &who, from, to, q.service.as_deref(), ctx.locale).await?,
    ))
}

/// Agents: the change calendar as iCalendar (RFC 5545), one event per change, window and
/// freeze; from 30 days ago to 180 days ahead unless `from`/`to` say otherwise.
#[utoipa::path(get, path = "/api/v1/changes/calendar.ics", tag = "changes", params(PeriodQuery),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn calendar_ics(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let zone = zone(&state, &who).await?;
    let (from, to) = period(&q, &zone, 30, 180)?;
    let period = events(&state, &who, from, to, q.service.as_deref(), ctx.locale).await?;
    Ok(ics_response(&to_ics(
        &period,
        &state.settings.public_base_url,
        ctx.locale,
    )))
}

fn ics_response(body: &str) -> Response {
    let mut response = body.to_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"changes.ics\""),
    );
    response
}

async fn zone(state: &AppState, who: &Identity) -> AppResult<TimeZone> {
    require_agent(who)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(crate::changes::change_policy(state, &mut conn)
        .await?
        .calendar
        .time_zone()
        .clone())
}

// ---- Page -----------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    view: Option<String>,
    date: Option<String>,
    service: Option<String>,
    format: Option<String>,
}

pub struct DayEvent {
    pub kind: &'static str,
    pub time: String,
    pub title: String,
    /// `approved`, `pending` or empty (not a change).
    pub state: &'static str,
    pub approval: String,
    pub url: Option<String>,
}

pub struct Day {
    pub date: String,
    pub label: String,
    pub today: bool,
    pub outside: bool,
    pub events: Vec<DayEvent>,
}

pub struct ServiceChoice {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "change_calendar.html")]
struct CalendarPage {
    shell: Shell,
    month: bool,
    title: String,
    weekdays: Vec<String>,
    weeks: Vec<Vec<Day>>,
    previous: String,
    next: String,
    today: String,
    week_link: String,
    month_link: String,
    ics_link: String,
    services: Vec<ServiceChoice>,
    date: String,
    count: usize,
}

fn query_link(view: &str, date: Date, service: &str) -> String {
    let mut link = format!("/console/changes/calendar?view={view}&date={date}");
    if !service.is_empty() {
        link.push_str("&service=");
        link.push_str(&urlencoding(service));
    }
    link
}

fn urlencoding(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)])
        .map(|encoded| encoded.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}

async fn calendar_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let zone = zone(&state, &who).await?;
    let today = domain::time::now().to_zoned(zone.clone()).date();
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => today,
        Some(text) => text
            .parse::<Date>()
            .ok()
            .filter(|date| in_range(*date))
            .ok_or_else(|| AppError::invalid("invalid_date", "date"))?,
    };
    let month = q.view.as_deref() == Some("month");
    let service = q.service.clone().unwrap_or_default().trim().to_owned();
    let (first, last_exclusive, previous, next) = if month {
        let first_of_month = date.first_of_month();
        let grid_start = week_start(first_of_month);
        let last_of_month = date.last_of_month();
        let grid_end = week_start(last_of_month) + 7.days();
        (
            grid_start,
            grid_end,
            first_of_month - 1.month(),
            first_of_month + 1.month(),
        )
    } else {
        let start = week_start(date);
        (start, start + 7.days(), start - 7.days(), start + 7.days())
    };
    let (from, to) = (start_of(&zone, first), start_of(&zone, last_exclusive));
    let period = events(&state, &who, from, to, Some(service.as_str()), ctx.locale).await?;
    if q.format.as_deref() == Some("ics") {
        return Ok(ics_response(&to_ics(
            &period,
            &state.settings.public_base_url,
            ctx.locale,
        )));
    }
    let mut conn = state.db.reader().acquire().await?;
    let all_services = store::orgs::services(&mut conn).await?;
    drop(conn);
    let view = if month { "month" } else { "week" };
    let mut days = Vec::new();
    let mut day = first;
    while day < last_exclusive {
        let day_start = start_of(&zone, day);
        let day_end = start_of(&zone, day + 1.day());
        let events = period
            .events
            .iter()
            .filter(|event| event.starts_at < day_end && event.ends_at > day_start)
            .map(|event| {
                let starts = event.starts_at.to_zoned(zone.clone());
                let ends = event.ends_at.to_zoned(zone.clone());
                let time = if event.starts_at >= day_start {
                    format!(
                        "{}–{}",
                        starts.strftime("%H:%M"),
                        ends.strftime(if event.ends_at <= day_end {
                            "%H:%M"
                        } else {
                            "%m-%d %H:%M"
                        })
                    )
                } else {
                    format!("…–{}", ends.strftime("%m-%d %H:%M"))
                };
                DayEvent {
                    kind: match event.kind {
                        EventKind::Change => "change",
                        EventKind::Window => "window",
                        EventKind::Freeze => "freeze",
                    },
                    time,
                    title: event.title.clone(),
                    state: match event.approval.as_deref() {
                        Some("approved") => "approved",
                        Some(_) => "pending",
                        None => "",
                    },
                    approval: event
                        .approval
                        .as_deref()
                        .map(|a| tr.t(&format!("change-calendar-{a}")))
                        .unwrap_or_default(),
                    url: event.url.clone(),
                }
            })
            .collect();
        days.push(Day {
            date: day.to_string(),
            label: if month {
                day.day().to_string()
            } else {
                format!(
                    "{} {}",
                    tr.t(&format!("weekday-{}", day.weekday().to_monday_one_offset())),
                    day
                )
            },
            today: day == today,
            outside: month && day.month() != date.month(),
            events,
        });
        day += 1.day();
    }
    let weeks: Vec<Vec<Day>> = {
        let mut weeks = Vec::new();
        let mut days = days.into_iter().peekable();
        while days.peek().is_some() {
            weeks.push(days.by_ref().take(7).collect());
        }
        weeks
    };
    let title = if month {
        format!(
            "{} {}",
            tr.t(&format!("month-{}", date.month())),
            date.year()
        )
    } else {
        tr.t1("change-calendar-week-of", "date", &first.to_string())
    };
    let mut ics_link = format!("/console/changes/calendar?view={view}&date={date}&format=ics");
    if !service.is_empty() {
        ics_link.push_str("&service=");
        ics_link.push_str(&urlencoding(&service));
    }
    let page = CalendarPage {
        shell: Shell::new(&ctx),
        month,
        title,
        weekdays: (1..=7).map(|n| tr.t(&format!("weekday-{n}"))).collect(),
        weeks,
        previous: query_link(view, previous, &service),
        next: query_link(view, next, &service),
        today: query_link(view, today, &service),
        week_link: query_link("week", date, &service),
        month_link: query_link("month", date, &service),
        ics_link,
        services: all_services
            .iter()
            .map(|s| ServiceChoice {
                code: s.code.clone(),
                name: tr.pick(&s.name_en, &s.name_fr).to_owned(),
                selected: s.code == service,
            })
            .collect(),
        count: period.events.len(),
        date: date.to_string(),
    };
    Ok(Html(page.render().map_err(|_| AppError::internal())?).into_response())
}
