//! Problems proposed from trends of incidents, the incidents each attaches, and the
//! decision an agent took on it. Operator-only data: nothing here is read for a partner.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// An incident as trend detection reads it: its configuration item's site and environment
/// come from the CMDB when the ticket's configuration item is an item's code.
#[derive(Debug, Clone, FromRow)]
pub struct IncidentRow {
    pub id: i64,
    pub number: String,
    pub organization_id: i64,
    pub created_at: String,
    pub configuration_item: Option<String>,
    pub service_code: Option<String>,
    pub site: Option<String>,
    pub environment: Option<String>,
    pub summary: String,
}

/// Incidents opened since `since` (database form), neither cancelled, merged nor already
/// attached to a problem (`caused_by`): an incident whose problem is known is no trend.
pub async fn incidents_since(
    conn: &mut AnyConnection,
    since: &str,
) -> StoreResult<Vec<IncidentRow>> {
    Ok(sqlx::query_as(
        "SELECT t.id, t.number, t.organization_id, t.created_at, t.configuration_item,
                s.code AS service_code, ci.site, ci.environment, t.summary
         FROM tickets t
         LEFT JOIN services s ON s.id = t.service_id
         LEFT JOIN configuration_items ci ON ci.code = LOWER(TRIM(t.configuration_item))
         WHERE t.kind = 'incident' AND t.created_at >= $1 AND t.status <> 'cancelled'
           AND t.merged_into_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM ticket_links l
                           WHERE l.from_id = t.id AND l.kind = 'caused_by')
         ORDER BY t.id",
    )
    .bind(since)
    .fetch_all(&mut *conn)
    .await?)
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Proposal {
    pub id: i64,
    /// configuration_item, site, environment or service.
    pub dimension: String,
    /// The configuration item, site, environment or service, as written on the earliest
    /// incident.
    pub value: String,
    #[serde(skip)]
    pub value_key: String,
    #[serde(skip)]
    pub incident_key: String,
    /// The shared phrase, normalized.
    pub shared: String,
    /// The shared phrase as written in the earliest incident.
    pub shared_text: String,
    pub reason_en: String,
    pub reason_fr: String,
    pub first_opened_at: String,
    pub last_opened_at: String,
    /// proposed, accepted or dismissed.
    pub status: String,
    pub created_at: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<String>,
    pub problem_ticket_id: Option<i64>,
}

const COLUMNS: &str = "id, dimension, value, value_key, incident_key, shared, shared_text,
     reason_en, reason_fr, first_opened_at, last_opened_at, status, created_at, decided_by,
     decided_at, problem_ticket_id";

/// Incident ids as stored in `incident_key`.
pub fn incident_key(ids: &[i64]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Proposal {
    pub fn incident_ids(&self) -> Vec<i64> {
        self.incident_key
            .split(',')
            .filter_map(|id| id.parse().ok())
            .collect()
    }
}

pub struct NewProposal<'a> {
    pub dimension: &'a str,
    pub value: &'a str,
    pub value_key: &'a str,
    pub incident_ids: &'a [i64],
    pub shared: &'a str,
    pub shared_text: &'a str,
    pub reason_en: &'a str,
    pub reason_fr: &'a str,
    pub first_opened_at: &'a str,
    pub last_opened_at: &'a str,
}

