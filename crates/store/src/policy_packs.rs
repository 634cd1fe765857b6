//! Stored policy packs. The text of each loaded file is kept as it was loaded, under its
//! code and version; tickets point at the version they were opened under. Parsing and
//! checking the text is the domain's (`domain::policy_pack`).
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct StoredPack {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub name_en: String,
    pub name_fr: String,
    #[serde(skip)]
    pub source: String,
    pub loaded_at: String,
    pub loaded_by: String,
}

const COLUMNS: &str = "id, code, version, name_en, name_fr, source, loaded_at, loaded_by";

/// What a checked pack file gives the store.
pub struct NewPack<'a> {
    pub code: &'a str,
    pub version: i64,
    pub name_en: &'a str,
    pub name_fr: &'a str,
    pub source: &'a str,
    pub loaded_by: &'a str,
}

/// Stores a pack version. A code and version are loaded once: loading the same again is
/// refused with `version_exists` (raise the version in the file).
pub async fn insert(conn: &mut AnyConnection, pack: &NewPack<'_>) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO policy_packs (code, version, name_en, name_fr, source, loaded_at, loaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(pack.code)
    .bind(pack.version)
    .bind(pack.name_en)
    .bind(pack.name_fr)
    .bind(pack.source)
    .bind(now_db())
    .bind(pack.loaded_by)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("version_exists"))
}

/// Makes `pack_id` the pack new tickets are opened under.
pub async fn select(conn: &mut AnyConnection, pack_id: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO policy_selection (id, pack_id) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET pack_id = excluded.pack_id",
    )
    .bind(pack_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The pack new tickets are opened under, if one was loaded.
pub async fn selected(conn: &mut AnyConnection) -> StoreResult<Option<StoredPack>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM policy_packs WHERE id = (SELECT pack_id FROM policy_selection WHERE id = 1)"
    );
    Ok(sqlx::query_as(&sql).fetch_optional(&mut *conn).await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<StoredPack> {
    let sql = format!("SELECT {COLUMNS} FROM policy_packs WHERE id = $1");
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Every loaded version, newest first within each code.
pub async fn list(conn: &mut AnyConnection) -> StoreResult<Vec<StoredPack>> {
    let sql = format!("SELECT {COLUMNS} FROM policy_packs ORDER BY code, version DESC");
    Ok(sqlx::query_as(&sql).fetch_all(&mut *conn).await?)
}
