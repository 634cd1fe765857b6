//! The status page's rules: components, incidents and maintenances with their update
//! streams, banners, and the notices that go to subscribers. Every change is one
//! transaction: the rows, the audit entry, the page's version and the notice mail. The
//! public side is served from [`crate::status_snapshot`].
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::mail::{Audience, Draft, Unsubscribe};
use crate::service::event;
use domain::status_page::{ComponentStatus, IncidentImpact, IncidentStatus, MaintenanceStatus};
use domain::text::Locale;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use std::str::FromStr;
use store::audit::{Actor, append};
use store::status_page::{self as sp, Affected, Event};

pub const INCIDENT: &str = "incident";
pub const MAINTENANCE: &str = "maintenance";

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 10_000;

// ---------- input ----------

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentInput {
    /// Short stable code (`chr-viewer`), letters, digits and dashes.
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_fr: String,
    #[serde(default)]
    pub group_id: Option<i64>,
    /// The catalogue service it is: organizations live on it are subscribed to it.
    #[serde(default)]
    pub service_id: Option<i64>,
    /// A partner's source of data: its outages show as a data outage of this source.
    #[serde(default)]
    pub source_organization_id: Option<i64>,
    #[serde(default)]
    pub position: Option<i64>,
}

/// A component an incident or maintenance affects.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedInput {
    pub component_id: i64,
    /// The status the component has while the event is open: degraded_performance,
    /// partial_outage, major_outage or under_maintenance.
    pub status: String,
    /// Its own line of text ("Messages are queuing").
    #[serde(default)]
    pub text_en: String,
    #[serde(default)]
    pub text_fr: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    pub title_en: String,
    pub title_fr: String,
    /// none, minor, major or critical.
    pub impact: String,
    /// investigating (default), identified or monitoring.
    #[serde(default)]
    pub status: Option<String>,
    /// The first update's text.
    pub body_en: String,
    pub body_fr: String,
    pub components: Vec<AffectedInput>,
    /// "Next update by": an RFC 3339 instant.
    #[serde(default)]
    pub next_update_by: Option<String>,
    /// Set the login-page banner (default: when the impact is major or critical).
    #[serde(default)]
    pub banner: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    /// The event's new status (an incident's or a maintenance's value set).
    pub status: String,
    pub body_en: String,
    pub body_fr: String,
    /// A new impact (incidents).
    #[serde(default)]
    pub impact: Option<String>,
    /// Components and their statuses from now on; absent: unchanged.
    #[serde(default)]
    pub components: Option<Vec<AffectedInput>>,
    #[serde(default)]
    pub next_update_by: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceInput {
    pub title_en: String,
    pub title_fr: String,
    /// RFC 3339 instants.
    pub scheduled_for: String,
    pub scheduled_until: String,
    pub body_en: String,
    pub body_fr: String,
    pub components: Vec<AffectedInput>,
    /// Start and complete by itself at the times (default true).
    #[serde(default)]
    pub auto_transition: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleInput {
    pub scheduled_for: String,
    pub scheduled_until: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BannerInput {
    /// '' (default) for every environment, or a component's code.
    #[serde(default)]
    pub scope: String,
    pub text_en: String,
    pub text_fr: String,
    /// info, warning (default) or critical.
    #[serde(default)]
    pub level: Option<String>,
}

pub const BANNER_LEVELS: &[&str] = &["info", "warning", "critical"];

// ---------- checks ----------

fn text(value: &str, field: &'static str, max: usize, required: bool) -> AppResult<String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(AppError::invalid("required", field));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid("too_long", field));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::invalid("invalid_characters", field));
    }
    // Everything here is published to the world: no patient information.
    crate::tickets::check_phi([(field, value)])?;
    Ok(value.to_owned())
}

fn one_line(value: &str, field: &'static str) -> AppResult<String> {
    let value = text(value, field, MAX_TITLE, true)?;
    if value.contains(['\n', '\r']) {
        return Err(AppError::invalid("invalid_characters", field));
    }
    Ok(value)
}

fn parse<T: FromStr>(value: &str, field: &'static str) -> AppResult<T> {
    value
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("invalid_choice", field).with_arg("value", value))
}

pub fn instant(value: &str, field: &'static str) -> AppResult<Timestamp> {
    value
        .trim()
        .parse::<Timestamp>()
        .map(domain::time::truncate)
        .map_err(|_| AppError::invalid("invalid_datetime", field))
}

fn code(value: &str) -> AppResult<String> {
    let value = value.trim().to_ascii_lowercase();
    if value.is_empty() {
        return Err(AppError::invalid("required", "code"));
    }
    if value.len() > 60
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AppError::invalid("invalid_characters", "code"));
    }
    Ok(value)
}

/// Checks the affected components: each exists, once, with a status that is not operational.
async fn affected(
    conn: &mut store::Conn,
    event_id: i64,
    input: &[AffectedInput],
    default_status: ComponentStatus,
) -> AppResult<Vec<Affected>> {
    let known: Vec<i64> = sp::components(conn).await?.iter().map(|c| c.id).collect();
    let mut out: Vec<Affected> = Vec::with_capacity(input.len());
    for a in input {
        if !known.contains(&a.component_id) {
            return Err(AppError::invalid("unknown_component", "components")
                .with_arg("value", a.component_id.to_string()));
        }
        if out.iter().any(|o| o.component_id == a.component_id) {
            return Err(AppError::invalid("duplicate_component", "components"));
        }
        let status: ComponentStatus = if a.status.trim().is_empty() {
            default_status
        } else {
            parse(&a.status, "status")?
        };
        out.push(Affected {
            event_id,
            component_id: a.component_id,
            status: status.as_str().to_owned(),
            text_en: text(&a.text_en, "text_en", MAX_TITLE, false)?,
            text_fr: text(&a.text_fr, "text_fr", MAX_TITLE, false)?,
        });
    }
    Ok(out)
}

