//! Change pages: the list of RFCs with its filters, the form to submit one, an RFC with its
//! CAB, earliest date, conflicts, decisions, promotion path and workflow buttons, and the
//! standard change templates. Agents work them under /console; a partner's people submit
//! and read their organization's under /changes.
use crate::AppState;
use crate::changes::{
    self, ChangeDetail, ChangeQuery, EcabInput, NewChange, PresenterInput, PromotionInput,
    StatusInput, TemplateInput,
};
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, render_status};
use crate::html_problems::{Choice, choices, explained, field, list_of, opt, status_of};
use crate::i18n::Tr;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::change::{ChangeOrigin, ChangeRisk, ChangeStatus, ChangeType, PromotionState};
use domain::change_schedule::NoticeRule;
use domain::policy::Action;
use std::str::FromStr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/changes", get(list_page))
        .route("/changes", get(list_page))
        .route("/console/changes/new", get(new_page).post(new_submit))
        .route("/changes/new", get(new_page).post(new_submit))
        .route("/console/changes/{number}", get(change_page))
        .route("/changes/{number}", get(change_page))
        .route("/changes/{number}/status", post(status_submit))
        .route("/changes/{number}/ecab", post(ecab_submit))
        .route("/changes/{number}/presenter", post(presenter_submit))
        .route("/changes/{number}/promotion", post(promotion_submit))
        .route(
            "/console/change-templates",
            get(templates_page).post(template_create),
        )
        .route("/console/change-templates/{id}", post(template_update))
        .route(
            "/console/change-templates/{id}/retire",
            post(template_retire),
        )
}

fn yes_no(form: &[(String, String)], name: &str) -> Option<bool> {
    match field(form, name).as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn is_agent(who: &Identity) -> bool {
    who.principal.allows(Action::WorkTickets)
}

fn base(who: &Identity) -> &'static str {
    if is_agent(who) {
        "/console/changes"
    } else {
        "/changes"
    }
}

fn zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

fn when(state: &AppState, value: &str) -> String {
    crate::html::local_time(&zone(state), value, "%Y-%m-%d %H:%M")
}

fn when_at(state: &AppState, at: jiff::Timestamp) -> String {
    at.to_zoned(zone(state))
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

fn label_of<T: FromStr>(value: &str, label: impl Fn(T) -> &'static str) -> String {
    T::from_str(value)
        .map(|v| label(v).to_owned())
        .unwrap_or_else(|_| value.to_owned())
}

// ---- The list -----------------------------------------------------------------------------

pub struct Row {
    pub number: String,
    pub summary: String,
    pub organization: String,
    pub change_type: String,
    pub status: String,
    pub requested: String,
    pub cab: String,
}

#[derive(Template)]
#[template(path = "console_changes.html")]
struct ListPage {
    shell: Shell,
    agent: bool,
    base: &'static str,
    rows: Vec<Row>,
    statuses: Vec<Choice>,
    types: Vec<Choice>,
    services: Vec<Choice>,
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<ChangeQuery>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let rows = changes::list(&state, &who, &q).await?;
    let mut conn = state.db.reader().acquire().await?;
    let services = store::orgs::services(&mut conn).await?;
    drop(conn);
    let page = ListPage {
        agent: is_agent(&who),
        base: base(&who),
        rows: rows
            .iter()
            .map(|c| Row {
                number: c.number.clone(),
                summary: c.summary.clone(),
                organization: tr
                    .pick(&c.organization_name_en, &c.organization_name_fr)
                    .to_owned(),
                change_type: label_of(&c.change_type, |t: ChangeType| t.label(tr.0)),
                status: label_of(&c.change_status, |s: ChangeStatus| s.label(tr.0)),
                requested: format!(
                    "{} → {}",
                    when(&state, &c.requested_start),
                    when(&state, &c.requested_end)
                ),
                cab: c.cab_date.clone().unwrap_or_default(),
            })
            .collect(),
        statuses: choices(
            std::iter::once(("open".to_owned(), tr.t("changes-open"))).chain(
                ChangeStatus::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), s.label(tr.0).to_owned())),
            ),
            q.status.as_deref().unwrap_or(""),
        ),
        types: choices(
            ChangeType::ALL
                .iter()
                .map(|t| (t.as_str().to_owned(), t.label(tr.0).to_owned())),
            q.change_type.as_deref().unwrap_or(""),
        ),
        services: choices(
            services
                .iter()
                .map(|s| (s.code.clone(), tr.pick(&s.name_en, &s.name_fr).to_owned())),
            q.service.as_deref().unwrap_or(""),
        ),
        shell: Shell::new(&ctx),
    };
    Ok(render_status(StatusCode::OK, &page))
}

