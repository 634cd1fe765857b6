//! Portal, agent console and catalogue pages: server-rendered with askama, in English and
//! French, working without JavaScript. `/static/app.js` only adds drag-and-drop and paste
//! of attachments, canned-response insertion, and keyboard shortcuts in the console.
//!
//! Handlers stay thin: read the form, call the ticket service (`crate::tickets`), render.
//! A refused change re-renders the page with what the person typed and the localized
//! message (HTTP 422 or 409); a change that worked redirects (303) with a `done` notice.
use crate::AppState;
use crate::api_tickets::{MultipartForm, TicketQuery, attachment_response, filter_from};
use crate::csrf::CsrfForm;
use crate::ctx::{CSRF_FIELD, Ctx, Identity, PageUser};
use crate::error::{AppError, AppResult};
use crate::html::{Shell, local_time, render, render_status, shown_on_form};
use crate::i18n::{Tr, t_args};
use crate::tickets::{self, CommentInput, RaiseInput, RedactInput, TicketPatch, TicketView};
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::policy::{Action, OrgScope};
use domain::ticket::{Channel, FormField, LinkKind, STANDARD_FIELDS, Status, TicketKind};
use serde::Deserialize;
use store::catalogue::{
    CannedResponse, CatalogueService, Subcategory, SubcategoryInput, TypeInput,
};
use store::groups::SupportGroup;
use store::tickets::{Event, Ticket};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.js", get(js))
        .route("/tickets", get(tickets_list))
        // Multipart forms with files: each file is capped while it streams (`read_form`).
        .route(
            "/tickets/new",
            get(new_ticket_page)
                .post(new_ticket_submit)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/tickets/{number}", get(ticket_page))
        .route(
            "/tickets/{number}/comments",
            post(comment_submit).layer(DefaultBodyLimit::disable()),
        )
        .route("/tickets/{number}/attachments/{id}", get(download))
        .route("/tickets/{number}/status", post(status_submit))
        .route("/tickets/{number}/notifications", post(mute_submit))
        .route("/tickets/{number}/share", post(share_submit))
        .route("/tickets/{number}/references", post(references_submit))
        .route("/tickets/{number}/assign", post(assign_submit))
        .route("/tickets/{number}/escalate", post(escalate_submit))
        .route("/tickets/{number}/priority", post(priority_submit))
        .route("/tickets/{number}/fields", post(fields_submit))
        .route("/tickets/{number}/links", post(link_submit))
        .route("/tickets/{number}/merge", post(merge_submit))
        .route("/tickets/{number}/redact", post(redact_submit))
        .route("/tickets/{number}/watch", post(watch_submit))
        .route("/console", get(console))
        .route("/console/queue", get(queue))
        .route("/console/bulk", post(bulk_submit))
        .route("/console/phone", get(phone_page).post(phone_submit))
        .route("/admin/catalogue", get(catalogue_page))
        .route("/admin/catalogue/types", post(type_create))
        .route("/admin/catalogue/types/{id}", post(type_update))
        .route("/admin/catalogue/subcategories", post(subcategory_create))
        .route(
            "/admin/catalogue/subcategories/{id}",
            post(subcategory_update),
        )
        .route("/admin/catalogue/canned", post(canned_save))
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
        .into_response()
}

// ---------- shared helpers ----------

/// The page frame; `next` keeps the query string so that switching language stays on the
/// same step, list page or filter.
fn shell(ctx: &Ctx, query: Option<&str>) -> Shell {
    let mut shell = Shell::new(ctx);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        shell.next = format!("{}?{q}", ctx.path);
    }
    shell
}

fn is_agent(who: &Identity) -> bool {
    who.principal.allows(Action::WorkTickets)
}

/// `Some(value)` unless blank.
fn opt(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_owned())
}

fn pair<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn pairs_all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A ticket number as stored (`inc-12` → `INC-000012`), safe in a URL.
fn canonical(number: &str) -> Option<String> {
    domain::ticket::parse_number(number).map(|(k, n)| domain::ticket::format_number(k, n))
}

fn ticket_url(number: &str, done: &str) -> String {
    let number = canonical(number).unwrap_or_default();
    if done.is_empty() {
        format!("/tickets/{number}")
    } else {
        format!("/tickets/{number}?done={done}")
    }
}

/// One `<option>`.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn options(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// An `<optgroup>`.
pub struct OptGroup {
    pub label: String,
    pub opts: Vec<Opt>,
}

/// Formats what the pages show: times in the operator's zone, statuses, kinds, levels.
pub struct Fmt {
    tr: Tr,
    tz: jiff::tz::TimeZone,
    pub zone: String,
}

impl Fmt {
    fn new(state: &AppState, ctx: &Ctx) -> Self {
        let zone = state.settings.time_zone.clone();
        Self {
            tr: ctx.tr(),
            tz: jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC),
            zone,
        }
    }
    /// A stored UTC instant as `YYYY-MM-DD HH:MM` in the operator's time zone.
    pub fn when(&self, value: &str) -> String {
        local_time(&self.tz, value, "%Y-%m-%d %H:%M")
    }
    pub fn when_opt(&self, value: &Option<String>) -> String {
        value.as_deref().map(|v| self.when(v)).unwrap_or_default()
    }
    /// The value of a `datetime-local` input for a stored instant.
    pub fn input_when(&self, value: &Option<String>) -> String {
        value
            .as_deref()
            .map(|v| local_time(&self.tz, v, "%Y-%m-%dT%H:%M"))
            .unwrap_or_default()
    }
    pub fn status(&self, s: &str) -> String {
        self.tr.t(&format!("tstatus-{s}"))
    }
    pub fn kind(&self, k: &str) -> String {
        self.tr.t(&format!("kind-{k}"))
    }
    pub fn channel(&self, c: &str) -> String {
        self.tr.t(&format!("channel-{c}"))
    }
    pub fn priority(&self, p: &i64) -> String {
        self.tr.t(&format!("priority-{p}"))
    }
    /// `P2`: short form for tables.
    pub fn p(&self, p: &i64) -> String {
        format!("P{p}")
    }
    pub fn impact(&self, i: &i64) -> String {
        self.tr.t(&format!("impact-{i}"))
    }
    pub fn urgency(&self, u: &i64) -> String {
        self.tr.t(&format!("urgency-{u}"))
    }
    /// A file size in bytes, KB or MB.
    pub fn size(&self, bytes: &i64) -> String {
        match *bytes {
            b if b < 1024 => format!("{b} B"),
            b if b < 1024 * 1024 => format!("{} KB", (b + 1023) / 1024),
            b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        }
    }
    pub fn tier(&self, t: &i64) -> String {
        self.tr.t(&format!("tier-{t}"))
    }
}

/// Levels 1–4 with their labels (impact, urgency or priority).
fn level_options(tr: Tr, prefix: &str, selected: &str) -> Vec<Opt> {
    options(
        (1..=4).map(|i| (i.to_string(), tr.t(&format!("{prefix}-{i}")))),
        selected,
    )
}

/// Group and member choices for assignment: `group:person`, `group:0` for the group alone.
async fn assign_choices(
    conn: &mut store::Conn,
    tr: Tr,
    groups: &[SupportGroup],
    selected: &str,
) -> AppResult<Vec<OptGroup>> {
    let mut out = Vec::new();
    for g in groups {
        let name = tr.pick(&g.name_en, &g.name_fr).to_owned();
        let mut items = vec![(
            format!("{}:0", g.id),
            t_args(tr.0, "work-group-only", &[("group", name.clone())]),
        )];
        for (id, member) in store::groups::members(conn, g.id).await? {
            items.push((format!("{}:{id}", g.id), member));
        }
        out.push(OptGroup {
            label: name,
            opts: options(items, selected),
        });
    }
    Ok(out)
}

/// Multipart forms cannot use `CsrfForm`: the `_csrf` field is compared here.
fn check_csrf(ctx: &Ctx, form: &MultipartForm) -> AppResult<()> {
    match form.get(CSRF_FIELD) {
        Some(sent) if crate::csrf::same(sent, &ctx.csrf) => Ok(()),
        _ => Err(AppError::new(StatusCode::FORBIDDEN, "csrf_failed")),
    }
}

// ---------- catalogue views shared by the portal home and step 1 ----------

pub struct ServiceView {
    pub name: String,
    pub types: Vec<TypeView>,
}

pub struct TypeView {
    pub name: String,
    pub description: String,
    pub subs: Vec<SubView>,
}

pub struct SubView {
    pub id: i64,
    pub name: String,
    pub description: String,
}

