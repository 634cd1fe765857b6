//! Change management after approval: the planned-outage notice to the organizations live on
//! the RFC's services and the status-page scheduled maintenance made from the RFC (both on
//! the desk's click, once the RFC is authorized or scheduled), the implementation outcome
//! (the partner's representative and the requester told, the maintenance completed or
//! cancelled), incidents raised during implementation (linked `raised_during`), and the
//! changes partners report once they have implemented them. Each step is one transaction
//! with its timeline entry, audit row and outbox mail.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::mail::{Audience, Draft};
use crate::service::event;
use crate::status::{self, AffectedInput, MaintenanceInput, UpdateInput, local_time};
use axum::http::StatusCode;
use domain::change::{ChangeOutcome, ChangeStatus, ChangeType};
use domain::policy::{Action, OrgScope};
use domain::text::Locale;
use domain::ticket::{Channel, Draft as TicketDraft, LinkKind, TicketKind};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use std::str::FromStr;
use store::Conn;
use store::audit::{Actor, append};
use store::change_outcomes::{self as db, ChangeAfter};
use store::tickets::Ticket;

const MAX_NOTES: usize = 4000;

// ---------- reading ----------

/// A change ticket the caller may see, with its change record.
pub(crate) async fn change_of(
    conn: &mut Conn,
    who: &Identity,
    number: &str,
) -> AppResult<(Ticket, ChangeAfter)> {
    let ticket = store::tickets::get_by_number(conn, &who.principal.ticket_scope(), number).await?;
    if ticket.kind != TicketKind::Change.as_str() {
        return Err(AppError::not_found());
    }
    let change = db::get(conn, ticket.id)
        .await
        .map_err(|_| AppError::not_found())?;
    Ok((ticket, change))
}

fn status_of(change: &ChangeAfter) -> AppResult<ChangeStatus> {
    ChangeStatus::from_str(&change.status).map_err(|_| AppError::internal())
}

/// Whether the change affects availability: an outage, or users affected.
pub fn affects_availability(change: &ChangeAfter) -> bool {
    change.outage_required != 0 || change.users_affected != 0
}

/// The window the outage notice and the maintenance announce: the outage's, else the
/// scheduled one, else the requested one.
pub fn outage_window(change: &ChangeAfter) -> (String, String) {
    match (
        &change.outage_start,
        &change.outage_end,
        &change.scheduled_start,
        &change.scheduled_end,
    ) {
        (Some(start), Some(end), _, _) => (start.clone(), end.clone()),
        (_, _, Some(start), Some(end)) => (start.clone(), end.clone()),
        _ => (change.requested_start.clone(), change.requested_end.clone()),
    }
}

/// What the implementation page and `GET /api/v1/changes/{number}/implementation` show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Implementation {
    pub change: ChangeAfter,
    /// Service codes.
    pub services: Vec<String>,
    pub affects_availability: bool,
    /// Authorized or scheduled: the notice and maintenance may be made.
    pub approved: bool,
    pub outage_start: String,
    pub outage_end: String,
    /// The status-page maintenance's status (scheduled, in_progress, completed, cancelled).
    pub maintenance_status: Option<String>,
    /// Incidents raised during implementation.
    pub incidents: Vec<store::tickets::Link>,
}

pub async fn implementation(
    state: &AppState,
    who: &Identity,
    number: &str,
) -> AppResult<Implementation> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let (ticket, change) = change_of(&mut conn, who, number).await?;
    let services = db::services(&mut conn, ticket.id)
        .await?
        .into_iter()
        .map(|(_, code, _, _)| code)
        .collect();
    let maintenance_status = match change.status_event_id {
        Some(id) => Some(store::status_page::event(&mut conn, id).await?.status),
        None => None,
    };
    let incidents = store::tickets::links(&mut conn, &who.principal.ticket_scope(), ticket.id)
        .await?
        .into_iter()
        .filter(|l| l.kind == LinkKind::RaisedDuring.as_str())
        .collect();
    let (outage_start, outage_end) = outage_window(&change);
    let status = status_of(&change)?;
    Ok(Implementation {
        services,
        affects_availability: affects_availability(&change),
        approved: matches!(status, ChangeStatus::Authorized | ChangeStatus::Scheduled),
        outage_start,
        outage_end,
        maintenance_status,
        incidents,
        change,
    })
}

