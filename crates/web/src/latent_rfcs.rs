//! Latent RFCs: for a P1/P2 incident the emergency repair may be done first; the agent
//! records it on the incident, which opens the emergency-repair change (implemented, linked
//! `fixed_by` from the incident) whose RFC must be filed within 24 hours
//! (`domain::change::latent_rfc_due`). A P3/P4 incident's repair needs its emergency RFC
//! first (`rfc_first_required`). A job on one node at a time (a lease) reminds the
//! implementer and the change managers 8 h and 1 h before the RFC is due, each once, and
//! marks the breach when it passes unfiled. Filing late needs a reason and is reported as a
//! breach with how late, never accepted silently.
use crate::AppState;
use crate::change_implementation::{NewKind, change_of, insert_ticket};
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::mail::{Audience, Draft};
use crate::service::event;
use crate::status::{instant, local_time};
use axum::http::StatusCode;
use domain::change::{
    self as rules, ChangeOrigin, ChangeRisk, ChangeStatus, ChangeType, LATENT_RFC_REMINDERS,
    LatentRfcState, RfcFacts,
};
use domain::change_schedule::NoticeRule;
use domain::policy::{Action, OrgScope};
use domain::text::Locale;
use domain::ticket::{Channel, LinkKind, TicketKind};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use store::audit::{Actor, append};
use store::change_outcomes::{self as db, ChangeAfter};

const LEASE_NAME: &str = "latent_rfcs";
const LEASE: SignedDuration = SignedDuration::from_mins(5);
const MAX_TEXT: usize = 20_000;

// ---------- recording the repair ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyChangeInput {
    /// What was done.
    pub what: String,
    /// When it was done (RFC 3339); default now.
    #[serde(default)]
    pub implemented_at: Option<String>,
    /// Who did it; default the agent recording it.
    #[serde(default)]
    pub implementer: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LatentCreated {
    /// The emergency-repair change.
    pub number: String,
    pub implemented_at: String,
    /// When its RFC must be filed by.
    pub due_at: String,
}

