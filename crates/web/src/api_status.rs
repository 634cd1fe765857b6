//! The status page in the JSON API, for the desk: components and groups, incidents and
//! maintenances with their updates, banners, and publishing a desk incident. The public,
//! read-only side is the hosted status-page API v2 under /api/v2 (`crate::status_public`).
use crate::AppState;
use crate::api::{ApiJson, Created, ErrorBody};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::status::{self, *};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use serde::Deserialize;
use store::status_page as sp;

/// Agents: the components, in page order.
#[utoipa::path(get, path = "/api/v1/status/components", tag = "status",
    responses((status = 200, body = Vec<sp::Component>), (status = 403, body = ErrorBody)))]
pub async fn list_components(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<sp::Component>>> {
    let ApiUser(_, who) = api_user;
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(sp::components(&mut conn).await?))
}

/// Catalogue editors: add a component (operational from now).
#[utoipa::path(post, path = "/api/v1/status/components", tag = "status", request_body = ComponentInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_component(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<ComponentInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::EditCatalogue)?;
    let id = status::create_component(&state, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Catalogue editors: change a component's names, description, group or position.
#[utoipa::path(put, path = "/api/v1/status/components/{id}", tag = "status", params(("id" = i64, Path)),
    request_body = ComponentInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_component(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ComponentInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::EditCatalogue)?;
    status::update_component(&state, &ctx.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// operational, degraded_performance, partial_outage, major_outage or under_maintenance.
    pub status: String,
}

/// Agents: set a component's status by hand, without an incident.
#[utoipa::path(post, path = "/api/v1/status/components/{id}/status", tag = "status", params(("id" = i64, Path)),
    request_body = StatusInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_component_status(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<StatusInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    status::set_component_status(&state, &ctx.actor(), id, &input.status).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Agents: the component groups.
#[utoipa::path(get, path = "/api/v1/status/groups", tag = "status",
    responses((status = 200, body = Vec<sp::Group>), (status = 403, body = ErrorBody)))]
pub async fn list_groups(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<sp::Group>>> {
    let ApiUser(_, who) = api_user;
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(sp::groups(&mut conn).await?))
}

/// Catalogue editors: add a group of components.
#[utoipa::path(post, path = "/api/v1/status/groups", tag = "status", request_body = GroupInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_group(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<GroupInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::EditCatalogue)?;
    let id = status::create_group(&state, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Catalogue editors: rename or move a group.
#[utoipa::path(put, path = "/api/v1/status/groups/{id}", tag = "status", params(("id" = i64, Path)),
    request_body = GroupInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_group(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<GroupInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::EditCatalogue)?;
    status::update_group(&state, &ctx.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Agents: incidents and maintenances open now or closed in the last 90 days.
#[utoipa::path(get, path = "/api/v1/status/events", tag = "status",
    responses((status = 200, body = Vec<sp::Event>), (status = 403, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<sp::Event>>> {
    let ApiUser(_, who) = api_user;
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(status::recent(&mut conn).await?))
}

/// Agents: one incident or maintenance with its components, updates and notices sent.
#[utoipa::path(get, path = "/api/v1/status/events/{id}", tag = "status", params(("id" = i64, Path)),
    responses((status = 200, body = EventDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_event(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<EventDetail>> {
    let ApiUser(_, who) = api_user;
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(status::detail(&mut conn, id).await?))
}

async fn detail_of(state: &AppState, id: i64) -> AppResult<Json<EventDetail>> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(status::detail(&mut conn, id).await?))
}

/// Agents: post an incident directly (not from a desk ticket). Subscribers of the affected
/// components are told at once; a major or critical one sets the banner unless `banner`
/// is false.
#[utoipa::path(post, path = "/api/v1/status/incidents", tag = "status", request_body = IncidentInput,
    responses((status = 201, body = EventDetail), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_incident(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<IncidentInput>,
) -> AppResult<(StatusCode, Json<EventDetail>)> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    let posted = status::create_incident(&state, &ctx.actor(), &input, None).await?;
    Ok((
        StatusCode::CREATED,
        detail_of(&state, posted.event_id).await?,
    ))
}

/// Agents: schedule a maintenance. Its notices go at scheduling and at the policy pack's
/// offsets (default 1 week and 1 hour before), at start and at completion; it starts and
/// completes by itself at its times unless `auto_transition` is false.
#[utoipa::path(post, path = "/api/v1/status/maintenances", tag = "status", request_body = MaintenanceInput,
    responses((status = 201, body = EventDetail), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_maintenance(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<MaintenanceInput>,
) -> AppResult<(StatusCode, Json<EventDetail>)> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    let posted = status::create_maintenance(&state, &ctx.actor(), &input, None).await?;
    Ok((
        StatusCode::CREATED,
        detail_of(&state, posted.event_id).await?,
    ))
}

/// Agents: move a maintenance (calendars get the new times).
#[utoipa::path(put, path = "/api/v1/status/maintenances/{id}/schedule", tag = "status", params(("id" = i64, Path)),
    request_body = RescheduleInput,
    responses((status = 200, body = EventDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reschedule(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<RescheduleInput>,
) -> AppResult<Json<EventDetail>> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    status::reschedule(&state, &ctx.actor(), id, &input).await?;
    detail_of(&state, id).await
}

/// Agents: post an update (new status, text, components, "next update by"). A resolved
/// incident takes only its postmortem (409 `incident_resolved` otherwise).
#[utoipa::path(post, path = "/api/v1/status/events/{id}/updates", tag = "status", params(("id" = i64, Path)),
    request_body = UpdateInput,
    responses((status = 200, body = EventDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_update(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<UpdateInput>,
) -> AppResult<Json<EventDetail>> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    status::post_update(&state, &ctx.actor(), id, &input).await?;
    detail_of(&state, id).await
}

/// Agents: publish a desk incident on the status page in one step: the incident, its
/// first notice and, for priority 1 and 2, the login-page banner.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/publish", tag = "status", params(("number" = String, Path)),
    request_body = PublishInput,
    responses((status = 201, body = EventDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<PublishInput>,
) -> AppResult<(StatusCode, Json<EventDetail>)> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    let posted = status::publish_ticket(
        &state,
        &ctx.actor(),
        &who.principal.ticket_scope(),
        &number,
        &input,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        detail_of(&state, posted.event_id).await?,
    ))
}

/// Agents: the banners (message of the day) set now.
#[utoipa::path(get, path = "/api/v1/status/banners", tag = "status",
    responses((status = 200, body = Vec<sp::Banner>), (status = 403, body = ErrorBody)))]
pub async fn list_banners(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<sp::Banner>>> {
    let ApiUser(_, who) = api_user;
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(sp::banners(&mut conn).await?))
}

/// Agents: set (or edit) the banner of every environment (`scope` empty) or of one
/// component.
#[utoipa::path(put, path = "/api/v1/status/banners", tag = "status", request_body = BannerInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_banner(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<BannerInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    status::set_banner(&state, &ctx.actor(), &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearBanner {
    #[serde(default)]
    pub scope: String,
}

/// Agents: take a banner down.
#[utoipa::path(post, path = "/api/v1/status/banners/clear", tag = "status", request_body = ClearBanner,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn clear_banner(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<ClearBanner>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    who.require(Action::WorkTickets)?;
    status::clear_banner(&state, &ctx.actor(), input.scope.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}
