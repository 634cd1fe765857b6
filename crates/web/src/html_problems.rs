//! Problem pages: the list with its filters and the form to log one, a problem with every
//! field and its workflow buttons, and the monthly reviews with their agenda, files,
//! minutes and actions. Agents work them under /console; a partner's people read theirs
//! (and its single point of contact acknowledges closures) under /problems.
use crate::AppState;
use crate::api_problems::{ProblemQuery, file_response};
use crate::api_tickets::read_form;
use crate::csrf::CsrfForm;
use crate::ctx::{CSRF_FIELD, Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, render_status, shown_on_form};
use crate::i18n::Tr;
use crate::problem_reviews::{self as reviews, ActionInput, NewReview, ReviewDetail, ReviewPatch};
use crate::problems::{self, NewProblem, ProblemDetail, ProblemPatch, StatusInput};
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::policy::{Action, OrgScope};
use domain::problem::ProblemStatus;
use domain::problem_record::{ProblemCategory, ProblemSource, VerificationOutcome};
use std::str::FromStr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/problems", get(list_page).post(create_submit))
        .route("/problems", get(list_page))
        .route("/console/problems/{number}", get(problem_page))
        .route("/problems/{number}", get(problem_page))
        .route("/problems/{number}/record", post(record_submit))
        .route("/problems/{number}/status", post(status_submit))
        .route("/problems/{number}/acknowledge", post(acknowledge_submit))
        .route(
            "/console/problem-reviews",
            get(reviews_page).post(review_create),
        )
        .route("/console/problem-reviews/{id}", get(review_page))
        .route("/problem-reviews/{id}", get(review_page))
        .route("/problem-reviews/{id}/minutes", post(minutes_submit))
        .route("/problem-reviews/{id}/actions", post(action_submit))
        .route("/problem-reviews/{id}/actions/{action}", post(action_done))
        // Files are capped while they stream (`read_form`).
        .route(
            "/problem-reviews/{id}/files",
            post(upload_submit).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/problem-reviews/{id}/files/{file}", get(download))
        .route("/tickets/{number}/configuration-items", post(item_submit))
}

pub(crate) fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

pub(crate) fn opt(form: &[(String, String)], name: &str) -> Option<String> {
    Some(field(form, name)).filter(|v| !v.is_empty())
}

