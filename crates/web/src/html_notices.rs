//! Pages for mail templates (administrators), distribution lists and notices (agents), a
//! person's own lists, and the unsubscribe links in mail (no sign-in). The work is
//! `crate::notices`', shared with the API.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, local_time, render, render_status};
use crate::notices::{self, LinkTarget};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::text::Locale;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/templates", get(templates_page))
        .route(
            "/admin/templates/{key}/{locale}",
            get(template_page).post(template_submit),
        )
        .route("/admin/lists", get(lists_page).post(list_create))
        .route("/admin/lists/{id}", get(list_page))
        .route("/admin/lists/{id}/members", post(members_submit))
        .route("/admin/lists/{id}/notice", post(notice_submit))
        .route(
            "/admin/lists/{id}/members/{member}/{decision}",
            post(decision_submit),
        )
        .route("/lists", get(my_lists_page))
        .route("/lists/{id}/leave", post(leave_submit))
        .route("/unsubscribe/{token}", get(link_page).post(link_submit))
}

/// A refused form's message in the page's language, or the error itself when it is not
/// the person's to fix.
fn form_error(e: AppError, shell: &Shell) -> Result<(StatusCode, String), AppError> {
    if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN {
        Ok((e.status, e.message(shell.tr.0)))
    } else {
        Err(e)
    }
}

/// A stored time as people read it: the operator's time zone, to the minute.
fn shown(state: &AppState, at: &str) -> String {
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    local_time(&tz, at, "%Y-%m-%d %H:%M")
}

fn localized(state: &AppState, mut history: notices::TemplateHistory) -> notices::TemplateHistory {
    for v in &mut history.versions {
        v.saved_at = v.saved_at.as_deref().map(|at| shown(state, at));
    }
    history
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

// ---------- templates ----------

#[derive(Template)]
#[template(path = "admin_templates.html")]
struct TemplatesPage {
    shell: Shell,
    templates: Vec<notices::TemplateSummary>,
}

async fn templates_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    Ok(render(&TemplatesPage {
        shell: Shell::new(&ctx),
        templates: notices::templates(&state, &who).await?,
    }))
}

#[derive(Template)]
#[template(path = "admin_template.html")]
struct TemplatePage {
    shell: Shell,
    history: notices::TemplateHistory,
    /// The form: the version in use, or what was submitted.
    subject: String,
    body: String,
    preview: Option<notices::Preview>,
    error: Option<String>,
    saved: bool,
}

async fn template_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((key, locale)): Path<(String, String)>,
) -> AppResult<Response> {
    let history = localized(
        &state,
        notices::template(&state, &who, &key, &locale).await?,
    );
    let current = history.versions[0].clone();
    let preview = notices::preview(
        &who,
        &key,
        &notices::TemplateInput {
            subject: current.subject.clone(),
            body: current.body.clone(),
        },
    )
    .ok();
    Ok(render(&TemplatePage {
        shell: Shell::new(&ctx),
        history,
        subject: current.subject,
        body: current.body,
        preview,
        error: None,
        saved: false,
    }))
}

/// `action=preview` shows the draft with example values; `action=save` saves a version.
async fn template_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((key, locale)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = notices::TemplateInput {
        subject: field(&form, "subject"),
        body: field(&form, "body"),
    };
    let shell = Shell::new(&ctx);
    let outcome = if field(&form, "action") == "preview" {
        notices::preview(&who, &key, &input).map(Some)
    } else {
        notices::save_template(&state, &who, &ctx.actor(), &key, &locale, &input)
            .await
            .map(|_| None)
    };
    let saved = matches!(outcome, Ok(None));
    let (status, preview, error) = match outcome {
        Ok(preview) => (StatusCode::OK, preview, None),
        Err(e) => {
            let (status, message) = form_error(e, &shell)?;
            (status, None, Some(message))
        }
    };
    let history = localized(
        &state,
        notices::template(&state, &who, &key, &locale).await?,
    );
    Ok(render_status(
        status,
        &TemplatePage {
            shell,
            history,
            subject: input.subject,
            body: input.body,
            preview,
            error,
            saved,
        },
    ))
}

// ---------- lists ----------

