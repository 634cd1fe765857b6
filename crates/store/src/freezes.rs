//! Change freezes (declared by the operator or announced by a partner), the services each
//! covers, and the exceptions RFCs ask for. Values are checked in
//! `domain::change_schedule::ChangePolicy::check_freeze` first.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// A freeze.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ChangeFreeze)]
pub struct Freeze {
    pub id: i64,
    pub name: String,
    pub reason: String,
    pub starts_at: String,
    pub ends_at: String,
    pub announced_at: String,
    /// The partner that announced it; none: the operator's.
    pub organization_id: Option<i64>,
    pub organization_code: Option<String>,
    pub exception_procedure: String,
    pub declared_by: Option<i64>,
    pub declared_by_name: Option<String>,
    pub cancelled_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Service codes it covers, comma-separated; empty: every service.
    #[sqlx(skip)]
    pub services: Vec<String>,
}

const COLUMNS: &str = "f.id, f.name, f.reason, f.starts_at, f.ends_at, f.announced_at,
    f.organization_id, o.code AS organization_code, f.exception_procedure, f.declared_by,
    p.display_name AS declared_by_name, f.cancelled_at, f.created_at, f.updated_at";
const FROM: &str = "change_freezes f LEFT JOIN organizations o ON o.id = f.organization_id
    LEFT JOIN people p ON p.id = f.declared_by";

/// Who may see which freezes: everyone sees the operator's; a partner also its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visible {
    All,
    /// The operator's and this organization's.
    OperatorAnd(i64),
}

impl Visible {
    /// The WHERE condition, with the organization bound as parameter `$n`.
    fn clause(self, n: usize) -> (String, Option<i64>) {
        match self {
            Visible::All => ("1 = 1".into(), None),
            Visible::OperatorAnd(org) => (
                format!("(f.organization_id IS NULL OR f.organization_id = ${n})"),
                Some(org),
            ),
        }
    }
}

async fn with_services(
    conn: &mut AnyConnection,
    mut list: Vec<Freeze>,
) -> StoreResult<Vec<Freeze>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT fs.freeze_id, s.code FROM change_freeze_services fs
           JOIN services s ON s.id = fs.service_id ORDER BY s.code",
    )
    .fetch_all(&mut *conn)
    .await?;
    for freeze in &mut list {
        freeze.services = rows
            .iter()
            .filter(|(id, _)| *id == freeze.id)
            .map(|(_, code)| code.clone())
            .collect();
    }
    Ok(list)
}

/// Freezes visible to the caller that end after `ends_after` (RFC 3339 UTC text), cancelled
/// ones included when asked, by start.
pub async fn list(
    conn: &mut AnyConnection,
    visible: Visible,
    ends_after: &str,
    include_cancelled: bool,
) -> StoreResult<Vec<Freeze>> {
    let (clause, org) = visible.clause(2);
    let cancelled = if include_cancelled {
        ""
    } else {
        " AND f.cancelled_at IS NULL"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE f.ends_at > $1 AND {clause} {cancelled}
          ORDER BY f.starts_at, f.id",
    );
    let mut query = sqlx::query_as(&sql).bind(ends_after);
    if let Some(org) = org {
        query = query.bind(org);
    }
    let list = query.fetch_all(&mut *conn).await?;
    with_services(conn, list).await
}

/// One freeze, if visible.
pub async fn get(conn: &mut AnyConnection, visible: Visible, id: i64) -> StoreResult<Freeze> {
    let (clause, org) = visible.clause(2);
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE f.id = $1 AND {clause}",);
    let mut query = sqlx::query_as(&sql).bind(id);
    if let Some(org) = org {
        query = query.bind(org);
    }
    let freeze: Freeze = query
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(with_services(conn, vec![freeze]).await?.remove(0))
}

/// What a new freeze says.
pub struct NewFreeze<'a> {
    pub name: &'a str,
    pub reason: &'a str,
    pub starts_at: &'a str,
    pub ends_at: &'a str,
    pub announced_at: &'a str,
    pub organization_id: Option<i64>,
    pub exception_procedure: &'a str,
    pub declared_by: i64,
    pub service_ids: &'a [i64],
}

