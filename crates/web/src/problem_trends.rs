//! Proactive problem detection: a scheduled run reads the recent incidents, finds trends
//! with `domain::problem::detect_trends` and stores each as a proposal; agents accept one
//! (a problem ticket is raised with the incidents attached) or dismiss it (its pattern is
//! not proposed again). Operator agents only: proposals span partners.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::service::event;
use crate::tickets::{self, RaiseInput, Raised};
use domain::policy::Action;
use domain::problem::{
    DismissedPattern, IncidentFacts, TrendDimension, TrendThresholds, detect_trends,
};
use domain::text::Locale;
use domain::ticket::{Channel, LinkKind, TicketKind};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use store::audit::{Actor, append};
use store::problem_trends::{self as db, AttachedIncident, NewProposal, Proposal};

const SETTINGS_KEY: &str = "problem_trends.settings";
const LAST_RUN_KEY: &str = "problem_trends.last_run";
const LEASE_NAME: &str = "problem_trends";
/// Longer than any run: a node that dies mid-run holds the others back this long at most.
const LEASE: SignedDuration = SignedDuration::from_mins(10);

/// When incidents make a trend and how often detection runs. Administrators change them;
/// until then the defaults hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TrendSettings {
    /// Incidents sharing a symptom within one window (2 to 1000).
    pub min_incidents: usize,
    /// Longest span from the first to the last incident of a trend, in days (1 to 365).
    pub window_days: i64,
    /// Words in the shared phrase (1 to 12).
    pub min_shared_words: usize,
    /// How far back detection reads incidents, in days (at least the window, up to 730).
    pub lookback_days: i64,
    /// Hours between two scheduled runs (1 to 720).
    pub every_hours: i64,
}

impl Default for TrendSettings {
    fn default() -> Self {
        let thresholds = TrendThresholds::default();
        TrendSettings {
            min_incidents: thresholds.min_incidents,
            window_days: thresholds.window.as_hours() / 24,
            min_shared_words: thresholds.min_shared_words,
            lookback_days: 90,
            every_hours: 24,
        }
    }
}

impl TrendSettings {
    pub fn thresholds(&self) -> TrendThresholds {
        TrendThresholds {
            min_incidents: self.min_incidents,
            window: SignedDuration::from_hours(24 * self.window_days),
            min_shared_words: self.min_shared_words,
        }
    }

    fn check(&self) -> AppResult<()> {
        let out_of_range = |field| AppError::invalid("out_of_range", field);
        if !(2..=1000).contains(&self.min_incidents) {
            return Err(out_of_range("min_incidents"));
        }
        if !(1..=365).contains(&self.window_days) {
            return Err(out_of_range("window_days"));
        }
        if !(1..=domain::problem::MAX_PHRASE_WORDS).contains(&self.min_shared_words) {
            return Err(out_of_range("min_shared_words"));
        }
        if !(self.window_days..=730).contains(&self.lookback_days) {
            return Err(out_of_range("lookback_days"));
        }
        if !(1..=720).contains(&self.every_hours) {
            return Err(out_of_range("every_hours"));
        }
        Ok(())
    }
}

async fn load_settings(conn: &mut store::Conn) -> AppResult<TrendSettings> {
    Ok(db::setting(conn, SETTINGS_KEY)
        .await?
        .and_then(|value| serde_json::from_str(&value).ok())
        .unwrap_or_default())
}

pub async fn settings(state: &AppState, who: &Identity) -> AppResult<TrendSettings> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    load_settings(&mut conn).await
}