#[derive(Template)]
#[template(path = "admin_lists.html")]
struct ListsPage {
    shell: Shell,
    lists: Vec<notices::ListSummary>,
    services: Vec<store::orgs::Service>,
    roles: Vec<&'static str>,
    form: notices::ListInput,
    error: Option<String>,
}

fn contact_roles() -> Vec<&'static str> {
    domain::role::Role::ALL
        .iter()
        .filter(|r| !r.is_operator_role())
        .map(|r| r.as_str())
        .collect()
}

async fn lists_view(
    state: &AppState,
    ctx: &Ctx,
    who: &crate::ctx::Identity,
    form: notices::ListInput,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let mut conn = state.db.reader().acquire().await?;
    let services = state.directory.get(&mut conn).await?.services.clone();
    drop(conn);
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    Ok(render_status(
        status,
        &ListsPage {
            shell: Shell::new(ctx),
            lists: notices::lists(state, who).await?,
            services,
            roles: contact_roles(),
            form,
            error,
        },
    ))
}

async fn lists_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    lists_view(&state, &ctx, &who, notices::ListInput::default(), None).await
}

async fn list_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = notices::ListInput {
        code: field(&form, "code"),
        name_en: field(&form, "name_en"),
        name_fr: field(&form, "name_fr"),
        kind: field(&form, "kind"),
        service_id: field(&form, "service_id").parse().ok(),
        role: Some(field(&form, "role")).filter(|r| !r.is_empty()),
    };
    match notices::create_list(&state, &who, &ctx.actor(), &input).await {
        Ok(list) => Ok(Redirect::to(&format!("/admin/lists/{}", list.id)).into_response()),
        Err(e) => {
            let error = form_error(e, &Shell::new(&ctx))?;
            lists_view(&state, &ctx, &who, input, Some(error)).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_list.html")]
struct ListPage {
    shell: Shell,
    detail: notices::ListDetail,
    name: String,
    /// "Per contact role: Local help desk", …
    kind_label: String,
    organizations: Vec<store::orgs::Organization>,
    /// A refused form, and a notice just sent.
    error: Option<String>,
    sent: Option<notices::NoticeSent>,
    notice: notices::NoticeInput,
}

async fn list_view(
    state: &AppState,
    ctx: &Ctx,
    who: &crate::ctx::Identity,
    id: i64,
    outcome: (StatusCode, Option<String>, Option<notices::NoticeSent>),
    notice: notices::NoticeInput,
) -> AppResult<Response> {
    let mut detail = notices::list(state, who, id).await?;
    for n in &mut detail.notices {
        n.created_at = shown(state, &n.created_at);
    }
    let mut conn = state.db.reader().acquire().await?;
    let organizations = state.directory.get(&mut conn).await?.organizations.clone();
    drop(conn);
    let shell = Shell::new(ctx);
    let name = shell
        .tr
        .0
        .pick(&detail.list.name_en, &detail.list.name_fr)
        .to_owned();
    let mut kind_label = shell.t(&format!("lists-kind-{}", detail.list.kind));
    if let Some(role) = &detail.list.role {
        kind_label = format!("{kind_label}: {}", shell.t(&format!("role-{role}")));
    }
    Ok(render_status(
        outcome.0,
        &ListPage {
            shell,
            name,
            kind_label,
            detail,
            organizations,
            error: outcome.1,
            sent: outcome.2,
            notice,
        },
    ))
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    list_view(
        &state,
        &ctx,
        &who,
        id,
        (StatusCode::OK, None, None),
        notices::NoticeInput::default(),
    )
    .await
}

async fn members_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = notices::MembersInput {
        emails: field(&form, "emails")
            .split([',', ';', '\n', ' '])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
        organization_ids: form
            .iter()
            .filter(|(k, _)| k == "organization_ids")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
    };
    match notices::add_members(&state, &who, &ctx.actor(), id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/lists/{id}")).into_response()),
        Err(e) => {
            let (status, message) = form_error(e, &Shell::new(&ctx))?;
            list_view(
                &state,
                &ctx,
                &who,
                id,
                (status, Some(message), None),
                notices::NoticeInput::default(),
            )
            .await
        }
    }
}

async fn notice_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = notices::NoticeInput {
        list_ids: vec![id],
        subject_en: field(&form, "subject_en"),
        subject_fr: field(&form, "subject_fr"),
        body_en: field(&form, "body_en"),
        body_fr: field(&form, "body_fr"),
    };
    match notices::send_notice(&state, &who, &ctx.actor(), &input).await {
        Ok(sent) => {
            list_view(
                &state,
                &ctx,
                &who,
                id,
                (StatusCode::OK, None, Some(sent)),
                notices::NoticeInput::default(),
            )
            .await
        }
        Err(e) => {
            let (status, message) = form_error(e, &Shell::new(&ctx))?;
            list_view(&state, &ctx, &who, id, (status, Some(message), None), input).await
        }
    }
}

