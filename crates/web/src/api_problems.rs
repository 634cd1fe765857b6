//! Problems, known errors and monthly problem reviews in the JSON API. The work is
//! `crate::problems`' and `crate::problem_reviews`', shared with the pages.
use crate::AppState;
use crate::api::{ApiJson, Created, ErrorBody};
use crate::api_tickets::{attachment_response, read_multipart};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::problem_reviews::{self as reviews, ActionInput, NewReview, ReviewDetail, ReviewPatch};
use crate::problems::{self, NewProblem, ProblemDetail, ProblemPatch, StatusInput, Suggestion};
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use store::problems::{Filter, LinkedItem, ProblemRow, Review};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProblemQuery {
    /// A workflow status (detection … closed, cancelled), or `open`.
    pub status: Option<String>,
    pub organization_id: Option<i64>,
    /// true: known errors only; false: the others.
    pub known_error: Option<bool>,
}

impl ProblemQuery {
    pub fn filter(&self) -> Filter {
        let open = self.status.as_deref() == Some("open");
        Filter {
            status: self.status.clone().filter(|s| s != "open" && !s.is_empty()),
            organization_id: self.organization_id,
            known_error: self.known_error,
            open,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedProblem {
    pub number: String,
}

/// Problems you may see: every one for agents; your organization's for its help desk,
/// LRA and CPC; those you are named on (as its single point of contact) otherwise.
#[utoipa::path(get, path = "/api/v1/problems", tag = "problems", params(ProblemQuery),
    responses((status = 200, body = Vec<ProblemRow>), (status = 422, body = ErrorBody)))]
pub async fn list_problems(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<ProblemQuery>,
) -> AppResult<Json<Vec<ProblemRow>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(problems::list(&state, &who, &q.filter()).await?))
}

/// Agents: log a problem with every required field (422 `missing_fields` names each
/// missing one in `detail.missing`). The partner's single point of contact is mailed.
#[utoipa::path(post, path = "/api/v1/problems", tag = "problems", request_body = NewProblem,
    responses((status = 201, body = CreatedProblem), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_problem(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<NewProblem>,
) -> AppResult<(StatusCode, Json<CreatedProblem>)> {
    let ApiUser(ctx, who) = api_user;
    let number = problems::create(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedProblem { number })))
}

/// One problem: its ticket, record, incidents, configuration items and the moves allowed.
#[utoipa::path(get, path = "/api/v1/problems/{number}", tag = "problems", params(("number" = String, Path)),
    responses((status = 200, body = ProblemDetail), (status = 404, body = ErrorBody)))]
pub async fn get_problem(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<ProblemDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(problems::detail(&state, &who, &number).await?))
}

