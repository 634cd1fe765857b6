//! Change management after approval: what the planned-outage notice, the status-page
//! maintenance, the implementation outcome, partner-reported changes and the latent RFCs of
//! emergency repairs read and write on a change's `change_requests` row. The RFC record
//! itself (creation, fields, workflow up to scheduling) is `crate::changes`'.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// What the after-approval steps need of an RFC, with its ticket's headline fields.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ChangeAfter {
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub details: String,
    pub organization_id: i64,
    pub reporter_id: i64,
    /// The ticket's status.
    pub ticket_status: String,
    /// domain::change::ChangeType / ChangeStatus / ChangeOrigin
    pub change_type: String,
    pub status: String,
    pub origin: String,
    pub users_affected: i64,
    pub users_affected_how: String,
    pub outage_required: i64,
    pub outage_start: Option<String>,
    pub outage_end: Option<String>,
    pub requested_start: String,
    pub requested_end: String,
    pub scheduled_start: Option<String>,
    pub scheduled_end: Option<String>,
    pub implementer: String,
    pub partner_spoc_person_id: Option<i64>,
    pub outcome: Option<String>,
    pub outcome_notes: Option<String>,
    pub outcome_at: Option<String>,
    pub implemented_first: i64,
    pub implemented_at: Option<String>,
    pub latent_due_at: Option<String>,
    pub latent_reminders_sent: i64,
    pub latent_filed_at: Option<String>,
    pub latent_breached_at: Option<String>,
    pub latent_late_reason: Option<String>,
    pub latent_incident_id: Option<i64>,
    pub partner_reported: i64,
    pub status_event_id: Option<i64>,
    pub outage_notice_sent_at: Option<String>,
    /// "start/end" the notice announced; a resend needs another.
    pub outage_notice_window: Option<String>,
    pub outage_notice_recipients: Option<i64>,
}

const SELECT: &str = "SELECT c.ticket_id, t.number, t.summary, t.details, t.organization_id,
    t.reporter_id, t.status AS ticket_status, c.change_type, c.status, c.origin,
    c.users_affected, c.users_affected_how, c.outage_required, c.outage_start, c.outage_end,
    c.requested_start, c.requested_end, c.scheduled_start, c.scheduled_end, c.implementer,
    c.partner_spoc_person_id, c.outcome, c.outcome_notes, c.outcome_at, c.implemented_first,
    c.implemented_at, c.latent_due_at, c.latent_reminders_sent, c.latent_filed_at,
    c.latent_breached_at, c.latent_late_reason, c.latent_incident_id, c.partner_reported,
    c.status_event_id, c.outage_notice_sent_at, c.outage_notice_window,
    c.outage_notice_recipients
  FROM change_requests c JOIN tickets t ON t.id = c.ticket_id";

