//! The change advisory board: its meetings from the policy pack's CAB calendar (never
//! hard-coded), each meeting's agenda (the normal RFCs going to it and the standard change
//! templates waiting for approval, with their conflict flags and reasons), attendees and
//! minutes, the decisions (approved, rejected, deferred — the last two with reasons) and
//! their notices, which go out at the meeting's approvals time (13:00 by default) through
//! the outbox, once. Also the approvals an RFC collects before it is booked: the service
//! owner's approval of a time outside the maintenance windows.
//!
//! Choices a change manager expects: an approved RFC still `submitted` is assessed first
//! (both moves are recorded on the ticket); only RFCs on that meeting's agenda (their CAB
//! date) and awaiting a decision are decided; every decision notice, rejections included,
//! goes out with the meeting's approvals, so that the board can settle its minutes first.
use crate::AppState;
use crate::changes::require_change_manager;
pub use crate::changes::{FlagView, change_policy, is_change_manager};
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use axum::http::StatusCode;
use domain::change::{CabDecision, ChangeStatus, ChangeType};
use domain::change_schedule::{CabMeeting, ChangePolicy};
use domain::policy::Action;
use domain::text::Locale;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use store::Conn;
use store::audit::{Actor, Event, append};
use store::cab::{self as db, AgendaRfc, AgendaTemplate, Decision};
use store::tickets::Ticket;

/// The CAB pages are the operator's (partners do not attend).
fn require_agent(who: &Identity) -> AppResult<()> {
    who.require(Action::WorkTickets)
}

/// A change ticket the caller may see, with its RFC.
pub async fn rfc_ticket(
    conn: &mut Conn,
    who: &Identity,
    number: &str,
) -> AppResult<(Ticket, AgendaRfc)> {
    let ticket =
        store::tickets::get_by_number(conn, &who.principal.ticket_scope(), number.trim()).await?;
    let rfc = db::rfc(conn, &ticket.number).await?;
    Ok((ticket, rfc))
}

fn parse_date(value: &str, field: &'static str) -> AppResult<Date> {
    value
        .trim()
        .parse::<Date>()
        .map_err(|_| AppError::invalid("invalid_date", field))
}

fn calendar_error(_: domain::calendar::CalendarError) -> AppError {
    AppError::invalid("invalid_date", "date")
}

/// One meeting of the list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingSummary {
    #[serde(flatten)]
    pub meeting: CabMeeting,
    /// Normal RFCs going to it and not yet decided.
    pub pending_rfcs: i64,
    /// Decisions it recorded.
    pub decisions: i64,
    /// Attendees and minutes were saved.
    pub has_minutes: bool,
    /// When its decision notices went out.
    pub approvals_sent_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct MeetingsQuery {
    /// YYYY-MM-DD; four weeks ago by default.
    pub from: Option<String>,
    /// YYYY-MM-DD (inclusive); eight weeks ahead by default.
    pub to: Option<String>,
}

fn day_start(policy: &ChangePolicy, date: Date) -> AppResult<Timestamp> {
    date.to_zoned(policy.calendar.time_zone().clone())
        .map(|z| z.timestamp())
        .map_err(|_| AppError::invalid("invalid_date", "date"))
}

fn today(policy: &ChangePolicy) -> Date {
    domain::time::now()
        .to_zoned(policy.calendar.time_zone().clone())
        .date()
}