/// Agents: change the record (root cause, workaround, verification, SPOC, links…).
/// Summary, description, impact, urgency and assignment are the ticket's
/// (`PATCH /api/v1/tickets/{number}`).
#[utoipa::path(patch, path = "/api/v1/problems/{number}", tag = "problems", params(("number" = String, Path)),
    request_body = ProblemPatch,
    responses((status = 200, body = ProblemDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_problem(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(patch): ApiJson<ProblemPatch>,
) -> AppResult<Json<ProblemDetail>> {
    let ApiUser(ctx, who) = api_user;
    problems::update(&state, &who, &ctx.actor(), &number, &patch).await?;
    Ok(Json(problems::detail(&state, &who, &number).await?))
}

/// Agents: move the problem along detection → logging → assignment → investigation →
/// resolution → verification → closed (or cancelled). Closing without a verified
/// resolution is 422 `resolution_not_verified`; another move the workflow does not allow
/// is 422 `invalid_transition`.
#[utoipa::path(post, path = "/api/v1/problems/{number}/status", tag = "problems", params(("number" = String, Path)),
    request_body = StatusInput,
    responses((status = 200, body = ProblemDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_problem_status(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> AppResult<Json<ProblemDetail>> {
    let ApiUser(ctx, who) = api_user;
    problems::set_status(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok(Json(problems::detail(&state, &who, &number).await?))
}

/// The partner's single point of contact acknowledges the closure of a closed problem.
#[utoipa::path(post, path = "/api/v1/problems/{number}/acknowledge-closure", tag = "problems", params(("number" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn acknowledge_closure(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    problems::acknowledge_closure(&state, &who, &ctx.actor(), &number).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Agents: known errors matching an incident (same configuration item or service, similar
/// text), best first, each with its workaround and why it matches.
#[utoipa::path(get, path = "/api/v1/tickets/{number}/known-errors", tag = "problems", params(("number" = String, Path)),
    responses((status = 200, body = Vec<Suggestion>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn known_errors(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<Suggestion>>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        problems::suggestions(&state, &who, &number, ctx.locale).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = ConfigurationItemCode)]
#[serde(deny_unknown_fields)]
pub struct ItemCode {
    /// The configuration item's CMDB code.
    pub code: String,
}

/// The configuration items (from the CMDB) a ticket concerns.
#[utoipa::path(get, path = "/api/v1/tickets/{number}/configuration-items", tag = "problems", params(("number" = String, Path)),
    responses((status = 200, body = Vec<LinkedItem>), (status = 404, body = ErrorBody)))]
pub async fn ticket_items(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<LinkedItem>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(problems::ticket_items(&state, &who, &number).await?))
}

/// Agents: name a configuration item of a ticket by its CMDB code (422
/// `unknown_configuration_item` when the CMDB has no such code).
#[utoipa::path(post, path = "/api/v1/tickets/{number}/configuration-items", tag = "problems", params(("number" = String, Path)),
    request_body = ItemCode,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_ticket_item(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<ItemCode>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    problems::add_ticket_item(&state, &who, &ctx.actor(), &number, &input.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Monthly reviews ------------------------------------------------------------------

/// Monthly problem reviews you may see: all for agents; your organization's otherwise.
#[utoipa::path(get, path = "/api/v1/problem-reviews", tag = "problems",
    responses((status = 200, body = Vec<Review>)))]
pub async fn list_reviews(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<Review>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(reviews::list(&state, &who).await?))
}

/// Agents: a review meeting with a partner for a month (one per partner and month).
#[utoipa::path(post, path = "/api/v1/problem-reviews", tag = "problems", request_body = NewReview,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_review(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<NewReview>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    let id = reviews::create(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A review: its agenda generated from the partner's problems, the files beside it, the
/// minutes and the actions.
#[utoipa::path(get, path = "/api/v1/problem-reviews/{id}", tag = "problems", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewDetail), (status = 404, body = ErrorBody)))]
pub async fn get_review(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ReviewDetail>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(reviews::detail(&state, &who, id).await?))
}

/// Agents: record the minutes or move the meeting.
#[utoipa::path(patch, path = "/api/v1/problem-reviews/{id}", tag = "problems", params(("id" = i64, Path)),
    request_body = ReviewPatch,
    responses((status = 200, body = ReviewDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_review(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(patch): ApiJson<ReviewPatch>,
) -> AppResult<Json<ReviewDetail>> {
    let ApiUser(ctx, who) = api_user;
    reviews::update(&state, &who, &ctx.actor(), id, &patch).await?;
    Ok(Json(reviews::detail(&state, &who, id).await?))
}

/// Agents: an action agreed at the meeting (text, owner, due date).
#[utoipa::path(post, path = "/api/v1/problem-reviews/{id}/actions", tag = "problems", params(("id" = i64, Path)),
    request_body = ActionInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_action(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ActionInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    let action = reviews::add_action(&state, &who, &ctx.actor(), id, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id: action })))
}

/// Agents: change an action or mark it done.
#[utoipa::path(patch, path = "/api/v1/problem-reviews/{id}/actions/{action_id}", tag = "problems",
    params(("id" = i64, Path), ("action_id" = i64, Path)), request_body = ActionInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_action(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((id, action_id)): Path<(i64, i64)>,
    ApiJson(input): ApiJson<ActionInput>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    reviews::update_action(&state, &who, &ctx.actor(), id, action_id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[allow(dead_code)]
#[derive(ToSchema)]
struct ReviewUpload {
    /// One or more files (`file` parts).
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CreatedReviewFiles)]
pub struct CreatedFiles {
    pub ids: Vec<i64>,
}

/// Put files beside the agenda (the partner's own list): agents and the partner's people.
/// The attachment checks apply (type, size, patient information, virus scan).
#[utoipa::path(post, path = "/api/v1/problem-reviews/{id}/files", tag = "problems", params(("id" = i64, Path)),
    request_body(content = ReviewUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = CreatedFiles), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_review_files(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let form = read_multipart(&state, multipart).await?;
    let ids = reviews::upload(&state, &who, &ctx.actor(), id, &form.files).await?;
    Ok((StatusCode::CREATED, Json(CreatedFiles { ids })).into_response())
}

/// Download a file of a review you may see.
#[utoipa::path(get, path = "/api/v1/problem-reviews/{id}/files/{file_id}", tag = "problems",
    params(("id" = i64, Path), ("file_id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn download_review_file(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((id, file_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let ApiUser(_, who) = api_user;
    let (f, bytes) = reviews::file(&state, &who, id, file_id).await?;
    Ok(file_response(&f, bytes))
}

/// A review file as a download, with the same headers as a ticket attachment.
pub fn file_response(f: &store::problems::ReviewFile, bytes: Vec<u8>) -> Response {
    attachment_response(
        &store::tickets::Attachment {
            id: f.id,
            ticket_id: 0,
            event_id: None,
            filename: f.filename.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
            internal: 0,
            uploaded_by: f.uploaded_by,
            created_at: f.created_at.clone(),
        },
        bytes,
    )
}
