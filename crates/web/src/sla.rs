//! SLA clocks of tickets. A ticket's clocks are computed from its status history under the
//! policy pack version it was opened under (`domain::sla`); the results that queues filter
//! and sort on are stored on the ticket after every change, and the warnings and
//! escalations still to come are kept as scheduled jobs.
use crate::AppState;
use crate::error::{AppError, AppResult};
use domain::calendar::Closure;
use domain::policy::{OrgScope, TicketScope};
use domain::policy_pack::{PolicyPack, SlaFamily};
use domain::sla::{ClockInput, ClockReport, ScheduledNotification, SlaState, StatusChange};
use domain::ticket::{Channel, Status};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use store::Conn;
use store::tickets::{SlaColumns, Ticket};

/// Parsed policy packs by stored id (a version never changes once loaded), each with the
/// calendar closures in force applied; the id of the selected pack and the closures, for a
/// short while (another node may select another pack or change the closures).
#[derive(Default)]
pub struct Packs {
    /// As stored, without closures.
    parsed: RwLock<HashMap<i64, Arc<PolicyPack>>>,
    /// With the closures of a given closures version.
    applied: RwLock<HashMap<i64, (ClosuresVersion, Arc<PolicyPack>)>>,
    selected: RwLock<Option<(std::time::Instant, Option<i64>)>>,
    closures: RwLock<Option<(std::time::Instant, Arc<Closures>)>>,
    /// Bumped by [`Packs::closures_changed`]: closures read before a change are not kept.
    closures_generation: AtomicU64,
}

/// The fingerprint of the calendar closures (`store::calendar_closures::version`).
pub type ClosuresVersion = (i64, i64);

/// The calendar closures in force, with their fingerprint.
pub struct Closures {
    pub version: ClosuresVersion,
    pub list: Vec<(Option<String>, Closure)>,
}

const SELECTION_TTL: std::time::Duration = std::time::Duration::from_secs(10);
const CLOSURES_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl Packs {
    /// A pack version with the calendar closures in force.
    pub async fn get(&self, conn: &mut Conn, id: i64) -> AppResult<Arc<PolicyPack>> {
        let closures = self.closures(conn).await?;
        if let Some((version, pack)) = self.applied.read().expect("packs lock").get(&id)
            && *version == closures.version
        {
            return Ok(pack.clone());
        }
        let stored = self.stored(conn, id).await?;
        let pack = if closures.list.is_empty() {
            stored
        } else {
            match stored.with_closures(&closures.list) {
                Ok(pack) => Arc::new(pack),
                Err(e) => {
                    // Closures are checked when added; a refusal here means the data was
                    // changed behind our back. Clocks go on without the closures.
                    tracing::error!(pack = id, error = %e, "calendar closures do not apply");
                    stored
                }
            }
        };
        self.applied
            .write()
            .expect("packs lock")
            .insert(id, (closures.version, pack.clone()));
        Ok(pack)
    }

    /// A pack version as stored, without closures.
    pub async fn stored(&self, conn: &mut Conn, id: i64) -> AppResult<Arc<PolicyPack>> {
        if let Some(pack) = self.parsed.read().expect("packs lock").get(&id) {
            return Ok(pack.clone());
        }
        let stored = store::policy_packs::get(conn, id).await?;
        let pack = PolicyPack::parse_toml(&stored.source).map_err(|e| {
            tracing::error!(pack = id, error = %e, "a stored policy pack no longer parses");
            AppError::internal()
        })?;
        let pack = Arc::new(pack);
        self.parsed
            .write()
            .expect("packs lock")
            .insert(id, pack.clone());
        Ok(pack)
    }

    /// The calendar closures in force: read again when their fingerprint changed, looked at
    /// most every few seconds.
    pub async fn closures(&self, conn: &mut Conn) -> AppResult<Arc<Closures>> {
        let cached = self.closures.read().expect("packs lock").clone();
        if let Some((at, closures)) = &cached
            && at.elapsed() < CLOSURES_TTL
        {
            return Ok(closures.clone());
        }
        let generation = self.closures_generation.load(Ordering::Acquire);
        let version = store::calendar_closures::version(conn).await?;
        let closures = match cached {
            Some((_, closures)) if closures.version == version => closures,
            _ => {
                let list = store::calendar_closures::list(conn)
                    .await?
                    .iter()
                    .filter_map(closure_of)
                    .collect();
                Arc::new(Closures { version, list })
            }
        };
        let mut slot = self.closures.write().expect("packs lock");
        if self.closures_generation.load(Ordering::Acquire) == generation {
            *slot = Some((std::time::Instant::now(), closures.clone()));
        }
        Ok(closures)
    }

    /// The id of the pack new tickets are opened under.
    pub async fn selected_id(&self, conn: &mut Conn) -> AppResult<Option<i64>> {
        if let Some((at, id)) = *self.selected.read().expect("packs lock")
            && at.elapsed() < SELECTION_TTL
        {
            return Ok(id);
        }
        let id = store::policy_packs::selected(conn).await?.map(|p| p.id);
        *self.selected.write().expect("packs lock") = Some((std::time::Instant::now(), id));
        Ok(id)
    }

    /// Forgets the cached selection (after selecting another pack here).
    pub fn selection_changed(&self) {
        *self.selected.write().expect("packs lock") = None;
    }

    /// Forgets the cached closures (after adding or removing one here, once committed): the
    /// next clock reads them again.
    pub fn closures_changed(&self) {
        let mut slot = self.closures.write().expect("packs lock");
        self.closures_generation.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }
}

