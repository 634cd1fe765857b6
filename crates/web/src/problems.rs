//! Problem management: the problem record beside a problem ticket, its workflow, the
//! notices to the partner's single point of contact (SPOC), known errors offered to agents
//! working an incident, and the configuration items a ticket concerns. Each change is one
//! transaction with its timeline entries, audit row and mail.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::tickets::check_phi;
use axum::http::StatusCode;
use domain::policy::{Action, OrgScope};
use domain::problem::{self, IncidentProfile, KnownError, ProblemStatus};
use domain::problem_record::{
    self as rules, NoticeStage, ProblemCategory, ProblemSource, VerificationOutcome,
};
use domain::ticket::{Channel, Draft, LinkKind, TicketKind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use store::Conn;
use store::audit::{Actor, Event, append};
use store::problems::{self as db, LinkedItem, ProblemRow, Record};
use store::tickets::{ColumnValue, Ticket};

/// Longest free text of a record (description-like fields).
const TEXT_MAX: usize = 10_000;

/// What an agent gives to log a problem. Everything the spec requires must be there; a
/// 422 `missing_fields` names each missing field in `detail.missing`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProblem {
    /// The partner organization the problem is about.
    pub organization_id: Option<i64>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    /// What the problem does to the service and its users.
    #[serde(default)]
    pub impact_description: String,
    /// The submitter's role; defaults to the caller's first role.
    pub submitter_role: Option<String>,
    /// RFC 3339; defaults to now.
    pub submitted_at: Option<String>,
    /// application, interface, network, infrastructure, security, data_quality, process,
    /// vendor, other.
    pub category: Option<String>,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    /// The support group recommended to investigate (the problem is queued there).
    pub investigating_group_id: Option<i64>,
    pub service_id: Option<i64>,
    /// Incident numbers (`INC-…`): each is linked as caused by this problem.
    #[serde(default)]
    pub related_incidents: Vec<String>,
    /// CMDB codes.
    #[serde(default)]
    pub configuration_items: Vec<String>,
    pub workaround: Option<String>,
    pub action_plan: Option<String>,
    /// The partner's single point of contact: id or email of a person of the organization;
    /// defaults to the person whose address is the organization's SPOC address.
    pub spoc: Option<String>,
}

/// A change to a problem's record. Absent keys are left alone; an empty text clears it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemPatch {
    pub impact_description: Option<String>,
    pub submitter_role: Option<String>,
    pub category: Option<String>,
    pub investigating_group_id: Option<i64>,
    pub workaround: Option<String>,
    pub action_plan: Option<String>,
    pub root_cause: Option<String>,
    /// The permanent fix.
    pub resolution: Option<String>,
    /// Id or email of a person of the organization; empty removes the SPOC.
    pub spoc: Option<String>,
    /// worked or failed: only while the problem is in verification.
    pub verification_outcome: Option<String>,
    pub verification_notes: Option<String>,
    #[serde(default)]
    pub add_incidents: Vec<String>,
    #[serde(default)]
    pub add_configuration_items: Vec<String>,
    #[serde(default)]
    pub remove_configuration_items: Vec<String>,
}

/// A workflow move.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = ProblemStatusInput)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: String,
    /// Why (shown on the timeline).
    pub reason: Option<String>,
}

/// A problem with everything its page and `GET /api/v1/problems/{number}` show.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDetail {
    pub number: String,
    pub ticket: Ticket,
    pub record: Record,
    pub known_error: bool,
    /// Incidents linked as caused by this problem that the caller may see.
    pub incidents: Vec<store::tickets::Link>,
    pub configuration_items: Vec<LinkedItem>,
    pub investigating_group_code: Option<String>,
    pub spoc_name: Option<String>,
    pub verified_by_name: Option<String>,
    pub acknowledged_by_name: Option<String>,
    /// The moves the workflow allows from here.
    pub next_statuses: Vec<ProblemStatus>,
}

/// A known error offered for an incident.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KnownErrorMatch)]
pub struct Suggestion {
    pub number: String,
    pub summary: String,
    pub workaround: Option<String>,
    pub root_cause: Option<String>,
    /// Why it matches, in the caller's language.
    pub reason: String,
    pub score: f64,
}

fn text(value: &Option<String>, field: &'static str) -> AppResult<Option<String>> {
    Ok(domain::text::optional(field, value.as_deref(), TEXT_MAX)?)
}

fn parse_category(value: &str) -> AppResult<ProblemCategory> {
    ProblemCategory::from_str(value.trim())
        .map_err(|_| AppError::invalid("invalid_choice", "category").with_arg("value", value))
}

fn require_agent(who: &Identity) -> AppResult<()> {
    who.require(Action::WorkTickets)
}

/// A problem ticket the caller may see.
async fn problem_ticket(conn: &mut Conn, who: &Identity, number: &str) -> AppResult<Ticket> {
    let t = store::tickets::get_by_number(conn, &who.principal.ticket_scope(), number).await?;
    if t.kind() != TicketKind::Problem {
        return Err(AppError::not_found());
    }
    Ok(t)
}