fn catalogue_views(tr: Tr, tree: &[CatalogueService]) -> Vec<ServiceView> {
    tree.iter()
        .map(|s| ServiceView {
            name: tr.pick(&s.name_en, &s.name_fr).to_owned(),
            types: s
                .request_types
                .iter()
                .map(|t| TypeView {
                    name: tr
                        .pick(&t.request_type.name_en, &t.request_type.name_fr)
                        .to_owned(),
                    description: tr
                        .pick(
                            &t.request_type.description_en,
                            &t.request_type.description_fr,
                        )
                        .to_owned(),
                    subs: t
                        .subcategories
                        .iter()
                        .map(|sc| SubView {
                            id: sc.id,
                            name: tr.pick(&sc.name_en, &sc.name_fr).to_owned(),
                            description: tr.pick(&sc.description_en, &sc.description_fr).to_owned(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

// ---------- portal home ----------

#[derive(Template)]
#[template(path = "tickets_home.html")]
struct HomePage {
    shell: Shell,
    person: store::people::Person,
    organization: store::orgs::Organization,
    roles: Vec<store::people::RoleAssignment>,
    open_count: i64,
    catalogue: Vec<ServiceView>,
    agent: bool,
}

/// The signed-in home page: request types by service, the open-requests counter, search.
pub async fn portal_home(state: &AppState, ctx: &Ctx, who: &Identity) -> AppResult<Response> {
    let mut conn = state.db.reader().acquire().await?;
    let organization = store::orgs::get(
        &mut conn,
        &who.principal.org_scope(),
        who.person.organization_id,
    )
    .await?;
    let roles = store::people::roles_of(&mut conn, who.person.id).await?;
    let open_count = store::tickets::count_open_involving(
        &mut conn,
        &who.principal.ticket_scope(),
        who.person.id,
    )
    .await?;
    let tree = store::catalogue::tree(&mut conn, true).await?;
    Ok(render(&HomePage {
        shell: shell(ctx, None),
        person: who.person.clone(),
        organization,
        roles,
        open_count,
        catalogue: catalogue_views(ctx.tr(), &tree),
        agent: is_agent(who),
    }))
}

// ---------- raising a request: portal form and phone intake ----------

/// What someone typed into a request form, kept as text so that it can be shown again.
#[derive(Debug, Clone, Default)]
pub struct RaiseForm {
    pub subcategory_id: String,
    pub organization_id: String,
    pub on_behalf_of: String,
    pub summary: String,
    pub details: String,
    pub impact: String,
    pub urgency: String,
    pub configuration_item: String,
    pub first_occurrence: String,
    pub service_impact: String,
    pub user_impact: String,
    pub troubleshooting: String,
    pub workaround: String,
    pub no_workaround: bool,
    pub partner_reference: String,
    pub custom: Vec<(String, String)>,
}

impl RaiseForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let g = |k: &str| pair(pairs, k).to_owned();
        Self {
            subcategory_id: g("subcategory_id"),
            organization_id: g("organization_id"),
            on_behalf_of: g("on_behalf_of"),
            summary: g("summary"),
            details: g("details"),
            impact: g("impact"),
            urgency: g("urgency"),
            configuration_item: g("configuration_item"),
            first_occurrence: g("first_occurrence"),
            service_impact: g("service_impact"),
            user_impact: g("user_impact"),
            troubleshooting: g("troubleshooting"),
            workaround: g("workaround"),
            no_workaround: !g("no_workaround").is_empty(),
            partner_reference: g("partner_reference"),
            custom: pairs
                .iter()
                .filter(|(k, _)| k.starts_with("x_"))
                .cloned()
                .collect(),
        }
    }

    /// The service's input. Only the custom fields of the chosen form are sent (the phone
    /// screen may still hold those of a request type chosen before).
    fn input(&self, form: &[FormField], organization_id: Option<i64>) -> RaiseInput {
        RaiseInput {
            kind: None,
            subcategory_id: self.subcategory_id.trim().parse().ok(),
            organization_id,
            organization: None,
            service_id: None,
            on_behalf_of: opt(&self.on_behalf_of),
            summary: self.summary.clone(),
            details: self.details.clone(),
            impact: self.impact.trim().parse().ok(),
            urgency: self.urgency.trim().parse().ok(),
            configuration_item: opt(&self.configuration_item),
            first_occurrence: opt(&self.first_occurrence),
            service_impact: opt(&self.service_impact),
            user_impact: opt(&self.user_impact),
            troubleshooting: opt(&self.troubleshooting),
            workaround: opt(&self.workaround),
            no_workaround: self.no_workaround,
            partner_references: self
                .partner_reference
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            custom: self
                .custom
                .iter()
                .filter(|(k, v)| !v.trim().is_empty() && form.iter().any(|f| f.name == *k))
                .cloned()
                .collect(),
            channel: None,
            support_group_id: None,
        }
    }

    fn custom_value(&self, name: &str) -> String {
        self.custom
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

pub struct CustomField {
    pub name: String,
    pub label: String,
    pub required: bool,
    pub value: String,
}

/// The request fields as the shared template (`tickets_raise_fields.html`) shows them.
pub struct RaiseView {
    tr: Tr,
    pub v: RaiseForm,
    fields: Vec<FormField>,
    /// Standard fields shown whatever the form says (the phone screen shows them all).
    always: &'static [&'static str],
    pub customs: Vec<CustomField>,
    pub error: Option<String>,
    /// The field the error is about: a standard name or a custom `x_` field.
    error_field: Option<String>,
    pub impact_options: Vec<Opt>,
    pub urgency_options: Vec<Opt>,
    pub partner_label: String,
    pub zone: String,
}

impl RaiseView {
    fn new(
        tr: Tr,
        zone: &str,
        v: RaiseForm,
        sub: Option<&Subcategory>,
        always: &'static [&'static str],
        error: Option<&AppError>,
    ) -> Self {
        let fields = sub.map(|s| s.fields()).unwrap_or_default();
        let customs = fields
            .iter()
            .filter(|f| f.is_custom())
            .map(|f| CustomField {
                name: f.name.clone(),
                label: tr
                    .pick(
                        f.label_en.as_deref().unwrap_or(&f.name),
                        f.label_fr.as_deref().unwrap_or(&f.name),
                    )
                    .to_owned(),
                required: f.required,
                value: v.custom_value(&f.name),
            })
            .collect();
        let mut view = Self {
            tr,
            impact_options: level_options(tr, "impact", &v.impact),
            urgency_options: level_options(tr, "urgency", &v.urgency),
            v,
            fields,
            always,
            customs,
            error: error.map(|e| e.message(tr.0)),
            error_field: error.and_then(|e| e.field).map(str::to_owned),
            partner_label: tr.t(if always.is_empty() {
                "field-partner_reference"
            } else {
                "phone-partner_reference"
            }),
            zone: zone.to_owned(),
        };
        // The service says only "a custom field is required": name the first empty one
        // and show the message next to it.
        if let Some(e) = error
            && e.code == "required"
            && e.field == Some("custom")
            && let Some(c) = view
                .customs
                .iter()
                .find(|c| c.required && c.value.trim().is_empty())
        {
            view.error = Some(t_args(
                tr.0,
                "error-required",
                &[("field", c.label.clone())],
            ));
            view.error_field = Some(c.name.clone());
        }
        view
    }
    pub fn label(&self, name: &str) -> String {
        self.tr.t(&format!("field-{name}"))
    }
    /// What was typed into a standard text field.
    pub fn value(&self, name: &str) -> &str {
        match name {
            "configuration_item" => &self.v.configuration_item,
            "service_impact" => &self.v.service_impact,
            "user_impact" => &self.v.user_impact,
            "troubleshooting" => &self.v.troubleshooting,
            _ => "",
        }
    }
    /// Whether the form asks for this standard field.
    pub fn has(&self, name: &str) -> bool {
        self.always.contains(&name) || self.fields.iter().any(|f| f.name == name)
    }
    pub fn req(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name && f.required)
    }
    /// The message, when the error is about this field.
    pub fn err(&self, name: &str) -> Option<&str> {
        match (&self.error_field, &self.error) {
            (Some(f), Some(m)) if f == name => Some(m.as_str()),
            _ => None,
        }
    }
    /// `aria-describedby` of a free-text field: its PHI warning, and its error if any.
    pub fn described(&self, name: &str) -> String {
        if self.err(name).is_some() {
            format!("{name}-phi {name}-error")
        } else {
            format!("{name}-phi")
        }
    }
}

#[derive(Template)]
#[template(path = "tickets_pick.html")]
struct PickPage {
    shell: Shell,
    catalogue: Vec<ServiceView>,
}

#[derive(Template)]
#[template(path = "tickets_new.html")]
struct NewTicketPage {
    shell: Shell,
    sub_id: i64,
    sub_name: String,
    sub_description: String,
    type_name: String,
    service_name: String,
    agent: bool,
    own_org: String,
    orgs: Vec<Opt>,
    r: RaiseView,
}

#[derive(Deserialize)]
struct NewQuery {
    subcategory: Option<String>,
}

async fn new_ticket_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<NewQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let sub_id = q.subcategory.as_deref().and_then(|s| s.trim().parse().ok());
    let Some(sub_id) = sub_id else {
        let mut conn = state.db.reader().acquire().await?;
        let tree = store::catalogue::tree(&mut conn, true).await?;
        return Ok(render(&PickPage {
            shell: shell(&ctx, None),
            catalogue: catalogue_views(ctx.tr(), &tree),
        }));
    };
    let mut conn = state.db.reader().acquire().await?;
    let sub = store::catalogue::subcategory(&mut conn, sub_id).await?;
    drop(conn);
    let form = RaiseForm {
        subcategory_id: sub.id.to_string(),
        impact: sub.impact.to_string(),
        urgency: sub.urgency.to_string(),
        ..Default::default()
    };
    new_ticket_form(&state, &ctx, &who, raw.as_deref(), &sub, form, None).await
}

async fn new_ticket_form(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    raw_query: Option<&str>,
    sub: &Subcategory,
    form: RaiseForm,
    error: Option<AppError>,
) -> AppResult<Response> {
    if !sub.is_active() {
        return Err(AppError::not_found());
    }
    let tr = ctx.tr();
    let agent = is_agent(who);
    let mut conn = state.db.reader().acquire().await?;
    let request_type = store::catalogue::request_type(&mut conn, sub.request_type_id).await?;
    let services = store::orgs::services(&mut conn).await?;
    let service_name = services
        .iter()
        .find(|s| s.id == request_type.service_id)
        .map(|s| tr.pick(&s.name_en, &s.name_fr).to_owned())
        .unwrap_or_default();
    let orgs = if agent {
        org_options(&mut conn, tr, &form.organization_id).await?
    } else {
        Vec::new()
    };
    let own = store::orgs::get(
        &mut conn,
        &who.principal.org_scope(),
        who.person.organization_id,
    )
    .await?;
    let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    let page = NewTicketPage {
        shell: shell(ctx, raw_query),
        sub_id: sub.id,
        sub_name: tr.pick(&sub.name_en, &sub.name_fr).to_owned(),
        sub_description: tr.pick(&sub.description_en, &sub.description_fr).to_owned(),
        type_name: tr
            .pick(&request_type.name_en, &request_type.name_fr)
            .to_owned(),
        service_name,
        agent,
        own_org: format!("{} ({})", tr.pick(&own.name_en, &own.name_fr), own.code),
        orgs,
        r: RaiseView::new(
            tr,
            &state.settings.time_zone,
            form,
            Some(sub),
            &[],
            error.as_ref(),
        ),
    };
    Ok(render_status(status, &page))
}

/// Active organizations, for agents raising a ticket for any of them.
async fn org_options(conn: &mut store::Conn, tr: Tr, selected: &str) -> AppResult<Vec<Opt>> {
    let orgs = store::orgs::list(conn, &OrgScope::All).await?;
    Ok(options(
        orgs.iter().filter(|o| o.active != 0).map(|o| {
            (
                o.id.to_string(),
                format!("{} ({})", tr.pick(&o.name_en, &o.name_fr), o.code),
            )
        }),
        selected,
    ))
}

async fn new_ticket_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    multipart: Multipart,
) -> AppResult<Response> {
    let (form, file_error) = crate::api_tickets::read_form(&state, multipart).await?;
    check_csrf(&ctx, &form)?;
    let typed = RaiseForm::from_pairs(&form.fields);
    let sub_id: i64 = typed
        .subcategory_id
        .trim()
        .parse()
        .map_err(|_| AppError::not_found())?;
    let mut conn = state.db.reader().acquire().await?;
    let sub = store::catalogue::subcategory(&mut conn, sub_id).await?;
    drop(conn);
    let query = format!("subcategory={sub_id}");
    if let Some(e) = file_error {
        return new_ticket_form(&state, &ctx, &who, Some(&query), &sub, typed, Some(e)).await;
    }
    // Partners raise for their own organization; agents choose one (the service insists).
    let organization_id = if is_agent(&who) {
        typed.organization_id.trim().parse().ok()
    } else {
        None
    };
    let input = typed.input(&sub.fields(), organization_id);
    match tickets::raise(
        &state,
        &who,
        &ctx.actor(),
        &input,
        Channel::Portal,
        &form.files,
    )
    .await
    {
        Ok(raised) => Ok(Redirect::to(&ticket_url(&raised.number, "created")).into_response()),
        Err(e) if shown_on_form(&e) => {
            new_ticket_form(&state, &ctx, &who, Some(&query), &sub, typed, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "console_phone.html")]
struct PhonePage {
    shell: Shell,
    orgs: Vec<Opt>,
    subs: Vec<OptGroup>,
    r: RaiseView,
}

/// Standard fields the phone screen always shows.
const PHONE_FIELDS: &[&str] = &[
    "first_occurrence",
    "troubleshooting",
    "workaround",
    "partner_reference",
];

async fn phone_form(
    state: &AppState,
    ctx: &Ctx,
    form: RaiseForm,
    error: Option<AppError>,
    status: StatusCode,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let mut conn = state.db.reader().acquire().await?;
    let orgs = org_options(&mut conn, tr, &form.organization_id).await?;
    let tree = store::catalogue::tree(&mut conn, true).await?;
    let mut subs = Vec::new();
    let mut chosen = None;
    for s in &tree {
        for t in &s.request_types {
            let label = format!(
                "{} › {}",
                tr.pick(&s.name_en, &s.name_fr),
                tr.pick(&t.request_type.name_en, &t.request_type.name_fr)
            );
            for sc in &t.subcategories {
                if sc.id.to_string() == form.subcategory_id {
                    chosen = Some(sc.clone());
                }
            }
            subs.push(OptGroup {
                label,
                opts: options(
                    t.subcategories.iter().map(|sc| {
                        (
                            sc.id.to_string(),
                            tr.pick(&sc.name_en, &sc.name_fr).to_owned(),
                        )
                    }),
                    &form.subcategory_id,
                ),
            });
        }
    }
    let page = PhonePage {
        shell: shell(ctx, None),
        orgs,
        subs,
        r: RaiseView::new(
            tr,
            &state.settings.time_zone,
            form,
            chosen.as_ref(),
            PHONE_FIELDS,
            error.as_ref(),
        ),
    };
    Ok(render_status(status, &page))
}

async fn phone_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    phone_form(&state, &ctx, RaiseForm::default(), None, StatusCode::OK).await
}

async fn phone_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let mut typed = RaiseForm::from_pairs(&pairs);
    typed.on_behalf_of = pair(&pairs, "caller").to_owned();
    // "Show the fields" re-renders with the chosen request type's form, nothing is saved.
    if !pair(&pairs, "refresh").is_empty() {
        if let Some(sub) = phone_sub(&state, &typed).await? {
            typed.impact = sub.impact.to_string();
            typed.urgency = sub.urgency.to_string();
        }
        return phone_form(&state, &ctx, typed, None, StatusCode::OK).await;
    }
    let form = phone_sub(&state, &typed)
        .await?
        .map(|s| s.fields())
        .unwrap_or_default();
    let organization_id = typed.organization_id.trim().parse().ok();
    let mut input = typed.input(&form, organization_id);
    input.channel = Some(Channel::Phone.as_str().to_owned());
    if input.subcategory_id.is_none() {
        let e = AppError::invalid("required", "subcategory_id");
        return phone_form(
            &state,
            &ctx,
            typed,
            Some(e),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match tickets::raise(&state, &who, &ctx.actor(), &input, Channel::Phone, &[]).await {
        Ok(raised) => Ok(Redirect::to(&ticket_url(&raised.number, "created")).into_response()),
        Err(e) if shown_on_form(&e) => {
            let status = e.status;
            phone_form(&state, &ctx, typed, Some(e), status).await
        }
        Err(e) => Err(e),
    }
}

async fn phone_sub(state: &AppState, typed: &RaiseForm) -> AppResult<Option<Subcategory>> {
    let Ok(id) = typed.subcategory_id.trim().parse::<i64>() else {
        return Ok(None);
    };
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::catalogue::subcategory(&mut conn, id)
        .await
        .ok()
        .filter(|s| s.is_active()))
}

// ---------- the ticket page ----------

/// One timeline entry in words.
pub struct EventView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub internal: bool,
    pub note: bool,
    pub text: String,
    pub body: Option<String>,
    pub reason: Option<String>,
    pub files: Vec<(i64, String)>,
    pub redacted: bool,
}

pub struct LinkView {
    pub relation: String,
    pub number: String,
    pub summary: String,
    pub status: String,
}

pub struct CannedView {
    pub code: String,
    pub title: String,
    pub body: String,
}

/// The values of the "edit fields" form: what was typed, or what is stored.
pub struct EditFields {
    pub summary: String,
    pub details: String,
    pub configuration_item: String,
    pub first_occurrence: String,
    pub service_impact: String,
    pub user_impact: String,
    pub troubleshooting: String,
    pub workaround: String,
    pub no_workaround: bool,
}

impl EditFields {
    /// What was typed when the edit was refused, else the stored values.
    fn new(t: &Ticket, f: &Fmt, typed: &Typed) -> Self {
        let tp = |name: &str| (typed.form == "fields").then(|| pair(&typed.pairs, name).to_owned());
        let or = |name: &str, stored: &Option<String>| {
            tp(name).unwrap_or_else(|| stored.clone().unwrap_or_default())
        };
        Self {
            summary: tp("summary").unwrap_or_else(|| t.summary.clone()),
            details: tp("details").unwrap_or_else(|| t.details.clone()),
            configuration_item: or("configuration_item", &t.configuration_item),
            first_occurrence: tp("first_occurrence")
                .unwrap_or_else(|| f.input_when(&t.first_occurrence)),
            service_impact: or("service_impact", &t.service_impact),
            user_impact: or("user_impact", &t.user_impact),
            troubleshooting: or("troubleshooting", &t.troubleshooting),
            workaround: or("workaround", &t.workaround),
            no_workaround: tp("no_workaround")
                .map(|v| !v.is_empty())
                .unwrap_or(t.no_workaround != 0),
        }
    }
}

/// The choices of the agents' forms on the ticket page.
pub struct WorkPanel {
    pub canned: Vec<CannedView>,
    pub next_statuses: Vec<Opt>,
    pub assign: Vec<OptGroup>,
    pub escalate_tiers: Vec<i64>,
    pub impact_options: Vec<Opt>,
    pub urgency_options: Vec<Opt>,
    pub priority_options: Vec<Opt>,
    pub link_kinds: Vec<Opt>,
    pub redact_targets: Vec<Opt>,
}

#[allow(clippy::too_many_arguments)]
async fn work_panel(
    conn: &mut store::Conn,
    packs: &crate::sla::Packs,
    tr: Tr,
    f: &Fmt,
    t: &Ticket,
    groups: &[SupportGroup],
    events: &[EventView],
    typed: &Typed,
) -> AppResult<WorkPanel> {
    let typed_val = |form: &str, name: &str| {
        if typed.form == form {
            pair(&typed.pairs, name).to_owned()
        } else {
            String::new()
        }
    };
    let canned = store::catalogue::canned_responses(conn)
        .await?
        .into_iter()
        .map(|c| CannedView {
            title: tr.pick(&c.title_en, &c.title_fr).to_owned(),
            body: tr.pick(&c.body_en, &c.body_fr).to_owned(),
            code: c.code,
        })
        .collect();
    let status = t.status();
    let next_statuses = options(
        Status::ALL
            .iter()
            .filter(|s| status.can_become(**s))
            .map(|s| (s.as_str().to_owned(), f.status(s.as_str()))),
        &typed_val("status", "status"),
    );
    let current = match (t.support_group_id, t.assignee_id) {
        (Some(g), Some(a)) => format!("{g}:{a}"),
        (Some(g), None) => format!("{g}:0"),
        _ => String::new(),
    };
    let selected = Some(typed_val("assign", "target"))
        .filter(|s| !s.is_empty())
        .unwrap_or(current);
    let assign = assign_choices(conn, tr, groups, &selected).await?;
    let mut targets: Vec<(String, String)> = [
        "summary",
        "details",
        "troubleshooting",
        "service_impact",
        "user_impact",
        "workaround",
    ]
    .iter()
    .map(|n| ((*n).to_owned(), tr.t(&format!("field-{n}"))))
    .collect();
    for e in events.iter().filter(|e| e.body.is_some()) {
        let args = [
            ("what", e.text.clone()),
            ("actor", e.actor.clone()),
            ("at", e.at.clone()),
        ];
        targets.push((
            format!("event:{}", e.id),
            t_args(tr.0, "redact-target-event", &args),
        ));
    }
    let (impact, urgency, priority) = if typed.form == "priority" {
        (
            typed_val("priority", "impact"),
            typed_val("priority", "urgency"),
            typed_val("priority", "priority"),
        )
    } else {
        (t.impact.to_string(), t.urgency.to_string(), String::new())
    };
    let mut priority_options = vec![Opt {
        value: String::new(),
        label: tr.t("priority-derived"),
        selected: priority.is_empty(),
    }];
    priority_options.extend(level_options(tr, "priority", &priority));
    // Priorities that are chosen rather than derived (the network requests' P10–P40).
    if let Some(pack_id) = t.policy_pack_id {
        let pack = packs.get(conn, pack_id).await?;
        priority_options.extend(options(
            [10, 20, 30, 40]
                .into_iter()
                .filter(|p| crate::sla::pack_has_priority(&pack, t.kind(), *p))
                .map(|p| (p.to_string(), tr.t(&format!("priority-{p}")))),
            &priority,
        ));
    }
    Ok(WorkPanel {
        canned,
        next_statuses,
        assign,
        escalate_tiers: (t.tier + 1..=domain::ticket::MAX_TIER)
            .filter(|tier| *tier >= 2)
            .collect(),
        impact_options: level_options(tr, "impact", &impact),
        urgency_options: level_options(tr, "urgency", &urgency),
        priority_options,
        link_kinds: options(
            LinkKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), tr.t(&format!("link-{}", k.as_str())))),
            &typed_val("link", "kind"),
        ),
        redact_targets: options(targets, &typed_val("redact", "target")),
    })
}