/// Recent and upcoming meetings, each with its submission deadline and RFC counts.
pub async fn meetings(
    state: &AppState,
    who: &Identity,
    query: &MeetingsQuery,
) -> AppResult<Vec<MeetingSummary>> {
    require_agent(who)?;
    let mut conn = state.db.reader().acquire().await?;
    let policy = change_policy(state, &mut conn).await?;
    let today = today(&policy);
    let from = match query.from.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => parse_date(v, "from")?,
        None => today
            .checked_sub(jiff::Span::new().days(28))
            .map_err(calendar_error_span)?,
    };
    let to = match query.to.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => parse_date(v, "to")?,
        None => today
            .checked_add(jiff::Span::new().days(56))
            .map_err(calendar_error_span)?,
    };
    if to < from || (to - from).get_days() > 400 {
        return Err(AppError::invalid("invalid_range", "to"));
    }
    let end = to.tomorrow().map_err(calendar_error_span)?;
    let list = policy
        .meetings_between(day_start(&policy, from)?, day_start(&policy, end)?)
        .map_err(calendar_error)?;
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let pending = db::pending_counts(&mut conn, &from_s, &to_s).await?;
    let decided = db::decision_counts(&mut conn, &from_s, &to_s).await?;
    let stored = db::meetings_between(&mut conn, &from_s, &to_s).await?;
    Ok(list
        .into_iter()
        .map(|meeting| {
            let date = meeting.date.to_string();
            let count = |rows: &[(String, i64)]| {
                rows.iter().find(|(d, _)| *d == date).map_or(0, |(_, n)| *n)
            };
            let row = stored.iter().find(|m| m.meeting_date == date);
            MeetingSummary {
                pending_rfcs: count(&pending),
                decisions: count(&decided),
                has_minutes: row.is_some_and(|m| {
                    !m.minutes.trim().is_empty() || !m.attendees.trim().is_empty()
                }),
                approvals_sent_at: row.and_then(|m| m.approvals_sent_at.clone()),
                meeting,
            }
        })
        .collect())
}

fn calendar_error_span(_: jiff::Error) -> AppError {
    AppError::invalid("invalid_date", "date")
}

/// The meeting held on `date` per the pack (404 when the CAB does not meet that day).
async fn meeting_on(
    state: &AppState,
    conn: &mut Conn,
    date: &str,
) -> AppResult<(ChangePolicy, CabMeeting)> {
    let date = parse_date(date, "date")?;
    let policy = change_policy(state, conn).await?;
    let meeting = policy
        .meeting_on(date)
        .map_err(calendar_error)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "no_cab_meeting"))?;
    Ok((policy, meeting))
}

/// One RFC on the agenda.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgendaLine {
    #[serde(flatten)]
    pub rfc: AgendaRfc,
    /// The organization in the reader's language.
    pub organization: String,
    pub flags: Vec<FlagView>,
    /// Approved exceptions to freezes it falls in.
    pub exceptions: Vec<store::freezes::Exception>,
}

/// A meeting with its agenda, attendees, minutes and decisions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Agenda {
    pub meeting: CabMeeting,
    pub attendees: String,
    pub minutes: String,
    pub approvals_sent_at: Option<String>,
    pub rfcs: Vec<AgendaLine>,
    /// Standard change templates submitted for approval (drafts), on meetings still to
    /// come.
    pub templates: Vec<AgendaTemplate>,
    pub decisions: Vec<Decision>,
}

/// The flags of an RFC with their reasons in the reader's language.
pub async fn flag_views(
    conn: &mut Conn,
    ticket_id: i64,
    policy: &ChangePolicy,
    locale: Locale,
) -> AppResult<Vec<FlagView>> {
    let flags = crate::changes::flags_with(policy, conn, ticket_id).await?;
    Ok(crate::changes::flag_views(flags, policy, locale))
}