pub async fn insert(conn: &mut AnyConnection, new: &NewFreeze<'_>) -> StoreResult<i64> {
    let now = now_db();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO change_freezes (name, reason, starts_at, ends_at, announced_at,
             organization_id, exception_procedure, declared_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(new.name)
    .bind(new.reason)
    .bind(new.starts_at)
    .bind(new.ends_at)
    .bind(new.announced_at)
    .bind(new.organization_id)
    .bind(new.exception_procedure)
    .bind(new.declared_by)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await?;
    for service in new.service_ids {
        sqlx::query(
            "INSERT INTO change_freeze_services (freeze_id, service_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(service)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// Cancels a freeze; `false` when it was already cancelled.
pub async fn cancel(conn: &mut AnyConnection, id: i64) -> StoreResult<bool> {
    let now = now_db();
    let done = sqlx::query(
        "UPDATE change_freezes SET cancelled_at = $1, updated_at = $1
          WHERE id = $2 AND cancelled_at IS NULL",
    )
    .bind(&now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The freezes in force (not cancelled) overlapping `[from, to)` that apply to a change of
/// `organization_id`: the operator's and that organization's own, as the conflict checks
/// see them.
pub async fn overlapping(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
    organization_id: i64,
) -> StoreResult<Vec<Freeze>> {
    let list = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {FROM}
          WHERE f.cancelled_at IS NULL AND f.starts_at < $2 AND f.ends_at > $1
            AND (f.organization_id IS NULL OR f.organization_id = $3)
          ORDER BY f.starts_at, f.id"
    ))
    .bind(from)
    .bind(to)
    .bind(organization_id)
    .fetch_all(&mut *conn)
    .await?;
    with_services(conn, list).await
}

// ---- Exceptions ---------------------------------------------------------------------------

/// An RFC's exception to a freeze.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = FreezeException)]
pub struct Exception {
    pub id: i64,
    pub freeze_id: i64,
    pub freeze_name: String,
    pub ticket_id: i64,
    pub number: String,
    pub justification: String,
    /// requested, approved or refused.
    pub status: String,
    pub requested_by: Option<i64>,
    pub requested_by_name: Option<String>,
    pub requested_at: String,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
}

const EXCEPTION_COLUMNS: &str = "e.id, e.freeze_id, f.name AS freeze_name, e.ticket_id,
    t.number, e.justification, e.status, e.requested_by, r.display_name AS requested_by_name,
    e.requested_at, e.decided_by, d.display_name AS decided_by_name, e.decided_at,
    e.decision_note";
const EXCEPTION_FROM: &str = "change_freeze_exceptions e
    JOIN change_freezes f ON f.id = e.freeze_id
    JOIN tickets t ON t.id = e.ticket_id
    LEFT JOIN people r ON r.id = e.requested_by
    LEFT JOIN people d ON d.id = e.decided_by";

/// The exceptions an RFC asked for.
pub async fn exceptions_of(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<Exception>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {EXCEPTION_COLUMNS} FROM {EXCEPTION_FROM} WHERE e.ticket_id = $1 ORDER BY e.id"
    ))
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Exceptions waiting for a decision (the change managers' list).
pub async fn requested_exceptions(conn: &mut AnyConnection) -> StoreResult<Vec<Exception>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {EXCEPTION_COLUMNS} FROM {EXCEPTION_FROM} WHERE e.status = 'requested'
          ORDER BY e.requested_at, e.id"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn exception(conn: &mut AnyConnection, id: i64) -> StoreResult<Exception> {
    sqlx::query_as(&format!(
        "SELECT {EXCEPTION_COLUMNS} FROM {EXCEPTION_FROM} WHERE e.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Asks for an exception; a refused one may be asked again (it goes back to requested),
/// `exception_exists` when one is requested or approved.
pub async fn request_exception(
    conn: &mut AnyConnection,
    freeze_id: i64,
    ticket_id: i64,
    justification: &str,
    requested_by: i64,
) -> StoreResult<i64> {
    let now = now_db();
    let existing: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, status FROM change_freeze_exceptions WHERE freeze_id = $1 AND ticket_id = $2",
    )
    .bind(freeze_id)
    .bind(ticket_id)
    .fetch_optional(&mut *conn)
    .await?;
    match existing {
        Some((id, status)) if status == "refused" => {
            sqlx::query(
                "UPDATE change_freeze_exceptions SET justification = $1, status = 'requested',
                     requested_by = $2, requested_at = $3, decided_by = NULL, decided_at = NULL,
                     decision_note = NULL WHERE id = $4",
            )
            .bind(justification)
            .bind(requested_by)
            .bind(&now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            Ok(id)
        }
        Some(_) => Err(StoreError::Conflict("exception_exists")),
        None => sqlx::query_scalar(
            "INSERT INTO change_freeze_exceptions (freeze_id, ticket_id, justification, status,
                 requested_by, requested_at)
             VALUES ($1, $2, $3, 'requested', $4, $5) RETURNING id",
        )
        .bind(freeze_id)
        .bind(ticket_id)
        .bind(justification)
        .bind(requested_by)
        .bind(&now)
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::unique_as("exception_exists")),
    }
}

/// Approves or refuses a requested exception; `false` when it was no longer requested.
pub async fn decide_exception(
    conn: &mut AnyConnection,
    id: i64,
    approved: bool,
    note: &str,
    decided_by: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE change_freeze_exceptions SET status = $1, decision_note = $2, decided_by = $3,
             decided_at = $4 WHERE id = $5 AND status = 'requested'",
    )
    .bind(if approved { "approved" } else { "refused" })
    .bind(note)
    .bind(decided_by)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