/// Refuses an RFC that is not authorized or scheduled (`change_not_approved`), or one that
/// does not affect availability (`no_outage`).
fn check_announceable(change: &ChangeAfter) -> AppResult<()> {
    if !matches!(
        status_of(change)?,
        ChangeStatus::Authorized | ChangeStatus::Scheduled
    ) {
        return Err(AppError::new(StatusCode::CONFLICT, "change_not_approved"));
    }
    if !affects_availability(change) {
        return Err(AppError::new(StatusCode::CONFLICT, "no_outage"));
    }
    Ok(())
}

fn time_zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

// ---------- the planned-outage notice ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutageNoticeInput {
    /// Send again after the outage's time changed (refused with `notice_already_sent`
    /// when the time is the one already announced).
    #[serde(default)]
    pub resend: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutageNoticeSent {
    /// Addresses reached, each once.
    pub recipients: usize,
    pub window: String,
}

/// Everyone the outage notice reaches: for each affected service, its distribution list
/// when there is one (so removals hold), otherwise every organization live on it (help
/// desk contacts and list address). Each address once; a person's language wins.
async fn outage_recipients(
    conn: &mut Conn,
    service_ids: &[i64],
) -> AppResult<Vec<store::lists::Recipient>> {
    let lists = store::lists::list(conn).await?;
    let mut seen = HashSet::new();
    let mut out: Vec<store::lists::Recipient> = Vec::new();
    for service in service_ids {
        let stored: Vec<_> = lists
            .iter()
            .filter(|l| l.kind == "service" && l.service_id == Some(*service))
            .cloned()
            .collect();
        let lists = if stored.is_empty() {
            vec![store::lists::List {
                id: 0,
                code: String::new(),
                name_en: String::new(),
                name_fr: String::new(),
                kind: "service".into(),
                service_id: Some(*service),
                role: None,
                created_at: String::new(),
            }]
        } else {
            stored
        };
        for list in lists {
            let members = if list.id == 0 {
                Vec::new()
            } else {
                store::lists::members(conn, list.id).await?
            };
            for r in store::lists::recipients(conn, &list, &members).await? {
                let key = r.email.to_lowercase();
                if seen.insert(key.clone()) {
                    out.push(r);
                } else if r.locale.is_some()
                    && let Some(known) = out
                        .iter_mut()
                        .find(|o| o.email.to_lowercase() == key && o.locale.is_none())
                {
                    *known = r;
                }
            }
        }
    }
    Ok(out)
}

