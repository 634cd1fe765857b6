//! Major incidents in the console: the list (open first), one major incident with its
//! timeline, who is engaged, the notices sent and those pending with their drafts (an
//! overdue one in red), and the declaration form reached from the ticket page.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, render_status};
use crate::major_incidents::{
    self as mi, DeclareInput, MajorIncidentDetail, NoticeInput, VendorContactInput, notice_label,
    role_label,
};
use crate::status::local_time;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::major_incident_notice::kind_of_key;
use domain::text::Locale;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/major-incidents", get(list_page))
        .route("/console/major-incidents/{number}", get(view_page))
        .route(
            "/console/major-incidents/{number}/notices/{key}",
            post(notice_submit),
        )
        .route(
            "/console/major-incidents/{number}/auto-send",
            post(auto_send_submit),
        )
        .route(
            "/tickets/{number}/major-incident",
            get(declare_page).post(declare_submit),
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

struct Clock {
    zone: jiff::tz::TimeZone,
    locale: Locale,
}

impl Clock {
    fn new(state: &AppState, locale: Locale) -> Self {
        Clock {
            zone: jiff::tz::TimeZone::get(&state.settings.time_zone)
                .unwrap_or(jiff::tz::TimeZone::UTC),
            locale,
        }
    }
    fn at(&self, db: &str) -> String {
        local_time(db, &self.zone, self.locale)
    }
    fn maybe(&self, db: &Option<String>) -> String {
        db.as_deref().map(|d| self.at(d)).unwrap_or_default()
    }
}

// ---------- the list ----------

pub struct Row {
    pub number: String,
    pub summary: String,
    pub priority: i64,
    pub coordinator: String,
    pub declared: String,
    pub resolved: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "console_major_incidents.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    let majors = mi::list(&state, &who).await?;
    let shell = Shell::new(&ctx);
    let clock = Clock::new(&state, shell.tr.0);
    let rows = majors
        .into_iter()
        .map(|m| Row {
            open: m.resolved_at.is_none(),
            resolved: clock.maybe(&m.resolved_at),
            declared: clock.at(&m.declared_at),
            number: m.number,
            summary: m.summary,
            priority: m.priority,
            coordinator: m.coordinator_name,
        })
        .collect();
    Ok(render_status(StatusCode::OK, &ListPage { shell, rows }))
}

// ---------- one major incident ----------

pub struct ContactRow {
    pub name: String,
    pub role: String,
    pub organization: String,
    pub email: String,
    pub engaged: String,
}

pub struct SentRow {
    pub label: String,
    pub sent: String,
    pub due: String,
    pub by: String,
    pub recipients: i64,
    pub subject: String,
    pub body: String,
}

pub struct PendingRow {
    /// The key as a path segment (`+1h` → `%2B1h`).
    pub path_key: String,
    pub label: String,
    pub due: String,
    pub remind: String,
    pub overdue: bool,
    pub subject_en: String,
    pub body_en: String,
    pub subject_fr: String,
    pub body_fr: String,
}

pub struct TimelineRow {
    pub at: String,
    pub actor: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "console_major_incident.html")]
struct ViewPage {
    shell: Shell,
    number: String,
    summary: String,
    status: String,
    priority: i64,
    coordinator: String,
    bridge: String,
    declared: String,
    auto_send: bool,
    status_event_id: Option<i64>,
    resolved: String,
    root_cause: String,
    problem_number: Option<String>,
    review_due: String,
    report_due: String,
    contacts: Vec<ContactRow>,
    sent: Vec<SentRow>,
    pending: Vec<PendingRow>,
    timeline: Vec<TimelineRow>,
    error: Option<String>,
}

