//! CAB meetings (the schedule itself comes from the policy pack; a row is kept once a
//! meeting's attendees or minutes are saved or a decision recorded), the agenda's RFCs and
//! standard change templates, decisions and their notices.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// A meeting's stored part.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = CabMeetingRecord)]
pub struct Meeting {
    pub id: i64,
    /// cab or ecab.
    pub kind: String,
    /// YYYY-MM-DD.
    pub meeting_date: String,
    pub starts_at: String,
    pub attendees: String,
    pub minutes: String,
    pub approvals_sent_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const MEETING_COLUMNS: &str = "id, kind, meeting_date, starts_at, attendees, minutes,
    approvals_sent_at, created_at, updated_at";

/// The weekly CAB's stored meeting on a date, if any.
pub async fn meeting(conn: &mut AnyConnection, date: &str) -> StoreResult<Option<Meeting>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEETING_COLUMNS} FROM cab_meetings WHERE kind = 'cab' AND meeting_date = $1"
    ))
    .bind(date)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The weekly CAB's stored meetings between two dates (inclusive).
pub async fn meetings_between(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> StoreResult<Vec<Meeting>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEETING_COLUMNS} FROM cab_meetings
          WHERE kind = 'cab' AND meeting_date >= $1 AND meeting_date <= $2 ORDER BY meeting_date"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn update_meeting(
    conn: &mut AnyConnection,
    id: i64,
    attendees: &str,
    minutes: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE cab_meetings SET attendees = $1, minutes = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(attendees)
    .bind(minutes)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How many normal RFCs await each CAB date between two dates (inclusive): `(date, count)`.
pub async fn pending_counts(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> StoreResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT cab_date, COUNT(*) FROM change_requests
          WHERE change_type = 'normal' AND status IN ('submitted', 'assessed')
            AND cab_date >= $1 AND cab_date <= $2
          GROUP BY cab_date",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?)
}

/// How many decisions each weekly CAB meeting between two dates recorded: `(date, count)`.
pub async fn decision_counts(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
) -> StoreResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT m.meeting_date, COUNT(*) FROM cab_decisions d
           JOIN cab_meetings m ON m.id = d.meeting_id
          WHERE m.kind = 'cab' AND m.meeting_date >= $1 AND m.meeting_date <= $2
          GROUP BY m.meeting_date",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?)
}

/// One RFC as the agenda shows it.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = CabAgendaRfc)]
pub struct AgendaRfc {
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub change_type: String,
    pub status: String,
    pub origin: String,
    pub impact: i64,
    pub urgency: i64,
    pub risk: String,
    pub requested_start: String,
    pub requested_end: String,
    pub earliest_start: Option<String>,
    pub submitted_at: String,
    pub cab_date: Option<String>,
    pub organization_id: i64,
    pub organization_code: String,
    pub organization_name_en: String,
    pub organization_name_fr: String,
    pub partner_approval: String,
    pub partner_spoc_person_id: Option<i64>,
    pub partner_spoc_name: Option<String>,
    pub partner_spoc_email: Option<String>,
    pub presenter_person_id: Option<i64>,
    pub presenter_name: Option<String>,
    pub reporter_id: i64,
    pub window_approved_at: Option<String>,
}

const RFC_COLUMNS: &str = "c.ticket_id, t.number, t.summary, c.change_type, c.status, c.origin,
    t.impact, t.urgency, c.risk, c.requested_start, c.requested_end, c.earliest_start,
    c.submitted_at, c.cab_date, t.organization_id, o.code AS organization_code,
    o.name_en AS organization_name_en, o.name_fr AS organization_name_fr, c.partner_approval,
    c.partner_spoc_person_id, sp.display_name AS partner_spoc_name,
    sp.email AS partner_spoc_email, c.presenter_person_id, pr.display_name AS presenter_name,
    t.reporter_id, c.window_approved_at";
const RFC_FROM: &str = "change_requests c JOIN tickets t ON t.id = c.ticket_id
    JOIN organizations o ON o.id = t.organization_id
    LEFT JOIN people sp ON sp.id = c.partner_spoc_person_id
    LEFT JOIN people pr ON pr.id = c.presenter_person_id";

/// The normal RFCs going to the CAB of `date` and not yet decided, by submission.
pub async fn agenda_rfcs(conn: &mut AnyConnection, date: &str) -> StoreResult<Vec<AgendaRfc>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RFC_COLUMNS} FROM {RFC_FROM}
          WHERE c.cab_date = $1 AND c.change_type = 'normal'
            AND c.status IN ('submitted', 'assessed')
          ORDER BY c.submitted_at, t.number"
    ))
    .bind(date)
    .fetch_all(&mut *conn)
    .await?)
}

/// One RFC by its ticket number.
pub async fn rfc(conn: &mut AnyConnection, number: &str) -> StoreResult<AgendaRfc> {
    sqlx::query_as(&format!(
        "SELECT {RFC_COLUMNS} FROM {RFC_FROM} WHERE t.number = $1"
    ))
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A standard change template as the agenda shows it.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = CabAgendaTemplate)]
pub struct AgendaTemplate {
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_fr: String,
    pub risk: String,
    pub impact: i64,
    pub urgency: i64,
    pub status: String,
    pub approved_cab_date: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
}

const TEMPLATE_COLUMNS: &str = "id, code, title_en, title_fr, risk, impact, urgency, status,
    approved_cab_date, created_by, created_at";