/// Agents: records on a P1/P2 incident that an emergency repair was done first. Opens the
/// emergency-repair change, implemented, due to have its RFC filed within 24 h, linked
/// incident → change (`fixed_by`). P3/P4: `rfc_first_required`.
pub async fn record_emergency_change(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    incident_number: &str,
    input: &EmergencyChangeInput,
) -> AppResult<LatentCreated> {
    who.require(Action::WorkTickets)?;
    let what = domain::text::required("what", &input.what, MAX_TEXT)?;
    let implementer = match input.implementer.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => domain::text::required("implementer", name, 300)?,
        _ => who.person.display_name.clone(),
    };
    let now = domain::time::now();
    let implemented_at = match input.implemented_at.as_deref().map(str::trim) {
        Some(at) if !at.is_empty() => instant(at, "implemented_at")?,
        _ => now,
    };
    if implemented_at > now {
        return Err(AppError::invalid("in_the_future", "implemented_at"));
    }
    crate::tickets::check_phi([("what", what.as_str())])?;
    let mut tx = state.db.begin().await?;
    let incident =
        store::tickets::get_by_number(&mut tx, &who.principal.ticket_scope(), incident_number)
            .await?;
    if incident.kind != TicketKind::Incident.as_str() {
        return Err(AppError::invalid("incident_required", "number"));
    }
    if !rules::may_change_first(incident.priority) {
        return Err(AppError::new(StatusCode::CONFLICT, "rfc_first_required")
            .with_arg("priority", incident.priority.to_string()));
    }
    // One latent RFC per incident (a unique index holds it against a concurrent submit).
    if let Some(existing) = db::latent_of_incident(&mut tx, incident.id).await? {
        return Err(
            AppError::new(StatusCode::CONFLICT, "latent_rfc_exists").with_arg("number", existing)
        );
    }
    let summary: String = crate::i18n::t_args(
        Locale::En,
        "latent-change-summary",
        &[
            ("number", incident.number.clone()),
            ("what", what.lines().next().unwrap_or_default().to_owned()),
        ],
    )
    .chars()
    .take(domain::ticket::SUMMARY_MAX)
    .collect();
    let (id, number) = insert_ticket(
        state,
        &mut tx,
        actor,
        NewKind {
            kind: TicketKind::Change,
            organization_id: incident.organization_id,
            service_id: incident.service_id,
            reporter_id: who.person.id,
            summary,
            details: what.clone(),
            impact: incident.impact,
            urgency: incident.urgency,
            priority: Some(incident.priority),
            channel: Channel::Api,
            audit: json!({"kind": "change", "latent_rfc": true, "incident": incident.number}),
        },
    )
    .await?;
    let at = domain::time::to_db(implemented_at);
    let due = domain::time::to_db(rules::latent_rfc_due(implemented_at));
    let path = serde_json::to_string(&rules::default_promotion_path())
        .map_err(|_| AppError::internal())?;
    let services: Vec<i64> = incident.service_id.into_iter().collect();
    db::insert_implemented(
        &mut tx,
        &db::NewImplemented {
            ticket_id: id,
            change_type: ChangeType::EmergencyRepair.as_str(),
            origin: ChangeOrigin::Operator.as_str(),
            notice_rule: NoticeRule::None.as_str(),
            implemented_at: &at,
            implementer: &implementer,
            promotion_path: &path,
            latent_due_at: Some(&due),
            latent_incident_id: Some(incident.id),
            outcome: None,
            outcome_notes: None,
            partner_reported: false,
            service_ids: &services,
        },
    )
    .await?;
    if let Some(code) = &incident.configuration_item
        && let Some(item) = store::problems::item_id_by_code(&mut tx, code).await?
    {
        store::problems::add_item(&mut tx, id, item).await?;
    }
    crate::changes::keep_ticket_in_step(&mut tx, actor, id, ChangeStatus::Implemented).await?;
    store::tickets::add_link(&mut tx, incident.id, id, LinkKind::FixedBy).await?;
    store::tickets::add_event(
        &mut tx,
        incident.id,
        actor,
        "emergency_change",
        true,
        Some(&what),
        json!({"change": number, "implemented_at": at, "implementer": implementer, "due_at": due}),
    )
    .await?;
    store::tickets::add_event(
        &mut tx,
        id,
        actor,
        "latent_rfc",
        true,
        None,
        json!({"incident": incident.number, "implemented_at": at, "due_at": due}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "change.latent.create",
            "ticket",
            id,
            Some(incident.organization_id),
            json!({"number": number, "incident": incident.number, "due_at": due}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(LatentCreated {
        number,
        implemented_at: at,
        due_at: due,
    })
}

// ---------- filing the RFC ----------

/// The RFC's fields a latent RFC is completed with (summary and description are the
/// change ticket's; the incident is the one it repaired).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LatentFileInput {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub notice_required: Option<bool>,
    #[serde(default)]
    pub disaster_recovery_exists: Option<bool>,
    #[serde(default)]
    pub training_documents_exist: Option<bool>,
    #[serde(default)]
    pub tested_in_lower_environments: Option<bool>,
    /// high, medium or low.
    #[serde(default)]
    pub risk: Option<String>,
    #[serde(default)]
    pub users_affected: Option<bool>,
    #[serde(default)]
    pub users_affected_how: String,
    #[serde(default)]
    pub outage_required: Option<bool>,
    #[serde(default)]
    pub outage_start: Option<String>,
    #[serde(default)]
    pub outage_end: Option<String>,
    /// Default: when the repair was done.
    #[serde(default)]
    pub requested_start: Option<String>,
    #[serde(default)]
    pub requested_end: Option<String>,
    #[serde(default)]
    pub product_category: String,
    /// Default: who did the repair.
    #[serde(default)]
    pub implementer: Option<String>,
    #[serde(default)]
    pub implementation_plan: String,
    #[serde(default)]
    pub backout_plan: String,
    /// Service codes to add to the incident's.
    #[serde(default)]
    pub services: Vec<String>,
    /// Configuration item codes to add to the incident's.
    #[serde(default)]
    pub configuration_items: Vec<String>,
    /// Required when filed after its due time.
    #[serde(default)]
    pub late_reason: Option<String>,
}

fn optional_instant(value: &Option<String>, field: &'static str) -> AppResult<Option<Timestamp>> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(Some(instant(v, field)?)),
        _ => Ok(None),
    }
}

