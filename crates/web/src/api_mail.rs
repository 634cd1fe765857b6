//! Mail and webhooks in the JSON API: the mail gateway's entry point, the agents' view of
//! what arrived (with their decisions on held and quarantined messages), and the
//! administrators' webhook endpoints.
use crate::AppState;
use crate::api::{ApiJson, ErrorBody};
use crate::ctx::ApiUser;
use crate::error::{AppError, AppResult};
use crate::inbound::{self, ReleaseInput, Source, Taken};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use store::inbound::InboundMessage;
use utoipa::IntoParams;

/// The header a mail gateway authenticates with (the `inbound_token` setting).
pub const TOKEN_HEADER: &str = "x-inbound-token";

/// A mail gateway hands over one received message, raw (RFC 5322, as it arrived), with
/// the `X-Inbound-Token` header set to the `inbound_token` setting. The answer says what
/// became of it; the same Message-ID sent again is answered with `duplicate: true`.
#[utoipa::path(post, path = "/api/v1/inbound/email", tag = "mail", security(()),
    request_body(content = String, content_type = "message/rfc822"),
    params(("X-Inbound-Token" = String, Header, description = "the inbound_token setting")),
    responses((status = 200, body = Taken), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn receive_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Taken>> {
    let Some(expected) = &state.settings.inbound_token else {
        return Err(AppError::new(StatusCode::NOT_FOUND, "inbound_disabled"));
    };
    let given = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if !crate::csrf::same(given, expected) {
        return Err(AppError::new(StatusCode::UNAUTHORIZED, "invalid_token"));
    }
    let limit = state.settings.inbound_max_bytes;
    let raw = axum::body::to_bytes(body, limit + 1)
        .await
        .map_err(|_| AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "message_too_large"))?;
    Ok(Json(inbound::ingest(&state, &raw, Source::Api).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboundQuery {
    /// `waiting` (held or quarantined), `held`, `quarantined`, `ticket`, `comment`,
    /// `ignored` or `discarded`. Default: all, newest first.
    pub status: Option<String>,
}

/// Agents: the 200 latest messages the desk received.
#[utoipa::path(get, path = "/api/v1/inbound", tag = "mail", params(InboundQuery),
    responses((status = 200, body = Vec<InboundMessage>), (status = 403, body = ErrorBody)))]
pub async fn list_inbound(
    State(state): State<AppState>,
    api_user: ApiUser,
    Query(query): Query<InboundQuery>,
) -> AppResult<Json<Vec<InboundMessage>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(
        inbound::list(&state, &who, query.status.as_deref()).await?,
    ))
}

/// Agents: one received message. Reading a quarantined one is audited.
#[utoipa::path(get, path = "/api/v1/inbound/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = InboundMessage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_inbound(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<InboundMessage>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(inbound::read(&state, &who, id).await?))
}

/// Agents: file a held message for a person (`person`, default its sender), or release a
/// quarantined one with its patient information removed (`subject`, `body`).
#[utoipa::path(post, path = "/api/v1/inbound/{id}/release", tag = "mail", params(("id" = i64, Path)),
    request_body = ReleaseInput,
    responses((status = 200, body = Taken), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn release_inbound(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> AppResult<Json<Taken>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(inbound::release(&state, &who, id, &input).await?))
}

/// Agents: throw a held or quarantined message away (its text is not kept).
#[utoipa::path(post, path = "/api/v1/inbound/{id}/discard", tag = "mail", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn discard_inbound(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(_, who) = api_user;
    inbound::discard(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- webhooks ----------

/// Administrators: the webhook endpoints (secrets are not shown again).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "mail",
    responses((status = 200, body = Vec<store::webhooks::Endpoint>), (status = 403, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<store::webhooks::Endpoint>>> {
    let ApiUser(_, who) = api_user;
    Ok(Json(crate::webhooks::list(&state, &who).await?))
}

/// Administrators: register an endpoint. The answer carries its signing secret
/// (`whsec_…`), shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "mail", request_body = crate::webhooks::EndpointInput,
    responses((status = 201, body = store::webhooks::Endpoint), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(input): ApiJson<crate::webhooks::EndpointInput>,
) -> AppResult<(StatusCode, Json<store::webhooks::Endpoint>)> {
    let ApiUser(ctx, who) = api_user;
    let endpoint = crate::webhooks::create(&state, &who, &ctx.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(endpoint)))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookWithLog {
    pub endpoint: store::webhooks::Endpoint,
    /// Its latest 100 deliveries, newest first: state, attempts, last error.
    pub deliveries: Vec<store::outbox::OutboxMessage>,
}

/// Administrators: one endpoint and its delivery log.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookWithLog), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<Json<WebhookWithLog>> {
    let ApiUser(_, who) = api_user;
    let (endpoint, deliveries) = crate::webhooks::show(&state, &who, id).await?;
    Ok(Json(WebhookWithLog {
        endpoint,
        deliveries,
    }))
}

/// Administrators: turn an endpoint off (what was queued for it is given up).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    crate::webhooks::deactivate(&state, &who, &ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Administrators: queue a `webhook.test` delivery to the endpoint.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "mail", params(("id" = i64, Path)),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn test_webhook(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(_, who) = api_user;
    crate::webhooks::send_test(&state, &who, id).await?;
    Ok(StatusCode::ACCEPTED)
}
