//! The policy administration page (administrators): stored policy pack versions, the one new
//! tickets are opened under, loading a new version (pasted or uploaded), each version's
//! source, the selected pack's targets, one-off calendar closures and the holidays of a year.
//! The work is `crate::policy_admin`'s, shared with the API and the command line.
use crate::AppState;
use crate::api_tickets::read_form;
use crate::csrf::CsrfForm;
use crate::ctx::{CSRF_FIELD, Ctx, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, local_time, render, render_status, shown_on_form};
use crate::i18n::{Tr, t_args};
use crate::policy_admin::{self, ClosureInput};
use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::calendar::{FIRST_SUPPORTED_YEAR, LAST_SUPPORTED_YEAR, Target};
use domain::policy::Action;
use domain::policy_pack::{PolicyPack, SlaFamily};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/policy", get(policy_page))
        .route("/admin/policy/load", post(load_submit))
        .route("/admin/policy/select", post(select_submit))
        .route("/admin/policy/packs/{id}", get(source_page))
        .route("/admin/policy/closures", post(closure_add))
        .route("/admin/policy/closures/{id}/delete", post(closure_remove))
}

/// A stored UTC instant as `YYYY-MM-DD HH:MM` in the operator's time zone.
fn local(state: &AppState, value: &str) -> String {
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    local_time(&tz, value, "%Y-%m-%d %H:%M")
}

/// A target as the page shows it, in the page's language.
fn target_text(tr: Tr, target: Target) -> String {
    match target {
        Target::Minutes(n) => format!("{n} min"),
        Target::Hours(n) => format!("{n} h"),
        Target::BusinessDays(1) => tr.t("policy-bd-one"),
        Target::BusinessDays(n) => t_args(tr.0, "policy-bd", &[("n", n.to_string())]),
    }
}

pub struct PackRow {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub name: String,
    /// The name in the other language, and that language's code.
    pub other_name: String,
    pub other_lang: &'static str,
    pub loaded_at: String,
    pub loaded_by: String,
    pub selected: bool,
}

pub struct TargetRow {
    pub code: String,
    pub label: String,
    pub calendar: String,
    pub respond: String,
    pub resolve: String,
}

pub struct FamilyTable {
    pub label: String,
    pub rows: Vec<TargetRow>,
}

pub struct ClosureRow {
    pub id: i64,
    pub date: String,
    pub calendar: String,
    pub name: String,
    pub added: String,
}

pub struct HolidayRow {
    pub name: String,
    pub date: String,
    pub observed: String,
    pub moved: bool,
}

/// What was typed into the load form.
#[derive(Debug, Clone, Default)]
pub struct LoadForm {
    pub source: String,
    pub select: bool,
    pub error: Option<String>,
}

/// What was typed into the closure form.
#[derive(Debug, Clone, Default)]
pub struct ClosureForm {
    pub date: String,
    pub calendar: String,
    pub name_en: String,
    pub name_fr: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "policy_admin.html")]
struct PolicyPage {
    shell: Shell,
    notice: Option<String>,
    packs: Vec<PackRow>,
    select_error: Option<String>,
    selected_title: Option<String>,
    families: Vec<FamilyTable>,
    load: LoadForm,
    closures: Vec<ClosureRow>,
    closure: ClosureForm,
    closure_calendars: Vec<(String, String)>,
    holiday_calendar: String,
    holiday_year: String,
    holidays: Vec<HolidayRow>,
    holidays_error: Option<String>,
}

impl PolicyPage {
    fn sel(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    done: Option<String>,
    n: Option<usize>,
    calendar: Option<String>,
    year: Option<String>,
}

/// Which form was refused, with its message.
enum Refused {
    Load(LoadForm),
    Select,
    Closure(ClosureForm),
}

async fn policy_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    who.require(Action::ManagePolicy)?;
    let tr = ctx.tr();
    let n = q.n.unwrap_or(0).to_string();
    let notice = match q.done.as_deref() {
        Some("loaded") => Some(tr.t("policy-done-loaded")),
        Some("loaded-selected") => Some(tr.t("policy-done-loaded-selected")),
        Some("selected") => Some(tr.t("policy-done-selected")),
        Some("closure-added") => Some(t_args(tr.0, "closures-done-added", &[("n", n)])),
        Some("closure-removed") => Some(t_args(tr.0, "closures-done-removed", &[("n", n)])),
        _ => None,
    };
    policy_view(&state, &ctx, &q, None, notice).await
}