fn bounded(value: &str, field: &'static str) -> AppResult<String> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT {
        return Err(AppError::invalid("too_long", field));
    }
    Ok(value.to_owned())
}

/// Agents: files (completes) a latent RFC with every required field (422 `missing_fields`
/// names each missing one). After its due time a reason is required
/// (`late_reason_required`) and it stays on the breach report as filed late.
pub async fn file(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &LatentFileInput,
) -> AppResult<LatentRow> {
    who.require(Action::WorkTickets)?;
    let now = domain::time::now();
    let mut tx = state.db.begin().await?;
    let (ticket, change) = change_of(&mut tx, who, number).await?;
    if change.implemented_first == 0 {
        return Err(AppError::new(StatusCode::CONFLICT, "not_latent"));
    }
    if change.latent_filed_at.is_some() {
        return Err(AppError::new(StatusCode::CONFLICT, "already_filed"));
    }
    for code in &input.services {
        let id = store::changes::service_id_by_code(&mut tx, code.trim())
            .await?
            .ok_or_else(|| AppError::invalid("unknown_service", "services"))?;
        store::changes::add_service(&mut tx, ticket.id, id).await?;
    }
    for code in &input.configuration_items {
        let item = store::problems::item_id_by_code(&mut tx, code)
            .await?
            .ok_or_else(|| {
                AppError::invalid("unknown_configuration_item", "configuration_items")
            })?;
        store::problems::add_item(&mut tx, ticket.id, item).await?;
    }
    let services = db::services(&mut tx, ticket.id).await?.len();
    let items = store::problems::items_of(&mut tx, &[ticket.id])
        .await?
        .len();
    let risk = match input.risk.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Some(
            ChangeRisk::from_str(r)
                .map_err(|_| AppError::invalid("invalid_choice", "risk").with_arg("value", r))?,
        ),
        _ => None,
    };
    let requested_start = optional_instant(&input.requested_start, "requested_start")?
        .or_else(|| domain::time::from_db(&change.requested_start));
    let requested_end = optional_instant(&input.requested_end, "requested_end")?;
    let outage_start = optional_instant(&input.outage_start, "outage_start")?;
    let outage_end = optional_instant(&input.outage_end, "outage_end")?;
    let implementer = match input.implementer.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => bounded(name, "implementer")?,
        _ => change.implementer.clone(),
    };
    let facts = RfcFacts {
        kind: Some(ChangeType::EmergencyRepair),
        origin: Some(ChangeOrigin::Operator),
        reason: bounded(&input.reason, "reason")?,
        description: ticket.details.clone(),
        summary: ticket.summary.clone(),
        notice_required: input.notice_required,
        disaster_recovery_exists: input.disaster_recovery_exists,
        training_documents_exist: input.training_documents_exist,
        tested_in_lower_environments: input.tested_in_lower_environments,
        risk,
        impact: Some(ticket.impact),
        urgency: Some(ticket.urgency),
        users_affected: input.users_affected,
        users_affected_how: bounded(&input.users_affected_how, "users_affected_how")?,
        outage_required: input.outage_required,
        outage_start,
        outage_end,
        affected_services: services,
        requested_start,
        requested_end,
        product_category: bounded(&input.product_category, "product_category")?,
        configuration_items: items,
        implementer,
        implementation_plan: bounded(&input.implementation_plan, "implementation_plan")?,
        backout_plan: bounded(&input.backout_plan, "backout_plan")?,
        partner_approval: String::new(),
        has_partner_spoc: false,
        has_incident: change.latent_incident_id.is_some(),
    };
    let missing = rules::missing_fields(&facts);
    if let Some(first) = missing.first() {
        return Err(AppError::invalid("missing_fields", first)
            .with_arg("fields", missing.join(", "))
            .with_detail(json!({"missing": missing})));
    }
    rules::check_values(&facts)?;
    crate::tickets::check_phi([
        ("reason", facts.reason.as_str()),
        ("users_affected_how", facts.users_affected_how.as_str()),
        ("implementation_plan", facts.implementation_plan.as_str()),
        ("backout_plan", facts.backout_plan.as_str()),
    ])?;
    let due = change
        .latent_due_at
        .as_deref()
        .and_then(domain::time::from_db)
        .ok_or_else(AppError::internal)?;
    let late = now > due;
    let late_reason = input
        .late_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| bounded(r, "late_reason"))
        .transpose()?;
    if late && late_reason.is_none() {
        return Err(AppError::invalid("late_reason_required", "late_reason")
            .with_arg("due", domain::time::to_db(due)));
    }
    let filed_at = domain::time::to_db(now);
    let db_time = |t: Option<Timestamp>| t.map(domain::time::to_db);
    let (outage_start, outage_end) = (db_time(facts.outage_start), db_time(facts.outage_end));
    let (requested_start, requested_end) = (
        db_time(facts.requested_start).unwrap_or_default(),
        db_time(facts.requested_end).unwrap_or_default(),
    );
    let risk = facts.risk.map(|r| r.as_str()).unwrap_or_default();
    let notice_required = facts.notice_required.unwrap_or(false);
    let filed = db::file_latent(
        &mut tx,
        ticket.id,
        &db::LatentFiling {
            reason: &facts.reason,
            notice_required,
            notice_rule: NoticeRule::default_for(ChangeOrigin::Operator, notice_required).as_str(),
            disaster_recovery_exists: facts.disaster_recovery_exists.unwrap_or(false),
            training_documents_exist: facts.training_documents_exist.unwrap_or(false),
            tested_in_lower_environments: facts.tested_in_lower_environments.unwrap_or(false),
            risk,
            users_affected: facts.users_affected.unwrap_or(false),
            users_affected_how: &facts.users_affected_how,
            outage_required: facts.outage_required.unwrap_or(false),
            outage_start: outage_start.as_deref(),
            outage_end: outage_end.as_deref(),
            requested_start: &requested_start,
            requested_end: &requested_end,
            product_category: &facts.product_category,
            implementer: &facts.implementer,
            implementation_plan: &facts.implementation_plan,
            backout_plan: &facts.backout_plan,
            late_reason: late_reason.as_deref(),
            filed_at: &filed_at,
        },
    )
    .await?;
    if !filed {
        return Err(AppError::new(StatusCode::CONFLICT, "already_filed"));
    }
    let state_now = LatentRfcState::of(due, Some(now), now);
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "latent_rfc_filed",
        true,
        late_reason.as_deref(),
        json!({"state": state_now, "due_at": domain::time::to_db(due), "filed_at": filed_at}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "change.latent.file",
            "ticket",
            ticket.id,
            Some(ticket.organization_id),
            json!({"number": ticket.number, "state": state_now, "late_reason": late_reason}),
        ),
    )
    .await?;
    let change = db::get(&mut tx, ticket.id).await?;
    let incident = incident_number(&mut tx, &change).await?;
    tx.commit().await?;
    Ok(row_of(change, incident, now))
}