pub(crate) fn list_of(value: &str) -> Vec<String> {
    value
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_agent(who: &Identity) -> bool {
    who.principal.allows(Action::WorkTickets)
}

/// A page shows an error it can explain (422, 409, 400) next to its forms.
pub(crate) fn explained(e: AppError, tr: Tr) -> AppResult<String> {
    if shown_on_form(&e) {
        Ok(e.message(tr.0))
    } else {
        Err(e)
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) fn choices(
    items: impl IntoIterator<Item = (String, String)>,
    selected: &str,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

pub fn status_label(tr: Tr, status: &str) -> String {
    ProblemStatus::from_str(status)
        .map(|s| s.label(tr.0).to_owned())
        .unwrap_or_else(|_| status.to_owned())
}

fn category_label(tr: Tr, category: &str) -> String {
    ProblemCategory::from_str(category)
        .map(|c| c.label(tr.0).to_owned())
        .unwrap_or_else(|_| tr.t("problem-unclassified"))
}

fn when(state: &AppState, value: &str) -> String {
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    crate::html::local_time(&tz, value, "%Y-%m-%d %H:%M")
}

// ---- The list ---------------------------------------------------------------------------

pub struct Row {
    pub number: String,
    pub summary: String,
    pub organization: String,
    pub status: String,
    pub category: String,
    pub priority: i64,
    pub known_error: bool,
    pub acknowledged: bool,
}

#[derive(Template)]
#[template(path = "problems_list.html")]
struct ListPage {
    shell: Shell,
    agent: bool,
    rows: Vec<Row>,
    statuses: Vec<Choice>,
    organizations: Vec<Choice>,
    known: String,
    form_organizations: Vec<Choice>,
    categories: Vec<Choice>,
    groups: Vec<Choice>,
    levels: Vec<i64>,
    typed: Vec<(String, String)>,
    reviews: Vec<(i64, String, String)>,
    error: Option<String>,
}

impl ListPage {
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
    }
    fn typed_level(&self, name: &str, level: &i64) -> bool {
        self.typed(name) == level.to_string()
    }
}

async fn list_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    q: &ProblemQuery,
    typed: Vec<(String, String)>,
    error: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let agent = is_agent(who);
    let rows = problems::list(state, who, &q.filter()).await?;
    let mut conn = state.db.reader().acquire().await?;
    let orgs = store::orgs::list(&mut conn, &who.principal.org_scope()).await?;
    let groups = store::groups::groups(&mut conn).await?;
    drop(conn);
    let org_items: Vec<(String, String)> = orgs
        .iter()
        .filter(|o| o.is_operator == 0)
        .map(|o| (o.id.to_string(), tr.pick(&o.name_en, &o.name_fr).to_owned()))
        .collect();
    let page = ListPage {
        rows: rows
            .iter()
            .map(|p| Row {
                number: p.number.clone(),
                summary: p.summary.clone(),
                organization: tr
                    .pick(&p.organization_name_en, &p.organization_name_fr)
                    .to_owned(),
                status: status_label(tr, &p.problem_status),
                category: category_label(tr, &p.category),
                priority: p.priority,
                known_error: p.known_error != 0,
                acknowledged: p.closure_acknowledged_at.is_some(),
            })
            .collect(),
        statuses: choices(
            std::iter::once(("open".to_owned(), tr.t("problem-filter-open"))).chain(
                ProblemStatus::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), s.label(tr.0).to_owned())),
            ),
            q.status.as_deref().unwrap_or(""),
        ),
        organizations: choices(
            org_items.clone(),
            &q.organization_id.map(|o| o.to_string()).unwrap_or_default(),
        ),
        known: match q.known_error {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        }
        .to_owned(),
        form_organizations: choices(org_items, &field(&typed, "organization_id")),
        categories: choices(
            ProblemCategory::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), c.label(tr.0).to_owned())),
            &field(&typed, "category"),
        ),
        groups: choices(
            groups
                .iter()
                .map(|g| (g.id.to_string(), tr.pick(&g.name_en, &g.name_fr).to_owned())),
            &field(&typed, "investigating_group_id"),
        ),
        levels: vec![1, 2, 3, 4],
        reviews: reviews::list(state, who)
            .await?
            .into_iter()
            .map(|r| {
                let org = tr
                    .pick(&r.organization_name_en, &r.organization_name_fr)
                    .to_owned();
                (r.id, r.month, org)
            })
            .collect(),
        typed,
        error,
        agent,
        shell: Shell::new(ctx),
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render_status(status, &page))
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    list_view(&state, &ctx, &who, &q.problem_query(), Vec::new(), None).await
}

/// The filter form sends empty values for "any".
#[derive(serde::Deserialize)]
struct ListQuery {
    status: Option<String>,
    organization_id: Option<String>,
    known_error: Option<String>,
}

impl ListQuery {
    fn problem_query(&self) -> ProblemQuery {
        ProblemQuery {
            status: self.status.clone().filter(|s| !s.is_empty()),
            organization_id: self.organization_id.as_deref().and_then(|o| o.parse().ok()),
            known_error: match self.known_error.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
        }
    }
}

async fn create_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = NewProblem {
        organization_id: field(&form, "organization_id").parse().ok(),
        summary: field(&form, "summary"),
        description: field(&form, "description"),
        impact_description: field(&form, "impact_description"),
        submitter_role: opt(&form, "submitter_role"),
        submitted_at: None,
        category: opt(&form, "category"),
        impact: field(&form, "impact").parse().ok(),
        urgency: field(&form, "urgency").parse().ok(),
        investigating_group_id: field(&form, "investigating_group_id").parse().ok(),
        service_id: None,
        related_incidents: list_of(&field(&form, "related_incidents")),
        configuration_items: list_of(&field(&form, "configuration_items")),
        workaround: opt(&form, "workaround"),
        action_plan: opt(&form, "action_plan"),
        spoc: opt(&form, "spoc"),
    };
    match problems::create(&state, &who, &ctx.actor(), &input).await {
        Ok(number) => Ok(Redirect::to(&format!("/console/problems/{number}")).into_response()),
        Err(e) => {
            let message = explained(e, ctx.tr())?;
            list_view(
                &state,
                &ctx,
                &who,
                &ProblemQuery::default(),
                form,
                Some(message),
            )
            .await
        }
    }
}

