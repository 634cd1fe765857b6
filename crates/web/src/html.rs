//! Server-rendered pages (askama), working without JavaScript, in English and French.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::{Ctx, Identity, LANG_COOKIE, PageUser, SESSION_COOKIE, cookie, set_cookie};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::service::{self, NewPerson, NewSupportGroup, PersonPatch, SignIn};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::org::OrgInput;
use domain::policy::{Action, OrgScope};
use domain::role::{Role, TrainingModule};
use serde::Deserialize;
use store::orgs::{Organization, PublicOrg, Service};
use store::people::Person;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/app.css", get(css))
        .route("/signin", get(signin_page).post(signin_email))
        .route("/signin/password", post(signin_password))
        .route("/signout", post(signout))
        .route("/lang", post(switch_language))
        .route("/forgot", get(forgot_page).post(forgot_submit))
        .route("/reset/{token}", get(reset_page).post(reset_submit))
        .route(
            "/request-access",
            get(request_access_page).post(request_access_submit),
        )
        .route("/profile", get(profile).post(profile_update))
        .route("/profile/tokens", post(token_create))
        .route("/profile/tokens/{id}/revoke", post(token_revoke))
        .route("/admin/organizations", get(orgs_list).post(org_create))
        .route("/admin/organizations/new", get(org_new))
        .route("/admin/organizations/{id}", get(org_edit).post(org_update))
        .route("/admin/people", get(people_list).post(person_create))
        .route("/admin/people/new", get(person_new))
        .route("/admin/people/{id}", get(person_page).post(person_update))
        .route("/admin/people/{id}/roles", post(role_grant))
        .route("/admin/people/{id}/roles/{role}/revoke", post(role_revoke))
        .route("/admin/people/{id}/trainings", post(training_record))
        .route(
            "/admin/people/{id}/password-reset",
            post(person_password_reset),
        )
        .route("/admin/groups", get(groups_page).post(group_create))
        .route("/admin/audit", get(audit_page))
        .route("/admin/outbox", get(outbox_page))
        .route("/admin/outbox/{id}/retry", post(outbox_retry))
        .route("/admin/credential-requests", get(credential_requests_page))
        .route("/auth/oidc/{org}/start", get(crate::oidc::start))
        .route("/auth/oidc/callback", get(crate::oidc::callback))
        .merge(crate::html_tickets::routes())
        .merge(crate::html_policy::routes())
        .merge(crate::html_mail::routes())
        .merge(crate::html_mail::webhook_routes())
        .merge(crate::html_notices::routes())
        .merge(crate::html_status::routes())
        .merge(crate::html_cmdb::routes())
        .merge(crate::html_problem_trends::routes())
        .merge(crate::html_major_incident_reports::routes())
        .merge(crate::html_major_incidents::routes())
        .merge(crate::html_problems::routes())
        .merge(crate::change_calendar::routes())
        .merge(crate::html_cab::routes())
        .merge(crate::html_change_implementation::routes())
        .merge(crate::html_changes::routes())
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

/// What the page frame needs: language, who is signed in, the CSRF token, navigation.
pub struct Shell {
    pub tr: Tr,
    pub user: Option<Person>,
    pub csrf: String,
    pub path: String,
    /// Where the language switch returns: the path, with the query when a page sets it.
    pub next: String,
    pub can_admin: bool,
    pub can_people: bool,
    pub can_audit: bool,
    /// Works tickets in the agent console (`Action::WorkTickets`).
    pub can_work: bool,
    /// Edits the request catalogue and canned responses.
    pub can_catalogue: bool,
}

impl Shell {
    pub fn new(ctx: &Ctx) -> Self {
        let principal = ctx.identity.as_ref().map(|i| &i.principal);
        Self {
            tr: ctx.tr(),
            user: ctx.identity.as_ref().map(|i| i.person.clone()),
            csrf: ctx.csrf.clone(),
            path: ctx.path.clone(),
            next: ctx.path.clone(),
            can_admin: principal.is_some_and(|p| p.allows(Action::CreateOrganization)),
            can_people: principal
                .is_some_and(|p| p.people_scope() != OrgScope::Person(p.person_id)),
            can_audit: principal.is_some_and(|p| p.audit_scope() != OrgScope::Nothing),
            can_work: principal.is_some_and(|p| p.allows(Action::WorkTickets)),
            can_catalogue: principal.is_some_and(|p| p.allows(Action::EditCatalogue)),
        }
    }
    pub fn t(&self, key: &str) -> String {
        self.tr.t(key)
    }
    pub fn role(&self, role: &str) -> String {
        self.tr.t(&format!("role-{role}"))
    }
    pub fn status(&self, t: &str) -> String {
        self.tr.t(&format!("status-{t}"))
    }
    pub fn training(&self, t: &str) -> String {
        self.tr.t(&format!("training-{t}"))
    }
    pub fn idp(&self, t: &str) -> String {
        self.tr.t(&format!("idp-{t}"))
    }
    pub fn org_type(&self, t: &str) -> String {
        self.tr.t(&format!("org-type-{t}"))
    }
}

pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template");
            AppError::internal().into_response()
        }
    }
}

pub(crate) fn render_status(status: StatusCode, page: &impl Template) -> Response {
    let mut r = render(page);
    *r.status_mut() = status;
    r
}

/// Errors a page shows next to the form instead of on an error page: what the person can
/// fix (422), a conflict (409) or a request that changes nothing (400).
pub(crate) fn shown_on_form(e: &crate::error::AppError) -> bool {
    e.status.is_client_error()
        && !matches!(
            e.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        )
}

/// A stored UTC instant written with `format` in `tz`; the text as stored if it does not
/// parse.
pub(crate) fn local_time(tz: &jiff::tz::TimeZone, value: &str, format: &str) -> String {
    match domain::time::from_db(value) {
        Some(ts) => ts.to_zoned(tz.clone()).strftime(format).to_string(),
        None => value.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    shell: Shell,
    code: &'a str,
    message: &'a str,
    status: u16,
}

pub fn error_page(_state: &AppState, ctx: &Ctx, error: &AppError, message: &str) -> Response {
    if error.status == StatusCode::UNAUTHORIZED {
        return Redirect::to("/signin").into_response();
    }
    render_status(
        error.status,
        &ErrorPage {
            shell: Shell::new(ctx),
            code: error.code,
            message,
            status: error.status.as_u16(),
        },
    )
}

/// Only same-site paths are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

// ---------- home ----------

/// The signed-in home page is the portal home (catalogue, open requests, search); agents
/// find their queues through the navigation and a panel on the same page.
async fn home(State(state): State<AppState>, PageUser(ctx, who): PageUser) -> AppResult<Response> {
    crate::html_tickets::portal_home(&state, &ctx, &who).await
}

// ---------- sign-in ----------

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    shell: Shell,
    step: &'static str,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
    oidc: Option<(i64, String)>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
}

async fn signin_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.identity.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    let notice = q
        .notice
        .filter(|n| n == "password-changed")
        .map(|_| ctx.tr().t("notice-password-changed"));
    render(&SigninPage {
        shell: Shell::new(&ctx),
        step: "email",
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
        notice,
        oidc: None,
    })
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
    next: Option<String>,
}

async fn signin_email(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let email = match domain::text::Email::parse(&form.email) {
        Ok(e) => e,
        Err(e) => {
            let error = Some(AppError::from(e).message(ctx.locale));
            return Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SigninPage {
                    shell: Shell::new(&ctx),
                    step: "email",
                    email: form.email,
                    next,
                    error,
                    notice: None,
                    oidc: None,
                },
            ));
        }
    };
    // Offer the organization's own sign-in when it has one. Unknown emails get the same page.
    let mut conn = state.db.reader().acquire().await?;
    let mut oidc = None;
    if let Some(c) = store::people::credentials_by_email(&mut conn, email.as_str()).await? {
        let org = store::orgs::get_unscoped(&mut conn, c.organization_id).await?;
        if org.oidc_enabled() {
            oidc = Some((org.id, ctx.tr().pick(&org.name_en, &org.name_fr).to_owned()));
        }
    }
    Ok(render(&SigninPage {
        shell: Shell::new(&ctx),
        step: "password",
        email: email.to_string(),
        next,
        error: None,
        notice: None,
        oidc,
    }))
}

