//! Configuration items in the JSON API. The work is `crate::cmdb`'s, shared with the pages.
use crate::AppState;
use crate::api::{ApiJson, Created, ErrorBody};
use crate::cmdb::{self, ItemDetail, ItemInput, RelationInput};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Agents: every configuration item, by code.
#[utoipa::path(get, path = "/api/v1/configuration-items", tag = "cmdb",
    responses((status = 200, body = Vec<store::cmdb::Item>), (status = 403, body = ErrorBody)))]
pub async fn list_items(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<store::cmdb::Item>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(cmdb::list(&state, &who).await?))
}

/// Catalogue editors: add a configuration item.
#[utoipa::path(post, path = "/api/v1/configuration-items", tag = "cmdb", request_body = ItemInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_item(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<ItemInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    let id = cmdb::create(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Agents: one item, what it needs, what needs it, and what an outage of it reaches.
#[utoipa::path(get, path = "/api/v1/configuration-items/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_item(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ItemDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(cmdb::detail(&state, &who, id).await?))
}

/// Catalogue editors: change an item (retire it with `status: retired`).
#[utoipa::path(put, path = "/api/v1/configuration-items/{id}", tag = "cmdb", params(("id" = i64, Path)),
    request_body = ItemInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_item(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ItemInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    cmdb::update(&state, &who, &ctx.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Catalogue editors: record that this item needs another (refused when it would close a
/// loop: 422 `relation_cycle`).
#[utoipa::path(post, path = "/api/v1/configuration-items/{id}/relations", tag = "cmdb", params(("id" = i64, Path)),
    request_body = RelationInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_relation(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<RelationInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    cmdb::relate(&state, &who, &ctx.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Catalogue editors: remove a relation.
#[utoipa::path(post, path = "/api/v1/configuration-items/{id}/relations/remove", tag = "cmdb", params(("id" = i64, Path)),
    request_body = RelationInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_relation(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<RelationInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    cmdb::unrelate(&state, &who, &ctx.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}