// ---- One problem ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "problem_view.html")]
struct ProblemPage {
    shell: Shell,
    agent: bool,
    d: ProblemDetail,
    status: String,
    category: String,
    source: String,
    submitter_role: String,
    submitted_at: String,
    verified_at: String,
    verification: String,
    acknowledged_at: String,
    moves: Vec<Choice>,
    categories: Vec<Choice>,
    outcomes: Vec<Choice>,
    in_verification: bool,
    can_acknowledge: bool,
    final_status: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn problem_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let d = problems::detail(state, who, number).await?;
    let r = &d.record;
    let status = ProblemStatus::from_str(&r.status).unwrap_or(ProblemStatus::Logging);
    let role = domain::role::Role::parse(&r.submitter_role)
        .map(|role| tr.t(&format!("role-{role}")))
        .unwrap_or_else(|| r.submitter_role.clone());
    let page = ProblemPage {
        agent: is_agent(who),
        status: status.label(tr.0).to_owned(),
        category: category_label(tr, &r.category),
        source: ProblemSource::from_str(&r.source)
            .map(|s| s.label(tr.0).to_owned())
            .unwrap_or_default(),
        submitter_role: role,
        submitted_at: when(state, &r.submitted_at),
        verified_at: r
            .verified_at
            .as_deref()
            .map(|v| when(state, v))
            .unwrap_or_default(),
        verification: r
            .verification_outcome
            .as_deref()
            .and_then(|o| VerificationOutcome::from_str(o).ok())
            .map(|o| o.label(tr.0).to_owned())
            .unwrap_or_default(),
        acknowledged_at: r
            .closure_acknowledged_at
            .as_deref()
            .map(|v| when(state, v))
            .unwrap_or_default(),
        moves: d
            .next_statuses
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: s.label(tr.0).to_owned(),
                selected: false,
            })
            .collect(),
        categories: choices(
            ProblemCategory::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), c.label(tr.0).to_owned())),
            &r.category,
        ),
        outcomes: choices(
            VerificationOutcome::ALL
                .iter()
                .map(|o| (o.as_str().to_owned(), o.label(tr.0).to_owned())),
            r.verification_outcome.as_deref().unwrap_or(""),
        ),
        in_verification: status == ProblemStatus::Verification,
        can_acknowledge: status == ProblemStatus::Closed
            && r.spoc_person_id == Some(who.person.id)
            && r.closure_acknowledged_at.is_none(),
        final_status: status.is_final(),
        notice,
        error,
        d,
        shell: Shell::new(ctx),
    };
    Ok(render_status(status_of(&page.error), &page))
}

/// A page shown again with the form's error is a 422; otherwise 200.
pub(crate) fn status_of(error: &Option<String>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// The confirmation named by `?done=` after a form was saved, if it is one of `allowed`.
fn done_notice(ctx: &Ctx, done: Option<String>, allowed: &[&str], prefix: &str) -> Option<String> {
    done.filter(|d| allowed.contains(&d.as_str()))
        .map(|d| ctx.tr().t(&format!("{prefix}-{d}")))
}

const DONE: &[&str] = &["record", "status", "acknowledged"];

async fn problem_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let notice = done_notice(&ctx, q.done, DONE, "problem-done");
    problem_view(&state, &ctx, &who, &number, notice, None).await
}

async fn after_problem(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    done: &str,
    outcome: AppResult<()>,
) -> AppResult<Response> {
    let base = if is_agent(who) {
        "/console/problems"
    } else {
        "/problems"
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("{base}/{number}?done={done}")).into_response()),
        Err(e) => {
            let message = explained(e, ctx.tr())?;
            problem_view(state, ctx, who, number, None, Some(message)).await
        }
    }
}

async fn record_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let text = |name: &str| {
        form.iter()
            .any(|(k, _)| k == name)
            .then(|| field(&form, name))
    };
    let patch = ProblemPatch {
        impact_description: text("impact_description"),
        submitter_role: None,
        category: text("category").filter(|c| !c.is_empty()),
        investigating_group_id: None,
        workaround: text("workaround"),
        action_plan: text("action_plan"),
        root_cause: text("root_cause"),
        resolution: text("resolution"),
        spoc: text("spoc"),
        verification_outcome: text("verification_outcome").filter(|v| !v.is_empty()),
        verification_notes: text("verification_notes"),
        add_incidents: list_of(&field(&form, "add_incidents")),
        add_configuration_items: list_of(&field(&form, "add_configuration_items")),
        remove_configuration_items: Vec::new(),
    };
    let outcome = problems::update(&state, &who, &ctx.actor(), &number, &patch).await;
    after_problem(&state, &ctx, &who, &number, "record", outcome).await
}

async fn status_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = StatusInput {
        status: field(&form, "status"),
        reason: opt(&form, "reason"),
    };
    let outcome = problems::set_status(&state, &who, &ctx.actor(), &number, &input).await;
    after_problem(&state, &ctx, &who, &number, "status", outcome).await
}

async fn acknowledge_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let outcome = problems::acknowledge_closure(&state, &who, &ctx.actor(), &number).await;
    after_problem(&state, &ctx, &who, &number, "acknowledged", outcome).await
}