/// Stores a proposal with its incidents; `None` when the same pattern is already stored
/// (whatever its status).
pub async fn insert(conn: &mut AnyConnection, p: &NewProposal<'_>) -> StoreResult<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO problem_proposals (dimension, value, value_key, incident_key, shared,
             shared_text, reason_en, reason_fr, first_opened_at, last_opened_at, status,
             created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'proposed', $11)
         ON CONFLICT (dimension, value_key, incident_key) DO NOTHING RETURNING id",
    )
    .bind(p.dimension)
    .bind(p.value)
    .bind(p.value_key)
    .bind(incident_key(p.incident_ids))
    .bind(p.shared)
    .bind(p.shared_text)
    .bind(p.reason_en)
    .bind(p.reason_fr)
    .bind(p.first_opened_at)
    .bind(p.last_opened_at)
    .bind(now_db())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = id {
        for ticket in p.incident_ids {
            sqlx::query(
                "INSERT INTO problem_proposal_incidents (proposal_id, ticket_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(ticket)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(id)
}

/// Proposals, newest first; only those with `status` when given.
pub async fn list(conn: &mut AnyConnection, status: Option<&str>) -> StoreResult<Vec<Proposal>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM problem_proposals WHERE ($1 = '' OR status = $1) ORDER BY id DESC"
    ))
    .bind(status.unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<Proposal> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM problem_proposals WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Proposals an agent decided (accepted or dismissed): their patterns are not proposed again.
pub async fn decided(conn: &mut AnyConnection) -> StoreResult<Vec<Proposal>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM problem_proposals WHERE status <> 'proposed' ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// Removes the proposals still waiting for a decision, except `keep`: detection no longer
/// finds them as they were (another incident joined, or they left the period looked at).
pub async fn withdraw_pending_except(conn: &mut AnyConnection, keep: &[i64]) -> StoreResult<u64> {
    let pending: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM problem_proposals WHERE status = 'proposed'")
            .fetch_all(&mut *conn)
            .await?;
    let mut withdrawn = 0;
    for id in pending.into_iter().filter(|id| !keep.contains(id)) {
        sqlx::query("DELETE FROM problem_proposal_incidents WHERE proposal_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM problem_proposals WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        withdrawn += 1;
    }
    Ok(withdrawn)
}

/// The id of the pending proposal with this pattern, if any.
pub async fn pending_id(
    conn: &mut AnyConnection,
    dimension: &str,
    value_key: &str,
    incident_ids: &[i64],
) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM problem_proposals
         WHERE dimension = $1 AND value_key = $2 AND incident_key = $3 AND status = 'proposed'",
    )
    .bind(dimension)
    .bind(value_key)
    .bind(incident_key(incident_ids))
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records an agent's decision on a pending proposal; false when it was decided already.
pub async fn decide(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    person_id: i64,
    problem_ticket_id: Option<i64>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE problem_proposals SET status = $1, decided_by = $2, decided_at = $3,
             problem_ticket_id = $4
         WHERE id = $5 AND status = 'proposed'",
    )
    .bind(status)
    .bind(person_id)
    .bind(now_db())
    .bind(problem_ticket_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the problem raised from an accepted proposal.
pub async fn set_problem(
    conn: &mut AnyConnection,
    id: i64,
    problem_ticket_id: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE problem_proposals SET problem_ticket_id = $1 WHERE id = $2")
        .bind(problem_ticket_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Puts back an acceptance whose problem could not be raised.
pub async fn undo_accept(conn: &mut AnyConnection, id: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE problem_proposals SET status = 'proposed', decided_by = NULL, decided_at = NULL
         WHERE id = $1 AND status = 'accepted' AND problem_ticket_id IS NULL",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An incident attached to a proposal.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct AttachedIncident {
    #[serde(skip)]
    pub proposal_id: i64,
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub organization_id: i64,
    pub configuration_item: Option<String>,
    pub status: String,
    pub created_at: String,
}

/// The incidents of every proposal in `ids`, oldest first.
pub async fn attached(conn: &mut AnyConnection, ids: &[i64]) -> StoreResult<Vec<AttachedIncident>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    Ok(sqlx::query_as(&format!(
        "SELECT a.proposal_id, t.id AS ticket_id, t.number, t.summary, t.organization_id,
                t.configuration_item, t.status, t.created_at
         FROM problem_proposal_incidents a JOIN tickets t ON t.id = a.ticket_id
         WHERE a.proposal_id IN ({list})
         ORDER BY a.proposal_id, t.created_at, t.id"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// A value this feature keeps in the `settings` table.
pub async fn setting(conn: &mut AnyConnection, key: &str) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

pub async fn put_setting(conn: &mut AnyConnection, key: &str, value: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