#[derive(Deserialize)]
struct PasswordForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn signin_password(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let outcome = service::sign_in(&state, &form.email, &form.password, ctx.ip.clone(), ua).await?;
    if let (SignIn::Ok { .. }, Some(previous)) = (&outcome, cookie(&headers, SESSION_COOKIE)) {
        // Signing in again replaces this browser's earlier session instead of leaving it valid.
        let mut tx = state.db.begin().await?;
        store::auth::end_session(&mut tx, previous).await?;
        tx.commit().await?;
    }
    let (status, key) = match outcome {
        SignIn::Ok { session, .. } => {
            let mut response = Redirect::to(&next).into_response();
            let max_age = store::auth::SESSION_HOURS * 3600;
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, &session, true, Some(max_age)),
            );
            // A new CSRF token with the new session.
            let csrf = store::random_token(32);
            headers.append(
                header::SET_COOKIE,
                set_cookie(&state, crate::ctx::CSRF_COOKIE, &csrf, true, None),
            );
            return Ok(response);
        }
        SignIn::Failed => (StatusCode::UNAUTHORIZED, "error-sign_in_failed"),
        SignIn::Locked => (StatusCode::TOO_MANY_REQUESTS, "error-account_locked"),
    };
    let error = Some(crate::i18n::t_args(
        ctx.locale,
        key,
        &[("minutes", state.settings.lockout_minutes.to_string())],
    ));
    Ok(render_status(
        status,
        &SigninPage {
            shell: Shell::new(&ctx),
            step: "password",
            email: form.email,
            next,
            error,
            notice: None,
            oidc: None,
        },
    ))
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

async fn signout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    if let (Some(who), Some(token)) = (&ctx.identity, cookie(&headers, SESSION_COOKIE)) {
        service::sign_out(&state, who, &ctx.actor(), token).await?;
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", true, Some(0)),
    );
    Ok(response)
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
    next: Option<String>,
}

async fn switch_language(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LangForm>,
) -> AppResult<Response> {
    let locale = domain::text::Locale::parse(&form.lang)
        .ok_or_else(|| AppError::invalid("invalid_choice", "locale"))?;
    if let Some(who) = &ctx.identity {
        let mut tx = state.db.begin().await?;
        store::people::set_locale(&mut tx, who.person.id, locale.as_str()).await?;
        tx.commit().await?;
        state.callers.clear();
    }
    let mut response = Redirect::to(&safe_next(form.next.as_deref())).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            LANG_COOKIE,
            locale.as_str(),
            false,
            Some(365 * 86400),
        ),
    );
    Ok(response)
}

// ---------- forgot / reset / request access ----------

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    shell: Shell,
    title: String,
    text: String,
    link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    shell: Shell,
    email: String,
    error: Option<String>,
}