/// What was typed into one of the page's forms when the change was refused.
#[derive(Default)]
struct Typed {
    form: &'static str,
    pairs: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "tickets_view.html")]
struct TicketPage {
    shell: Shell,
    f: Fmt,
    v: TicketView,
    agent: bool,
    open: bool,
    final_status: bool,
    request_type: String,
    group_name: String,
    customs: Vec<(String, String)>,
    events: Vec<EventView>,
    links: Vec<LinkView>,
    notice: Option<String>,
    error: Option<String>,
    error_form: &'static str,
    typed: Typed,
    reopen_hint: String,
    /// Agents' forms; `None` for customers.
    w: Option<WorkPanel>,
    edit: EditFields,
    watching: bool,
    sla: SlaPanel,
    /// Agents: the ticket's outgoing messages and their delivery.
    deliveries: Vec<DeliveryRow>,
}

struct DeliveryRow {
    to: String,
    subject: String,
    status: String,
    status_code: String,
    attempts: i64,
    when: String,
    error: String,
}

/// The SLA panel: why the ticket is due when it is, in words.
#[derive(Default)]
struct SlaPanel {
    /// Empty when the ticket has no SLA; then `reason` says why.
    state: String,
    state_code: String,
    reason: String,
    policy: String,
    priority: String,
    calendar: String,
    respond: String,
    resolve: String,
    /// The stretches of the history: when, what the clock did, open time counted.
    segments: Vec<(String, String, String)>,
    skipped: Vec<(String, String)>,
    upcoming: Vec<(String, String)>,
}

fn span_text(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    format!("{sign}{} h {:02} min", s / 3600, s % 3600 / 60)
}