// ---- Submitting -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "change_new.html")]
struct NewPage {
    shell: Shell,
    agent: bool,
    base: &'static str,
    typed: Vec<(String, String)>,
    types: Vec<Choice>,
    origins: Vec<Choice>,
    risks: Vec<Choice>,
    notice_rules: Vec<Choice>,
    organizations: Vec<Choice>,
    levels: Vec<i64>,
    template_code: Option<String>,
    error: Option<String>,
}

impl NewPage {
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
    }
    fn typed_level(&self, name: &str, level: &i64) -> bool {
        self.typed(name) == level.to_string()
    }
    fn typed_is(&self, name: &str, value: &str) -> bool {
        self.typed(name) == value
    }
}

#[derive(serde::Deserialize)]
struct NewQuery {
    template: Option<i64>,
}

async fn new_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    mut typed: Vec<(String, String)>,
    error: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let agent = is_agent(who);
    let own = who.person.organization_id;
    if !agent
        && (own == who.principal.operator_org_id
            || !who.principal.ticket_scope().orgs.includes_org(own))
    {
        return Err(AppError::forbidden());
    }
    let template_code = match field(&typed, "template_id").parse::<i64>() {
        Ok(id) if agent => {
            let t = changes::template(state, who, id).await?;
            if !typed.iter().any(|(k, _)| k == "summary") {
                for (k, v) in [
                    ("summary", template_title(&t, tr)),
                    (
                        "affected_services",
                        t.service_code.clone().unwrap_or_default(),
                    ),
                ] {
                    typed.push((k.to_owned(), v));
                }
            }
            Some(t.code)
        }
        _ => None,
    };
    let mut conn = state.db.reader().acquire().await?;
    let orgs = store::orgs::list(&mut conn, &who.principal.org_scope()).await?;
    drop(conn);
    let page = NewPage {
        agent,
        base: base(who),
        types: choices(
            ChangeType::ALL
                .iter()
                .filter(|t| **t != ChangeType::Standard)
                .map(|t| (t.as_str().to_owned(), t.label(tr.0).to_owned())),
            &field(&typed, "change_type"),
        ),
        origins: choices(
            ChangeOrigin::ALL
                .iter()
                .map(|o| (o.as_str().to_owned(), o.label(tr.0).to_owned())),
            &field(&typed, "origin"),
        ),
        risks: choices(
            ChangeRisk::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), r.label(tr.0).to_owned())),
            &field(&typed, "risk"),
        ),
        notice_rules: choices(
            NoticeRule::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), r.label(tr.0).to_owned())),
            &field(&typed, "notice_rule"),
        ),
        organizations: choices(
            orgs.iter()
                .filter(|o| o.is_operator == 0)
                .map(|o| (o.id.to_string(), tr.pick(&o.name_en, &o.name_fr).to_owned())),
            &field(&typed, "organization_id"),
        ),
        levels: vec![1, 2, 3, 4],
        template_code,
        typed,
        error,
        shell: Shell::new(ctx),
    };
    Ok(render_status(status_of(&page.error), &page))
}

fn template_title(t: &store::changes::Template, tr: Tr) -> String {
    tr.pick(&t.title_en, &t.title_fr).to_owned()
}

async fn new_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let typed = q
        .template
        .map(|id| vec![("template_id".to_owned(), id.to_string())])
        .unwrap_or_default();
    new_view(&state, &ctx, &who, typed, None).await
}

