//! Values the installation keeps for itself in the `settings` table.
use crate::error::StoreResult;
use sqlx::AnyConnection;

/// The value under `key`, created with `make` the first time. Nodes starting together
/// agree on one value: the first insert wins and everyone reads it back.
pub async fn get_or_create(
    conn: &mut AnyConnection,
    key: &str,
    make: impl FnOnce() -> String,
) -> StoreResult<String> {
    if let Some(value) = get(conn, key).await? {
        return Ok(value);
    }
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(make())
        .execute(&mut *conn)
        .await?;
    get(conn, key)
        .await?
        .ok_or(crate::error::StoreError::NotFound)
}

async fn get(conn: &mut AnyConnection, key: &str) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?,
    )
}