pub async fn agenda(
    state: &AppState,
    who: &Identity,
    date: &str,
    locale: Locale,
) -> AppResult<Agenda> {
    require_agent(who)?;
    let mut conn = state.db.reader().acquire().await?;
    let (policy, meeting) = meeting_on(state, &mut conn, date).await?;
    let date = meeting.date.to_string();
    let stored = db::meeting(&mut conn, &date).await?;
    let mut rfcs = Vec::new();
    for rfc in db::agenda_rfcs(&mut conn, &date).await? {
        let flags = flag_views(&mut conn, rfc.ticket_id, &policy, locale).await?;
        let exceptions = store::freezes::exceptions_of(&mut conn, rfc.ticket_id)
            .await?
            .into_iter()
            .filter(|e| e.status == "approved")
            .collect();
        rfcs.push(AgendaLine {
            organization: locale
                .pick(&rfc.organization_name_en, &rfc.organization_name_fr)
                .to_owned(),
            rfc,
            flags,
            exceptions,
        });
    }
    let templates = if meeting.ends_at > domain::time::now() {
        db::draft_templates(&mut conn).await?
    } else {
        Vec::new()
    };
    let decisions = match &stored {
        Some(m) => db::decisions_of_meeting(&mut conn, m.id).await?,
        None => Vec::new(),
    };
    Ok(Agenda {
        meeting,
        attendees: stored
            .as_ref()
            .map(|m| m.attendees.clone())
            .unwrap_or_default(),
        minutes: stored
            .as_ref()
            .map(|m| m.minutes.clone())
            .unwrap_or_default(),
        approvals_sent_at: stored.and_then(|m| m.approvals_sent_at),
        rfcs,
        templates,
        decisions,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = CabMeetingPatch)]
#[serde(deny_unknown_fields)]
pub struct MeetingPatch {
    pub attendees: Option<String>,
    pub minutes: Option<String>,
}

/// The weekly CAB's stored meeting of this date (made when missing): its id.
async fn ensure_meeting(tx: &mut Conn, meeting: &CabMeeting) -> AppResult<i64> {
    let starts_at = domain::time::to_db(meeting.starts_at);
    let date = meeting.date.to_string();
    Ok(store::changes::ensure_meeting(tx, "cab", &date, &starts_at).await?)
}

/// Saves a meeting's attendees and minutes (the meeting's row is made then).
pub async fn save_minutes(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    date: &str,
    patch: &MeetingPatch,
) -> AppResult<()> {
    require_change_manager(who)?;
    let mut tx = state.db.begin().await?;
    let (_, meeting) = meeting_on(state, &mut tx, date).await?;
    let date = meeting.date.to_string();
    let meeting_id = ensure_meeting(&mut tx, &meeting).await?;
    let row = db::meeting(&mut tx, &date)
        .await?
        .filter(|m| m.id == meeting_id)
        .ok_or_else(AppError::internal)?;
    let attendees = match &patch.attendees {
        Some(v) => domain::text::optional("attendees", Some(v), 4000)?.unwrap_or_default(),
        None => row.attendees.clone(),
    };
    let minutes = match &patch.minutes {
        Some(v) => domain::text::optional("minutes", Some(v), 50_000)?.unwrap_or_default(),
        None => row.minutes.clone(),
    };
    crate::tickets::check_phi([
        ("attendees", attendees.as_str()),
        ("minutes", minutes.as_str()),
    ])?;
    db::update_meeting(&mut tx, row.id, &attendees, &minutes).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "cab.minutes",
            entity_type: "cab_meeting",
            entity_id: Some(date),
            organization_id: None,
            detail: json!({"attendees": attendees.len(), "minutes": minutes.len()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = CabDecisionInput)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// The RFC's ticket number (or `template_id`).
    pub number: Option<String>,
    /// A standard change template in draft (or `number`).
    pub template_id: Option<i64>,
    /// approved, rejected or deferred.
    pub decision: String,
    /// Required when rejected or deferred.
    #[serde(default)]
    pub reasons: String,
}

/// Records a decision at the meeting of `date`. Approved: the RFC is authorized (assessed
/// first when still submitted); rejected: rejected and its ticket closed; deferred: it
/// goes to the next meeting. A template in draft is approved (or stays a draft).
pub async fn decide(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    date: &str,
    input: &DecisionInput,
) -> AppResult<Decision> {
    require_change_manager(who)?;
    let decision = CabDecision::from_str(input.decision.trim()).map_err(|_| {
        AppError::invalid("invalid_choice", "decision").with_arg("value", &input.decision)
    })?;
    let reasons =
        domain::text::optional("reasons", Some(&input.reasons), 4000)?.unwrap_or_default();
    if decision.needs_reason() && reasons.is_empty() {
        return Err(AppError::invalid("reasons_required", "reasons"));
    }
    crate::tickets::check_phi([("reasons", reasons.as_str())])?;
    let mut tx = state.db.begin().await?;
    let (policy, meeting) = meeting_on(state, &mut tx, date).await?;
    let date = meeting.date.to_string();
    let (ticket_id, template_id, entity, organization_id, detail) = match (
        input
            .number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty()),
        input.template_id,
    ) {
        (Some(number), None) => {
            let (ticket, mut record) = crate::changes::change_ticket(&mut tx, who, number).await?;
            let kind =
                ChangeType::from_str(&record.change_type).map_err(|_| AppError::internal())?;
            let status =
                ChangeStatus::from_str(&record.status).map_err(|_| AppError::internal())?;
            if kind != ChangeType::Normal {
                return Err(AppError::invalid("not_a_normal_change", "number"));
            }
            if !matches!(status, ChangeStatus::Submitted | ChangeStatus::Assessed) {
                return Err(AppError::new(
                    StatusCode::CONFLICT,
                    "change_not_awaiting_cab",
                ));
            }
            if record.cab_date.as_deref() != Some(date.as_str()) {
                return Err(AppError::invalid("not_on_agenda", "number"));
            }
            let mut detail = json!({"number": ticket.number, "decision": decision.as_str()});
            let why = Some(reasons.as_str()).filter(|r| !r.is_empty());
            match decision {
                CabDecision::Approved => {
                    // A change manager expects the assessment the board made to be on the
                    // record before the authorization.
                    if status == ChangeStatus::Submitted {
                        let to = ChangeStatus::Assessed;
                        status.check_move(to, kind)?;
                        crate::changes::apply_move(&mut tx, actor, &ticket, &mut record, to, why)
                            .await?;
                    }
                    let to = ChangeStatus::Authorized;
                    ChangeStatus::Assessed.check_move(to, kind)?;
                    crate::changes::apply_move(&mut tx, actor, &ticket, &mut record, to, why)
                        .await?;
                }
                CabDecision::Rejected => {
                    let to = ChangeStatus::Rejected;
                    status.check_move(to, kind)?;
                    crate::changes::apply_move(&mut tx, actor, &ticket, &mut record, to, why)
                        .await?;
                }
                CabDecision::Deferred => {
                    let after = meeting.ends_at;
                    let until = after
                        .checked_add(SignedDuration::from_hours(24 * 120))
                        .map_err(|_| AppError::internal())?;
                    let next = policy
                        .meetings_between(after, until)
                        .map_err(calendar_error)?
                        .into_iter()
                        .next()
                        .ok_or_else(AppError::internal)?;
                    db::move_to_cab(&mut tx, ticket.id, &next.date.to_string()).await?;
                    detail["next_cab_date"] = json!(next.date.to_string());
                }
            }
            store::tickets::add_event(
                &mut tx,
                ticket.id,
                actor,
                "cab_decision",
                false,
                None,
                json!({"cab_date": date, "decision": decision.as_str(), "reasons": reasons}),
            )
            .await?;
            (
                Some(ticket.id),
                None,
                ticket.number.clone(),
                Some(ticket.organization_id),
                detail,
            )
        }
        (None, Some(id)) => {
            let template = db::template(&mut tx, id)
                .await
                .map_err(|_| AppError::invalid("unknown_template", "template_id"))?;
            if template.status != "draft" {
                return Err(AppError::new(StatusCode::CONFLICT, "template_not_draft"));
            }
            if decision == CabDecision::Approved {
                store::changes::approve_template(&mut tx, id, who.person.id, &date).await?;
            }
            (
                None,
                Some(id),
                template.code.clone(),
                None,
                json!({"template": template.code, "decision": decision.as_str()}),
            )
        }
        _ => return Err(AppError::invalid("number_or_template", "number")),
    };
    let meeting_id = ensure_meeting(&mut tx, &meeting).await?;
    let id = db::insert_decision(
        &mut tx,
        &db::NewDecision {
            meeting_id,
            ticket_id,
            template_id,
            decision: decision.as_str(),
            reasons: &reasons,
            decided_by: who.person.id,
        },
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "cab.decide",
            entity_type: if ticket_id.is_some() {
                "ticket"
            } else {
                "change_template"
            },
            entity_id: Some(entity),
            organization_id,
            detail: json!({"cab_date": date, "decision_id": id, "detail": detail}),
        },
    )
    .await?;
    let decided = db::decisions_of_meeting(&mut tx, meeting_id)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(AppError::internal)?;
    tx.commit().await?;
    Ok(decided)
}