impl SlaPanel {
    fn new(tr: Tr, f: &Fmt, view: &crate::sla::SlaView) -> Self {
        let at = |t: jiff::Timestamp| f.when(&domain::time::to_db(t));
        let state_label = |s: &str| tr.t(&format!("sla-state-{s}"));
        let mut panel = SlaPanel {
            policy: format!(
                "{} ({}@{})",
                tr.pick(
                    view.policy["name_en"].as_str().unwrap_or_default(),
                    view.policy["name_fr"].as_str().unwrap_or_default()
                ),
                view.policy["code"].as_str().unwrap_or_default(),
                view.policy["version"]
            ),
            ..Default::default()
        };
        let (Some(state), Some(priority), Some(response), Some(resolution)) = (
            &view.state,
            &view.priority,
            &view.response,
            &view.resolution,
        ) else {
            panel.reason = tr.t(&format!(
                "sla-none-{}",
                view.no_sla_reason.as_deref().unwrap_or("no_policy")
            ));
            return panel;
        };
        panel.state = state_label(state);
        panel.state_code = state.clone();
        panel.priority = format!(
            "{} {}",
            priority["code"].as_str().unwrap_or_default(),
            tr.pick(
                priority["label_en"].as_str().unwrap_or_default(),
                priority["label_fr"].as_str().unwrap_or_default()
            )
        );
        panel.calendar = priority["calendar"].as_str().unwrap_or_default().to_owned();
        let clock = |c: &domain::sla::ClockReport, target: &str| {
            let due = c
                .due
                .map(at)
                .or_else(|| c.due_if_resumed_now.map(|d| format!("({})", at(d))))
                .unwrap_or_else(|| "—".to_owned());
            t_args(
                tr.0,
                "sla-clock-line",
                &[
                    ("target", target.to_owned()),
                    ("used", span_text(c.used.as_secs() as i64)),
                    ("due", due),
                    ("state", state_label(c.state.as_str())),
                ],
            )
        };
        panel.respond = clock(response, priority["respond"].as_str().unwrap_or_default());
        panel.resolve = clock(resolution, priority["resolve"].as_str().unwrap_or_default());
        panel.segments = resolution
            .segments
            .iter()
            .map(|seg| {
                let until = seg.to.map(at).unwrap_or_else(|| tr.t("sla-now"));
                (
                    format!("{} → {}", at(seg.from), until),
                    format!(
                        "{} ({})",
                        tr.t(&format!("sla-segment-{}", seg.kind.as_str())),
                        tr.t(&format!("tstatus-{}", seg.status.as_str()))
                    ),
                    span_text(seg.open_time_counted.as_secs() as i64),
                )
            })
            .collect();
        panel.skipped = view
            .skipped_days
            .iter()
            .map(|day| {
                let why = match &day.cause {
                    domain::due::DayCause::Holiday {
                        name_en, name_fr, ..
                    } => tr.pick(name_en, name_fr).to_owned(),
                    domain::due::DayCause::Closure { name, name_fr } => {
                        let name = match (name, name_fr) {
                            (Some(en), Some(fr)) => Some(tr.pick(en, fr).to_owned()),
                            (en, fr) => en.clone().or_else(|| fr.clone()),
                        };
                        name.unwrap_or_else(|| tr.t("sla-closure"))
                    }
                };
                (day.date.to_string(), why)
            })
            .collect();
        panel.upcoming = view
            .upcoming
            .iter()
            .map(|n| (tr.t(&format!("sla-step-{}", n.step.as_str())), at(n.at)))
            .collect();
        panel
    }
}

impl TicketPage {
    /// A value typed into `form` when it was refused, else empty.
    fn typed(&self, form: &str, name: &str) -> String {
        if self.typed.form == form {
            pair(&self.typed.pairs, name).to_owned()
        } else {
            String::new()
        }
    }
    fn typed_on(&self, form: &str, name: &str) -> bool {
        !self.typed(form, name).is_empty()
    }
    /// The error, when it belongs to this form.
    fn err(&self, form: &str) -> Option<&str> {
        if self.error_form == form {
            self.error.as_deref()
        } else {
            None
        }
    }
    /// `<details>` stay open on the form that needs attention.
    fn is_open(&self, form: &str) -> bool {
        self.error_form == form
    }
    fn person_role(&self, role: &str) -> String {
        self.shell.t(&format!("ticket-role-{role}"))
    }
    fn escalate_label(&self, tier: &i64) -> String {
        self.shell.t(if *tier >= domain::ticket::MAX_TIER {
            "escalate-vendor"
        } else {
            "escalate-tier2"
        })
    }
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

const DONE: &[&str] = &[
    "created",
    "comment",
    "note",
    "status",
    "assign",
    "escalate",
    "priority",
    "fields",
    "reference",
    "link",
    "merge",
    "redact",
    "watch",
    "unwatch",
    "mute",
    "unmute",
    "share",
];

async fn ticket_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let notice = q
        .done
        .filter(|d| DONE.contains(&d.as_str()))
        .map(|d| ctx.tr().t(&format!("done-{d}")));
    ticket_view(&state, &ctx, &who, &number, Typed::default(), None, notice).await
}