/// The person whose address is the organization's SPOC address, if there is one.
async fn default_spoc(conn: &mut Conn, organization_id: i64) -> AppResult<Option<i64>> {
    let org = store::orgs::get(conn, &OrgScope::All, organization_id).await?;
    match org.spoc_email.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(email) => Ok(store::tickets::colleague(conn, organization_id, email)
            .await
            .ok()
            .map(|(id, _)| id)),
        None => Ok(None),
    }
}

async fn spoc_of(conn: &mut Conn, organization_id: i64, value: &str) -> AppResult<i64> {
    store::tickets::colleague(conn, organization_id, value)
        .await
        .map(|(id, _)| id)
        .map_err(|_| AppError::invalid("person_not_in_organization", "spoc"))
}

/// The record of a problem ticket, written with defaults drawn from the ticket when the
/// ticket was opened by another path (a major incident, an accepted trend) and has none.
pub async fn ensure_record(conn: &mut Conn, t: &Ticket) -> AppResult<Record> {
    if let Some(record) = db::get(conn, t.id).await? {
        return Ok(record);
    }
    let role = store::people::roles_of(conn, t.reporter_id)
        .await?
        .into_iter()
        .next()
        .map(|r| r.role)
        .unwrap_or_default();
    let status = match t.status() {
        domain::ticket::Status::Closed => ProblemStatus::Closed,
        domain::ticket::Status::Cancelled => ProblemStatus::Cancelled,
        _ => ProblemStatus::Logging,
    };
    let workaround = t.workaround.clone().filter(|w| !w.trim().is_empty());
    let known_error = problem::is_known_error(None, workaround.as_deref());
    let now = domain::time::to_db(domain::time::now());
    let record = Record {
        ticket_id: t.id,
        status: status.as_str().to_owned(),
        source: ProblemSource::Manual.as_str().to_owned(),
        submitter_role: role,
        submitted_at: t.created_at.clone(),
        impact_description: t
            .service_impact
            .clone()
            .or_else(|| t.user_impact.clone())
            .unwrap_or_default(),
        workaround,
        action_plan: None,
        root_cause: None,
        resolution: None,
        investigating_group_id: t.support_group_id,
        category: String::new(),
        known_error: known_error as i64,
        known_error_since: known_error.then(|| now.clone()),
        verified_by: None,
        verified_at: None,
        verification_outcome: None,
        verification_notes: None,
        spoc_person_id: default_spoc(conn, t.organization_id).await?,
        closure_acknowledged_by: None,
        closure_acknowledged_at: None,
        created_at: now.clone(),
        updated_at: now,
    };
    db::insert(conn, &record).await?;
    if let Some(spoc) = record.spoc_person_id {
        store::tickets::add_person(conn, t.id, spoc, "spoc").await?;
    }
    db::get(conn, t.id).await?.ok_or_else(AppError::internal)
}

/// Incident numbers to ids, refusing anything that is not a visible incident.
async fn incidents_by_number(
    conn: &mut Conn,
    who: &Identity,
    numbers: &[String],
    field: &'static str,
) -> AppResult<Vec<Ticket>> {
    let mut out = Vec::new();
    for number in numbers {
        let t = store::tickets::get_by_number(conn, &who.principal.ticket_scope(), number.trim())
            .await
            .map_err(|_| AppError::invalid("unknown_incident", field).with_arg("value", number))?;
        if t.kind() != TicketKind::Incident {
            return Err(AppError::invalid("unknown_incident", field).with_arg("value", number));
        }
        if !out.iter().any(|o: &Ticket| o.id == t.id) {
            out.push(t);
        }
    }
    Ok(out)
}

/// CMDB codes to ids, refusing unknown codes.
pub(crate) async fn items_by_code(
    conn: &mut Conn,
    codes: &[String],
    field: &'static str,
) -> AppResult<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for code in codes {
        let id = db::item_id_by_code(conn, code).await?.ok_or_else(|| {
            AppError::invalid("unknown_configuration_item", field).with_arg("value", code)
        })?;
        if !out.iter().any(|(o, _)| *o == id) {
            out.push((id, code.trim().to_lowercase()));
        }
    }
    Ok(out)
}