// ---------- the breach report ----------

/// A latent RFC against its 24-hour target.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LatentRow {
    pub number: String,
    pub summary: String,
    pub organization_id: i64,
    /// The incident it repaired.
    pub incident: Option<String>,
    pub implementer: String,
    pub implemented_at: Option<String>,
    pub due_at: Option<String>,
    pub filed_at: Option<String>,
    pub state: LatentRfcState,
    /// Overdue or filed late.
    pub breach: bool,
    /// How many minutes past due it was filed (filed late) or is now (overdue).
    pub late_minutes: Option<i64>,
    /// Why it was filed late.
    pub late_reason: Option<String>,
    /// Reminders sent: 8h, 1h.
    pub reminders_sent: Vec<String>,
}

fn index_of(offset: SignedDuration) -> usize {
    LATENT_RFC_REMINDERS
        .iter()
        .position(|o| *o == offset)
        .unwrap_or_default()
}

fn reminder_label(offset: SignedDuration) -> String {
    format!("{}h", offset.as_hours())
}

fn row_of(c: ChangeAfter, incident: Option<String>, now: Timestamp) -> LatentRow {
    let due = c.latent_due_at.as_deref().and_then(domain::time::from_db);
    let filed = c.latent_filed_at.as_deref().and_then(domain::time::from_db);
    let state = due.map_or(LatentRfcState::Open, |due| {
        LatentRfcState::of(due, filed, now)
    });
    let late_minutes = due.and_then(|due| {
        let at = match state {
            LatentRfcState::FiledLate => filed?,
            LatentRfcState::Overdue => now,
            _ => return None,
        };
        Some(at.duration_since(due).as_mins())
    });
    let reminders_sent = LATENT_RFC_REMINDERS
        .iter()
        .enumerate()
        .filter(|(i, _)| c.latent_reminders_sent & (1 << i) != 0)
        .map(|(_, offset)| reminder_label(*offset))
        .collect();
    LatentRow {
        number: c.number,
        summary: c.summary,
        organization_id: c.organization_id,
        incident,
        implementer: c.implementer,
        implemented_at: c.implemented_at,
        due_at: c.latent_due_at,
        filed_at: c.latent_filed_at,
        breach: state.is_breach(),
        state,
        late_minutes,
        late_reason: c.latent_late_reason,
        reminders_sent,
    }
}