/// A stored closure as the calendars take it; `None` for a date that does not parse (never
/// stored so).
pub fn closure_of(
    stored: &store::calendar_closures::CalendarClosure,
) -> Option<(Option<String>, Closure)> {
    let date = stored.closed_on.parse().ok()?;
    Some((
        stored.calendar.clone(),
        Closure {
            date,
            name: Some(stored.name_en.clone()),
            name_fr: Some(stored.name_fr.clone()),
        },
    ))
}

/// The priority number a pack's matrix gives a new ticket (P3 → 3, P20 → 20, S2 → 2), or
/// `None` when the pack has no matrix for the kind.
pub fn priority_from_pack(
    pack: &PolicyPack,
    kind: domain::ticket::TicketKind,
    impact: i64,
    urgency: i64,
) -> Option<i64> {
    pack.priority_for(kind, impact, urgency)
        .and_then(|t| priority_number(&t.code))
}

/// Whether the pack defines priority number `priority` for this kind of ticket.
pub fn pack_has_priority(
    pack: &PolicyPack,
    kind: domain::ticket::TicketKind,
    priority: i64,
) -> bool {
    SlaFamily::of(kind).is_some_and(|family| {
        pack.targets_of(family)
            .any(|t| priority_number(&t.code) == Some(priority))
    })
}

pub(crate) fn priority_number(code: &str) -> Option<i64> {
    code.trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .ok()
}

/// A ticket's clocks, evaluated at an instant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    /// The policy pack the ticket was opened under.
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
    /// `P3`, `S1`…, with labels, calendar and targets.
    #[schema(value_type = Object)]
    pub priority: Option<serde_json::Value>,
    /// The resolution clock's state (the ticket's SLA state): on_track, at_risk, breached,
    /// paused or met; absent when the ticket has no SLA.
    pub state: Option<String>,
    #[schema(value_type = Object)]
    pub response: Option<ClockReport>,
    #[schema(value_type = Object)]
    pub resolution: Option<ClockReport>,
    /// Holidays and closures the running clock skips before its due time.
    #[schema(value_type = Vec<Object>)]
    pub skipped_days: Vec<domain::due::SpecialDay>,
    /// Warnings and escalations still to come if the clock keeps running.
    #[schema(value_type = Vec<Object>)]
    pub upcoming: Vec<ScheduledNotification>,
    /// Why there is no clock (email-opened incident, kind without SLA, no policy).
    pub no_sla_reason: Option<String>,
    /// For email-opened incidents: the first-response objective they are reported against.
    #[schema(value_type = Object)]
    pub objective: Option<serde_json::Value>,
}

pub struct Evaluation {
    pub view: SlaView,
    pub columns: SlaColumns,
}

fn no_sla(
    policy: serde_json::Value,
    reason: &str,
    objective: Option<serde_json::Value>,
) -> Evaluation {
    Evaluation {
        view: SlaView {
            policy,
            priority: None,
            state: None,
            response: None,
            resolution: None,
            skipped_days: Vec::new(),
            upcoming: Vec::new(),
            no_sla_reason: Some(reason.to_owned()),
            objective,
        },
        columns: SlaColumns {
            clock: "none".to_owned(),
            ..Default::default()
        },
    }
}

