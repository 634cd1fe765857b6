//! Problem proposals in the agent console: each with its reason and incidents, to accept
//! (a problem is raised) or dismiss; administrators set the thresholds and run detection.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, local_time, render_status};
use crate::problem_trends::{self as trends, TrendSettings};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::policy::Action;
use domain::problem::TrendDimension;
use serde::Deserialize;
use std::str::FromStr;

const PAGE: &str = "/console/problem-proposals";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(list_page))
        .route("/console/problem-proposals/run", post(run_submit))
        .route("/console/problem-proposals/settings", post(settings_submit))
        .route(
            "/console/problem-proposals/{id}/accept",
            post(accept_submit),
        )
        .route(
            "/console/problem-proposals/{id}/dismiss",
            post(dismiss_submit),
        )
}

pub struct IncidentRow {
    pub number: String,
    pub summary: String,
    pub opened: String,
    pub status: String,
}

pub struct ProposalRow {
    pub id: i64,
    pub reason: String,
    pub dimension: String,
    pub value: String,
    pub status: String,
    pub pending: bool,
    pub decided: String,
    pub problem_number: Option<String>,
    pub incidents: Vec<IncidentRow>,
}

#[derive(Template)]
#[template(path = "console_problem_proposals.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<ProposalRow>,
    filter: String,
    filters: Vec<(&'static str, String)>,
    can_manage: bool,
    settings: TrendSettings,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    ran: Option<String>,
}

fn time_zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

async fn list_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    query: ListQuery,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let filter = query.status.unwrap_or_else(|| "proposed".to_owned());
    let proposals = trends::list(state, who, Some(&filter), locale).await?;
    let settings = trends::settings(state, who).await?;
    let tz = time_zone(state);
    let rows = proposals
        .into_iter()
        .map(|view| {
            let p = &view.proposal;
            ProposalRow {
                id: p.id,
                reason: view.reason.clone(),
                dimension: TrendDimension::from_str(&p.dimension)
                    .map(|d| d.label(locale).to_owned())
                    .unwrap_or_default(),
                value: p.value.clone(),
                status: shell.t(&format!("trends-status-{}", p.status)),
                pending: p.status == "proposed",
                decided: p
                    .decided_at
                    .as_deref()
                    .map(|at| local_time(&tz, at, "%Y-%m-%d %H:%M"))
                    .unwrap_or_default(),
                problem_number: view.problem_number.clone(),
                incidents: view
                    .incidents
                    .iter()
                    .map(|i| IncidentRow {
                        number: i.number.clone(),
                        summary: i.summary.clone(),
                        opened: local_time(&tz, &i.created_at, "%Y-%m-%d"),
                        status: shell.t(&format!("tstatus-{}", i.status)),
                    })
                    .collect(),
            }
        })
        .collect();
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let notice = query.ran.map(|counts| {
        let mut parts = counts.split('-');
        let found = parts.next().unwrap_or("0");
        let added = parts.next().unwrap_or("0");
        crate::i18n::t_args(
            locale,
            "trends-ran",
            &[("found", found.to_owned()), ("added", added.to_owned())],
        )
    });
    let page = ListPage {
        filters: ["proposed", "accepted", "dismissed", "all"]
            .into_iter()
            .map(|f| (f, shell.t(&format!("trends-filter-{f}"))))
            .collect(),
        rows,
        filter,
        can_manage: who.principal.allows(Action::ManagePolicy),
        settings,
        notice,
        error,
        shell,
    };
    Ok(render_status(status, &page))
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    list_view(&state, &ctx, &who, query, None).await
}

fn refused(e: AppError, ctx: &Ctx) -> Result<(StatusCode, String), AppError> {
    if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN {
        Ok((e.status, e.message(ctx.tr().0)))
    } else {
        Err(e)
    }
}

async fn accept_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    match trends::accept(&state, &who, &ctx.actor(), id).await {
        Ok(problem) => Ok(Redirect::to(&format!("/tickets/{}", problem.number)).into_response()),
        Err(e) => {
            let error = refused(e, &ctx)?;
            list_view(&state, &ctx, &who, ListQuery::default(), Some(error)).await
        }
    }
}

async fn dismiss_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    match trends::dismiss(&state, &who, &ctx.actor(), id).await {
        Ok(()) => Ok(Redirect::to(PAGE).into_response()),
        Err(e) => {
            let error = refused(e, &ctx)?;
            list_view(&state, &ctx, &who, ListQuery::default(), Some(error)).await
        }
    }
}

async fn run_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let report = trends::run_now(&state, &who, &ctx.actor()).await?;
    Ok(Redirect::to(&format!("{PAGE}?ran={}-{}", report.found, report.added)).into_response())
}

async fn settings_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let number = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let count = |name: &str| usize::try_from(number(name)).unwrap_or(0);
    let input = TrendSettings {
        min_incidents: count("min_incidents"),
        window_days: number("window_days"),
        min_shared_words: count("min_shared_words"),
        lookback_days: number("lookback_days"),
        every_hours: number("every_hours"),
    };
    match trends::save_settings(&state, &who, &ctx.actor(), &input).await {
        Ok(()) => Ok(Redirect::to(PAGE).into_response()),
        Err(e) => {
            let error = refused(e, &ctx)?;
            list_view(&state, &ctx, &who, ListQuery::default(), Some(error)).await
        }
    }
}
