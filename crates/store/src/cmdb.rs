//! Configuration items and their relations. Values are checked in `domain::cmdb` first.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Item {
    pub id: i64,
    pub code: String,
    /// application, interface, network_connection, certificate, environment, site, server.
    pub kind: String,
    pub name_en: String,
    pub name_fr: String,
    pub description: String,
    pub service_id: Option<i64>,
    pub owner_organization_id: Option<i64>,
    pub environment: Option<String>,
    pub site: Option<String>,
    /// active or retired.
    pub status: String,
    /// A certificate's expiry (RFC 3339).
    pub expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, code, kind, name_en, name_fr, description, service_id,
     owner_organization_id, environment, site, status, expires_at, created_at, updated_at";

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct RelationRow {
    pub from_id: i64,
    pub to_id: i64,
    /// depends_on, runs_on, connects_to or part_of: "from needs to".
    pub kind: String,
}

pub struct Fields<'a> {
    pub code: &'a str,
    pub kind: &'a str,
    pub name_en: &'a str,
    pub name_fr: &'a str,
    pub description: &'a str,
    pub service_id: Option<i64>,
    pub owner_organization_id: Option<i64>,
    pub environment: Option<&'a str>,
    pub site: Option<&'a str>,
    pub status: &'a str,
    pub expires_at: Option<&'a str>,
}

pub async fn list(conn: &mut AnyConnection) -> StoreResult<Vec<Item>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM configuration_items ORDER BY code"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<Item> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM configuration_items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn insert(conn: &mut AnyConnection, f: &Fields<'_>) -> StoreResult<i64> {
    let now = now_db();
    sqlx::query_scalar(
        "INSERT INTO configuration_items (code, kind, name_en, name_fr, description, service_id,
             owner_organization_id, environment, site, status, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(f.code)
    .bind(f.kind)
    .bind(f.name_en)
    .bind(f.name_fr)
    .bind(f.description)
    .bind(f.service_id)
    .bind(f.owner_organization_id)
    .bind(f.environment)
    .bind(f.site)
    .bind(f.status)
    .bind(f.expires_at)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("duplicate_code"))
}

pub async fn update(conn: &mut AnyConnection, id: i64, f: &Fields<'_>) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE configuration_items SET code = $1, kind = $2, name_en = $3, name_fr = $4,
             description = $5, service_id = $6, owner_organization_id = $7, environment = $8,
             site = $9, status = $10, expires_at = $11, updated_at = $12
         WHERE id = $13",
    )
    .bind(f.code)
    .bind(f.kind)
    .bind(f.name_en)
    .bind(f.name_fr)
    .bind(f.description)
    .bind(f.service_id)
    .bind(f.owner_organization_id)
    .bind(f.environment)
    .bind(f.site)
    .bind(f.status)
    .bind(f.expires_at)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::unique_as("duplicate_code"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn relations(conn: &mut AnyConnection) -> StoreResult<Vec<RelationRow>> {
    Ok(sqlx::query_as(
        "SELECT from_id, to_id, kind FROM configuration_item_relations ORDER BY from_id, to_id, kind",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Adds a relation; false when it was already there.
pub async fn add_relation(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
    kind: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO configuration_item_relations (from_id, to_id, kind, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (from_id, to_id, kind) DO NOTHING",
    )
    .bind(from)
    .bind(to)
    .bind(kind)
    .bind(now_db())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn remove_relation(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
    kind: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM configuration_item_relations WHERE from_id = $1 AND to_id = $2 AND kind = $3",
    )
    .bind(from)
    .bind(to)
    .bind(kind)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
