//! Major incidents: the declaration on an incident ticket, the people engaged, and the
//! notices sent on the communication cadence. The rules (who may be declared, which notice is
//! due when, the review targets) are in `domain::major_incident`.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// A declared major incident with its ticket's headline fields.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct MajorIncident {
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub organization_id: i64,
    pub service_id: Option<i64>,
    pub priority: i64,
    /// The ticket's status.
    pub status: String,
    pub declared_at: String,
    pub declared_by: i64,
    pub coordinator_id: i64,
    pub coordinator_name: String,
    /// Conference bridge / web-meeting details.
    pub bridge: String,
    /// Drafted notices are sent by themselves when due.
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub auto_send: i64,
    /// The status-page incident published at declaration.
    pub status_event_id: Option<i64>,
    pub resolved_at: Option<String>,
    /// Recorded at resolution; absent while open.
    #[schema(value_type = Option<bool>)]
    #[serde(serialize_with = "optional_bool")]
    pub root_cause_known: Option<i64>,
    pub root_cause: Option<String>,
    /// The problem opened when the incident was resolved with no known root cause.
    pub problem_ticket_id: Option<i64>,
    pub review_due_at: Option<String>,
    pub report_due_at: Option<String>,
    pub review_held_at: Option<String>,
    pub updated_at: String,
}

fn optional_bool<S: serde::Serializer>(value: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(&(*v != 0)),
        None => s.serialize_none(),
    }
}

const SELECT: &str = "SELECT m.ticket_id, t.number, t.summary, t.organization_id, t.service_id,
    t.priority, t.status, m.declared_at, m.declared_by, m.coordinator_id,
    c.display_name AS coordinator_name, m.bridge, m.auto_send, m.status_event_id, m.resolved_at,
    m.root_cause_known, m.root_cause, m.problem_ticket_id, m.review_due_at, m.report_due_at,
    m.review_held_at, m.updated_at
  FROM major_incidents m
  JOIN tickets t ON t.id = m.ticket_id
  JOIN people c ON c.id = m.coordinator_id";

/// Someone engaged on a major incident.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Contact {
    pub id: i64,
    pub ticket_id: i64,
    /// Set for a person of the directory.
    pub person_id: Option<i64>,
    pub name: String,
    pub email: Option<String>,
    /// en or fr; absent: the organization's or the system's language.
    pub locale: Option<String>,
    pub organization_id: Option<i64>,
    /// A vendor's name when it is not an organization of the directory.
    pub organization_name: Option<String>,
    /// coordinator, escalation_contact or vendor_contact.
    pub role: String,
    pub engaged_at: String,
}

pub struct NewContact<'a> {
    pub person_id: Option<i64>,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub locale: Option<&'a str>,
    pub organization_id: Option<i64>,
    pub organization_name: Option<&'a str>,
    pub role: &'a str,
}

/// A notice as it was sent.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Notice {
    pub id: i64,
    pub ticket_id: i64,
    /// The plan's key: declaration, +1h, +2h, update:3 … resolution.
    pub notice_key: String,
    /// service_interruption, update or service_restoration.
    pub kind: String,
    pub due_at: Option<String>,
    pub sent_at: String,
    /// Absent: sent automatically at its due time.
    pub sent_by: Option<i64>,
    pub sent_by_name: Option<String>,
    pub recipients: i64,
    pub subject_en: String,
    pub body_en: String,
    pub subject_fr: String,
    pub body_fr: String,
}

pub struct NewNotice<'a> {
    pub notice_key: &'a str,
    pub kind: &'a str,
    pub due_at: Option<&'a str>,
    pub sent_at: &'a str,
    pub sent_by: Option<i64>,
    pub recipients: i64,
    pub subject_en: &'a str,
    pub body_en: &'a str,
    pub subject_fr: &'a str,
    pub body_fr: &'a str,
}

pub struct Declaration<'a> {
    pub ticket_id: i64,
    pub declared_at: &'a str,
    pub declared_by: i64,
    pub coordinator_id: i64,
    pub bridge: &'a str,
    pub auto_send: bool,
}

/// Records a declaration; `duplicate_declaration` when the ticket was already declared.
pub async fn insert(conn: &mut AnyConnection, d: &Declaration<'_>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO major_incidents (ticket_id, declared_at, declared_by, coordinator_id, bridge,
             auto_send, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $2)",
    )
    .bind(d.ticket_id)
    .bind(d.declared_at)
    .bind(d.declared_by)
    .bind(d.coordinator_id)
    .bind(d.bridge)
    .bind(i64::from(d.auto_send))
    .execute(&mut *conn)
    .await
    .map_err(StoreError::unique_as("already_declared"))?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Option<MajorIncident>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE m.ticket_id = $1"))
        .bind(ticket_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Every major incident, open ones first, then the latest declared first.
pub async fn list(conn: &mut AnyConnection) -> StoreResult<Vec<MajorIncident>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} ORDER BY CASE WHEN m.resolved_at IS NULL THEN 0 ELSE 1 END, m.declared_at DESC,
             m.ticket_id DESC"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// The major incidents the background runner still looks after: open, or resolved with a