/// Standard change templates in draft: submitted for CAB approval.
pub async fn draft_templates(conn: &mut AnyConnection) -> StoreResult<Vec<AgendaTemplate>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM change_templates WHERE status = 'draft' ORDER BY code"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn template(conn: &mut AnyConnection, id: i64) -> StoreResult<AgendaTemplate> {
    sqlx::query_as(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM change_templates WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Moves an RFC to the CAB of another date (a deferral).
pub async fn move_to_cab(conn: &mut AnyConnection, ticket_id: i64, date: &str) -> StoreResult<()> {
    sqlx::query("UPDATE change_requests SET cab_date = $1, updated_at = $2 WHERE ticket_id = $3")
        .bind(date)
        .bind(now_db())
        .bind(ticket_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---- Decisions ------------------------------------------------------------------------------

/// A decision with what its notice and pages need.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = CabDecisionRecord)]
pub struct Decision {
    pub id: i64,
    pub meeting_id: i64,
    pub meeting_date: String,
    /// cab (the weekly meeting) or ecab (the emergency CAB of that day).
    pub meeting_kind: String,
    pub ticket_id: Option<i64>,
    pub number: Option<String>,
    pub summary: Option<String>,
    pub template_id: Option<i64>,
    pub template_code: Option<String>,
    /// approved, rejected or deferred.
    pub decision: String,
    pub reasons: String,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: String,
    pub notified_at: Option<String>,
}

const DECISION_COLUMNS: &str =
    "d.id, d.meeting_id, m.meeting_date, m.kind AS meeting_kind, d.ticket_id, t.number,
    t.summary, d.template_id, ct.code AS template_code, d.decision, d.reasons, d.decided_by,
    p.display_name AS decided_by_name, d.decided_at, d.notified_at";
const DECISION_FROM: &str = "cab_decisions d JOIN cab_meetings m ON m.id = d.meeting_id
    LEFT JOIN tickets t ON t.id = d.ticket_id
    LEFT JOIN change_templates ct ON ct.id = d.template_id
    LEFT JOIN people p ON p.id = d.decided_by";

pub struct NewDecision<'a> {
    pub meeting_id: i64,
    pub ticket_id: Option<i64>,
    pub template_id: Option<i64>,
    pub decision: &'a str,
    pub reasons: &'a str,
    pub decided_by: i64,
}

pub async fn insert_decision(conn: &mut AnyConnection, new: &NewDecision<'_>) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO cab_decisions (meeting_id, ticket_id, template_id, decision, reasons,
             decided_by, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.meeting_id)
    .bind(new.ticket_id)
    .bind(new.template_id)
    .bind(new.decision)
    .bind(new.reasons)
    .bind(new.decided_by)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// The decisions a meeting recorded, in order.
pub async fn decisions_of_meeting(
    conn: &mut AnyConnection,
    meeting_id: i64,
) -> StoreResult<Vec<Decision>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM {DECISION_FROM} WHERE d.meeting_id = $1 ORDER BY d.id"
    ))
    .bind(meeting_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The CAB decisions on one RFC, in order.
pub async fn decisions_of_ticket(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<Decision>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM {DECISION_FROM} WHERE d.ticket_id = $1 ORDER BY d.id"
    ))
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// CAB and ECAB decisions whose notice has not gone yet, oldest first.
pub async fn unnotified(conn: &mut AnyConnection, limit: i64) -> StoreResult<Vec<Decision>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM {DECISION_FROM}
          WHERE d.notified_at IS NULL ORDER BY d.id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// Marks a decision's notice sent; `false` when another pass did it first.
pub async fn mark_notified(conn: &mut AnyConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE cab_decisions SET notified_at = $1 WHERE id = $2 AND notified_at IS NULL",
    )
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records that a meeting's approval notices went out (the first time).
pub async fn mark_approvals_sent(conn: &mut AnyConnection, meeting_id: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE cab_meetings SET approvals_sent_at = $1
          WHERE id = $2 AND approvals_sent_at IS NULL",
    )
    .bind(now_db())
    .bind(meeting_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---- Window approvals -----------------------------------------------------------------------

/// Records the service owner's approval of a time outside the maintenance windows.
pub async fn approve_window(
    conn: &mut AnyConnection,
    ticket_id: i64,
    approved_by: i64,
    note: &str,
) -> StoreResult<()> {
    let now = now_db();
    sqlx::query(
        "UPDATE change_requests SET window_approved_by = $1, window_approved_at = $2,
             window_approval_note = $3, updated_at = $2 WHERE ticket_id = $4",
    )
    .bind(approved_by)
    .bind(&now)
    .bind(note)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The recorded window approval of an RFC: `(by, by_name, at, note)`.
pub async fn window_approval(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Option<(i64, String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT c.window_approved_by, p.display_name, c.window_approved_at,
                COALESCE(c.window_approval_note, '')
           FROM change_requests c JOIN people p ON p.id = c.window_approved_by
          WHERE c.ticket_id = $1 AND c.window_approved_at IS NOT NULL",
    )
    .bind(ticket_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The services an RFC affects: `(id, code, owner_person_id)`.
pub async fn rfc_services(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<(i64, String, Option<i64>)>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.code, s.owner_person_id FROM change_services cs
           JOIN services s ON s.id = cs.service_id WHERE cs.ticket_id = $1 ORDER BY s.code",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Sets (or clears) a service's owner.
pub async fn set_service_owner(
    conn: &mut AnyConnection,
    service_id: i64,
    owner: Option<i64>,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE services SET owner_person_id = $1 WHERE id = $2")
        .bind(owner)
        .bind(service_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