async fn ticket_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    typed: Typed,
    error: Option<AppError>,
    notice: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let f = Fmt::new(state, ctx);
    let agent = is_agent(who);
    let v = tickets::view(state, who, &ctx.actor(), number).await?;
    let t = &v.ticket;
    let mut conn = state.db.reader().acquire().await?;
    let groups = store::groups::groups(&mut conn).await?;
    let group_name = t
        .support_group_id
        .and_then(|id| groups.iter().find(|g| g.id == id))
        .map(|g| tr.pick(&g.name_en, &g.name_fr).to_owned())
        .unwrap_or_default();
    let (request_type, form_fields) = match t.subcategory_id {
        Some(id) => match store::catalogue::subcategory(&mut conn, id).await {
            Ok(sub) => {
                let rt = store::catalogue::request_type(&mut conn, sub.request_type_id).await?;
                (
                    format!(
                        "{} › {}",
                        tr.pick(&rt.name_en, &rt.name_fr),
                        tr.pick(&sub.name_en, &sub.name_fr)
                    ),
                    sub.fields(),
                )
            }
            Err(_) => (String::new(), Vec::new()),
        },
        None => (String::new(), Vec::new()),
    };
    let customs = v
        .custom_fields
        .iter()
        .map(|c| {
            let label = form_fields
                .iter()
                .find(|f| f.name == c.name)
                .map(|f| {
                    tr.pick(
                        f.label_en.as_deref().unwrap_or(&c.name),
                        f.label_fr.as_deref().unwrap_or(&c.name),
                    )
                    .to_owned()
                })
                .unwrap_or_else(|| c.name.clone());
            (label, c.value.clone())
        })
        .collect();
    let names = actor_names(&mut conn, &v).await?;
    let events = event_views(tr, &f, &v, &groups, &names);
    let links = v
        .links
        .iter()
        .map(|l| LinkView {
            relation: tr.t(&format!(
                "link-{}{}",
                if l.direction == "in" { "in-" } else { "" },
                l.kind
            )),
            number: l.number.clone(),
            summary: l.summary.clone(),
            status: l.status.clone(),
        })
        .collect();
    let status = t.status();
    let edit = EditFields::new(t, &f, &typed);
    let w = if agent {
        Some(work_panel(&mut conn, &state.packs, tr, &f, t, &groups, &events, &typed).await?)
    } else {
        None
    };
    drop(conn);
    let watching = v
        .people
        .iter()
        .any(|p| p.person_id == who.person.id && p.role == "watcher");
    let http_status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    // After a refused POST the language switch must return to the page, not the action.
    let mut frame = shell(ctx, None);
    frame.path = ticket_url(number, "");
    frame.next = frame.path.clone();
    let sla = {
        let mut conn = state.db.reader().acquire().await?;
        let evaluation =
            crate::sla::evaluate(&state.packs, &mut conn, &v.ticket, domain::time::now()).await?;
        SlaPanel::new(tr, &f, &evaluation.view)
    };
    let deliveries = if agent {
        let mut conn = state.db.reader().acquire().await?;
        store::outbox::for_ticket(&mut conn, v.ticket.id)
            .await?
            .into_iter()
            .map(|m| DeliveryRow {
                status: tr.t(&format!("delivery-{}", m.status)),
                when: m
                    .sent_at
                    .as_deref()
                    .or(m
                        .next_attempt_at
                        .as_deref()
                        .filter(|_| m.status == "queued"))
                    .unwrap_or(&m.created_at)
                    .to_owned(),
                status_code: m.status,
                to: m.to_address,
                subject: m.subject,
                attempts: m.attempts,
                error: m.last_error.unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = TicketPage {
        shell: frame,
        sla,
        deliveries,
        agent,
        open: status.is_open(),
        final_status: status.is_final(),
        request_type,
        group_name,
        customs,
        events,
        links,
        notice,
        error: error.as_ref().map(|e| e.message(ctx.locale)),
        error_form: if error.is_some() { typed.form } else { "" },
        reopen_hint: t_args(
            tr.0,
            "hint-reopen",
            &[("days", state.settings.reopen_days.to_string())],
        ),
        w,
        edit,
        watching,
        typed,
        f,
        v,
    };
    Ok(render_status(http_status, &page))
}

/// Who acted on a ticket, by person id: names instead of the email addresses the
/// timeline records.
async fn actor_names(
    conn: &mut store::Conn,
    v: &TicketView,
) -> AppResult<std::collections::HashMap<i64, String>> {
    let t = &v.ticket;
    let mut names = std::collections::HashMap::new();
    names.insert(t.reporter_id, t.reporter_name.clone());
    if let (Some(id), Some(name)) = (t.on_behalf_of_id, &t.on_behalf_of_name) {
        names.insert(id, name.clone());
    }
    if let (Some(id), Some(name)) = (t.assignee_id, &t.assignee_name) {
        names.insert(id, name.clone());
    }
    for p in &v.people {
        names.insert(p.person_id, p.display_name.clone());
    }
    for id in v.timeline.iter().filter_map(|e| e.actor_id) {
        if !names.contains_key(&id)
            && let Ok(p) = store::people::get(conn, &OrgScope::All, id).await
        {
            names.insert(id, p.display_name);
        }
    }
    Ok(names)
}

/// Timeline entries in words, with their files and the name of who acted.
fn event_views(
    tr: Tr,
    f: &Fmt,
    v: &TicketView,
    groups: &[SupportGroup],
    names: &std::collections::HashMap<i64, String>,
) -> Vec<EventView> {
    let name_of = |e: &Event| -> String {
        e.actor_id
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| e.actor_label.clone())
    };
    let group = |code: &serde_json::Value| -> String {
        let code = code.as_str().unwrap_or("");
        groups
            .iter()
            .find(|g| g.code == code)
            .map(|g| tr.pick(&g.name_en, &g.name_fr).to_owned())
            .unwrap_or_else(|| code.to_owned())
    };
    v.timeline
        .iter()
        .map(|e| {
            let d = e.data();
            let s = |k: &str| d[k].as_str().unwrap_or("").to_owned();
            let i = |v: &serde_json::Value| v.as_i64().unwrap_or(0);
            let say = |key: &str, args: &[(&'static str, String)]| t_args(tr.0, key, args);
            let text = match e.kind.as_str() {
                "created" => say(
                    "ev-created",
                    &[
                        ("channel", f.channel(&s("channel"))),
                        ("priority", f.p(&i(&d["priority"]))),
                    ],
                ),
                "status" => say(
                    "ev-status",
                    &[("from", f.status(&s("from"))), ("to", f.status(&s("to")))],
                ),
                "reopened" => tr.t("ev-reopened"),
                "field" => {
                    let field = tr.t(&format!("field-{}", s("field")));
                    match s("field").as_str() {
                        "no_workaround" => say(
                            "ev-field-value",
                            &[
                                ("field", tr.t("no-workaround")),
                                (
                                    "value",
                                    tr.t(if d["to"].as_bool() == Some(true) {
                                        "yes"
                                    } else {
                                        "no"
                                    }),
                                ),
                            ],
                        ),
                        "first_occurrence" => say(
                            "ev-field-value",
                            &[
                                ("field", field),
                                (
                                    "value",
                                    d["to"].as_str().map(|v| f.when(v)).unwrap_or_default(),
                                ),
                            ],
                        ),
                        // Old and new text are not repeated: a redaction must not leave
                        // the removed text visible here.
                        _ => say("ev-field", &[("field", field)]),
                    }
                }
                "priority" => say(
                    "ev-priority",
                    &[
                        ("from", f.p(&i(&d["from"]["priority"]))),
                        ("to", f.p(&i(&d["to"]["priority"]))),
                        ("fi", i(&d["from"]["impact"]).to_string()),
                        ("ti", i(&d["to"]["impact"]).to_string()),
                        ("fu", i(&d["from"]["urgency"]).to_string()),
                        ("tu", i(&d["to"]["urgency"]).to_string()),
                    ],
                ),
                "assigned" => match d["to"].as_str() {
                    Some(to) => say("ev-assigned", &[("to", to.to_owned())]),
                    None => tr.t("ev-unassigned"),
                },
                "group" => match d["to"].as_str() {
                    Some(_) => say("ev-group", &[("to", group(&d["to"]))]),
                    None => tr.t("ev-group-cleared"),
                },
                "escalated" => say(
                    "ev-escalated",
                    &[
                        ("from", i(&d["from_tier"]).to_string()),
                        ("to", i(&d["to_tier"]).to_string()),
                        ("group", group(&d["to_group"])),
                    ],
                ),
                "comment" => tr.t("ev-comment"),
                "note" => tr.t("ev-note"),
                "attachment" => tr.t("ev-attachment"),
                "shared" => say("ev-shared", &[("name", s("with"))]),
                "linked" => {
                    let kind = s("kind");
                    if d["to"].is_string() {
                        say(
                            "ev-linked-to",
                            &[("kind", tr.t(&format!("link-{kind}"))), ("number", s("to"))],
                        )
                    } else {
                        say(
                            "ev-linked-to",
                            &[
                                ("kind", tr.t(&format!("link-in-{kind}"))),
                                ("number", s("from")),
                            ],
                        )
                    }
                }
                "merged" => say("ev-merged", &[("number", s("into"))]),
                "merged_from" => say("ev-merged_from", &[("number", s("from"))]),
                "reference_added" => say("ev-reference_added", &[("reference", s("reference"))]),
                "reference_removed" => {
                    say("ev-reference_removed", &[("reference", s("reference"))])
                }
                "redacted" => {
                    let target = s("target");
                    let what = if target.starts_with("event:") {
                        tr.t("ev-redacted-entry")
                    } else {
                        tr.t(&format!("field-{target}"))
                    };
                    say(
                        "ev-redacted",
                        &[("target", what), ("count", i(&d["count"]).to_string())],
                    )
                }
                "status_published" => say(
                    "ev-status_published",
                    &[("title", s("title")), ("impact", s("impact"))],
                ),
                "major_incident_declared" => say(
                    "ev-major_incident_declared",
                    &[("coordinator", s("coordinator"))],
                ),
                "major_incident_notice" => {
                    let key = s("key");
                    let kind = domain::major_incident_notice::kind_of_key(&key);
                    say(
                        "ev-major_incident_notice",
                        &[
                            (
                                "notice",
                                crate::major_incidents::notice_label(&key, kind, tr.0),
                            ),
                            ("count", i(&d["recipients"]).to_string()),
                        ],
                    )
                }
                "major_incident_resolved" => tr.t("ev-major_incident_resolved"),
                "watching" => tr.t("ev-watching"),
                "unwatching" => tr.t("ev-unwatching"),
                other => say("ev-other", &[("kind", other.to_owned())]),
            };
            let reason = d["reason"]
                .as_str()
                .filter(|r| !r.is_empty())
                .map(str::to_owned);
            EventView {
                id: e.id,
                at: f.when(&e.at),
                actor: name_of(e),
                internal: e.internal != 0,
                note: e.kind == "note",
                text,
                body: e.body.clone().filter(|b| !b.is_empty()),
                reason,
                files: v
                    .attachments
                    .iter()
                    .filter(|a| a.event_id == Some(e.id))
                    .map(|a| (a.id, a.filename.clone()))
                    .collect(),
                redacted: e.redacted != 0,
            }
        })
        .collect()
}

/// After a change from the ticket page: back to the page with a notice, or the page again
/// with what was typed and the message.
async fn after(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    number: &str,
    typed: Typed,
    result: AppResult<&'static str>,
) -> AppResult<Response> {
    match result {
        Ok(done) => Ok(Redirect::to(&ticket_url(number, done)).into_response()),
        Err(e) if shown_on_form(&e) => {
            ticket_view(state, ctx, who, number, typed, Some(e), None).await
        }
        Err(e) => Err(e),
    }
}

async fn download(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((number, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let (a, bytes) = tickets::attachment(&state, &who, &ctx.actor(), &number, id).await?;
    Ok(attachment_response(&a, bytes))
}

async fn comment_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    multipart: Multipart,
) -> AppResult<Response> {
    let (form, file_error) = crate::api_tickets::read_form(&state, multipart).await?;
    check_csrf(&ctx, &form)?;
    let agent = is_agent(&who);
    let mut typed = Typed {
        form: "comment",
        pairs: form
            .fields
            .iter()
            .filter(|(k, _)| k != CSRF_FIELD)
            .cloned()
            .collect(),
    };
    // "Insert" without JavaScript: the canned response is added to the text, nothing saved.
    if agent && !pair(&form.fields, "insert").is_empty() {
        let code = pair(&form.fields, "canned");
        let mut conn = state.db.reader().acquire().await?;
        let canned = store::catalogue::canned_responses(&mut conn).await?;
        drop(conn);
        if let Some(c) = canned.iter().find(|c| c.code == code) {
            let mut body = pair(&form.fields, "body").trim_end().to_owned();
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            body.push_str(ctx.tr().pick(&c.body_en, &c.body_fr));
            typed.pairs.retain(|(k, _)| k != "body");
            typed.pairs.push(("body".into(), body));
        }
        return ticket_view(&state, &ctx, &who, &number, typed, None, None).await;
    }
    if let Some(e) = file_error {
        return ticket_view(&state, &ctx, &who, &number, typed, Some(e), None).await;
    }
    let input = CommentInput {
        body: pair(&form.fields, "body").to_owned(),
        internal: agent && !pair(&form.fields, "internal").is_empty(),
    };
    let result = tickets::comment(&state, &who, &ctx.actor(), &number, &input, &form.files)
        .await
        .map(|_| if input.internal { "note" } else { "comment" })
        // The service names the text `body`; on this page it is the comment.
        .map_err(|mut e| {
            if e.field == Some("body") {
                e.field = Some("comment");
            }
            e
        });
    after(&state, &ctx, &who, &number, typed, result).await
}

fn typed(form: &'static str, pairs: Vec<(String, String)>) -> Typed {
    Typed { form, pairs }
}

async fn status_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let patch = TicketPatch {
        status: Some(pair(&pairs, "status").to_owned()),
        status_reason: opt(pair(&pairs, "reason")),
        root_cause: opt(pair(&pairs, "root_cause")),
        ..Default::default()
    };
    let result = tickets::update(&state, &who, &ctx.actor(), &number, &patch)
        .await
        .map(|_| "status");
    after(&state, &ctx, &who, &number, typed("status", pairs), result).await
}

async fn mute_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let muted = pair(&pairs, "muted") == "1";
    let result = tickets::mute(&state, &who, &number, muted)
        .await
        .map(|_| if muted { "mute" } else { "unmute" });
    after(&state, &ctx, &who, &number, typed("mute", pairs), result).await
}

async fn share_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let person = pair(&pairs, "person").trim().to_owned();
    let result = if person.is_empty() {
        Err(AppError::invalid("required", "person"))
    } else {
        tickets::share(&state, &who, &ctx.actor(), &number, &person)
            .await
            .map(|_| "share")
    };
    after(&state, &ctx, &who, &number, typed("share", pairs), result).await
}

async fn references_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let add: Vec<String> = pair(&pairs, "add")
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let remove = pairs_all(&pairs, "remove");
    let result = if add.is_empty() && remove.is_empty() {
        Err(AppError::invalid("required", "partner_reference"))
    } else {
        let patch = TicketPatch {
            add_partner_references: add,
            remove_partner_references: remove,
            ..Default::default()
        };
        tickets::update(&state, &who, &ctx.actor(), &number, &patch)
            .await
            .map(|_| "reference")
    };
    after(
        &state,
        &ctx,
        &who,
        &number,
        typed("reference", pairs),
        result,
    )
    .await
}

async fn assign_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let actor = ctx.actor();
    let result = if !pair(&pairs, "me").is_empty() {
        assign_to_me(&state, &who, &actor, &number).await
    } else {
        match parse_target(pair(&pairs, "target")) {
            Some((group, person)) => {
                let patch = TicketPatch {
                    support_group_id: Some(group),
                    assignee_id: Some(person),
                    ..Default::default()
                };
                tickets::update(&state, &who, &actor, &number, &patch)
                    .await
                    .map(|_| ())
            }
            None => Err(AppError::invalid("invalid_choice", "assignee_id")),
        }
    };
    let result = result.map(|_| "assign");
    after(&state, &ctx, &who, &number, typed("assign", pairs), result).await
}

/// `group:person` from the assignment select.
fn parse_target(value: &str) -> Option<(i64, i64)> {
    let (g, p) = value.split_once(':')?;
    Some((g.parse().ok()?, p.parse().ok()?))
}

/// Takes the ticket in its group, or, when the agent is not a member of it, moves it to
/// the agent's first group.
async fn assign_to_me(
    state: &AppState,
    who: &Identity,
    actor: &store::audit::Actor,
    number: &str,
) -> AppResult<()> {
    let patch = TicketPatch {
        assignee_id: Some(who.person.id),
        ..Default::default()
    };
    match tickets::update(state, who, actor, number, &patch).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code, "not_group_member" | "required") => {
            let mut conn = state.db.reader().acquire().await?;
            let mine = store::groups::groups_of(&mut conn, who.person.id).await?;
            drop(conn);
            let Some(group) = mine.first() else {
                return Err(e);
            };
            let patch = TicketPatch {
                support_group_id: Some(*group),
                assignee_id: Some(who.person.id),
                ..Default::default()
            };
            tickets::update(state, who, actor, number, &patch)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}

async fn escalate_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let actor = ctx.actor();
    let reason = pair(&pairs, "reason").trim().to_owned();
    let result = async {
        let tier: i64 = pair(&pairs, "tier")
            .parse()
            .map_err(|_| AppError::invalid("invalid_escalation", "escalate_to_tier"))?;
        // The reason becomes an internal note: check it before anything is written.
        if let Some(hit) = domain::ticket::find_phi([("status_reason", reason.as_str())]) {
            return Err(tickets::phi_error(&hit));
        }
        let patch = TicketPatch {
            escalate_to_tier: Some(tier),
            ..Default::default()
        };
        tickets::update(&state, &who, &actor, &number, &patch).await?;
        if !reason.is_empty() {
            let note = CommentInput {
                body: reason.clone(),
                internal: true,
            };
            tickets::comment(&state, &who, &actor, &number, &note, &[]).await?;
        }
        Ok("escalate")
    }
    .await;
    after(
        &state,
        &ctx,
        &who,
        &number,
        typed("escalate", pairs),
        result,
    )
    .await
}

async fn priority_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let level = |k: &str| pair(&pairs, k).trim().parse::<i64>().ok();
    let patch = TicketPatch {
        impact: level("impact"),
        urgency: level("urgency"),
        priority: level("priority"),
        priority_reason: opt(pair(&pairs, "reason")),
        ..Default::default()
    };
    let result = if patch.priority_reason.is_none() {
        Err(AppError::invalid("required", "priority_reason"))
    } else {
        tickets::update(&state, &who, &ctx.actor(), &number, &patch)
            .await
            .map(|_| "priority")
    };
    after(
        &state,
        &ctx,
        &who,
        &number,
        typed("priority", pairs),
        result,
    )
    .await
}