// ---- Decision notices -----------------------------------------------------------------------

const LEASE_NAME: &str = "cab_notices";
const LEASE: SignedDuration = SignedDuration::from_mins(5);

/// When a decision's notice goes: its meeting's approvals time, or at once when it was
/// recorded later (or on a day the CAB no longer meets).
fn notice_time(policy: &ChangePolicy, decision: &Decision) -> Timestamp {
    let decided_at = domain::time::from_db(&decision.decided_at).unwrap_or(Timestamp::MIN);
    // The emergency CAB decides one change at a time: its notice goes at once.
    if decision.meeting_kind != "cab" {
        return decided_at;
    }
    let approvals = decision
        .meeting_date
        .parse::<Date>()
        .ok()
        .and_then(|date| policy.meeting_on(date).ok().flatten())
        .map(|meeting| meeting.approvals_at);
    match approvals {
        Some(at) => at.max(decided_at),
        None => decided_at,
    }
}

/// One pass: sends every decision notice whose time has come, on one node at a time (a
/// lease). Each decision is sent and marked in one transaction, and each message carries an
/// idempotency key, so a crash or another node never sends one twice. Returns how many
/// decisions were notified.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let lease = {
        let mut tx = state.db.begin().await?;
        let lease = store::leases::acquire(&mut tx, LEASE_NAME, LEASE).await?;
        tx.commit().await?;
        lease
    };
    let Some(lease) = lease else {
        return Ok(0);
    };
    let outcome = send_due(state).await;
    let mut tx = state.db.begin().await?;
    store::leases::release(&mut tx, lease).await?;
    tx.commit().await?;
    outcome
}

