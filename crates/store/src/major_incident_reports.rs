//! Major incident review reports: the review held, the report's text from draft to release,
//! and partners' requests for a copy.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Report {
    pub ticket_id: i64,
    pub review_held_at: Option<String>,
    /// Who attended the review, one per line.
    pub attendees: String,
    pub body: String,
    /// draft or released.
    pub status: String,
    pub drafted_at: String,
    pub updated_at: String,
    pub updated_by: Option<i64>,
    pub released_at: Option<String>,
    pub released_by: Option<i64>,
}

const COLUMNS: &str = "ticket_id, review_held_at, attendees, body, status, drafted_at,
     updated_at, updated_by, released_at, released_by";

pub async fn get(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Option<Report>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM major_incident_reports WHERE ticket_id = $1"
    ))
    .bind(ticket_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Writes the draft's text (creating the report the first time); false when the report is
/// released already.
pub async fn save_body(
    conn: &mut AnyConnection,
    ticket_id: i64,
    body: &str,
    person_id: i64,
) -> StoreResult<bool> {
    let now = now_db();
    let done = sqlx::query(
        "INSERT INTO major_incident_reports (ticket_id, body, status, drafted_at, updated_at,
             updated_by)
         VALUES ($1, $2, 'draft', $3, $3, $4)
         ON CONFLICT (ticket_id) DO UPDATE SET body = excluded.body,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by
         WHERE major_incident_reports.status = 'draft'",
    )
    .bind(ticket_id)
    .bind(body)
    .bind(&now)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the review on an existing report.
pub async fn set_review(
    conn: &mut AnyConnection,
    ticket_id: i64,
    held_at: &str,
    attendees: &str,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE major_incident_reports SET review_held_at = $1, attendees = $2, updated_at = $3
         WHERE ticket_id = $4",
    )
    .bind(held_at)
    .bind(attendees)
    .bind(now_db())
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Releases a draft; false when it was released already.
pub async fn release(
    conn: &mut AnyConnection,
    ticket_id: i64,
    person_id: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE major_incident_reports SET status = 'released', released_at = $1,
             released_by = $2, updated_at = $1
         WHERE ticket_id = $3 AND status = 'draft'",
    )
    .bind(now_db())
    .bind(person_id)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A partner's request for a copy of the report.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct CopyRequest {
    pub id: i64,
    pub ticket_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub email: String,
    pub organization_id: i64,
    pub requested_at: String,
}

/// Records a request; false when this person had asked already.
pub async fn request_copy(
    conn: &mut AnyConnection,
    ticket_id: i64,
    person_id: i64,
    organization_id: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO major_incident_report_requests (ticket_id, person_id, organization_id,
             requested_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (ticket_id, person_id) DO NOTHING",
    )
    .bind(ticket_id)
    .bind(person_id)
    .bind(organization_id)
    .bind(now_db())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn requests(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Vec<CopyRequest>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.ticket_id, r.person_id, p.display_name AS person_name, p.email,
                r.organization_id, r.requested_at
         FROM major_incident_report_requests r JOIN people p ON p.id = r.person_id
         WHERE r.ticket_id = $1 ORDER BY r.id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn has_requested(
    conn: &mut AnyConnection,
    ticket_id: i64,
    person_id: i64,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM major_incident_report_requests WHERE ticket_id = $1 AND person_id = $2",
    )
    .bind(ticket_id)
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// The organizations a major incident affected: the ticket's, and those of the escalation
/// contacts engaged on it.
pub async fn affected_organizations(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<i64>> {
    let mut orgs: Vec<i64> = sqlx::query_scalar(
        "SELECT organization_id FROM tickets WHERE id = $1
         UNION SELECT organization_id FROM major_incident_contacts
               WHERE ticket_id = $1 AND role = 'escalation_contact'
                 AND organization_id IS NOT NULL",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?;
    orgs.sort_unstable();
    orgs.dedup();
    Ok(orgs)
}
