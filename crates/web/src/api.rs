//! JSON REST API under /api/v1. Errors are `{"code", "message"}`; the OpenAPI 3.1 document
//! at /api/openapi.json is generated from these handlers.
use crate::AppState;
use crate::api_cab as cab;
use crate::api_change_implementation as chi;
use crate::api_changes as chg;
use crate::api_cmdb as ci;
use crate::api_mail;
use crate::api_major_incident_reports as mir;
use crate::api_major_incidents as mi;
use crate::api_notices;
use crate::api_problem_trends as pt;
use crate::api_problems as pr;
use crate::api_status as st;
use crate::api_tickets as t;
use crate::ctx::{ApiUser, Ctx};
use crate::error::{AppError, AppResult};
use crate::service::{
    self, CredentialRequestInput, NewPerson, NewSupportGroup, OrganizationDetail, PersonDetail,
    PersonPatch,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use domain::org::OrgInput;
use domain::policy::Action;
use domain::role::{Role, TrainingModule};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use store::audit::{AuditFilter, AuditRow};
use store::auth::ApiToken;
use store::credentials::CredentialRequest;
use store::groups::{Calendar, SupportGroup};
use store::orgs::{Organization, Service};
use store::outbox::OutboxMessage;
use store::people::{PeopleFilter, Person, RoleAssignment};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// JSON body with clear error codes for malformed JSON, unknown fields and wrong types.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_error(&rejection)),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> AppError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        JsonRejection::JsonSyntaxError(_) => AppError::bad_request("malformed_json"),
        JsonRejection::JsonDataError(_) if text.contains("unknown field") => {
            AppError::invalid("unknown_field", "body")
        }
        JsonRejection::JsonDataError(_) if text.contains("missing field") => {
            AppError::invalid("missing_field", "body")
        }
        JsonRejection::JsonDataError(_) => AppError::invalid("invalid_type", "body"),
        JsonRejection::BytesRejection(_) => {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        }
        _ => AppError::bad_request("malformed_json"),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable.
    pub code: String,
    /// In the caller's language (Accept-Language or the person's preference).
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub person: Person,
    pub organization: Organization,
    pub roles: Vec<RoleAssignment>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Triage API", description = "Service management for a health information exchange. Authenticate with `Authorization: Bearer <token>` (create a token on your profile page). Errors are `{\"code\", \"message\"}`."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me, patch_me))
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(get_organization, patch_organization))
        .routes(routes!(list_services))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, patch_person))
        .routes(routes!(grant_role))
        .routes(routes!(revoke_role))
        .routes(routes!(record_training))
        .routes(routes!(send_password_reset))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_support_groups, create_support_group))
        .routes(routes!(list_calendars))
        .routes(routes!(list_audit))
        .routes(routes!(list_outbox))
        .routes(routes!(retry_outbox_message))
        .routes(routes!(list_credential_requests, create_credential_request))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(t::list_tickets, t::create_ticket))
        .routes(routes!(t::get_ticket, t::patch_ticket))
        .routes(routes!(t::ticket_sla))
        .routes(routes!(t::ticket_deliveries))
        .routes(routes!(t::list_policy_packs, t::load_policy_pack))
        .routes(routes!(t::select_policy_pack))
        .routes(routes!(t::list_calendar_closures, t::add_calendar_closure))
        .routes(routes!(t::remove_calendar_closure))
        .routes(routes!(t::add_comment))
        .routes(routes!(t::download_attachment))
        .routes(routes!(t::share_ticket))
        .routes(routes!(t::mute_ticket))
        .routes(routes!(t::watch_ticket))
        .routes(routes!(t::link_ticket))
        .routes(routes!(t::merge_ticket))
        .routes(routes!(t::redact_ticket))
        .routes(routes!(t::bulk_tickets))
        .routes(routes!(t::get_catalogue))
        .routes(routes!(t::create_request_type))
        .routes(routes!(t::update_request_type))
        .routes(routes!(t::create_subcategory))
        .routes(routes!(t::update_subcategory))
        .routes(routes!(t::list_canned, t::save_canned))
        .routes(routes!(api_mail::list_inbound))
        .routes(routes!(api_mail::get_inbound))
        .routes(routes!(api_mail::release_inbound))
        .routes(routes!(api_mail::discard_inbound))
        .routes(routes!(api_mail::list_webhooks, api_mail::create_webhook))
        .routes(routes!(api_mail::get_webhook, api_mail::delete_webhook))
        .routes(routes!(api_mail::test_webhook))
        .routes(routes!(api_notices::list_templates))
        .routes(routes!(
            api_notices::get_template,
            api_notices::save_template
        ))
        .routes(routes!(api_notices::preview_template))
        .routes(routes!(api_notices::list_lists, api_notices::create_list))
        .routes(routes!(api_notices::get_list))
        .routes(routes!(api_notices::add_members))
        .routes(routes!(api_notices::request_removal))
        .routes(routes!(api_notices::confirm_removal))
        .routes(routes!(api_notices::decline_removal))
        .routes(routes!(api_notices::my_lists))
        .routes(routes!(api_notices::send_notice))
        .routes(routes!(api_notices::get_notice))
        .routes(routes!(st::list_components, st::create_component))
        .routes(routes!(st::update_component))
        .routes(routes!(st::set_component_status))
        .routes(routes!(st::list_groups, st::create_group))
        .routes(routes!(st::update_group))
        .routes(routes!(st::list_events))
        .routes(routes!(st::get_event))
        .routes(routes!(st::post_update))
        .routes(routes!(st::create_incident))
        .routes(routes!(st::create_maintenance))
        .routes(routes!(st::reschedule))
        .routes(routes!(st::publish_ticket))
        .routes(routes!(st::list_banners, st::set_banner))
        .routes(routes!(st::clear_banner))
        .routes(routes!(ci::list_items, ci::create_item))
        .routes(routes!(ci::get_item, ci::update_item))
        .routes(routes!(ci::add_relation))
        .routes(routes!(ci::remove_relation))
        .routes(routes!(pt::list_proposals))
        .routes(routes!(pt::accept_proposal))
        .routes(routes!(pt::dismiss_proposal))
        .routes(routes!(pt::run_detection))
        .routes(routes!(pt::get_settings, pt::put_settings))
        .routes(routes!(mi::declare))
        .routes(routes!(mi::send_notice))
        .routes(routes!(mi::set_auto_send))
        .routes(routes!(mi::list))
        .routes(routes!(mi::get))
        .routes(routes!(mir::get_draft, mir::redraft, mir::edit_draft))
        .routes(routes!(mir::redact))
        .routes(routes!(mir::record_review))
        .routes(routes!(mir::release))
        .routes(routes!(mir::request_copy, mir::list_requests))
        .routes(routes!(mir::get_report))
        .routes(routes!(
            crate::status_subscriptions::create_status_subscription
        ))
        .routes(routes!(crate::change_calendar::calendar_json))
        .routes(routes!(crate::change_calendar::calendar_ics))
        .routes(routes!(pr::list_problems, pr::create_problem))
        .routes(routes!(pr::get_problem, pr::patch_problem))
        .routes(routes!(pr::set_problem_status))
        .routes(routes!(pr::acknowledge_closure))
        .routes(routes!(pr::known_errors))
        .routes(routes!(pr::ticket_items, pr::add_ticket_item))
        .routes(routes!(pr::list_reviews, pr::create_review))
        .routes(routes!(pr::get_review, pr::patch_review))
        .routes(routes!(pr::add_action))
        .routes(routes!(pr::patch_action))
        .routes(routes!(pr::download_review_file))
        .routes(routes!(cab::list_meetings))
        .routes(routes!(cab::get_meeting, cab::patch_meeting))
        .routes(routes!(cab::decide))
        .routes(routes!(cab::list_freezes, cab::create_freeze))
        .routes(routes!(cab::get_freeze))
        .routes(routes!(cab::cancel_freeze))
        .routes(routes!(cab::list_exceptions))
        .routes(routes!(cab::decide_exception))
        .routes(routes!(cab::get_approvals))
        .routes(routes!(cab::request_exception))
        .routes(routes!(cab::approve_window))
        .routes(routes!(cab::set_service_owner))
        .routes(routes!(chi::get_implementation))
        .routes(routes!(chi::send_outage_notice))
        .routes(routes!(chi::create_maintenance))
        .routes(routes!(chi::record_outcome))
        .routes(routes!(chi::link_incident))
        .routes(routes!(chi::report_change, chi::reported_changes))
        .routes(routes!(chi::record_emergency_change))
        .routes(routes!(chi::file_latent))
        .routes(routes!(chi::latent_report))
        .routes(routes!(chg::list_changes, chg::create_change))
        .routes(routes!(chg::get_change))
        .routes(routes!(chg::set_change_status))
        .routes(routes!(chg::ecab_decision))
        .routes(routes!(chg::set_presenter))
        .routes(routes!(chg::set_promotion))
        .routes(routes!(chg::list_templates, chg::create_template))
        .routes(routes!(chg::get_template, chg::patch_template))
        .routes(routes!(chg::retire_template))
        .merge(
            // Uploads stream and are capped per file in `read_multipart`, not by the
            // 1 MB limit that guards JSON bodies.
            OpenApiRouter::new()
                .routes(routes!(t::upload_attachments))
                .routes(routes!(pr::upload_review_files))
                // Read with the inbound_max_mb limit by the handler.
                .routes(routes!(api_mail::receive_email))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .split_for_parts()
}