/// notice or a review target not yet past (`since`: the oldest resolution to consider).
pub async fn active(conn: &mut AnyConnection, since: &str) -> StoreResult<Vec<MajorIncident>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE m.resolved_at IS NULL OR m.resolved_at >= $1 ORDER BY m.ticket_id"
    ))
    .bind(since)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn set_status_event(
    conn: &mut AnyConnection,
    ticket_id: i64,
    event_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE major_incidents SET status_event_id = $1, updated_at = $2 WHERE ticket_id = $3",
    )
    .bind(event_id)
    .bind(now_db())
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_auto_send(
    conn: &mut AnyConnection,
    ticket_id: i64,
    auto_send: bool,
) -> StoreResult<()> {
    sqlx::query("UPDATE major_incidents SET auto_send = $1, updated_at = $2 WHERE ticket_id = $3")
        .bind(i64::from(auto_send))
        .bind(now_db())
        .bind(ticket_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub struct Resolution<'a> {
    pub resolved_at: &'a str,
    pub root_cause_known: bool,
    pub root_cause: Option<&'a str>,
    pub review_due_at: Option<&'a str>,
    pub report_due_at: Option<&'a str>,
}

/// Records the resolution once; false when it was already recorded.
pub async fn resolve(
    conn: &mut AnyConnection,
    ticket_id: i64,
    r: &Resolution<'_>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE major_incidents SET resolved_at = $1, root_cause_known = $2, root_cause = $3,
             review_due_at = $4, report_due_at = $5, updated_at = $6
         WHERE ticket_id = $7 AND resolved_at IS NULL",
    )
    .bind(r.resolved_at)
    .bind(i64::from(r.root_cause_known))
    .bind(r.root_cause)
    .bind(r.review_due_at)
    .bind(r.report_due_at)
    .bind(now_db())
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_problem(
    conn: &mut AnyConnection,
    ticket_id: i64,
    problem_ticket_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE major_incidents SET problem_ticket_id = $1, updated_at = $2 WHERE ticket_id = $3",
    )
    .bind(problem_ticket_id)
    .bind(now_db())
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records when the major incident review was held.
pub async fn set_review_held(
    conn: &mut AnyConnection,
    ticket_id: i64,
    held_at: &str,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE major_incidents SET review_held_at = $1, updated_at = $2 WHERE ticket_id = $3",
    )
    .bind(held_at)
    .bind(now_db())
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---------- contacts ----------

pub async fn add_contact(
    conn: &mut AnyConnection,
    ticket_id: i64,
    c: &NewContact<'_>,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO major_incident_contacts (ticket_id, person_id, name, email, locale,
             organization_id, organization_name, role, engaged_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(ticket_id)
    .bind(c.person_id)
    .bind(c.name)
    .bind(c.email)
    .bind(c.locale)
    .bind(c.organization_id)
    .bind(c.organization_name)
    .bind(c.role)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn contacts(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Vec<Contact>> {
    Ok(sqlx::query_as(
        "SELECT id, ticket_id, person_id, name, email, locale, organization_id, organization_name,
             role, engaged_at
         FROM major_incident_contacts WHERE ticket_id = $1 ORDER BY id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

// ---------- notices ----------

/// Records a notice as sent; `None` when this notice of the ticket was already sent (the
/// caller then queues nothing).
pub async fn insert_notice(
    conn: &mut AnyConnection,
    ticket_id: i64,
    n: &NewNotice<'_>,
) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO major_incident_notices (ticket_id, notice_key, kind, due_at, sent_at, sent_by,
             recipients, subject_en, body_en, subject_fr, body_fr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (ticket_id, notice_key) DO NOTHING RETURNING id",
    )
    .bind(ticket_id)
    .bind(n.notice_key)
    .bind(n.kind)
    .bind(n.due_at)
    .bind(n.sent_at)
    .bind(n.sent_by)
    .bind(n.recipients)
    .bind(n.subject_en)
    .bind(n.body_en)
    .bind(n.subject_fr)
    .bind(n.body_fr)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The notices sent on a major incident, in the order they went.
pub async fn notices(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Vec<Notice>> {
    Ok(sqlx::query_as(
        "SELECT n.id, n.ticket_id, n.notice_key, n.kind, n.due_at, n.sent_at, n.sent_by,
             p.display_name AS sent_by_name, n.recipients, n.subject_en, n.body_en, n.subject_fr,
             n.body_fr
         FROM major_incident_notices n LEFT JOIN people p ON p.id = n.sent_by
         WHERE n.ticket_id = $1 ORDER BY n.sent_at, n.id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Whether a reminder with this outbox key was already queued (the reminder is then not
/// composed again).
pub async fn reminder_queued(conn: &mut AnyConnection, idempotency_key: &str) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE idempotency_key = $1")
        .bind(idempotency_key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}
