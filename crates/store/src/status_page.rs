//! The public status page: components, incidents and maintenances ("events") with their
//! update streams, the status history behind the uptime bars, subscribers, the notices
//! sent, and the banners. Values (statuses, impacts) are checked in `domain::status_page`
//! before they get here.
//!
//! Every change bumps one version row, in the change's own transaction; each node polls the
//! version and rebuilds its in-memory snapshot of the page when it moved.
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Group {
    pub id: i64,
    pub name_en: String,
    pub name_fr: String,
    pub position: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Component {
    pub id: i64,
    pub code: String,
    pub group_id: Option<i64>,
    /// The catalogue service this component is: organizations live on it are subscribed.
    pub service_id: Option<i64>,
    /// For a partner's source of data: the contributing organization.
    pub source_organization_id: Option<i64>,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub position: i64,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

const COMPONENT_COLUMNS: &str =
    "id, code, group_id, service_id, source_organization_id, name_en, name_fr,
     description_en, description_fr, position, status, created_at, updated_at";

/// A change of a component's status: it holds from `at` until the next one.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Change {
    pub component_id: i64,
    pub status: String,
    pub at: String,
}

/// An incident (`kind` incident) or a scheduled maintenance (`kind` maintenance).
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub title_en: String,
    pub title_fr: String,
    /// none, minor, major or critical.
    pub impact: String,
    pub status: String,
    pub ticket_id: Option<i64>,
    pub scheduled_for: Option<String>,
    pub scheduled_until: Option<String>,
    /// A maintenance starts and completes by itself at its times.
    pub auto_transition: bool,
    /// The next update promised ("next update by hh:mm").
    pub next_update_by: Option<String>,
    /// Bumped on each reschedule (the calendar feed's SEQUENCE).
    pub sequence: i64,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    pub resolved_at: Option<String>,
}

const EVENT_COLUMNS: &str =
    "id, kind, title_en, title_fr, impact, status, ticket_id, scheduled_for,
     scheduled_until, auto_transition, next_update_by, sequence, created_at, updated_at,
     started_at, resolved_at";

#[derive(Debug, Clone, Serialize, FromRow)]
struct EventRow {
    id: i64,
    kind: String,
    title_en: String,
    title_fr: String,
    impact: String,
    status: String,
    ticket_id: Option<i64>,
    scheduled_for: Option<String>,
    scheduled_until: Option<String>,
    auto_transition: i64,
    next_update_by: Option<String>,
    sequence: i64,
    created_at: String,
    updated_at: String,
    started_at: Option<String>,
    resolved_at: Option<String>,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Event {
            id: r.id,
            kind: r.kind,
            title_en: r.title_en,
            title_fr: r.title_fr,
            impact: r.impact,
            status: r.status,
            ticket_id: r.ticket_id,
            scheduled_for: r.scheduled_for,
            scheduled_until: r.scheduled_until,
            auto_transition: r.auto_transition != 0,
            next_update_by: r.next_update_by,
            sequence: r.sequence,
            created_at: r.created_at,
            updated_at: r.updated_at,
            started_at: r.started_at,
            resolved_at: r.resolved_at,
        }
    }
}