async fn fields_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let g = |k: &str| Some(pair(&pairs, k).to_owned());
    // An untouched date is not sent: the stored instant has seconds the input lacks.
    let first = pair(&pairs, "first_occurrence");
    let first_occurrence =
        (first != pair(&pairs, "first_occurrence_was")).then(|| first.to_owned());
    let patch = TicketPatch {
        summary: g("summary"),
        details: g("details"),
        configuration_item: g("configuration_item"),
        first_occurrence,
        service_impact: g("service_impact"),
        user_impact: g("user_impact"),
        troubleshooting: g("troubleshooting"),
        workaround: g("workaround"),
        no_workaround: Some(!pair(&pairs, "no_workaround").is_empty()),
        version: pair(&pairs, "version").parse().ok(),
        ..Default::default()
    };
    let result = tickets::update(&state, &who, &ctx.actor(), &number, &patch)
        .await
        .map(|_| "fields");
    after(&state, &ctx, &who, &number, typed("fields", pairs), result).await
}

async fn link_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let other = pair(&pairs, "number").trim().to_owned();
    let kind = pair(&pairs, "kind").to_owned();
    let result = tickets::link(&state, &who, &ctx.actor(), &number, &other, &kind)
        .await
        .map(|_| "link");
    after(&state, &ctx, &who, &number, typed("link", pairs), result).await
}

async fn merge_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let into = pair(&pairs, "into").trim().to_owned();
    match tickets::merge(&state, &who, &ctx.actor(), &number, &into).await {
        // The duplicate is cancelled: continue on the ticket that remains.
        Ok(()) => Ok(Redirect::to(&ticket_url(&into, "merge")).into_response()),
        Err(e) if shown_on_form(&e) => {
            ticket_view(
                &state,
                &ctx,
                &who,
                &number,
                typed("merge", pairs),
                Some(e),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn redact_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let detected = pair(&pairs, "mode") == "phi";
    let input = RedactInput {
        target: pair(&pairs, "target").to_owned(),
        text: if detected {
            None
        } else {
            Some(pair(&pairs, "text").to_owned())
        },
    };
    let result = if !detected && pair(&pairs, "text").is_empty() {
        Err(AppError::invalid("required", "text"))
    } else {
        tickets::redact(&state, &who, &ctx.actor(), &number, &input)
            .await
            .map(|_| "redact")
    };
    after(&state, &ctx, &who, &number, typed("redact", pairs), result).await
}

async fn watch_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(number): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let on = pair(&pairs, "on") == "1";
    let result = tickets::watch(&state, &who, &ctx.actor(), &number, on)
        .await
        .map(|_| if on { "watch" } else { "unwatch" });
    after(&state, &ctx, &who, &number, typed("watch", pairs), result).await
}

// ---------- lists ----------

pub struct Tab {
    pub label: String,
    pub url: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "tickets_list.html")]
struct ListPage {
    shell: Shell,
    f: Fmt,
    tabs: Vec<Tab>,
    heading: String,
    tab: String,
    q: String,
    show: Vec<Opt>,
    rows: Vec<Ticket>,
    show_org: bool,
    next_url: Option<String>,
    first_url: Option<String>,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    tab: Option<String>,
    q: Option<String>,
    show: Option<String>,
    cursor: Option<String>,
}

async fn tickets_list(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(lq): Query<ListQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let scope = who.principal.ticket_scope();
    let own_org = who.person.organization_id;
    // Agents have the console; partners' desks see their organization's open requests.
    let may_see_org = !is_agent(&who) && scope.orgs.includes_org(own_org);
    let q = lq.q.clone().unwrap_or_default().trim().to_owned();
    let tab = match lq.tab.as_deref() {
        Some("org") if may_see_org => "org",
        Some("mine") => "mine",
        Some("all") => "all",
        _ if !q.is_empty() => "all",
        _ => "mine",
    };
    let show = lq.show.clone().unwrap_or_default();
    let own = own_org.to_string();
    let query = TicketQuery {
        q: opt(&q),
        mine: (tab == "mine").then_some(true),
        status: match (tab, show.as_str()) {
            ("org", _) => Some("open".to_owned()),
            (_, "open") => Some("open".to_owned()),
            _ => None,
        },
        organization: (tab == "org").then(|| own.clone()),
        cursor: lq.cursor.clone(),
        limit: Some(25),
        ..Default::default()
    };
    let filter = filter_from(&state, who.person.id, &query).await?;
    let page = tickets::list(&state, &scope, &filter).await?;
    let url = |tab: &str, cursor: &str| {
        format!(
            "/tickets?{}",
            query_string(&[("tab", tab), ("q", &q), ("show", &show), ("cursor", cursor)])
        )
    };
    let mut tabs = vec![Tab {
        label: tr.t("tab-mine"),
        url: url("mine", ""),
        current: tab == "mine",
    }];
    if may_see_org {
        tabs.push(Tab {
            label: tr.t("tab-org"),
            url: url("org", ""),
            current: tab == "org",
        });
    }
    if tab == "all" {
        tabs.push(Tab {
            label: tr.t("tab-search"),
            url: url("all", ""),
            current: true,
        });
    }
    let heading = tabs
        .iter()
        .find(|t| t.current)
        .map(|t| t.label.clone())
        .unwrap_or_default();
    Ok(render(&ListPage {
        shell: shell(&ctx, raw.as_deref()),
        f: Fmt::new(&state, &ctx),
        heading,
        tabs,
        tab: tab.to_owned(),
        show: options(
            [
                (String::new(), tr.t("all")),
                ("open".to_owned(), tr.t("show-open")),
            ],
            &show,
        ),
        q: q.clone(),
        show_org: tab != "mine",
        next_url: page.next.map(|c| url(tab, &c.encode())),
        first_url: lq.cursor.as_ref().map(|_| url(tab, "")),
        rows: page.tickets,
    }))
}

// ---------- agent console ----------

pub struct QueueCount {
    pub code: String,
    pub name: String,
    pub tier: i64,
    pub count: i64,
    pub url: String,
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct ConsolePage {
    shell: Shell,
    f: Fmt,
    queues: Vec<QueueCount>,
    my_groups: Vec<String>,
}

async fn console(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let tr = ctx.tr();
    let mut conn = state.db.reader().acquire().await?;
    let groups = store::groups::groups(&mut conn).await?;
    let counts =
        store::tickets::open_counts_by_group(&mut conn, &who.principal.ticket_scope()).await?;
    let mine = store::groups::groups_of(&mut conn, who.person.id).await?;
    let queues = groups
        .iter()
        .map(|g| QueueCount {
            code: g.code.clone(),
            name: tr.pick(&g.name_en, &g.name_fr).to_owned(),
            tier: g.tier,
            count: counts
                .iter()
                .find(|(id, _)| *id == g.id)
                .map(|(_, n)| *n)
                .unwrap_or(0),
            url: format!(
                "/console/queue?{}",
                query_string(&[("group", &g.code), ("status", "open"), ("sort", "priority")])
            ),
        })
        .collect();
    let my_groups = groups
        .iter()
        .filter(|g| mine.contains(&g.id))
        .map(|g| tr.pick(&g.name_en, &g.name_fr).to_owned())
        .collect();
    Ok(render(&ConsolePage {
        shell: shell(&ctx, None),
        f: Fmt::new(&state, &ctx),
        queues,
        my_groups,
    }))
}

#[derive(Deserialize, Default, Clone)]
struct QueueQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    group: String,
    status: Option<String>,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    sla: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: String,
    done: Option<String>,
    failed: Option<String>,
    nothing: Option<String>,
}

impl QueueQuery {
    fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("open")
    }
    fn sort(&self) -> &str {
        if self.sort.is_empty() {
            "priority"
        } else {
            &self.sort
        }
    }
    fn url(&self, cursor: &str) -> String {
        format!(
            "/console/queue?{}",
            query_string(&[
                ("q", &self.q),
                ("group", &self.group),
                ("status", self.status()),
                ("priority", &self.priority),
                ("organization", &self.organization),
                ("service", &self.service),
                ("assignee", &self.assignee),
                ("sla", &self.sla),
                ("sort", self.sort()),
                ("cursor", cursor),
            ])
        )
    }
}

#[derive(Template)]
#[template(path = "console_queue.html")]
struct QueuePage {
    shell: Shell,
    f: Fmt,
    heading: String,
    q: String,
    rows: Vec<Ticket>,
    next_url: Option<String>,
    first_url: Option<String>,
    back: String,
    notice: Option<String>,
    failed: Option<String>,
    status_opts: Vec<Opt>,
    priority_opts: Vec<Opt>,
    org_opts: Vec<Opt>,
    service_opts: Vec<Opt>,
    group_opts: Vec<Opt>,
    assignee_opts: Vec<Opt>,
    sla_opts: Vec<Opt>,
    sort_opts: Vec<Opt>,
    assign: Vec<OptGroup>,
    bulk_status_opts: Vec<Opt>,
}