fn parse_instant(text: &str) -> Option<Timestamp> {
    domain::time::from_db(text)
}

/// Evaluates a ticket's clocks at `now` from its stored history.
pub async fn evaluate(
    packs: &Packs,
    conn: &mut Conn,
    ticket: &Ticket,
    now: Timestamp,
) -> AppResult<Evaluation> {
    let Some(pack_id) = ticket.policy_pack_id else {
        return Ok(no_sla(serde_json::Value::Null, "no_policy", None));
    };
    let pack = packs.get(conn, pack_id).await?;
    let history: Vec<StatusChange> = store::tickets::status_history(conn, ticket.id)
        .await?
        .into_iter()
        .filter_map(|(at, status)| {
            Some(StatusChange::new(
                parse_instant(&at)?,
                Status::parse(&status)?,
            ))
        })
        .collect();
    let first_response = ticket.first_response_at.as_deref().and_then(parse_instant);
    let facts = ClockFacts {
        id: ticket.id,
        kind: ticket.kind(),
        priority: ticket.priority,
        channel: &ticket.channel,
        history: &history,
        first_response,
    };
    evaluate_facts(pack_id, &pack, &facts, now)
}

/// What a ticket's clocks depend on.
pub struct ClockFacts<'a> {
    pub id: i64,
    pub kind: domain::ticket::TicketKind,
    pub priority: i64,
    pub channel: &'a str,
    pub history: &'a [StatusChange],
    pub first_response: Option<Timestamp>,
}