async fn incident_number(conn: &mut store::Conn, c: &ChangeAfter) -> AppResult<Option<String>> {
    Ok(match c.latent_incident_id {
        Some(id) => Some(
            store::tickets::get(conn, &crate::sla::everything(), id)
                .await?
                .number,
        ),
        None => None,
    })
}

/// Agents: latent RFCs whose repair was done in [from, to), with their state against the
/// target; breaches (overdue, filed late) flagged with how late and why.
pub async fn report(
    state: &AppState,
    who: &Identity,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<Vec<LatentRow>> {
    who.require(Action::WorkTickets)?;
    let bound = |v: Option<&str>, field: &'static str| -> AppResult<Option<String>> {
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => {
                let at = match v.parse::<jiff::civil::Date>() {
                    Ok(date) => date
                        .to_zoned(jiff::tz::TimeZone::UTC)
                        .map_err(|_| AppError::invalid("invalid_datetime", field))?
                        .timestamp(),
                    Err(_) => instant(v, field)?,
                };
                Ok(Some(domain::time::to_db(at)))
            }
            None => Ok(None),
        }
    };
    let (from, to) = (bound(from, "from")?, bound(to, "to")?);
    let mut conn = state.db.reader().acquire().await?;
    let now = domain::time::now();
    let mut rows = Vec::new();
    for c in db::latent(&mut conn, from.as_deref(), to.as_deref()).await? {
        let incident = incident_number(&mut conn, &c).await?;
        rows.push(row_of(c, incident, now));
    }
    Ok(rows)
}

// ---------- the job ----------

/// One pass on one node at a time (a lease): reminders and breaches. Returns false when
/// another node holds the lease.
pub async fn run_due(state: &AppState) -> AppResult<bool> {
    let lease = {
        let mut tx = state.db.begin().await?;
        let lease = store::leases::acquire(&mut tx, LEASE_NAME, LEASE).await?;
        tx.commit().await?;
        lease
    };
    let Some(lease) = lease else {
        return Ok(false);
    };
    let outcome = look_after_all(state).await;
    let mut tx = state.db.begin().await?;
    store::leases::release(&mut tx, lease).await?;
    tx.commit().await?;
    outcome.map(|()| true)
}

async fn look_after_all(state: &AppState) -> AppResult<()> {
    let now = domain::time::now();
    let open = {
        let mut conn = state.db.reader().acquire().await?;
        db::latent_unfiled(&mut conn).await?
    };
    for change in open {
        if let Err(e) = look_after(state, &change, now).await {
            tracing::warn!(code = e.code, ticket = change.number, "latent RFC");
        }
    }
    Ok(())
}