/// The OpenAPI document, as served at /api/openapi.json.
pub fn openapi_document() -> serde_json::Value {
    serde_json::to_value(api_router().1).unwrap_or_default()
}

pub fn routes() -> Router<AppState> {
    let (router, doc) = api_router();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async { AppError::not_found() }),
        )
}

// ---------- me ----------

/// The signed-in person, their organization and roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "people", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, api_user: ApiUser) -> AppResult<Json<Me>> {
    let ApiUser(_, who) = api_user;
    let mut conn = state.db.reader().acquire().await?;
    let organization = store::orgs::get(
        &mut conn,
        &who.principal.org_scope(),
        who.person.organization_id,
    )
    .await?;
    let roles = store::people::roles_of(&mut conn, who.person.id).await?;
    Ok(Json(Me {
        person: who.person,
        organization,
        roles,
    }))
}

/// Change your own name, phone or language.
#[utoipa::path(patch, path = "/api/v1/me", tag = "people", request_body = PersonPatch, responses((status = 200, body = PersonDetail), (status = 422, body = ErrorBody)))]
async fn patch_me(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(patch): ApiJson<PersonPatch>,
) -> AppResult<Json<PersonDetail>> {
    let ApiUser(ctx, who) = api_user;
    service::update_person(&state, &who, &ctx.actor(), who.person.id, &patch).await?;
    Ok(Json(service::person(&state, &who, who.person.id).await?))
}