/// Evaluates clocks from their facts (no database), e.g. for a ticket being created.
pub fn evaluate_facts(
    pack_id: i64,
    pack: &PolicyPack,
    facts: &ClockFacts<'_>,
    now: Timestamp,
) -> AppResult<Evaluation> {
    let policy = serde_json::json!({
        "id": pack_id, "code": pack.code(), "version": pack.version(),
        "name_en": pack.name_en(), "name_fr": pack.name_fr(),
    });
    let family = SlaFamily::of(facts.kind);
    if facts.channel == Channel::Email.as_str() && family == Some(SlaFamily::Incident) {
        let objective = pack
            .email_objective()
            .map(|o| serde_json::to_value(o).unwrap_or_default());
        return Ok(no_sla(policy, "email_objective", objective));
    }
    let Some(targets) = family.and_then(|family| {
        pack.targets_of(family)
            .find(|t| priority_number(&t.code) == Some(facts.priority))
    }) else {
        return Ok(no_sla(policy, "no_sla_for_kind", None));
    };
    let history = facts.history;
    let first_response = facts.first_response;
    let input = |target| ClockInput {
        calendar: &targets.calendar,
        earlier_calendars: &[],
        target,
        history,
        warning_share: pack.ladder().warning_share,
        now,
    };
    let sla_error = |e: domain::sla::SlaError| {
        tracing::error!(ticket = facts.id, error = %e, "SLA clock");
        AppError::internal()
    };
    let response = domain::sla::response_clock(&input(targets.respond_open_time), first_response)
        .map_err(sla_error)?;
    let resolution =
        domain::sla::resolution_clock(&input(targets.resolve_open_time)).map_err(sla_error)?;
    // The breach itself tells nobody: the ladder's step at 100 % says whom to escalate to.
    let mut upcoming: Vec<ScheduledNotification> =
        domain::sla::notification_schedule(&resolution, pack.ladder())
            .map_err(sla_error)?
            .into_iter()
            .filter(|n| n.notify.is_some())
            .collect();
    upcoming.sort_by_key(|n| n.at);
    let skipped_days = match resolution.due {
        Some(due) if domain::sla::stored_clock(&resolution) == "running" && due > now => {
            domain::due::due_explained(
                &targets.calendar,
                now,
                domain::calendar::Target::Minutes(
                    (resolution.remaining.as_secs().max(0) as u64).div_ceil(60),
                ),
            )
            .map(|e| e.special_days)
            .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let columns = SlaColumns {
        clock: domain::sla::stored_clock(&resolution).to_owned(),
        due_at: resolution.due.map(domain::time::to_db),
        warn_at: resolution.warn_at.map(domain::time::to_db),
        respond_due_at: response.due.map(domain::time::to_db),
    };
    let priority = serde_json::json!({
        "code": targets.code, "label_en": targets.label_en, "label_fr": targets.label_fr,
        "calendar": targets.calendar.name(),
        "respond": targets.respond.to_string(), "resolve": targets.resolve.to_string(),
    });
    Ok(Evaluation {
        view: SlaView {
            policy,
            priority: Some(priority),
            state: Some(resolution.state.as_str().to_owned()),
            response: Some(response),
            resolution: Some(resolution),
            skipped_days,
            upcoming,
            no_sla_reason: None,
            objective: None,
        },
        columns,
    })
}

/// Recomputes a ticket's stored SLA figures and its scheduled warnings, inside the
/// transaction that changed it.
pub async fn refresh(state: &AppState, tx: &mut Conn, ticket_id: i64) -> AppResult<()> {
    refresh_with(&state.packs, tx, ticket_id).await
}

/// [`refresh`] for callers that hold the pack cache but not the whole state (the ticket
/// writer, the job runner).
pub async fn refresh_with(packs: &Packs, tx: &mut Conn, ticket_id: i64) -> AppResult<()> {
    let ticket = store::tickets::get(tx, &everything(), ticket_id).await?;
    let evaluation = evaluate(packs, tx, &ticket, domain::time::now()).await?;
    store::tickets::set_sla_columns(tx, ticket_id, &evaluation.columns).await?;
    let now = domain::time::now();
    let mut steps: Vec<(String, Timestamp)> = evaluation
        .view
        .upcoming
        .iter()
        .map(|n| (step_name(n), n.at))
        .collect();
    // Steps whose share is already used but that were never sent (the clock crossed them
    // while no job could run, or the change came before the job did): due now.
    if let (Some(clock), Some(pack_id)) = (&evaluation.view.resolution, ticket.policy_pack_id)
        && domain::sla::stored_clock(clock) == "running"
    {
        let pack = packs.get(tx, pack_id).await?;
        let ladder = pack.ladder();
        let names = std::iter::once("warning".to_owned())
            .chain((1..=ladder.steps.len()).map(|level| format!("escalation-{level}")));
        for name in names {
            let Some(share) = step_share(ladder, &name) else {
                continue;
            };
            if clock.used >= share.of(clock.target)
                && !store::jobs::notification_sent(
                    tx,
                    ticket_id,
                    "resolution",
                    &name,
                    clock.target.as_secs() as i64,
                )
                .await?
            {
                steps.push((name, now));
            }
        }
    }
    store::jobs::replace_for_ticket(tx, SLA_JOB, ticket_id, &steps).await?;
    Ok(())
}

/// The kind of the scheduled jobs that send SLA warnings and escalations.
pub const SLA_JOB: &str = "sla";

/// `warning`, `breach`, `escalation-1`…
pub fn step_name(n: &ScheduledNotification) -> String {
    match n.level {
        0 => n.step.as_str().to_owned(),
        level => format!("{}-{level}", n.step.as_str()),
    }
}

/// A scope that sees every ticket, for system work (clocks, jobs); never for a person.
pub fn everything() -> TicketScope {
    TicketScope {
        person_id: 0,
        orgs: OrgScope::All,
        privacy: true,
        security: true,
    }
}

/// The state at `now` from the stored columns, as queues show it.
pub fn state_of(ticket: &Ticket, now: Timestamp) -> Option<SlaState> {
    domain::sla::state_at(
        &ticket.sla_clock,
        ticket.sla_due_at.as_deref().and_then(parse_instant),
        ticket.sla_warn_at.as_deref().and_then(parse_instant),
        now,
    )
}

/// What the job runner needs.
#[derive(Clone)]
pub struct JobContext {
    pub db: store::Db,
    pub packs: Arc<Packs>,
    pub base_url: String,
    pub mailer: crate::mail::Mailer,
}

/// Runs the SLA jobs that are due: for each, in one transaction, re-evaluates the ticket's
/// clock, and if the step's share of the target is really used (the clock may have paused
/// since), records the notification once per ticket, step and target and puts the mails in
/// the outbox, then marks the job done. Returns how many notifications were sent.
pub async fn run_due_jobs(ctx: &JobContext) -> AppResult<usize> {
    let claimed = {
        let mut conn = ctx.db.begin().await?;
        let jobs =
            store::jobs::claim_due(&mut conn, 50, jiff::SignedDuration::from_secs(120)).await?;
        conn.commit().await?;
        jobs
    };
    let mut sent = 0;
    for job in claimed.into_iter().filter(|j| j.kind == SLA_JOB) {
        match run_job(ctx, &job).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(
                    job = job.id,
                    code = e.code,
                    "SLA job failed; retried after its lease"
                );
                if let Ok(mut conn) = ctx.db.begin().await {
                    let _ = store::jobs::record_failure(&mut conn, job.id, e.code).await;
                    let _ = conn.commit().await;
                }
            }
        }
    }
    Ok(sent)
}

