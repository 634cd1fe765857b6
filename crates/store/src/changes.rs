//! Change management records: what a change ticket (CHG-) keeps beyond the ticket (its
//! RFC), the services it affects, standard change templates, CAB meetings and decisions as
//! an RFC's page shows them, and what the conflict checks read (other open changes,
//! freezes, approved freeze exceptions). Values are checked in `domain::change` and
//! `domain::change_schedule` first; lists of partner data take a `TicketScope`.
use crate::error::{StoreError, StoreResult};
use crate::{now_db, tickets};
use domain::policy::TicketScope;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// An RFC: the `change_requests` row beside a change ticket.
// `Default` leaves every decision, schedule and outcome column empty, as on submission.
#[derive(Debug, Clone, Default, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ChangeRecord)]
pub struct Record {
    pub ticket_id: i64,
    /// standard, normal, urgent_operational, emergency_repair.
    pub change_type: String,
    /// submitted, assessed, authorized, scheduled, implemented, reviewed, closed, rejected,
    /// cancelled.
    pub status: String,
    /// operator or partner.
    pub origin: String,
    pub template_id: Option<i64>,
    pub reason: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub notice_required: i64,
    /// none, operator_to_partners, partner_to_operator, exchange.
    pub notice_rule: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub disaster_recovery_exists: i64,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub training_documents_exist: i64,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub tested_in_lower_environments: i64,
    /// high, medium, low.
    pub risk: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub users_affected: i64,
    pub users_affected_how: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub outage_required: i64,
    pub outage_start: Option<String>,
    pub outage_end: Option<String>,
    pub requested_start: String,
    pub requested_end: String,
    pub product_category: String,
    pub implementer: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    /// Partner RFCs: who approved it at the partner, and when.
    pub partner_approval: String,
    pub partner_spoc_person_id: Option<i64>,
    /// The operator's service owner or deployment lead who presents it at CAB.
    pub presenter_person_id: Option<i64>,
    pub submitted_at: String,
    /// The CAB meeting (YYYY-MM-DD) a normal change goes to.
    pub cab_date: Option<String>,
    pub earliest_start: Option<String>,
    pub window_approved_by: Option<i64>,
    pub window_approved_at: Option<String>,
    pub window_approval_note: Option<String>,
    pub ecab_approved_by: Option<i64>,
    pub ecab_approved_at: Option<String>,
    pub scheduled_start: Option<String>,
    pub scheduled_end: Option<String>,
    /// successful, backed_out, failed.
    pub outcome: Option<String>,
    pub outcome_notes: Option<String>,
    pub outcome_at: Option<String>,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub implemented_first: i64,
    pub implemented_at: Option<String>,
    pub latent_due_at: Option<String>,
    pub latent_reminders_sent: i64,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub partner_reported: i64,
    pub status_event_id: Option<i64>,
    pub outage_notice_sent_at: Option<String>,
    /// JSON array of {environment, state}.
    #[serde(skip)]
    pub promotion_path: String,
    pub created_at: String,
    pub updated_at: String,
}

const RECORD_COLUMNS: &str = "ticket_id, change_type, status, origin, template_id, reason,
    notice_required, notice_rule, disaster_recovery_exists, training_documents_exist,
    tested_in_lower_environments, risk, users_affected, users_affected_how, outage_required,
    outage_start, outage_end, requested_start, requested_end, product_category, implementer,
    implementation_plan, backout_plan, partner_approval, partner_spoc_person_id,
    presenter_person_id, submitted_at, cab_date, earliest_start, window_approved_by,
    window_approved_at, window_approval_note, ecab_approved_by, ecab_approved_at,
    scheduled_start, scheduled_end, outcome, outcome_notes, outcome_at, implemented_first,
    implemented_at, latent_due_at, latent_reminders_sent, partner_reported, status_event_id,
    outage_notice_sent_at, promotion_path, created_at, updated_at";

pub async fn get(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Option<Record>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM change_requests WHERE ticket_id = $1"
    ))
    .bind(ticket_id)
    .fetch_optional(&mut *conn)
    .await?)
}