// ---- Reviews ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "problem_reviews.html")]
struct ReviewsPage {
    shell: Shell,
    rows: Vec<(i64, String, String, String)>,
    organizations: Vec<Choice>,
    typed: Vec<(String, String)>,
    error: Option<String>,
}

impl ReviewsPage {
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
    }
}

async fn reviews_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    typed: Vec<(String, String)>,
    error: Option<String>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let tr = ctx.tr();
    let rows = reviews::list(state, who)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.id,
                r.month,
                tr.pick(&r.organization_name_en, &r.organization_name_fr)
                    .to_owned(),
                r.scheduled_for
                    .as_deref()
                    .map(|s| when(state, s))
                    .unwrap_or_default(),
            )
        })
        .collect();
    let mut conn = state.db.reader().acquire().await?;
    let orgs = store::orgs::list(&mut conn, &OrgScope::All).await?;
    drop(conn);
    let page = ReviewsPage {
        rows,
        organizations: choices(
            orgs.iter()
                .filter(|o| o.is_operator == 0)
                .map(|o| (o.id.to_string(), tr.pick(&o.name_en, &o.name_fr).to_owned())),
            &field(&typed, "organization_id"),
        ),
        typed,
        shell: Shell::new(ctx),
        error,
    };
    Ok(render_status(status_of(&page.error), &page))
}

async fn reviews_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    reviews_view(&state, &ctx, &who, Vec::new(), None).await
}

async fn review_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = NewReview {
        organization_id: field(&form, "organization_id").parse().unwrap_or(0),
        month: field(&form, "month"),
        scheduled_for: opt(&form, "scheduled_for"),
    };
    match reviews::create(&state, &who, &ctx.actor(), &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/console/problem-reviews/{id}")).into_response()),
        Err(e) => {
            let message = explained(e, ctx.tr())?;
            reviews_view(&state, &ctx, &who, form, Some(message)).await
        }
    }
}

pub struct AgendaView {
    pub title: String,
    pub code: String,
    pub items: Vec<AgendaRow>,
}

pub struct AgendaRow {
    pub number: String,
    pub summary: String,
    pub status: String,
    pub category: String,
    pub priority: i64,
    pub assignment: String,
    pub known_error: bool,
    pub root_cause: String,
    pub workaround: String,
    pub verification: String,
    pub acknowledged: String,
    pub progress: Vec<String>,
}

#[derive(Template)]
#[template(path = "problem_review.html")]
struct ReviewPage {
    shell: Shell,
    agent: bool,
    base: &'static str,
    d: ReviewDetail,
    organization: String,
    scheduled: String,
    agenda: Vec<AgendaView>,
    files: Vec<(i64, String, String, String)>,
    actions: Vec<(i64, String, String, String, bool)>,
    notice: Option<String>,
    error: Option<String>,
}