/// Desk: sends the planned-outage notice of an approved RFC that affects availability to
/// the organizations live on its services, once per window: again only with `resend` and
/// a changed time. Each address gets one message in its language (both when unknown).
pub async fn send_outage_notice(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &OutageNoticeInput,
) -> AppResult<OutageNoticeSent> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let (ticket, change) = change_of(&mut tx, who, number).await?;
    check_announceable(&change)?;
    let (start, end) = outage_window(&change);
    let window = format!("{start}/{end}");
    if let Some(sent) = &change.outage_notice_window {
        if !input.resend {
            return Err(AppError::new(StatusCode::CONFLICT, "notice_already_sent")
                .with_detail(json!({"sent_at": change.outage_notice_sent_at})));
        }
        if *sent == window {
            return Err(AppError::new(StatusCode::CONFLICT, "notice_time_unchanged"));
        }
    }
    let services = db::services(&mut tx, ticket.id).await?;
    let ids: Vec<i64> = services.iter().map(|s| s.0).collect();
    let recipients = outage_recipients(&mut tx, &ids).await?;
    if recipients.is_empty() {
        return Err(AppError::invalid("no_recipients", "services"));
    }
    let tz = time_zone(state);
    let names = |fr: bool| {
        services
            .iter()
            .map(|s| if fr { s.3.clone() } else { s.2.clone() })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let contact = format!("{} <{}>", who.person.display_name, who.person.email);
    let args_in = |locale: Locale| {
        [
            ("number", ticket.number.clone()),
            ("summary", ticket.summary.clone()),
            ("services", names(locale == Locale::Fr)),
            ("start", local_time(&start, &tz, locale)),
            ("end", local_time(&end, &tz, locale)),
            (
                "users_affected",
                if change.users_affected != 0 {
                    change.users_affected_how.clone()
                } else {
                    String::new()
                },
            ),
            ("contact", contact.clone()),
        ]
    };
    let en = args_in(Locale::En);
    let fr = args_in(Locale::Fr);
    let composer = state.composer(&mut tx).await?;
    for r in &recipients {
        let mut mail = composer.compose(&Draft {
            to: &r.email,
            audience: Audience::of(r.locale.as_deref()),
            key: "change-outage-notice",
            args: &en,
            fr_args: Some(&fr),
            unsubscribe: None,
        })?;
        mail.idempotency_key = Some(format!(
            "change-outage:{}:{window}:{}",
            ticket.id,
            r.email.to_lowercase()
        ));
        store::outbox::enqueue(&mut tx, Some(ticket.id), &mail).await?;
    }
    db::set_outage_notice(&mut tx, ticket.id, &window, recipients.len() as i64).await?;
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "outage_notice_sent",
        true,
        None,
        json!({"recipients": recipients.len(), "start": start, "end": end, "resend": input.resend}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "change.outage_notice",
            "ticket",
            ticket.id,
            Some(ticket.organization_id),
            json!({"number": ticket.number, "recipients": recipients.len(), "window": window}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(OutageNoticeSent {
        recipients: recipients.len(),
        window,
    })
}

// ---------- the status-page maintenance ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceFromRfc {
    /// Defaults: the RFC's summary.
    #[serde(default)]
    pub title_en: Option<String>,
    #[serde(default)]
    pub title_fr: Option<String>,
    /// Defaults: a sentence naming the change and its window.
    #[serde(default)]
    pub body_en: Option<String>,
    #[serde(default)]
    pub body_fr: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaintenanceMade {
    pub event_id: i64,
}

/// Desk: creates the status-page scheduled maintenance of an approved RFC that affects
/// availability: its ticket is the change, its components those of the RFC's services, its
/// window the outage's (else the scheduled one), its title the summary. Once per RFC
/// (`already_published`); the desk edits or reschedules it on the status console.
pub async fn create_maintenance(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &MaintenanceFromRfc,
) -> AppResult<MaintenanceMade> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let (ticket, change) = change_of(&mut conn, who, number).await?;
    check_announceable(&change)?;
    if let Some(id) = change.status_event_id {
        return Err(AppError::new(StatusCode::CONFLICT, "already_published")
            .with_detail(json!({"event_id": id})));
    }
    let services: Vec<i64> = db::services(&mut conn, ticket.id)
        .await?
        .into_iter()
        .map(|s| s.0)
        .collect();
    let components: Vec<AffectedInput> = store::status_page::components(&mut conn)
        .await?
        .into_iter()
        .filter(|c| c.service_id.is_some_and(|s| services.contains(&s)))
        .map(|c| AffectedInput {
            component_id: c.id,
            status: String::new(),
            text_en: String::new(),
            text_fr: String::new(),
        })
        .collect();
    drop(conn);
    if components.is_empty() {
        return Err(AppError::invalid("no_components", "services"));
    }
    let (start, end) = outage_window(&change);
    let tz = time_zone(state);
    let pick = |v: &Option<String>, default: String| {
        v.as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
            .unwrap_or(default)
    };
    let body = |locale: Locale| {
        crate::i18n::t_args(
            locale,
            "chg-impl-maintenance-body",
            &[
                ("number", ticket.number.clone()),
                ("start", local_time(&start, &tz, locale)),
                ("end", local_time(&end, &tz, locale)),
            ],
        )
    };
    let maintenance = MaintenanceInput {
        title_en: pick(&input.title_en, ticket.summary.clone()),
        title_fr: pick(&input.title_fr, ticket.summary.clone()),
        scheduled_for: start.clone(),
        scheduled_until: end.clone(),
        body_en: pick(&input.body_en, body(Locale::En)),
        body_fr: pick(&input.body_fr, body(Locale::Fr)),
        components,
        auto_transition: Some(true),
    };
    let posted = status::create_maintenance(state, actor, &maintenance, Some(ticket.id)).await?;
    let mut tx = state.db.begin().await?;
    if !db::set_status_event(&mut tx, ticket.id, posted.event_id).await? {
        // Another click made one first: this one is withdrawn.
        drop(tx);
        cancel_maintenance(state, actor, posted.event_id).await?;
        return Err(AppError::new(StatusCode::CONFLICT, "already_published"));
    }
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "status_published",
        true,
        None,
        json!({"event_id": posted.event_id, "title": maintenance.title_en, "kind": "maintenance"}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "change.maintenance",
            "ticket",
            ticket.id,
            Some(ticket.organization_id),
            json!({"number": ticket.number, "event_id": posted.event_id}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(MaintenanceMade {
        event_id: posted.event_id,
    })
}

/// Cancels a change's maintenance on the status page (left alone when already finished).
pub(crate) async fn cancel_maintenance(state: &AppState, actor: &Actor, id: i64) -> AppResult<()> {
    finish_maintenance(state, actor, id, "cancelled").await
}

/// Completes or cancels a maintenance not finished yet; a finished one is left alone.
async fn finish_maintenance(
    state: &AppState,
    actor: &Actor,
    id: i64,
    status_to: &str,
) -> AppResult<()> {
    let current = {
        let mut conn = state.db.reader().acquire().await?;
        store::status_page::event(&mut conn, id).await?
    };
    if current.resolved_at.is_some() {
        return Ok(());
    }
    let (en, fr) = if status_to == "cancelled" {
        (
            "chg-impl-maintenance-cancelled",
            "chg-impl-maintenance-cancelled",
        )
    } else {
        (
            "chg-impl-maintenance-completed",
            "chg-impl-maintenance-completed",
        )
    };
    let update = UpdateInput {
        status: status_to.to_owned(),
        body_en: crate::i18n::t(Locale::En, en),
        body_fr: crate::i18n::t(Locale::Fr, fr),
        impact: None,
        components: None,
        next_update_by: None,
    };
    match status::post_update(state, actor, id, &update).await {
        Ok(_) => Ok(()),
        // Finished meanwhile (its own clock, or the desk).
        Err(e) if e.code == "maintenance_finished" => Ok(()),
        Err(e) => Err(e),
    }
}

// ---------- the outcome ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// successful, backed_out (backed out or cancelled) or failed.
    pub outcome: String,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeRecorded {
    pub status: String,
    pub outcome: String,
    /// Addresses told (the partner's single point of contact and the requester).
    pub told: Vec<String>,
}

/// Desk: records how the implementation went, only from `scheduled`
/// (`change_not_scheduled`): the RFC moves to implemented (the ticket's status in step),
/// the partner's single point of contact and the requester are mailed in their language,
/// and the status-page maintenance is completed (cancelled when backed out).
pub async fn record_outcome(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &OutcomeInput,
) -> AppResult<OutcomeRecorded> {
    who.require(Action::WorkTickets)?;
    let outcome = ChangeOutcome::from_str(input.outcome.trim()).map_err(|_| {
        AppError::invalid("invalid_choice", "outcome").with_arg("value", &input.outcome)
    })?;
    let notes = input.notes.trim().to_owned();
    if notes.chars().count() > MAX_NOTES {
        return Err(AppError::invalid("too_long", "notes"));
    }
    if outcome != ChangeOutcome::Successful && notes.is_empty() {
        return Err(AppError::invalid("required", "notes"));
    }
    crate::tickets::check_phi([("notes", notes.as_str())])?;
    let now = domain::time::to_db(domain::time::now());
    let mut tx = state.db.begin().await?;
    let (ticket, change) = change_of(&mut tx, who, number).await?;
    let from = status_of(&change)?;
    let kind = ChangeType::from_str(&change.change_type).map_err(|_| AppError::internal())?;
    if from != ChangeStatus::Scheduled || from.check_move(ChangeStatus::Implemented, kind).is_err()
    {
        return Err(AppError::new(StatusCode::CONFLICT, "change_not_scheduled")
            .with_arg("status", from.as_str()));
    }
    // The move itself (record, ticket status in step, timeline, audit) is the workflow's.
    let mut record = store::changes::get(&mut tx, ticket.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    crate::changes::apply_move(
        &mut tx,
        actor,
        &ticket,
        &mut record,
        ChangeStatus::Implemented,
        None,
    )
    .await?;
    if !db::record_outcome(&mut tx, ticket.id, outcome.as_str(), &notes, &now).await? {
        return Err(AppError::new(StatusCode::CONFLICT, "change_not_scheduled"));
    }
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "change_outcome",
        false,
        (!notes.is_empty()).then_some(notes.as_str()),
        json!({"outcome": outcome.as_str()}),
    )
    .await?;
    // The partner's representative (single point of contact) and the requester.
    let mut people = Vec::new();
    if let Some(spoc) = change.partner_spoc_person_id {
        people.push(spoc);
    }
    people.push(change.reporter_id);
    people.dedup();
    let composer = state.composer(&mut tx).await?;
    let link = format!(
        "{}/tickets/{}",
        state.settings.public_base_url, ticket.number
    );
    let mut told = Vec::new();
    for id in people {
        let person = store::people::get(&mut tx, &OrgScope::All, id).await?;
        if !person.is_active() || told.contains(&person.email) {
            continue;
        }
        let locale = Locale::parse(&person.locale).unwrap_or_default();
        let args = [
            ("number", ticket.number.clone()),
            ("summary", ticket.summary.clone()),
            ("outcome", outcome.label(locale).to_owned()),
            ("notes", notes.clone()),
            ("link", link.clone()),
        ];
        let mut mail = composer.compose(&Draft {
            to: &person.email,
            audience: Audience::One(locale),
            key: "change-outcome",
            args: &args,
            fr_args: None,
            unsubscribe: None,
        })?;
        mail.idempotency_key = Some(format!("change-outcome:{}:{}", ticket.id, person.id));
        store::outbox::enqueue(&mut tx, Some(ticket.id), &mail).await?;
        told.push(person.email);
    }
    append(
        &mut tx,
        actor,
        event(
            "change.outcome",
            "ticket",
            ticket.id,
            Some(ticket.organization_id),
            json!({"number": ticket.number, "outcome": outcome.as_str(), "told": told}),
        ),
    )
    .await?;
    tx.commit().await?;
    if let Some(id) = change.status_event_id {
        let to = if outcome == ChangeOutcome::BackedOut {
            "cancelled"
        } else {
            "completed"
        };
        finish_maintenance(state, actor, id, to).await?;
    }
    Ok(OutcomeRecorded {
        status: ChangeStatus::Implemented.as_str().to_owned(),
        outcome: outcome.as_str().to_owned(),
        told,
    })
}

// ---------- incidents raised during implementation ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaisedIncidentInput {
    /// An existing incident's number; or, absent, a new incident is opened from
    /// `summary` and `details` for the change's organization and service.
    #[serde(default)]
    pub incident: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RaisedIncident {
    pub incident: String,
}

/// Desk: links an incident raised while the change was implemented (incident →
/// change, `raised_during`), shown on both tickets; opens it first when no number is given.
pub async fn link_incident(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &RaisedIncidentInput,
) -> AppResult<RaisedIncident> {
    who.require(Action::WorkTickets)?;
    let incident = match input.incident.as_deref().map(str::trim) {
        Some(incident) if !incident.is_empty() => {
            let mut conn = state.db.reader().acquire().await?;
            let (_, _) = change_of(&mut conn, who, number).await?;
            let found =
                store::tickets::get_by_number(&mut conn, &who.principal.ticket_scope(), incident)
                    .await
                    .map_err(|_| AppError::invalid("unknown_ticket", "incident"))?;
            if found.kind != TicketKind::Incident.as_str() {
                return Err(AppError::invalid("incident_required", "incident"));
            }
            found.number
        }
        _ => open_incident(state, who, actor, number, input).await?,
    };
    crate::tickets::link(
        state,
        who,
        actor,
        &incident,
        number,
        LinkKind::RaisedDuring.as_str(),
    )
    .await?;
    Ok(RaisedIncident { incident })
}

/// Opens the incident raised during a change: the change's organization and service,
/// priority from impact and urgency 2/2 unless the desk reassesses it.
async fn open_incident(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &RaisedIncidentInput,
) -> AppResult<String> {
    let summary = domain::text::required(
        "summary",
        input.summary.as_deref().unwrap_or(""),
        domain::ticket::SUMMARY_MAX,
    )?;
    let details =
        domain::text::required("details", input.details.as_deref().unwrap_or(""), 20_000)?;
    crate::tickets::check_phi([("summary", summary.as_str()), ("details", details.as_str())])?;
    let mut tx = state.db.begin().await?;
    let (change, _) = change_of(&mut tx, who, number).await?;
    let (impact, urgency) = (2, 2);
    let inserted = insert_ticket(
        state,
        &mut tx,
        actor,
        NewKind {
            kind: TicketKind::Incident,
            organization_id: change.organization_id,
            service_id: change.service_id,
            reporter_id: who.person.id,
            summary,
            details,
            impact,
            urgency,
            priority: None,
            channel: Channel::Api,
            audit: json!({"kind": "incident", "raised_during": change.number}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(inserted.1)
}

/// A ticket the after-approval steps open (an incident raised during implementation, a
/// latent RFC's change, a partner-reported change).
pub(crate) struct NewKind {
    pub kind: TicketKind,
    pub organization_id: i64,
    pub service_id: Option<i64>,
    pub reporter_id: i64,
    pub summary: String,
    pub details: String,
    pub impact: i64,
    pub urgency: i64,
    /// Default: the selected pack's for impact and urgency.
    pub priority: Option<i64>,
    pub channel: Channel,
    pub audit: serde_json::Value,
}

/// Inserts the ticket in the caller's transaction; returns its id and number.
pub(crate) async fn insert_ticket(
    state: &AppState,
    conn: &mut Conn,
    actor: &Actor,
    new: NewKind,
) -> AppResult<(i64, String)> {
    let policy_pack_id = state.packs.selected_id(conn).await?;
    let priority = match new.priority {
        Some(p) => p,
        None => match policy_pack_id {
            Some(id) => {
                let pack = state.packs.get(conn, id).await?;
                crate::sla::priority_from_pack(&pack, new.kind, new.impact, new.urgency)
            }
            None => None,
        }
        .unwrap_or_else(|| domain::ticket::default_priority(new.impact, new.urgency)),
    };
    let ticket = store::tickets::NewTicket {
        kind: new.kind,
        organization_id: new.organization_id,
        service_id: new.service_id,
        subcategory_id: None,
        reporter_id: new.reporter_id,
        on_behalf_of_id: None,
        draft: TicketDraft {
            summary: new.summary,
            details: new.details,
            impact: new.impact,
            urgency: new.urgency,
            configuration_item: None,
            first_occurrence: None,
            service_impact: None,
            user_impact: None,
            troubleshooting: None,
            workaround: None,
            no_workaround: false,
            partner_references: Vec::new(),
            custom: Vec::new(),
        },
        priority,
        support_group_id: None,
        channel: new.channel,
        policy_pack_id,
        sla: store::tickets::SlaColumns::default(),
        created_at: domain::time::now(),
    };
    let backend = state.db.backend();
    let reservation = store::tickets::reserve(conn, backend, &[new.kind]).await?;
    let reserved = reservation
        .tickets
        .first()
        .ok_or_else(AppError::internal)?
        .clone();
    let mut chain = reservation.chain;
    let inserted = store::tickets::insert_with_companions(
        conn,
        backend,
        actor,
        &ticket,
        &reserved,
        &mut chain,
        &store::tickets::Companions {
            audit_action: "ticket.create",
            audit_detail: new.audit,
            mails: &[],
            job_kind: crate::sla::SLA_JOB,
            jobs: &[],
        },
    )
    .await?;
    crate::sla::refresh(state, conn, inserted.id).await?;
    Ok((inserted.id, reserved.number))
}

// ---------- changes partners report ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedChangeInput {
    /// normal, urgent_operational or emergency_repair.
    pub change_type: String,
    pub summary: String,
    pub description: String,
    /// When it was implemented (RFC 3339), not in the future.
    pub implemented_at: String,
    /// Service codes affected (at least one).
    pub services: Vec<String>,
    /// Configuration item codes, if any.
    #[serde(default)]
    pub configuration_items: Vec<String>,
    /// successful, backed_out or failed.
    pub outcome: String,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportedChange {
    pub number: String,
}

/// Partners (their help desk, LRA or CPC): report a change of their own, already done. It
/// becomes a change of the partner's organization, implemented, marked partner-reported,
/// and the operator's change managers are mailed.
pub async fn report_change(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &ReportedChangeInput,
) -> AppResult<ReportedChange> {
    let organization_id = who.person.organization_id;
    if who.principal.is_operator_staff() {
        return Err(AppError::new(StatusCode::FORBIDDEN, "partners_only"));
    }
    who.require(Action::RaiseTicket(organization_id))?;
    let kind = ChangeType::from_str(input.change_type.trim())
        .ok()
        .filter(|k| *k != ChangeType::Standard)
        .ok_or_else(|| {
            AppError::invalid("invalid_choice", "change_type").with_arg("value", &input.change_type)
        })?;
    let outcome = ChangeOutcome::from_str(input.outcome.trim()).map_err(|_| {
        AppError::invalid("invalid_choice", "outcome").with_arg("value", &input.outcome)
    })?;
    let summary = domain::text::required("summary", &input.summary, domain::ticket::SUMMARY_MAX)?;
    let description = domain::text::required("description", &input.description, 20_000)?;
    let notes = input.notes.trim().to_owned();
    if notes.chars().count() > MAX_NOTES {
        return Err(AppError::invalid("too_long", "notes"));
    }
    let implemented_at = status::instant(&input.implemented_at, "implemented_at")?;
    if implemented_at > domain::time::now() {
        return Err(AppError::invalid("in_the_future", "implemented_at"));
    }
    crate::tickets::check_phi([
        ("summary", summary.as_str()),
        ("description", description.as_str()),
        ("notes", notes.as_str()),
    ])?;
    if input.services.is_empty() {
        return Err(AppError::invalid("required", "services"));
    }
    let mut tx = state.db.begin().await?;
    let mut service_ids = Vec::new();
    for code in &input.services {
        let id: Option<i64> = store::changes::service_id_by_code(&mut tx, code.trim()).await?;
        let id = id.ok_or_else(|| AppError::invalid("unknown_service", "services"))?;
        if !service_ids.contains(&id) {
            service_ids.push(id);
        }
    }
    let mut items = Vec::new();
    for code in &input.configuration_items {
        let item = store::problems::item_id_by_code(&mut tx, code)
            .await?
            .ok_or_else(|| {
                AppError::invalid("unknown_configuration_item", "configuration_items")
            })?;
        items.push(item);
    }
    let (id, number) = insert_ticket(
        state,
        &mut tx,
        actor,
        NewKind {
            kind: TicketKind::Change,
            organization_id,
            service_id: service_ids.first().copied(),
            reporter_id: who.person.id,
            summary: summary.clone(),
            details: description,
            impact: 3,
            urgency: 3,
            priority: None,
            channel: Channel::Portal,
            audit: json!({"kind": "change", "partner_reported": true, "change_type": kind.as_str()}),
        },
    )
    .await?;
    let at = domain::time::to_db(implemented_at);
    let path = serde_json::to_string(&domain::change::default_promotion_path())
        .map_err(|_| AppError::internal())?;
    db::insert_implemented(
        &mut tx,
        &db::NewImplemented {
            ticket_id: id,
            change_type: kind.as_str(),
            origin: domain::change::ChangeOrigin::Partner.as_str(),
            notice_rule: domain::change_schedule::NoticeRule::PartnerToOperator.as_str(),
            implemented_at: &at,
            implementer: &who.person.display_name,
            promotion_path: &path,
            latent_due_at: None,
            latent_incident_id: None,
            outcome: Some(outcome.as_str()),
            outcome_notes: Some(&notes),
            partner_reported: true,
            service_ids: &service_ids,
        },
    )
    .await?;
    for item in &items {
        store::problems::add_item(&mut tx, id, *item).await?;
    }
    crate::changes::keep_ticket_in_step(&mut tx, actor, id, ChangeStatus::Implemented).await?;
    let ticket = store::tickets::get(&mut tx, &crate::sla::everything(), id).await?;
    store::tickets::add_event(
        &mut tx,
        id,
        actor,
        "change_reported",
        false,
        (!notes.is_empty()).then_some(notes.as_str()),
        json!({"change_type": kind.as_str(), "outcome": outcome.as_str(), "implemented_at": at}),
    )
    .await?;
    // The desk: the operator's change managers.
    let operator = store::orgs::operator_id(&mut tx).await?;
    let managers = match operator {
        Some(op) => {
            store::people::holders_of(&mut tx, op, domain::role::Role::ChangeManager).await?
        }
        None => Vec::new(),
    };
    let composer = state.composer(&mut tx).await?;
    let tz = time_zone(state);
    let link = format!(
        "{}/console/changes/{}",
        state.settings.public_base_url, number
    );
    for manager in &managers {
        let locale = Locale::parse(&manager.locale).unwrap_or_default();
        let organization = match locale {
            Locale::Fr => ticket.organization_name_fr.clone(),
            Locale::En => ticket.organization_name_en.clone(),
        };
        let args = [
            ("number", number.clone()),
            ("summary", summary.clone()),
            ("organization", organization),
            ("start", local_time(&at, &tz, locale)),
            ("outcome", outcome.label(locale).to_owned()),
            ("link", link.clone()),
        ];
        let mut mail = composer.compose(&Draft {
            to: &manager.email,
            audience: Audience::One(locale),
            key: "change-partner-reported",
            args: &args,
            fr_args: None,
            unsubscribe: None,
        })?;
        mail.idempotency_key = Some(format!("change-reported:{id}:{}", manager.id));
        store::outbox::enqueue(&mut tx, Some(id), &mail).await?;
    }
    append(
        &mut tx,
        actor,
        event(
            "change.report",
            "ticket",
            id,
            Some(organization_id),
            json!({"number": number, "change_type": kind.as_str(), "outcome": outcome.as_str()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(ReportedChange { number })
}

/// One partner-reported change in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportedRow {
    pub number: String,
    pub summary: String,
    pub organization_id: i64,
    pub change_type: String,
    pub outcome: Option<String>,
    pub implemented_at: Option<String>,
}

/// Partner-reported changes: every one for agents, their organization's for partners.
pub async fn reported(state: &AppState, who: &Identity) -> AppResult<Vec<ReportedRow>> {
    let mut conn = state.db.reader().acquire().await?;
    let orgs = match who.principal.ticket_scope().orgs {
        OrgScope::All => None,
        OrgScope::Orgs(ids) => Some(ids),
        OrgScope::Person(_) | OrgScope::Nothing => Some(Vec::new()),
    };
    let rows = db::reported(&mut conn, orgs.as_deref()).await?;
    Ok(rows
        .into_iter()
        .map(|c| ReportedRow {
            number: c.number,
            summary: c.summary,
            organization_id: c.organization_id,
            change_type: c.change_type,
            outcome: c.outcome,
            implemented_at: c.implemented_at,
        })
        .collect())
}

/// The timestamp of a stored value, for pages.
pub fn parse_db(value: &str) -> Option<Timestamp> {
    domain::time::from_db(value)
}