/// Administrators: change the thresholds (they apply from the next run).
pub async fn save_settings(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &TrendSettings,
) -> AppResult<()> {
    who.require(Action::ManagePolicy)?;
    input.check()?;
    let mut tx = state.db.begin().await?;
    let before = load_settings(&mut tx).await?;
    let value = serde_json::to_string(input).map_err(|_| AppError::internal())?;
    db::put_setting(&mut tx, SETTINGS_KEY, &value).await?;
    append(
        &mut tx,
        actor,
        event(
            "problem_trends.settings",
            "setting",
            SETTINGS_KEY,
            None,
            crate::service::diff(&json!(before), &json!(input)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What one run of detection did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    /// Incidents read (opened within the look-back period, not yet attached to a problem).
    pub incidents: usize,
    /// Trends found, new or already proposed.
    pub found: usize,
    /// Proposals added by this run.
    pub added: usize,
    /// Pending proposals removed because detection no longer finds them as they were.
    pub withdrawn: u64,
}

fn facts_of(row: &db::IncidentRow) -> Option<IncidentFacts> {
    Some(IncidentFacts {
        id: row.id,
        opened_at: domain::time::from_db(&row.created_at)?,
        configuration_item: row.configuration_item.clone(),
        site: row.site.clone(),
        environment: row.environment.clone(),
        service: row.service_code.clone(),
        summary: row.summary.clone(),
    })
}

fn pattern_of(proposal: &Proposal) -> Option<DismissedPattern> {
    Some(DismissedPattern {
        dimension: TrendDimension::from_str(&proposal.dimension).ok()?,
        value: proposal.value.clone(),
        incident_ids: proposal.incident_ids(),
    })
}

/// The folded value a pattern is stored under (case and accents ignored).
fn value_key(value: &str) -> String {
    domain::text::fold(value.trim())
}

/// Runs detection now and stores what it finds. Detection reads and computes outside the
/// write transaction (so the writer is held only for the writes); decided patterns (both
/// dismissed and accepted) are passed to it as dismissed: they are never proposed again and
/// still hide the same incidents on coarser dimensions. A pattern decided while detection
/// ran is not stored again: a pattern is stored once, whatever its status.
pub async fn run(state: &AppState, actor: &Actor) -> AppResult<RunReport> {
    let (incidents, found) = {
        let mut conn = state.db.reader().acquire().await?;
        let settings = load_settings(&mut conn).await?;
        let since = domain::time::now() - SignedDuration::from_hours(24 * settings.lookback_days);
        let rows = db::incidents_since(&mut conn, &domain::time::to_db(since)).await?;
        let incidents: Vec<IncidentFacts> = rows.iter().filter_map(facts_of).collect();
        let decided: Vec<DismissedPattern> = db::decided(&mut conn)
            .await?
            .iter()
            .filter_map(pattern_of)
            .collect();
        let count = incidents.len();
        let thresholds = settings.thresholds();
        let found =
            tokio::task::spawn_blocking(move || detect_trends(&incidents, &thresholds, &decided))
                .await
                .map_err(|_| AppError::internal())?;
        (count, found)
    };
    let mut tx = state.db.begin().await?;
    let report = store_found(&mut tx, actor, incidents, &found).await?;
    tx.commit().await?;
    Ok(report)
}

async fn store_found(
    tx: &mut store::Conn,
    actor: &Actor,
    incidents: usize,
    found: &[domain::problem::ProposedProblem],
) -> AppResult<RunReport> {
    let now = domain::time::now();
    let mut report = RunReport {
        incidents,
        found: found.len(),
        ..RunReport::default()
    };
    let mut current = Vec::with_capacity(found.len());
    for trend in found {
        let key = value_key(&trend.value);
        if let Some(id) =
            db::pending_id(tx, trend.dimension.as_str(), &key, &trend.incident_ids).await?
        {
            current.push(id);
            continue;
        }
        let first_opened_at = domain::time::to_db(trend.first_opened_at);
        let last_opened_at = domain::time::to_db(trend.last_opened_at);
        let new = NewProposal {
            dimension: trend.dimension.as_str(),
            value: &trend.value,
            value_key: &key,
            incident_ids: &trend.incident_ids,
            shared: &trend.shared,
            shared_text: &trend.shared_text,
            reason_en: &trend.reason_en,
            reason_fr: &trend.reason_fr,
            first_opened_at: &first_opened_at,
            last_opened_at: &last_opened_at,
        };
        if let Some(id) = db::insert(tx, &new).await? {
            current.push(id);
            report.added += 1;
        }
    }
    report.withdrawn = db::withdraw_pending_except(tx, &current).await?;
    db::put_setting(tx, LAST_RUN_KEY, &domain::time::to_db(now)).await?;
    if report.added > 0 || report.withdrawn > 0 {
        append(
            tx,
            actor,
            event(
                "problem_trends.run",
                "problem_proposal",
                "run",
                None,
                json!(report),
            ),
        )
        .await?;
    }
    metrics::counter!("triage_problem_proposals_added_total").increment(report.added as u64);
    Ok(report)
}

/// Administrators: run detection now.
pub async fn run_now(state: &AppState, who: &Identity, actor: &Actor) -> AppResult<RunReport> {
    who.require(Action::ManagePolicy)?;
    run(state, actor).await
}

/// The scheduled run: on one node at a time (a lease), when the configured period has passed
/// since the last run.
pub async fn run_due(state: &AppState) -> AppResult<Option<RunReport>> {
    let lease = {
        let mut tx = state.db.begin().await?;
        let lease = store::leases::acquire(&mut tx, LEASE_NAME, LEASE).await?;
        tx.commit().await?;
        lease
    };
    let Some(lease) = lease else {
        return Ok(None);
    };
    let outcome = run_if_due(state).await;
    let mut tx = state.db.begin().await?;
    store::leases::release(&mut tx, lease).await?;
    tx.commit().await?;
    outcome
}

async fn run_if_due(state: &AppState) -> AppResult<Option<RunReport>> {
    let due = {
        let mut conn = state.db.reader().acquire().await?;
        let settings = load_settings(&mut conn).await?;
        let last = db::setting(&mut conn, LAST_RUN_KEY)
            .await?
            .and_then(|value| domain::time::from_db(&value));
        last.is_none_or(|last| {
            domain::time::now().duration_since(last)
                >= SignedDuration::from_hours(settings.every_hours)
        })
    };
    if !due {
        return Ok(None);
    }
    Ok(Some(run(state, &Actor::system("problem-detection")).await?))
}

/// Starts the scheduled run: every node checks each minute, one runs it when due.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_due(&state).await {
                Ok(Some(report)) => tracing::info!(
                    incidents = report.incidents,
                    found = report.found,
                    added = report.added,
                    "problem detection"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(code = e.code, "problem detection"),
            }
        }
    });
}