// ---------- groups and components ----------

pub async fn create_group(state: &AppState, actor: &Actor, input: &GroupInput) -> AppResult<i64> {
    let name_en = one_line(&input.name_en, "name_en")?;
    let name_fr = one_line(&input.name_fr, "name_fr")?;
    let mut tx = state.db.begin().await?;
    let position = match input.position {
        Some(p) => p,
        None => sp::groups(&mut tx).await?.len() as i64 + 1,
    };
    let id = sp::insert_group(&mut tx, &name_en, &name_fr, position).await?;
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.group.create",
            "status_group",
            id,
            None,
            json!({"name": name_en}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(id)
}

pub async fn update_group(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: &GroupInput,
) -> AppResult<()> {
    let name_en = one_line(&input.name_en, "name_en")?;
    let name_fr = one_line(&input.name_fr, "name_fr")?;
    let mut tx = state.db.begin().await?;
    let position = match input.position {
        Some(p) => p,
        None => sp::groups(&mut tx)
            .await?
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.position)
            .ok_or_else(AppError::not_found)?,
    };
    sp::update_group(&mut tx, id, &name_en, &name_fr, position).await?;
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.group.update",
            "status_group",
            id,
            None,
            json!({"name": name_en}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(())
}

async fn component_fields(
    conn: &mut store::Conn,
    input: &ComponentInput,
    default_position: i64,
) -> AppResult<(String, String, String, String, String, i64)> {
    let code = code(&input.code)?;
    let name_en = one_line(&input.name_en, "name_en")?;
    let name_fr = one_line(&input.name_fr, "name_fr")?;
    let description_en = text(&input.description_en, "description_en", 1000, false)?;
    let description_fr = text(&input.description_fr, "description_fr", 1000, false)?;
    if let Some(group) = input.group_id
        && !sp::groups(conn).await?.iter().any(|g| g.id == group)
    {
        return Err(AppError::invalid("unknown_status_group", "group_id"));
    }
    if let Some(service) = input.service_id
        && !store::orgs::services(conn)
            .await?
            .iter()
            .any(|s| s.id == service)
    {
        return Err(AppError::invalid("unknown_service", "service_id"));
    }
    if let Some(org) = input.source_organization_id
        && store::orgs::get(conn, &domain::policy::OrgScope::All, org)
            .await
            .is_err()
    {
        return Err(AppError::invalid(
            "unknown_organization",
            "source_organization_id",
        ));
    }
    Ok((
        code,
        name_en,
        name_fr,
        description_en,
        description_fr,
        input.position.unwrap_or(default_position),
    ))
}

pub async fn create_component(
    state: &AppState,
    actor: &Actor,
    input: &ComponentInput,
) -> AppResult<i64> {
    let mut tx = state.db.begin().await?;
    let count = sp::components(&mut tx).await?.len() as i64;
    let (code, name_en, name_fr, description_en, description_fr, position) =
        component_fields(&mut tx, input, count + 1).await?;
    let fields = sp::ComponentFields {
        code: &code,
        group_id: input.group_id,
        service_id: input.service_id,
        source_organization_id: input.source_organization_id,
        name_en: &name_en,
        name_fr: &name_fr,
        description_en: &description_en,
        description_fr: &description_fr,
        position,
    };
    let id =
        match sp::insert_component(&mut tx, &fields, ComponentStatus::Operational.as_str()).await {
            Err(store::StoreError::Conflict(_)) => {
                return Err(AppError::invalid("duplicate_code", "code"));
            }
            other => other?,
        };
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.component.create",
            "status_component",
            id,
            None,
            json!({"code": code}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(id)
}

pub async fn update_component(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: &ComponentInput,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let before = sp::component(&mut tx, id).await?;
    let (code, name_en, name_fr, description_en, description_fr, position) =
        component_fields(&mut tx, input, before.position).await?;
    let fields = sp::ComponentFields {
        code: &code,
        group_id: input.group_id,
        service_id: input.service_id,
        source_organization_id: input.source_organization_id,
        name_en: &name_en,
        name_fr: &name_fr,
        description_en: &description_en,
        description_fr: &description_fr,
        position,
    };
    match sp::update_component(&mut tx, id, &fields).await {
        Err(store::StoreError::Conflict(_)) => {
            return Err(AppError::invalid("duplicate_code", "code"));
        }
        other => other?,
    }
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.component.update",
            "status_component",
            id,
            None,
            json!({"code": code}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(())
}

/// Sets a component's status by hand (no incident).
pub async fn set_component_status(
    state: &AppState,
    actor: &Actor,
    id: i64,
    status: &str,
) -> AppResult<()> {
    let status: ComponentStatus = parse(status, "status")?;
    let mut tx = state.db.begin().await?;
    sp::component(&mut tx, id).await?;
    let at = domain::time::to_db(domain::time::now());
    if sp::set_component_status(&mut tx, id, status.as_str(), &at, None).await? {
        sp::bump(&mut tx).await?;
        append(
            &mut tx,
            actor,
            event(
                "status.component.status",
                "status_component",
                id,
                None,
                json!({"status": status.as_str()}),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(())
}

/// Gives each component the worst status of the open events that affect it (operational
/// when none does), recording each change at `at`.
async fn settle_components(
    conn: &mut store::Conn,
    component_ids: &[i64],
    at: &str,
    event_id: i64,
) -> AppResult<()> {
    if component_ids.is_empty() {
        return Ok(());
    }
    // What the open events (maintenance only while in progress) give their components.
    let mut giving: Vec<Affected> = Vec::new();
    let mut open = sp::open_incidents(conn).await?;
    open.extend(
        sp::open_maintenances(conn)
            .await?
            .into_iter()
            .filter(|e| MaintenanceStatus::from_str(&e.status).is_ok_and(|s| s.is_active())),
    );
    for e in &open {
        giving.extend(sp::affected_of(conn, e.id).await?);
    }
    for &component in component_ids {
        let worst = giving
            .iter()
            .filter(|a| a.component_id == component)
            .filter_map(|a| ComponentStatus::from_str(&a.status).ok())
            .fold(ComponentStatus::Operational, ComponentStatus::worse);
        sp::set_component_status(conn, component, worst.as_str(), at, Some(event_id)).await?;
    }
    Ok(())
}

// ---------- incidents ----------

/// What a created or changed event leaves for the caller: its id and the update.
pub struct Posted {
    pub event_id: i64,
    pub update_id: i64,
}

pub async fn create_incident(
    state: &AppState,
    actor: &Actor,
    input: &IncidentInput,
    ticket_id: Option<i64>,
) -> AppResult<Posted> {
    let title_en = one_line(&input.title_en, "title_en")?;
    let title_fr = one_line(&input.title_fr, "title_fr")?;
    let impact: IncidentImpact = parse(&input.impact, "impact")?;
    let status: IncidentStatus = match &input.status {
        Some(s) if !s.trim().is_empty() => parse(s, "status")?,
        _ => IncidentStatus::Investigating,
    };
    if status.is_resolved() {
        return Err(
            AppError::invalid("invalid_choice", "status").with_arg("value", status.as_str())
        );
    }
    let body_en = text(&input.body_en, "body_en", MAX_TEXT, true)?;
    let body_fr = text(&input.body_fr, "body_fr", MAX_TEXT, true)?;
    let next_update_by = match &input.next_update_by {
        Some(v) if !v.trim().is_empty() => Some(domain::time::to_db(instant(v, "next_update_by")?)),
        _ => None,
    };
    let now = domain::time::to_db(domain::time::now());
    let mut tx = state.db.begin().await?;
    let affected = affected(&mut tx, 0, &input.components, ComponentStatus::MajorOutage).await?;
    let id = sp::insert_event(
        &mut tx,
        &sp::NewEvent {
            kind: INCIDENT,
            title_en: &title_en,
            title_fr: &title_fr,
            impact: impact.as_str(),
            status: status.as_str(),
            ticket_id,
            scheduled_for: None,
            scheduled_until: None,
            auto_transition: false,
            next_update_by: next_update_by.as_deref(),
            created_by: actor.person_id,
            created_at: &now,
        },
    )
    .await?;
    let affected: Vec<Affected> = affected
        .into_iter()
        .map(|a| Affected { event_id: id, ..a })
        .collect();
    sp::set_affected(&mut tx, id, &affected).await?;
    let update_id = sp::insert_update(
        &mut tx,
        &sp::NewUpdate {
            event_id: id,
            status: status.as_str(),
            body_en: &body_en,
            body_fr: &body_fr,
            next_update_by: next_update_by.as_deref(),
            created_at: &now,
            created_by: actor.person_id,
        },
    )
    .await?;
    let ids: Vec<i64> = affected.iter().map(|a| a.component_id).collect();
    settle_components(&mut tx, &ids, &now, id).await?;
    let banner = input.banner.unwrap_or(matches!(
        impact,
        IncidentImpact::Major | IncidentImpact::Critical
    ));
    if banner {
        sp::set_banner(
            &mut tx,
            &sp::Banner {
                scope: String::new(),
                text_en: title_en.clone(),
                text_fr: title_fr.clone(),
                level: if impact == IncidentImpact::Critical {
                    "critical"
                } else {
                    "warning"
                }
                .into(),
                event_id: Some(id),
                updated_at: now.clone(),
            },
            actor.person_id,
        )
        .await?;
    }
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.incident.create",
            "status_event",
            id,
            None,
            json!({"title": title_en, "impact": impact.as_str(), "ticket_id": ticket_id, "banner": banner}),
        ),
    )
    .await?;
    notify(state, &mut tx, id, &format!("update:{update_id}")).await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(Posted {
        event_id: id,
        update_id,
    })
}

/// Posts an update to an incident or a maintenance: its status (and impact, components,
/// promised next update) from now on, and the text subscribers receive.
pub async fn post_update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: &UpdateInput,
) -> AppResult<Posted> {
    post_update_if(state, actor, id, input, None)
        .await?
        .ok_or_else(AppError::internal)
}

/// [`post_update`], only while the event's status is still `expected` (the scheduler's
/// start and completion: of two nodes, or a node and the desk, one moves it).
async fn post_update_if(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: &UpdateInput,
    expected: Option<&str>,
) -> AppResult<Option<Posted>> {
    let body_en = text(&input.body_en, "body_en", MAX_TEXT, true)?;
    let body_fr = text(&input.body_fr, "body_fr", MAX_TEXT, true)?;
    let next_update_by = match &input.next_update_by {
        Some(v) if !v.trim().is_empty() => Some(domain::time::to_db(instant(v, "next_update_by")?)),
        _ => None,
    };
    let mut tx = state.db.begin().await?;
    let current = sp::event_to_change(&mut tx, state.db.backend(), id).await?;
    if expected.is_some_and(|status| status != current.status) {
        return Ok(None);
    }
    let (status, impact, started, resolved) = if current.kind == INCIDENT {
        let from: IncidentStatus = parse(&current.status, "status")?;
        let to: IncidentStatus = parse(&input.status, "status")?;
        // After resolution only the postmortem may follow.
        if from.is_resolved()
            && !(from == IncidentStatus::Resolved && to == IncidentStatus::Postmortem)
        {
            return Err(AppError::new(
                axum::http::StatusCode::CONFLICT,
                "incident_resolved",
            ));
        }
        let impact: IncidentImpact = match &input.impact {
            Some(v) if !v.trim().is_empty() => parse(v, "impact")?,
            _ => parse(&current.impact, "impact")?,
        };
        (
            to.as_str(),
            impact.as_str(),
            false,
            to.is_resolved() && !from.is_resolved(),
        )
    } else {
        let from: MaintenanceStatus = parse(&current.status, "status")?;
        let to: MaintenanceStatus = parse(&input.status, "status")?;
        if from.is_finished() {
            return Err(AppError::new(
                axum::http::StatusCode::CONFLICT,
                "maintenance_finished",
            ));
        }
        (
            to.as_str(),
            current.impact.as_str(),
            to.is_active(),
            to.is_finished(),
        )
    };
    let status = status.to_owned();
    let impact = impact.to_owned();
    let now = domain::time::to_db(domain::time::now());
    let mut touched: Vec<i64> = sp::affected_of(&mut tx, id)
        .await?
        .iter()
        .map(|a| a.component_id)
        .collect();
    if let Some(components) = &input.components {
        let default = if current.kind == MAINTENANCE {
            ComponentStatus::UnderMaintenance
        } else {
            ComponentStatus::MajorOutage
        };
        let list = affected(&mut tx, id, components, default).await?;
        sp::set_affected(&mut tx, id, &list).await?;
        for a in &list {
            if !touched.contains(&a.component_id) {
                touched.push(a.component_id);
            }
        }
    }
    sp::change_event(
        &mut tx,
        id,
        &sp::EventChange {
            status: &status,
            impact: &impact,
            next_update_by: if resolved {
                None
            } else {
                next_update_by.as_deref()
            },
            at: &now,
            started,
            resolved,
        },
    )
    .await?;
    let update_id = sp::insert_update(
        &mut tx,
        &sp::NewUpdate {
            event_id: id,
            status: &status,
            body_en: &body_en,
            body_fr: &body_fr,
            next_update_by: next_update_by.as_deref(),
            created_at: &now,
            created_by: actor.person_id,
        },
    )
    .await?;
    settle_components(&mut tx, &touched, &now, id).await?;
    if resolved {
        sp::clear_banners_of(&mut tx, id).await?;
    }
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.update",
            "status_event",
            id,
            None,
            json!({"status": status, "impact": impact}),
        ),
    )
    .await?;
    let key = if resolved {
        if current.kind == INCIDENT {
            "resolution".to_owned()
        } else if status == MaintenanceStatus::Cancelled.as_str() {
            "cancelled".to_owned()
        } else {
            "completion".to_owned()
        }
    } else if started && current.started_at.is_none() {
        "start".to_owned()
    } else {
        format!("update:{update_id}")
    };
    notify(state, &mut tx, id, &key).await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(Some(Posted {
        event_id: id,
        update_id,
    }))
}

// ---------- maintenances ----------

fn window(for_: &str, until: &str) -> AppResult<(Timestamp, Timestamp)> {
    let start = instant(for_, "scheduled_for")?;
    let end = instant(until, "scheduled_until")?;
    if end <= start {
        return Err(AppError::invalid("ends_before_start", "scheduled_until"));
    }
    Ok((start, end))
}

pub async fn create_maintenance(
    state: &AppState,
    actor: &Actor,
    input: &MaintenanceInput,
    ticket_id: Option<i64>,
) -> AppResult<Posted> {
    let title_en = one_line(&input.title_en, "title_en")?;
    let title_fr = one_line(&input.title_fr, "title_fr")?;
    let (start, end) = window(&input.scheduled_for, &input.scheduled_until)?;
    let body_en = text(&input.body_en, "body_en", MAX_TEXT, true)?;
    let body_fr = text(&input.body_fr, "body_fr", MAX_TEXT, true)?;
    let now_ts = domain::time::now();
    if end <= now_ts {
        return Err(AppError::invalid("ends_in_the_past", "scheduled_until"));
    }
    let now = domain::time::to_db(now_ts);
    let mut tx = state.db.begin().await?;
    let affected = affected(
        &mut tx,
        0,
        &input.components,
        ComponentStatus::UnderMaintenance,
    )
    .await?;
    let id = sp::insert_event(
        &mut tx,
        &sp::NewEvent {
            kind: MAINTENANCE,
            title_en: &title_en,
            title_fr: &title_fr,
            impact: "maintenance",
            status: MaintenanceStatus::Scheduled.as_str(),
            ticket_id,
            scheduled_for: Some(&domain::time::to_db(start)),
            scheduled_until: Some(&domain::time::to_db(end)),
            auto_transition: input.auto_transition.unwrap_or(true),
            next_update_by: None,
            created_by: actor.person_id,
            created_at: &now,
        },
    )
    .await?;
    let affected: Vec<Affected> = affected
        .into_iter()
        .map(|a| Affected { event_id: id, ..a })
        .collect();
    sp::set_affected(&mut tx, id, &affected).await?;
    let update_id = sp::insert_update(
        &mut tx,
        &sp::NewUpdate {
            event_id: id,
            status: MaintenanceStatus::Scheduled.as_str(),
            body_en: &body_en,
            body_fr: &body_fr,
            next_update_by: None,
            created_at: &now,
            created_by: actor.person_id,
        },
    )
    .await?;
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.maintenance.create",
            "status_event",
            id,
            None,
            json!({"title": title_en, "from": input.scheduled_for, "until": input.scheduled_until}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    // The notices (at scheduling, the offsets before, start and completion) are the
    // scheduler's: run it now so the first one does not wait for its next pass.
    run_due(state).await?;
    Ok(Posted {
        event_id: id,
        update_id,
    })
}

pub async fn reschedule(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: &RescheduleInput,
) -> AppResult<()> {
    let (start, end) = window(&input.scheduled_for, &input.scheduled_until)?;
    let mut tx = state.db.begin().await?;
    let current = sp::event(&mut tx, id).await?;
    if current.kind != MAINTENANCE {
        return Err(AppError::not_found());
    }
    if current.resolved_at.is_some() {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "maintenance_finished",
        ));
    }
    sp::reschedule(
        &mut tx,
        id,
        &domain::time::to_db(start),
        &domain::time::to_db(end),
    )
    .await?;
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.maintenance.reschedule",
            "status_event",
            id,
            None,
            json!({"from": input.scheduled_for, "until": input.scheduled_until}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(())
}

// ---------- banners ----------

pub async fn set_banner(state: &AppState, actor: &Actor, input: &BannerInput) -> AppResult<()> {
    let scope = input.scope.trim().to_ascii_lowercase();
    let text_en = text(&input.text_en, "text_en", 500, true)?;
    let text_fr = text(&input.text_fr, "text_fr", 500, true)?;
    let level = input.level.clone().unwrap_or_else(|| "warning".into());
    if !BANNER_LEVELS.contains(&level.as_str()) {
        return Err(AppError::invalid("invalid_choice", "level").with_arg("value", level));
    }
    let mut tx = state.db.begin().await?;
    if !scope.is_empty()
        && !sp::components(&mut tx)
            .await?
            .iter()
            .any(|c| c.code == scope)
    {
        return Err(AppError::invalid("unknown_component", "scope").with_arg("value", scope));
    }
    let existing = sp::banners(&mut tx)
        .await?
        .into_iter()
        .find(|b| b.scope == scope);
    sp::set_banner(
        &mut tx,
        &sp::Banner {
            scope: scope.clone(),
            text_en,
            text_fr,
            level,
            event_id: existing.and_then(|b| b.event_id),
            updated_at: domain::time::to_db(domain::time::now()),
        },
        actor.person_id,
    )
    .await?;
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.banner.set",
            "status_banner",
            &scope,
            None,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(())
}

pub async fn clear_banner(state: &AppState, actor: &Actor, scope: &str) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    if !sp::clear_banner(&mut tx, scope).await? {
        return Err(AppError::not_found());
    }
    sp::bump(&mut tx).await?;
    append(
        &mut tx,
        actor,
        event(
            "status.banner.clear",
            "status_banner",
            scope,
            None,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.status.changed(state).await;
    Ok(())
}

// ---------- notices ----------

/// Queues an event's notice to its subscribers, once: `key` names the notice (`scheduled`,
/// `before:7d`, `start`, `update:42`, `resolution`, …) and a second call with the same key
/// queues nothing. Runs in the caller's transaction.
pub async fn notify(
    state: &AppState,
    conn: &mut store::Conn,
    event_id: i64,
    key: &str,
) -> AppResult<usize> {
    if !sp::record_notice(conn, event_id, key, 0).await? {
        return Ok(0);
    }
    let event = sp::event(conn, event_id).await?;
    let affected = sp::affected_of(conn, event_id).await?;
    let component_ids: Vec<i64> = affected.iter().map(|a| a.component_id).collect();
    subscribe_live_organizations(conn, &component_ids).await?;
    let recipients = sp::recipients(conn, event_id, &component_ids).await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    let components = sp::components(conn).await?;
    let update = sp::updates_of(conn, event_id).await?.into_iter().next();
    let composer = state.composer(conn).await?;
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let args_for = |locale: Locale| -> Vec<(&'static str, String)> {
        let fr = locale == Locale::Fr;
        let title = if fr { &event.title_fr } else { &event.title_en };
        let lines: Vec<String> = affected
            .iter()
            .filter_map(|a| {
                let c = components.iter().find(|c| c.id == a.component_id)?;
                let name = if fr { &c.name_fr } else { &c.name_en };
                let status = ComponentStatus::from_str(&a.status)
                    .map(|s| s.label(locale).to_owned())
                    .unwrap_or_default();
                let text = if fr { &a.text_fr } else { &a.text_en };
                Some(if text.is_empty() {
                    format!("- {name}: {status}")
                } else {
                    format!("- {name}: {status} ({text})")
                })
            })
            .collect();
        let body = update
            .as_ref()
            .map(|u| {
                if fr {
                    u.body_fr.clone()
                } else {
                    u.body_en.clone()
                }
            })
            .unwrap_or_default();
        let status_label = status_label(&event, locale);
        let when = match (&event.scheduled_for, &event.scheduled_until) {
            (Some(a), Some(b)) => format!(
                "{} – {}",
                local_time(a, &tz, locale),
                local_time(b, &tz, locale)
            ),
            _ => String::new(),
        };
        let next = update
            .as_ref()
            .and_then(|u| u.next_update_by.as_deref())
            .map(|t| local_time(t, &tz, locale))
            .unwrap_or_default();
        vec![
            ("title", title.clone()),
            ("status", status_label),
            ("notice", notice_label(key, locale)),
            ("components", lines.join("\n")),
            ("body", body),
            ("when", when),
            ("next_update", next),
            (
                "link",
                format!(
                    "{}/status/events/{}",
                    state.settings.public_base_url, event.id
                ),
            ),
        ]
    };
    let template = if event.kind == MAINTENANCE {
        "status-maintenance"
    } else {
        "status-incident"
    };
    let en = args_for(Locale::En);
    let fr = args_for(Locale::Fr);
    let mut queued = 0;
    for r in &recipients {
        let audience = match r.locale.as_deref().and_then(Locale::parse) {
            Some(l) => Audience::One(l),
            None => Audience::Both,
        };
        // Each subscriber's own preferences page (language, components, unsubscribe).
        let preferences = format!(
            "{}/status/subscriptions/{}",
            state.settings.public_base_url,
            composer.signed_id(crate::status_subscriptions::MANAGE, r.id)
        );
        let mut en = en.clone();
        en.push(("preferences", preferences.clone()));
        let mut fr = fr.clone();
        fr.push(("preferences", preferences));
        let mut mail = composer.compose(&Draft {
            to: &r.email,
            audience,
            key: template,
            args: &en,
            fr_args: Some(&fr),
            unsubscribe: Some(Unsubscribe::StatusSubscriber {
                subscriber_id: r.id,
            }),
        })?;
        mail.idempotency_key = Some(format!("status:{event_id}:{key}:{}", r.id));
        if store::outbox::enqueue(conn, None, &mail).await?.is_some() {
            queued += 1;
        }
    }
    sp::set_notice_recipients(conn, event_id, key, queued as i64).await?;
    metrics::counter!("triage_status_notices_total").increment(queued as u64);
    Ok(queued)
}

/// Organizations live on a component's service are subscribed to it: a confirmed
/// subscription of their help desk address, made when first needed. One they ended stays
/// ended.
async fn subscribe_live_organizations(
    conn: &mut store::Conn,
    component_ids: &[i64],
) -> AppResult<()> {
    for component in sp::components(conn).await? {
        let (Some(service), true) = (component.service_id, component_ids.contains(&component.id))
        else {
            continue;
        };
        for (org, address) in sp::live_organizations_of_service(conn, service).await? {
            let Some(address) = address.filter(|a| a.contains('@')) else {
                continue;
            };
            let address = address.trim().to_ascii_lowercase();
            let id = match sp::find_subscriber(conn, &address, "components", None).await? {
                Some(s) => s.id,
                None => {
                    sp::insert_subscriber(
                        conn,
                        &sp::NewSubscriber {
                            email: &address,
                            locale: None,
                            scope: "components",
                            event_id: None,
                            organization_id: Some(org),
                            confirmed: true,
                        },
                    )
                    .await?
                }
            };
            let mut chosen = sp::subscriber_components(conn, id).await?;
            if !chosen.contains(&component.id) {
                chosen.push(component.id);
                sp::set_subscriber_components(conn, id, &chosen).await?;
            }
        }
    }
    Ok(())
}

pub fn status_label(event: &Event, locale: Locale) -> String {
    if event.kind == MAINTENANCE {
        MaintenanceStatus::from_str(&event.status)
            .map(|s| s.label(locale).to_owned())
            .unwrap_or_else(|_| event.status.clone())
    } else {
        IncidentStatus::from_str(&event.status)
            .map(|s| s.label(locale).to_owned())
            .unwrap_or_else(|_| event.status.clone())
    }
}

fn notice_label(key: &str, locale: Locale) -> String {
    let fr = locale == Locale::Fr;
    let label = match key.split(':').next().unwrap_or(key) {
        "scheduled" => {
            if fr {
                "Maintenance planifiée"
            } else {
                "Maintenance scheduled"
            }
        }
        "before" => {
            if fr {
                "Rappel"
            } else {
                "Reminder"
            }
        }
        "start" => {
            if fr {
                "Début"
            } else {
                "Started"
            }
        }
        "completion" => {
            if fr {
                "Terminée"
            } else {
                "Completed"
            }
        }
        "cancelled" => {
            if fr {
                "Annulée"
            } else {
                "Cancelled"
            }
        }
        "resolution" => {
            if fr {
                "Résolu"
            } else {
                "Resolved"
            }
        }
        _ => {
            if fr {
                "Mise à jour"
            } else {
                "Update"
            }
        }
    };
    label.to_owned()
}

pub fn local_time(db: &str, tz: &jiff::tz::TimeZone, locale: Locale) -> String {
    let Some(ts) = domain::time::from_db(db) else {
        return db.to_owned();
    };
    let zoned = ts.to_zoned(tz.clone());
    match locale {
        Locale::Fr => zoned.strftime("%Y-%m-%d %H h %M %Z").to_string(),
        Locale::En => zoned.strftime("%Y-%m-%d %H:%M %Z").to_string(),
    }
}

// ---------- the scheduler ----------

/// One pass of the status page's clock: maintenances start and complete at their times
/// (when they do so by themselves), their notices go out at the pack's offsets, and the desk
/// is reminded of a critical incident's update that is due. Each step is its own
/// transaction and recorded, so a pass after a crash or on another node does nothing twice.
pub async fn run_due(state: &AppState) -> AppResult<()> {
    let now = domain::time::now();
    let mut conn = state.db.reader().acquire().await?;
    let offsets = maintenance_offsets(state, &mut conn).await?;
    let maintenances = sp::open_maintenances(&mut conn).await?;
    let incidents = sp::open_incidents(&mut conn).await?;
    drop(conn);
    let Some(calendar) = domain::calendar::shipped_calendar("business") else {
        return Ok(());
    };
    let system = Actor::system("status-page");
    for m in maintenances {
        let (Some(start), Some(end)) = (
            m.scheduled_for.as_deref().and_then(domain::time::from_db),
            m.scheduled_until.as_deref().and_then(domain::time::from_db),
        ) else {
            continue;
        };
        let status = MaintenanceStatus::from_str(&m.status).unwrap_or(MaintenanceStatus::Scheduled);
        if m.auto_transition && status == MaintenanceStatus::Scheduled && now >= start && now < end
        {
            post_update_if(
                state,
                &system,
                m.id,
                &UpdateInput {
                    status: MaintenanceStatus::InProgress.as_str().into(),
                    body_en: "The scheduled maintenance has started.".into(),
                    body_fr: "La maintenance planifiée a commencé.".into(),
                    impact: None,
                    components: None,
                    next_update_by: None,
                },
                Some(&m.status),
            )
            .await?;
            continue;
        }
        if m.auto_transition && status != MaintenanceStatus::Completed && now >= end {
            post_update_if(
                state,
                &system,
                m.id,
                &UpdateInput {
                    status: MaintenanceStatus::Completed.as_str().into(),
                    body_en: "The scheduled maintenance is completed.".into(),
                    body_fr: "La maintenance planifiée est terminée.".into(),
                    impact: None,
                    components: None,
                    next_update_by: None,
                },
                Some(&m.status),
            )
            .await?;
            continue;
        }
        let scheduled_at = domain::time::from_db(&m.created_at).unwrap_or(now);
        let Ok(plan) =
            domain::status_page::notice_schedule(&offsets, scheduled_at, start, end, calendar)
        else {
            continue;
        };
        for notice in plan {
            // Start and completion are sent by the transitions themselves.
            if notice.key == "start" || notice.key == "completion" || notice.send_at > now {
                continue;
            }
            let mut tx = state.db.begin().await?;
            notify(state, &mut tx, m.id, &notice.key).await?;
            tx.commit().await?;
        }
    }
    for incident in incidents {
        remind_if_due(state, &incident, now).await?;
    }
    Ok(())
}

/// The selected policy pack's maintenance notice offsets.
async fn maintenance_offsets(
    state: &AppState,
    conn: &mut store::Conn,
) -> AppResult<Vec<domain::status_page::NoticeOffset>> {
    Ok(match store::policy_packs::selected(conn).await? {
        Some(selected) => state
            .packs
            .get(conn, selected.id)
            .await?
            .maintenance_notices()
            .to_vec(),
        None => domain::status_page::DEFAULT_OFFSETS
            .iter()
            .filter_map(|text| text.parse().ok())
            .collect(),
    })
}

/// A critical incident needs an update every hour (or by the time the last one promised):
/// the desk (whoever posted it) is reminded once per due time.
async fn remind_if_due(state: &AppState, incident: &Event, now: Timestamp) -> AppResult<()> {
    if incident.impact != IncidentImpact::Critical.as_str() {
        return Ok(());
    }
    let Some(due) = next_update_due(incident) else {
        return Ok(());
    };
    // Remind ten minutes ahead.
    if now + jiff::SignedDuration::from_mins(10) < due {
        return Ok(());
    }
    let key = format!("reminder:{}", domain::time::to_db(due));
    let mut tx = state.db.begin().await?;
    if !sp::record_notice(&mut tx, incident.id, &key, 0).await? {
        return Ok(());
    }
    let Some(to) = desk_address(&mut tx, incident).await? else {
        tx.commit().await?;
        return Ok(());
    };
    let composer = state.composer(&mut tx).await?;
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let due_db = domain::time::to_db(due);
    let args = |locale| -> Vec<(&'static str, String)> {
        vec![
            (
                "title",
                if locale == Locale::Fr {
                    incident.title_fr.clone()
                } else {
                    incident.title_en.clone()
                },
            ),
            ("due", local_time(&due_db, &tz, locale)),
            (
                "link",
                format!(
                    "{}/console/status/{}",
                    state.settings.public_base_url, incident.id
                ),
            ),
        ]
    };
    let (en, fr) = (args(Locale::En), args(Locale::Fr));
    let (address, locale) = to;
    let mut mail = composer.compose(&Draft {
        to: &address,
        audience: Audience::One(locale),
        key: "status-update-due",
        args: if locale == Locale::Fr { &fr } else { &en },
        fr_args: None,
        unsubscribe: None,
    })?;
    mail.idempotency_key = Some(format!("status:{}:{key}", incident.id));
    store::outbox::enqueue(&mut tx, None, &mail).await?;
    sp::set_notice_recipients(&mut tx, incident.id, &key, 1).await?;
    tx.commit().await?;
    Ok(())
}

/// When a critical incident's next update is due: the promised time, else an hour after
/// the last update.
pub fn next_update_due(incident: &Event) -> Option<Timestamp> {
    if let Some(promised) = incident
        .next_update_by
        .as_deref()
        .and_then(domain::time::from_db)
    {
        return Some(promised);
    }
    if incident.impact != IncidentImpact::Critical.as_str() {
        return None;
    }
    domain::time::from_db(&incident.updated_at).map(|t| t + jiff::SignedDuration::from_hours(1))
}

async fn desk_address(
    conn: &mut store::Conn,
    incident: &Event,
) -> AppResult<Option<(String, Locale)>> {
    let Some(person) = sp::last_poster(conn, incident.id).await? else {
        return Ok(None);
    };
    let person = store::people::get(conn, &domain::policy::OrgScope::All, person).await?;
    let locale = Locale::parse(&person.locale).unwrap_or_default();
    Ok(Some((person.email, locale)))
}

// ---------- reading, for the console and the API ----------

/// An incident or maintenance with everything the desk sees of it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EventDetail {
    pub event: Event,
    pub affected: Vec<Affected>,
    /// Newest first.
    pub updates: Vec<sp::Update>,
    /// Notices sent (`scheduled`, `before:7d`, `update:12`, `reminder:…`), with how many
    /// subscribers each reached.
    pub notices: Vec<sp::Notice>,
    /// A critical incident's next update is due by then (RFC 3339).
    pub next_update_due: Option<String>,
    /// The desk ticket it was published from.
    pub ticket_number: Option<String>,
}

pub async fn detail(conn: &mut store::Conn, id: i64) -> AppResult<EventDetail> {
    let event = sp::event(conn, id).await?;
    let affected = sp::affected_of(conn, id).await?;
    let updates = sp::updates_of(conn, id).await?;
    let notices = sp::notices_of(conn, id).await?;
    let next_update_due = if event.resolved_at.is_none() && event.kind == INCIDENT {
        next_update_due(&event).map(domain::time::to_db)
    } else {
        None
    };
    let ticket_number = match event.ticket_id {
        Some(ticket) => Some(
            store::tickets::get(conn, &crate::sla::everything(), ticket)
                .await?
                .number,
        ),
        None => None,
    };
    Ok(EventDetail {
        event,
        affected,
        updates,
        notices,
        next_update_due,
        ticket_number,
    })
}

/// Events open now or closed in the last 90 days, newest first.
pub async fn recent(conn: &mut store::Conn) -> AppResult<Vec<Event>> {
    let since = domain::time::now() - jiff::SignedDuration::from_hours(24 * 90);
    Ok(sp::events_since(conn, &domain::time::to_db(since)).await?)
}

// ---------- publishing a desk incident ----------

/// What the desk adds when it publishes one of its incidents on the status page. The
/// title defaults to the ticket's summary, the impact to its priority (1 critical, 2
/// major, 3 minor, 4 none), the components to those of the ticket's service.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    #[serde(default)]
    pub title_en: Option<String>,
    #[serde(default)]
    pub title_fr: Option<String>,
    #[serde(default)]
    pub impact: Option<String>,
    pub body_en: String,
    pub body_fr: String,
    #[serde(default)]
    pub components: Option<Vec<AffectedInput>>,
    #[serde(default)]
    pub next_update_by: Option<String>,
    /// Set the login-page banner; default: for priority 1 and 2 (P1/P2, Sev 1/2).
    #[serde(default)]
    pub banner: Option<bool>,
}