async fn decision_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((id, member, decision)): Path<(i64, i64, String)>,
    CsrfForm(_): CsrfForm<crate::html::Empty>,
) -> AppResult<Response> {
    let confirm = match decision.as_str() {
        "confirm" => true,
        "decline" => false,
        _ => return Err(AppError::not_found()),
    };
    notices::decide_removal(&state, &who, &ctx.actor(), id, member, confirm).await?;
    Ok(Redirect::to(&format!("/admin/lists/{id}")).into_response())
}

// ---------- a person's lists ----------

#[derive(Template)]
#[template(path = "my_lists.html")]
struct MyListsPage {
    shell: Shell,
    lists: Vec<(notices::MyList, String)>,
    notice: Option<String>,
}

async fn my_lists_view(
    state: &AppState,
    ctx: &Ctx,
    who: &crate::ctx::Identity,
    status: StatusCode,
    notice: Option<String>,
) -> AppResult<Response> {
    let shell = Shell::new(ctx);
    let lists = notices::my_lists(state, who)
        .await?
        .into_iter()
        .map(|l| {
            let name = shell.tr.0.pick(&l.list.name_en, &l.list.name_fr).to_owned();
            (l, name)
        })
        .collect();
    Ok(render_status(
        status,
        &MyListsPage {
            shell,
            lists,
            notice,
        },
    ))
}

async fn my_lists_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    my_lists_view(&state, &ctx, &who, StatusCode::OK, None).await
}

async fn leave_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = notices::RemovalInput {
        reason: field(&form, "reason"),
    };
    let shell = Shell::new(&ctx);
    match notices::request_removal(&state, &who, &ctx.actor(), id, &input).await {
        Ok(()) => {
            my_lists_view(
                &state,
                &ctx,
                &who,
                StatusCode::OK,
                Some(shell.t("lists-removal-requested")),
            )
            .await
        }
        Err(e) => {
            let (status, message) = form_error(e, &shell)?;
            my_lists_view(&state, &ctx, &who, status, Some(message)).await
        }
    }
}

// ---------- unsubscribe links ----------

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct LinkPage {
    shell: Shell,
    token: String,
    /// What the link turns off, in the page's language.
    what: String,
    done: bool,
    is_list: bool,
    is_status: bool,
}

fn link_page_for(ctx: &Ctx, token: String, target: &LinkTarget, done: bool) -> LinkPage {
    let shell = Shell::new(ctx);
    let locale: Locale = shell.tr.0;
    let (what, is_list, is_status) = match target {
        LinkTarget::Ticket { number } => (number.clone(), false, false),
        LinkTarget::List { name_en, name_fr } => {
            (locale.pick(name_en, name_fr).to_owned(), true, false)
        }
        LinkTarget::StatusPage { email } => (email.clone(), false, true),
    };
    LinkPage {
        shell,
        token,
        what,
        done,
        is_list,
        is_status,
    }
}

/// The page behind the link: says what it turns off and asks to confirm (mail scanners
/// open links; only a POST acts).
async fn link_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let target = notices::describe_link(&state, &token).await?;
    Ok(render(&link_page_for(&ctx, token, &target, false)))
}

/// The confirmation, or a mail client's one-click POST (RFC 8058): the signed link is the
/// authority, so no session or CSRF token is needed.
async fn link_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let target = notices::follow_link(&state, &token, ctx.ip.clone()).await?;
    Ok(render(&link_page_for(&ctx, token, &target, true)))
}