/// A proposal with its reason in the reader's language and its incidents.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    #[serde(flatten)]
    pub proposal: Proposal,
    /// The reason in the caller's language.
    pub reason: String,
    pub incidents: Vec<AttachedIncident>,
    /// The problem raised when it was accepted.
    pub problem_number: Option<String>,
}

/// Agents: proposals (only those with `status` when given), newest first.
pub async fn list(
    state: &AppState,
    who: &Identity,
    status: Option<&str>,
    locale: Locale,
) -> AppResult<Vec<ProposalView>> {
    who.require(Action::WorkTickets)?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s @ ("proposed" | "accepted" | "dismissed")) => Some(s),
        Some("all") | None => None,
        Some(other) => {
            return Err(AppError::invalid("invalid_choice", "status").with_arg("value", other));
        }
    };
    let mut conn = state.db.reader().acquire().await?;
    let proposals = db::list(&mut conn, status).await?;
    let ids: Vec<i64> = proposals.iter().map(|p| p.id).collect();
    let mut attached = db::attached(&mut conn, &ids).await?;
    let mut views = Vec::with_capacity(proposals.len());
    for proposal in proposals {
        let problem_number = match proposal.problem_ticket_id {
            Some(id) => store::tickets::get(&mut conn, &who.principal.ticket_scope(), id)
                .await
                .ok()
                .map(|t| t.number),
            None => None,
        };
        let (mine, rest): (Vec<_>, Vec<_>) = attached
            .into_iter()
            .partition(|incident| incident.proposal_id == proposal.id);
        attached = rest;
        views.push(ProposalView {
            reason: locale
                .pick(&proposal.reason_en, &proposal.reason_fr)
                .to_owned(),
            incidents: mine,
            problem_number,
            proposal,
        });
    }
    Ok(views)
}

/// The problem an accepted proposal raised.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub id: i64,
    pub number: String,
}

fn decided_already() -> AppError {
    AppError::new(axum::http::StatusCode::CONFLICT, "proposal_decided")
}

