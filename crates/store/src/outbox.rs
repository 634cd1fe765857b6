//! Outgoing mail, stored as complete RFC 5322 messages. The notifications issue adds the
//! sender that delivers them; until then the admin area lists them.
use crate::error::StoreResult;
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: String,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub message: String,
    pub status: String,
}

/// A message ready for the outbox.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub message: String,
}

pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: &str,
    to: &str,
    subject: &str,
    message: &str,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (created_at, kind, to_address, subject, message, status) VALUES ($1, $2, $3, $4, $5, 'stored') RETURNING id",
    )
    .bind(now_db())
    .bind(kind)
    .bind(to)
    .bind(subject)
    .bind(message)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn list(
    conn: &mut AnyConnection,
    to: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<OutboxMessage>> {
    Ok(sqlx::query_as(
        "SELECT id, created_at, kind, to_address, subject, message, status FROM outbox
         WHERE ($1 IS NULL OR to_address = $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(to)
    .bind(limit.clamp(1, 500))
    .fetch_all(&mut *conn)
    .await?)
}
