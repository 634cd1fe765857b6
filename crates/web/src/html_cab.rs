//! CAB pages in the console (meetings, one meeting's agenda with its decision forms,
//! attendees and minutes), change freezes (console and customer portal) and an RFC's
//! approvals page (window approval, freeze exceptions). Forms post, then redirect back
//! with `?done=`; a refused form shows the page again with the reason.
use crate::AppState;
use crate::cab::{self, Agenda, Approvals, DecisionInput, MeetingPatch, MeetingsQuery};
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::freezes::{self, ExceptionDecision, ExceptionInput, FreezeInput};
use crate::html::{Shell, render_status};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::text::Locale;
use jiff::tz::TimeZone;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/cab", get(meetings_page))
        .route(
            "/console/cab/{date}",
            get(meeting_page).post(minutes_submit),
        )
        .route("/console/cab/{date}/decisions", post(decision_submit))
        .route(
            "/console/freezes",
            get(console_freezes).post(console_declare),
        )
        .route("/console/freezes/{id}/cancel", post(console_cancel))
        .route(
            "/console/freeze-exceptions/{id}/decision",
            post(exception_decision_submit),
        )
        .route("/freezes", get(portal_freezes).post(portal_declare))
        .route("/freezes/{id}/cancel", post(portal_cancel))
        .route("/console/changes/{number}/approvals", get(approvals_page))
        .route(
            "/console/changes/{number}/approvals/window",
            post(window_submit),
        )
        .route(
            "/console/changes/{number}/approvals/exceptions",
            post(exception_request_submit),
        )
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn refused(e: AppError, locale: Locale) -> Result<(StatusCode, String), AppError> {
    if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN {
        Ok((e.status, e.message(locale)))
    } else {
        Err(e)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

fn done_notice(ctx: &Ctx, done: Option<String>, allowed: &[&str]) -> Option<String> {
    done.filter(|d| allowed.contains(&d.as_str()))
        .map(|d| ctx.tr().t(&format!("cab-done-{d}")))
}

/// A stored instant (or a timestamp) as `YYYY-MM-DD HH:MM` in `zone`.
fn when(value: &str, zone: &TimeZone) -> String {
    domain::time::from_db(value)
        .map(|ts| {
            ts.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| value.to_owned())
}

fn when_ts(ts: jiff::Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

async fn zone_of(state: &AppState) -> AppResult<TimeZone> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(cab::change_policy(state, &mut conn)
        .await?
        .calendar
        .time_zone()
        .clone())
}

fn split_status(error: Option<(StatusCode, String)>) -> (StatusCode, Option<String>) {
    match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    }
}

// ---- Meetings -------------------------------------------------------------------------------

pub struct MeetingRow {
    pub date: String,
    pub time: String,
    pub deadline: String,
    pub approvals: String,
    pub pending: i64,
    pub decisions: i64,
    pub notified: bool,
    pub past: bool,
}

#[derive(Template)]
#[template(path = "cab_meetings.html")]
struct MeetingsPage {
    shell: Shell,
    rows: Vec<MeetingRow>,
}

async fn meetings_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    let list = cab::meetings(&state, &who, &MeetingsQuery::default()).await?;
    let zone = zone_of(&state).await?;
    let now = domain::time::now();
    let rows = list
        .iter()
        .map(|m| MeetingRow {
            date: m.meeting.date.to_string(),
            time: format!(
                "{}–{}",
                when_ts(m.meeting.starts_at, &zone),
                m.meeting.ends_at.to_zoned(zone.clone()).strftime("%H:%M")
            ),
            deadline: when_ts(m.meeting.deadline, &zone),
            approvals: when_ts(m.meeting.approvals_at, &zone),
            pending: m.pending_rfcs,
            decisions: m.decisions,
            notified: m.approvals_sent_at.is_some(),
            past: m.meeting.ends_at < now,
        })
        .collect();
    Ok(render_status(
        StatusCode::OK,
        &MeetingsPage {
            shell: Shell::new(&ctx),
            rows,
        },
    ))
}

// ---- One meeting ----------------------------------------------------------------------------

pub struct RfcLine {
    pub number: String,
    pub summary: String,
    pub change_type: String,
    pub status: String,
    pub impact: i64,
    pub risk: String,
    pub start: String,
    pub end: String,
    pub earliest: String,
    pub partner: bool,
    pub organization: String,
    pub partner_approval: String,
    pub spoc: String,
    pub presenter: String,
    /// (reason, cleared)
    pub flags: Vec<(String, bool)>,
    pub exceptions: Vec<String>,
}

pub struct TemplateLine {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub risk: String,
    pub impact: i64,
}

pub struct DecisionLine {
    pub what: String,
    pub decision: String,
    pub reasons: String,
    pub by: String,
    pub notified: bool,
}

impl DecisionLine {
    /// A decision as a line; `what` names the RFC, template or meeting.
    fn of(d: &store::cab::Decision, what: String, locale: Locale) -> Self {
        DecisionLine {
            what,
            decision: label_of(&d.decision, |c: domain::change::CabDecision| {
                c.label(locale)
            }),
            reasons: d.reasons.clone(),
            by: d.decided_by_name.clone().unwrap_or_default(),
            notified: d.notified_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "cab_meeting.html")]
struct MeetingPage {
    shell: Shell,
    date: String,
    time: String,
    deadline: String,
    approvals: String,
    attendees: String,
    minutes: String,
    rfcs: Vec<RfcLine>,
    templates: Vec<TemplateLine>,
    decisions: Vec<DecisionLine>,
    decision_choices: Vec<(&'static str, String)>,
    can_decide: bool,
    error: Option<String>,
    done: Option<String>,
}

fn label_of<T: std::str::FromStr + Copy>(value: &str, label: impl Fn(T) -> &'static str) -> String {
    T::from_str(value)
        .map(|v| label(v).to_owned())
        .unwrap_or_else(|_| value.to_owned())
}

async fn meeting_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    date: &str,
    error: Option<(StatusCode, String)>,
    done: Option<String>,
) -> AppResult<Response> {
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let agenda: Agenda = cab::agenda(state, who, date, locale).await?;
    let zone = zone_of(state).await?;
    use domain::change::{CabDecision, ChangeOrigin, ChangeRisk, ChangeStatus, ChangeType};
    let rfcs = agenda
        .rfcs
        .iter()
        .map(|line| {
            let r = &line.rfc;
            RfcLine {
                number: r.number.clone(),
                summary: r.summary.clone(),
                change_type: label_of(&r.change_type, |t: ChangeType| t.label(locale)),
                status: label_of(&r.status, |t: ChangeStatus| t.label(locale)),
                impact: r.impact,
                risk: label_of(&r.risk, |t: ChangeRisk| t.label(locale)),
                start: when(&r.requested_start, &zone),
                end: when(&r.requested_end, &zone),
                earliest: r
                    .earliest_start
                    .as_deref()
                    .map(|v| when(v, &zone))
                    .unwrap_or_default(),
                partner: r.origin == ChangeOrigin::Partner.as_str(),
                organization: line.organization.clone(),
                partner_approval: r.partner_approval.clone(),
                spoc: match (&r.partner_spoc_name, &r.partner_spoc_email) {
                    (Some(n), Some(e)) => format!("{n} <{e}>"),
                    _ => String::new(),
                },
                presenter: r.presenter_name.clone().unwrap_or_default(),
                flags: line
                    .flags
                    .iter()
                    .map(|f| (f.reason.clone(), f.cleared))
                    .collect(),
                exceptions: line
                    .exceptions
                    .iter()
                    .map(|e| {
                        format!(
                            "{} — {}",
                            e.freeze_name,
                            e.decision_note.clone().unwrap_or_default()
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let templates = agenda
        .templates
        .iter()
        .map(|t| TemplateLine {
            id: t.id,
            code: t.code.clone(),
            title: locale.pick(&t.title_en, &t.title_fr).to_owned(),
            risk: label_of(&t.risk, |r: ChangeRisk| r.label(locale)),
            impact: t.impact,
        })
        .collect();
    let decisions = agenda
        .decisions
        .iter()
        .map(|d| {
            let what = d.number.clone().or_else(|| d.template_code.clone());
            DecisionLine::of(d, what.unwrap_or_default(), locale)
        })
        .collect();
    let (status, error) = split_status(error);
    let m = agenda.meeting;
    let page = MeetingPage {
        date: m.date.to_string(),
        time: format!(
            "{}–{}",
            when_ts(m.starts_at, &zone),
            m.ends_at.to_zoned(zone.clone()).strftime("%H:%M")
        ),
        deadline: when_ts(m.deadline, &zone),
        approvals: when_ts(m.approvals_at, &zone),
        attendees: agenda.attendees,
        minutes: agenda.minutes,
        rfcs,
        templates,
        decisions,
        decision_choices: CabDecision::ALL
            .iter()
            .map(|d| (d.as_str(), d.label(locale).to_owned()))
            .collect(),
        can_decide: cab::is_change_manager(who),
        error,
        done: done_notice(ctx, done, &["minutes", "decision"]),
        shell,
    };
    Ok(render_status(status, &page))
}

async fn meeting_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(date): Path<String>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    meeting_view(&state, &ctx, &who, &date, None, q.done).await
}

async fn minutes_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(date): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let patch = MeetingPatch {
        attendees: Some(field(&form, "attendees")),
        minutes: Some(field(&form, "minutes")),
    };
    match cab::save_minutes(&state, &who, &ctx.actor(), &date, &patch).await {
        Ok(()) => Ok(Redirect::to(&format!("/console/cab/{date}?done=minutes")).into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            meeting_view(&state, &ctx, &who, &date, Some(error), None).await
        }
    }
}

async fn decision_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(date): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = DecisionInput {
        number: Some(field(&form, "number")).filter(|v| !v.is_empty()),
        template_id: field(&form, "template_id").parse().ok(),
        decision: field(&form, "decision"),
        reasons: field(&form, "reasons"),
    };
    match cab::decide(&state, &who, &ctx.actor(), &date, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/cab/{date}?done=decision")).into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            meeting_view(&state, &ctx, &who, &date, Some(error), None).await
        }
    }
}

// ---- Freezes --------------------------------------------------------------------------------

pub struct FreezeRow {
    pub id: i64,
    pub name: String,
    pub reason: String,
    pub period: String,
    pub services: String,
    pub announced: String,
    pub by: String,
    pub procedure: String,
    pub cancelled: bool,
    pub may_cancel: bool,
}

pub struct ExceptionRow {
    pub id: i64,
    pub number: String,
    pub freeze: String,
    pub justification: String,
    pub requested_by: String,
}

#[derive(Template)]
#[template(path = "freezes.html")]
struct FreezesPage {
    shell: Shell,
    /// `/console/freezes` or `/freezes`.
    base: &'static str,
    rows: Vec<FreezeRow>,
    exceptions: Vec<ExceptionRow>,
    may_declare: bool,
    notice_text: String,
    typed: Vec<(String, String)>,
    error: Option<String>,
    done: Option<String>,
}

impl FreezesPage {
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
    }
}

async fn freezes_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    base: &'static str,
    typed: Vec<(String, String)>,
    error: Option<(StatusCode, String)>,
    done: Option<String>,
) -> AppResult<Response> {
    let shell = Shell::new(ctx);
    let list = freezes::list(state, who).await?;
    let (zone, notice_days) = {
        let mut conn = state.db.reader().acquire().await?;
        let policy = cab::change_policy(state, &mut conn).await?;
        (
            policy.calendar.time_zone().clone(),
            policy.freeze_notice_days,
        )
    };
    let manager = cab::is_change_manager(who);
    let partner = freezes::may_announce(who);
    let operator = ctx.tr().t("freeze-operator");
    let rows = list
        .iter()
        .map(|f| FreezeRow {
            id: f.id,
            name: f.name.clone(),
            reason: f.reason.clone(),
            period: format!(
                "{} → {}",
                when(&f.starts_at, &zone),
                when(&f.ends_at, &zone)
            ),
            services: if f.services.is_empty() {
                ctx.tr().t("freeze-all-services")
            } else {
                f.services.join(", ")
            },
            announced: when(&f.announced_at, &zone),
            by: f
                .organization_code
                .clone()
                .unwrap_or_else(|| operator.clone()),
            procedure: f.exception_procedure.clone(),
            cancelled: f.cancelled_at.is_some(),
            may_cancel: f.cancelled_at.is_none()
                && (manager || (partner && f.organization_id == Some(who.person.organization_id))),
        })
        .collect();
    let exceptions = if manager && base == "/console/freezes" {
        freezes::requested(state, who)
            .await?
            .into_iter()
            .map(|e| ExceptionRow {
                id: e.id,
                number: e.number,
                freeze: e.freeze_name,
                justification: e.justification,
                requested_by: e.requested_by_name.unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (status, error) = split_status(error);
    let page = FreezesPage {
        base,
        rows,
        exceptions,
        may_declare: manager || partner,
        notice_text: crate::i18n::t_args(
            ctx.locale,
            "freeze-notice",
            &[("days", notice_days.to_string())],
        ),
        typed,
        error,
        done: done_notice(ctx, done, &["declared", "cancelled", "exception"]),
        shell,
    };
    Ok(render_status(status, &page))
}

async fn console_freezes(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    who.require(domain::policy::Action::WorkTickets)?;
    freezes_view(
        &state,
        &ctx,
        &who,
        "/console/freezes",
        Vec::new(),
        None,
        q.done,
    )
    .await
}

async fn portal_freezes(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    freezes_view(&state, &ctx, &who, "/freezes", Vec::new(), None, q.done).await
}

fn freeze_input(form: &[(String, String)]) -> FreezeInput {
    FreezeInput {
        name: field(form, "name"),
        reason: field(form, "reason"),
        starts_at: field(form, "starts_at"),
        ends_at: field(form, "ends_at"),
        services: field(form, "services")
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        exception_procedure: field(form, "exception_procedure"),
    }
}

async fn declare(
    state: AppState,
    ctx: Ctx,
    who: Identity,
    base: &'static str,
    form: Vec<(String, String)>,
) -> AppResult<Response> {
    match freezes::declare(&state, &who, &ctx.actor(), &freeze_input(&form)).await {
        Ok(_) => Ok(Redirect::to(&format!("{base}?done=declared")).into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            freezes_view(&state, &ctx, &who, base, form, Some(error), None).await
        }
    }
}

async fn console_declare(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    declare(state, ctx, who, "/console/freezes", form).await
}

async fn portal_declare(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    declare(state, ctx, who, "/freezes", form).await
}

async fn cancel(
    state: AppState,
    ctx: Ctx,
    who: Identity,
    base: &'static str,
    id: i64,
) -> AppResult<Response> {
    match freezes::cancel(&state, &who, &ctx.actor(), id).await {
        Ok(()) => Ok(Redirect::to(&format!("{base}?done=cancelled")).into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            freezes_view(&state, &ctx, &who, base, Vec::new(), Some(error), None).await
        }
    }
}

async fn console_cancel(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    cancel(state, ctx, who, "/console/freezes", id).await
}

async fn portal_cancel(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    cancel(state, ctx, who, "/freezes", id).await
}

async fn exception_decision_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = ExceptionDecision {
        approved: field(&form, "approved") == "true",
        note: field(&form, "note"),
    };
    let back = field(&form, "back");
    match freezes::decide_exception(&state, &who, &ctx.actor(), id, &input).await {
        Ok(decided) if back == "approvals" => Ok(Redirect::to(&format!(
            "/console/changes/{}/approvals?done=exception",
            decided.number
        ))
        .into_response()),
        Ok(_) => Ok(Redirect::to("/console/freezes?done=exception").into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            freezes_view(
                &state,
                &ctx,
                &who,
                "/console/freezes",
                Vec::new(),
                Some(error),
                None,
            )
            .await
        }
    }
}

// ---- An RFC's approvals ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "cab_approvals.html")]
struct ApprovalsPage {
    shell: Shell,
    a: Approvals,
    start: String,
    end: String,
    /// (code, owner name or "none")
    services: Vec<(String, String)>,
    window: Option<(String, String, String)>,
    /// (id, freeze, status label, justification, decided by, note, requested)
    exceptions: Vec<ExceptionLine>,
    freezes: Vec<(i64, String, String)>,
    decisions: Vec<DecisionLine>,
    error: Option<String>,
    done: Option<String>,
}

pub struct ExceptionLine {
    pub id: i64,
    pub freeze: String,
    pub status: String,
    pub requested: bool,
    pub justification: String,
    pub decided: String,
}

async fn approvals_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    error: Option<(StatusCode, String)>,
    done: Option<String>,
) -> AppResult<Response> {
    who.require(domain::policy::Action::WorkTickets)?;
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let a = cab::approvals(state, who, number, locale).await?;
    let zone = zone_of(state).await?;
    let none = ctx.tr().t("none");
    let services = a
        .services
        .iter()
        .map(|s| {
            (
                s.code.clone(),
                s.owner_name.clone().unwrap_or_else(|| none.clone()),
            )
        })
        .collect();
    let window = a.window_approval.as_ref().map(|w| {
        (
            w.approved_by_name.clone(),
            when(&w.approved_at, &zone),
            w.note.clone(),
        )
    });
    let exceptions = a
        .exceptions
        .iter()
        .map(|e| ExceptionLine {
            id: e.id,
            freeze: e.freeze_name.clone(),
            status: ctx.tr().t(&format!("freeze-exception-{}", e.status)),
            requested: e.status == "requested",
            justification: e.justification.clone(),
            decided: match (&e.decided_by_name, &e.decided_at) {
                (Some(by), Some(at)) => format!(
                    "{by}, {} — {}",
                    when(at, &zone),
                    e.decision_note.clone().unwrap_or_default()
                ),
                _ => String::new(),
            },
        })
        .collect();
    let freezes = a
        .freezes
        .iter()
        .map(|f| {
            (
                f.id,
                f.name.clone(),
                format!(
                    "{} → {}",
                    when(&f.starts_at, &zone),
                    when(&f.ends_at, &zone)
                ),
            )
        })
        .collect();
    let decisions = a
        .decisions
        .iter()
        .map(|d| DecisionLine::of(d, d.meeting_date.clone(), locale))
        .collect();
    let (status, error) = split_status(error);
    let page = ApprovalsPage {
        start: when(&a.requested_start, &zone),
        end: when(&a.requested_end, &zone),
        services,
        window,
        exceptions,
        freezes,
        decisions,
        a,
        error,
        done: done_notice(ctx, done, &["window", "exception", "requested"]),
        shell,
    };
    Ok(render_status(status, &page))
}

async fn approvals_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    approvals_view(&state, &ctx, &who, &number, None, q.done).await
}

async fn window_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = cab::WindowApprovalInput {
        note: field(&form, "note"),
    };
    match cab::approve_window(&state, &who, &ctx.actor(), &number, &input).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/console/changes/{number}/approvals?done=window"))
                .into_response(),
        ),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            approvals_view(&state, &ctx, &who, &number, Some(error), None).await
        }
    }
}

async fn exception_request_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = ExceptionInput {
        freeze_id: field(&form, "freeze_id").parse().unwrap_or_default(),
        justification: field(&form, "justification"),
    };
    match freezes::request_exception(&state, &who, &ctx.actor(), &number, &input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/console/changes/{number}/approvals?done=requested"
        ))
        .into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            approvals_view(&state, &ctx, &who, &number, Some(error), None).await
        }
    }
}