async fn send_due(state: &AppState) -> AppResult<usize> {
    let now = domain::time::now();
    let mut conn = state.db.reader().acquire().await?;
    let policy = change_policy(state, &mut conn).await?;
    let waiting = db::unnotified(&mut conn, 200).await?;
    drop(conn);
    let mut sent = 0;
    for decision in waiting {
        if notice_time(&policy, &decision) > now {
            continue;
        }
        // One decision's failure (a mail that cannot be composed) holds up no other.
        match send_one(state, &decision).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(code = e.code, decision = decision.id, "CAB decision notice"),
        }
    }
    Ok(sent)
}

/// Queues one decision's notice and marks it sent, in one transaction; `false` when another
/// pass sent it first.
async fn send_one(state: &AppState, decision: &Decision) -> AppResult<bool> {
    let mut tx = state.db.begin().await?;
    notify(state, &mut tx, decision).await?;
    if !db::mark_notified(&mut tx, decision.id).await? {
        return Ok(false);
    }
    db::mark_approvals_sent(&mut tx, decision.meeting_id).await?;
    tx.commit().await?;
    Ok(true)
}

/// Queues one decision's notice to the requester and the partner's representative (an
/// RFC), or the template's author, each in their language.
async fn notify(state: &AppState, tx: &mut Conn, decision: &Decision) -> AppResult<()> {
    let composer = state.composer(tx).await?;
    let (recipients, number, summary, link, next_cab, ticket_id) =
        match (decision.ticket_id, decision.template_id) {
            (Some(ticket_id), _) => {
                let t = store::tickets::get(tx, &crate::sla::everything(), ticket_id).await?;
                let rfc = db::rfc(tx, &t.number).await?;
                let mut people = vec![t.reporter_id];
                if let Some(spoc) = rfc.partner_spoc_person_id {
                    people.push(spoc);
                }
                let next = if decision.decision == CabDecision::Deferred.as_str() {
                    rfc.cab_date.clone().unwrap_or_default()
                } else {
                    String::new()
                };
                (
                    people,
                    t.number.clone(),
                    t.summary.clone(),
                    format!("{}/changes/{}", composer.base_url(), t.number),
                    next,
                    Some(t.id),
                )
            }
            (None, Some(template_id)) => {
                let template = db::template(tx, template_id).await?;
                (
                    template.created_by.into_iter().collect(),
                    template.code.clone(),
                    template.title_en.clone(),
                    format!(
                        "{}/console/cab/{}",
                        composer.base_url(),
                        decision.meeting_date
                    ),
                    String::new(),
                    None,
                )
            }
            _ => return Ok(()),
        };
    let mut seen = Vec::new();
    for person_id in recipients {
        if seen.contains(&person_id) {
            continue;
        }
        seen.push(person_id);
        let Ok(person) = store::people::get(tx, &domain::policy::OrgScope::All, person_id).await
        else {
            continue;
        };
        if !person.is_active() {
            continue;
        }
        let locale = Locale::parse(&person.locale).unwrap_or(Locale::En);
        let label = CabDecision::from_str(&decision.decision)
            .map(|d| d.label(locale).to_owned())
            .unwrap_or_else(|_| decision.decision.clone());
        let args = vec![
            ("number", number.clone()),
            ("summary", summary.clone()),
            ("decision", label),
            ("reasons", decision.reasons.clone()),
            ("meeting", decision.meeting_date.clone()),
            ("next_meeting", next_cab.clone()),
            ("link", link.clone()),
        ];
        let mut mail = composer.compose(&crate::mail::Draft {
            to: &person.email,
            audience: crate::mail::Audience::One(locale),
            key: "change-decision",
            args: &args,
            fr_args: None,
            unsubscribe: None,
        })?;
        mail.idempotency_key = Some(format!("cab-decision:{}:{}", decision.id, person.id));
        store::outbox::enqueue(tx, ticket_id, &mail).await?;
    }
    Ok(())
}

