//! Change management in the JSON API: RFCs, their workflow, the emergency CAB, the
//! promotion path and standard change templates. The work is `crate::changes`', shared
//! with the pages.
use crate::AppState;
use crate::api::{ApiJson, Created, ErrorBody};
use crate::changes::{
    self, ChangeDetail, ChangeQuery, EcabInput, NewChange, PresenterInput, PromotionInput,
    StatusInput, TemplateInput,
};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use store::changes::{ChangeRow, Template};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CreatedChange {
    pub number: String,
}

/// RFCs you may see: every one for agents; your organization's for a partner's help desk,
/// LRA and CPC (and those you submitted).
#[utoipa::path(get, path = "/api/v1/changes", tag = "changes", params(ChangeQuery),
    responses((status = 200, body = Vec<ChangeRow>), (status = 422, body = ErrorBody)))]
pub async fn list_changes(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<ChangeQuery>,
) -> AppResult<Json<Vec<ChangeRow>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(changes::list(&state, &who, &q).await?))
}

/// Submit an RFC with every required field (422 `missing_fields` names each missing one in
/// `detail.missing`). Agents submit operator RFCs, or partner RFCs for a partner
/// organization; a partner's help desk, LRA and CPC submit their organization's own, with
/// its internal approval and single point of contact. The CAB it goes to, the earliest
/// implementation date and the notice rule are computed and stored.
#[utoipa::path(post, path = "/api/v1/changes", tag = "changes", request_body = NewChange,
    responses((status = 201, body = CreatedChange), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_change(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<NewChange>,
) -> AppResult<(StatusCode, Json<CreatedChange>)> {
    let ApiUser(ctx, who) = api_user;
    let number = changes::create(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedChange { number })))
}

/// One RFC: its ticket and record, services, configuration items, the CAB it goes to, the
/// earliest implementation date and what sets it, the conflict flags with their reasons,
/// the decisions, the promotion path and the moves allowed.
#[utoipa::path(get, path = "/api/v1/changes/{number}", tag = "changes", params(("number" = String, Path)),
    responses((status = 200, body = ChangeDetail), (status = 404, body = ErrorBody)))]
pub async fn get_change(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<ChangeDetail>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        changes::detail(&state, &who, &number, ctx.locale).await?,
    ))
}

/// Move an RFC along submitted → assessed → authorized → scheduled → implemented →
/// reviewed → closed (or cancelled). Change managers assess and schedule; any agent
/// cancels; a partner cancels its own before authorization. Authorization comes from a CAB
/// approval (`cab_approval_required`) or the ECAB (`ecab_approval_required`); scheduling
/// refuses a booking in a freeze, outside a window, before the lead time or notice ends
/// (`change_in_freeze`, `outside_window_without_approval`, `lead_time_not_met`,
/// `notice_not_met`, with the reasons); implementation is recorded with its outcome
/// (`outcome_required`).
#[utoipa::path(post, path = "/api/v1/changes/{number}/status", tag = "changes", params(("number" = String, Path)),
    request_body = StatusInput,
    responses((status = 200, body = ChangeDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_change_status(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> AppResult<Json<ChangeDetail>> {
    let ApiUser(ctx, who) = api_user;
    changes::set_status(&state, &who, &ctx.actor(), &number, &input, ctx.locale).await?;
    Ok(Json(
        changes::detail(&state, &who, &number, ctx.locale).await?,
    ))
}

/// Change managers: the emergency CAB's decision on an urgent operational change or an
/// emergency repair (approved: the RFC is authorized; rejected, with reasons). An
/// operator-initiated urgent operational change only in business hours
/// (`ecab_outside_business_hours`).
#[utoipa::path(post, path = "/api/v1/changes/{number}/ecab", tag = "changes", params(("number" = String, Path)),
    request_body = EcabInput,
    responses((status = 200, body = ChangeDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ecab_decision(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<EcabInput>,
) -> AppResult<Json<ChangeDetail>> {
    let ApiUser(ctx, who) = api_user;
    changes::ecab(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok(Json(
        changes::detail(&state, &who, &number, ctx.locale).await?,
    ))
}

/// Agents: record the operator's service owner or deployment lead who presents the RFC at
/// CAB (a person with an operator role).
#[utoipa::path(put, path = "/api/v1/changes/{number}/presenter", tag = "changes", params(("number" = String, Path)),
    request_body = PresenterInput,
    responses((status = 200, body = ChangeDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_presenter(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<PresenterInput>,
) -> AppResult<Json<ChangeDetail>> {
    let ApiUser(ctx, who) = api_user;
    changes::set_presenter(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok(Json(
        changes::detail(&state, &who, &number, ctx.locale).await?,
    ))
}

/// Agents: one environment's state on the promotion path (development, system_test,
/// pre_production, partner_self_test, production). Out of order: `promotion_out_of_order`;
/// production skipped: `production_required`.
#[utoipa::path(put, path = "/api/v1/changes/{number}/promotion/{environment}", tag = "changes",
    params(("number" = String, Path), ("environment" = String, Path)), request_body = PromotionInput,
    responses((status = 200, body = ChangeDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_promotion(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((number, environment)): Path<(String, String)>,
    ApiJson(input): ApiJson<PromotionInput>,
) -> AppResult<Json<ChangeDetail>> {
    let ApiUser(ctx, who) = api_user;
    changes::set_promotion(&state, &who, &ctx.actor(), &number, &environment, &input).await?;
    Ok(Json(
        changes::detail(&state, &who, &number, ctx.locale).await?,
    ))
}

// ---- Templates --------------------------------------------------------------------------

/// Agents: standard change templates (draft, approved by CAB, retired).
#[utoipa::path(get, path = "/api/v1/change-templates", tag = "changes",
    responses((status = 200, body = Vec<Template>), (status = 403, body = ErrorBody)))]
pub async fn list_templates(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<Template>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(changes::templates(&state, &who).await?))
}

/// Change managers: a new standard change template, in draft until CAB approves it.
#[utoipa::path(post, path = "/api/v1/change-templates", tag = "changes", request_body = TemplateInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_template(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<TemplateInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let ApiUser(ctx, who) = api_user;
    let id = changes::create_template(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Agents: one template.
#[utoipa::path(get, path = "/api/v1/change-templates/{id}", tag = "changes", params(("id" = i64, Path)),
    responses((status = 200, body = Template), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Template>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(changes::template(&state, &who, id).await?))
}

/// Change managers: edit a draft template (`template_not_draft` once approved or retired).
#[utoipa::path(patch, path = "/api/v1/change-templates/{id}", tag = "changes", params(("id" = i64, Path)),
    request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_template(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> AppResult<Json<Template>> {
    let ApiUser(ctx, who) = api_user;
    changes::update_template(&state, &who, &ctx.actor(), id, &input).await?;
    Ok(Json(changes::template(&state, &who, id).await?))
}

/// Change managers: retire a template; no more standard changes are raised from it.
#[utoipa::path(post, path = "/api/v1/change-templates/{id}/retire", tag = "changes", params(("id" = i64, Path)),
    responses((status = 200, body = Template), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retire_template(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Template>> {
    let ApiUser(ctx, who) = api_user;
    changes::retire_template(&state, &who, &ctx.actor(), id).await?;
    Ok(Json(changes::template(&state, &who, id).await?))
}
