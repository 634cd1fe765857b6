//! Change management after approval in the console and the portal: a change's
//! implementation page (planned-outage notice, status-page maintenance, outcome, incidents
//! raised, the latent RFC's filing), the latent RFC breach report with the form recording an
//! emergency repair done first, and the portal form where a partner reports its own change.
//! The work is `crate::change_implementation`'s and `crate::latent_rfcs`'.
use crate::AppState;
use crate::change_implementation::{
    self as ci, MaintenanceFromRfc, OutageNoticeInput, OutcomeInput, RaisedIncidentInput,
    ReportedChangeInput,
};
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, local_time, render_status};
use crate::html_problems::{field, list_of, opt};
use crate::latent_rfcs::{self as latent, EmergencyChangeInput, LatentFileInput};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::change::{ChangeOutcome, ChangeStatus, ChangeType, LatentRfcState};
use serde::Deserialize;
use std::str::FromStr;

const LATENT: &str = "/console/changes/latent";
const REPORT: &str = "/changes/report";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(LATENT, get(latent_page))
        .route("/console/changes/latent/record", post(record_submit))
        .route(
            "/console/changes/{number}/implementation",
            get(implementation_page),
        )
        .route(
            "/console/changes/{number}/implementation/{step}",
            post(step_submit),
        )
        .route(REPORT, get(report_page).post(report_submit))
}

type Form = Vec<(String, String)>;

fn yes_no(form: &Form, name: &str) -> Option<bool> {
    match field(form, name).as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// A refusal the page shows again (422 or 409 with its message); others propagate.
fn refused(e: AppError, ctx: &Ctx) -> AppResult<(StatusCode, String)> {
    if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN {
        Ok((e.status, e.message(ctx.tr().0)))
    } else {
        Err(e)
    }
}

fn tz(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

fn when(state: &AppState, value: Option<&str>) -> String {
    value
        .map(|v| local_time(&tz(state), v, "%Y-%m-%d %H:%M %Z"))
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

// ---------- the implementation page ----------

struct Choice {
    value: String,
    label: String,
}

struct IncidentRow {
    number: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "change_impl.html")]
struct ImplementationPage {
    shell: Shell,
    title: String,
    questions: Vec<Choice>,
    number: String,
    summary: String,
    status: String,
    outcome: String,
    outcome_notes: String,
    services: String,
    window: String,
    affects: bool,
    approved: bool,
    scheduled: bool,
    notice_sent: Option<String>,
    maintenance: Option<(i64, String)>,
    incidents: Vec<IncidentRow>,
    outcomes: Vec<Choice>,
    latent: bool,
    latent_due: String,
    latent_filed: String,
    latent_state: String,
    risks: Vec<Choice>,
    notice: Option<String>,
    error: Option<String>,
}

async fn implementation_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    done: Option<String>,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let view = ci::implementation(state, who, number).await?;
    let c = &view.change;
    let status = ChangeStatus::from_str(&c.status)
        .map(|s| s.label(locale).to_owned())
        .unwrap_or_else(|_| c.status.clone());
    let outcome = c
        .outcome
        .as_deref()
        .and_then(|o| ChangeOutcome::from_str(o).ok())
        .map(|o| o.label(locale).to_owned())
        .unwrap_or_default();
    let latent_state = c
        .latent_due_at
        .as_deref()
        .and_then(domain::time::from_db)
        .map(|due| {
            let filed = c.latent_filed_at.as_deref().and_then(domain::time::from_db);
            state_label(&shell, LatentRfcState::of(due, filed, domain::time::now()))
        });
    let (status_code, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ImplementationPage {
        title: crate::i18n::t_args(locale, "chg-impl-title", &[("number", c.number.clone())]),
        questions: [
            "notice_required",
            "disaster_recovery_exists",
            "training_documents_exist",
            "tested_in_lower_environments",
            "users_affected",
            "outage_required",
        ]
        .into_iter()
        .map(|q| Choice {
            value: q.to_owned(),
            label: shell.t(&format!("latent-field-{q}")),
        })
        .collect(),
        number: c.number.clone(),
        summary: c.summary.clone(),
        status,
        outcome,
        outcome_notes: c.outcome_notes.clone().unwrap_or_default(),
        services: view.services.join(", "),
        window: format!(
            "{} – {}",
            when(state, Some(&view.outage_start)),
            when(state, Some(&view.outage_end))
        ),
        affects: view.affects_availability,
        approved: view.approved,
        scheduled: c.status == ChangeStatus::Scheduled.as_str(),
        notice_sent: c.outage_notice_sent_at.as_deref().map(|at| {
            crate::i18n::t_args(
                locale,
                "chg-impl-notice-sent",
                &[
                    ("at", when(state, Some(at))),
                    (
                        "recipients",
                        c.outage_notice_recipients.unwrap_or_default().to_string(),
                    ),
                ],
            )
        }),
        maintenance: c
            .status_event_id
            .map(|id| (id, view.maintenance_status.clone().unwrap_or_default())),
        incidents: view
            .incidents
            .iter()
            .map(|l| IncidentRow {
                number: l.number.clone(),
                summary: l.summary.clone(),
            })
            .collect(),
        outcomes: ChangeOutcome::ALL
            .iter()
            .map(|o| Choice {
                value: o.as_str().to_owned(),
                label: o.label(locale).to_owned(),
            })
            .collect(),
        latent: c.implemented_first != 0 && c.latent_filed_at.is_none(),
        latent_due: when(state, c.latent_due_at.as_deref()),
        latent_filed: when(state, c.latent_filed_at.as_deref()),
        latent_state: latent_state.unwrap_or_default(),
        risks: domain::change::ChangeRisk::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                label: r.label(locale).to_owned(),
            })
            .collect(),
        notice: done.map(|_| shell.t("chg-impl-done")),
        error,
        shell,
    };
    Ok(render_status(status_code, &page))
}