fn timeline_text(locale: Locale, kind: &str, data: &serde_json::Value) -> String {
    let s = |name: &str| data[name].as_str().unwrap_or_default().to_owned();
    let t = |key: &str, args: &[(&'static str, String)]| crate::i18n::t_args(locale, key, args);
    match kind {
        "created" => t("mi-ev-created", &[]),
        "status" => t("mi-ev-status", &[("from", s("from")), ("to", s("to"))]),
        "major_incident_declared" => t("mi-ev-declared", &[("coordinator", s("coordinator"))]),
        "major_incident_notice" => {
            let key = s("key");
            t(
                "mi-ev-notice",
                &[
                    ("notice", notice_label(&key, kind_of_key(&key), locale)),
                    (
                        "count",
                        data["recipients"].as_i64().unwrap_or(0).to_string(),
                    ),
                ],
            )
        }
        "major_incident_resolved" => match data["problem"].as_str() {
            Some(problem) => t("mi-ev-resolved-problem", &[("problem", problem.to_owned())]),
            None => t("mi-ev-resolved", &[]),
        },
        "status_published" => t("mi-ev-published", &[("title", s("title"))]),
        "linked" => t(
            "mi-ev-linked",
            &[(
                "number",
                data["to"]
                    .as_str()
                    .or(data["from"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
            )],
        ),
        other => t("mi-ev-other", &[("kind", other.to_owned())]),
    }
}

fn view_from(
    state: &AppState,
    directory: &crate::directory::Snapshot,
    shell: Shell,
    detail: MajorIncidentDetail,
    error: Option<String>,
) -> ViewPage {
    let locale = shell.tr.0;
    let clock = Clock::new(state, locale);
    let m = detail.major_incident;
    let automatic = crate::i18n::t(locale, "mi-automatic");
    ViewPage {
        contacts: detail
            .contacts
            .into_iter()
            .map(|c| ContactRow {
                role: role_label(&c.role, locale),
                // Engaged people and escalation contacts are named by their organization
                // in the reader's language; a vendor by the name entered.
                organization: c
                    .organization_id
                    .and_then(|id| directory.organization(id))
                    .map(|o| match locale {
                        domain::text::Locale::Fr => o.name_fr.clone(),
                        _ => o.name_en.clone(),
                    })
                    .or(c.organization_name)
                    .unwrap_or_default(),
                email: c.email.unwrap_or_default(),
                engaged: clock.at(&c.engaged_at),
                name: c.name,
            })
            .collect(),
        sent: detail
            .notices
            .into_iter()
            .map(|n| SentRow {
                label: notice_label(&n.notice_key, kind_of_key(&n.notice_key), locale),
                sent: clock.at(&n.sent_at),
                due: clock.maybe(&n.due_at),
                by: n.sent_by_name.unwrap_or_else(|| automatic.clone()),
                recipients: n.recipients,
                subject: locale.pick(&n.subject_en, &n.subject_fr).to_owned(),
                body: locale.pick(&n.body_en, &n.body_fr).to_owned(),
            })
            .collect(),
        pending: detail
            .pending
            .into_iter()
            .map(|p| PendingRow {
                label: notice_label(&p.key, kind_of_key(&p.key), locale),
                due: clock.at(&p.due_at),
                remind: clock.at(&p.reminder_at),
                overdue: p.overdue,
                path_key: p.key.replace('+', "%2B"),
                subject_en: p.draft.subject_en,
                body_en: p.draft.body_en,
                subject_fr: p.draft.subject_fr,
                body_fr: p.draft.body_fr,
            })
            .collect(),
        timeline: detail
            .timeline
            .iter()
            .map(|e| TimelineRow {
                at: clock.at(&e.at),
                actor: e.actor_label.clone(),
                text: timeline_text(locale, &e.kind, &e.data()),
            })
            .collect(),
        number: m.number,
        summary: m.summary,
        status: m.status,
        priority: m.priority,
        coordinator: m.coordinator_name,
        bridge: m.bridge,
        declared: clock.at(&m.declared_at),
        auto_send: m.auto_send != 0,
        status_event_id: m.status_event_id,
        resolved: clock.maybe(&m.resolved_at),
        root_cause: m.root_cause.unwrap_or_default(),
        problem_number: detail.problem_number,
        review_due: clock.maybe(&m.review_due_at),
        report_due: clock.maybe(&m.report_due_at),
        error,
        shell,
    }
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let detail = mi::detail(state, who, number).await?;
    let directory = {
        let mut conn = state.db.reader().acquire().await?;
        state.directory.get(&mut conn).await?
    };
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    Ok(render_status(
        status,
        &view_from(state, &directory, Shell::new(ctx), detail, error),
    ))
}

async fn view_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
) -> AppResult<Response> {
    view(&state, &ctx, &who, &number, None).await
}

async fn after(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    outcome: AppResult<()>,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/console/major-incidents/{number}")).into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            view(state, ctx, who, number, Some(error)).await
        }
    }
}

async fn notice_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((number, key)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = NoticeInput {
        subject_en: Some(field(&form, "subject_en")),
        body_en: Some(field(&form, "body_en")),
        subject_fr: Some(field(&form, "subject_fr")),
        body_fr: Some(field(&form, "body_fr")),
    };
    let outcome = mi::send_notice(&state, &who, &ctx.actor(), &number, &key, &input)
        .await
        .map(|_| ());
    after(&state, &ctx, &who, &number, outcome).await
}

async fn auto_send_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let on = field(&form, "auto_send") == "on";
    let outcome = mi::set_auto_send(&state, &who, &ctx.actor(), &number, on).await;
    after(&state, &ctx, &who, &number, outcome).await
}