/// Links incidents (caused by the problem) and configuration items to a problem, with
/// their timeline entries.
async fn relate(
    tx: &mut Conn,
    actor: &Actor,
    problem: &Ticket,
    incidents: &[(i64, String)],
    items: &[i64],
) -> AppResult<()> {
    for (id, number) in incidents {
        match store::tickets::add_link(tx, *id, problem.id, LinkKind::CausedBy).await {
            Ok(()) => {}
            Err(store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        store::tickets::add_event(
            tx,
            *id,
            actor,
            "linked",
            false,
            None,
            json!({"kind": "caused_by", "to": problem.number}),
        )
        .await?;
        store::tickets::add_event(
            tx,
            problem.id,
            actor,
            "linked",
            false,
            None,
            json!({"kind": "caused_by", "from": number}),
        )
        .await?;
    }
    for item in items {
        db::add_item(tx, problem.id, *item).await?;
    }
    Ok(())
}

/// For the paths that open problem tickets themselves (a major incident resolved without a
/// root cause, an accepted trend): in the caller's transaction, gives the new problem its
/// record (with its source, starting where that source starts), links its incidents and
/// configuration items (by id), and sends the SPOC the creation notice.
pub async fn attach_new_problem(
    state: &AppState,
    tx: &mut Conn,
    actor: &Actor,
    problem_ticket_id: i64,
    source: ProblemSource,
    incident_ids: &[i64],
    configuration_item_ids: &[i64],
) -> AppResult<()> {
    let t = store::tickets::get(tx, &crate::sla::everything(), problem_ticket_id).await?;
    if t.kind() != TicketKind::Problem {
        return Err(AppError::invalid("not_a_problem", "number"));
    }
    let mut record = ensure_record(tx, &t).await?;
    record.source = source.as_str().to_owned();
    if record.status == ProblemStatus::Logging.as_str() {
        record.status = source.first_status().as_str().to_owned();
    }
    db::update(tx, &record).await?;
    let mut incidents = Vec::new();
    for id in incident_ids {
        let incident = store::tickets::get(tx, &crate::sla::everything(), *id).await?;
        incidents.push((incident.id, incident.number));
    }
    relate(tx, actor, &t, &incidents, configuration_item_ids).await?;
    append(
        tx,
        actor,
        Event {
            action: "problem.create",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"source": source.as_str(), "incidents": incident_ids, "configuration_items": configuration_item_ids}),
        },
    )
    .await?;
    notify_spoc(state, tx, &t, &record, &[NoticeStage::Created]).await
}

