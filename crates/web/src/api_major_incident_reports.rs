//! Major incident review reports in the JSON API. The work is
//! `crate::major_incident_reports`'s, shared with the pages.
use crate::AppState;
use crate::api::{ApiJson, ErrorBody};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::major_incident_reports::{
    self as reports, BodyInput, CopyStatus, Printable, Reading, ReportView, ReviewInput,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Operator agents: the report with what still needs redacting and the copy requests.
#[utoipa::path(get, path = "/api/v1/major-incidents/{number}/report/draft", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 200, body = ReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_draft(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<ReportView>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(reports::view(&state, &who, &number).await?))
}

/// Operator agents: draft (again) from the ticket, in the caller's language. 409
/// `report_released` once released.
#[utoipa::path(post, path = "/api/v1/major-incidents/{number}/report/draft", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 200, body = ReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redraft(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<ReportView>> {
    let ApiUser(ctx, who) = api_user;
    reports::draft(&state, &who, &ctx.actor(), &number, ctx.tr().0).await?;
    Ok(Json(reports::view(&state, &who, &number).await?))
}

/// Operator agents: replace the draft's text.
#[utoipa::path(put, path = "/api/v1/major-incidents/{number}/report/draft", tag = "major-incidents",
    params(("number" = String, Path)), request_body = BodyInput,
    responses((status = 200, body = ReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_draft(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<BodyInput>,
) -> AppResult<Json<ReportView>> {
    let ApiUser(ctx, who) = api_user;
    reports::edit(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok(Json(reports::view(&state, &who, &number).await?))
}

/// Operator agents: the redaction pass; IP addresses and host names are replaced by a
/// placeholder in the caller's language.
#[utoipa::path(post, path = "/api/v1/major-incidents/{number}/report/redact", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 200, body = ReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redact(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<ReportView>> {
    let ApiUser(ctx, who) = api_user;
    reports::redact(&state, &who, &ctx.actor(), &number, ctx.tr().0).await?;
    Ok(Json(reports::view(&state, &who, &number).await?))
}

/// Operator agents: record that the review was held (when, who attended).
#[utoipa::path(post, path = "/api/v1/major-incidents/{number}/review", tag = "major-incidents",
    params(("number" = String, Path)), request_body = ReviewInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_review(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    reports::record_review(&state, &who, &ctx.actor(), &number, &input, ctx.tr().0).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Operator agents: release the report. 422 `unredacted_sensitive_data` (with the matches)
/// while an IP address or host name remains, 422 `review_not_held` before the review.
#[utoipa::path(post, path = "/api/v1/major-incidents/{number}/report/release", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn release(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    reports::release(&state, &who, &ctx.actor(), &number).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CopyStanding {
    pub status: CopyStatus,
}

/// People of an affected organization: ask for a copy of the report.
#[utoipa::path(post, path = "/api/v1/major-incidents/{number}/report/requests", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 201, body = CopyStanding), (status = 404, body = ErrorBody)))]
pub async fn request_copy(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<(StatusCode, Json<CopyStanding>)> {
    let ApiUser(ctx, who) = api_user;
    let status = reports::request_copy(&state, &who, &ctx.actor(), &number).await?;
    Ok((StatusCode::CREATED, Json(CopyStanding { status })))
}

/// Operator agents: who asked for a copy.
#[utoipa::path(get, path = "/api/v1/major-incidents/{number}/report/requests", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 200, body = Vec<store::major_incident_reports::CopyRequest>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_requests(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<store::major_incident_reports::CopyRequest>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(reports::view(&state, &who, &number).await?.requests))
}

/// The report: agents always; people of an affected organization once it is released and
/// they asked for it (otherwise 403 `copy_not_available` with their standing). Anyone else
/// 404.
#[utoipa::path(get, path = "/api/v1/major-incidents/{number}/report", tag = "major-incidents",
    params(("number" = String, Path)),
    responses((status = 200, body = Printable), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_report(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Response> {
    let ApiUser(_, who) = api_user;
    match reports::read(&state, &who, &number).await? {
        Reading::Report(report) => Ok(Json(report).into_response()),
        Reading::Partner(standing) => Err(crate::error::AppError::new(
            StatusCode::FORBIDDEN,
            "copy_not_available",
        )
        .with_detail(serde_json::json!({ "status": standing }))),
    }
}