async fn policy_view(
    state: &AppState,
    ctx: &Ctx,
    q: &PageQuery,
    refused: Option<(Refused, AppError)>,
    notice: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let mut conn = state.db.reader().acquire().await?;
    let stored = store::policy_packs::list(&mut conn).await?;
    let selected = store::policy_packs::selected(&mut conn)
        .await?
        .map(|p| p.id);
    let closures = store::calendar_closures::list(&mut conn).await?;
    let calendars = policy_admin::closure_calendars(&state.packs, &mut conn).await?;
    let selected_pack = match selected {
        Some(id) => Some(state.packs.stored(&mut conn, id).await?),
        None => None,
    };
    // The holidays of a year, for the calendar asked (business by default).
    let holiday_calendar = q
        .calendar
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "business".to_owned());
    let this_year = jiff::Timestamp::now()
        .to_zoned(
            jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .year();
    let holiday_year = q
        .year
        .clone()
        .filter(|y| !y.trim().is_empty())
        .unwrap_or_else(|| this_year.to_string());
    let (holidays, holidays_error) =
        match holidays_of(state, &mut conn, tr, &holiday_calendar, &holiday_year).await {
            Ok(rows) => (rows, None),
            Err(e) if shown_on_form(&e) => (Vec::new(), Some(e.message(ctx.locale))),
            Err(e) => return Err(e),
        };
    drop(conn);

    let status = refused
        .as_ref()
        .map(|(_, e)| e.status)
        .unwrap_or(StatusCode::OK);
    let mut load = LoadForm::default();
    let mut closure = ClosureForm::default();
    let mut select_error = None;
    match refused {
        Some((Refused::Load(mut f), e)) => {
            f.error = Some(e.message(ctx.locale));
            load = f;
        }
        Some((Refused::Closure(mut f), e)) => {
            f.error = Some(e.message(ctx.locale));
            closure = f;
        }
        Some((Refused::Select, e)) => select_error = Some(e.message(ctx.locale)),
        None => {}
    }
    let all_label = tr.t("closures-all");
    let calendar_label = |name: &Option<String>| match name {
        Some(name) => name.clone(),
        None => all_label.clone(),
    };
    let mut frame = Shell::new(ctx);
    frame.path = "/admin/policy".into();
    frame.next = frame.path.clone();
    let page = PolicyPage {
        shell: frame,
        notice,
        packs: stored
            .iter()
            .map(|p| PackRow {
                id: p.id,
                code: p.code.clone(),
                version: p.version,
                name: tr.pick(&p.name_en, &p.name_fr).to_owned(),
                other_name: tr.pick(&p.name_fr, &p.name_en).to_owned(),
                other_lang: if tr.lang() == "en" { "fr" } else { "en" },
                loaded_at: local(state, &p.loaded_at),
                loaded_by: p.loaded_by.clone(),
                selected: Some(p.id) == selected,
            })
            .collect(),
        select_error,
        selected_title: selected_pack.as_ref().map(|pack| {
            t_args(
                tr.0,
                "policy-summary-title",
                &[
                    ("name", tr.pick(pack.name_en(), pack.name_fr()).to_owned()),
                    ("code", pack.code().to_owned()),
                    ("version", pack.version().to_string()),
                ],
            )
        }),
        families: selected_pack
            .as_deref()
            .map(|pack| families(tr, pack))
            .unwrap_or_default(),
        load,
        closures: closures
            .iter()
            .map(|c| ClosureRow {
                id: c.id,
                date: c.closed_on.clone(),
                calendar: calendar_label(&c.calendar),
                name: tr.pick(&c.name_en, &c.name_fr).to_owned(),
                added: format!("{} · {}", local(state, &c.added_at), c.added_by),
            })
            .collect(),
        closure,
        closure_calendars: std::iter::once((String::new(), all_label.clone()))
            .chain(
                calendars
                    .iter()
                    .map(|c| (c.name().to_owned(), c.name().to_owned())),
            )
            .collect(),
        holiday_calendar,
        holiday_year,
        holidays,
        holidays_error,
    };
    Ok(render_status(status, &page))
}

/// The selected pack's priorities, one table per ticket family.
fn families(tr: Tr, pack: &PolicyPack) -> Vec<FamilyTable> {
    [SlaFamily::Incident, SlaFamily::ServiceRequest]
        .into_iter()
        .map(|family| FamilyTable {
            label: tr.t(&format!("policy-family-{}", family.as_str())),
            rows: pack
                .targets_of(family)
                .map(|t| TargetRow {
                    code: t.code.clone(),
                    label: tr.pick(&t.label_en, &t.label_fr).to_owned(),
                    calendar: t.calendar.name().to_owned(),
                    respond: target_text(tr, t.respond),
                    resolve: target_text(tr, t.resolve),
                })
                .collect(),
        })
        .filter(|f| !f.rows.is_empty())
        .collect()
}