pub fn impact_of_priority(rank: i64) -> IncidentImpact {
    match rank {
        1 => IncidentImpact::Critical,
        2 => IncidentImpact::Major,
        3 => IncidentImpact::Minor,
        _ => IncidentImpact::None,
    }
}

/// Publishes a desk incident: the status-page incident, its first update and notice, and
/// (for priority 1 and 2) the banner, in one step. A ticket is published once; after that
/// the desk posts updates to its status-page incident.
pub async fn publish_ticket(
    state: &AppState,
    actor: &Actor,
    scope: &domain::policy::TicketScope,
    number: &str,
    input: &PublishInput,
) -> AppResult<Posted> {
    let mut conn = state.db.reader().acquire().await?;
    let ticket = store::tickets::get_by_number(&mut conn, scope, number).await?;
    if ticket.kind != "incident" {
        return Err(AppError::invalid("invalid_choice", "kind").with_arg("value", ticket.kind));
    }
    if let Some(existing) = sp::event_of_ticket(&mut conn, ticket.id).await?
        && existing.resolved_at.is_none()
    {
        return Err(
            AppError::new(axum::http::StatusCode::CONFLICT, "already_published")
                .with_detail(json!({"event_id": existing.id})),
        );
    }
    let components = match &input.components {
        Some(list) => list.clone(),
        None => sp::components(&mut conn)
            .await?
            .into_iter()
            .filter(|c| c.service_id.is_some() && c.service_id == ticket.service_id)
            .map(|c| AffectedInput {
                component_id: c.id,
                status: String::new(),
                text_en: String::new(),
                text_fr: String::new(),
            })
            .collect(),
    };
    drop(conn);
    let impact = match &input.impact {
        Some(v) if !v.trim().is_empty() => v.clone(),
        _ => impact_of_priority(ticket.priority).as_str().to_owned(),
    };
    let pick = |v: &Option<String>| {
        v.as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(&ticket.summary)
            .to_owned()
    };
    let incident = IncidentInput {
        title_en: pick(&input.title_en),
        title_fr: pick(&input.title_fr),
        impact: impact.clone(),
        status: None,
        body_en: input.body_en.clone(),
        body_fr: input.body_fr.clone(),
        components,
        next_update_by: input.next_update_by.clone(),
        banner: Some(input.banner.unwrap_or(ticket.priority <= 2)),
    };
    let posted = create_incident(state, actor, &incident, Some(ticket.id)).await?;
    let mut tx = state.db.begin().await?;
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "status_published",
        true,
        None,
        json!({"event_id": posted.event_id, "title": incident.title_en, "impact": impact}),
    )
    .await?;
    tx.commit().await?;
    Ok(posted)
}
