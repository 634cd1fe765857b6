//! Problem proposals in the JSON API. The work is `crate::problem_trends`'s, shared with the
//! console page.
use crate::AppState;
use crate::api::{ApiJson, ErrorBody};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::problem_trends::{self as trends, Accepted, ProposalView, RunReport, TrendSettings};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProposalQuery {
    /// proposed, accepted, dismissed or all (the default).
    pub status: Option<String>,
}

/// Operator agents: problems proposed from trends of incidents, with the reason in the
/// caller's language and the incidents attached; newest first.
#[utoipa::path(get, path = "/api/v1/problem-proposals", tag = "problems", params(ProposalQuery),
    responses((status = 200, body = Vec<ProposalView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_proposals(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(query): Query<ProposalQuery>,
) -> AppResult<Json<Vec<ProposalView>>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        trends::list(&state, &who, query.status.as_deref(), ctx.tr().0).await?,
    ))
}

/// Operator agents: accept a proposal; a problem ticket is raised with every incident linked
/// to it (`caused_by`). 409 `proposal_decided` when it was accepted or dismissed already.
#[utoipa::path(post, path = "/api/v1/problem-proposals/{id}/accept", tag = "problems", params(("id" = i64, Path)),
    responses((status = 201, body = Accepted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_proposal(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<Accepted>)> {
    let ApiUser(ctx, who) = api_user;
    let accepted = trends::accept(&state, &who, &ctx.actor(), id).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

/// Operator agents: dismiss a proposal; the same incidents are not proposed again on the
/// same configuration item, site, environment or service.
#[utoipa::path(post, path = "/api/v1/problem-proposals/{id}/dismiss", tag = "problems", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn dismiss_proposal(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    trends::dismiss(&state, &who, &ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Administrators: run detection now (it also runs on its own schedule).
#[utoipa::path(post, path = "/api/v1/problem-proposals/run", tag = "problems",
    responses((status = 200, body = RunReport), (status = 403, body = ErrorBody)))]
pub async fn run_detection(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<RunReport>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(trends::run_now(&state, &who, &ctx.actor()).await?))
}

/// Operator agents: the detection thresholds and schedule in force.
#[utoipa::path(get, path = "/api/v1/problem-proposals/settings", tag = "problems",
    responses((status = 200, body = TrendSettings), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<TrendSettings>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(trends::settings(&state, &who).await?))
}

/// Administrators: change the thresholds and schedule (omitted fields take their defaults).
#[utoipa::path(put, path = "/api/v1/problem-proposals/settings", tag = "problems", request_body = TrendSettings,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<TrendSettings>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    trends::save_settings(&state, &who, &ctx.actor(), &input).await?;
    Ok(StatusCode::NO_CONTENT)
}