/// Logs a problem: the ticket, its record, its links and the SPOC's notice in one
/// transaction. Returns the problem's number.
pub async fn create(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &NewProblem,
) -> AppResult<String> {
    require_agent(who)?;
    let mut tx = state.db.begin().await?;
    let submitter_role = match input.submitter_role.as_deref() {
        Some(role) => role.to_owned(),
        None => who
            .principal
            .grants
            .first()
            .map(|g| g.role.as_str().to_owned())
            .unwrap_or_default(),
    };
    let missing = rules::missing_fields(&rules::NewProblemFacts {
        has_organization: input.organization_id.is_some(),
        summary: input.summary.clone(),
        description: input.description.clone(),
        impact_description: input.impact_description.clone(),
        submitter_role: submitter_role.clone(),
        has_category: input
            .category
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty()),
        has_investigating_group: input.investigating_group_id.is_some(),
        has_impact: input.impact.is_some(),
        has_urgency: input.urgency.is_some(),
        related_incidents: input.related_incidents.len(),
        configuration_items: input.configuration_items.len(),
    });
    if let Some(first) = missing.first() {
        return Err(AppError::invalid("missing_fields", first)
            .with_arg("fields", missing.join(", "))
            .with_detail(json!({"missing": missing})));
    }
    let organization_id = input.organization_id.unwrap_or_default();
    let org = store::orgs::get(&mut tx, &OrgScope::All, organization_id)
        .await
        .map_err(|_| AppError::invalid("unknown_organization", "organization_id"))?;
    let summary = domain::text::required("summary", &input.summary, 200)?;
    let description = domain::text::required("description", &input.description, TEXT_MAX)?;
    let impact_description =
        domain::text::required("impact_description", &input.impact_description, TEXT_MAX)?;
    let submitter_role = domain::text::required("submitter_role", &submitter_role, 100)?;
    let category = parse_category(input.category.as_deref().unwrap_or_default())?;
    let impact = domain::ticket::check_level("impact", input.impact.unwrap_or_default())?;
    let urgency = domain::ticket::check_level("urgency", input.urgency.unwrap_or_default())?;
    let group_id = input.investigating_group_id.unwrap_or_default();
    store::groups::get(&mut tx, group_id)
        .await
        .map_err(|_| AppError::invalid("unknown_group", "investigating_group_id"))?;
    if let Some(service) = input.service_id
        && !store::orgs::services(&mut tx)
            .await?
            .iter()
            .any(|s| s.id == service)
    {
        return Err(AppError::invalid("unknown_service", "service_id"));
    }
    let submitted_at = match input
        .submitted_at
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(when) => domain::time::to_db(
            when.trim()
                .parse::<jiff::Timestamp>()
                .map_err(|_| AppError::invalid("invalid_datetime", "submitted_at"))?,
        ),
        None => domain::time::to_db(domain::time::now()),
    };
    let workaround = text(&input.workaround, "workaround")?;
    let action_plan = text(&input.action_plan, "action_plan")?;
    check_phi([
        ("summary", summary.as_str()),
        ("description", description.as_str()),
        ("impact_description", impact_description.as_str()),
        ("workaround", workaround.as_deref().unwrap_or("")),
        ("action_plan", action_plan.as_deref().unwrap_or("")),
    ])?;
    let incidents =
        incidents_by_number(&mut tx, who, &input.related_incidents, "related_incidents").await?;
    let items = items_by_code(&mut tx, &input.configuration_items, "configuration_items").await?;
    let spoc = match input.spoc.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(value) => Some(spoc_of(&mut tx, organization_id, value).await?),
        None => default_spoc(&mut tx, organization_id).await?,
    };

    let policy_pack_id = state.packs.selected_id(&mut tx).await?;
    let priority = match policy_pack_id {
        Some(id) => {
            let pack = state.packs.get(&mut tx, id).await?;
            crate::sla::priority_from_pack(&pack, TicketKind::Problem, impact, urgency)
        }
        None => None,
    }
    .unwrap_or_else(|| domain::ticket::default_priority(impact, urgency));
    let new = store::tickets::NewTicket {
        kind: TicketKind::Problem,
        organization_id,
        service_id: input.service_id,
        subcategory_id: None,
        reporter_id: who.person.id,
        on_behalf_of_id: None,
        draft: Draft {
            summary,
            details: description,
            impact,
            urgency,
            configuration_item: items.first().map(|(_, code)| code.clone()),
            first_occurrence: None,
            service_impact: Some(impact_description.clone()),
            user_impact: None,
            troubleshooting: None,
            workaround: None,
            no_workaround: false,
            partner_references: Vec::new(),
            custom: Vec::new(),
        },
        priority,
        support_group_id: Some(group_id),
        channel: Channel::Api,
        policy_pack_id,
        sla: Default::default(),
        created_at: domain::time::now(),
    };
    let backend = state.db.backend();
    let reservation = store::tickets::reserve(&mut tx, backend, &[TicketKind::Problem]).await?;
    let mut chain = reservation.chain;
    let reserved = &reservation.tickets[0];
    let inserted = store::tickets::insert_with_companions(
        &mut tx,
        backend,
        actor,
        &new,
        reserved,
        &mut chain,
        &store::tickets::Companions {
            audit_action: "ticket.create",
            audit_detail: json!({"kind": "problem", "channel": "api", "priority": priority}),
            mails: &[],
            job_kind: crate::sla::SLA_JOB,
            jobs: &[],
        },
    )
    .await?;
    crate::sla::refresh(state, &mut tx, inserted.id).await?;
    let t = store::tickets::get(&mut tx, &crate::sla::everything(), inserted.id).await?;
    let known_error = problem::is_known_error(None, workaround.as_deref());
    let now = domain::time::to_db(domain::time::now());
    let record = Record {
        ticket_id: t.id,
        status: ProblemStatus::Logging.as_str().to_owned(),
        source: ProblemSource::Manual.as_str().to_owned(),
        submitter_role,
        submitted_at,
        impact_description,
        workaround,
        action_plan,
        root_cause: None,
        resolution: None,
        investigating_group_id: Some(group_id),
        category: category.as_str().to_owned(),
        known_error: known_error as i64,
        known_error_since: known_error.then(|| now.clone()),
        verified_by: None,
        verified_at: None,
        verification_outcome: None,
        verification_notes: None,
        spoc_person_id: spoc,
        closure_acknowledged_by: None,
        closure_acknowledged_at: None,
        created_at: now.clone(),
        updated_at: now,
    };
    db::insert(&mut tx, &record).await?;
    if let Some(spoc) = spoc {
        store::tickets::add_person(&mut tx, t.id, spoc, "spoc").await?;
    }
    let incident_pairs: Vec<(i64, String)> =
        incidents.iter().map(|i| (i.id, i.number.clone())).collect();
    let item_ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    relate(&mut tx, actor, &t, &incident_pairs, &item_ids).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "problem.create",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(org.id),
            detail: json!({
                "source": "manual",
                "category": category.as_str(),
                "incidents": incident_pairs.iter().map(|(_, n)| n).collect::<Vec<_>>(),
                "configuration_items": items.iter().map(|(_, c)| c).collect::<Vec<_>>(),
                "known_error": known_error,
            }),
        },
    )
    .await?;
    notify_spoc(state, &mut tx, &t, &record, &[NoticeStage::Created]).await?;
    tx.commit().await?;
    metrics::counter!("triage_problems_created_total").increment(1);
    Ok(t.number)
}