// ---------- declaring ----------

#[derive(Template)]
#[template(path = "console_major_incident_declare.html")]
struct DeclarePage {
    shell: Shell,
    number: String,
    summary: String,
    priority: i64,
    coordinators: Vec<(i64, String, bool)>,
    bridge: String,
    vendor_name: String,
    vendor_email: String,
    vendor_organization: String,
    error: Option<String>,
}

async fn declare_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    form: Option<&[(String, String)]>,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    who.require(domain::policy::Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let ticket =
        store::tickets::get_by_number(&mut conn, &who.principal.ticket_scope(), number).await?;
    if store::major_incidents::get(&mut conn, ticket.id)
        .await?
        .is_some()
    {
        return Ok(
            Redirect::to(&format!("/console/major-incidents/{}", ticket.number)).into_response(),
        );
    }
    let chosen: i64 = form
        .map(|f| field(f, "coordinator_id"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(who.person.id);
    let people = store::people::list(
        &mut conn,
        &domain::policy::OrgScope::All,
        &store::people::PeopleFilter {
            organization_id: Some(who.principal.operator_org_id),
            limit: 500,
            ..Default::default()
        },
    )
    .await?;
    let coordinators = people
        .into_iter()
        .filter(|p| p.is_active())
        .map(|p| (p.id, p.display_name, p.id == chosen))
        .collect();
    let typed = |name: &str| form.map(|f| field(f, name)).unwrap_or_default();
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = DeclarePage {
        shell: Shell::new(ctx),
        number: ticket.number,
        summary: ticket.summary,
        priority: ticket.priority,
        coordinators,
        bridge: typed("bridge"),
        vendor_name: typed("vendor_name"),
        vendor_email: typed("vendor_email"),
        vendor_organization: typed("vendor_organization"),
        error,
    };
    Ok(render_status(status, &page))
}

async fn declare_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
) -> AppResult<Response> {
    declare_view(&state, &ctx, &who, &number, None, None).await
}

async fn declare_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let checked = |name: &str| field(&form, name) == "on";
    let vendor_name = field(&form, "vendor_name");
    let vendor_email = field(&form, "vendor_email");
    let vendor_contacts = if vendor_name.is_empty() && vendor_email.is_empty() {
        Vec::new()
    } else {
        vec![VendorContactInput {
            name: vendor_name,
            email: Some(vendor_email),
            organization: Some(field(&form, "vendor_organization")),
            locale: None,
        }]
    };
    let input = DeclareInput {
        coordinator_id: field(&form, "coordinator_id").parse().ok(),
        bridge: field(&form, "bridge"),
        vendor_contacts,
        auto_send: Some(checked("auto_send")),
        notify_now: Some(checked("notify_now")),
        publish_status: Some(checked("publish_status")),
        banner: Some(checked("banner")),
    };
    match mi::declare(&state, &who, &ctx.actor(), &number, &input).await {
        Ok(detail) => Ok(Redirect::to(&format!(
            "/console/major-incidents/{}",
            detail.major_incident.number
        ))
        .into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            declare_view(&state, &ctx, &who, &number, Some(&form), Some(error)).await
        }
    }
}