/// Starts the decision notices: every node checks each half minute, one sends.
pub fn spawn_runner(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_due(&state).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "CAB decision notices"),
                Err(e) => tracing::warn!(code = e.code, "CAB decision notices"),
            }
        }
    });
}

// ---- Approvals page: window approvals, freeze exceptions ------------------------------------

/// A service of the RFC and its owner.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceOwner {
    pub code: String,
    pub owner_person_id: Option<i64>,
    pub owner_name: Option<String>,
}

/// The recorded approval of a time outside the windows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WindowApproval {
    pub approved_by: i64,
    pub approved_by_name: String,
    pub approved_at: String,
    pub note: String,
}

/// What an RFC has been approved for, and what it may still ask.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Approvals {
    pub number: String,
    pub summary: String,
    pub status: String,
    pub change_type: String,
    pub requested_start: String,
    pub requested_end: String,
    pub services: Vec<ServiceOwner>,
    pub window_approval: Option<WindowApproval>,
    /// Freeze exceptions asked for, with their decisions.
    pub exceptions: Vec<store::freezes::Exception>,
    /// Freezes in force the RFC falls in (an exception may be asked for each).
    pub freezes: Vec<store::freezes::Freeze>,
    pub decisions: Vec<Decision>,
    pub flags: Vec<FlagView>,
    /// The caller may record the window approval.
    pub may_approve_window: bool,
    /// The caller decides freeze exceptions.
    pub may_decide_exceptions: bool,
}

/// Who records the window approval: the owner of one of the RFC's services; a change
/// manager when none of them has an owner.
fn may_approve_window(who: &Identity, services: &[(i64, String, Option<i64>)]) -> bool {
    let owners: Vec<i64> = services.iter().filter_map(|(_, _, o)| *o).collect();
    if owners.is_empty() {
        is_change_manager(who)
    } else {
        owners.contains(&who.person.id)
    }
}