async fn holidays_of(
    state: &AppState,
    conn: &mut store::Conn,
    tr: Tr,
    calendar: &str,
    year: &str,
) -> AppResult<Vec<HolidayRow>> {
    let year: i16 = year
        .trim()
        .parse()
        .ok()
        .filter(|y| (FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(y))
        .ok_or_else(|| AppError::invalid("out_of_range", "year"))?;
    let calendar = policy_admin::holiday_calendar(&state.packs, conn, calendar).await?;
    let holidays = calendar
        .holidays_in_year(year)
        .map_err(|_| AppError::invalid("out_of_range", "year"))?;
    Ok(holidays
        .into_iter()
        .map(|h| HolidayRow {
            name: tr.pick(&h.name_en, &h.name_fr).to_owned(),
            date: h.date.to_string(),
            observed: h.observed.to_string(),
            moved: h.observed != h.date,
        })
        .collect())
}

// ---------- loading and selecting ----------

/// Loads a pasted (urlencoded form) or uploaded (multipart form, `file`) pack. A file, when
/// chosen, wins over the text box; a refused file is shown again in the text box.
async fn load_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    req: Request,
) -> AppResult<Response> {
    who.require(Action::ManagePolicy)?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (mut form, file_problem) = if multipart {
        let body = Multipart::from_request(req, &state)
            .await
            .map_err(|_| AppError::bad_request("invalid_form"))?;
        let (fields, file_problem) = read_form(&state, body).await?;
        match fields.get(CSRF_FIELD) {
            Some(sent) if crate::csrf::same(sent, &ctx.csrf) => {}
            _ => return Err(AppError::new(StatusCode::FORBIDDEN, "csrf_failed")),
        }
        let mut form = LoadForm {
            source: fields.get("source").unwrap_or_default().to_owned(),
            select: fields.get("select").is_some_and(|v| !v.is_empty()),
            error: None,
        };
        let mut problem = file_problem;
        if let Some(file) = fields.files.first() {
            match String::from_utf8(file.bytes.clone()) {
                Ok(text) => form.source = text,
                Err(_) => problem = Some(AppError::invalid("invalid_characters", "source")),
            }
        }
        (form, problem)
    } else {
        let CsrfForm(pairs) = CsrfForm::<Vec<(String, String)>>::from_request(req, &state).await?;
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        (
            LoadForm {
                source: get("source"),
                select: !get("select").is_empty(),
                error: None,
            },
            None,
        )
    };
    // Pasted text arrives with CRLF line ends from browsers.
    if form.source.contains("\r\n") {
        form.source = form.source.replace("\r\n", "\n");
    }
    let result = match file_problem {
        Some(e) => Err(e),
        None if form.source.trim().is_empty() => Err(AppError::invalid("required", "source")),
        None => policy_admin::load(&state.db, &form.source, &ctx.actor(), form.select)
            .await
            .map_err(AppError::from),
    };
    match result {
        Ok(_) => {
            let done = if form.select {
                state.packs.selection_changed();
                "loaded-selected"
            } else {
                "loaded"
            };
            Ok(Redirect::to(&format!("/admin/policy?done={done}")).into_response())
        }
        Err(e) if shown_on_form(&e) => {
            policy_view(
                &state,
                &ctx,
                &PageQuery::default(),
                Some((Refused::Load(form), e)),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct SelectForm {
    id: String,
}

async fn select_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<SelectForm>,
) -> AppResult<Response> {
    who.require(Action::ManagePolicy)?;
    let result = match form.id.trim().parse::<i64>() {
        Err(_) => Err(AppError::invalid("invalid_choice", "pack")),
        Ok(id) => match policy_admin::select(&state.db, &ctx.actor(), id).await {
            Err(policy_admin::LoadError::Store(store::StoreError::NotFound)) => {
                Err(AppError::invalid("invalid_choice", "pack"))
            }
            other => other.map_err(AppError::from),
        },
    };
    match result {
        Ok(_) => {
            state.packs.selection_changed();
            Ok(Redirect::to("/admin/policy?done=selected").into_response())
        }
        Err(e) if shown_on_form(&e) => {
            policy_view(
                &state,
                &ctx,
                &PageQuery::default(),
                Some((Refused::Select, e)),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "policy_source.html")]
struct SourcePage {
    shell: Shell,
    title: String,
    loaded: String,
    selected: bool,
    source: String,
}

/// A stored version's file text, read-only.
async fn source_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    who.require(Action::ManagePolicy)?;
    let tr = ctx.tr();
    let mut conn = state.db.reader().acquire().await?;
    let stored = store::policy_packs::get(&mut conn, id).await?;
    let selected = store::policy_packs::selected(&mut conn)
        .await?
        .map(|p| p.id)
        == Some(id);
    drop(conn);
    let mut frame = Shell::new(&ctx);
    frame.path = "/admin/policy".into();
    frame.next = format!("/admin/policy/packs/{id}");
    Ok(render(&SourcePage {
        shell: frame,
        title: t_args(
            tr.0,
            "policy-source-title",
            &[
                ("name", tr.pick(&stored.name_en, &stored.name_fr).to_owned()),
                ("code", stored.code.clone()),
                ("version", stored.version.to_string()),
            ],
        ),
        loaded: t_args(
            tr.0,
            "policy-loaded-line",
            &[
                ("at", local(&state, &stored.loaded_at)),
                ("by", stored.loaded_by.clone()),
            ],
        ),
        selected,
        source: stored.source,
    }))
}

// ---------- closures ----------

async fn closure_add(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::ManagePolicy)?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = ClosureForm {
        date: get("date"),
        calendar: get("calendar"),
        name_en: get("name_en"),
        name_fr: get("name_fr"),
        error: None,
    };
    let input = ClosureInput {
        date: form.date.clone(),
        calendar: Some(form.calendar.clone()).filter(|c| !c.trim().is_empty()),
        name_en: form.name_en.clone(),
        name_fr: form.name_fr.clone(),
    };
    match policy_admin::add_closure(&state, &ctx.actor(), &input).await {
        Ok(change) => Ok(Redirect::to(&format!(
            "/admin/policy?done=closure-added&n={}#closures-title",
            change.recomputed
        ))
        .into_response()),
        Err(e) if shown_on_form(&e) => {
            policy_view(
                &state,
                &ctx,
                &PageQuery::default(),
                Some((Refused::Closure(form), e)),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn closure_remove(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::ManagePolicy)?;
    let change = policy_admin::remove_closure(&state, &ctx.actor(), id).await?;
    Ok(Redirect::to(&format!(
        "/admin/policy?done=closure-removed&n={}#closures-title",
        change.recomputed
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::text::Locale;

    #[test]
    fn targets_read_in_both_languages() {
        assert_eq!(target_text(Tr(Locale::En), Target::Minutes(20)), "20 min");
        assert_eq!(target_text(Tr(Locale::En), Target::Hours(4)), "4 h");
        assert_eq!(
            target_text(Tr(Locale::En), Target::BusinessDays(1)),
            "1 business day"
        );
        assert_eq!(
            target_text(Tr(Locale::En), Target::BusinessDays(5)),
            "5 business days"
        );
        assert_eq!(
            target_text(Tr(Locale::Fr), Target::BusinessDays(5)),
            "5 jours ouvrables"
        );
    }

    #[test]
    fn refused_files_name_line_and_field_in_both_languages() {
        let text = domain::policy_pack::shipped_pack_text("priority")
            .unwrap()
            .replacen("version = 1", "version = 0", 1);
        let e = domain::policy_pack::PolicyPack::parse_toml(&text).unwrap_err();
        let error = policy_admin::policy_error(&e);
        assert_eq!((error.code, error.status.as_u16()), ("invalid_policy", 422));
        assert_eq!(
            error.message(Locale::En),
            "The pack file was refused at line 20 (version): the version must be a whole number from 1"
        );
        assert_eq!(
            error.message(Locale::Fr),
            "Le fichier de l'ensemble est refusé à la ligne 20 (version) : the version must be a whole number from 1"
        );
        let detail = error.detail.unwrap();
        assert_eq!(detail["line"], e.line().unwrap());
        assert_eq!(detail["field"], e.field());
        // Without a line (a file too large), the message says so without a number.
        let big = "#".repeat(domain::policy_pack::MAX_PACK_BYTES + 1);
        let e = domain::policy_pack::PolicyPack::parse_toml(&big).unwrap_err();
        assert_eq!(
            policy_admin::policy_error(&e).message(Locale::En),
            "The pack file was refused: the file is larger than 1048576 bytes"
        );
    }
}