async fn new_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = NewChange {
        change_type: opt(&form, "change_type"),
        origin: opt(&form, "origin"),
        organization_id: field(&form, "organization_id").parse().ok(),
        template_id: field(&form, "template_id").parse().ok(),
        summary: field(&form, "summary"),
        description: field(&form, "description"),
        reason: field(&form, "reason"),
        notice_required: yes_no(&form, "notice_required"),
        notice_rule: opt(&form, "notice_rule"),
        disaster_recovery_exists: yes_no(&form, "disaster_recovery_exists"),
        training_documents_exist: yes_no(&form, "training_documents_exist"),
        tested_in_lower_environments: yes_no(&form, "tested_in_lower_environments"),
        risk: opt(&form, "risk"),
        impact: field(&form, "impact").parse().ok(),
        urgency: field(&form, "urgency").parse().ok(),
        users_affected: yes_no(&form, "users_affected"),
        users_affected_how: field(&form, "users_affected_how"),
        outage_required: yes_no(&form, "outage_required"),
        outage_start: opt(&form, "outage_start"),
        outage_end: opt(&form, "outage_end"),
        affected_services: list_of(&field(&form, "affected_services")),
        requested_start: opt(&form, "requested_start"),
        requested_end: opt(&form, "requested_end"),
        product_category: field(&form, "product_category"),
        configuration_items: list_of(&field(&form, "configuration_items")),
        implementer: field(&form, "implementer"),
        implementation_plan: field(&form, "implementation_plan"),
        backout_plan: field(&form, "backout_plan"),
        partner_approval: field(&form, "partner_approval"),
        partner_spoc: opt(&form, "partner_spoc"),
        presenter: opt(&form, "presenter"),
        incident: opt(&form, "incident"),
    };
    match changes::create(&state, &who, &ctx.actor(), &input).await {
        Ok(number) => Ok(Redirect::to(&format!("{}/{number}", base(&who))).into_response()),
        Err(e) => {
            let message = explained(e, ctx.tr())?;
            new_view(&state, &ctx, &who, form, Some(message)).await
        }
    }
}

// ---- One RFC ------------------------------------------------------------------------------

pub struct FlagRow {
    pub code: String,
    pub reason: String,
    pub cleared: bool,
}

pub struct DecisionView {
    pub meeting: String,
    pub date: String,
    pub decision: String,
    pub reasons: String,
    pub by: String,
}

pub struct StepView {
    pub environment: String,
    pub code: String,
    pub state: String,
    pub states: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "change_view.html")]
struct ChangePage {
    shell: Shell,
    agent: bool,
    manager: bool,
    base: &'static str,
    d: ChangeDetail,
    change_type: String,
    status: String,
    origin: String,
    risk: String,
    notice_rule: String,
    submitted_at: String,
    requested: String,
    scheduled: String,
    outage: String,
    ecab: String,
    window_approval: String,
    cab_line: String,
    earliest_lines: Vec<String>,
    flags: Vec<FlagRow>,
    decisions: Vec<DecisionView>,
    steps: Vec<StepView>,
    current_environment: String,
    moves: Vec<Choice>,
    can_ecab: bool,
    final_status: bool,
    notice: Option<String>,
    error: Option<String>,
}

fn yes(tr: Tr, value: i64) -> String {
    tr.t(if value != 0 {
        "change-yes"
    } else {
        "change-no"
    })
}