/// The reminder due now for one latent RFC (the latest whose time has come: a pass after a
/// long pause sends the 1 h reminder, not both), then the breach.
async fn look_after(state: &AppState, change: &ChangeAfter, now: Timestamp) -> AppResult<()> {
    let Some(due) = change
        .latent_due_at
        .as_deref()
        .and_then(domain::time::from_db)
    else {
        return Ok(());
    };
    if now > due {
        let system = Actor::system("latent-rfcs");
        let mut tx = state.db.begin().await?;
        if db::mark_breached(&mut tx, change.ticket_id, &domain::time::to_db(now)).await? {
            store::tickets::add_event(
                &mut tx,
                change.ticket_id,
                &system,
                "latent_rfc_overdue",
                true,
                None,
                json!({"due_at": change.latent_due_at}),
            )
            .await?;
            append(
                &mut tx,
                &system,
                event(
                    "change.latent.breach",
                    "ticket",
                    change.ticket_id,
                    Some(change.organization_id),
                    json!({"number": change.number, "due_at": change.latent_due_at}),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    // The latest reminder whose time has come and that is not sent yet.
    let due_now = LATENT_RFC_REMINDERS
        .iter()
        .enumerate()
        .rfind(|(_, offset)| due - **offset <= now);
    let Some((index, offset)) = due_now else {
        return Ok(());
    };
    // Earlier reminders whose time passed unsent are skipped with it.
    let bits = (0..=index).fold(0_i64, |bits, i| bits | (1 << i));
    if change.latent_reminders_sent & (1 << index) != 0 {
        return Ok(());
    }
    remind(state, change, bits, *offset, due).await
}

async fn remind(
    state: &AppState,
    change: &ChangeAfter,
    bits: i64,
    offset: SignedDuration,
    due: Timestamp,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    if !db::mark_reminder(&mut tx, change.ticket_id, 1 << index_of(offset), bits).await? {
        return Ok(());
    }
    let mut people = vec![change.reporter_id];
    if let Some(op) = store::orgs::operator_id(&mut tx).await? {
        for manager in
            store::people::holders_of(&mut tx, op, domain::role::Role::ChangeManager).await?
        {
            if !people.contains(&manager.id) {
                people.push(manager.id);
            }
        }
    }
    let incident = incident_number(&mut tx, change).await?.unwrap_or_default();
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let link = format!(
        "{}/console/changes/{}/implementation",
        state.settings.public_base_url, change.number
    );
    let composer = state.composer(&mut tx).await?;
    let label = reminder_label(offset);
    for id in people {
        let person = store::people::get(&mut tx, &OrgScope::All, id).await?;
        if !person.is_active() {
            continue;
        }
        let locale = Locale::parse(&person.locale).unwrap_or_default();
        let args = [
            ("number", change.number.clone()),
            ("summary", change.summary.clone()),
            ("incident", incident.clone()),
            ("due", local_time(&domain::time::to_db(due), &tz, locale)),
            ("link", link.clone()),
        ];
        let mut mail = composer.compose(&Draft {
            to: &person.email,
            audience: Audience::One(locale),
            key: "latent-rfc-reminder",
            args: &args,
            fr_args: None,
            unsubscribe: None,
        })?;
        mail.idempotency_key = Some(format!(
            "latent-rfc-reminder:{}:{label}:{}",
            change.ticket_id, person.id
        ));
        store::outbox::enqueue(&mut tx, Some(change.ticket_id), &mail).await?;
    }
    store::tickets::add_event(
        &mut tx,
        change.ticket_id,
        &Actor::system("latent-rfcs"),
        "latent_rfc_reminder",
        true,
        None,
        json!({"before": label, "due_at": change.latent_due_at}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Runs [`run_due`] every few seconds; one node at a time does the pass.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_due(&state).await {
                tracing::warn!(code = e.code, "latent RFC reminders");
            }
        }
    });
}
