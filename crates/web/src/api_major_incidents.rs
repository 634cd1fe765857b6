//! Major incidents in the JSON API. The work is `crate::major_incidents`'s, shared with the
//! pages.
use crate::AppState;
use crate::api::{ApiJson, ErrorBody};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::major_incidents::{self as mi, DeclareInput, MajorIncidentDetail, NoticeInput};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use store::major_incidents::{MajorIncident, Notice};

/// Operator agents: declare an incident (P1/P2, Sev 1/2) a major incident: coordinator,
/// bridge, engaged contacts, the service-interruption notice, and optionally the
/// status-page incident and login banner in the same step. Refused: 422
/// `not_major_priority` (P3/P4), `not_an_incident`; 409 `ticket_closed`,
/// `already_declared`.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/major-incident", tag = "major-incidents",
    params(("number" = String, Path)), request_body = DeclareInput,
    responses((status = 201, body = MajorIncidentDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn declare(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<DeclareInput>,
) -> AppResult<(StatusCode, Json<MajorIncidentDetail>)> {
    let ApiUser(ctx, who) = api_user;
    let detail = mi::declare(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Operator agents: send a notice of the plan now (`declaration`, `+1h`, `update:3`,
/// `resolution`…), early or late, with the draft's text or the given one. 409
/// `notice_already_sent`; 422 `unknown_notice` for a key the plan does not list as due or
/// next.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/major-incident/notices/{key}", tag = "major-incidents",
    params(("number" = String, Path), ("key" = String, Path)), request_body = NoticeInput,
    responses((status = 201, body = Notice), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_notice(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((number, key)): Path<(String, String)>,
    ApiJson(input): ApiJson<NoticeInput>,
) -> AppResult<(StatusCode, Json<Notice>)> {
    let ApiUser(ctx, who) = api_user;
    let notice = mi::send_notice(&state, &who, &ctx.actor(), &number, &key, &input).await?;
    Ok((StatusCode::CREATED, Json(notice)))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoSendInput {
    /// Drafted notices go out by themselves when due.
    pub auto_send: bool,
}

/// Operator agents: turn the automatic sending of due notices on or off.
#[utoipa::path(put, path = "/api/v1/tickets/{number}/major-incident/auto-send", tag = "major-incidents",
    params(("number" = String, Path)), request_body = AutoSendInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_auto_send(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<AutoSendInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    mi::set_auto_send(&state, &who, &ctx.actor(), &number, input.auto_send).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Operator agents: every major incident, open ones first.
#[utoipa::path(get, path = "/api/v1/major-incidents", tag = "major-incidents",
    responses((status = 200, body = Vec<MajorIncident>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<MajorIncident>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(mi::list(&state, &who).await?))
}

/// Operator agents: one major incident: who is engaged, the notices sent, those due and
/// the next with their drafts, and the ticket's timeline.
#[utoipa::path(get, path = "/api/v1/major-incidents/{number}", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 200, body = MajorIncidentDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<MajorIncidentDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(mi::detail(&state, &who, &number).await?))
}