async fn change_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let d = changes::detail(state, who, number, tr.0).await?;
    let r = &d.record;
    let cab_line = match &d.cab {
        Some(cab) => crate::i18n::t_args(
            tr.0,
            "change-cab-goes-to",
            &[
                ("date", cab.date.to_string()),
                (
                    "start",
                    cab.starts_at
                        .to_zoned(zone(state))
                        .strftime("%H:%M")
                        .to_string(),
                ),
                (
                    "end",
                    cab.ends_at
                        .to_zoned(zone(state))
                        .strftime("%H:%M")
                        .to_string(),
                ),
                ("deadline", when_at(state, cab.deadline)),
                ("approvals", when_at(state, cab.approvals_at)),
            ],
        ),
        None => crate::i18n::t_args(
            tr.0,
            "change-cab-none",
            &[("type", d.change_type.label(tr.0).to_lowercase())],
        ),
    };
    let e = &d.earliest;
    let mut earliest_lines = vec![crate::i18n::t_args(
        tr.0,
        "change-earliest",
        &[("at", when_at(state, e.at))],
    )];
    if let (Some(days), Some(ends)) = (e.lead_time_business_days, e.lead_time_ends) {
        earliest_lines.push(crate::i18n::t_args(
            tr.0,
            "change-earliest-lead",
            &[("days", days.to_string()), ("at", when_at(state, ends))],
        ));
    }
    if let Some(ends) = e.notice_ends {
        earliest_lines.push(crate::i18n::t_args(
            tr.0,
            "change-earliest-notice",
            &[
                ("rule", d.notice_rule.label(tr.0).to_lowercase()),
                ("at", when_at(state, ends)),
            ],
        ));
    }
    if let Some(approvals) = e.cab_approvals_at {
        earliest_lines.push(crate::i18n::t_args(
            tr.0,
            "change-earliest-cab",
            &[("at", when_at(state, approvals))],
        ));
    }
    if earliest_lines.len() == 1 {
        earliest_lines.push(tr.t("change-earliest-none"));
    }
    let manager = changes::is_change_manager(who);
    let page = ChangePage {
        agent: is_agent(who),
        manager,
        base: base(who),
        change_type: d.change_type.label(tr.0).to_owned(),
        status: d.status.label(tr.0).to_owned(),
        origin: d.origin.label(tr.0).to_owned(),
        risk: label_of(&r.risk, |x: ChangeRisk| x.label(tr.0)),
        notice_rule: d.notice_rule.label(tr.0).to_owned(),
        submitted_at: when(state, &r.submitted_at),
        requested: format!(
            "{} → {}",
            when(state, &r.requested_start),
            when(state, &r.requested_end)
        ),
        scheduled: match (&r.scheduled_start, &r.scheduled_end) {
            (Some(s), Some(e)) => format!("{} → {}", when(state, s), when(state, e)),
            _ => "—".into(),
        },
        outage: match (r.outage_required != 0, &r.outage_start, &r.outage_end) {
            (true, Some(s), Some(e)) => format!("{} → {}", when(state, s), when(state, e)),
            _ => tr.t("change-outage-none"),
        },
        ecab: match (&d.ecab_approved_by_name, &r.ecab_approved_at) {
            (Some(n), Some(at)) => format!("{n} · {}", when(state, at)),
            _ => "—".into(),
        },
        window_approval: match (&d.window_approved_by_name, &r.window_approved_at) {
            (Some(n), Some(at)) => format!(
                "{n} · {}{}",
                when(state, at),
                r.window_approval_note
                    .as_deref()
                    .map(|n| format!(" · {n}"))
                    .unwrap_or_default()
            ),
            _ => "—".into(),
        },
        cab_line,
        earliest_lines,
        flags: d
            .flags
            .iter()
            .map(|f| FlagRow {
                code: f.code.to_owned(),
                reason: f.reason.clone(),
                cleared: f.cleared,
            })
            .collect(),
        decisions: d
            .decisions
            .iter()
            .map(|x| DecisionView {
                meeting: tr.t(&format!("change-decision-meeting-{}", x.meeting_kind)),
                date: x.meeting_date.clone(),
                decision: label_of(&x.decision, |c: domain::change::CabDecision| c.label(tr.0)),
                reasons: x.reasons.clone(),
                by: x.decided_by_name.clone().unwrap_or_default(),
            })
            .collect(),
        steps: d
            .promotion_path
            .iter()
            .map(|s| StepView {
                environment: s.environment.label(tr.0).to_owned(),
                code: s.environment.as_str().to_owned(),
                state: s.state.label(tr.0).to_owned(),
                states: choices(
                    PromotionState::ALL
                        .iter()
                        .map(|p| (p.as_str().to_owned(), p.label(tr.0).to_owned())),
                    s.state.as_str(),
                ),
            })
            .collect(),
        current_environment: match d.current_environment {
            Some(env) => crate::i18n::t_args(
                tr.0,
                "change-promotion-current",
                &[("environment", env.label(tr.0).to_owned())],
            ),
            None => tr.t("change-promotion-done"),
        },
        moves: d
            .next_statuses
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: s.label(tr.0).to_owned(),
                selected: false,
            })
            .collect(),
        can_ecab: manager
            && d.change_type.needs_ecab()
            && matches!(d.status, ChangeStatus::Submitted | ChangeStatus::Assessed),
        final_status: d.status.is_final(),
        notice,
        error,
        d,
        shell: Shell::new(ctx),
    };
    Ok(render_status(status_of(&page.error), &page))
}

impl ChangePage {
    fn yes(&self, value: &i64) -> String {
        yes(self.shell.tr, *value)
    }
}

#[derive(serde::Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

const DONE: &[&str] = &["status", "ecab", "presenter", "promotion"];

async fn change_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let notice = q
        .done
        .filter(|d| DONE.contains(&d.as_str()))
        .map(|d| ctx.tr().t(&format!("change-done-{d}")));
    change_view(&state, &ctx, &who, &number, notice, None).await
}

async fn after(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    done: &str,
    outcome: AppResult<()>,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("{}/{number}?done={done}", base(who))).into_response()),
        Err(e) => {
            let message = explained(e, ctx.tr())?;
            change_view(state, ctx, who, number, None, Some(message)).await
        }
    }
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
        scheduled_start: opt(&form, "scheduled_start"),
        scheduled_end: opt(&form, "scheduled_end"),
    };
    let outcome =
        changes::set_status(&state, &who, &ctx.actor(), &number, &input, ctx.tr().0).await;
    after(&state, &ctx, &who, &number, "status", outcome).await
}