pub async fn get(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<ChangeAfter> {
    sqlx::query_as(&format!("{SELECT} WHERE c.ticket_id = $1"))
        .bind(ticket_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The services an RFC affects: (id, code, English name, French name).
pub async fn services(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<(i64, String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.code, s.name_en, s.name_fr FROM change_services cs
           JOIN services s ON s.id = cs.service_id WHERE cs.ticket_id = $1 ORDER BY s.code",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Records the planned-outage notice sent for `window`.
pub async fn set_outage_notice(
    conn: &mut AnyConnection,
    ticket_id: i64,
    window: &str,
    recipients: i64,
) -> StoreResult<()> {
    let now = now_db();
    sqlx::query(
        "UPDATE change_requests SET outage_notice_sent_at = $1, outage_notice_window = $2,
                outage_notice_recipients = $3, updated_at = $1 WHERE ticket_id = $4",
    )
    .bind(&now)
    .bind(window)
    .bind(recipients)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the status-page maintenance made from the RFC, only when none is recorded yet
/// (of two desk clicks, one makes it). Returns whether it was recorded.
pub async fn set_status_event(
    conn: &mut AnyConnection,
    ticket_id: i64,
    event_id: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE change_requests SET status_event_id = $1, updated_at = $2
          WHERE ticket_id = $3 AND status_event_id IS NULL",
    )
    .bind(event_id)
    .bind(now_db())
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the outcome of an RFC just moved to implemented. Returns false when it has one
/// already (another request got there first).
pub async fn record_outcome(
    conn: &mut AnyConnection,
    ticket_id: i64,
    outcome: &str,
    notes: &str,
    at: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE change_requests SET outcome = $1, outcome_notes = $2, outcome_at = $3,
                implemented_at = COALESCE(implemented_at, $3), updated_at = $3
          WHERE ticket_id = $4 AND status = 'implemented' AND outcome IS NULL",
    )
    .bind(outcome)
    .bind(notes)
    .bind(at)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The change record of a change done before it is recorded: a latent RFC (an emergency
/// repair done first) or a partner's own change reported once implemented. Fields the RFC
/// does not have yet are blank; the yes/no answers are "no" until the RFC is filed.
pub struct NewImplemented<'a> {
    pub ticket_id: i64,
    pub change_type: &'a str,
    pub origin: &'a str,
    pub notice_rule: &'a str,
    pub implemented_at: &'a str,
    pub implementer: &'a str,
    pub promotion_path: &'a str,
    /// Latent RFCs: when it is due, and the incident it repaired.
    pub latent_due_at: Option<&'a str>,
    pub latent_incident_id: Option<i64>,
    /// Partner-reported: the outcome and its notes.
    pub outcome: Option<&'a str>,
    pub outcome_notes: Option<&'a str>,
    pub partner_reported: bool,
    pub service_ids: &'a [i64],
}

pub async fn insert_implemented(
    conn: &mut AnyConnection,
    new: &NewImplemented<'_>,
) -> StoreResult<()> {
    let now = now_db();
    sqlx::query(
        "INSERT INTO change_requests (ticket_id, change_type, status, origin, reason,
            notice_required, notice_rule, disaster_recovery_exists, training_documents_exist,
            tested_in_lower_environments, risk, users_affected, outage_required, requested_start,
            requested_end, product_category, implementer, implementation_plan, backout_plan,
            submitted_at, outcome, outcome_notes, outcome_at, implemented_first, implemented_at,
            latent_due_at, latent_incident_id, partner_reported, promotion_path, created_at,
            updated_at)
         VALUES ($1, $2, 'implemented', $3, '', 0, $4, 0, 0, 0, '', 0, 0, $5, $5, '', $6, '', '',
            $7, $8, $9, $10, $11, $5, $12, $13, $14, $15, $7, $7)",
    )
    .bind(new.ticket_id)
    .bind(new.change_type)
    .bind(new.origin)
    .bind(new.notice_rule)
    .bind(new.implemented_at)
    .bind(new.implementer)
    .bind(&now)
    .bind(new.outcome)
    .bind(new.outcome_notes)
    .bind(new.outcome.map(|_| new.implemented_at))
    .bind(i64::from(new.latent_due_at.is_some()))
    .bind(new.latent_due_at)
    .bind(new.latent_incident_id)
    .bind(i64::from(new.partner_reported))
    .bind(new.promotion_path)
    .execute(&mut *conn)
    .await?;
    for service in new.service_ids {
        sqlx::query("INSERT INTO change_services (ticket_id, service_id) VALUES ($1, $2)")
            .bind(new.ticket_id)
            .bind(service)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The RFC's fields as a latent RFC is filed (completed).
pub struct LatentFiling<'a> {
    pub reason: &'a str,
    pub notice_required: bool,
    pub notice_rule: &'a str,
    pub disaster_recovery_exists: bool,
    pub training_documents_exist: bool,
    pub tested_in_lower_environments: bool,
    pub risk: &'a str,
    pub users_affected: bool,
    pub users_affected_how: &'a str,
    pub outage_required: bool,
    pub outage_start: Option<&'a str>,
    pub outage_end: Option<&'a str>,
    pub requested_start: &'a str,
    pub requested_end: &'a str,
    pub product_category: &'a str,
    pub implementer: &'a str,
    pub implementation_plan: &'a str,
    pub backout_plan: &'a str,
    pub late_reason: Option<&'a str>,
    pub filed_at: &'a str,
}

/// Files a latent RFC: its fields and the filing time, once (false when already filed).
pub async fn file_latent(
    conn: &mut AnyConnection,
    ticket_id: i64,
    f: &LatentFiling<'_>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE change_requests SET reason = $1, notice_required = $2, notice_rule = $3,
            disaster_recovery_exists = $4, training_documents_exist = $5,
            tested_in_lower_environments = $6, risk = $7, users_affected = $8,
            users_affected_how = $9, outage_required = $10, outage_start = $11, outage_end = $12,
            requested_start = $13, requested_end = $14, product_category = $15, implementer = $16,
            implementation_plan = $17, backout_plan = $18, latent_late_reason = $19,
            latent_filed_at = $20, updated_at = $20
          WHERE ticket_id = $21 AND implemented_first = 1 AND latent_filed_at IS NULL",
    )
    .bind(f.reason)
    .bind(i64::from(f.notice_required))
    .bind(f.notice_rule)
    .bind(i64::from(f.disaster_recovery_exists))
    .bind(i64::from(f.training_documents_exist))
    .bind(i64::from(f.tested_in_lower_environments))
    .bind(f.risk)
    .bind(i64::from(f.users_affected))
    .bind(f.users_affected_how)
    .bind(i64::from(f.outage_required))
    .bind(f.outage_start)
    .bind(f.outage_end)
    .bind(f.requested_start)
    .bind(f.requested_end)
    .bind(f.product_category)
    .bind(f.implementer)
    .bind(f.implementation_plan)
    .bind(f.backout_plan)
    .bind(f.late_reason)
    .bind(f.filed_at)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Latent RFCs whose repair was done in [from, to) (either bound optional), oldest first.
pub async fn latent(
    conn: &mut AnyConnection,
    from: Option<&str>,
    to: Option<&str>,
) -> StoreResult<Vec<ChangeAfter>> {
    let mut sql = format!("{SELECT} WHERE c.implemented_first = 1");
    let mut binds = Vec::new();
    for (bound, op) in [(from, ">="), (to, "<")] {
        if let Some(bound) = bound {
            binds.push(bound.to_owned());
            sql.push_str(&format!(" AND c.implemented_at {op} ${}", binds.len()));
        }
    }
    sql.push_str(" ORDER BY c.latent_due_at, c.ticket_id");
    let mut query = sqlx::query_as(&sql);
    for bound in binds {
        query = query.bind(bound);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// Latent RFCs not filed and not yet marked breached: what the reminder job looks after.
pub async fn latent_unfiled(conn: &mut AnyConnection) -> StoreResult<Vec<ChangeAfter>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE c.implemented_first = 1 AND c.latent_filed_at IS NULL
            AND c.latent_breached_at IS NULL ORDER BY c.latent_due_at"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// Records reminder `bit` as sent, with `bits` (earlier reminders skipped with it); false
/// when `bit` was already recorded (another pass sent it).
pub async fn mark_reminder(
    conn: &mut AnyConnection,
    ticket_id: i64,
    bit: i64,
    bits: i64,
) -> StoreResult<bool> {
    let sent: i64 = sqlx::query_scalar(
        "SELECT latent_reminders_sent FROM change_requests WHERE ticket_id = $1",
    )
    .bind(ticket_id)
    .fetch_one(&mut *conn)
    .await?;
    if sent & bit != 0 {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE change_requests SET latent_reminders_sent = $1 WHERE ticket_id = $2
            AND latent_reminders_sent = $3",
    )
    .bind(sent | bits)
    .bind(ticket_id)
    .bind(sent)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an unfiled latent RFC breached at `at`; false when it was filed or marked already.
pub async fn mark_breached(
    conn: &mut AnyConnection,
    ticket_id: i64,
    at: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE change_requests SET latent_breached_at = $1 WHERE ticket_id = $2
            AND latent_filed_at IS NULL AND latent_breached_at IS NULL",
    )
    .bind(at)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Partner-reported changes, newest first, of the organizations in `orgs` (None: every one).
pub async fn reported(
    conn: &mut AnyConnection,
    orgs: Option<&[i64]>,
) -> StoreResult<Vec<ChangeAfter>> {
    let all: Vec<ChangeAfter> = sqlx::query_as(&format!(
        "{SELECT} WHERE c.partner_reported = 1 ORDER BY c.implemented_at DESC, c.ticket_id DESC"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(match orgs {
        Some(orgs) => all
            .into_iter()
            .filter(|c| orgs.contains(&c.organization_id))
            .collect(),
        None => all,
    })
}

/// The number of the latent RFC already recorded for an incident, if any.
pub async fn latent_of_incident(
    conn: &mut AnyConnection,
    incident_id: i64,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT t.number FROM change_requests r JOIN tickets t ON t.id = r.ticket_id
          WHERE r.latent_incident_id = $1",
    )
    .bind(incident_id)
    .fetch_optional(&mut *conn)
    .await?)
}
