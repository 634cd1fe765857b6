//! One-off calendar closures added by administrators ("the office is closed on the day of the
//! move"). They are calendar data kept outside policy pack versions, so that they apply to the
//! clocks of open tickets too, whichever pack version those were opened under. A closure
//! closes one civil date on one calendar, or on every calendar that follows holiday rules
//! (`calendar` absent). Checking a closure against the calendars is the web layer's.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct CalendarClosure {
    pub id: i64,
    /// The date closed, `YYYY-MM-DD`, in the calendar's time zone.
    #[schema(example = "2026-12-31")]
    pub closed_on: String,
    /// The calendar it closes (`business`, `lra-team`…); absent: every calendar that follows
    /// holiday rules.
    pub calendar: Option<String>,
    pub name_en: String,
    pub name_fr: String,
    pub added_at: String,
    pub added_by: String,
}

const COLUMNS: &str = "id, closed_on, calendar, name_en, name_fr, added_at, added_by";

/// A checked closure to store.
pub struct NewClosure<'a> {
    pub closed_on: &'a str,
    pub calendar: Option<&'a str>,
    pub name_en: &'a str,
    pub name_fr: &'a str,
    pub added_by: &'a str,
}

/// Stores a closure. The same date twice for the same calendar (or twice for all) is refused
/// with `closure_exists`.
pub async fn insert(conn: &mut AnyConnection, closure: &NewClosure<'_>) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO calendar_closures (closed_on, calendar, name_en, name_fr, added_at, added_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(closure.closed_on)
    .bind(closure.calendar)
    .bind(closure.name_en)
    .bind(closure.name_fr)
    .bind(now_db())
    .bind(closure.added_by)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("closure_exists"))
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<CalendarClosure> {
    let sql = format!("SELECT {COLUMNS} FROM calendar_closures WHERE id = $1");
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Removes a closure and returns what it was.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> StoreResult<CalendarClosure> {
    let closure = get(conn, id).await?;
    sqlx::query("DELETE FROM calendar_closures WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(closure)
}

/// Every closure, by date (closures for all calendars first on a date).
pub async fn list(conn: &mut AnyConnection) -> StoreResult<Vec<CalendarClosure>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM calendar_closures ORDER BY closed_on, calendar IS NOT NULL, calendar, id"
    );
    Ok(sqlx::query_as(&sql).fetch_all(&mut *conn).await?)
}

/// A cheap fingerprint of the closures: how many there are and the largest id. Ids are never
/// reused, so any addition or removal changes it; caches compare it to know when to read the
/// closures again.
pub async fn version(conn: &mut AnyConnection) -> StoreResult<(i64, i64)> {
    let row: (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM calendar_closures")
            .fetch_one(&mut *conn)
            .await?;
    Ok(row)
}