async fn ecab_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = EcabInput {
        decision: opt(&form, "decision"),
        reasons: opt(&form, "reasons"),
    };
    let outcome = changes::ecab(&state, &who, &ctx.actor(), &number, &input).await;
    after(&state, &ctx, &who, &number, "ecab", outcome).await
}

async fn presenter_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = PresenterInput {
        presenter: field(&form, "presenter"),
    };
    let outcome = changes::set_presenter(&state, &who, &ctx.actor(), &number, &input).await;
    after(&state, &ctx, &who, &number, "presenter", outcome).await
}

async fn promotion_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let environment = field(&form, "environment");
    let input = PromotionInput {
        state: field(&form, &format!("state-{environment}")),
    };
    let outcome =
        changes::set_promotion(&state, &who, &ctx.actor(), &number, &environment, &input).await;
    after(&state, &ctx, &who, &number, "promotion", outcome).await
}

// ---- Templates --------------------------------------------------------------------------

pub struct TemplateRow {
    pub t: store::changes::Template,
    pub title: String,
    pub status: String,
    pub draft: bool,
    pub approved: bool,
    pub risks: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "change_templates.html")]
struct TemplatesPage {
    shell: Shell,
    manager: bool,
    rows: Vec<TemplateRow>,
    risks: Vec<Choice>,
    levels: Vec<i64>,
    typed: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
}

impl TemplatesPage {
    fn typed(&self, name: &str) -> String {
        field(&self.typed, name)
    }
    fn typed_level(&self, name: &str, level: &i64) -> bool {
        self.typed(name) == level.to_string()
    }
}

fn risk_choices(tr: Tr, selected: &str) -> Vec<Choice> {
    choices(
        ChangeRisk::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), r.label(tr.0).to_owned())),
        selected,
    )
}

async fn templates_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    typed: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let rows = changes::templates(state, who)
        .await?
        .into_iter()
        .map(|t| TemplateRow {
            title: template_title(&t, tr),
            status: tr.t(&format!("chgtpl-status-{}", t.status)),
            draft: t.status == "draft",
            approved: t.status == "approved",
            risks: risk_choices(tr, &t.risk),
            t,
        })
        .collect();
    let page = TemplatesPage {
        manager: changes::is_change_manager(who),
        rows,
        risks: risk_choices(tr, &field(&typed, "risk")),
        levels: vec![1, 2, 3, 4],
        typed,
        notice,
        error,
        shell: Shell::new(ctx),
    };
    Ok(render_status(status_of(&page.error), &page))
}

async fn templates_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let notice = q
        .done
        .filter(|d| ["saved", "retired"].contains(&d.as_str()))
        .map(|d| ctx.tr().t(&format!("chgtpl-done-{d}")));
    templates_view(&state, &ctx, &who, Vec::new(), notice, None).await
}

fn template_input(form: &[(String, String)], with_code: bool) -> TemplateInput {
    TemplateInput {
        code: if with_code {
            Some(field(form, "code"))
        } else {
            None
        },
        title_en: Some(field(form, "title_en")),
        title_fr: Some(field(form, "title_fr")),
        service: Some(field(form, "service")),
        description: Some(field(form, "description")),
        reason: Some(field(form, "reason")),
        risk: Some(field(form, "risk")),
        impact: field(form, "impact").parse().ok(),
        urgency: field(form, "urgency").parse().ok(),
        product_category: Some(field(form, "product_category")),
        implementer: Some(field(form, "implementer")),
        implementation_plan: Some(field(form, "implementation_plan")),
        backout_plan: Some(field(form, "backout_plan")),
    }
}

async fn after_template(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    form: Vec<(String, String)>,
    done: &str,
    outcome: AppResult<()>,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/console/change-templates?done={done}")).into_response())
        }
        Err(e) => {
            let message = explained(e, ctx.tr())?;
            templates_view(state, ctx, who, form, None, Some(message)).await
        }
    }
}

async fn template_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = template_input(&form, true);
    let outcome = changes::create_template(&state, &who, &ctx.actor(), &input)
        .await
        .map(|_| ());
    after_template(&state, &ctx, &who, form, "saved", outcome).await
}

async fn template_update(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = template_input(&form, false);
    let outcome = changes::update_template(&state, &who, &ctx.actor(), id, &input).await;
    after_template(&state, &ctx, &who, Vec::new(), "saved", outcome).await
}

async fn template_retire(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let outcome = changes::retire_template(&state, &who, &ctx.actor(), id).await;
    after_template(&state, &ctx, &who, Vec::new(), "retired", outcome).await
}