async fn implementation_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    implementation_view(&state, &ctx, &who, &number, q.done, None).await
}

async fn step_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((number, step)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Form>,
) -> AppResult<Response> {
    let actor = ctx.actor();
    let done = match step.as_str() {
        "outage-notice" => ci::send_outage_notice(
            &state,
            &who,
            &actor,
            &number,
            &OutageNoticeInput {
                resend: field(&form, "resend") == "1",
            },
        )
        .await
        .map(drop),
        "maintenance" => ci::create_maintenance(
            &state,
            &who,
            &actor,
            &number,
            &MaintenanceFromRfc::default(),
        )
        .await
        .map(drop),
        "outcome" => ci::record_outcome(
            &state,
            &who,
            &actor,
            &number,
            &OutcomeInput {
                outcome: field(&form, "outcome"),
                notes: field(&form, "notes"),
            },
        )
        .await
        .map(drop),
        "incidents" => ci::link_incident(
            &state,
            &who,
            &actor,
            &number,
            &RaisedIncidentInput {
                incident: opt(&form, "incident"),
                summary: opt(&form, "summary"),
                details: opt(&form, "details"),
            },
        )
        .await
        .map(drop),
        "latent-rfc" => latent::file(&state, &who, &actor, &number, &filing(&form))
            .await
            .map(drop),
        _ => return Err(AppError::not_found()),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!(
            "/console/changes/{number}/implementation?done={step}"
        ))
        .into_response()),
        Err(e) => {
            let error = refused(e, &ctx)?;
            implementation_view(&state, &ctx, &who, &number, None, Some(error)).await
        }
    }
}

fn filing(form: &Form) -> LatentFileInput {
    LatentFileInput {
        reason: field(form, "reason"),
        notice_required: yes_no(form, "notice_required"),
        disaster_recovery_exists: yes_no(form, "disaster_recovery_exists"),
        training_documents_exist: yes_no(form, "training_documents_exist"),
        tested_in_lower_environments: yes_no(form, "tested_in_lower_environments"),
        risk: opt(form, "risk"),
        users_affected: yes_no(form, "users_affected"),
        users_affected_how: field(form, "users_affected_how"),
        outage_required: yes_no(form, "outage_required"),
        outage_start: opt(form, "outage_start"),
        outage_end: opt(form, "outage_end"),
        requested_start: opt(form, "requested_start"),
        requested_end: opt(form, "requested_end"),
        product_category: field(form, "product_category"),
        implementer: opt(form, "implementer"),
        implementation_plan: field(form, "implementation_plan"),
        backout_plan: field(form, "backout_plan"),
        services: list_of(&field(form, "services")),
        configuration_items: list_of(&field(form, "configuration_items")),
        late_reason: opt(form, "late_reason"),
    }
}

// ---------- the latent RFC breach report ----------

fn state_label(shell: &Shell, state: LatentRfcState) -> String {
    let key = match state {
        LatentRfcState::Open => "open",
        LatentRfcState::Overdue => "overdue",
        LatentRfcState::FiledOnTime => "filed_on_time",
        LatentRfcState::FiledLate => "filed_late",
    };
    shell.t(&format!("latent-state-{key}"))
}

struct LatentLine {
    number: String,
    summary: String,
    incident: String,
    implemented: String,
    due: String,
    filed: String,
    state: String,
    breach: bool,
    late: String,
    late_reason: String,
}

#[derive(Template)]
#[template(path = "latent_rfcs.html")]
struct LatentPage {
    shell: Shell,
    rows: Vec<LatentLine>,
    from: String,
    to: String,
    notice: Option<String>,
    error: Option<String>,
    /// The incident the form is filled in for (from its ticket page, or as typed).
    incident: String,
}