/// Mails the SPOC the notices of these stages, each once per problem, stage and person
/// (the outbox's idempotency key), in the SPOC's language.
async fn notify_spoc(
    state: &AppState,
    tx: &mut Conn,
    t: &Ticket,
    record: &Record,
    stages: &[NoticeStage],
) -> AppResult<()> {
    let Some(spoc) = record.spoc_person_id else {
        return Ok(());
    };
    if stages.is_empty() {
        return Ok(());
    }
    let Ok(person) = store::people::get(tx, &OrgScope::All, spoc).await else {
        return Ok(());
    };
    if !person.is_active() {
        return Ok(());
    }
    let composer = state.composer(tx).await?;
    let locale = domain::text::Locale::parse(&person.locale).unwrap_or(domain::text::Locale::En);
    let status = ProblemStatus::from_str(&record.status)
        .map(|s| s.label(locale).to_owned())
        .unwrap_or_else(|_| record.status.clone());
    let args = vec![
        ("number", t.number.clone()),
        ("summary", t.summary.clone()),
        (
            "organization",
            locale
                .pick(&t.organization_name_en, &t.organization_name_fr)
                .to_owned(),
        ),
        ("status", status),
        ("description", t.details.clone()),
        ("root_cause", record.root_cause.clone().unwrap_or_default()),
        ("workaround", record.workaround.clone().unwrap_or_default()),
        ("resolution", record.resolution.clone().unwrap_or_default()),
        (
            "link",
            format!("{}/problems/{}", composer.base_url(), t.number),
        ),
    ];
    for stage in stages {
        let mut mail = composer.compose(&crate::mail::Draft {
            to: &person.email,
            audience: crate::mail::Audience::One(locale),
            key: stage.template(),
            args: &args,
            fr_args: None,
            unsubscribe: None,
        })?;
        mail.idempotency_key = Some(format!(
            "problem:{}:{}:{}",
            t.number,
            stage.as_str(),
            person.id
        ));
        store::outbox::enqueue(tx, Some(t.id), &mail).await?;
    }
    Ok(())
}

/// Problems the caller may see, with a filter.
pub async fn list(
    state: &AppState,
    who: &Identity,
    filter: &db::Filter,
) -> AppResult<Vec<ProblemRow>> {
    if let Some(status) = &filter.status {
        ProblemStatus::from_str(status)
            .map_err(|_| AppError::invalid("invalid_choice", "status").with_arg("value", status))?;
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::list(&mut conn, &who.principal.ticket_scope(), filter).await?)
}

/// One problem. A problem ticket without a record gets one first.
pub async fn detail(state: &AppState, who: &Identity, number: &str) -> AppResult<ProblemDetail> {
    let mut conn = state.db.reader().acquire().await?;
    let t = problem_ticket(&mut conn, who, number).await?;
    let record = match db::get(&mut conn, t.id).await? {
        Some(record) => record,
        None => {
            drop(conn);
            let mut tx = state.db.begin().await?;
            let record = ensure_record(&mut tx, &t).await?;
            tx.commit().await?;
            conn = state.db.reader().acquire().await?;
            record
        }
    };
    let incidents = store::tickets::links(&mut conn, &who.principal.ticket_scope(), t.id)
        .await?
        .into_iter()
        .filter(|l| l.kind == LinkKind::CausedBy.as_str() && l.direction == "in")
        .collect();
    let configuration_items = db::items_of(&mut conn, &[t.id]).await?;
    let name = async |conn: &mut Conn, id: Option<i64>| -> AppResult<Option<String>> {
        Ok(match id {
            Some(id) => store::people::get(conn, &OrgScope::All, id)
                .await
                .ok()
                .map(|p| p.display_name),
            None => None,
        })
    };
    let spoc_name = name(&mut conn, record.spoc_person_id).await?;
    let verified_by_name = name(&mut conn, record.verified_by).await?;
    let acknowledged_by_name = name(&mut conn, record.closure_acknowledged_by).await?;
    let investigating_group_code = match record.investigating_group_id {
        Some(g) => store::groups::get(&mut conn, g).await.ok().map(|g| g.code),
        None => None,
    };
    let status = ProblemStatus::from_str(&record.status).unwrap_or(ProblemStatus::Logging);
    let verified =
        record.verification_outcome.as_deref() == Some(VerificationOutcome::Worked.as_str());
    Ok(ProblemDetail {
        number: t.number.clone(),
        known_error: record.known_error != 0,
        next_statuses: ProblemStatus::ALL
            .into_iter()
            .filter(|to| problem::check_move(status, *to, verified).is_ok())
            .collect(),
        incidents,
        configuration_items,
        investigating_group_code,
        spoc_name,
        verified_by_name,
        acknowledged_by_name,
        record,
        ticket: t,
    })
}