async fn run_job(ctx: &JobContext, job: &store::jobs::Job) -> AppResult<bool> {
    let mut tx = ctx.db.begin().await?;
    let Some(ticket_id) = job.ticket_id else {
        store::jobs::complete(&mut tx, job.id).await?;
        tx.commit().await?;
        return Ok(false);
    };
    let ticket = store::tickets::get(&mut tx, &everything(), ticket_id).await?;
    let now = domain::time::now();
    let evaluation = evaluate(&ctx.packs, &mut tx, &ticket, now).await?;
    let pack = match ticket.policy_pack_id {
        Some(id) => Some(ctx.packs.get(&mut tx, id).await?),
        None => None,
    };
    let share = pack
        .as_ref()
        .and_then(|pack| step_share(pack.ladder(), &job.step));
    let reached = match (&evaluation.view.resolution, share) {
        (Some(clock), Some(share)) => {
            let running = domain::sla::stored_clock(clock) == "running";
            running && clock.used >= share.of(clock.target)
        }
        _ => false,
    };
    let mut sent = false;
    if reached && let Some(clock) = &evaluation.view.resolution {
        let first = store::jobs::record_notification(
            &mut tx,
            ticket.id,
            "resolution",
            &job.step,
            clock.target.as_secs() as i64,
        )
        .await?;
        if first {
            notify_step(ctx, &mut tx, &ticket, job.id, &job.step, clock).await?;
            sent = true;
        }
    }
    if !store::jobs::complete(&mut tx, job.id).await? {
        // Replaced meanwhile by a change of the ticket: its successor decides.
        return Ok(false);
    }
    tx.commit().await?;
    Ok(sent)
}

/// The share of the target at which a step fires: `warning`, `escalation-1`…
fn step_share(ladder: &domain::sla::EscalationLadder, step: &str) -> Option<domain::sla::Share> {
    match step {
        "warning" => Some(ladder.warning_share),
        _ => {
            let level: usize = step.strip_prefix("escalation-")?.parse().ok()?;
            ladder.steps.get(level.checked_sub(1)?).map(|s| s.at_share)
        }
    }
}

async fn notify_step(
    ctx: &JobContext,
    tx: &mut Conn,
    ticket: &Ticket,
    job_id: i64,
    step: &str,
    clock: &ClockReport,
) -> AppResult<()> {
    let Some(group) = ticket.support_group_id else {
        return Ok(());
    };
    let warning = step == "warning";
    let mut people: Vec<i64> = if warning {
        let mut people: Vec<i64> = ticket.assignee_id.into_iter().collect();
        people.extend(
            store::groups::members(tx, group)
                .await?
                .into_iter()
                .map(|(id, _)| id),
        );
        people
    } else {
        let leads = store::groups::leads(tx, group).await?;
        if leads.is_empty() {
            // No lead named: the whole group hears of the breach.
            store::groups::members(tx, group)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        } else {
            leads
        }
    };
    people.sort_unstable();
    people.dedup();
    let key = if warning {
        "sla-warning"
    } else {
        "sla-escalation"
    };
    let due = clock
        .due
        .map(|d| d.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let composer = ctx.mailer.composer(tx, &ctx.base_url).await?;
    for person in people {
        let Ok(p) = store::people::get(tx, &OrgScope::All, person).await else {
            continue;
        };
        if !p.is_active() {
            continue;
        }
        let args = [
            ("number", ticket.number.clone()),
            ("summary", ticket.summary.clone()),
            ("due", due.clone()),
            ("step", step.to_owned()),
            (
                "link",
                format!("{}/tickets/{}", composer.base_url(), ticket.number),
            ),
        ];
        let mail = composer
            .compose(&crate::mail::Draft {
                to: &p.email,
                audience: crate::mail::Audience::of(Some(&p.locale)),
                key,
                args: &args,
                fr_args: None,
                unsubscribe: None,
            })?
            .for_event(&format!("{}:job{job_id}", ticket.number));
        store::outbox::enqueue(tx, Some(ticket.id), &mail).await?;
    }
    Ok(())
}
