//! Change management after approval in the JSON API: the planned-outage notice, the
//! status-page maintenance, the outcome, incidents raised during implementation,
//! partner-reported changes and latent RFCs. The work is `crate::change_implementation`'s
//! and `crate::latent_rfcs`', shared with the pages.
use crate::AppState;
use crate::api::{ApiJson, ErrorBody};
use crate::change_implementation::{
    self as ci, Implementation, MaintenanceFromRfc, MaintenanceMade, OutageNoticeInput,
    OutageNoticeSent, OutcomeInput, OutcomeRecorded, RaisedIncident, RaisedIncidentInput,
    ReportedChange, ReportedChangeInput, ReportedRow,
};
use crate::ctx::ApiUser;
use crate::error::AppResult;
use crate::latent_rfcs::{
    self as latent, EmergencyChangeInput, LatentCreated, LatentFileInput, LatentRow,
};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

/// Agents: where an approved change stands after approval: its planned-outage notice,
/// status-page maintenance, outcome and the incidents raised during implementation.
#[utoipa::path(get, path = "/api/v1/changes/{number}/implementation", tag = "changes", params(("number" = String, Path)),
    responses((status = 200, body = Implementation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_implementation(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<Implementation>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(ci::implementation(&state, &who, &number).await?))
}

/// Agents: send the planned-outage notice of an authorized or scheduled change that
/// affects availability to the organizations live on its services, each address once in
/// its language. Once per change (409 `notice_already_sent`); again only with `resend`
/// after its time changed (409 `notice_time_unchanged`). Not approved: 409
/// `change_not_approved`.
#[utoipa::path(post, path = "/api/v1/changes/{number}/outage-notice", tag = "changes", params(("number" = String, Path)),
    request_body = OutageNoticeInput,
    responses((status = 200, body = OutageNoticeSent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_outage_notice(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<OutageNoticeInput>,
) -> AppResult<Json<OutageNoticeSent>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        ci::send_outage_notice(&state, &who, &ctx.actor(), &number, &input).await?,
    ))
}

/// Agents: create the status-page scheduled maintenance of an authorized or scheduled
/// change that affects availability (components of its services, the outage's window,
/// the summary as title). Once per change (409 `already_published`).
#[utoipa::path(post, path = "/api/v1/changes/{number}/maintenance", tag = "changes", params(("number" = String, Path)),
    request_body = MaintenanceFromRfc,
    responses((status = 201, body = MaintenanceMade), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_maintenance(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<MaintenanceFromRfc>,
) -> AppResult<(StatusCode, Json<MaintenanceMade>)> {
    let ApiUser(ctx, who) = api_user;
    let made = ci::create_maintenance(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Agents: record the implementation's outcome (successful, backed_out, failed; notes
/// required unless successful) of a scheduled change (409 `change_not_scheduled`
/// otherwise): it moves to implemented, the partner's single point of contact and the
/// requester are mailed, its status-page maintenance is completed (cancelled when backed
/// out).
#[utoipa::path(post, path = "/api/v1/changes/{number}/outcome", tag = "changes", params(("number" = String, Path)),
    request_body = OutcomeInput,
    responses((status = 200, body = OutcomeRecorded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_outcome(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<OutcomeInput>,
) -> AppResult<Json<OutcomeRecorded>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        ci::record_outcome(&state, &who, &ctx.actor(), &number, &input).await?,
    ))
}

/// Agents: link an incident raised during the change's implementation (incident →
/// change, `raised_during`); without a number, a new incident is opened from `summary`
/// and `details`.
#[utoipa::path(post, path = "/api/v1/changes/{number}/incidents", tag = "changes", params(("number" = String, Path)),
    request_body = RaisedIncidentInput,
    responses((status = 201, body = RaisedIncident), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn link_incident(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<RaisedIncidentInput>,
) -> AppResult<(StatusCode, Json<RaisedIncident>)> {
    let ApiUser(ctx, who) = api_user;
    let linked = ci::link_incident(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok((StatusCode::CREATED, Json(linked)))
}

/// Partners: report a normal, urgent or emergency change of your own, already
/// implemented. It becomes a change of your organization, implemented and marked
/// partner-reported; the operator's change managers are mailed.
#[utoipa::path(post, path = "/api/v1/changes/reported", tag = "changes",
    request_body = ReportedChangeInput,
    responses((status = 201, body = ReportedChange), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report_change(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<ReportedChangeInput>,
) -> AppResult<(StatusCode, Json<ReportedChange>)> {
    let ApiUser(ctx, who) = api_user;
    let reported = ci::report_change(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(reported)))
}

/// Partner-reported changes: every one for agents, your organization's for partners.
#[utoipa::path(get, path = "/api/v1/changes/reported", tag = "changes",
    responses((status = 200, body = Vec<ReportedRow>)))]
pub async fn reported_changes(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<ReportedRow>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(ci::reported(&state, &who).await?))
}

/// Agents: record on a P1/P2 incident that an emergency repair was done before its RFC.
/// Opens the emergency-repair change, implemented, whose RFC is due within 24 hours.
/// P3/P4: 409 `rfc_first_required` (file an emergency RFC first).
#[utoipa::path(post, path = "/api/v1/tickets/{number}/emergency-change", tag = "changes", params(("number" = String, Path)),
    request_body = EmergencyChangeInput,
    responses((status = 201, body = LatentCreated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_emergency_change(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<EmergencyChangeInput>,
) -> AppResult<(StatusCode, Json<LatentCreated>)> {
    let ApiUser(ctx, who) = api_user;
    let created =
        latent::record_emergency_change(&state, &who, &ctx.actor(), &number, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Agents: file (complete) a latent RFC with every required field (422 `missing_fields`
/// names the missing ones). After its due time a `late_reason` is required (422
/// `late_reason_required`) and the RFC stays on the breach report as filed late.
#[utoipa::path(post, path = "/api/v1/changes/{number}/latent-rfc", tag = "changes", params(("number" = String, Path)),
    request_body = LatentFileInput,
    responses((status = 200, body = LatentRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file_latent(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<LatentFileInput>,
) -> AppResult<Json<LatentRow>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        latent::file(&state, &who, &ctx.actor(), &number, &input).await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LatentQuery {
    /// Repairs done from (a date or an RFC 3339 instant).
    pub from: Option<String>,
    /// Repairs done before.
    pub to: Option<String>,
}

/// Agents: the latent RFC breach report: each latent RFC with its due and filed times and
/// its state (open, overdue, filed_on_time, filed_late), breaches with how late and why.
#[utoipa::path(get, path = "/api/v1/changes/latent", tag = "changes", params(LatentQuery),
    responses((status = 200, body = Vec<LatentRow>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn latent_report(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(q): Query<LatentQuery>,
) -> AppResult<Json<Vec<LatentRow>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(
        latent::report(&state, &who, q.from.as_deref(), q.to.as_deref()).await?,
    ))
}