/// A component an event affects, its line of text, and the status it gives the component.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Affected {
    pub event_id: i64,
    pub component_id: i64,
    pub status: String,
    pub text_en: String,
    pub text_fr: String,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Update {
    pub id: i64,
    pub event_id: i64,
    pub status: String,
    pub body_en: String,
    pub body_fr: String,
    pub next_update_by: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Banner {
    /// '' for every environment, else a component code.
    pub scope: String,
    pub text_en: String,
    pub text_fr: String,
    /// info, warning or critical.
    pub level: String,
    pub event_id: Option<i64>,
    pub updated_at: String,
}

// ---------- version ----------

pub async fn version(conn: &mut AnyConnection) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT version FROM status_page_version WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Marks the page changed; call in the transaction of the change.
pub async fn bump(conn: &mut AnyConnection) -> StoreResult<()> {
    sqlx::query(
        "UPDATE status_page_version SET version = version + 1, changed_at = $1 WHERE id = 1",
    )
    .bind(now_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---------- groups and components ----------

pub async fn groups(conn: &mut AnyConnection) -> StoreResult<Vec<Group>> {
    Ok(sqlx::query_as(
        "SELECT id, name_en, name_fr, position, created_at FROM status_groups ORDER BY position, id",
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn insert_group(
    conn: &mut AnyConnection,
    name_en: &str,
    name_fr: &str,
    position: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO status_groups (name_en, name_fr, position, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name_en)
    .bind(name_fr)
    .bind(position)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn update_group(
    conn: &mut AnyConnection,
    id: i64,
    name_en: &str,
    name_fr: &str,
    position: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE status_groups SET name_en = $1, name_fr = $2, position = $3 WHERE id = $4",
    )
    .bind(name_en)
    .bind(name_fr)
    .bind(position)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn components(conn: &mut AnyConnection) -> StoreResult<Vec<Component>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COMPONENT_COLUMNS} FROM status_components ORDER BY position, id"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn component(conn: &mut AnyConnection, id: i64) -> StoreResult<Component> {
    sqlx::query_as(&format!(
        "SELECT {COMPONENT_COLUMNS} FROM status_components WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub struct ComponentFields<'a> {
    pub code: &'a str,
    pub group_id: Option<i64>,
    pub service_id: Option<i64>,
    pub source_organization_id: Option<i64>,
    pub name_en: &'a str,
    pub name_fr: &'a str,
    pub description_en: &'a str,
    pub description_fr: &'a str,
    pub position: i64,
}

/// A new component, operational from now (its first status change is recorded).
pub async fn insert_component(
    conn: &mut AnyConnection,
    fields: &ComponentFields<'_>,
    status: &str,
) -> StoreResult<i64> {
    let now = now_db();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO status_components (code, group_id, service_id, source_organization_id, name_en,
             name_fr, description_en, description_fr, position, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(fields.code)
    .bind(fields.group_id)
    .bind(fields.service_id)
    .bind(fields.source_organization_id)
    .bind(fields.name_en)
    .bind(fields.name_fr)
    .bind(fields.description_en)
    .bind(fields.description_fr)
    .bind(fields.position)
    .bind(status)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("duplicate_code"))?;
    insert_change(conn, id, status, &now, None).await?;
    Ok(id)
}

pub async fn update_component(
    conn: &mut AnyConnection,
    id: i64,
    fields: &ComponentFields<'_>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE status_components SET code = $1, group_id = $2, service_id = $3,
             source_organization_id = $4, name_en = $5, name_fr = $6, description_en = $7,
             description_fr = $8, position = $9, updated_at = $10
         WHERE id = $11",
    )
    .bind(fields.code)
    .bind(fields.group_id)
    .bind(fields.service_id)
    .bind(fields.source_organization_id)
    .bind(fields.name_en)
    .bind(fields.name_fr)
    .bind(fields.description_en)
    .bind(fields.description_fr)
    .bind(fields.position)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::unique_as("duplicate_code"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets a component's status at `at` and records the change; nothing when it is unchanged.
/// Returns whether it changed.
pub async fn set_component_status(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    at: &str,
    event_id: Option<i64>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE status_components SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1",
    )
    .bind(status)
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    insert_change(conn, id, status, at, event_id).await?;
    Ok(true)
}

async fn insert_change(
    conn: &mut AnyConnection,
    component_id: i64,
    status: &str,
    at: &str,
    event_id: Option<i64>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO status_component_changes (component_id, status, at, event_id)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(component_id)
    .bind(status)
    .bind(at)
    .bind(event_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Status changes from `since` on, plus for each component the last change before it (the
/// status it had at `since`), ordered by component and time.
pub async fn changes_since(conn: &mut AnyConnection, since: &str) -> StoreResult<Vec<Change>> {
    Ok(sqlx::query_as(
        "SELECT component_id, status, at FROM status_component_changes c
         WHERE at >= $1
            OR id = (SELECT c2.id FROM status_component_changes c2
                     WHERE c2.component_id = c.component_id AND c2.at < $1
                     ORDER BY c2.at DESC, c2.id DESC LIMIT 1)
         ORDER BY component_id, at, id",
    )
    .bind(since)
    .fetch_all(&mut *conn)
    .await?)
}

/// Dates a component's creation (and its first status) back, for history brought in from
/// elsewhere (demo data).
pub async fn backdate_component(conn: &mut AnyConnection, id: i64, at: &str) -> StoreResult<()> {
    sqlx::query("UPDATE status_components SET created_at = $1, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE status_component_changes SET at = $1 WHERE component_id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes a status change at a chosen time, for history brought in from elsewhere (demo data).
pub async fn record_past_change(
    conn: &mut AnyConnection,
    component_id: i64,
    status: &str,
    at: &str,
    event_id: Option<i64>,
) -> StoreResult<()> {
    insert_change(conn, component_id, status, at, event_id).await
}

// ---------- events ----------

pub struct NewEvent<'a> {
    pub kind: &'a str,
    pub title_en: &'a str,
    pub title_fr: &'a str,
    pub impact: &'a str,
    pub status: &'a str,
    pub ticket_id: Option<i64>,
    pub scheduled_for: Option<&'a str>,
    pub scheduled_until: Option<&'a str>,
    pub auto_transition: bool,
    pub next_update_by: Option<&'a str>,
    pub created_by: Option<i64>,
    /// When it began (an incident discovered earlier; demo history).
    pub created_at: &'a str,
}

pub async fn insert_event(conn: &mut AnyConnection, new: &NewEvent<'_>) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO status_events (kind, title_en, title_fr, impact, status, ticket_id,
             scheduled_for, scheduled_until, auto_transition, next_update_by, created_at,
             created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11) RETURNING id",
    )
    .bind(new.kind)
    .bind(new.title_en)
    .bind(new.title_fr)
    .bind(new.impact)
    .bind(new.status)
    .bind(new.ticket_id)
    .bind(new.scheduled_for)
    .bind(new.scheduled_until)
    .bind(new.auto_transition as i64)
    .bind(new.next_update_by)
    .bind(new.created_at)
    .bind(new.created_by)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn event(conn: &mut AnyConnection, id: i64) -> StoreResult<Event> {
    let row: EventRow = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM status_events WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(row.into())
}

/// An event read to be changed: on PostgreSQL its row stays locked until the transaction
/// ends, so two nodes changing it at once take turns (SQLite has one writer anyway).
pub async fn event_to_change(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    id: i64,
) -> StoreResult<Event> {
    let lock = match backend {
        crate::Backend::Postgres => " FOR UPDATE",
        crate::Backend::Sqlite => "",
    };
    let row: EventRow = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM status_events WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(row.into())
}

/// The status-page incident published from a desk ticket, if any.
pub async fn event_of_ticket(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Option<Event>> {
    let row: Option<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM status_events WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1"
    ))
    .bind(ticket_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Into::into))
}

/// Events still open, and those closed since `since` (the page's history window).
pub async fn events_since(conn: &mut AnyConnection, since: &str) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM status_events
         WHERE resolved_at IS NULL OR resolved_at >= $1
         ORDER BY COALESCE(scheduled_for, created_at) DESC, id DESC"
    ))
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Maintenances not completed or cancelled yet: the scheduler's work list.
pub async fn open_maintenances(conn: &mut AnyConnection) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM status_events
         WHERE kind = 'maintenance' AND resolved_at IS NULL ORDER BY scheduled_for, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Unresolved incidents: the reminder's work list.
pub async fn open_incidents(conn: &mut AnyConnection) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM status_events
         WHERE kind = 'incident' AND resolved_at IS NULL ORDER BY created_at, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// What a change of an event writes besides an update.
pub struct EventChange<'a> {
    pub status: &'a str,
    pub impact: &'a str,
    pub next_update_by: Option<&'a str>,
    pub at: &'a str,
    /// Set `started_at` (a maintenance begins) when it is not set yet.
    pub started: bool,
    /// Set `resolved_at` (resolved, completed, cancelled).
    pub resolved: bool,
}

pub async fn change_event(
    conn: &mut AnyConnection,
    id: i64,
    change: &EventChange<'_>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE status_events SET status = $1, impact = $2, next_update_by = $3, updated_at = $4,
             started_at = CASE WHEN $5 = 1 THEN COALESCE(started_at, $4) ELSE started_at END,
             resolved_at = CASE WHEN $6 = 1 THEN $4 ELSE resolved_at END
         WHERE id = $7",
    )
    .bind(change.status)
    .bind(change.impact)
    .bind(change.next_update_by)
    .bind(change.at)
    .bind(change.started as i64)
    .bind(change.resolved as i64)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Moves a maintenance; the calendar feed's sequence goes up so calendars replace it.
pub async fn reschedule(
    conn: &mut AnyConnection,
    id: i64,
    scheduled_for: &str,
    scheduled_until: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE status_events SET scheduled_for = $1, scheduled_until = $2,
             sequence = sequence + 1, updated_at = $3 WHERE id = $4",
    )
    .bind(scheduled_for)
    .bind(scheduled_until)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_titles(
    conn: &mut AnyConnection,
    id: i64,
    title_en: &str,
    title_fr: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE status_events SET title_en = $1, title_fr = $2 WHERE id = $3")
        .bind(title_en)
        .bind(title_fr)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces the components an event affects.
pub async fn set_affected(
    conn: &mut AnyConnection,
    event_id: i64,
    affected: &[Affected],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM status_event_components WHERE event_id = $1")
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
    for a in affected {
        sqlx::query(
            "INSERT INTO status_event_components (event_id, component_id, status, text_en, text_fr)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(event_id)
        .bind(a.component_id)
        .bind(&a.status)
        .bind(&a.text_en)
        .bind(&a.text_fr)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn affected_of(conn: &mut AnyConnection, event_id: i64) -> StoreResult<Vec<Affected>> {
    Ok(sqlx::query_as(
        "SELECT event_id, component_id, status, text_en, text_fr FROM status_event_components
         WHERE event_id = $1 ORDER BY component_id",
    )
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub struct NewUpdate<'a> {
    pub event_id: i64,
    pub status: &'a str,
    pub body_en: &'a str,
    pub body_fr: &'a str,
    pub next_update_by: Option<&'a str>,
    pub created_at: &'a str,
    pub created_by: Option<i64>,
}

pub async fn insert_update(conn: &mut AnyConnection, new: &NewUpdate<'_>) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO status_updates (event_id, status, body_en, body_fr, next_update_by,
             created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.event_id)
    .bind(new.status)
    .bind(new.body_en)
    .bind(new.body_fr)
    .bind(new.next_update_by)
    .bind(new.created_at)
    .bind(new.created_by)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn updates_of(conn: &mut AnyConnection, event_id: i64) -> StoreResult<Vec<Update>> {
    Ok(sqlx::query_as(
        "SELECT id, event_id, status, body_en, body_fr, next_update_by, created_at
         FROM status_updates WHERE event_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Who last posted to an event (an update, else the event itself): the desk to remind.
pub async fn last_poster(conn: &mut AnyConnection, event_id: i64) -> StoreResult<Option<i64>> {
    let from_updates: Option<i64> = sqlx::query_scalar(
        "SELECT created_by FROM status_updates WHERE event_id = $1 AND created_by IS NOT NULL
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(event_id)
    .fetch_optional(&mut *conn)
    .await?;
    if from_updates.is_some() {
        return Ok(from_updates);
    }
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT created_by FROM status_events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten(),
    )
}

/// Everything the page shows, read in one go for the snapshot: events open or closed since
/// `since`, their components and updates, by event.
pub struct EventsWithDetail {
    pub events: Vec<Event>,
    pub affected: HashMap<i64, Vec<Affected>>,
    pub updates: HashMap<i64, Vec<Update>>,
}

pub async fn events_with_detail(
    conn: &mut AnyConnection,
    since: &str,
) -> StoreResult<EventsWithDetail> {
    let events = events_since(conn, since).await?;
    let window = "SELECT id FROM status_events WHERE resolved_at IS NULL OR resolved_at >= $1";
    let affected_rows: Vec<Affected> = sqlx::query_as(&format!(
        "SELECT event_id, component_id, status, text_en, text_fr FROM status_event_components
         WHERE event_id IN ({window}) ORDER BY event_id, component_id"
    ))
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let update_rows: Vec<Update> = sqlx::query_as(&format!(
        "SELECT id, event_id, status, body_en, body_fr, next_update_by, created_at
         FROM status_updates WHERE event_id IN ({window})
         ORDER BY event_id, created_at DESC, id DESC"
    ))
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let mut affected: HashMap<i64, Vec<Affected>> = HashMap::new();
    for row in affected_rows {
        affected.entry(row.event_id).or_default().push(row);
    }
    let mut updates: HashMap<i64, Vec<Update>> = HashMap::new();
    for row in update_rows {
        updates.entry(row.event_id).or_default().push(row);
    }
    Ok(EventsWithDetail {
        events,
        affected,
        updates,
    })
}

// ---------- banners ----------

pub async fn banners(conn: &mut AnyConnection) -> StoreResult<Vec<Banner>> {
    Ok(sqlx::query_as(
        "SELECT scope, text_en, text_fr, level, event_id, updated_at FROM status_banners ORDER BY scope",
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn set_banner(
    conn: &mut AnyConnection,
    banner: &Banner,
    updated_by: Option<i64>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO status_banners (scope, text_en, text_fr, level, event_id, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (scope) DO UPDATE SET text_en = excluded.text_en, text_fr = excluded.text_fr,
             level = excluded.level, event_id = excluded.event_id,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(&banner.scope)
    .bind(&banner.text_en)
    .bind(&banner.text_fr)
    .bind(&banner.level)
    .bind(banner.event_id)
    .bind(&banner.updated_at)
    .bind(updated_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn clear_banner(conn: &mut AnyConnection, scope: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM status_banners WHERE scope = $1")
        .bind(scope)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Clears the banners an event set (at its resolution). Returns how many.
pub async fn clear_banners_of(conn: &mut AnyConnection, event_id: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM status_banners WHERE event_id = $1")
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

// ---------- subscribers ----------

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub locale: Option<String>,
    /// all, components or event.
    pub scope: String,
    pub event_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub unsubscribed_at: Option<String>,
    pub confirmations_sent: i64,
    pub last_confirmation_at: Option<String>,
}

const SUBSCRIBER_COLUMNS: &str = "id, email, locale, scope, event_id, organization_id, created_at,
     confirmed_at, unsubscribed_at, confirmations_sent, last_confirmation_at";

pub async fn subscriber(conn: &mut AnyConnection, id: i64) -> StoreResult<Subscriber> {
    sqlx::query_as(&format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn find_subscriber(
    conn: &mut AnyConnection,
    email: &str,
    scope: &str,
    event_id: Option<i64>,
) -> StoreResult<Option<Subscriber>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers
         WHERE email = $1 AND scope = $2 AND COALESCE(event_id, 0) = $3"
    ))
    .bind(email)
    .bind(scope)
    .bind(event_id.unwrap_or(0))
    .fetch_optional(&mut *conn)
    .await?)
}

pub struct NewSubscriber<'a> {
    pub email: &'a str,
    pub locale: Option<&'a str>,
    pub scope: &'a str,
    pub event_id: Option<i64>,
    pub organization_id: Option<i64>,
    /// Already confirmed (an organization subscribed by the desk, not by a stranger).
    pub confirmed: bool,
}

pub async fn insert_subscriber(
    conn: &mut AnyConnection,
    new: &NewSubscriber<'_>,
) -> StoreResult<i64> {
    let now = now_db();
    Ok(sqlx::query_scalar(
        "INSERT INTO status_subscribers (email, locale, scope, event_id, organization_id,
             created_at, confirmed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.email)
    .bind(new.locale)
    .bind(new.scope)
    .bind(new.event_id)
    .bind(new.organization_id)
    .bind(&now)
    .bind(new.confirmed.then_some(&now))
    .fetch_one(&mut *conn)
    .await?)
}

/// Counts a mail sent to a subscriber because someone asked to subscribe (the
/// confirmation, or the preferences link of one already confirmed). The count starts over
/// when the previous one was sent before `window_start`: it is the number of such mails
/// since the row's count last restarted, which covers every one sent after `window_start`.
pub async fn note_confirmation_sent(
    conn: &mut AnyConnection,
    id: i64,
    window_start: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE status_subscribers SET
             confirmations_sent = CASE
                 WHEN last_confirmation_at IS NULL OR last_confirmation_at < $1 THEN 1
                 ELSE confirmations_sent + 1 END,
             last_confirmation_at = $2
         WHERE id = $3",
    )
    .bind(window_start)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// At least the number of subscribe mails sent to an address (all its subscriptions)
/// since `window_start` (see [`note_confirmation_sent`]); never fewer.
pub async fn confirmations_since(
    conn: &mut AnyConnection,
    email: &str,
    window_start: &str,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(confirmations_sent), 0) AS BIGINT) FROM status_subscribers
         WHERE email = $1 AND last_confirmation_at >= $2",
    )
    .bind(email)
    .bind(window_start)
    .fetch_one(&mut *conn)
    .await?)
}

/// Changes what a subscription follows (`all` or `components`; the event is dropped).
/// `Conflict` when the address already has a subscription of that scope.
pub async fn set_subscriber_scope(
    conn: &mut AnyConnection,
    id: i64,
    scope: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE status_subscribers SET scope = $1, event_id = NULL WHERE id = $2")
        .bind(scope)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::unique_as("subscription_exists"))?;
    Ok(())
}

/// Confirms (or re-activates after an unsubscribe, once confirmed again) a subscription.
pub async fn confirm_subscriber(conn: &mut AnyConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE status_subscribers SET confirmed_at = COALESCE(confirmed_at, $1),
             unsubscribed_at = NULL WHERE id = $2",
    )
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A subscriber who asks again after unsubscribing starts over unconfirmed.
pub async fn restart_subscriber(
    conn: &mut AnyConnection,
    id: i64,
    locale: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE status_subscribers SET confirmed_at = NULL, unsubscribed_at = NULL,
             locale = COALESCE($1, locale) WHERE id = $2",
    )
    .bind(locale)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn unsubscribe(conn: &mut AnyConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE status_subscribers SET unsubscribed_at = $1 WHERE id = $2 AND unsubscribed_at IS NULL",
    )
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_subscriber_locale(
    conn: &mut AnyConnection,
    id: i64,
    locale: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE status_subscribers SET locale = $1 WHERE id = $2")
        .bind(locale)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn subscriber_components(
    conn: &mut AnyConnection,
    subscriber_id: i64,
) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT component_id FROM status_subscriber_components WHERE subscriber_id = $1
         ORDER BY component_id",
    )
    .bind(subscriber_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn set_subscriber_components(
    conn: &mut AnyConnection,
    subscriber_id: i64,
    components: &[i64],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM status_subscriber_components WHERE subscriber_id = $1")
        .bind(subscriber_id)
        .execute(&mut *conn)
        .await?;
    for component in components {
        sqlx::query(
            "INSERT INTO status_subscriber_components (subscriber_id, component_id) VALUES ($1, $2)",
        )
        .bind(subscriber_id)
        .bind(component)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Confirmed, active subscribers who hear about an event: everyone subscribed to all, to
/// one of its components, or to the event itself. One row per address (the first
/// subscription's language).
pub async fn recipients(
    conn: &mut AnyConnection,
    event_id: i64,
    component_ids: &[i64],
) -> StoreResult<Vec<Subscriber>> {
    let components = if component_ids.is_empty() {
        "NULL".to_owned()
    } else {
        component_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let rows: Vec<Subscriber> = sqlx::query_as(&format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers s
         WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL
           AND (scope = 'all'
                OR (scope = 'event' AND event_id = $1)
                OR (scope = 'components' AND EXISTS (
                    SELECT 1 FROM status_subscriber_components sc
                    WHERE sc.subscriber_id = s.id AND sc.component_id IN ({components}))))
         ORDER BY id"
    ))
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|s| seen.insert(s.email.to_lowercase()))
        .collect())
}

pub async fn subscriber_count(conn: &mut AnyConnection) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM status_subscribers WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await?)
}

// ---------- notices ----------

/// Records that an event's notice was sent; false when it already was (the caller then
/// queues nothing). Call in the transaction that queues the mail.
pub async fn record_notice(
    conn: &mut AnyConnection,
    event_id: i64,
    key: &str,
    recipients: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO status_notices (event_id, notice_key, sent_at, recipients)
         VALUES ($1, $2, $3, $4) ON CONFLICT (event_id, notice_key) DO NOTHING",
    )
    .bind(event_id)
    .bind(key)
    .bind(now_db())
    .bind(recipients)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_notice_recipients(
    conn: &mut AnyConnection,
    event_id: i64,
    key: &str,
    recipients: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE status_notices SET recipients = $1 WHERE event_id = $2 AND notice_key = $3",
    )
    .bind(recipients)
    .bind(event_id)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Notice {
    pub notice_key: String,
    pub sent_at: String,
    pub recipients: i64,
}

pub async fn notices_of(conn: &mut AnyConnection, event_id: i64) -> StoreResult<Vec<Notice>> {
    Ok(sqlx::query_as(
        "SELECT notice_key, sent_at, recipients FROM status_notices WHERE event_id = $1
         ORDER BY sent_at, id",
    )
    .bind(event_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Organizations live on a service, with their help-desk address: subscribed to the
/// service's component.
pub async fn live_organizations_of_service(
    conn: &mut AnyConnection,
    service_id: i64,
) -> StoreResult<Vec<(i64, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT o.id, COALESCE(o.distribution_list, o.helpdesk_email) FROM organizations o
         JOIN organization_services os ON os.organization_id = o.id
         WHERE os.service_id = $1 AND o.active = 1",
    )
    .bind(service_id)
    .fetch_all(&mut *conn)
    .await?)
}