pub async fn approvals(
    state: &AppState,
    who: &Identity,
    number: &str,
    locale: Locale,
) -> AppResult<Approvals> {
    let mut conn = state.db.reader().acquire().await?;
    let (ticket, rfc) = rfc_ticket(&mut conn, who, number).await?;
    let policy = change_policy(state, &mut conn).await?;
    let services = db::rfc_services(&mut conn, ticket.id).await?;
    let mut owners = Vec::new();
    for (_, code, owner) in &services {
        let name = match owner {
            Some(id) => store::people::get(&mut conn, &domain::policy::OrgScope::All, *id)
                .await
                .ok()
                .map(|p| p.display_name),
            None => None,
        };
        owners.push(ServiceOwner {
            code: code.clone(),
            owner_person_id: *owner,
            owner_name: name,
        });
    }
    let window_approval =
        db::window_approval(&mut conn, ticket.id)
            .await?
            .map(|(by, name, at, note)| WindowApproval {
                approved_by: by,
                approved_by_name: name,
                approved_at: at,
                note,
            });
    let codes: Vec<&String> = services.iter().map(|(_, c, _)| c).collect();
    let freezes = store::freezes::overlapping(
        &mut conn,
        &rfc.requested_start,
        &rfc.requested_end,
        ticket.organization_id,
    )
    .await?
    .into_iter()
    .filter(|f| f.services.is_empty() || f.services.iter().any(|s| codes.contains(&s)))
    .collect();
    Ok(Approvals {
        number: ticket.number.clone(),
        summary: ticket.summary.clone(),
        status: rfc.status.clone(),
        change_type: rfc.change_type.clone(),
        requested_start: rfc.requested_start.clone(),
        requested_end: rfc.requested_end.clone(),
        may_approve_window: may_approve_window(who, &services),
        may_decide_exceptions: is_change_manager(who),
        services: owners,
        window_approval,
        exceptions: store::freezes::exceptions_of(&mut conn, ticket.id).await?,
        freezes,
        decisions: db::decisions_of_ticket(&mut conn, ticket.id).await?,
        flags: crate::changes::flag_views(
            crate::changes::for_viewer(
                crate::changes::flags_with(&policy, &mut conn, ticket.id).await?,
                who,
                locale,
            ),
            &policy,
            locale,
        ),
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowApprovalInput {
    #[serde(default)]
    pub note: String,
}

/// The service owner (a change manager when no service has one) approves the RFC's time
/// outside the maintenance windows, before the change (`approval_too_late`).
pub async fn approve_window(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &WindowApprovalInput,
) -> AppResult<()> {
    let note = domain::text::optional("note", Some(&input.note), 4000)?.unwrap_or_default();
    crate::tickets::check_phi([("note", note.as_str())])?;
    let mut tx = state.db.begin().await?;
    let (ticket, rfc) = rfc_ticket(&mut tx, who, number).await?;
    let services = db::rfc_services(&mut tx, ticket.id).await?;
    if !may_approve_window(who, &services) {
        return Err(AppError::new(StatusCode::FORBIDDEN, "not_service_owner"));
    }
    if ChangeStatus::from_str(&rfc.status).is_ok_and(|s| s.is_final()) {
        return Err(AppError::new(StatusCode::CONFLICT, "change_final"));
    }
    let start = domain::time::from_db(&rfc.requested_start).unwrap_or(Timestamp::MIN);
    if start <= domain::time::now() {
        return Err(AppError::invalid("approval_too_late", "requested_start"));
    }
    db::approve_window(&mut tx, ticket.id, who.person.id, &note).await?;
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "window_approved",
        false,
        None,
        json!({"note": note}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change.window_approve",
            entity_type: "ticket",
            entity_id: Some(ticket.number.clone()),
            organization_id: Some(ticket.organization_id),
            detail: json!({"note": note}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceOwnerInput {
    /// The owner (operator staff); null clears it.
    pub person_id: Option<i64>,
}

/// Administrators set who owns a service (approves changes outside the windows).
pub async fn set_service_owner(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    code: &str,
    input: &ServiceOwnerInput,
) -> AppResult<()> {
    who.require(Action::ManagePolicy)?;
    let mut tx = state.db.begin().await?;
    let service = store::orgs::services(&mut tx)
        .await?
        .into_iter()
        .find(|s| s.code.eq_ignore_ascii_case(code.trim()))
        .ok_or_else(AppError::not_found)?;
    if let Some(person_id) = input.person_id {
        let operator = state.operator_org_id(&mut tx).await?;
        let person = store::people::get(&mut tx, &domain::policy::OrgScope::All, person_id)
            .await
            .map_err(|_| AppError::invalid("unknown_person", "person_id"))?;
        if person.organization_id != operator || !person.is_active() {
            return Err(AppError::invalid("unknown_person", "person_id"));
        }
    }
    db::set_service_owner(&mut tx, service.id, input.person_id).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "service.owner",
            entity_type: "service",
            entity_id: Some(service.code.clone()),
            organization_id: None,
            detail: json!({"owner_person_id": input.person_id}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
