//! Mail templates, distribution lists and notices in the JSON API. The work is
//! `crate::notices`', shared with the pages.
use crate::AppState;
use crate::api::{ApiJson, ErrorBody};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::notices::{self, *};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Administrators: every message kind with its variables and its text in use in English
/// and French (version 0 is the shipped text).
#[utoipa::path(get, path = "/api/v1/mail-templates", tag = "mail",
    responses((status = 200, body = Vec<TemplateSummary>), (status = 403, body = ErrorBody)))]
pub async fn list_templates(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<TemplateSummary>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(notices::templates(&state, &who).await?))
}

/// Administrators: one template in one language (`en`, `fr`), every version, newest first.
#[utoipa::path(get, path = "/api/v1/mail-templates/{key}/{locale}", tag = "mail",
    params(("key" = String, Path), ("locale" = String, Path)),
    responses((status = 200, body = TemplateHistory), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((key, locale)): Path<(String, String)>,
) -> AppResult<Json<TemplateHistory>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(notices::template(&state, &who, &key, &locale).await?))
}

/// Administrators: save a new version (minijinja; only the kind's variables). Refused
/// with `template_invalid` (and the line) when it does not parse or uses another variable.
#[utoipa::path(put, path = "/api/v1/mail-templates/{key}/{locale}", tag = "mail",
    params(("key" = String, Path), ("locale" = String, Path)), request_body = TemplateInput,
    responses((status = 200, body = TemplateVersion), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn save_template(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((key, locale)): Path<(String, String)>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> AppResult<Json<TemplateVersion>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        notices::save_template(&state, &who, &ctx.actor(), &key, &locale, &input).await?,
    ))
}

/// Administrators: what a draft gives with example values, without saving it.
#[utoipa::path(post, path = "/api/v1/mail-templates/{key}/{locale}/preview", tag = "mail",
    params(("key" = String, Path), ("locale" = String, Path)), request_body = TemplateInput,
    responses((status = 200, body = Preview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_template(
    api_user: ApiUser,
    Path((key, _locale)): Path<(String, String)>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> AppResult<Json<Preview>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(notices::preview(&who, &key, &input)?))
}

/// Agents: the distribution lists, with how many each reaches.
#[utoipa::path(get, path = "/api/v1/lists", tag = "mail",
    responses((status = 200, body = Vec<ListSummary>), (status = 403, body = ErrorBody)))]
pub async fn list_lists(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<ListSummary>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(notices::lists(&state, &who).await?))
}

/// Administrators: create a list: per service, per contact role, or custom.
#[utoipa::path(post, path = "/api/v1/lists", tag = "mail", request_body = ListInput,
    responses((status = 201, body = store::lists::List), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_list(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<ListInput>,
) -> AppResult<(StatusCode, Json<store::lists::List>)> {
    let ApiUser(ctx, who) = api_user;
    let list = notices::create_list(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// Agents: a list, its member rows, everyone it reaches now and the notices sent to it.
#[utoipa::path(get, path = "/api/v1/lists/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = ListDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_list(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ListDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(notices::list(&state, &who, id).await?))
}

/// Agents: add members by address or organization.
#[utoipa::path(post, path = "/api/v1/lists/{id}/members", tag = "mail", params(("id" = i64, Path)), request_body = MembersInput,
    responses((status = 200, body = Added), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<MembersInput>,
) -> AppResult<Json<Added>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        notices::add_members(&state, &who, &ctx.actor(), id, &input).await?,
    ))
}

/// The caller asks to leave a list they receive. They keep receiving until the desk
/// confirms.
#[utoipa::path(post, path = "/api/v1/lists/{id}/removal-request", tag = "mail", params(("id" = i64, Path)), request_body = RemovalInput,
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_removal(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<RemovalInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    notices::request_removal(&state, &who, &ctx.actor(), id, &input).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Agents: confirm a removal request (the member is removed for good and told).
#[utoipa::path(post, path = "/api/v1/lists/{id}/members/{member}/confirm-removal", tag = "mail",
    params(("id" = i64, Path), ("member" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn confirm_removal(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((id, member)): Path<(i64, i64)>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    notices::decide_removal(&state, &who, &ctx.actor(), id, member, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Agents: decline a removal request (the member stays).
#[utoipa::path(post, path = "/api/v1/lists/{id}/members/{member}/decline-removal", tag = "mail",
    params(("id" = i64, Path), ("member" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decline_removal(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((id, member)): Path<(i64, i64)>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    notices::decide_removal(&state, &who, &ctx.actor(), id, member, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The lists the caller receives, and those they asked to leave.
#[utoipa::path(get, path = "/api/v1/me/lists", tag = "mail",
    responses((status = 200, body = Vec<MyList>)))]
pub async fn my_lists(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<MyList>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(notices::my_lists(&state, &who).await?))
}

/// Agents: send a notice (English and French) to lists. Each address gets one message in
/// its language, or both when unknown; all are queued at once.
#[utoipa::path(post, path = "/api/v1/notices", tag = "mail", request_body = NoticeInput,
    responses((status = 201, body = NoticeSent), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_notice(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<NoticeInput>,
) -> AppResult<(StatusCode, Json<NoticeSent>)> {
    let ApiUser(ctx, who) = api_user;
    let sent = notices::send_notice(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

/// Agents: a notice and how its messages stand.
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = NoticeDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_notice(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<NoticeDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(notices::notice(&state, &who, id).await?))
}