/// Agents: accept a proposal. A problem ticket is raised (see [`raise_problem`]) and each
/// incident is linked to it (`caused_by`), in one transaction with the decision.
pub async fn accept(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
) -> AppResult<Accepted> {
    who.require(Action::WorkTickets)?;
    let (proposal, incidents) = {
        let mut conn = state.db.reader().acquire().await?;
        let proposal = db::get(&mut conn, id).await?;
        let incidents = db::attached(&mut conn, &[id]).await?;
        (proposal, incidents)
    };
    if proposal.status != "proposed" {
        return Err(decided_already());
    }
    // The decision is taken first, so two agents accepting at once raise one problem.
    let mut tx = state.db.begin().await?;
    if !db::decide(&mut tx, id, "accepted", who.person.id, None).await? {
        return Err(decided_already());
    }
    tx.commit().await?;
    let problem = match raise_problem(state, who, actor, &proposal, &incidents).await {
        Ok(problem) => problem,
        Err(error) => {
            let mut tx = state.db.begin().await?;
            db::undo_accept(&mut tx, id).await?;
            tx.commit().await?;
            return Err(error);
        }
    };
    let mut tx = state.db.begin().await?;
    db::set_problem(&mut tx, id, problem.id).await?;
    // The problem's record (source: trend), its caused_by links and the CMDB item the
    // trend is on, with the partner contact's creation notice.
    let incident_ids: Vec<i64> = incidents.iter().map(|i| i.ticket_id).collect();
    let mut item_ids = Vec::new();
    if TrendDimension::from_str(&proposal.dimension).ok() == Some(TrendDimension::ConfigurationItem)
        && let Some(item) = store::problems::item_id_by_code(&mut tx, &proposal.value).await?
    {
        item_ids.push(item);
    }
    crate::problems::attach_new_problem(
        state,
        &mut tx,
        actor,
        problem.id,
        domain::problem_record::ProblemSource::Trend,
        &incident_ids,
        &item_ids,
    )
    .await?;
    for incident in &incidents {
        audit_link(&mut tx, actor, incident, &problem).await?;
    }
    append(
        &mut tx,
        actor,
        event(
            "problem_proposal.accept",
            "problem_proposal",
            id,
            None,
            json!({"problem": problem.number, "incidents": proposal.incident_ids()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        id: problem.id,
        number: problem.number,
    })
}

/// Raises the problem ticket for a proposal through the ticket engine: kind problem, in the
/// incidents' organization when they share one (else the operator's), with the reason in
/// both languages and the incidents in its details. One place, so that the problem record's
/// own fields can be filled here too.
pub async fn raise_problem(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    proposal: &Proposal,
    incidents: &[AttachedIncident],
) -> AppResult<Raised> {
    let organization_id = {
        let mut orgs: Vec<i64> = incidents.iter().map(|i| i.organization_id).collect();
        orgs.sort_unstable();
        orgs.dedup();
        match orgs.as_slice() {
            [only] => *only,
            _ => {
                let mut conn = state.db.reader().acquire().await?;
                state.operator_org_id(&mut conn).await?
            }
        }
    };
    let dimension = TrendDimension::from_str(&proposal.dimension).ok();
    let place = dimension.map_or(String::new(), |d| {
        format!(" ({} {})", d.label(Locale::En), proposal.value)
    });
    let summary: String = format!("{}{place}", proposal.shared_text)
        .chars()
        .take(domain::ticket::SUMMARY_MAX)
        .collect();
    let listed: Vec<String> = incidents
        .iter()
        .map(|i| format!("- {} {}", i.number, i.summary))
        .collect();
    let details = format!(
        "{}\n\n{}\n\n{}",
        proposal.reason_en,
        proposal.reason_fr,
        listed.join("\n")
    );
    let input = RaiseInput {
        kind: Some(TicketKind::Problem.as_str().to_owned()),
        organization_id: Some(organization_id),
        summary,
        details,
        configuration_item: (dimension == Some(TrendDimension::ConfigurationItem))
            .then(|| proposal.value.clone()),
        ..RaiseInput::default()
    };
    tickets::raise(state, who, actor, &input, Channel::Monitoring, &[]).await
}

/// The audit row of an incident linked to the problem raised from its trend (the link and
/// both timelines are written by `problems::attach_new_problem`).
async fn audit_link(
    tx: &mut store::Conn,
    actor: &Actor,
    incident: &AttachedIncident,
    problem: &Raised,
) -> AppResult<()> {
    let kind = LinkKind::CausedBy.as_str();
    append(
        tx,
        actor,
        event(
            "ticket.link",
            "ticket",
            &incident.number,
            Some(incident.organization_id),
            json!({"kind": kind, "to": problem.number}),
        ),
    )
    .await?;
    Ok(())
}

/// Agents: dismiss a proposal; its pattern (dimension, value, incidents) is not proposed
/// again.
pub async fn dismiss(state: &AppState, who: &Identity, actor: &Actor, id: i64) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let proposal = db::get(&mut tx, id).await?;
    if !db::decide(&mut tx, id, "dismissed", who.person.id, None).await? {
        return Err(decided_already());
    }
    append(
        &mut tx,
        actor,
        event(
            "problem_proposal.dismiss",
            "problem_proposal",
            id,
            None,
            json!({"dimension": proposal.dimension, "value": proposal.value,
                   "incidents": proposal.incident_ids()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