async fn queue(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(qq): Query<QueueQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let tr = ctx.tr();
    let f = Fmt::new(&state, &ctx);
    let query = TicketQuery {
        q: opt(&qq.q),
        status: Some(qq.status().to_owned()),
        organization: opt(&qq.organization),
        service: opt(&qq.service),
        group: opt(&qq.group),
        assignee: opt(&qq.assignee).filter(|a| a != "all"),
        priority: qq.priority.trim().parse().ok(),
        sla: opt(&qq.sla),
        sort: Some(qq.sort().to_owned()),
        cursor: opt(&qq.cursor),
        limit: Some(50),
        ..Default::default()
    };
    let filter = filter_from(&state, who.person.id, &query).await?;
    let page = tickets::list(&state, &who.principal.ticket_scope(), &filter).await?;
    let mut conn = state.db.reader().acquire().await?;
    let groups = store::groups::groups(&mut conn).await?;
    let orgs = store::orgs::list(&mut conn, &OrgScope::All).await?;
    let services = store::orgs::services(&mut conn).await?;
    let assign = assign_choices(&mut conn, tr, &groups, "").await?;
    drop(conn);
    let any = || (String::new(), tr.t("any"));
    let mut status_items = vec![
        ("open".to_owned(), tr.t("status-open-filter")),
        ("all".to_owned(), tr.t("all")),
    ];
    status_items.extend(
        Status::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), f.status(s.as_str()))),
    );
    let group = groups
        .iter()
        .find(|g| g.code.eq_ignore_ascii_case(&qq.group) || g.id.to_string() == qq.group);
    let heading = match (group, qq.assignee.as_str()) {
        (Some(g), _) => tr.pick(&g.name_en, &g.name_fr).to_owned(),
        (None, "me") => tr.t("console-mine"),
        (None, "none") => tr.t("console-unassigned"),
        _ => tr.t("queue-title"),
    };
    let notice = qq.done.as_deref().map(|done| {
        if qq.nothing.is_some() {
            tr.t("bulk-none")
        } else {
            t_args(tr.0, "bulk-done", &[("done", done.to_owned())])
        }
    });
    let failed = qq
        .failed
        .as_deref()
        .map(|list| {
            list.split(',')
                .filter_map(canonical)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
        .map(|numbers| t_args(tr.0, "bulk-failed", &[("numbers", numbers)]));
    Ok(render(&QueuePage {
        shell: shell(&ctx, raw.as_deref()),
        heading,
        q: qq.q.clone(),
        rows: page.tickets,
        next_url: page.next.map(|c| qq.url(&c.encode())),
        first_url: opt(&qq.cursor).map(|_| qq.url("")),
        back: qq.url(&qq.cursor),
        notice,
        failed,
        status_opts: options(status_items, qq.status()),
        priority_opts: options(
            std::iter::once(any()).chain((1..=4).map(|p| (p.to_string(), f.priority(&p)))),
            qq.priority.trim(),
        ),
        org_opts: options(
            std::iter::once(any()).chain(orgs.iter().map(|o| {
                (
                    o.code.clone(),
                    format!("{} ({})", o.code, tr.pick(&o.name_en, &o.name_fr)),
                )
            })),
            &qq.organization,
        ),
        service_opts: options(
            std::iter::once(any()).chain(
                services
                    .iter()
                    .map(|s| (s.code.clone(), tr.pick(&s.name_en, &s.name_fr).to_owned())),
            ),
            &qq.service,
        ),
        group_opts: options(
            std::iter::once(any()).chain(
                groups
                    .iter()
                    .map(|g| (g.code.clone(), tr.pick(&g.name_en, &g.name_fr).to_owned())),
            ),
            group.map(|g| g.code.as_str()).unwrap_or(""),
        ),
        assignee_opts: options(
            [
                ("all".to_owned(), tr.t("all")),
                ("me".to_owned(), tr.t("assignee-me")),
                ("none".to_owned(), tr.t("assignee-none")),
            ],
            if qq.assignee.is_empty() {
                "all"
            } else {
                &qq.assignee
            },
        ),
        sla_opts: options(
            std::iter::once((String::new(), tr.t("sla-any"))).chain(
                ["breached", "at_risk", "on_track", "paused", "met"]
                    .iter()
                    .map(|s| ((*s).to_owned(), tr.t(&format!("sla-state-{s}")))),
            ),
            &qq.sla,
        ),
        sort_opts: options(
            ["priority", "due", "newest", "oldest", "updated"]
                .iter()
                .map(|s| ((*s).to_owned(), tr.t(&format!("sort-{s}")))),
            qq.sort(),
        ),
        assign,
        bulk_status_opts: options(
            [
                Status::InProgress,
                Status::PendingCustomer,
                Status::PendingVendor,
                Status::PendingChange,
                Status::Resolved,
                Status::Cancelled,
            ]
            .iter()
            .map(|s| (s.as_str().to_owned(), f.status(s.as_str()))),
            "",
        ),
        f,
    }))
}

async fn bulk_submit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    who.require(Action::WorkTickets)?;
    let back = match pair(&pairs, "back") {
        // Only back to a queue, and only what is safe in a Location header.
        b if (b.starts_with("/console/queue?") || b == "/console/queue")
            && b.chars().all(|c| c.is_ascii_graphic()) =>
        {
            b.to_owned()
        }
        _ => "/console/queue?status=open".to_owned(),
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    let numbers = pairs_all(&pairs, "number");
    if numbers.is_empty() {
        return Ok(Redirect::to(&format!("{back}{sep}done=0&nothing=1")).into_response());
    }
    let patch = match pair(&pairs, "action") {
        "assign_me" => TicketPatch {
            assignee_id: Some(who.person.id),
            ..Default::default()
        },
        "assign" => {
            let (group, person) = parse_target(pair(&pairs, "target"))
                .ok_or(AppError::invalid("invalid_choice", "assignee_id"))?;
            TicketPatch {
                support_group_id: Some(group),
                assignee_id: Some(person),
                ..Default::default()
            }
        }
        "status" => TicketPatch {
            status: Some(pair(&pairs, "status").to_owned()),
            status_reason: opt(pair(&pairs, "reason")),
            ..Default::default()
        },
        _ => return Err(AppError::invalid("invalid_choice", "action")),
    };
    let results = tickets::bulk(&state, &who, &ctx.actor(), &numbers, &patch).await?;
    let done = results.iter().filter(|r| r.ok).count().to_string();
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.number.as_str())
        .collect();
    let flash = query_string(&[("done", &done), ("failed", &failed.join(","))]);
    Ok(Redirect::to(&format!("{back}{sep}{flash}")).into_response())
}

// ---------- catalogue administration ----------

/// The values of a request-type form.
#[derive(Debug, Clone, Default)]
pub struct TypeForm {
    pub key: String,
    pub action: String,
    pub service_id: String,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub position: String,
    pub active: bool,
    pub open: bool,
    pub error: Option<String>,
}

impl TypeForm {
    fn from_pairs(key: String, action: String, pairs: &[(String, String)]) -> Self {
        let g = |k: &str| pair(pairs, k).to_owned();
        Self {
            key,
            action,
            service_id: g("service_id"),
            code: g("code"),
            name_en: g("name_en"),
            name_fr: g("name_fr"),
            description_en: g("description_en"),
            description_fr: g("description_fr"),
            position: g("position"),
            active: !g("active").is_empty(),
            open: true,
            error: None,
        }
    }
    fn input(&self) -> AppResult<TypeInput> {
        Ok(TypeInput {
            service_id: self
                .service_id
                .parse()
                .map_err(|_| AppError::invalid("unknown_service", "service_id"))?,
            code: self.code.clone(),
            name_en: self.name_en.clone(),
            name_fr: self.name_fr.clone(),
            description_en: self.description_en.clone(),
            description_fr: self.description_fr.clone(),
            position: parse_position(&self.position)?,
            active: self.active,
        })
    }
}

fn parse_position(value: &str) -> AppResult<i64> {
    match value.trim() {
        "" => Ok(0),
        v => v
            .parse()
            .map_err(|_| AppError::invalid("invalid_type", "position")),
    }
}

/// The values of a sub-category form; its fields as lines of text.
#[derive(Debug, Clone, Default)]
pub struct SubForm {
    pub key: String,
    pub action: String,
    pub request_type_id: String,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub kind: String,
    pub impact: String,
    pub urgency: String,
    pub support_group_id: String,
    pub fields: String,
    pub position: String,
    pub active: bool,
    pub open: bool,
    pub error: Option<String>,
}

impl SubForm {
    fn from_sub(s: &Subcategory) -> Self {
        Self {
            key: format!("sub-{}", s.id),
            action: format!("/admin/catalogue/subcategories/{}", s.id),
            request_type_id: s.request_type_id.to_string(),
            code: s.code.clone(),
            name_en: s.name_en.clone(),
            name_fr: s.name_fr.clone(),
            description_en: s.description_en.clone(),
            description_fr: s.description_fr.clone(),
            kind: s.kind.clone(),
            impact: s.impact.to_string(),
            urgency: s.urgency.to_string(),
            support_group_id: s.support_group_id.to_string(),
            fields: fields_text(&s.fields()),
            position: s.position.to_string(),
            active: s.is_active(),
            open: false,
            error: None,
        }
    }
    fn from_pairs(key: String, action: String, pairs: &[(String, String)]) -> Self {
        let g = |k: &str| pair(pairs, k).to_owned();
        Self {
            key,
            action,
            request_type_id: g("request_type_id"),
            code: g("code"),
            name_en: g("name_en"),
            name_fr: g("name_fr"),
            description_en: g("description_en"),
            description_fr: g("description_fr"),
            kind: g("kind"),
            impact: g("impact"),
            urgency: g("urgency"),
            support_group_id: g("support_group_id"),
            fields: g("fields"),
            position: g("position"),
            active: !g("active").is_empty(),
            open: true,
            error: None,
        }
    }
    fn input(&self) -> AppResult<SubcategoryInput> {
        let int = |v: &str, field: &'static str, code: &'static str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid(code, field))
        };
        Ok(SubcategoryInput {
            request_type_id: int(
                &self.request_type_id,
                "request_type_id",
                "unknown_request_type",
            )?,
            code: self.code.clone(),
            name_en: self.name_en.clone(),
            name_fr: self.name_fr.clone(),
            description_en: self.description_en.clone(),
            description_fr: self.description_fr.clone(),
            kind: self.kind.clone(),
            impact: int(&self.impact, "impact", "out_of_range")?,
            urgency: int(&self.urgency, "urgency", "out_of_range")?,
            support_group_id: int(&self.support_group_id, "support_group_id", "unknown_group")?,
            fields: parse_fields(&self.fields)?,
            position: parse_position(&self.position)?,
            active: self.active,
        })
    }
}