async fn forgot_page(ctx: Ctx) -> Response {
    render(&ForgotPage {
        shell: Shell::new(&ctx),
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct ForgotForm {
    email: String,
}

async fn forgot_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> AppResult<Response> {
    match service::forgot_password(&state, &form.email, ctx.locale, ctx.ip.clone()).await {
        Ok(()) => {
            let tr = ctx.tr();
            Ok(render(&MessagePage {
                shell: Shell::new(&ctx),
                title: tr.t("forgot-title"),
                text: tr.t("forgot-sent"),
                link: Some(("/signin".into(), tr.t("sign-in"))),
            }))
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let error = Some(e.message(ctx.locale));
            Ok(render_status(
                e.status,
                &ForgotPage {
                    shell: Shell::new(&ctx),
                    email: form.email,
                    error,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    shell: Shell,
    token: String,
    error: Option<String>,
}

async fn reset_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    service::check_reset_link(&state, &token).await?;
    Ok(render(&ResetPage {
        shell: Shell::new(&ctx),
        token,
        error: None,
    }))
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
    confirm: String,
}

async fn reset_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> AppResult<Response> {
    if form.password != form.confirm {
        let error = Some(ctx.tr().t("error-passwords_differ"));
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage {
                shell: Shell::new(&ctx),
                token,
                error,
            },
        ));
    }
    match service::reset_password(&state, &token, &form.password, ctx.ip.clone()).await {
        Ok(()) => Ok(Redirect::to("/signin?notice=password-changed").into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let error = Some(e.message(ctx.locale));
            Ok(render_status(
                e.status,
                &ResetPage {
                    shell: Shell::new(&ctx),
                    token,
                    error,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "request_access.html")]
struct RequestAccessPage {
    shell: Shell,
    orgs: Vec<PublicOrg>,
    form: AccessForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct AccessForm {
    organization_id: String,
    name: String,
    email: String,
    phone: String,
    job_title: String,
    reason: String,
}

async fn request_access_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let mut conn = state.db.reader().acquire().await?;
    let orgs = store::orgs::public_list(&mut conn).await?;
    Ok(render(&RequestAccessPage {
        shell: Shell::new(&ctx),
        orgs,
        form: AccessForm::default(),
        error: None,
    }))
}

async fn request_access_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<AccessForm>,
) -> AppResult<Response> {
    let input = service::CredentialRequestInput {
        organization_id: form.organization_id.trim().parse().unwrap_or(-1),
        name: form.name.clone(),
        email: form.email.clone(),
        phone: Some(form.phone.clone()),
        job_title: Some(form.job_title.clone()),
        reason: form.reason.clone(),
    };
    match service::request_credentials(&state, &input, ctx.ip.clone()).await {
        Ok(_) => {
            let tr = ctx.tr();
            Ok(render(&MessagePage {
                shell: Shell::new(&ctx),
                title: tr.t("access-title"),
                text: tr.t("access-sent"),
                link: Some(("/signin".into(), tr.t("sign-in"))),
            }))
        }
        Err(e) if e.status.is_client_error() => {
            let mut conn = state.db.reader().acquire().await?;
            let orgs = store::orgs::public_list(&mut conn).await?;
            let error = Some(e.message(ctx.locale));
            Ok(render_status(
                e.status,
                &RequestAccessPage {
                    shell: Shell::new(&ctx),
                    orgs,
                    form,
                    error,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

// ---------- profile and tokens ----------

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    shell: Shell,
    person: Person,
    tokens: Vec<store::auth::ApiToken>,
    new_secret: Option<String>,
    error: Option<String>,
}

async fn profile_page(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    new_secret: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let mut conn = state.db.reader().acquire().await?;
    let tokens = store::auth::tokens_of(&mut conn, who.person.id).await?;
    let person = store::people::get(&mut conn, &OrgScope::All, who.person.id).await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render_status(
        status,
        &ProfilePage {
            shell: Shell::new(ctx),
            person,
            tokens,
            new_secret,
            error,
        },
    ))
}

async fn profile(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    profile_page(&state, &ctx, &who, None, None).await
}

#[derive(Deserialize)]
struct ProfileForm {
    display_name: String,
    phone: String,
    locale: String,
}

async fn profile_update(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    let patch = PersonPatch {
        display_name: Some(form.display_name),
        phone: Some(form.phone),
        locale: Some(form.locale),
        ..Default::default()
    };
    match service::update_person(&state, &who, &ctx.actor(), who.person.id, &patch).await {
        Ok(()) => Ok(Redirect::to("/profile").into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            profile_page(&state, &ctx, &who, None, Some(e.message(ctx.locale))).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
}

async fn token_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<Response> {
    match service::create_token(&state, &who, &ctx.actor(), &form.name).await {
        Ok((_, secret)) => profile_page(&state, &ctx, &who, Some(secret), None).await,
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            profile_page(&state, &ctx, &who, None, Some(e.message(ctx.locale))).await
        }
        Err(e) => Err(e),
    }
}

async fn token_revoke(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    service::revoke_token(&state, &who, &ctx.actor(), id).await?;
    Ok(Redirect::to("/profile").into_response())
}

// ---------- organizations ----------

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct OrgsPage {
    shell: Shell,
    orgs: Vec<Organization>,
}

async fn orgs_list(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    if !who.principal.is_operator_staff() && !who.principal.allows(Action::CreateOrganization) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    let orgs = store::orgs::list(&mut conn, &who.principal.org_scope()).await?;
    Ok(render(&OrgsPage {
        shell: Shell::new(&ctx),
        orgs,
    }))
}

#[derive(Template)]
#[template(path = "admin_org_form.html")]
struct OrgFormPage {
    shell: Shell,
    id: Option<i64>,
    f: OrgInput,
    services: Vec<Service>,
    selected: Vec<i64>,
    oidc_secret_set: bool,
    can_edit: bool,
    is_operator: bool,
    error: Option<String>,
    saved: bool,
}

impl OrgFormPage {
    fn type_selected(&self, v: &str) -> bool {
        self.f.org_type == v
    }
    fn idp_selected(&self, v: &str) -> bool {
        self.f.identity_provider == v
    }
    fn is_selected(&self, id: &i64) -> bool {
        self.selected.contains(id)
    }
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn org_types(&self) -> Vec<(&'static str, String)> {
        domain::org::OrgType::ALL
            .iter()
            .filter(|t| self.is_operator || **t != domain::org::OrgType::Operator)
            .map(|t| {
                (
                    t.as_str(),
                    self.shell.t(&format!("org-type-{}", t.as_str())),
                )
            })
            .collect()
    }
    fn idps(&self) -> Vec<(&'static str, String)> {
        domain::org::IdentityProvider::ALL
            .iter()
            .map(|t| (t.as_str(), self.shell.t(&format!("idp-{}", t.as_str()))))
            .collect()
    }
}

fn org_input_from(org: &Organization) -> OrgInput {
    serde_json::from_value(org.fields_json()).unwrap_or_default()
}

fn pairs_get(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn org_input_from_pairs(pairs: &[(String, String)]) -> (OrgInput, Vec<i64>, String) {
    let g = |k: &str| pairs_get(pairs, k);
    let o = |k: &str| Some(pairs_get(pairs, k));
    let input = OrgInput {
        code: g("code"),
        name_en: g("name_en"),
        name_fr: g("name_fr"),
        org_type: g("org_type"),
        contributes_data: !g("contributes_data").is_empty(),
        identity_provider: g("identity_provider"),
        oidc_issuer: o("oidc_issuer"),
        oidc_client_id: o("oidc_client_id"),
        helpdesk_phone: o("helpdesk_phone"),
        helpdesk_email: o("helpdesk_email"),
        escalation_title: o("escalation_title"),
        escalation_name: o("escalation_name"),
        escalation_email: o("escalation_email"),
        escalation_mobile: o("escalation_mobile"),
        after_hours_contacts: o("after_hours_contacts"),
        spoc_name: o("spoc_name"),
        spoc_email: o("spoc_email"),
        spoc_phone: o("spoc_phone"),
        ticket_number_format: o("ticket_number_format"),
        distribution_list: o("distribution_list"),
    };
    let services = pairs
        .iter()
        .filter(|(k, _)| k == "services")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    (input, services, g("oidc_client_secret"))
}

async fn org_new(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    if !who.principal.allows(Action::CreateOrganization) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    let services = store::orgs::services(&mut conn).await?;
    let f = OrgInput {
        org_type: "hospital".into(),
        identity_provider: "operator".into(),
        ..Default::default()
    };
    Ok(render(&OrgFormPage {
        shell: Shell::new(&ctx),
        id: None,
        f,
        services,
        selected: vec![],
        oidc_secret_set: false,
        can_edit: true,
        is_operator: false,
        error: None,
        saved: false,
    }))
}

async fn org_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (input, selected, secret) = org_input_from_pairs(&pairs);
    match service::create_organization(&state, &who, &ctx.actor(), &input, &selected, Some(&secret))
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/admin/organizations/{id}?saved=1")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let mut conn = state.db.reader().acquire().await?;
            let services = store::orgs::services(&mut conn).await?;
            let error = Some(e.message(ctx.locale));
            Ok(render_status(
                e.status,
                &OrgFormPage {
                    shell: Shell::new(&ctx),
                    id: None,
                    f: input,
                    services,
                    selected,
                    oidc_secret_set: false,
                    can_edit: true,
                    is_operator: false,
                    error,
                    saved: false,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn org_form(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    typed: Option<(OrgInput, Vec<i64>)>,
    error: Option<AppError>,
    saved: bool,
) -> AppResult<Response> {
    let detail = service::organization(state, who, id).await?;
    let mut conn = state.db.reader().acquire().await?;
    let services = store::orgs::services(&mut conn).await?;
    let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    let page = OrgFormPage {
        shell: Shell::new(ctx),
        id: Some(id),
        f: typed
            .as_ref()
            .map(|t| t.0.clone())
            .unwrap_or_else(|| org_input_from(&detail.organization)),
        selected: typed
            .map(|t| t.1)
            .unwrap_or_else(|| detail.services.iter().map(|s| s.id).collect()),
        services,
        oidc_secret_set: detail.oidc_enabled || detail.organization.oidc_client_secret.is_some(),
        can_edit: who.principal.allows(Action::EditOrganization(id)),
        is_operator: detail.organization.is_operator(),
        error: error.map(|e| e.message(ctx.locale)),
        saved,
    };
    Ok(render_status(status, &page))
}

async fn org_edit(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    org_form(&state, &ctx, &who, id, None, None, q.saved.is_some()).await
}

async fn org_update(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (input, selected, secret) = org_input_from_pairs(&pairs);
    let mut patch = match serde_json::to_value(OrgPatchView(&input)) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(AppError::internal()),
    };
    patch.insert("services".into(), serde_json::json!(selected));
    if !secret.trim().is_empty() || pairs_get(&pairs, "oidc_client_secret_clear") == "1" {
        patch.insert("oidc_client_secret".into(), serde_json::json!(secret));
    }
    match service::update_organization(&state, &who, &ctx.actor(), id, &patch).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/organizations/{id}?saved=1")).into_response()),
        Err(e)
            if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT =>
        {
            org_form(
                &state,
                &ctx,
                &who,
                id,
                Some((input, selected)),
                Some(e),
                false,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// An `OrgInput` as the JSON patch the service expects.
struct OrgPatchView<'a>(&'a OrgInput);

impl serde::Serialize for OrgPatchView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        serde_json::json!({
            "code": f.code, "name_en": f.name_en, "name_fr": f.name_fr, "org_type": f.org_type,
            "contributes_data": f.contributes_data, "identity_provider": f.identity_provider,
            "oidc_issuer": f.oidc_issuer, "oidc_client_id": f.oidc_client_id, "helpdesk_phone": f.helpdesk_phone,
            "helpdesk_email": f.helpdesk_email, "escalation_title": f.escalation_title, "escalation_name": f.escalation_name,
            "escalation_email": f.escalation_email, "escalation_mobile": f.escalation_mobile,
            "after_hours_contacts": f.after_hours_contacts, "spoc_name": f.spoc_name, "spoc_email": f.spoc_email,
            "spoc_phone": f.spoc_phone, "ticket_number_format": f.ticket_number_format, "distribution_list": f.distribution_list,
        })
        .serialize(s)
    }
}

// ---------- people ----------

#[derive(Template)]
#[template(path = "admin_people.html")]
struct PeoplePage {
    shell: Shell,
    people: Vec<Person>,
    orgs: Vec<Organization>,
    q: String,
    org: Option<i64>,
    can_create: bool,
}

impl PeoplePage {
    fn org_selected(&self, id: &i64) -> bool {
        self.org == Some(*id)
    }
    fn org_name(&self, id: &i64) -> String {
        self.orgs
            .iter()
            .find(|o| o.id == *id)
            .map(|o| o.code.clone())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct PeopleQuery {
    q: Option<String>,
    org: Option<String>,
}

async fn people_list(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Response> {
    let scope = who.principal.people_scope();
    if matches!(scope, OrgScope::Person(_)) {
        return Err(AppError::forbidden());
    }
    let org = q.org.as_deref().and_then(|o| o.parse().ok());
    let mut conn = state.db.reader().acquire().await?;
    let filter = store::people::PeopleFilter {
        organization_id: org,
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        limit: 200,
        offset: 0,
    };
    let people = store::people::list(&mut conn, &scope, &filter).await?;
    let orgs = store::orgs::list(&mut conn, &who.principal.org_scope()).await?;
    let can_create = orgs
        .iter()
        .any(|o| who.principal.allows(Action::ManagePeople(o.id)));
    Ok(render(&PeoplePage {
        shell: Shell::new(&ctx),
        people,
        orgs,
        q: q.q.unwrap_or_default(),
        org,
        can_create,
    }))
}

#[derive(Template)]
#[template(path = "admin_person_new.html")]
struct PersonNewPage {
    shell: Shell,
    orgs: Vec<Organization>,
    form: PersonForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct PersonForm {
    organization_id: String,
    email: String,
    display_name: String,
    phone: String,
    locale: String,
}

async fn manageable_orgs(state: &AppState, who: &Identity) -> AppResult<Vec<Organization>> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::orgs::list(&mut conn, &who.principal.org_scope())
        .await?
        .into_iter()
        .filter(|o| who.principal.allows(Action::ManagePeople(o.id)))
        .collect())
}

async fn person_new(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    let orgs = manageable_orgs(&state, &who).await?;
    if orgs.is_empty() {
        return Err(AppError::forbidden());
    }
    let form = PersonForm {
        locale: ctx.locale.as_str().into(),
        ..Default::default()
    };
    Ok(render(&PersonNewPage {
        shell: Shell::new(&ctx),
        orgs,
        form,
        error: None,
    }))
}

async fn person_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> AppResult<Response> {
    let input = NewPerson {
        organization_id: form.organization_id.parse().unwrap_or(-1),
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        phone: Some(form.phone.clone()),
        locale: Some(form.locale.clone()),
        password: None,
        roles: vec![],
    };
    match service::create_person(&state, &who, &ctx.actor(), &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/people/{id}")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let orgs = manageable_orgs(&state, &who).await?;
            let error = Some(e.message(ctx.locale));
            Ok(render_status(
                e.status,
                &PersonNewPage {
                    shell: Shell::new(&ctx),
                    orgs,
                    form,
                    error,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "admin_person.html")]
struct PersonPage {
    shell: Shell,
    detail: service::PersonDetail,
    organization: Organization,
    grantable: Vec<Role>,
    can_manage: bool,
    can_train: bool,
    error: Option<String>,
    notice: Option<String>,
}

impl PersonPage {
    fn role_label(&self, role: &str) -> String {
        self.shell.t(&format!("role-{role}"))
    }
}

async fn person_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    error: Option<AppError>,
) -> AppResult<Response> {
    person_view_with(state, ctx, who, id, error, None).await
}

async fn person_view_with(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    error: Option<AppError>,
    notice: Option<String>,
) -> AppResult<Response> {
    let detail = service::person(state, who, id).await?;
    let mut conn = state.db.reader().acquire().await?;
    let organization = store::orgs::get_unscoped(&mut conn, detail.person.organization_id).await?;
    let org_id = organization.id;
    let grantable = Role::ALL
        .iter()
        .copied()
        .filter(|r| r.is_operator_role() == organization.is_operator())
        .filter(|r| who.principal.allows(Action::GrantRole(org_id, *r)))
        .filter(|r| !detail.roles.iter().any(|a| a.role == r.as_str()))
        .collect();
    let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    let page = PersonPage {
        shell: Shell::new(ctx),
        grantable,
        can_manage: who.principal.allows(Action::ManagePeople(org_id)),
        can_train: who.principal.allows(Action::RecordTraining(org_id)),
        detail,
        organization,
        error: error.map(|e| e.message(ctx.locale)),
        notice,
    };
    Ok(render_status(status, &page))
}

async fn person_password_reset(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let detail = service::person(&state, &who, id).await?;
    if !who
        .principal
        .allows(Action::ManagePeople(detail.person.organization_id))
    {
        return Err(AppError::forbidden());
    }
    service::forgot_password(&state, &detail.person.email, ctx.locale, ctx.ip.clone()).await?;
    let notice = Some(ctx.tr().t("person-reset-sent"));
    person_view_with(&state, &ctx, &who, id, None, notice).await
}

async fn person_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    person_view(&state, &ctx, &who, id, None).await
}

#[derive(Deserialize)]
struct PersonEditForm {
    email: String,
    display_name: String,
    phone: String,
    locale: String,
    active: Option<String>,
}

async fn person_update(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PersonEditForm>,
) -> AppResult<Response> {
    let patch = PersonPatch {
        email: Some(form.email),
        display_name: Some(form.display_name),
        phone: Some(form.phone),
        locale: Some(form.locale),
        active: Some(form.active.is_some()),
    };
    after(
        &state,
        &ctx,
        &who,
        id,
        service::update_person(&state, &who, &ctx.actor(), id, &patch).await,
    )
    .await
}

async fn after(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    id: i64,
    result: AppResult<()>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/people/{id}")).into_response()),
        Err(e)
            if matches!(
                e.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT
            ) =>
        {
            person_view(state, ctx, who, id, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn role_grant(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<Response> {
    let role =
        Role::parse(&form.role).ok_or_else(|| AppError::invalid("invalid_choice", "role"))?;
    let result = service::grant_role(&state, &who, &ctx.actor(), id, role)
        .await
        .map(|_| ());
    after(&state, &ctx, &who, id, result).await
}

async fn role_revoke(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path((id, role)): Path<(i64, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let role = Role::parse(&role).ok_or_else(|| AppError::invalid("invalid_choice", "role"))?;
    let result = service::revoke_role(&state, &who, &ctx.actor(), id, role).await;
    after(&state, &ctx, &who, id, result).await
}

#[derive(Deserialize)]
struct TrainingForm {
    module: String,
    completed_on: String,
}

async fn training_record(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TrainingForm>,
) -> AppResult<Response> {
    let module = TrainingModule::parse(&form.module)
        .ok_or_else(|| AppError::invalid("invalid_choice", "module"))?;
    let result =
        service::record_training(&state, &who, &ctx.actor(), id, module, &form.completed_on)
            .await
            .map(|_| ());
    after(&state, &ctx, &who, id, result).await
}

// ---------- support groups, audit, outbox, credential requests ----------

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct GroupsPage {
    shell: Shell,
    groups: Vec<store::groups::SupportGroup>,
    calendars: Vec<store::groups::Calendar>,
    can_edit: bool,
    error: Option<String>,
}

async fn groups_view(
    state: &AppState,
    ctx: &Ctx,
    who: &Identity,
    error: Option<AppError>,
) -> AppResult<Response> {
    if !who.principal.is_operator_staff() && !who.principal.allows(Action::ManageSupportGroups) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    let groups = store::groups::groups(&mut conn).await?;
    let calendars = store::groups::calendars(&mut conn).await?;
    let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    Ok(render_status(
        status,
        &GroupsPage {
            shell: Shell::new(ctx),
            groups,
            calendars,
            can_edit: who.principal.allows(Action::ManageSupportGroups),
            error: error.map(|e| e.message(ctx.locale)),
        },
    ))
}

async fn groups_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    groups_view(&state, &ctx, &who, None).await
}

#[derive(Deserialize)]
struct GroupForm {
    code: String,
    name_en: String,
    name_fr: String,
    calendar_id: String,
    time_zone: String,
    weekly_hours: String,
    email: String,
}

async fn group_create(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    CsrfForm(form): CsrfForm<GroupForm>,
) -> AppResult<Response> {
    let input = NewSupportGroup {
        code: form.code,
        name_en: form.name_en,
        name_fr: form.name_fr,
        calendar_id: form.calendar_id.parse().ok(),
        time_zone: Some(form.time_zone).filter(|s| !s.trim().is_empty()),
        weekly_hours: Some(form.weekly_hours),
        email: Some(form.email),
    };
    match service::create_support_group(&state, &who, &ctx.actor(), &input).await {
        Ok(_) => Ok(Redirect::to("/admin/groups").into_response()),
        Err(e)
            if matches!(
                e.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT
            ) =>
        {
            groups_view(&state, &ctx, &who, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    shell: Shell,
    rows: Vec<store::audit::AuditRow>,
    next_before: Option<i64>,
    entity_type: String,
    entity_id: String,
    action: String,
}

#[derive(Deserialize)]
struct AuditQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    action: Option<String>,
    before: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let scope = who.principal.audit_scope();
    if scope == OrgScope::Nothing {
        return Err(AppError::forbidden());
    }
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let filter = store::audit::AuditFilter {
        entity_type: nonempty(&q.entity_type),
        entity_id: nonempty(&q.entity_id),
        action: nonempty(&q.action),
        before_seq: q.before,
        limit: 100,
    };
    let mut conn = state.db.reader().acquire().await?;
    let rows = store::audit::list(&mut conn, &scope, &filter).await?;
    let next_before = (rows.len() == 100)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    Ok(render(&AuditPage {
        shell: Shell::new(&ctx),
        rows,
        next_before,
        entity_type: q.entity_type.unwrap_or_default(),
        entity_id: q.entity_id.unwrap_or_default(),
        action: q.action.unwrap_or_default(),
    }))
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct OutboxPage {
    shell: Shell,
    messages: Vec<store::outbox::OutboxMessage>,
}

async fn outbox_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    if !who.principal.allows(Action::ViewOutbox) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    let messages = store::outbox::list(&mut conn, None, 100).await?;
    Ok(render(&OutboxPage {
        shell: Shell::new(&ctx),
        messages,
    }))
}

async fn outbox_retry(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    service::retry_mail(&state, &who, &ctx.actor(), id).await?;
    Ok(Redirect::to("/admin/outbox").into_response())
}

#[derive(Template)]
#[template(path = "admin_credentials.html")]
struct CredentialsPage {
    shell: Shell,
    requests: Vec<store::credentials::CredentialRequest>,
}

async fn credential_requests_page(
    State(state): State<AppState>,
    PageUser(ctx, who): PageUser,
) -> AppResult<Response> {
    let scope = who.principal.credential_requests_scope();
    if scope == OrgScope::Nothing {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    let requests = store::credentials::list(&mut conn, &scope).await?;
    Ok(render(&CredentialsPage {
        shell: Shell::new(&ctx),
        requests,
    }))
}