macro_rules! bind_record {
    ($query:expr, $r:expr) => {
        $query
            .bind(&$r.change_type)
            .bind(&$r.status)
            .bind(&$r.origin)
            .bind($r.template_id)
            .bind(&$r.reason)
            .bind($r.notice_required)
            .bind(&$r.notice_rule)
            .bind($r.disaster_recovery_exists)
            .bind($r.training_documents_exist)
            .bind($r.tested_in_lower_environments)
            .bind(&$r.risk)
            .bind($r.users_affected)
            .bind(&$r.users_affected_how)
            .bind($r.outage_required)
            .bind(&$r.outage_start)
            .bind(&$r.outage_end)
            .bind(&$r.requested_start)
            .bind(&$r.requested_end)
            .bind(&$r.product_category)
            .bind(&$r.implementer)
            .bind(&$r.implementation_plan)
            .bind(&$r.backout_plan)
            .bind(&$r.partner_approval)
            .bind($r.partner_spoc_person_id)
            .bind($r.presenter_person_id)
            .bind(&$r.submitted_at)
            .bind(&$r.cab_date)
            .bind(&$r.earliest_start)
            .bind($r.window_approved_by)
            .bind(&$r.window_approved_at)
            .bind(&$r.window_approval_note)
            .bind($r.ecab_approved_by)
            .bind(&$r.ecab_approved_at)
            .bind(&$r.scheduled_start)
            .bind(&$r.scheduled_end)
            .bind(&$r.outcome)
            .bind(&$r.outcome_notes)
            .bind(&$r.outcome_at)
            .bind($r.implemented_first)
            .bind(&$r.implemented_at)
            .bind(&$r.latent_due_at)
            .bind($r.latent_reminders_sent)
            .bind($r.partner_reported)
            .bind($r.status_event_id)
            .bind(&$r.outage_notice_sent_at)
            .bind(&$r.promotion_path)
    };
}

