//! What the change calendar shows besides the pack's windows: the approved and pending
//! changes and the freezes in a period, optionally for one service. Times are the stored
//! text (`domain::time::to_db`), which orders like the instants it holds.
use crate::error::StoreResult;
use sqlx::{AnyConnection, FromRow};

/// Most changes or freezes one calendar period lists.
pub const MAX_ROWS: i64 = 2000;

/// A change as the calendar shows it: scheduled times when it has them, else requested.
#[derive(Debug, Clone, FromRow)]
pub struct CalendarChange {
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub change_type: String,
    pub status: String,
    pub starts_at: String,
    pub ends_at: String,
    pub organization_name_en: String,
    pub organization_name_fr: String,
}

/// A freeze (operator's or a partner's) that is not cancelled.
#[derive(Debug, Clone, FromRow)]
pub struct CalendarFreeze {
    pub id: i64,
    pub name: String,
    pub reason: String,
    pub starts_at: String,
    pub ends_at: String,
    pub organization_name_en: Option<String>,
    pub organization_name_fr: Option<String>,
}

const SERVICE_FILTER: &str =
    "($3 = '' OR EXISTS (SELECT 1 FROM {link} l JOIN services s ON s.id = l.service_id
     WHERE l.{key} = {owner} AND s.code = $3))";

fn service_filter(link: &str, key: &str, owner: &str) -> String {
    SERVICE_FILTER
        .replace("{link}", link)
        .replace("{key}", key)
        .replace("{owner}", owner)
}

/// Changes overlapping `[from, to)` that are neither rejected nor cancelled, for `service`
/// (a code; empty: every service), in order of start.
pub async fn changes_between(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
    service: &str,
) -> StoreResult<Vec<CalendarChange>> {
    let sql = format!(
        "SELECT t.id AS ticket_id, t.number, t.summary, c.change_type, c.status,
                COALESCE(c.scheduled_start, c.requested_start) AS starts_at,
                COALESCE(c.scheduled_end, c.requested_end) AS ends_at,
                o.name_en AS organization_name_en, o.name_fr AS organization_name_fr
         FROM change_requests c
         JOIN tickets t ON t.id = c.ticket_id
         JOIN organizations o ON o.id = t.organization_id
         WHERE c.status NOT IN ('rejected', 'cancelled')
           AND COALESCE(c.scheduled_start, c.requested_start) < $2
           AND COALESCE(c.scheduled_end, c.requested_end) > $1
           AND {}
         ORDER BY starts_at, t.number
         LIMIT {MAX_ROWS}",
        service_filter("change_services", "ticket_id", "c.ticket_id")
    );
    Ok(sqlx::query_as(&sql)
        .bind(from)
        .bind(to)
        .bind(service)
        .fetch_all(&mut *conn)
        .await?)
}

/// Freezes overlapping `[from, to)`, not cancelled, covering `service` (a freeze without
/// services covers every one; empty `service`: all freezes), in order of start.
pub async fn freezes_between(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
    service: &str,
) -> StoreResult<Vec<CalendarFreeze>> {
    let sql = format!(
        "SELECT f.id, f.name, f.reason, f.starts_at, f.ends_at,
                o.name_en AS organization_name_en, o.name_fr AS organization_name_fr
         FROM change_freezes f
         LEFT JOIN organizations o ON o.id = f.organization_id
         WHERE f.cancelled_at IS NULL AND f.starts_at < $2 AND f.ends_at > $1
           AND ({} OR NOT EXISTS (SELECT 1 FROM change_freeze_services fs WHERE fs.freeze_id = f.id))
         ORDER BY f.starts_at, f.id
         LIMIT {MAX_ROWS}",
        service_filter("change_freeze_services", "freeze_id", "f.id")
    );
    Ok(sqlx::query_as(&sql)
        .bind(from)
        .bind(to)
        .bind(service)
        .fetch_all(&mut *conn)
        .await?)
}