async fn review_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let d = reviews::detail(state, who, id).await?;
    let agent = is_agent(who);
    let agenda = d
        .agenda
        .iter()
        .map(|part| AgendaView {
            title: part.section.label(tr.0).to_owned(),
            code: part.section.as_str().to_owned(),
            items: part
                .items
                .iter()
                .map(|i| AgendaRow {
                    number: i.number.clone(),
                    summary: i.summary.clone(),
                    status: i.status.label(tr.0).to_owned(),
                    category: category_label(tr, &i.category),
                    priority: i.priority,
                    assignment: [i.support_group_code.clone(), i.assignee_name.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · "),
                    known_error: i.known_error,
                    root_cause: i.root_cause.clone().unwrap_or_default(),
                    workaround: i.workaround.clone().unwrap_or_default(),
                    verification: i
                        .verification_outcome
                        .as_deref()
                        .and_then(|o| VerificationOutcome::from_str(o).ok())
                        .map(|o| o.label(tr.0).to_owned())
                        .unwrap_or_default(),
                    acknowledged: i
                        .closure_acknowledged_at
                        .as_deref()
                        .map(|a| when(state, a))
                        .unwrap_or_default(),
                    progress: i
                        .progress
                        .iter()
                        .map(|(at, from, to)| {
                            format!(
                                "{} {} → {}",
                                when(state, at),
                                status_label(tr, from),
                                status_label(tr, to)
                            )
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let page = ReviewPage {
        agent,
        base: if agent {
            "/console/problems"
        } else {
            "/problems"
        },
        organization: tr
            .pick(
                &d.review.organization_name_en,
                &d.review.organization_name_fr,
            )
            .to_owned(),
        scheduled: d
            .review
            .scheduled_for
            .as_deref()
            .map(|s| when(state, s))
            .unwrap_or_default(),
        agenda,
        files: d
            .files
            .iter()
            .map(|f| {
                (
                    f.id,
                    f.filename.clone(),
                    f.uploaded_by_name.clone().unwrap_or_default(),
                    when(state, &f.created_at),
                )
            })
            .collect(),
        actions: d
            .actions
            .iter()
            .map(|a| {
                (
                    a.id,
                    a.text.clone(),
                    a.owner.clone(),
                    a.due_on.clone().unwrap_or_default(),
                    a.done != 0,
                )
            })
            .collect(),
        notice,
        error,
        d,
        shell: Shell::new(ctx),
    };
    Ok(render_status(status_of(&page.error), &page))
}

const REVIEW_DONE: &[&str] = &["minutes", "action", "uploaded"];

async fn review_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let notice = done_notice(&ctx, q.done, REVIEW_DONE, "review-done");
    review_view(&state, &ctx, &who, id, notice, None).await
}

async fn after_review(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    done: &str,
    outcome: AppResult<()>,
) -> AppResult<Response> {
    let base = if is_agent(who) {
        "/console/problem-reviews"
    } else {
        "/problem-reviews"
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("{base}/{id}?done={done}")).into_response()),
        Err(e) => {
            let message = explained(e, ctx.tr())?;
            review_view(state, ctx, who, id, None, Some(message)).await
        }
    }
}

async fn minutes_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let patch = ReviewPatch {
        minutes: Some(field(&form, "minutes")),
        scheduled_for: form
            .iter()
            .any(|(k, _)| k == "scheduled_for")
            .then(|| field(&form, "scheduled_for")),
    };
    let outcome = reviews::update(&state, &who, &ctx.actor(), id, &patch).await;
    after_review(&state, &ctx, &who, id, "minutes", outcome).await
}

async fn action_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = ActionInput {
        text: Some(field(&form, "text")),
        owner: Some(field(&form, "owner")),
        due_on: opt(&form, "due_on"),
        done: None,
    };
    let outcome = reviews::add_action(&state, &who, &ctx.actor(), id, &input)
        .await
        .map(|_| ());
    after_review(&state, &ctx, &who, id, "action", outcome).await
}

async fn action_done(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((id, action)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = ActionInput {
        done: Some(field(&form, "done") == "1"),
        ..Default::default()
    };
    let outcome = reviews::update_action(&state, &who, &ctx.actor(), id, action, &input).await;
    after_review(&state, &ctx, &who, id, "action", outcome).await
}

async fn upload_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let (form, file_error) = read_form(&state, multipart).await?;
    match form.get(CSRF_FIELD) {
        Some(sent) if crate::csrf::same(sent, &ctx.csrf) => {}
        _ => return Err(AppError::new(StatusCode::FORBIDDEN, "csrf_failed")),
    }
    let outcome = match file_error {
        Some(e) => Err(e),
        None => reviews::upload(&state, &who, &ctx.actor(), id, &form.files)
            .await
            .map(|_| ()),
    };
    after_review(&state, &ctx, &who, id, "uploaded", outcome).await
}

async fn download(
    State(state): State<AppState>,
    PageUser(_ctx, who): PageUser,
    Path((id, file)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let (f, bytes) = reviews::file(&state, &who, id, file).await?;
    Ok(file_response(&f, bytes))
}

// ---- On the incident page ----------------------------------------------------------------

/// What the agent's incident page shows of problems: matching known errors and the
/// configuration items the incident names.
pub struct IncidentPanel {
    pub suggestions: Vec<problems::Suggestion>,
    pub items: Vec<store::problems::LinkedItem>,
}

/// The panel for an agent on an incident; `None` otherwise.
pub async fn incident_panel(
    state: &AppState,
    who: &Identity,
    ticket: &store::tickets::Ticket,
    tr: Tr,
) -> AppResult<Option<IncidentPanel>> {
    if !is_agent(who) || ticket.kind != "incident" {
        return Ok(None);
    }
    Ok(Some(IncidentPanel {
        suggestions: problems::suggestions(state, who, &ticket.number, tr.0).await?,
        items: problems::ticket_items(state, who, &ticket.number).await?,
    }))
}

async fn item_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    match problems::add_ticket_item(&state, &who, &ctx.actor(), &number, &field(&form, "code"))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/tickets/{number}")).into_response()),
        // The ticket page shows its own forms' errors; this one is shown alone.
        Err(e) => Err(e),
    }
}
