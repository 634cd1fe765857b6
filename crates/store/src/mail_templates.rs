//! Saved versions of mail templates. Version 0 of each template is the shipped text (in
//! `domain::mail_template`); what is stored here are the administrators' edits, each a new
//! version, never changed afterwards.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Version {
    pub key: String,
    pub locale: String,
    pub version: i64,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    /// Who saved it (`null` for the shipped version 0).
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
}

const SELECT: &str = "SELECT m.key, m.locale, m.version, m.subject, m.body, m.created_at, m.created_by, p.display_name AS created_by_name
     FROM mail_templates m LEFT JOIN people p ON p.id = m.created_by";

/// The version in use of every edited template (the highest of each key and language).
pub async fn current(conn: &mut AnyConnection) -> StoreResult<Vec<Version>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE m.version = (SELECT MAX(v.version) FROM mail_templates v
                                     WHERE v.key = m.key AND v.locale = m.locale)
         ORDER BY m.key, m.locale"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// Every saved version of one template, newest first.
pub async fn history(
    conn: &mut AnyConnection,
    key: &str,
    locale: &str,
) -> StoreResult<Vec<Version>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE m.key = $1 AND m.locale = $2 ORDER BY m.version DESC"
    ))
    .bind(key)
    .bind(locale)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(
    conn: &mut AnyConnection,
    key: &str,
    locale: &str,
    version: i64,
) -> StoreResult<Version> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE m.key = $1 AND m.locale = $2 AND m.version = $3"
    ))
    .bind(key)
    .bind(locale)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Saves a new version (one more than the highest) and returns its number. Two
/// administrators saving at once: the second gets `template_changed` and saves again.
pub async fn save(
    conn: &mut AnyConnection,
    key: &str,
    locale: &str,
    subject: &str,
    body: &str,
    by: Option<i64>,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO mail_templates (key, locale, version, subject, body, created_at, created_by)
         SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5, $6
           FROM mail_templates WHERE key = $1 AND locale = $2
         RETURNING version",
    )
    .bind(key)
    .bind(locale)
    .bind(subject)
    .bind(body)
    .bind(now_db())
    .bind(by)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("template_changed"))
}