#[derive(Debug, Default, Deserialize)]
struct LatentQuery {
    from: Option<String>,
    to: Option<String>,
    incident: Option<String>,
    done: Option<String>,
}

async fn latent_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    q: LatentQuery,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let (rows, error) = match latent::report(state, who, q.from.as_deref(), q.to.as_deref()).await {
        Ok(rows) => (rows, error),
        Err(e) => (Vec::new(), Some(refused(e, ctx)?)),
    };
    let rows = rows
        .into_iter()
        .map(|r| LatentLine {
            implemented: when(state, r.implemented_at.as_deref()),
            due: when(state, r.due_at.as_deref()),
            filed: when(state, r.filed_at.as_deref()),
            state: state_label(&shell, r.state),
            breach: r.breach,
            late: r
                .late_minutes
                .map(|m| {
                    crate::i18n::t_args(locale, "latent-minutes", &[("minutes", m.to_string())])
                })
                .unwrap_or_default(),
            late_reason: r.late_reason.unwrap_or_default(),
            incident: r.incident.unwrap_or_default(),
            number: r.number,
            summary: r.summary,
        })
        .collect();
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = LatentPage {
        rows,
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        notice: q
            .done
            .map(|n| crate::i18n::t_args(locale, "reported-done", &[("number", n)])),
        error,
        incident: q.incident.unwrap_or_default(),
        shell,
    };
    Ok(render_status(status, &page))
}

async fn latent_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<LatentQuery>,
) -> AppResult<Response> {
    latent_view(&state, &ctx, &who, q, None).await
}

async fn record_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Form>,
) -> AppResult<Response> {
    let input = EmergencyChangeInput {
        what: field(&form, "what"),
        implemented_at: opt(&form, "implemented_at"),
        implementer: opt(&form, "implementer"),
    };
    match latent::record_emergency_change(
        &state,
        &who,
        &ctx.actor(),
        &field(&form, "incident"),
        &input,
    )
    .await
    {
        Ok(made) => Ok(Redirect::to(&format!(
            "/console/changes/{}/implementation?done=latent",
            made.number
        ))
        .into_response()),
        Err(e) => {
            let error = match e.status {
                StatusCode::NOT_FOUND => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    AppError::invalid("unknown_ticket", "incident").message(ctx.tr().0),
                ),
                _ => refused(e, &ctx)?,
            };
            let typed = LatentQuery {
                incident: Some(field(&form, "incident")),
                ..LatentQuery::default()
            };
            latent_view(&state, &ctx, &who, typed, Some(error)).await
        }
    }
}

// ---------- the portal: a partner reports its own change ----------

#[derive(Template)]
#[template(path = "change_impl_report.html")]
struct ReportPage {
    shell: Shell,
    types: Vec<Choice>,
    outcomes: Vec<Choice>,
    form: Form,
    notice: Option<String>,
    error: Option<String>,
}

impl ReportPage {
    fn value(&self, name: &str) -> String {
        field(&self.form, name)
    }
}

fn report_view(
    ctx: &Ctx,
    form: Form,
    done: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ReportPage {
        types: [
            ChangeType::Normal,
            ChangeType::UrgentOperational,
            ChangeType::EmergencyRepair,
        ]
        .iter()
        .map(|t| Choice {
            value: t.as_str().to_owned(),
            label: t.label(locale).to_owned(),
        })
        .collect(),
        outcomes: ChangeOutcome::ALL
            .iter()
            .map(|o| Choice {
                value: o.as_str().to_owned(),
                label: o.label(locale).to_owned(),
            })
            .collect(),
        form,
        notice: done.map(|n| crate::i18n::t_args(locale, "reported-done", &[("number", n)])),
        error,
        shell,
    };
    render_status(status, &page)
}

async fn report_page(
    PageUser(ctx, _who): PageUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    Ok(report_view(&ctx, Vec::new(), q.done, None))
}

async fn report_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Form>,
) -> AppResult<Response> {
    let input = ReportedChangeInput {
        change_type: field(&form, "change_type"),
        summary: field(&form, "summary"),
        description: field(&form, "description"),
        implemented_at: field(&form, "implemented_at"),
        services: list_of(&field(&form, "services")),
        configuration_items: list_of(&field(&form, "configuration_items")),
        outcome: field(&form, "outcome"),
        notes: field(&form, "notes"),
    };
    match ci::report_change(&state, &who, &ctx.actor(), &input).await {
        Ok(made) => Ok(Redirect::to(&format!("{REPORT}?done={}", made.number)).into_response()),
        Err(e) => {
            let error = refused(e, &ctx)?;
            Ok(report_view(&ctx, form, None, Some(error)))
        }
    }
}