/// Writes a new RFC beside its ticket.
pub async fn insert(conn: &mut AnyConnection, r: &Record) -> StoreResult<()> {
    let placeholders: Vec<String> = (1..=49).map(|n| format!("${n}")).collect();
    let sql = format!(
        "INSERT INTO change_requests ({RECORD_COLUMNS}) VALUES ({})",
        placeholders.join(", ")
    );
    let query = sqlx::query(&sql).bind(r.ticket_id);
    bind_record!(query, r)
        .bind(&r.created_at)
        .bind(&r.updated_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes every changeable column of an RFC (ticket id and creation stay).
pub async fn update(conn: &mut AnyConnection, r: &Record) -> StoreResult<()> {
    let columns: Vec<&str> = RECORD_COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| !matches!(*c, "ticket_id" | "created_at" | "updated_at"))
        .collect();
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let n = columns.len();
    let sql = format!(
        "UPDATE change_requests SET {}, updated_at = ${} WHERE ticket_id = ${}",
        sets.join(", "),
        n + 1,
        n + 2
    );
    let query = sqlx::query(&sql);
    let done = bind_record!(query, r)
        .bind(now_db())
        .bind(r.ticket_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---- Services -----------------------------------------------------------------------------

/// A service an RFC affects.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ChangeService)]
pub struct ServiceRow {
    pub ticket_id: i64,
    pub service_id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
}

pub async fn add_service(
    conn: &mut AnyConnection,
    ticket_id: i64,
    service_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO change_services (ticket_id, service_id) VALUES ($1, $2)
         ON CONFLICT (ticket_id, service_id) DO NOTHING",
    )
    .bind(ticket_id)
    .bind(service_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The services of these RFCs, by ticket then code.
pub async fn services_of(
    conn: &mut AnyConnection,
    ticket_ids: &[i64],
) -> StoreResult<Vec<ServiceRow>> {
    if ticket_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(&format!(
        "SELECT cs.ticket_id, cs.service_id, s.code, s.name_en, s.name_fr
           FROM change_services cs JOIN services s ON s.id = cs.service_id
          WHERE cs.ticket_id IN ({}) ORDER BY cs.ticket_id, s.code",
        id_list(ticket_ids)
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// The id of the service with this code (any case).
pub async fn service_id_by_code(conn: &mut AnyConnection, code: &str) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM services WHERE UPPER(code) = UPPER($1)")
            .bind(code.trim())
            .fetch_optional(&mut *conn)
            .await?,
    )
}

// ---- Lists --------------------------------------------------------------------------------

/// An RFC as lists show it.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ChangeRow {
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
    pub change_type: String,
    pub change_status: String,
    pub origin: String,
    pub risk: String,
    pub requested_start: String,
    pub requested_end: String,
    pub scheduled_start: Option<String>,
    pub scheduled_end: Option<String>,
    pub cab_date: Option<String>,
    pub earliest_start: Option<String>,
    pub submitted_at: String,
}

const ROW_SELECT: &str = "SELECT t.id AS ticket_id, t.number, t.summary, t.organization_id,
    o.code AS organization_code, o.name_en AS organization_name_en,
    o.name_fr AS organization_name_fr, t.impact, t.urgency, t.priority,
    r.change_type, r.status AS change_status, r.origin, r.risk, r.requested_start,
    r.requested_end, r.scheduled_start, r.scheduled_end, r.cab_date, r.earliest_start,
    r.submitted_at
  FROM change_requests r
  JOIN tickets t ON t.id = r.ticket_id
  JOIN organizations o ON o.id = t.organization_id";

/// Which RFCs a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub change_type: Option<String>,
    /// A service code.
    pub service: Option<String>,
    /// Not closed, rejected or cancelled.
    pub open: bool,
}

/// RFCs the scope may see, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &TicketScope,
    filter: &Filter,
) -> StoreResult<Vec<ChangeRow>> {
    let mut sql = format!("{ROW_SELECT} WHERE {}", tickets::visible(scope));
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if filter.status.is_some() {
        sql.push_str(&format!(" AND r.status = ${}", next()));
    }
    if filter.change_type.is_some() {
        sql.push_str(&format!(" AND r.change_type = ${}", next()));
    }
    if filter.service.is_some() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM change_services cs JOIN services s ON s.id = cs.service_id
                  WHERE cs.ticket_id = t.id AND UPPER(s.code) = UPPER(${}))",
            next()
        ));
    }
    if filter.open {
        sql.push_str(" AND r.status NOT IN ('closed', 'rejected', 'cancelled')");
    }
    sql.push_str(" ORDER BY t.id DESC LIMIT 500");
    let mut query = sqlx::query_as(&sql);
    for value in [&filter.status, &filter.change_type, &filter.service]
        .into_iter()
        .flatten()
    {
        query = query.bind(value.trim().to_owned());
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

// ---- What the conflict checks read --------------------------------------------------------

/// An open change as the conflict checks see it (times are its scheduled ones, else its
/// requested ones).
#[derive(Debug, Clone, FromRow)]
pub struct PlannedRow {
    pub ticket_id: i64,
    pub number: String,
    pub change_type: String,
    pub origin: String,
    pub impact: i64,
    pub notice_rule: String,
    pub submitted_at: String,
    pub starts_at: String,
    pub ends_at: String,
    pub window_approved: i64,
    pub organization_id: i64,
}

const PLANNED_SELECT: &str =
    "SELECT t.id AS ticket_id, t.number, t.organization_id, r.change_type, r.origin,
    t.impact, r.notice_rule, r.submitted_at,
    COALESCE(r.scheduled_start, r.requested_start) AS starts_at,
    COALESCE(r.scheduled_end, r.requested_end) AS ends_at,
    CASE WHEN r.window_approved_at IS NULL THEN 0 ELSE 1 END AS window_approved
  FROM change_requests r JOIN tickets t ON t.id = r.ticket_id";

/// One RFC as the conflict checks see it.
pub async fn planned(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<PlannedRow> {
    sqlx::query_as(&format!("{PLANNED_SELECT} WHERE r.ticket_id = $1"))
        .bind(ticket_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Open changes (submitted to scheduled) other than `ticket_id` overlapping `[from, to)`.
pub async fn open_overlapping(
    conn: &mut AnyConnection,
    ticket_id: i64,
    from: &str,
    to: &str,
) -> StoreResult<Vec<PlannedRow>> {
    Ok(sqlx::query_as(&format!(
        "{PLANNED_SELECT}
          WHERE r.ticket_id <> $1
            AND r.status IN ('submitted', 'assessed', 'authorized', 'scheduled')
            AND COALESCE(r.scheduled_start, r.requested_start) < $3
            AND COALESCE(r.scheduled_end, r.requested_end) > $2
          ORDER BY t.id"
    ))
    .bind(ticket_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?)
}

/// Configuration item codes of these tickets: (ticket id, code).
pub async fn item_codes_of(
    conn: &mut AnyConnection,
    ticket_ids: &[i64],
) -> StoreResult<Vec<(i64, String)>> {
    if ticket_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(&format!(
        "SELECT l.ticket_id, c.code FROM ticket_configuration_items l
           JOIN configuration_items c ON c.id = l.configuration_item_id
          WHERE l.ticket_id IN ({}) ORDER BY l.ticket_id, c.code",
        id_list(ticket_ids)
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// A freeze (not cancelled) as the conflict checks see it.
#[derive(Debug, Clone, FromRow)]
pub struct FreezeRow {
    pub id: i64,
    pub name: String,
    pub starts_at: String,
    pub ends_at: String,
}

/// Freezes, not cancelled, overlapping `[from, to)` that apply to a change of
/// `organization_id`: the operator's freezes and that organization's own (a partner's freeze
/// never holds up other organizations' changes, nor shows on them).
pub async fn freezes_overlapping(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
    organization_id: i64,
) -> StoreResult<Vec<FreezeRow>> {
    Ok(sqlx::query_as(
        "SELECT id, name, starts_at, ends_at FROM change_freezes
          WHERE cancelled_at IS NULL AND starts_at < $2 AND ends_at > $1
            AND (organization_id IS NULL OR organization_id = $3)
          ORDER BY starts_at, id",
    )
    .bind(from)
    .bind(to)
    .bind(organization_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Service codes of these freezes: (freeze id, code).
pub async fn freeze_service_codes(
    conn: &mut AnyConnection,
    freeze_ids: &[i64],
) -> StoreResult<Vec<(i64, String)>> {
    if freeze_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(&format!(
        "SELECT fs.freeze_id, s.code FROM change_freeze_services fs
           JOIN services s ON s.id = fs.service_id
          WHERE fs.freeze_id IN ({}) ORDER BY fs.freeze_id, s.code",
        id_list(freeze_ids)
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// The freezes this RFC has an approved exception to.
pub async fn approved_exceptions(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT freeze_id FROM change_freeze_exceptions
          WHERE ticket_id = $1 AND status = 'approved' ORDER BY freeze_id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

// ---- CAB meetings and decisions -----------------------------------------------------------

/// The id of the meeting of this kind (`cab`, `ecab`) on this date, made when missing.
pub async fn ensure_meeting(
    conn: &mut AnyConnection,
    kind: &str,
    date: &str,
    starts_at: &str,
) -> StoreResult<i64> {
    let now = now_db();
    sqlx::query(
        "INSERT INTO cab_meetings (kind, meeting_date, starts_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (kind, meeting_date) DO NOTHING",
    )
    .bind(kind)
    .bind(date)
    .bind(starts_at)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM cab_meetings WHERE kind = $1 AND meeting_date = $2")
            .bind(kind)
            .bind(date)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Records a decision on an RFC at a meeting.
pub async fn insert_decision(
    conn: &mut AnyConnection,
    meeting_id: i64,
    ticket_id: i64,
    decision: &str,
    reasons: &str,
    decided_by: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO cab_decisions (meeting_id, ticket_id, decision, reasons, decided_by,
             decided_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(meeting_id)
    .bind(ticket_id)
    .bind(decision)
    .bind(reasons)
    .bind(decided_by)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// A CAB or ECAB decision on an RFC, with its meeting.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ChangeDecision)]
pub struct DecisionRow {
    pub id: i64,
    /// cab or ecab.
    pub meeting_kind: String,
    pub meeting_date: String,
    /// approved, rejected, deferred.
    pub decision: String,
    pub reasons: String,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: String,
    pub notified_at: Option<String>,
}

/// The decisions on an RFC, oldest first.
pub async fn decisions_of(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<DecisionRow>> {
    Ok(sqlx::query_as(
        "SELECT d.id, m.kind AS meeting_kind, m.meeting_date, d.decision, d.reasons,
                d.decided_by, p.display_name AS decided_by_name, d.decided_at, d.notified_at
           FROM cab_decisions d
           JOIN cab_meetings m ON m.id = d.meeting_id
           LEFT JOIN people p ON p.id = d.decided_by
          WHERE d.ticket_id = $1 ORDER BY d.id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

// ---- Standard change templates ------------------------------------------------------------

/// A standard change template.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[schema(as = ChangeTemplate)]
pub struct Template {
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_fr: String,
    pub service_id: Option<i64>,
    pub service_code: Option<String>,
    pub description: String,
    pub reason: String,
    pub risk: String,
    pub impact: i64,
    pub urgency: i64,
    pub product_category: String,
    pub implementer: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    /// draft, approved, retired.
    pub status: String,
    pub approved_at: Option<String>,
    pub approved_by: Option<i64>,
    pub approved_cab_date: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

const TEMPLATE_SELECT: &str = "SELECT ct.id, ct.code, ct.title_en, ct.title_fr, ct.service_id,
    s.code AS service_code, ct.description, ct.reason, ct.risk, ct.impact, ct.urgency,
    ct.product_category, ct.implementer, ct.implementation_plan, ct.backout_plan, ct.status,
    ct.approved_at, ct.approved_by, ct.approved_cab_date, ct.created_by, ct.created_at,
    ct.updated_at
  FROM change_templates ct LEFT JOIN services s ON s.id = ct.service_id";

pub async fn templates(conn: &mut AnyConnection) -> StoreResult<Vec<Template>> {
    Ok(
        sqlx::query_as(&format!("{TEMPLATE_SELECT} ORDER BY ct.code"))
            .fetch_all(&mut *conn)
            .await?,
    )
}

pub async fn template(conn: &mut AnyConnection, id: i64) -> StoreResult<Template> {
    sqlx::query_as(&format!("{TEMPLATE_SELECT} WHERE ct.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// A new template, in draft; `duplicate_template_code` when the code is taken.
pub async fn insert_template(conn: &mut AnyConnection, t: &Template) -> StoreResult<i64> {
    let now = now_db();
    sqlx::query_scalar(
        "INSERT INTO change_templates (code, title_en, title_fr, service_id, description, reason,
             risk, impact, urgency, product_category, implementer, implementation_plan,
             backout_plan, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'draft', $14, $15, $15)
         RETURNING id",
    )
    .bind(&t.code)
    .bind(&t.title_en)
    .bind(&t.title_fr)
    .bind(t.service_id)
    .bind(&t.description)
    .bind(&t.reason)
    .bind(&t.risk)
    .bind(t.impact)
    .bind(t.urgency)
    .bind(&t.product_category)
    .bind(&t.implementer)
    .bind(&t.implementation_plan)
    .bind(&t.backout_plan)
    .bind(t.created_by)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("duplicate_template_code"))
}

/// Writes a draft template's fields (code, status and approval stay).
pub async fn update_template(conn: &mut AnyConnection, t: &Template) -> StoreResult<()> {
    sqlx::query(
        "UPDATE change_templates SET title_en = $1, title_fr = $2, service_id = $3,
             description = $4, reason = $5, risk = $6, impact = $7, urgency = $8,
             product_category = $9, implementer = $10, implementation_plan = $11,
             backout_plan = $12, updated_at = $13
         WHERE id = $14",
    )
    .bind(&t.title_en)
    .bind(&t.title_fr)
    .bind(t.service_id)
    .bind(&t.description)
    .bind(&t.reason)
    .bind(&t.risk)
    .bind(t.impact)
    .bind(t.urgency)
    .bind(&t.product_category)
    .bind(&t.implementer)
    .bind(&t.implementation_plan)
    .bind(&t.backout_plan)
    .bind(now_db())
    .bind(t.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// CAB approved a draft template at its meeting of `cab_date` (YYYY-MM-DD): from now on
/// standard changes are raised from it without CAB. `template_not_draft` (409) when it is
/// not a draft.
pub async fn approve_template(
    conn: &mut AnyConnection,
    id: i64,
    person: i64,
    cab_date: &str,
) -> StoreResult<()> {
    let now = now_db();
    let done = sqlx::query(
        "UPDATE change_templates SET status = 'approved', approved_at = $1, approved_by = $2,
             approved_cab_date = $3, updated_at = $1
         WHERE id = $4 AND status = 'draft'",
    )
    .bind(&now)
    .bind(person)
    .bind(cab_date)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        template(conn, id).await?;
        return Err(StoreError::Conflict("template_not_draft"));
    }
    Ok(())
}

/// Retires a template: no more standard changes are raised from it.
/// `template_retired` (409) when it already is.
pub async fn retire(conn: &mut AnyConnection, id: i64) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE change_templates SET status = 'retired', updated_at = $1
         WHERE id = $2 AND status <> 'retired'",
    )
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        template(conn, id).await?;
        return Err(StoreError::Conflict("template_retired"));
    }
    Ok(())
}