/// Applies a patch to a problem's record.
pub async fn update(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    patch: &ProblemPatch,
) -> AppResult<()> {
    require_agent(who)?;
    let mut tx = state.db.begin().await?;
    let t = problem_ticket(&mut tx, who, number).await?;
    let before = ensure_record(&mut tx, &t).await?;
    let status = ProblemStatus::from_str(&before.status).unwrap_or(ProblemStatus::Logging);
    if status.is_final() {
        return Err(AppError::new(StatusCode::CONFLICT, "problem_closed"));
    }
    let mut after = before.clone();
    if let Some(v) = &patch.impact_description {
        after.impact_description = domain::text::required("impact_description", v, TEXT_MAX)?;
    }
    if let Some(v) = &patch.submitter_role {
        after.submitter_role = domain::text::required("submitter_role", v, 100)?;
    }
    if let Some(v) = &patch.category {
        after.category = parse_category(v)?.as_str().to_owned();
    }
    if let Some(g) = patch.investigating_group_id {
        store::groups::get(&mut tx, g)
            .await
            .map_err(|_| AppError::invalid("unknown_group", "investigating_group_id"))?;
        after.investigating_group_id = Some(g);
    }
    if patch.workaround.is_some() {
        after.workaround = text(&patch.workaround, "workaround")?;
    }
    if patch.action_plan.is_some() {
        after.action_plan = text(&patch.action_plan, "action_plan")?;
    }
    if patch.root_cause.is_some() {
        after.root_cause = text(&patch.root_cause, "root_cause")?;
    }
    if patch.resolution.is_some() {
        after.resolution = text(&patch.resolution, "resolution")?;
    }
    if let Some(spoc) = &patch.spoc {
        after.spoc_person_id = match spoc.trim() {
            "" => None,
            value => Some(spoc_of(&mut tx, t.organization_id, value).await?),
        };
    }
    if patch.verification_outcome.is_some() || patch.verification_notes.is_some() {
        if status != ProblemStatus::Verification {
            return Err(AppError::new(StatusCode::CONFLICT, "not_in_verification"));
        }
        if let Some(outcome) = &patch.verification_outcome {
            let outcome = VerificationOutcome::from_str(outcome.trim()).map_err(|_| {
                AppError::invalid("invalid_choice", "verification_outcome")
                    .with_arg("value", outcome)
            })?;
            after.verification_outcome = Some(outcome.as_str().to_owned());
        }
        if patch.verification_notes.is_some() {
            after.verification_notes = text(&patch.verification_notes, "verification_notes")?;
        }
        after.verified_by = Some(who.person.id);
        after.verified_at = Some(domain::time::to_db(domain::time::now()));
    }
    check_phi([
        ("impact_description", after.impact_description.as_str()),
        ("workaround", after.workaround.as_deref().unwrap_or("")),
        ("action_plan", after.action_plan.as_deref().unwrap_or("")),
        ("root_cause", after.root_cause.as_deref().unwrap_or("")),
        ("resolution", after.resolution.as_deref().unwrap_or("")),
        (
            "verification_notes",
            after.verification_notes.as_deref().unwrap_or(""),
        ),
    ])?;
    let incidents =
        incidents_by_number(&mut tx, who, &patch.add_incidents, "add_incidents").await?;
    let added_items = items_by_code(
        &mut tx,
        &patch.add_configuration_items,
        "add_configuration_items",
    )
    .await?;
    let removed_items = items_by_code(
        &mut tx,
        &patch.remove_configuration_items,
        "remove_configuration_items",
    )
    .await?;
    let known_error =
        problem::is_known_error(after.root_cause.as_deref(), after.workaround.as_deref());
    after.known_error = known_error as i64;
    if known_error && before.known_error == 0 {
        after.known_error_since = Some(domain::time::to_db(domain::time::now()));
    }
    let changed: Vec<&'static str> = [
        (
            "impact_description",
            before.impact_description != after.impact_description,
        ),
        (
            "submitter_role",
            before.submitter_role != after.submitter_role,
        ),
        ("category", before.category != after.category),
        (
            "investigating_group_id",
            before.investigating_group_id != after.investigating_group_id,
        ),
        ("workaround", before.workaround != after.workaround),
        ("action_plan", before.action_plan != after.action_plan),
        ("root_cause", before.root_cause != after.root_cause),
        ("resolution", before.resolution != after.resolution),
        ("spoc", before.spoc_person_id != after.spoc_person_id),
        ("verification", before.verified_at != after.verified_at),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect();
    if changed.is_empty()
        && incidents.is_empty()
        && added_items.is_empty()
        && removed_items.is_empty()
    {
        return Err(AppError::bad_request("nothing_to_change"));
    }
    db::update(&mut tx, &after).await?;
    if before.spoc_person_id != after.spoc_person_id {
        if let Some(old) = before.spoc_person_id {
            store::tickets::remove_person(&mut tx, t.id, old).await?;
        }
        if let Some(new) = after.spoc_person_id {
            store::tickets::add_person(&mut tx, t.id, new, "spoc").await?;
        }
    }
    for field in &changed {
        let data = if *field == "verification" {
            json!({"field": field, "outcome": after.verification_outcome})
        } else {
            json!({"field": field})
        };
        store::tickets::add_event(&mut tx, t.id, actor, "problem_field", false, None, data).await?;
    }
    if known_error != (before.known_error != 0) {
        store::tickets::add_event(
            &mut tx,
            t.id,
            actor,
            "known_error",
            false,
            None,
            json!({"known_error": known_error}),
        )
        .await?;
    }
    let incident_pairs: Vec<(i64, String)> =
        incidents.iter().map(|i| (i.id, i.number.clone())).collect();
    let item_ids: Vec<i64> = added_items.iter().map(|(id, _)| *id).collect();
    relate(&mut tx, actor, &t, &incident_pairs, &item_ids).await?;
    for (id, _) in &removed_items {
        db::remove_item(&mut tx, t.id, *id).await?;
    }
    append(
        &mut tx,
        actor,
        Event {
            action: "problem.update",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({
                "changes": crate::service::diff(&json!(before), &json!(after)),
                "incidents_added": incident_pairs.iter().map(|(_, n)| n).collect::<Vec<_>>(),
                "items_added": added_items.iter().map(|(_, c)| c).collect::<Vec<_>>(),
                "items_removed": removed_items.iter().map(|(_, c)| c).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    let stages = rules::notices_for_change(
        None,
        before.root_cause.is_some(),
        after.root_cause.is_some(),
    );
    notify_spoc(state, &mut tx, &t, &after, &stages).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a problem along its workflow; the ticket's own status follows.
pub async fn set_status(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &StatusInput,
) -> AppResult<()> {
    require_agent(who)?;
    let to = ProblemStatus::from_str(input.status.trim()).map_err(|_| {
        AppError::invalid("invalid_choice", "status").with_arg("value", &input.status)
    })?;
    let reason = domain::text::optional("reason", input.reason.as_deref(), 2000)?;
    if let Some(r) = &reason {
        check_phi([("reason", r.as_str())])?;
    }
    let mut tx = state.db.begin().await?;
    let t = problem_ticket(&mut tx, who, number).await?;
    let mut record = ensure_record(&mut tx, &t).await?;
    let from = ProblemStatus::from_str(&record.status).unwrap_or(ProblemStatus::Logging);
    let verified =
        record.verification_outcome.as_deref() == Some(VerificationOutcome::Worked.as_str());
    problem::check_move(from, to, verified).map_err(|refusal| {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, refusal.code())
            .with_arg("from", from.as_str())
            .with_arg("to", to.as_str())
    })?;
    record.status = to.as_str().to_owned();
    // A fix that goes back to investigation is verified again next time.
    if to == ProblemStatus::Investigation {
        record.verified_by = None;
        record.verified_at = None;
        record.verification_outcome = None;
        record.verification_notes = None;
    }
    db::update(&mut tx, &record).await?;
    let event = store::tickets::add_event(
        &mut tx,
        t.id,
        actor,
        "problem_status",
        false,
        None,
        json!({"from": from.as_str(), "to": to.as_str(), "reason": reason}),
    )
    .await?;
    let ticket_from = t.status();
    let ticket_to = rules::ticket_status(to);
    if ticket_from != ticket_to {
        let now = domain::time::to_db(domain::time::now());
        let mut columns = vec![
            (
                "status",
                ColumnValue::Text(Some(ticket_to.as_str().to_owned())),
            ),
            (
                "is_open",
                ColumnValue::Int(Some(ticket_to.is_open() as i64)),
            ),
        ];
        if ticket_to.is_final() {
            columns.push(("closed_at", ColumnValue::Text(Some(now))));
        }
        store::tickets::update_columns(&mut tx, t.id, t.version, &columns).await?;
        store::tickets::add_event(
            &mut tx,
            t.id,
            actor,
            "status",
            false,
            None,
            json!({"from": ticket_from.as_str(), "to": ticket_to.as_str()}),
        )
        .await?;
    }
    if to == ProblemStatus::Resolution {
        let version = store::tickets::get(&mut tx, &crate::sla::everything(), t.id)
            .await?
            .version;
        store::tickets::update_columns(
            &mut tx,
            t.id,
            version,
            &[(
                "resolved_at",
                ColumnValue::Text(Some(domain::time::to_db(domain::time::now()))),
            )],
        )
        .await?;
    }
    append(
        &mut tx,
        actor,
        Event {
            action: "problem.status",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"from": from.as_str(), "to": to.as_str(), "event": event}),
        },
    )
    .await?;
    let has_root_cause = record.root_cause.is_some();
    let stages = rules::notices_for_change(Some((from, to)), has_root_cause, has_root_cause);
    notify_spoc(state, &mut tx, &t, &record, &stages).await?;
    crate::sla::refresh(state, &mut tx, t.id).await?;
    tx.commit().await?;
    Ok(())
}

/// The partner's SPOC acknowledges a closed problem's closure.
pub async fn acknowledge_closure(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let t = problem_ticket(&mut tx, who, number).await?;
    let mut record = ensure_record(&mut tx, &t).await?;
    if record.spoc_person_id != Some(who.person.id) {
        return Err(AppError::forbidden());
    }
    if record.status != ProblemStatus::Closed.as_str() {
        return Err(AppError::new(StatusCode::CONFLICT, "problem_not_closed"));
    }
    if record.closure_acknowledged_at.is_some() {
        return Err(AppError::new(StatusCode::CONFLICT, "already_acknowledged"));
    }
    record.closure_acknowledged_by = Some(who.person.id);
    record.closure_acknowledged_at = Some(domain::time::to_db(domain::time::now()));
    db::update(&mut tx, &record).await?;
    store::tickets::add_event(
        &mut tx,
        t.id,
        actor,
        "problem_acknowledged",
        false,
        None,
        json!({"by": who.person.display_name}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "problem.acknowledge_closure",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- Known errors for an incident ---------------------------------------------------

/// The configuration item an incident names: a linked CMDB item first, else its free text.
async fn incident_item(conn: &mut Conn, t: &Ticket) -> AppResult<Option<String>> {
    let linked = db::items_of(conn, &[t.id]).await?;
    Ok(linked
        .first()
        .map(|i| i.code.clone())
        .or_else(|| t.configuration_item.clone()))
}

/// Known errors matching an incident (same configuration item or service, similar text),
/// best first, without the problems it is already linked to. Agents only.
pub async fn suggestions(
    state: &AppState,
    who: &Identity,
    number: &str,
    locale: domain::text::Locale,
) -> AppResult<Vec<Suggestion>> {
    require_agent(who)?;
    let mut conn = state.db.reader().acquire().await?;
    let t = store::tickets::get_by_number(&mut conn, &who.principal.ticket_scope(), number).await?;
    if t.kind() != TicketKind::Incident {
        return Ok(Vec::new());
    }
    let item = incident_item(&mut conn, &t).await?;
    let linked: Vec<String> = store::tickets::links(&mut conn, &crate::sla::everything(), t.id)
        .await?
        .into_iter()
        .map(|l| l.number)
        .collect();
    let rows: Vec<db::KnownErrorRow> = db::open_known_errors(&mut conn)
        .await?
        .into_iter()
        .filter(|k| !linked.contains(&k.number))
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.ticket_id).collect();
    let items = db::items_of(&mut conn, &ids).await?;
    let wanted = item.as_deref().map(|c| c.trim().to_lowercase());
    let known: Vec<KnownError> = rows
        .iter()
        .map(|r| {
            let codes: Vec<&str> = items
                .iter()
                .filter(|i| i.ticket_id == r.ticket_id)
                .map(|i| i.code.as_str())
                .collect();
            // A problem on several items matches an incident on any of them.
            let configuration_item = codes
                .iter()
                .find(|c| Some(c.to_string()) == wanted)
                .or(codes.first())
                .map(|c| c.to_string())
                .or_else(|| r.free_text_item.clone());
            KnownError {
                id: r.ticket_id,
                configuration_item,
                service: r.service_code.clone(),
                summary: r.summary.clone(),
                details: format!(
                    "{}\n{}",
                    r.details,
                    r.root_cause.clone().unwrap_or_default()
                ),
                workaround: r.workaround.clone().unwrap_or_default(),
            }
        })
        .collect();
    let profile = IncidentProfile {
        configuration_item: item,
        service: t.service_code.clone(),
        summary: t.summary.clone(),
        details: t.details.clone(),
    };
    Ok(problem::suggest_known_errors(&profile, &known, 5)
        .into_iter()
        .filter_map(|s| {
            let row = rows.iter().find(|r| r.ticket_id == s.known_error_id)?;
            Some(Suggestion {
                number: row.number.clone(),
                summary: row.summary.clone(),
                workaround: row.workaround.clone(),
                root_cause: row.root_cause.clone(),
                reason: s.reason(locale),
                score: (s.score * 1000.0).round() / 1000.0,
            })
        })
        .collect())
}

// ---- Configuration items of any ticket ----------------------------------------------

/// The configuration items linked to a ticket the caller may see.
pub async fn ticket_items(
    state: &AppState,
    who: &Identity,
    number: &str,
) -> AppResult<Vec<LinkedItem>> {
    let mut conn = state.db.reader().acquire().await?;
    let t = store::tickets::get_by_number(&mut conn, &who.principal.ticket_scope(), number).await?;
    Ok(db::items_of(&mut conn, &[t.id]).await?)
}

/// Names a configuration item of a ticket by its CMDB code (agents); refused with
/// `unknown_configuration_item` when the code is not in the CMDB.
pub async fn add_ticket_item(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    code: &str,
) -> AppResult<()> {
    require_agent(who)?;
    let mut tx = state.db.begin().await?;
    let t = store::tickets::get_by_number(&mut tx, &who.principal.ticket_scope(), number).await?;
    let (id, code) = items_by_code(&mut tx, &[code.to_owned()], "code")
        .await?
        .remove(0);
    if db::add_item(&mut tx, t.id, id).await? {
        store::tickets::add_event(
            &mut tx,
            t.id,
            actor,
            "configuration_item",
            false,
            None,
            json!({"code": code}),
        )
        .await?;
        append(
            &mut tx,
            actor,
            Event {
                action: "ticket.configuration_item",
                entity_type: "ticket",
                entity_id: Some(t.number.clone()),
                organization_id: Some(t.organization_id),
                detail: json!({"code": code}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
