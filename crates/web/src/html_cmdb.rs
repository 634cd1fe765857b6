//! The configuration items in the console: the list with a form to add one, and one item
//! with what it needs, what needs it, what an outage of it reaches, and its edit forms.
use crate::AppState;
use crate::cmdb::{self, ItemInput, RelationInput};
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, render_status};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::cmdb::{CiKind, RelationKind};
use domain::text::Locale;
use std::str::FromStr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/cmdb", get(list_page).post(create_submit))
        .route("/console/cmdb/{id}", get(item_page).post(update_submit))
        .route("/console/cmdb/{id}/relations", post(relate_submit))
        .route("/console/cmdb/{id}/relations/remove", post(unrelate_submit))
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn input_from(form: &[(String, String)]) -> ItemInput {
    let opt = |name: &str| Some(field(form, name)).filter(|v| !v.is_empty());
    ItemInput {
        code: field(form, "code"),
        kind: field(form, "kind"),
        name_en: field(form, "name_en"),
        name_fr: field(form, "name_fr"),
        description: field(form, "description"),
        service_id: field(form, "service_id").parse().ok(),
        owner_organization_id: field(form, "owner_organization_id").parse().ok(),
        environment: opt("environment"),
        site: opt("site"),
        status: opt("status"),
        expires_at: opt("expires_at"),
    }
}

fn refused(e: AppError, locale: Locale) -> Result<(StatusCode, String), AppError> {
    if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN {
        Ok((e.status, e.message(locale)))
    } else {
        Err(e)
    }
}

pub struct Choice {
    pub value: &'static str,
    pub label: String,
}

pub struct Row {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub owner: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "console_cmdb.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
    kinds: Vec<Choice>,
    services: Vec<(i64, String)>,
    organizations: Vec<(i64, String)>,
    error: Option<String>,
}

async fn choices(
    state: &AppState,
    locale: Locale,
) -> AppResult<(Vec<(i64, String)>, Vec<(i64, String)>)> {
    let mut conn = state.db.reader().acquire().await?;
    let services = store::orgs::services(&mut conn)
        .await?
        .into_iter()
        .map(|s| (s.id, locale.pick(&s.name_en, &s.name_fr).to_owned()))
        .collect();
    let organizations = store::orgs::list(&mut conn, &domain::policy::OrgScope::All)
        .await?
        .into_iter()
        .map(|o| (o.id, locale.pick(&o.name_en, &o.name_fr).to_owned()))
        .collect();
    Ok((services, organizations))
}

async fn list_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let items = cmdb::list(state, who).await?;
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let (services, organizations) = choices(state, locale).await?;
    let org_name = |id: Option<i64>| {
        organizations
            .iter()
            .find(|(o, _)| Some(*o) == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let rows = items
        .iter()
        .map(|i| Row {
            id: i.id,
            code: i.code.clone(),
            name: locale.pick(&i.name_en, &i.name_fr).to_owned(),
            kind: CiKind::from_str(&i.kind)
                .map(|k| k.label(locale).to_owned())
                .unwrap_or_default(),
            owner: org_name(i.owner_organization_id),
            status: i.status.clone(),
        })
        .collect();
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ListPage {
        rows,
        kinds: CiKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str(),
                label: k.label(locale).to_owned(),
            })
            .collect(),
        services,
        organizations,
        error,
        shell,
    };
    Ok(render_status(status, &page))
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    list_view(&state, &ctx, &who, None).await
}

async fn create_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    match cmdb::create(&state, &who, &ctx.actor(), &input_from(&form)).await {
        Ok(id) => Ok(Redirect::to(&format!("/console/cmdb/{id}")).into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            list_view(&state, &ctx, &who, Some(error)).await
        }
    }
}

pub struct Link {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "console_cmdb_item.html")]
struct ItemPage {
    shell: Shell,
    item: store::cmdb::Item,
    needs: Vec<Link>,
    needed_by: Vec<Link>,
    impacted: Vec<(i64, String, usize)>,
    others: Vec<(i64, String)>,
    kinds: Vec<Choice>,
    relation_kinds: Vec<Choice>,
    services: Vec<(i64, String)>,
    organizations: Vec<(i64, String)>,
    error: Option<String>,
}

async fn item_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    error: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let detail = cmdb::detail(state, who, id).await?;
    let all = cmdb::list(state, who).await?;
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let code_of = |id: i64| {
        all.iter()
            .find(|i| i.id == id)
            .map(|i| i.code.clone())
            .unwrap_or_default()
    };
    let label_of = |kind: &str| {
        RelationKind::from_str(kind)
            .map(|k| k.label(locale).to_owned())
            .unwrap_or_default()
    };
    let (services, organizations) = choices(state, locale).await?;
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ItemPage {
        needs: detail
            .needs
            .iter()
            .map(|r| Link {
                id: r.to_id,
                code: code_of(r.to_id),
                kind: r.kind.clone(),
                label: label_of(&r.kind),
            })
            .collect(),
        needed_by: detail
            .needed_by
            .iter()
            .map(|r| Link {
                id: r.from_id,
                code: code_of(r.from_id),
                kind: r.kind.clone(),
                label: label_of(&r.kind),
            })
            .collect(),
        impacted: detail
            .impacted
            .iter()
            .map(|i| (i.id, i.code.clone(), i.distance))
            .collect(),
        others: all
            .iter()
            .filter(|i| i.id != id)
            .map(|i| (i.id, i.code.clone()))
            .collect(),
        kinds: CiKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str(),
                label: k.label(locale).to_owned(),
            })
            .collect(),
        relation_kinds: RelationKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str(),
                label: k.label(locale).to_owned(),
            })
            .collect(),
        services,
        organizations,
        item: detail.item,
        error,
        shell,
    };
    Ok(render_status(status, &page))
}

async fn item_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    item_view(&state, &ctx, &who, id, None).await
}

async fn after(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    outcome: AppResult<()>,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/console/cmdb/{id}")).into_response()),
        Err(e) => {
            let error = refused(e, ctx.tr().0)?;
            item_view(state, ctx, who, id, Some(error)).await
        }
    }
}

async fn update_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let outcome = cmdb::update(&state, &who, &ctx.actor(), id, &input_from(&form)).await;
    after(&state, &ctx, &who, id, outcome).await
}

fn relation_from(form: &[(String, String)]) -> RelationInput {
    RelationInput {
        to_id: field(form, "to_id").parse().unwrap_or(0),
        kind: field(form, "kind"),
    }
}

async fn relate_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let outcome = cmdb::relate(&state, &who, &ctx.actor(), id, &relation_from(&form)).await;
    after(&state, &ctx, &who, id, outcome).await
}

async fn unrelate_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let outcome = cmdb::unrelate(&state, &who, &ctx.actor(), id, &relation_from(&form)).await;
    after(&state, &ctx, &who, id, outcome).await
}