/// A form as lines: `first_occurrence required`, `x_username required | User name | Nom`.
fn fields_text(fields: &[FormField]) -> String {
    fields
        .iter()
        .map(|f| {
            let mut line = format!(
                "{} {}",
                f.name,
                if f.required { "required" } else { "optional" }
            );
            if f.is_custom() {
                line.push_str(&format!(
                    " | {} | {}",
                    f.label_en.as_deref().unwrap_or(""),
                    f.label_fr.as_deref().unwrap_or("")
                ));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the lines back; `obligatoire` and `facultatif` are understood too.
fn parse_fields(text: &str) -> AppResult<Vec<FormField>> {
    let bad = || AppError::invalid("invalid_form_field", "fields");
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.split('|').map(str::trim);
        let mut head = parts.next().unwrap_or("").split_whitespace();
        let name = head.next().ok_or_else(bad)?.to_owned();
        let required = match head.next() {
            None | Some("optional" | "facultatif") => false,
            Some("required" | "obligatoire") => true,
            Some(_) => return Err(bad()),
        };
        if head.next().is_some() {
            return Err(bad());
        }
        let label_en = parts.next().filter(|l| !l.is_empty()).map(str::to_owned);
        let label_fr = parts.next().filter(|l| !l.is_empty()).map(str::to_owned);
        if parts.next().is_some() {
            return Err(bad());
        }
        out.push(FormField {
            name,
            required,
            label_en,
            label_fr,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Default)]
pub struct CannedForm {
    pub key: String,
    pub code: String,
    pub title_en: String,
    pub title_fr: String,
    pub body_en: String,
    pub body_fr: String,
    pub open: bool,
    pub error: Option<String>,
}

impl CannedForm {
    fn from_canned(c: &CannedResponse) -> Self {
        Self {
            key: format!("canned-{}", c.id),
            code: c.code.clone(),
            title_en: c.title_en.clone(),
            title_fr: c.title_fr.clone(),
            body_en: c.body_en.clone(),
            body_fr: c.body_fr.clone(),
            open: false,
            error: None,
        }
    }
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let g = |k: &str| pair(pairs, k).to_owned();
        Self {
            key: g("key"),
            code: g("code"),
            title_en: g("title_en"),
            title_fr: g("title_fr"),
            body_en: g("body_en"),
            body_fr: g("body_fr"),
            open: true,
            error: None,
        }
    }
}

pub struct CatalogueTypeView {
    pub label: String,
    pub active: bool,
    pub form: TypeForm,
    pub subs: Vec<(String, bool, SubForm)>,
    pub new_sub: SubForm,
}

pub struct CatalogueServiceView {
    pub name: String,
    pub types: Vec<CatalogueTypeView>,
}

#[derive(Template)]
#[template(path = "catalogue_admin.html")]
struct CataloguePage {
    shell: Shell,
    services: Vec<CatalogueServiceView>,
    new_type: TypeForm,
    canned: Vec<CannedForm>,
    new_canned: CannedForm,
    service_opts: Vec<(String, String)>,
    type_opts: Vec<(String, String)>,
    group_opts: Vec<(String, String)>,
    kind_opts: Vec<(String, String)>,
    levels: Vec<String>,
    standard_fields: String,
    error: Option<String>,
    notice: Option<String>,
}

impl CataloguePage {
    fn sel(&self, a: &str, b: &str) -> bool {
        a == b
    }
    fn impact_label(&self, level: &str) -> String {
        self.shell.t(&format!("impact-{level}"))
    }
    fn urgency_label(&self, level: &str) -> String {
        self.shell.t(&format!("urgency-{level}"))
    }
}

/// A refused catalogue form, shown again open with its message.
enum Refused {
    Type(TypeForm),
    Sub(SubForm),
    Canned(CannedForm),
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn catalogue_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    if !who.principal.allows(Action::EditCatalogue) {
        return Err(AppError::forbidden());
    }
    let notice = q.saved.map(|_| ctx.tr().t("saved"));
    catalogue_view(&state, &ctx, None, notice).await
}

async fn catalogue_view(
    state: &AppState,
    ctx: &Ctx,
    refused: Option<(Refused, AppError)>,
    notice: Option<String>,
) -> AppResult<Response> {
    let tr = ctx.tr();
    let mut conn = state.db.reader().acquire().await?;
    let tree = store::catalogue::tree(&mut conn, false).await?;
    let groups = store::groups::groups(&mut conn).await?;
    let canned_rows = store::catalogue::canned_responses(&mut conn).await?;
    drop(conn);
    let (refused, error) = match refused {
        Some((r, e)) => (Some(r), Some(e)),
        None => (None, None),
    };
    let message = error.as_ref().map(|e| e.message(ctx.locale));
    let http_status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    let mut refused_type = None;
    let mut refused_sub = None;
    let mut refused_canned = None;
    match refused {
        Some(Refused::Type(mut f)) => {
            f.error = message.clone();
            refused_type = Some(f);
        }
        Some(Refused::Sub(mut f)) => {
            f.error = message.clone();
            refused_sub = Some(f);
        }
        Some(Refused::Canned(mut f)) => {
            f.error = message.clone();
            refused_canned = Some(f);
        }
        None => {}
    }
    let take_type = |key: &str, default: TypeForm| match &refused_type {
        Some(f) if f.key == key => f.clone(),
        _ => default,
    };
    let take_sub = |key: &str, default: SubForm| match &refused_sub {
        Some(f) if f.key == key => f.clone(),
        _ => default,
    };
    let mut type_opts = Vec::new();
    let services = tree
        .iter()
        .map(|s| CatalogueServiceView {
            name: tr.pick(&s.name_en, &s.name_fr).to_owned(),
            types: s
                .request_types
                .iter()
                .map(|t| {
                    let rt = &t.request_type;
                    type_opts.push((
                        rt.id.to_string(),
                        format!(
                            "{} › {}",
                            tr.pick(&s.name_en, &s.name_fr),
                            tr.pick(&rt.name_en, &rt.name_fr)
                        ),
                    ));
                    let key = format!("type-{}", rt.id);
                    let form = TypeForm {
                        key: key.clone(),
                        action: format!("/admin/catalogue/types/{}", rt.id),
                        service_id: rt.service_id.to_string(),
                        code: rt.code.clone(),
                        name_en: rt.name_en.clone(),
                        name_fr: rt.name_fr.clone(),
                        description_en: rt.description_en.clone(),
                        description_fr: rt.description_fr.clone(),
                        position: rt.position.to_string(),
                        active: rt.active != 0,
                        open: false,
                        error: None,
                    };
                    let new_key = format!("sub-new-{}", rt.id);
                    CatalogueTypeView {
                        label: tr.pick(&rt.name_en, &rt.name_fr).to_owned(),
                        active: rt.active != 0,
                        form: take_type(&key, form),
                        subs: t
                            .subcategories
                            .iter()
                            .map(|sc| {
                                let f = SubForm::from_sub(sc);
                                (
                                    tr.pick(&sc.name_en, &sc.name_fr).to_owned(),
                                    sc.is_active(),
                                    take_sub(&f.key.clone(), f),
                                )
                            })
                            .collect(),
                        new_sub: take_sub(
                            &new_key,
                            SubForm {
                                key: new_key.clone(),
                                action: "/admin/catalogue/subcategories".into(),
                                request_type_id: rt.id.to_string(),
                                kind: TicketKind::Incident.as_str().into(),
                                impact: "3".into(),
                                urgency: "3".into(),
                                support_group_id: groups
                                    .first()
                                    .map(|g| g.id.to_string())
                                    .unwrap_or_default(),
                                position: "0".into(),
                                active: true,
                                ..Default::default()
                            },
                        ),
                    }
                })
                .collect(),
        })
        .collect();
    let new_type = take_type(
        "type-new",
        TypeForm {
            key: "type-new".into(),
            action: "/admin/catalogue/types".into(),
            position: "0".into(),
            active: true,
            ..Default::default()
        },
    );
    let canned = canned_rows
        .iter()
        .map(|c| {
            let f = CannedForm::from_canned(c);
            match &refused_canned {
                Some(r) if r.key == f.key => r.clone(),
                _ => f,
            }
        })
        .collect();
    let new_canned = match &refused_canned {
        Some(r) if r.key == "canned-new" => r.clone(),
        _ => CannedForm {
            key: "canned-new".into(),
            ..Default::default()
        },
    };
    let mut frame = shell(ctx, None);
    frame.path = "/admin/catalogue".into();
    frame.next = frame.path.clone();
    let page = CataloguePage {
        shell: frame,
        services,
        new_type,
        canned,
        new_canned,
        service_opts: tree
            .iter()
            .map(|s| (s.id.to_string(), tr.pick(&s.name_en, &s.name_fr).to_owned()))
            .collect(),
        type_opts,
        group_opts: groups
            .iter()
            .map(|g| (g.id.to_string(), tr.pick(&g.name_en, &g.name_fr).to_owned()))
            .collect(),
        kind_opts: TicketKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), tr.t(&format!("kind-{}", k.as_str()))))
            .collect(),
        levels: (1..=4).map(|i: i64| i.to_string()).collect(),
        standard_fields: STANDARD_FIELDS.join(", "),
        error: message,
        notice,
    };
    Ok(render_status(http_status, &page))
}

/// Saves in one transaction with its audit row, like the catalogue API.
async fn catalogue_save<T: std::fmt::Debug>(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    action: &'static str,
    id: Option<i64>,
    input: AppResult<T>,
    save: impl AsyncFnOnce(&mut store::Conn, Option<i64>, &T) -> store::StoreResult<i64>,
) -> AppResult<i64> {
    if !who.principal.allows(Action::EditCatalogue) {
        return Err(AppError::forbidden());
    }
    let input = input?;
    let mut tx = state.db.begin().await?;
    let saved = save(&mut tx, id, &input).await?;
    store::audit::append(
        &mut tx,
        &ctx.actor(),
        store::audit::Event {
            action,
            entity_type: "catalogue",
            entity_id: Some(saved.to_string()),
            organization_id: None,
            detail: serde_json::json!({ "input": format!("{input:?}") }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

async fn catalogue_after(
    state: &AppState,
    ctx: &Ctx,
    result: AppResult<i64>,
    refused: Refused,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to("/admin/catalogue?saved=1").into_response()),
        Err(e) if shown_on_form(&e) => catalogue_view(state, ctx, Some((refused, e)), None).await,
        Err(e) => Err(e),
    }
}

async fn type_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = TypeForm::from_pairs("type-new".into(), "/admin/catalogue/types".into(), &pairs);
    let result = catalogue_save(
        &state,
        &ctx,
        &who,
        "catalogue.type.create",
        None,
        form.input(),
        async |c, id, b| store::catalogue::save_type(c, id, b).await,
    )
    .await;
    catalogue_after(&state, &ctx, result, Refused::Type(form)).await
}

async fn type_update(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = TypeForm::from_pairs(
        format!("type-{id}"),
        format!("/admin/catalogue/types/{id}"),
        &pairs,
    );
    let result = catalogue_save(
        &state,
        &ctx,
        &who,
        "catalogue.type.update",
        Some(id),
        form.input(),
        async |c, id, b| store::catalogue::save_type(c, id, b).await,
    )
    .await;
    catalogue_after(&state, &ctx, result, Refused::Type(form)).await
}

async fn subcategory_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let key = format!("sub-new-{}", pair(&pairs, "request_type_id"));
    let form = SubForm::from_pairs(key, "/admin/catalogue/subcategories".into(), &pairs);
    let result = catalogue_save(
        &state,
        &ctx,
        &who,
        "catalogue.subcategory.create",
        None,
        form.input(),
        async |c, id, b| store::catalogue::save_subcategory(c, id, b).await,
    )
    .await;
    catalogue_after(&state, &ctx, result, Refused::Sub(form)).await
}

async fn subcategory_update(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = SubForm::from_pairs(
        format!("sub-{id}"),
        format!("/admin/catalogue/subcategories/{id}"),
        &pairs,
    );
    let result = catalogue_save(
        &state,
        &ctx,
        &who,
        "catalogue.subcategory.update",
        Some(id),
        form.input(),
        async |c, id, b| store::catalogue::save_subcategory(c, id, b).await,
    )
    .await;
    catalogue_after(&state, &ctx, result, Refused::Sub(form)).await
}

async fn canned_save(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut form = CannedForm::from_pairs(&pairs);
    if !form.key.starts_with("canned-") {
        form.key = "canned-new".into();
    }
    let input = CannedResponse {
        id: 0,
        code: form.code.clone(),
        title_en: form.title_en.clone(),
        title_fr: form.title_fr.clone(),
        body_en: form.body_en.clone(),
        body_fr: form.body_fr.clone(),
    };
    let result = catalogue_save(
        &state,
        &ctx,
        &who,
        "catalogue.canned.save",
        None,
        Ok(input),
        async |c, _, b| store::catalogue::save_canned_response(c, b).await,
    )
    .await;
    catalogue_after(&state, &ctx, result, Refused::Canned(form)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_lines_round_trip() {
        let text = "on_behalf_of optional\nfirst_occurrence required\n\nx_username required | User name | Nom d'utilisateur\nworkaround";
        let fields = parse_fields(text).unwrap();
        assert_eq!(fields.len(), 4);
        assert!(fields[1].required && !fields[3].required);
        assert_eq!(fields[2].label_fr.as_deref(), Some("Nom d'utilisateur"));
        assert_eq!(parse_fields(&fields_text(&fields)).unwrap(), fields);
        assert!(parse_fields("workaround maybe").is_err());
        assert!(parse_fields("x_a required | a | b | c").is_err());
        assert!(parse_fields("summary obligatoire").unwrap()[0].required);
    }

    #[test]
    fn assignment_targets() {
        assert_eq!(parse_target("3:12"), Some((3, 12)));
        assert_eq!(parse_target("3:0"), Some((3, 0)));
        assert_eq!(parse_target("3"), None);
        assert_eq!(parse_target("a:1"), None);
    }

    #[test]
    fn times_show_in_the_operator_zone() {
        let tz = jiff::tz::TimeZone::get("America/Toronto").unwrap();
        assert_eq!(
            local_time(&tz, "2026-11-23T13:30:00.000000Z", "%Y-%m-%d %H:%M"),
            "2026-11-23 08:30"
        );
        assert_eq!(local_time(&tz, "garbage", "%Y-%m-%d %H:%M"), "garbage");
    }

    #[test]
    fn ticket_urls_are_canonical() {
        assert_eq!(
            ticket_url("inc-12", "comment"),
            "/tickets/INC-000012?done=comment"
        );
        assert_eq!(ticket_url("SR-000001", ""), "/tickets/SR-000001");
        assert_eq!(canonical("../etc"), None);
    }
}
