//! Webhook endpoints: where ticket events are sent as signed JSON. Their deliveries are
//! outbox rows (see `outbox::for_endpoint`).
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    #[serde(serialize_with = "crate::tickets::as_json")]
    #[schema(value_type = Vec<String>)]
    pub event_types: String,
    /// Shown once, when the endpoint is created; left out afterwards.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub secret: String,
    /// Only this organization's tickets; `null`: every organization's.
    pub organization_id: Option<i64>,
    pub active: i64,
    pub created_at: String,
}

impl Endpoint {
    pub fn types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }
    /// The endpoint without its secret, as lists show it.
    pub fn without_secret(mut self) -> Self {
        self.secret.clear();
        self
    }
}

const COLUMNS: &str =
    "id, url, description, event_types, secret, organization_id, active, created_at";

pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a [String],
    pub secret: &'a str,
    pub organization_id: Option<i64>,
    pub created_by: Option<i64>,
}

pub async fn create(conn: &mut AnyConnection, new: &NewEndpoint<'_>) -> StoreResult<i64> {
    let types = serde_json::to_string(new.event_types).expect("strings serialize");
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (url, description, event_types, secret, organization_id, active, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7) RETURNING id",
    )
    .bind(new.url)
    .bind(new.description)
    .bind(types)
    .bind(new.secret)
    .bind(new.organization_id)
    .bind(now_db())
    .bind(new.created_by)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<Endpoint> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Every endpoint, newest first (with secrets: callers strip them).
pub async fn list(conn: &mut AnyConnection) -> StoreResult<Vec<Endpoint>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints ORDER BY id DESC"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// The active endpoints (the event fan-out reads these).
pub async fn active(conn: &mut AnyConnection) -> StoreResult<Vec<Endpoint>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE active = 1 ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// Turns an endpoint off; its queued deliveries are given up. False when unknown.
pub async fn deactivate(conn: &mut AnyConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE webhook_endpoints SET active = 0 WHERE id = $1 AND active = 1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE outbox SET status = 'failed', last_error = 'endpoint turned off', claimed_until = NULL
         WHERE endpoint_id = $1 AND status = 'queued'",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