// ---------- organizations ----------

/// Organizations you may see: your own, or all of them for operator staff.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", responses((status = 200, body = Vec<Organization>)))]
async fn list_organizations(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<Organization>>> {
    let ApiUser(_, who) = api_user;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(
        store::orgs::list(&mut conn, &who.principal.org_scope()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewOrganization {
    code: String,
    name_en: String,
    name_fr: String,
    /// hospital, community_care, sole_practitioner, lab, clinic, public_health, vendor, other
    org_type: String,
    #[serde(default)]
    contributes_data: bool,
    /// operator, federated or provincial
    identity_provider: String,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    helpdesk_phone: Option<String>,
    helpdesk_email: Option<String>,
    escalation_title: Option<String>,
    escalation_name: Option<String>,
    escalation_email: Option<String>,
    escalation_mobile: Option<String>,
    after_hours_contacts: Option<String>,
    spoc_name: Option<String>,
    spoc_email: Option<String>,
    spoc_phone: Option<String>,
    /// `#` a digit, `A` a capital letter, anything else literal: `INC#######`.
    ticket_number_format: Option<String>,
    distribution_list: Option<String>,
    #[serde(default)]
    services: Vec<i64>,
}

/// Create a partner organization (administrators).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = NewOrganization,
    responses((status = 201, body = OrganizationDetail), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_organization(
    State(state): State<AppState>,
    ApiUser(ctx, who): ApiUser,
    ApiJson(body): ApiJson<NewOrganization>,
) -> AppResult<Response> {
    let input = OrgInput {
        code: body.code,
        name_en: body.name_en,
        name_fr: body.name_fr,
        org_type: body.org_type,
        contributes_data: body.contributes_data,
        identity_provider: body.identity_provider,
        oidc_issuer: body.oidc_issuer,
        oidc_client_id: body.oidc_client_id,
        helpdesk_phone: body.helpdesk_phone,
        helpdesk_email: body.helpdesk_email,
        escalation_title: body.escalation_title,
        escalation_name: body.escalation_name,
        escalation_email: body.escalation_email,
        escalation_mobile: body.escalation_mobile,
        after_hours_contacts: body.after_hours_contacts,
        spoc_name: body.spoc_name,
        spoc_email: body.spoc_email,
        spoc_phone: body.spoc_phone,
        ticket_number_format: body.ticket_number_format,
        distribution_list: body.distribution_list,
    };
    let id = service::create_organization(
        &state,
        &who,
        &ctx.actor(),
        &input,
        &body.services,
        body.oidc_client_secret.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(service::organization(&state, &who, id).await?),
    )
        .into_response())
}

/// One organization.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)),
    responses((status = 200, body = OrganizationDetail), (status = 404, body = ErrorBody)))]
async fn get_organization(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<OrganizationDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(service::organization(&state, &who, id).await?))
}

/// Change some fields of an organization (administrators). Send only the fields to change;
/// `services` replaces the list of service ids; `oidc_client_secret` sets or (empty) removes it.
/// Every change is audited; contact changes as `organization.contacts_change`.
#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)),
    request_body(content = Object, description = "Fields of NewOrganization to change"),
    responses((status = 200, body = OrganizationDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patch_organization(
    State(state): State<AppState>,
    ApiUser(ctx, who): ApiUser,
    Path(id): Path<i64>,
    ApiJson(patch): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> AppResult<Json<OrganizationDetail>> {
    service::update_organization(&state, &who, &ctx.actor(), id, &patch).await?;
    Ok(Json(service::organization(&state, &who, id).await?))
}

/// The services organizations can be live on.
#[utoipa::path(get, path = "/api/v1/services", tag = "organizations", responses((status = 200, body = Vec<Service>)))]
async fn list_services(
    State(state): State<AppState>,
    _api_user: ApiUser,
) -> AppResult<Json<Vec<Service>>> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::orgs::services(&mut conn).await?))
}

// ---------- people ----------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PeopleQuery {
    organization_id: Option<i64>,
    /// Part of a name or email.
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// People you may see: everyone for operator staff; your organization for its LRA, help desk,
/// signatory, CPC and privacy contact; yourself otherwise.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(PeopleQuery), responses((status = 200, body = Vec<Person>)))]
async fn list_people(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Json<Vec<Person>>> {
    let ApiUser(_, who) = api_user;
    let mut conn = state.db.reader().acquire().await?;
    let filter = PeopleFilter {
        organization_id: q.organization_id,
        q: q.q,
        limit: q.limit.unwrap_or(100),
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json(
        store::people::list(&mut conn, &who.principal.people_scope(), &filter).await?,
    ))
}

/// Create an account (administrators; an organization's LRA for its own organization once its
/// privacy contact has completed e-learning). Without a password the person is mailed a link.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = NewPerson,
    responses((status = 201, body = PersonDetail), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_person(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<NewPerson>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let id = service::create_person(&state, &who, &ctx.actor(), &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(service::person(&state, &who, id).await?),
    )
        .into_response())
}

/// One person, with roles and training records.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = PersonDetail), (status = 404, body = ErrorBody)))]
async fn get_person(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<PersonDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(service::person(&state, &who, id).await?))
}

/// Change a person's details or deactivate the account (`active: false` ends their sessions).
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path)), request_body = PersonPatch,
    responses((status = 200, body = PersonDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patch_person(
    State(state): State<AppState>,
    ApiUser(ctx, who): ApiUser,
    Path(id): Path<i64>,
    ApiJson(patch): ApiJson<PersonPatch>,
) -> AppResult<Json<PersonDetail>> {
    service::update_person(&state, &who, &ctx.actor(), id, &patch).await?;
    Ok(Json(service::person(&state, &who, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: Role,
}

/// Grant a role. LRA and privacy auditor stay `pending_training` until both trainings are recorded.
#[utoipa::path(post, path = "/api/v1/people/{id}/roles", tag = "people", params(("id" = i64, Path)), request_body = RoleBody,
    responses((status = 201, body = RoleAssignment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn grant_role(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RoleBody>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let granted = service::grant_role(&state, &who, &ctx.actor(), id, body.role).await?;
    Ok((StatusCode::CREATED, Json(granted)).into_response())
}

/// Revoke a role.
#[utoipa::path(delete, path = "/api/v1/people/{id}/roles/{role}", tag = "people", params(("id" = i64, Path), ("role" = Role, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_role(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((id, role)): Path<(i64, String)>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    let role = Role::parse(&role).ok_or_else(|| AppError::invalid("invalid_choice", "role"))?;
    service::revoke_role(&state, &who, &ctx.actor(), id, role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TrainingBody {
    module: TrainingModule,
    /// YYYY-MM-DD
    completed_on: String,
}

#[derive(Serialize, ToSchema)]
struct TrainingResult {
    /// Roles that became active because of this training.
    activated: Vec<Role>,
}

/// Record a completed training (administrators).
#[utoipa::path(post, path = "/api/v1/people/{id}/trainings", tag = "people", params(("id" = i64, Path)), request_body = TrainingBody,
    responses((status = 200, body = TrainingResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_training(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TrainingBody>,
) -> AppResult<Json<TrainingResult>> {
    let ApiUser(ctx, who) = api_user;
    let activated = service::record_training(
        &state,
        &who,
        &ctx.actor(),
        id,
        body.module,
        &body.completed_on,
    )
    .await?;
    Ok(Json(TrainingResult { activated }))
}

/// Mail the person a link to choose a new password (administrators and the organization's LRA).
#[utoipa::path(post, path = "/api/v1/people/{id}/password-reset", tag = "people", params(("id" = i64, Path)),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn send_password_reset(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    let person = service::person(&state, &who, id).await?;
    if !who
        .principal
        .allows(Action::ManagePeople(person.person.organization_id))
    {
        return Err(AppError::forbidden());
    }
    service::forgot_password(&state, &person.person.email, ctx.locale, ctx.ip.clone()).await?;
    Ok(StatusCode::ACCEPTED)
}

// ---------- tokens ----------

/// Your API tokens (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<ApiToken>)))]
async fn list_tokens(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<ApiToken>>> {
    let ApiUser(_, who) = api_user;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(
        store::auth::tokens_of(&mut conn, who.person.id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    name: String,
}

#[derive(Serialize, ToSchema)]
struct NewToken {
    token: ApiToken,
    /// Shown once: store it now.
    secret: String,
}

/// Create an API token for yourself.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenBody, responses((status = 201, body = NewToken), (status = 422, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<TokenBody>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let (token, secret) = service::create_token(&state, &who, &ctx.actor(), &body.name).await?;
    Ok((StatusCode::CREATED, Json(NewToken { token, secret })).into_response())
}

/// Revoke one of your tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    service::revoke_token(&state, &who, &ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- support groups ----------

/// The operator's support groups and the calendar of their hours.
#[utoipa::path(get, path = "/api/v1/support-groups", tag = "support groups", responses((status = 200, body = Vec<SupportGroup>)))]
async fn list_support_groups(
    State(state): State<AppState>,
    _api_user: ApiUser,
) -> AppResult<Json<Vec<SupportGroup>>> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::groups::groups(&mut conn).await?))
}

/// Create a support group (administrators), with an existing calendar or new weekly hours.
#[utoipa::path(post, path = "/api/v1/support-groups", tag = "support groups", request_body = NewSupportGroup,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_support_group(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<NewSupportGroup>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let id = service::create_support_group(&state, &who, &ctx.actor(), &body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

/// Named calendars (support hours).
#[utoipa::path(get, path = "/api/v1/calendars", tag = "support groups", responses((status = 200, body = Vec<Calendar>)))]
async fn list_calendars(
    State(state): State<AppState>,
    _api_user: ApiUser,
) -> AppResult<Json<Vec<Calendar>>> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::groups::calendars(&mut conn).await?))
}

// ---------- audit, outbox, credential requests ----------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    action: Option<String>,
    /// Rows before this sequence number (paging backwards).
    before: Option<i64>,
    limit: Option<i64>,
}

/// The audit log, newest first: all of it for the privacy office and administrators, an
/// organization's rows for its privacy auditor.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditRow>), (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Json<Vec<AuditRow>>> {
    let ApiUser(_, who) = api_user;
    let scope = who.principal.audit_scope();
    if scope == domain::policy::OrgScope::Nothing {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    let filter = AuditFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        action: q.action,
        before_seq: q.before,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(store::audit::list(&mut conn, &scope, &filter).await?))
}

/// Outgoing mail stored by Triage (administrators).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "audit", responses((status = 200, body = Vec<OutboxMessage>), (status = 403, body = ErrorBody)))]
async fn list_outbox(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<OutboxMessage>>> {
    let ApiUser(_, who) = api_user;
    if !who.principal.allows(Action::ViewOutbox) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::outbox::list(&mut conn, None, 200).await?))
}

/// Administrators: send a failed message again (after fixing its cause).
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "audit", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retry_outbox_message(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    service::retry_mail(&state, &who, &ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Requests for portal credentials: an organization's LRAs see theirs.
#[utoipa::path(get, path = "/api/v1/credential-requests", tag = "access", responses((status = 200, body = Vec<CredentialRequest>)))]
async fn list_credential_requests(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<CredentialRequest>>> {
    let ApiUser(_, who) = api_user;
    let scope = who.principal.credential_requests_scope();
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::credentials::list(&mut conn, &scope).await?))
}

/// Ask for portal credentials (no sign-in needed). The organization's LRAs are mailed.
#[utoipa::path(post, path = "/api/v1/credential-requests", tag = "access", request_body = CredentialRequestInput, security(()),
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
async fn create_credential_request(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CredentialRequestInput>,
) -> AppResult<Response> {
    let id = service::request_credentials(&state, &body, ctx.ip.clone()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ForgotBody {
    email: String,
}

/// Mail a password-reset link (no sign-in needed). Always 202, whether or not the account exists.
#[utoipa::path(post, path = "/api/v1/auth/forgot-password", tag = "access", request_body = ForgotBody, security(()),
    responses((status = 202), (status = 422, body = ErrorBody)))]
async fn forgot_password(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ForgotBody>,
) -> AppResult<StatusCode> {
    service::forgot_password(&state, &body.email, ctx.locale, ctx.ip.clone()).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    /// The secret from the mailed link.
    token: String,
    password: String,
}

/// Choose a new password with a mailed link. The link works once, for an hour.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", tag = "access", request_body = ResetBody, security(()),
    responses((status = 204), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ResetBody>,
) -> AppResult<StatusCode> {
    service::reset_password(&state, &body.token, &body.password, ctx.ip.clone()).await?;
    Ok(StatusCode::NO_CONTENT)
}
