//! CAB meetings and decisions, change freezes and their exceptions, and an RFC's approvals
//! (window approval, freeze exceptions) in the JSON API. The work is `crate::cab`'s and
//! `crate::freezes`', shared with the pages.
use crate::AppState;
use crate::api::{ApiJson, Created, ErrorBody};
use crate::cab::{
    self, Agenda, Approvals, DecisionInput, MeetingPatch, MeetingSummary, MeetingsQuery,
    ServiceOwnerInput, WindowApprovalInput,
};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::freezes::{self, ExceptionDecision, ExceptionInput, FreezeInput};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use store::cab::Decision;
use store::freezes::{Exception, Freeze};

/// Agents: recent and upcoming CAB meetings from the policy pack's CAB calendar, each with
/// its submission deadline, the RFCs waiting for it and the decisions it recorded.
#[utoipa::path(get, path = "/api/v1/cab/meetings", tag = "changes", params(MeetingsQuery),
    responses((status = 200, body = Vec<MeetingSummary>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_meetings(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<MeetingsQuery>,
) -> AppResult<Json<Vec<MeetingSummary>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(cab::meetings(&state, &who, &q).await?))
}

/// Agents: one meeting's agenda (normal RFCs going to it, standard change templates
/// waiting for approval, each RFC with its conflict flags and reasons), attendees, minutes
/// and decisions. 404 `no_cab_meeting` when the CAB does not meet that day.
#[utoipa::path(get, path = "/api/v1/cab/meetings/{date}", tag = "changes", params(("date" = String, Path)),
    responses((status = 200, body = Agenda), (status = 404, body = ErrorBody)))]
pub async fn get_meeting(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(date): Path<String>,
) -> AppResult<Json<Agenda>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(cab::agenda(&state, &who, &date, ctx.locale).await?))
}

/// Change managers: save a meeting's attendees and minutes.
#[utoipa::path(patch, path = "/api/v1/cab/meetings/{date}", tag = "changes", params(("date" = String, Path)),
    request_body = MeetingPatch,
    responses((status = 200, body = Agenda), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_meeting(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(date): Path<String>,
    ApiJson(patch): ApiJson<MeetingPatch>,
) -> AppResult<Json<Agenda>> {
    let ApiUser(ctx, who) = api_user;
    cab::save_minutes(&state, &who, &ctx.actor(), &date, &patch).await?;
    Ok(Json(cab::agenda(&state, &who, &date, ctx.locale).await?))
}

/// Change managers: record a decision on an RFC of the agenda (`number`) or a standard
/// change template (`template_id`). Rejections and deferrals need reasons
/// (`reasons_required`); the notices go out at the meeting's approvals time.
#[utoipa::path(post, path = "/api/v1/cab/meetings/{date}/decisions", tag = "changes", params(("date" = String, Path)),
    request_body = DecisionInput,
    responses((status = 201, body = Decision), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(date): Path<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> AppResult<(StatusCode, Json<Decision>)> {
    let ApiUser(ctx, who) = api_user;
    let decision = cab::decide(&state, &who, &ctx.actor(), &date, &input).await?;
    Ok((StatusCode::CREATED, Json(decision)))
}

/// Change freezes you may see: the operator's and your organization's.
#[utoipa::path(get, path = "/api/v1/freezes", tag = "changes",
    responses((status = 200, body = Vec<Freeze>)))]
pub async fn list_freezes(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<Freeze>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(freezes::list(&state, &who).await?))
}

/// Declare a freeze (operator change managers) or announce your organization's (a
/// partner's signatory, LRA, help desk or CPC), at least the pack's notice ahead
/// (`freeze_notice_too_short`).
#[utoipa::path(post, path = "/api/v1/freezes", tag = "changes", request_body = FreezeInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_freeze(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<FreezeInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    let id = freezes::declare(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/freezes/{id}", tag = "changes", params(("id" = i64, Path)),
    responses((status = 200, body = Freeze), (status = 404, body = ErrorBody)))]
pub async fn get_freeze(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Freeze>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(freezes::get(&state, &who, id).await?))
}

/// Cancel a freeze (the operator's change managers; a partner its own).
#[utoipa::path(post, path = "/api/v1/freezes/{id}/cancel", tag = "changes", params(("id" = i64, Path)),
    responses((status = 200, body = Freeze), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_freeze(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Freeze>> {
    let ApiUser(ctx, who) = api_user;
    freezes::cancel(&state, &who, &ctx.actor(), id).await?;
    Ok(Json(freezes::get(&state, &who, id).await?))
}

/// Change managers: freeze exceptions waiting for a decision.
#[utoipa::path(get, path = "/api/v1/freeze-exceptions", tag = "changes",
    responses((status = 200, body = Vec<Exception>), (status = 403, body = ErrorBody)))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<Exception>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(freezes::requested(&state, &who).await?))
}

/// Change managers: approve or refuse a freeze exception (a refusal says why).
#[utoipa::path(post, path = "/api/v1/freeze-exceptions/{id}/decision", tag = "changes", params(("id" = i64, Path)),
    request_body = ExceptionDecision,
    responses((status = 200, body = Exception), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_exception(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ExceptionDecision>,
) -> AppResult<Json<Exception>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        freezes::decide_exception(&state, &who, &ctx.actor(), id, &input).await?,
    ))
}

/// An RFC's approvals: the service owner's approval of a time outside the windows, the
/// freeze exceptions asked for and decided, its CAB decisions and conflict flags.
#[utoipa::path(get, path = "/api/v1/changes/{number}/approvals", tag = "changes", params(("number" = String, Path)),
    responses((status = 200, body = Approvals), (status = 404, body = ErrorBody)))]
pub async fn get_approvals(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<Approvals>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        cab::approvals(&state, &who, &number, ctx.locale).await?,
    ))
}

/// Ask for an exception to a freeze the RFC falls in (`not_in_freeze` otherwise).
#[utoipa::path(post, path = "/api/v1/changes/{number}/freeze-exceptions", tag = "changes", params(("number" = String, Path)),
    request_body = ExceptionInput,
    responses((status = 201, body = Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_exception(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<ExceptionInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    let id = freezes::request_exception(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// The service owner (a change manager when no service of the RFC has one) approves its
/// time outside the maintenance windows, before the change (`approval_too_late`).
#[utoipa::path(post, path = "/api/v1/changes/{number}/window-approval", tag = "changes", params(("number" = String, Path)),
    request_body = WindowApprovalInput,
    responses((status = 200, body = Approvals), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn approve_window(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<WindowApprovalInput>,
) -> AppResult<Json<Approvals>> {
    let ApiUser(ctx, who) = api_user;
    cab::approve_window(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok(Json(
        cab::approvals(&state, &who, &number, ctx.locale).await?,
    ))
}

/// Administrators: set (or clear) who owns a service.
#[utoipa::path(put, path = "/api/v1/services/{code}/owner", tag = "organizations", params(("code" = String, Path)),
    request_body = ServiceOwnerInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_service_owner(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<ServiceOwnerInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    cab::set_service_owner(&state, &who, &ctx.actor(), &code, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}
