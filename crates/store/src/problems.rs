//! Problem records (what a problem ticket keeps beyond the ticket), the configuration items
//! a ticket concerns, and the monthly problem reviews with their actions and files. Values
//! are checked in `domain::problem` and `domain::problem_record` first; reads of partner
//! data take a `TicketScope` or an `OrgScope`.
use crate::error::{StoreError, StoreResult};
use crate::{now_db, scope, tickets};
use domain::policy::{OrgScope, TicketScope};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// A problem ticket's record.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ProblemRecord)]
pub struct Record {
    pub ticket_id: i64,
    /// detection, logging, assignment, investigation, resolution, verification, closed,
    /// cancelled.
    pub status: String,
    /// manual, major_incident or trend.
    pub source: String,
    pub submitter_role: String,
    pub submitted_at: String,
    pub impact_description: String,
    pub workaround: Option<String>,
    pub action_plan: Option<String>,
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    pub investigating_group_id: Option<i64>,
    pub category: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub known_error: i64,
    pub known_error_since: Option<String>,
    pub verified_by: Option<i64>,
    pub verified_at: Option<String>,
    /// worked or failed.
    pub verification_outcome: Option<String>,
    pub verification_notes: Option<String>,
    pub spoc_person_id: Option<i64>,
    pub closure_acknowledged_by: Option<i64>,
    pub closure_acknowledged_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const RECORD_COLUMNS: &str = "ticket_id, status, source, submitter_role, submitted_at,
    impact_description, workaround, action_plan, root_cause, resolution, investigating_group_id,
    category, known_error, known_error_since, verified_by, verified_at, verification_outcome,
    verification_notes, spoc_person_id, closure_acknowledged_by, closure_acknowledged_at,
    created_at, updated_at";

pub async fn get(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Option<Record>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM problem_records WHERE ticket_id = $1"
    ))
    .bind(ticket_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Writes a new record; false when the ticket already has one (it is left as it was).
pub async fn insert(conn: &mut AnyConnection, r: &Record) -> StoreResult<bool> {
    let done = sqlx::query(&format!(
        "INSERT INTO problem_records ({RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
             $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
         ON CONFLICT (ticket_id) DO NOTHING"
    ))
    .bind(r.ticket_id)
    .bind(&r.status)
    .bind(&r.source)
    .bind(&r.submitter_role)
    .bind(&r.submitted_at)
    .bind(&r.impact_description)
    .bind(&r.workaround)
    .bind(&r.action_plan)
    .bind(&r.root_cause)
    .bind(&r.resolution)
    .bind(r.investigating_group_id)
    .bind(&r.category)
    .bind(r.known_error)
    .bind(&r.known_error_since)
    .bind(r.verified_by)
    .bind(&r.verified_at)
    .bind(&r.verification_outcome)
    .bind(&r.verification_notes)
    .bind(r.spoc_person_id)
    .bind(r.closure_acknowledged_by)
    .bind(&r.closure_acknowledged_at)
    .bind(&r.created_at)
    .bind(&r.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Writes every changeable column of a record (ticket id and creation stay).
pub async fn update(conn: &mut AnyConnection, r: &Record) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE problem_records SET status = $1, source = $2, submitter_role = $3,
             submitted_at = $4, impact_description = $5, workaround = $6, action_plan = $7,
             root_cause = $8, resolution = $9, investigating_group_id = $10, category = $11,
             known_error = $12, known_error_since = $13, verified_by = $14, verified_at = $15,
             verification_outcome = $16, verification_notes = $17, spoc_person_id = $18,
             closure_acknowledged_by = $19, closure_acknowledged_at = $20, updated_at = $21
         WHERE ticket_id = $22",
    )
    .bind(&r.status)
    .bind(&r.source)
    .bind(&r.submitter_role)
    .bind(&r.submitted_at)
    .bind(&r.impact_description)
    .bind(&r.workaround)
    .bind(&r.action_plan)
    .bind(&r.root_cause)
    .bind(&r.resolution)
    .bind(r.investigating_group_id)
    .bind(&r.category)
    .bind(r.known_error)
    .bind(&r.known_error_since)
    .bind(r.verified_by)
    .bind(&r.verified_at)
    .bind(&r.verification_outcome)
    .bind(&r.verification_notes)
    .bind(r.spoc_person_id)
    .bind(r.closure_acknowledged_by)
    .bind(&r.closure_acknowledged_at)
    .bind(now_db())
    .bind(r.ticket_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A problem as lists and agendas show it: the ticket's facts and the record's. A problem
/// ticket without a record yet shows the defaults (logging, no category).
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ProblemRow {
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub organization_id: i64,
    pub organization_code: String,
    pub organization_name_en: String,
    pub organization_name_fr: String,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    pub support_group_code: Option<String>,
    pub assignee_name: Option<String>,
    pub problem_status: String,
    pub category: String,
    pub source: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub known_error: i64,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    pub verification_outcome: Option<String>,
    pub spoc_person_id: Option<i64>,
    pub closure_acknowledged_at: Option<String>,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
}

const ROW_SELECT: &str = "SELECT t.id AS ticket_id, t.number, t.summary, t.organization_id,
    o.code AS organization_code, o.name_en AS organization_name_en,
    o.name_fr AS organization_name_fr, t.impact, t.urgency, t.priority,
    g.code AS support_group_code, a.display_name AS assignee_name,
    COALESCE(r.status, 'logging') AS problem_status, COALESCE(r.category, '') AS category,
    COALESCE(r.source, 'manual') AS source, COALESCE(r.known_error, 0) AS known_error,
    r.root_cause, r.workaround, r.verification_outcome, r.spoc_person_id,
    r.closure_acknowledged_at, t.created_at, t.resolved_at, t.closed_at
  FROM tickets t
  JOIN organizations o ON o.id = t.organization_id
  LEFT JOIN problem_records r ON r.ticket_id = t.id
  LEFT JOIN support_groups g ON g.id = t.support_group_id
  LEFT JOIN people a ON a.id = t.assignee_id";

/// Which problems a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub organization_id: Option<i64>,
    pub known_error: Option<bool>,
    /// Open problems only (not closed, not cancelled).
    pub open: bool,
}

/// Problems the scope may see, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &TicketScope,
    filter: &Filter,
) -> StoreResult<Vec<ProblemRow>> {
    let mut sql = format!(
        "{ROW_SELECT} WHERE t.kind = 'problem' AND {}",
        tickets::visible(scope)
    );
    if filter.status.is_some() {
        sql.push_str(" AND COALESCE(r.status, 'logging') = $1");
    }
    if let Some(org) = filter.organization_id {
        sql.push_str(&format!(" AND t.organization_id = {org}"));
    }
    match filter.known_error {
        Some(true) => sql.push_str(" AND r.known_error = 1"),
        Some(false) => sql.push_str(" AND COALESCE(r.known_error, 0) = 0"),
        None => {}
    }
    if filter.open {
        sql.push_str(" AND COALESCE(r.status, 'logging') NOT IN ('closed', 'cancelled')");
    }
    sql.push_str(" ORDER BY t.id DESC LIMIT 500");
    let mut query = sqlx::query_as(&sql);
    if let Some(status) = &filter.status {
        query = query.bind(status);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// Every problem of one organization (the review agenda's input).
pub async fn of_organization(
    conn: &mut AnyConnection,
    organization_id: i64,
) -> StoreResult<Vec<ProblemRow>> {
    Ok(sqlx::query_as(&format!(
        "{ROW_SELECT} WHERE t.kind = 'problem' AND t.organization_id = $1 ORDER BY t.id"
    ))
    .bind(organization_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// An open known error as offered to agents working an incident.
#[derive(Debug, Clone, FromRow)]
pub struct KnownErrorRow {
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub details: String,
    pub service_code: Option<String>,
    pub free_text_item: Option<String>,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
}

/// Known errors of problems still open.
pub async fn open_known_errors(conn: &mut AnyConnection) -> StoreResult<Vec<KnownErrorRow>> {
    Ok(sqlx::query_as(
        "SELECT t.id AS ticket_id, t.number, t.summary, t.details, s.code AS service_code,
                t.configuration_item AS free_text_item, r.root_cause, r.workaround
           FROM problem_records r
           JOIN tickets t ON t.id = r.ticket_id
           LEFT JOIN services s ON s.id = t.service_id
          WHERE r.known_error = 1 AND r.status NOT IN ('closed', 'cancelled')
          ORDER BY t.id",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// A status move of a problem, from its timeline.
#[derive(Debug, Clone, FromRow)]
pub struct Move {
    pub ticket_id: i64,
    pub at: String,
    pub data: String,
}

/// The workflow moves of an organization's problems since an instant, oldest first.
pub async fn moves_since(
    conn: &mut AnyConnection,
    organization_id: i64,
    since: &str,
) -> StoreResult<Vec<Move>> {
    Ok(sqlx::query_as(
        "SELECT e.ticket_id, e.at, e.data FROM ticket_events e
           JOIN tickets t ON t.id = e.ticket_id
          WHERE t.organization_id = $1 AND t.kind = 'problem' AND e.kind = 'problem_status'
            AND e.at >= $2
          ORDER BY e.id",
    )
    .bind(organization_id)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?)
}

// ---- Configuration items of a ticket --------------------------------------------------

/// A configuration item a ticket concerns.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = TicketConfigurationItem)]
pub struct LinkedItem {
    pub ticket_id: i64,
    pub configuration_item_id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
}

/// The configuration items of these tickets, by ticket then code.
pub async fn items_of(
    conn: &mut AnyConnection,
    ticket_ids: &[i64],
) -> StoreResult<Vec<LinkedItem>> {
    if ticket_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ticket_ids.iter().map(i64::to_string).collect();
    Ok(sqlx::query_as(&format!(
        "SELECT l.ticket_id, l.configuration_item_id, c.code, c.name_en, c.name_fr
           FROM ticket_configuration_items l
           JOIN configuration_items c ON c.id = l.configuration_item_id
          WHERE l.ticket_id IN ({}) ORDER BY l.ticket_id, c.code",
        ids.join(", ")
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// Links a configuration item to a ticket; false when it was already linked.
pub async fn add_item(conn: &mut AnyConnection, ticket_id: i64, item_id: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO ticket_configuration_items (ticket_id, configuration_item_id, created_at)
         VALUES ($1, $2, $3) ON CONFLICT (ticket_id, configuration_item_id) DO NOTHING",
    )
    .bind(ticket_id)
    .bind(item_id)
    .bind(now_db())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn remove_item(
    conn: &mut AnyConnection,
    ticket_id: i64,
    item_id: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM ticket_configuration_items WHERE ticket_id = $1 AND configuration_item_id = $2",
    )
    .bind(ticket_id)
    .bind(item_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The id of the configuration item with this code (codes are stored lower-case).
pub async fn item_id_by_code(conn: &mut AnyConnection, code: &str) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM configuration_items WHERE code = $1")
            .bind(code.trim().to_lowercase())
            .fetch_optional(&mut *conn)
            .await?,
    )
}

// ---- Monthly reviews ------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ProblemReview)]
pub struct Review {
    pub id: i64,
    pub organization_id: i64,
    pub organization_code: String,
    pub organization_name_en: String,
    pub organization_name_fr: String,
    /// YYYY-MM.
    pub month: String,
    pub scheduled_for: Option<String>,
    pub minutes: String,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

const REVIEW_SELECT: &str = "SELECT v.id, v.organization_id, o.code AS organization_code,
    o.name_en AS organization_name_en, o.name_fr AS organization_name_fr, v.month,
    v.scheduled_for, v.minutes, v.created_by, v.created_at, v.updated_at
  FROM problem_reviews v JOIN organizations o ON o.id = v.organization_id";

/// Reviews of the organizations in scope, latest month first.
pub async fn reviews(conn: &mut AnyConnection, orgs: &OrgScope) -> StoreResult<Vec<Review>> {
    Ok(sqlx::query_as(&format!(
        "{REVIEW_SELECT} WHERE {} ORDER BY v.month DESC, o.code",
        scope::condition(orgs, "v.organization_id", None)
    ))
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn review(conn: &mut AnyConnection, orgs: &OrgScope, id: i64) -> StoreResult<Review> {
    sqlx::query_as(&format!(
        "{REVIEW_SELECT} WHERE v.id = $1 AND {}",
        scope::condition(orgs, "v.organization_id", None)
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A new review; `duplicate_review` when the organization has one for that month.
pub async fn insert_review(
    conn: &mut AnyConnection,
    organization_id: i64,
    month: &str,
    scheduled_for: Option<&str>,
    created_by: Option<i64>,
) -> StoreResult<i64> {
    let now = now_db();
    sqlx::query_scalar(
        "INSERT INTO problem_reviews (organization_id, month, scheduled_for, minutes, created_by,
             created_at, updated_at)
         VALUES ($1, $2, $3, '', $4, $5, $5) RETURNING id",
    )
    .bind(organization_id)
    .bind(month)
    .bind(scheduled_for)
    .bind(created_by)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("duplicate_review"))
}

pub async fn update_review(
    conn: &mut AnyConnection,
    id: i64,
    minutes: &str,
    scheduled_for: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE problem_reviews SET minutes = $1, scheduled_for = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(minutes)
    .bind(scheduled_for)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ProblemReviewAction)]
pub struct Action {
    pub id: i64,
    pub review_id: i64,
    pub text: String,
    pub owner: String,
    /// YYYY-MM-DD.
    pub due_on: Option<String>,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub done: i64,
    pub done_at: Option<String>,
    pub created_at: String,
}

const ACTION_COLUMNS: &str = "id, review_id, text, owner, due_on, done, done_at, created_at";

pub async fn actions(conn: &mut AnyConnection, review_id: i64) -> StoreResult<Vec<Action>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ACTION_COLUMNS} FROM problem_review_actions WHERE review_id = $1 ORDER BY id"
    ))
    .bind(review_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn action(conn: &mut AnyConnection, review_id: i64, id: i64) -> StoreResult<Action> {
    sqlx::query_as(&format!(
        "SELECT {ACTION_COLUMNS} FROM problem_review_actions WHERE review_id = $1 AND id = $2"
    ))
    .bind(review_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn insert_action(
    conn: &mut AnyConnection,
    review_id: i64,
    text: &str,
    owner: &str,
    due_on: Option<&str>,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO problem_review_actions (review_id, text, owner, due_on, done, created_at)
         VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
    )
    .bind(review_id)
    .bind(text)
    .bind(owner)
    .bind(due_on)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn update_action(conn: &mut AnyConnection, a: &Action) -> StoreResult<()> {
    sqlx::query(
        "UPDATE problem_review_actions SET text = $1, owner = $2, due_on = $3, done = $4,
             done_at = $5 WHERE id = $6 AND review_id = $7",
    )
    .bind(&a.text)
    .bind(&a.owner)
    .bind(&a.due_on)
    .bind(a.done)
    .bind(&a.done_at)
    .bind(a.id)
    .bind(a.review_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ProblemReviewFile)]
pub struct ReviewFile {
    pub id: i64,
    pub review_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    #[serde(skip)]
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    pub uploaded_by_name: Option<String>,
    pub created_at: String,
}

const FILE_SELECT: &str = "SELECT f.id, f.review_id, f.filename, f.content_type, f.size,
    f.sha256, f.uploaded_by, p.display_name AS uploaded_by_name, f.created_at
  FROM problem_review_files f LEFT JOIN people p ON p.id = f.uploaded_by";

pub async fn files(conn: &mut AnyConnection, review_id: i64) -> StoreResult<Vec<ReviewFile>> {
    Ok(sqlx::query_as(&format!(
        "{FILE_SELECT} WHERE f.review_id = $1 ORDER BY f.id"
    ))
    .bind(review_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn file(conn: &mut AnyConnection, review_id: i64, id: i64) -> StoreResult<ReviewFile> {
    sqlx::query_as(&format!(
        "{FILE_SELECT} WHERE f.review_id = $1 AND f.id = $2"
    ))
    .bind(review_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn insert_file(
    conn: &mut AnyConnection,
    review_id: i64,
    filename: &str,
    content_type: &str,
    size: i64,
    sha256: &str,
    uploaded_by: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO problem_review_files (review_id, filename, content_type, size, sha256,
             uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(review_id)
    .bind(filename)
    .bind(content_type)
    .bind(size)
    .bind(sha256)
    .bind(uploaded_by)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}
