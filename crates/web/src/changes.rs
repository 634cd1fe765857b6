//! Change management: the request for change (RFC) beside a change ticket (CHG-), its
//! required fields, the CAB it goes to and the earliest date it may be implemented, its
//! conflict flags, its workflow (with the emergency CAB for urgent and emergency changes),
//! standard change templates and the promotion path through the environments. Each change
//! is one transaction with its timeline entries and audit row. The rules are in
//! `domain::change` and `domain::change_schedule`; the pack in force sets the calendar.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::tickets::check_phi;
use axum::http::StatusCode;
use domain::calendar::CalendarError;
use domain::change::{
    self as rules, ChangeOrigin, ChangeRisk, ChangeStatus, ChangeType, Environment, PromotionState,
    PromotionStep, RfcFacts,
};
use domain::change_schedule::{
    CabMeeting, ChangeFlag, ChangePolicy, Earliest, FreezePeriod, NoticeRule, PlannedChange,
};
use domain::policy::{Action, OrgScope};
use domain::role::Role;
use domain::text::Locale;
use domain::ticket::{Channel, Draft, LinkKind, TicketKind};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use store::Conn;
use store::audit::{Actor, Event, append};
use store::changes::{self as db, DecisionRow, Record, ServiceRow, Template};
use store::problems::LinkedItem;
use store::tickets::{ColumnValue, Link, Ticket};

/// Longest free text of an RFC (plans, descriptions).
const TEXT_MAX: usize = 10_000;

/// What a person gives to submit an RFC. Everything the spec requires must be there; a 422
/// `missing_fields` names each missing field in `detail.missing`. Times are RFC 3339, or
/// `YYYY-MM-DDTHH:MM` in the change calendar's zone.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChange {
    /// standard (only from an approved template), normal, urgent_operational,
    /// emergency_repair.
    pub change_type: Option<String>,
    /// operator or partner; a partner's people always submit as partner.
    pub origin: Option<String>,
    /// The partner organization of a partner RFC submitted by an agent (partners submit
    /// for their own organization; operator RFCs are the operator's).
    pub organization_id: Option<i64>,
    /// Raise a standard change from this approved template: its fields fill the blanks.
    pub template_id: Option<i64>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub reason: String,
    pub notice_required: Option<bool>,
    /// none, operator_to_partners, partner_to_operator, exchange; defaults from the origin
    /// and whether notice is required.
    pub notice_rule: Option<String>,
    pub disaster_recovery_exists: Option<bool>,
    pub training_documents_exist: Option<bool>,
    pub tested_in_lower_environments: Option<bool>,
    /// high, medium, low.
    pub risk: Option<String>,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    pub users_affected: Option<bool>,
    #[serde(default)]
    pub users_affected_how: String,
    pub outage_required: Option<bool>,
    pub outage_start: Option<String>,
    pub outage_end: Option<String>,
    /// Service codes.
    #[serde(default)]
    pub affected_services: Vec<String>,
    pub requested_start: Option<String>,
    pub requested_end: Option<String>,
    #[serde(default)]
    pub product_category: String,
    /// CMDB codes.
    #[serde(default)]
    pub configuration_items: Vec<String>,
    /// Who implements it.
    #[serde(default)]
    pub implementer: String,
    #[serde(default)]
    pub implementation_plan: String,
    #[serde(default)]
    pub backout_plan: String,
    /// Partner RFCs: who approved it at the partner, and when.
    #[serde(default)]
    pub partner_approval: String,
    /// Partner RFCs: their single point of contact (id or email of a person of the
    /// organization).
    pub partner_spoc: Option<String>,
    /// The operator's service owner or deployment lead who presents it at CAB (id or
    /// email of a person with an operator role). Agents only.
    pub presenter: Option<String>,
    /// Emergency repairs: the incident (`INC-…`) they fix.
    pub incident: Option<String>,
}

/// A workflow move.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = ChangeStatusInput)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: String,
    /// Why (shown on the timeline).
    pub reason: Option<String>,
    /// When scheduling: the booked start and end (default: the requested ones).
    pub scheduled_start: Option<String>,
    pub scheduled_end: Option<String>,
}

/// An emergency CAB decision.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EcabInput {
    /// approved (the default) or rejected.
    pub decision: Option<String>,
    /// Required for a rejection.
    pub reasons: Option<String>,
}

/// One environment's state on the promotion path.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionInput {
    /// pending, in_progress, passed, failed, skipped.
    pub state: String,
}

/// The operator's presenter of an RFC at CAB.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenterInput {
    /// Id or email of a person with an operator role.
    pub presenter: String,
}

/// A standard change template's fields; on an edit, absent keys are left alone.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub code: Option<String>,
    pub title_en: Option<String>,
    pub title_fr: Option<String>,
    /// A service code; empty for none.
    pub service: Option<String>,
    pub description: Option<String>,
    pub reason: Option<String>,
    pub risk: Option<String>,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    pub product_category: Option<String>,
    pub implementer: Option<String>,
    pub implementation_plan: Option<String>,
    pub backout_plan: Option<String>,
}

/// A conflict flag with its reason in the reader's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagView {
    pub code: &'static str,
    pub reason: String,
    /// Cleared by a recorded approval or exception: shown, no longer blocking.
    pub cleared: bool,
    pub flag: ChangeFlag,
}

/// An RFC with everything its page and `GET /api/v1/changes/{number}` show.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeDetail {
    pub number: String,
    pub ticket: Ticket,
    pub record: Record,
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    pub origin: ChangeOrigin,
    pub notice_rule: NoticeRule,
    pub services: Vec<ServiceRow>,
    pub configuration_items: Vec<LinkedItem>,
    /// Incidents this change fixes (links `fixed_by`) that the caller may see.
    pub incidents: Vec<Link>,
    /// The CAB it goes to (normal changes).
    pub cab: Option<CabMeeting>,
    /// The earliest it may be implemented, and what sets it.
    pub earliest: Earliest,
    pub flags: Vec<FlagView>,
    pub decisions: Vec<DecisionRow>,
    pub promotion_path: Vec<PromotionStep>,
    pub current_environment: Option<Environment>,
    /// The moves the caller may ask for from here (the workflow's; some need a decision).
    pub next_statuses: Vec<ChangeStatus>,
    pub partner_spoc_name: Option<String>,
    pub presenter_name: Option<String>,
    pub ecab_approved_by_name: Option<String>,
    pub window_approved_by_name: Option<String>,
    pub template_code: Option<String>,
}

fn parse_choice<T: FromStr>(value: &str, field: &'static str) -> AppResult<T> {
    T::from_str(value.trim())
        .map_err(|_| AppError::invalid("invalid_choice", field).with_arg("value", value))
}

/// A choice that may be absent (blank counts as absent).
fn parse_opt<T: FromStr>(value: Option<&str>, field: &'static str) -> AppResult<Option<T>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => parse_choice(v, field).map(Some),
        None => Ok(None),
    }
}

fn calendar_error(field: &'static str) -> impl Fn(CalendarError) -> AppError {
    move |_| AppError::invalid("invalid_datetime", field)
}

/// An instant: RFC 3339, or a wall time (`2026-12-13T01:00`) in `zone`.
pub fn parse_when(
    value: &str,
    zone: &jiff::tz::TimeZone,
    field: &'static str,
) -> AppResult<Timestamp> {
    let value = value.trim();
    if let Ok(at) = value.parse::<Timestamp>() {
        return Ok(domain::time::truncate(at));
    }
    value
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|civil| civil.to_zoned(zone.clone()).ok())
        .map(|zoned| domain::time::truncate(zoned.timestamp()))
        .ok_or_else(|| AppError::invalid("invalid_datetime", field))
}

fn parse_opt_when(
    value: Option<&str>,
    zone: &jiff::tz::TimeZone,
    field: &'static str,
) -> AppResult<Option<Timestamp>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => parse_when(v, zone, field).map(Some),
        None => Ok(None),
    }
}

fn db_time(at: Timestamp) -> String {
    domain::time::to_db(at)
}

fn is_agent(who: &Identity) -> bool {
    who.principal.allows(Action::WorkTickets)
}

/// Change managers (and administrators) assess, authorize, schedule and record ECAB.
pub fn is_change_manager(who: &Identity) -> bool {
    (who.principal.is_agent() && who.principal.has(Role::ChangeManager))
        || who.principal.allows(Action::ManagePolicy)
}

pub(crate) fn require_change_manager(who: &Identity) -> AppResult<()> {
    if is_change_manager(who) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// The change rules of the pack new tickets are opened under (the specification's defaults
/// when no pack is selected).
pub async fn change_policy(state: &AppState, conn: &mut Conn) -> AppResult<ChangePolicy> {
    match state.packs.selected_id(conn).await? {
        Some(id) => Ok(state.packs.get(conn, id).await?.change_policy().clone()),
        None => Ok(ChangePolicy::spec_default(
            domain::calendar::shipped_calendar("business")
                .ok_or_else(AppError::internal)?
                .clone(),
        )),
    }
}

/// A change ticket the caller may see, with its RFC.
pub async fn change_ticket(
    conn: &mut Conn,
    who: &Identity,
    number: &str,
) -> AppResult<(Ticket, Record)> {
    let t = store::tickets::get_by_number(conn, &who.principal.ticket_scope(), number).await?;
    if t.kind() != TicketKind::Change {
        return Err(AppError::not_found());
    }
    let record = db::get(conn, t.id).await?.ok_or_else(AppError::not_found)?;
    Ok((t, record))
}

fn kind_of(record: &Record) -> ChangeType {
    ChangeType::from_str(&record.change_type).unwrap_or(ChangeType::Normal)
}

fn status_of(record: &Record) -> ChangeStatus {
    ChangeStatus::from_str(&record.status).unwrap_or(ChangeStatus::Submitted)
}

fn origin_of(record: &Record) -> ChangeOrigin {
    ChangeOrigin::from_str(&record.origin).unwrap_or(ChangeOrigin::Operator)
}

fn notice_of(record: &Record) -> NoticeRule {
    NoticeRule::from_str(&record.notice_rule).unwrap_or(NoticeRule::None)
}

/// The promotion path stored on an RFC (the default path when unreadable).
pub fn promotion_path(record: &Record) -> Vec<PromotionStep> {
    serde_json::from_str(&record.promotion_path).unwrap_or_else(|_| rules::default_promotion_path())
}

/// A person of the operator with an operator role in force: a presenter.
async fn presenter_of(conn: &mut Conn, operator_org: i64, value: &str) -> AppResult<i64> {
    let refused = || AppError::invalid("presenter_not_operator", "presenter");
    let (id, _) = store::tickets::colleague(conn, operator_org, value)
        .await
        .map_err(|_| refused())?;
    let operator_role = store::people::roles_of(conn, id).await?.iter().any(|r| {
        r.status == "active"
            && r.organization_id == operator_org
            && Role::parse(&r.role).is_some_and(Role::is_operator_role)
    });
    if operator_role {
        Ok(id)
    } else {
        Err(refused())
    }
}

/// Service codes to (id, code), refusing unknown codes.
async fn services_by_code(conn: &mut Conn, codes: &[String]) -> AppResult<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for code in codes.iter().filter(|c| !c.trim().is_empty()) {
        let id = db::service_id_by_code(conn, code).await?.ok_or_else(|| {
            AppError::invalid("unknown_service_code", "affected_services").with_arg("value", code)
        })?;
        if !out.iter().any(|(o, _)| *o == id) {
            out.push((id, code.trim().to_uppercase()));
        }
    }
    Ok(out)
}

fn blank_or<'a>(given: &'a str, fallback: Option<&'a str>) -> String {
    if given.trim().is_empty() {
        fallback.unwrap_or_default().to_owned()
    } else {
        given.to_owned()
    }
}

/// Submits an RFC: the change ticket, its record, services, configuration items, the
/// incident an emergency repair fixes, in one transaction. Returns the change's number.
pub async fn create(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &NewChange,
) -> AppResult<String> {
    let agent = is_agent(who);
    let operator_org = who.principal.operator_org_id;
    let own_org = who.person.organization_id;
    if !agent
        && (own_org == operator_org || !who.principal.ticket_scope().orgs.includes_org(own_org))
    {
        return Err(AppError::forbidden());
    }
    let mut tx = state.db.begin().await?;
    let policy = change_policy(state, &mut tx).await?;
    let zone = policy.calendar.time_zone().clone();
    let template = match input.template_id {
        Some(id) => {
            let t = db::template(&mut tx, id)
                .await
                .map_err(|_| AppError::invalid("unknown_template", "template_id"))?;
            if t.status != "approved" {
                return Err(AppError::invalid("template_not_approved", "template_id"));
            }
            Some(t)
        }
        None => None,
    };
    let kind = match &template {
        Some(_) => Some(ChangeType::Standard),
        None => parse_opt::<ChangeType>(input.change_type.as_deref(), "change_type")?,
    };
    if kind == Some(ChangeType::Standard) && template.is_none() {
        return Err(AppError::invalid("template_required", "template_id"));
    }
    let origin = if agent {
        parse_opt::<ChangeOrigin>(input.origin.as_deref(), "origin")?
    } else {
        Some(ChangeOrigin::Partner)
    };
    let tpl = template.as_ref();
    let summary = blank_or(&input.summary, tpl.map(|t| t.title_en.as_str()));
    let description = blank_or(&input.description, tpl.map(|t| t.description.as_str()));
    let reason = blank_or(&input.reason, tpl.map(|t| t.reason.as_str()));
    let product_category = blank_or(
        &input.product_category,
        tpl.map(|t| t.product_category.as_str()),
    );
    let implementer = blank_or(&input.implementer, tpl.map(|t| t.implementer.as_str()));
    let implementation_plan = blank_or(
        &input.implementation_plan,
        tpl.map(|t| t.implementation_plan.as_str()),
    );
    let backout_plan = blank_or(&input.backout_plan, tpl.map(|t| t.backout_plan.as_str()));
    let risk = match parse_opt::<ChangeRisk>(input.risk.as_deref(), "risk")? {
        Some(risk) => Some(risk),
        None => parse_opt::<ChangeRisk>(tpl.map(|t| t.risk.as_str()), "risk")?,
    };
    let impact = input.impact.or(tpl.map(|t| t.impact));
    let urgency = input.urgency.or(tpl.map(|t| t.urgency));
    let mut service_codes: Vec<String> = input.affected_services.clone();
    service_codes.retain(|c| !c.trim().is_empty());
    if service_codes.is_empty()
        && let Some(code) = tpl.and_then(|t| t.service_code.clone())
    {
        service_codes.push(code);
    }
    let item_codes: Vec<String> = input
        .configuration_items
        .iter()
        .filter(|c| !c.trim().is_empty())
        .cloned()
        .collect();
    let notice_given = parse_opt::<NoticeRule>(input.notice_rule.as_deref(), "notice_rule")?;
    let requested_start =
        parse_opt_when(input.requested_start.as_deref(), &zone, "requested_start")?;
    let requested_end = parse_opt_when(input.requested_end.as_deref(), &zone, "requested_end")?;
    let outage_start = parse_opt_when(input.outage_start.as_deref(), &zone, "outage_start")?;
    let outage_end = parse_opt_when(input.outage_end.as_deref(), &zone, "outage_end")?;
    let partner = origin == Some(ChangeOrigin::Partner);
    let spoc_text = input
        .partner_spoc
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let incident_text = input
        .incident
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let facts = RfcFacts {
        kind,
        origin,
        reason: reason.clone(),
        description: description.clone(),
        summary: summary.clone(),
        notice_required: input.notice_required,
        disaster_recovery_exists: input.disaster_recovery_exists,
        training_documents_exist: input.training_documents_exist,
        tested_in_lower_environments: input.tested_in_lower_environments,
        risk,
        impact,
        urgency,
        users_affected: input.users_affected,
        users_affected_how: input.users_affected_how.clone(),
        outage_required: input.outage_required,
        outage_start,
        outage_end,
        affected_services: service_codes.len(),
        requested_start,
        requested_end,
        product_category: product_category.clone(),
        configuration_items: item_codes.len(),
        implementer: implementer.clone(),
        implementation_plan: implementation_plan.clone(),
        backout_plan: backout_plan.clone(),
        partner_approval: input.partner_approval.clone(),
        has_partner_spoc: spoc_text.is_some(),
        has_incident: incident_text.is_some(),
    };
    let mut missing = rules::missing_fields(&facts);
    if agent && partner && input.organization_id.is_none() {
        missing.push("organization_id");
    }
    if let Some(first) = missing.first() {
        return Err(AppError::invalid("missing_fields", first)
            .with_arg("fields", missing.join(", "))
            .with_detail(json!({"missing": missing})));
    }
    rules::check_values(&facts)?;
    let (Some(kind), Some(origin), Some(risk), Some(impact), Some(urgency)) =
        (kind, origin, risk, impact, urgency)
    else {
        return Err(AppError::internal());
    };
    let (Some(requested_start), Some(requested_end)) = (requested_start, requested_end) else {
        return Err(AppError::internal());
    };
    let summary = domain::text::required("summary", &summary, 200)?;
    let long = |field: &'static str, value: &str| domain::text::required(field, value, TEXT_MAX);
    let description = long("description", &description)?;
    let reason = long("reason", &reason)?;
    let product_category = domain::text::required("product_category", &product_category, 200)?;
    let implementer = domain::text::required("implementer", &implementer, 200)?;
    let implementation_plan = long("implementation_plan", &implementation_plan)?;
    let backout_plan = long("backout_plan", &backout_plan)?;
    let users_affected = input.users_affected == Some(true);
    let users_affected_how = if users_affected {
        long("users_affected_how", &input.users_affected_how)?
    } else {
        String::new()
    };
    let partner_approval = if partner {
        long("partner_approval", &input.partner_approval)?
    } else {
        String::new()
    };
    check_phi([
        ("summary", summary.as_str()),
        ("description", description.as_str()),
        ("reason", reason.as_str()),
        ("implementation_plan", implementation_plan.as_str()),
        ("backout_plan", backout_plan.as_str()),
        ("users_affected_how", users_affected_how.as_str()),
        ("partner_approval", partner_approval.as_str()),
    ])?;
    let organization_id = match (agent, origin) {
        (false, _) => own_org,
        (true, ChangeOrigin::Partner) => {
            let org = input.organization_id.unwrap_or_default();
            let found = store::orgs::get(&mut tx, &OrgScope::All, org)
                .await
                .map_err(|_| AppError::invalid("unknown_organization", "organization_id"))?;
            if found.is_operator != 0 {
                return Err(AppError::invalid(
                    "partner_organization_required",
                    "organization_id",
                ));
            }
            org
        }
        (true, ChangeOrigin::Operator) => operator_org,
    };
    let services = services_by_code(&mut tx, &service_codes).await?;
    let items = crate::problems::items_by_code(&mut tx, &item_codes, "configuration_items").await?;
    let spoc = match (partner, spoc_text) {
        (true, Some(value)) => Some(
            store::tickets::colleague(&mut tx, organization_id, value)
                .await
                .map(|(id, _)| id)
                .map_err(|_| AppError::invalid("person_not_in_organization", "partner_spoc"))?,
        ),
        _ => None,
    };
    let presenter = match input
        .presenter
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(_) if !agent => return Err(AppError::invalid("presenter_not_operator", "presenter")),
        Some(value) => Some(presenter_of(&mut tx, operator_org, value).await?),
        None => None,
    };
    let incident = match (kind, incident_text) {
        (ChangeType::EmergencyRepair, Some(number)) => {
            let unknown =
                || AppError::invalid("unknown_incident", "incident").with_arg("value", number);
            let t = store::tickets::get_by_number(&mut tx, &who.principal.ticket_scope(), number)
                .await
                .map_err(|_| unknown())?;
            if t.kind() != TicketKind::Incident {
                return Err(unknown());
            }
            Some(t)
        }
        _ => None,
    };

    let now = domain::time::now();
    let cab = match kind.needs_cab() {
        true => Some(
            policy
                .cab_for(now)
                .map_err(calendar_error("submitted_at"))?,
        ),
        false => None,
    };
    // The operator owes partners notice of changes that may affect users, ticked or not; a
    // partner's RFC gives the operator its notice, or the exchange's two weeks: partners
    // cannot waive it.
    let notice_required = input.notice_required == Some(true) || input.users_affected == Some(true);
    let notice_rule = match (origin, notice_given) {
        (_, Some(NoticeRule::Exchange)) => NoticeRule::Exchange,
        (ChangeOrigin::Partner, _) | (_, None) => NoticeRule::default_for(origin, notice_required),
        (ChangeOrigin::Operator, Some(given)) => given,
    };
    let earliest = policy
        .earliest_implementation(now, kind, impact, notice_rule)
        .map_err(calendar_error("submitted_at"))?;

    let policy_pack_id = state.packs.selected_id(&mut tx).await?;
    let priority = match policy_pack_id {
        Some(id) => {
            let pack = state.packs.get(&mut tx, id).await?;
            crate::sla::priority_from_pack(&pack, TicketKind::Change, impact, urgency)
        }
        None => None,
    }
    .unwrap_or_else(|| domain::ticket::default_priority(impact, urgency));
    let new = store::tickets::NewTicket {
        kind: TicketKind::Change,
        organization_id,
        service_id: services.first().map(|(id, _)| *id),
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
            service_impact: None,
            user_impact: users_affected.then(|| users_affected_how.clone()),
            troubleshooting: None,
            workaround: None,
            no_workaround: false,
            partner_references: Vec::new(),
            custom: Vec::new(),
        },
        priority,
        support_group_id: None,
        channel: if agent { Channel::Api } else { Channel::Portal },
        policy_pack_id,
        sla: Default::default(),
        created_at: now,
    };
    let backend = state.db.backend();
    let reservation = store::tickets::reserve(&mut tx, backend, &[TicketKind::Change]).await?;
    let mut chain = reservation.chain;
    let inserted = store::tickets::insert_with_companions(
        &mut tx,
        backend,
        actor,
        &new,
        &reservation.tickets[0],
        &mut chain,
        &store::tickets::Companions {
            audit_action: "ticket.create",
            audit_detail: json!({"kind": "change", "priority": priority}),
            mails: &[],
            job_kind: crate::sla::SLA_JOB,
            jobs: &[],
        },
    )
    .await?;
    crate::sla::refresh(state, &mut tx, inserted.id).await?;
    let t = store::tickets::get(&mut tx, &crate::sla::everything(), inserted.id).await?;
    let stamp = db_time(now);
    let record = Record {
        ticket_id: t.id,
        change_type: kind.as_str().to_owned(),
        status: ChangeStatus::Submitted.as_str().to_owned(),
        origin: origin.as_str().to_owned(),
        template_id: template.as_ref().map(|t| t.id),
        reason,
        notice_required: notice_required as i64,
        notice_rule: notice_rule.as_str().to_owned(),
        disaster_recovery_exists: (input.disaster_recovery_exists == Some(true)) as i64,
        training_documents_exist: (input.training_documents_exist == Some(true)) as i64,
        tested_in_lower_environments: (input.tested_in_lower_environments == Some(true)) as i64,
        risk: risk.as_str().to_owned(),
        users_affected: users_affected as i64,
        users_affected_how,
        outage_required: (input.outage_required == Some(true)) as i64,
        outage_start: outage_start.map(db_time),
        outage_end: outage_end.map(db_time),
        requested_start: db_time(requested_start),
        requested_end: db_time(requested_end),
        product_category,
        implementer,
        implementation_plan,
        backout_plan,
        partner_approval,
        partner_spoc_person_id: spoc,
        presenter_person_id: presenter,
        submitted_at: stamp.clone(),
        cab_date: cab.map(|c| c.date.to_string()),
        earliest_start: Some(db_time(earliest.at)),
        promotion_path: serde_json::to_string(&rules::default_promotion_path())
            .map_err(|_| AppError::internal())?,
        created_at: stamp.clone(),
        updated_at: stamp,
        ..Record::default()
    };
    db::insert(&mut tx, &record).await?;
    for (id, _) in &services {
        db::add_service(&mut tx, t.id, *id).await?;
    }
    for (id, _) in &items {
        store::problems::add_item(&mut tx, t.id, *id).await?;
    }
    if let Some(spoc) = spoc {
        store::tickets::add_person(&mut tx, t.id, spoc, "spoc").await?;
    }
    if let Some(incident) = &incident {
        store::tickets::add_link(&mut tx, incident.id, t.id, LinkKind::FixedBy).await?;
        store::tickets::add_event(
            &mut tx,
            incident.id,
            actor,
            "linked",
            false,
            None,
            json!({"kind": "fixed_by", "to": t.number}),
        )
        .await?;
        store::tickets::add_event(
            &mut tx,
            t.id,
            actor,
            "linked",
            false,
            None,
            json!({"kind": "fixed_by", "from": incident.number}),
        )
        .await?;
    }
    store::tickets::add_event(
        &mut tx,
        t.id,
        actor,
        "change_submitted",
        false,
        None,
        json!({"change_type": kind.as_str(), "origin": origin.as_str(),
               "cab_date": record.cab_date, "earliest_start": record.earliest_start}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change.create",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(organization_id),
            detail: json!({
                "change_type": kind.as_str(),
                "origin": origin.as_str(),
                "template_id": record.template_id,
                "services": services.iter().map(|(_, c)| c).collect::<Vec<_>>(),
                "configuration_items": items.iter().map(|(_, c)| c).collect::<Vec<_>>(),
                "incident": incident.as_ref().map(|i| i.number.clone()),
                "cab_date": record.cab_date,
                "earliest_start": record.earliest_start,
                "notice_rule": record.notice_rule,
                "partner_spoc": spoc,
                "presenter": presenter,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("triage_changes_created_total").increment(1);
    Ok(t.number)
}

// ---- Conflicts ------------------------------------------------------------------------------

fn at(value: &str) -> Timestamp {
    domain::time::from_db(value).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The conflict flags of an RFC, at its scheduled times (else its requested ones): other
/// open changes overlapping it on a shared service or configuration item, freezes (not
/// cancelled) it falls in with its approved exceptions, time outside the windows (cleared
/// by the service owner's recorded approval), lead time and notice it lacks.
pub async fn flags_for(
    state: &AppState,
    conn: &mut Conn,
    ticket_id: i64,
) -> AppResult<Vec<ChangeFlag>> {
    let policy = change_policy(state, conn).await?;
    flags_with(&policy, conn, ticket_id).await
}

/// [`flags_for`] with the change rules already read.
pub async fn flags_with(
    policy: &ChangePolicy,
    conn: &mut Conn,
    ticket_id: i64,
) -> AppResult<Vec<ChangeFlag>> {
    let me = db::planned(conn, ticket_id).await?;
    let others = db::open_overlapping(conn, ticket_id, &me.starts_at, &me.ends_at).await?;
    let mut ids: Vec<i64> = others.iter().map(|o| o.ticket_id).collect();
    ids.push(ticket_id);
    let services = db::services_of(conn, &ids).await?;
    let items = db::item_codes_of(conn, &ids).await?;
    let exceptions = db::approved_exceptions(conn, ticket_id).await?;
    let planned = |row: &db::PlannedRow, exceptions: Vec<i64>| PlannedChange {
        ticket_id: row.ticket_id,
        number: row.number.clone(),
        kind: ChangeType::from_str(&row.change_type).unwrap_or(ChangeType::Normal),
        origin: ChangeOrigin::from_str(&row.origin).unwrap_or(ChangeOrigin::Operator),
        impact: row.impact,
        notice: NoticeRule::from_str(&row.notice_rule).unwrap_or(NoticeRule::None),
        submitted_at: at(&row.submitted_at),
        start: at(&row.starts_at),
        end: at(&row.ends_at),
        services: services
            .iter()
            .filter(|s| s.ticket_id == row.ticket_id)
            .map(|s| s.code.clone())
            .collect(),
        configuration_items: items
            .iter()
            .filter(|(t, _)| *t == row.ticket_id)
            .map(|(_, c)| c.clone())
            .collect(),
        window_approved: row.window_approved != 0,
        freeze_exceptions: exceptions,
    };
    let change = planned(&me, exceptions);
    let others: Vec<PlannedChange> = others.iter().map(|o| planned(o, Vec::new())).collect();
    let freezes =
        db::freezes_overlapping(conn, &me.starts_at, &me.ends_at, me.organization_id).await?;
    let freeze_ids: Vec<i64> = freezes.iter().map(|f| f.id).collect();
    let freeze_services = db::freeze_service_codes(conn, &freeze_ids).await?;
    let freezes: Vec<FreezePeriod> = freezes
        .iter()
        .map(|f| FreezePeriod {
            id: f.id,
            name: f.name.clone(),
            starts_at: at(&f.starts_at),
            ends_at: at(&f.ends_at),
            services: freeze_services
                .iter()
                .filter(|(id, _)| *id == f.id)
                .map(|(_, c)| c.clone())
                .collect(),
        })
        .collect();
    domain::change_schedule::flags(policy, &change, &others, &freezes)
        .map_err(calendar_error("requested_start"))
}

/// The flags as `who` may read them: a partner is told that another change overlaps on a
/// shared service or item, not which organization's change it is.
pub fn for_viewer(mut flags: Vec<ChangeFlag>, who: &Identity, locale: Locale) -> Vec<ChangeFlag> {
    if !who.principal.is_operator_staff() {
        for flag in &mut flags {
            if let ChangeFlag::Overlap { number, .. } = flag {
                *number = locale
                    .pick("another change", "un autre changement")
                    .to_owned();
            }
        }
    }
    flags
}

/// The flags with their reasons in `locale`.
pub fn flag_views(flags: Vec<ChangeFlag>, policy: &ChangePolicy, locale: Locale) -> Vec<FlagView> {
    let zone = policy.calendar.time_zone();
    flags
        .into_iter()
        .map(|flag| FlagView {
            code: flag.code(),
            reason: flag.reason(locale, zone),
            cleared: flag.is_cleared(),
            flag,
        })
        .collect()
}

// ---- Reading --------------------------------------------------------------------------------

/// Which RFCs a list shows (the API's and the pages' filter).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangeQuery {
    /// A workflow status, or `open` (not closed, rejected or cancelled).
    pub status: Option<String>,
    /// standard, normal, urgent_operational, emergency_repair.
    pub change_type: Option<String>,
    /// A service code.
    pub service: Option<String>,
}

/// RFCs the caller may see: every one for agents; their organization's for a partner's
/// help desk, LRA and CPC.
pub async fn list(
    state: &AppState,
    who: &Identity,
    q: &ChangeQuery,
) -> AppResult<Vec<db::ChangeRow>> {
    let status = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let open = status == Some("open");
    let status = status.filter(|s| *s != "open");
    if let Some(s) = status {
        parse_choice::<ChangeStatus>(s, "status")?;
    }
    let change_type = parse_opt::<ChangeType>(q.change_type.as_deref(), "change_type")?;
    let filter = db::Filter {
        status: status.map(str::to_owned),
        change_type: change_type.map(|k| k.as_str().to_owned()),
        service: q
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        open,
    };
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::list(&mut conn, &who.principal.ticket_scope(), &filter).await?)
}

async fn name_of(conn: &mut Conn, id: Option<i64>) -> AppResult<Option<String>> {
    Ok(match id {
        Some(id) => store::people::get(conn, &OrgScope::All, id)
            .await
            .ok()
            .map(|p| p.display_name),
        None => None,
    })
}

/// The moves the caller may ask for from here.
fn moves_for(who: &Identity, t: &Ticket, record: &Record) -> Vec<ChangeStatus> {
    let kind = kind_of(record);
    let from = status_of(record);
    from.next(kind)
        .iter()
        .copied()
        .filter(|to| may_move(who, t, from, *to).is_ok())
        .collect()
}

/// Who may ask for a move: change managers through assessment, authorization and
/// scheduling; any operator agent to cancel; a partner's people to cancel their own RFC
/// before authorization.
fn may_move(who: &Identity, t: &Ticket, from: ChangeStatus, to: ChangeStatus) -> AppResult<()> {
    if is_change_manager(who) {
        return Ok(());
    }
    if is_agent(who) {
        return match to {
            ChangeStatus::Cancelled => Ok(()),
            _ => Err(AppError::forbidden()),
        };
    }
    let own = t.organization_id == who.person.organization_id;
    if own
        && to == ChangeStatus::Cancelled
        && matches!(from, ChangeStatus::Submitted | ChangeStatus::Assessed)
    {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// One RFC, with its CAB, earliest date, flags (reasons in `locale`), decisions and
/// promotion path.
pub async fn detail(
    state: &AppState,
    who: &Identity,
    number: &str,
    locale: Locale,
) -> AppResult<ChangeDetail> {
    let mut conn = state.db.reader().acquire().await?;
    let (t, record) = change_ticket(&mut conn, who, number).await?;
    let policy = change_policy(state, &mut conn).await?;
    let kind = kind_of(&record);
    let submitted = at(&record.submitted_at);
    let cab = match (&record.cab_date, kind.needs_cab()) {
        (Some(date), true) => match date.parse::<jiff::civil::Date>() {
            Ok(date) => policy
                .meeting_on(date)
                .map_err(calendar_error("cab_date"))?,
            Err(_) => None,
        }
        .or(policy.cab_for(submitted).ok()),
        _ => None,
    };
    let impact = t.impact;
    let mut earliest = policy
        .earliest_implementation(submitted, kind, impact, notice_of(&record))
        .map_err(calendar_error("submitted_at"))?;
    // A deferred RFC waits for the approvals of the CAB it was moved to.
    if let Some(meeting) = &cab
        && earliest.cab_approvals_at.is_some()
    {
        earliest.cab_approvals_at = Some(meeting.approvals_at);
        earliest.at = earliest.at.max(meeting.approvals_at);
    }
    let flags = flags_with(&policy, &mut conn, t.id).await?;
    let flags = flag_views(for_viewer(flags, who, locale), &policy, locale);
    let services = db::services_of(&mut conn, &[t.id]).await?;
    let configuration_items = store::problems::items_of(&mut conn, &[t.id]).await?;
    let incidents = store::tickets::links(&mut conn, &who.principal.ticket_scope(), t.id)
        .await?
        .into_iter()
        .filter(|l| l.kind == LinkKind::FixedBy.as_str() && l.direction == "in")
        .collect();
    let decisions = db::decisions_of(&mut conn, t.id).await?;
    let path = promotion_path(&record);
    let template_code = match record.template_id {
        Some(id) => db::template(&mut conn, id).await.ok().map(|t| t.code),
        None => None,
    };
    Ok(ChangeDetail {
        number: t.number.clone(),
        change_type: kind,
        status: status_of(&record),
        origin: origin_of(&record),
        notice_rule: notice_of(&record),
        services,
        configuration_items,
        incidents,
        cab,
        earliest,
        flags,
        decisions,
        current_environment: rules::current_environment(&path),
        promotion_path: path,
        next_statuses: moves_for(who, &t, &record),
        partner_spoc_name: name_of(&mut conn, record.partner_spoc_person_id).await?,
        presenter_name: name_of(&mut conn, record.presenter_person_id).await?,
        ecab_approved_by_name: name_of(&mut conn, record.ecab_approved_by).await?,
        window_approved_by_name: name_of(&mut conn, record.window_approved_by).await?,
        template_code,
        record,
        ticket: t,
    })
}

// ---- Workflow -------------------------------------------------------------------------------

/// Moves a change's ticket to the status its RFC's status shows in queues
/// (`ChangeStatus::ticket_status`), with its timeline entry, when they differ.
pub async fn keep_ticket_in_step(
    tx: &mut Conn,
    actor: &Actor,
    ticket_id: i64,
    to: ChangeStatus,
) -> AppResult<()> {
    let current = store::tickets::get(tx, &crate::sla::everything(), ticket_id).await?;
    let ticket_from = current.status();
    let ticket_to = to.ticket_status();
    if ticket_from != ticket_to {
        let now = db_time(domain::time::now());
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
        if ticket_to == domain::ticket::Status::Resolved {
            columns.push(("resolved_at", ColumnValue::Text(Some(now.clone()))));
        }
        if ticket_to.is_final() {
            columns.push(("closed_at", ColumnValue::Text(Some(now))));
        }
        store::tickets::update_columns(tx, ticket_id, current.version, &columns).await?;
        store::tickets::add_event(
            tx,
            ticket_id,
            actor,
            "status",
            false,
            None,
            json!({"from": ticket_from.as_str(), "to": ticket_to.as_str()}),
        )
        .await?;
    }
    Ok(())
}

/// Moves an RFC to `to` (already checked and allowed) in the caller's transaction: the
/// record, the ticket's own status, the timeline and the audit log. Parts of change
/// management that move RFCs by their own decisions (CAB, outcome) call this.
pub async fn apply_move(
    tx: &mut Conn,
    actor: &Actor,
    t: &Ticket,
    record: &mut Record,
    to: ChangeStatus,
    reason: Option<&str>,
) -> AppResult<()> {
    let from = status_of(record);
    record.status = to.as_str().to_owned();
    db::update(tx, record).await?;
    let event = store::tickets::add_event(
        tx,
        t.id,
        actor,
        "change_status",
        false,
        None,
        json!({"from": from.as_str(), "to": to.as_str(), "reason": reason}),
    )
    .await?;
    keep_ticket_in_step(tx, actor, t.id, to).await?;
    append(
        tx,
        actor,
        Event {
            action: "change.status",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"from": from.as_str(), "to": to.as_str(), "reason": reason,
                           "event": event, "scheduled_start": record.scheduled_start,
                           "scheduled_end": record.scheduled_end}),
        },
    )
    .await?;
    Ok(())
}

/// The reasons of blocking flags, joined, in `locale`.
fn blocking_reasons(flags: &[ChangeFlag], policy: &ChangePolicy, locale: Locale) -> String {
    let zone = policy.calendar.time_zone();
    flags
        .iter()
        .filter(|f| !f.is_cleared())
        .map(|f| f.reason(locale, zone))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Moves an RFC along its workflow. A normal change is authorized only by a CAB approval
/// (`cab_approval_required`), urgent and emergency changes by the ECAB
/// (`ecab_approval_required`); rejections are decisions (`decision_required`); scheduling
/// runs the booking checks; implementation is recorded with its outcome
/// (`outcome_required`).
pub async fn set_status(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &StatusInput,
    locale: Locale,
) -> AppResult<()> {
    let to: ChangeStatus = parse_choice(&input.status, "status")?;
    let reason = domain::text::optional("reason", input.reason.as_deref(), 2000)?;
    if let Some(r) = &reason {
        check_phi([("reason", r.as_str())])?;
    }
    let mut tx = state.db.begin().await?;
    let (t, mut record) = change_ticket(&mut tx, who, number).await?;
    let kind = kind_of(&record);
    let from = status_of(&record);
    may_move(who, &t, from, to)?;
    from.check_move(to, kind).map_err(|e| {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code)
            .with_arg("from", from.label(locale))
            .with_arg("to", to.label(locale))
    })?;
    match to {
        ChangeStatus::Authorized if kind.needs_cab() => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cab_approval_required",
            ));
        }
        ChangeStatus::Authorized => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ecab_approval_required",
            ));
        }
        ChangeStatus::Rejected => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "decision_required",
            ));
        }
        ChangeStatus::Implemented => {
            return Err(
                AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "outcome_required")
                    .with_arg("route", format!("/api/v1/changes/{}/outcome", t.number)),
            );
        }
        _ => {}
    }
    if to == ChangeStatus::Scheduled {
        let policy = change_policy(state, &mut tx).await?;
        let zone = policy.calendar.time_zone().clone();
        let start = parse_opt_when(input.scheduled_start.as_deref(), &zone, "scheduled_start")?
            .unwrap_or_else(|| at(&record.requested_start));
        let end = parse_opt_when(input.scheduled_end.as_deref(), &zone, "scheduled_end")?
            .unwrap_or_else(|| at(&record.requested_end));
        if end <= start {
            return Err(AppError::invalid("end_before_start", "scheduled_end"));
        }
        record.scheduled_start = Some(db_time(start));
        record.scheduled_end = Some(db_time(end));
        // The flags are read at the booked times.
        db::update(&mut tx, &record).await?;
        let flags = flags_with(&policy, &mut tx, t.id).await?;
        if let Err(refusal) = domain::change_schedule::check_booking(kind, &flags) {
            return Err(
                AppError::new(StatusCode::UNPROCESSABLE_ENTITY, refusal.code)
                    .with_arg("reasons", blocking_reasons(&flags, &policy, locale))
                    .with_detail(json!({"flags": flag_views(flags, &policy, locale)})),
            );
        }
    }
    apply_move(&mut tx, actor, &t, &mut record, to, reason.as_deref()).await?;
    tx.commit().await?;
    // A cancelled change takes its scheduled maintenance off the status page. The
    // cancellation stands if that fails; the desk then cancels it on the status console.
    if to == ChangeStatus::Cancelled
        && let Some(event_id) = record.status_event_id
        && let Err(e) =
            crate::change_implementation::cancel_maintenance(state, actor, event_id).await
    {
        tracing::warn!(code = e.code, change = %t.number, "maintenance of a cancelled change");
    }
    Ok(())
}

/// The emergency CAB approves (or rejects, with reasons) an urgent operational change or an
/// emergency repair: the decision is recorded at the day's ECAB meeting and the RFC moves to
/// authorized (or rejected). An operator-initiated urgent operational change reaches ECAB
/// only in business hours (`ecab_outside_business_hours`).
pub async fn ecab(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &EcabInput,
) -> AppResult<()> {
    require_change_manager(who)?;
    let decision = parse_opt::<domain::change::CabDecision>(input.decision.as_deref(), "decision")?
        .unwrap_or(domain::change::CabDecision::Approved);
    if decision == domain::change::CabDecision::Deferred {
        return Err(AppError::invalid("invalid_choice", "decision").with_arg("value", "deferred"));
    }
    let reasons = domain::text::optional("reasons", input.reasons.as_deref(), 2000)?;
    if decision.needs_reason() && reasons.is_none() {
        return Err(AppError::invalid("missing_fields", "reasons")
            .with_arg("fields", "reasons")
            .with_detail(json!({"missing": ["reasons"]})));
    }
    if let Some(r) = &reasons {
        check_phi([("reasons", r.as_str())])?;
    }
    let mut tx = state.db.begin().await?;
    let (t, mut record) = change_ticket(&mut tx, who, number).await?;
    let kind = kind_of(&record);
    if !kind.needs_ecab() {
        return Err(AppError::invalid("ecab_not_applicable", "change_type"));
    }
    let from = status_of(&record);
    if !matches!(from, ChangeStatus::Submitted | ChangeStatus::Assessed) {
        return Err(
            AppError::new(StatusCode::CONFLICT, "invalid_change_transition")
                .with_arg("from", from.as_str())
                .with_arg("to", ChangeStatus::Authorized.as_str()),
        );
    }
    let policy = change_policy(state, &mut tx).await?;
    let now = domain::time::now();
    if !policy
        .ecab_open(kind, origin_of(&record), now)
        .map_err(calendar_error("at"))?
    {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ecab_outside_business_hours",
        ));
    }
    let date = now
        .to_zoned(policy.calendar.time_zone().clone())
        .date()
        .to_string();
    let meeting = db::ensure_meeting(&mut tx, "ecab", &date, &db_time(now)).await?;
    let decision_id = db::insert_decision(
        &mut tx,
        meeting,
        t.id,
        decision.as_str(),
        reasons.as_deref().unwrap_or(""),
        who.person.id,
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change.ecab",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"decision": decision.as_str(), "reasons": reasons,
                           "meeting_date": date, "decision_id": decision_id}),
        },
    )
    .await?;
    match decision {
        domain::change::CabDecision::Approved => {
            record.ecab_approved_by = Some(who.person.id);
            record.ecab_approved_at = Some(db_time(now));
            if from == ChangeStatus::Submitted {
                apply_move(
                    &mut tx,
                    actor,
                    &t,
                    &mut record,
                    ChangeStatus::Assessed,
                    None,
                )
                .await?;
            }
            apply_move(
                &mut tx,
                actor,
                &t,
                &mut record,
                ChangeStatus::Authorized,
                reasons.as_deref(),
            )
            .await?;
        }
        _ => {
            apply_move(
                &mut tx,
                actor,
                &t,
                &mut record,
                ChangeStatus::Rejected,
                reasons.as_deref(),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Records the operator's service owner or deployment lead who presents the RFC at CAB
/// (agents; a person with an operator role).
pub async fn set_presenter(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &PresenterInput,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let (t, mut record) = change_ticket(&mut tx, who, number).await?;
    if status_of(&record).is_final() {
        return Err(AppError::new(StatusCode::CONFLICT, "change_closed"));
    }
    let presenter = presenter_of(&mut tx, who.principal.operator_org_id, &input.presenter).await?;
    let before = record.presenter_person_id;
    record.presenter_person_id = Some(presenter);
    db::update(&mut tx, &record).await?;
    store::tickets::add_event(
        &mut tx,
        t.id,
        actor,
        "change_field",
        false,
        None,
        json!({"field": "presenter"}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change.presenter",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"from": before, "to": presenter}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets one environment's state on the RFC's promotion path (agents): an environment passes
/// only after every earlier one passed or was skipped (`promotion_out_of_order`), and
/// production is never skipped (`production_required`).
pub async fn set_promotion(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    environment: &str,
    input: &PromotionInput,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let environment: Environment = parse_choice(environment, "environment")?;
    let new_state: PromotionState = parse_choice(&input.state, "state")?;
    let mut tx = state.db.begin().await?;
    let (t, mut record) = change_ticket(&mut tx, who, number).await?;
    if status_of(&record).is_final() {
        return Err(AppError::new(StatusCode::CONFLICT, "change_closed"));
    }
    let mut path = promotion_path(&record);
    rules::check_promotion(&path, environment, new_state)?;
    let before = match path.iter_mut().find(|s| s.environment == environment) {
        Some(step) => std::mem::replace(&mut step.state, new_state),
        None => {
            path.push(PromotionStep {
                environment,
                state: new_state,
            });
            path.sort_by_key(|s| s.environment);
            PromotionState::Pending
        }
    };
    record.promotion_path = serde_json::to_string(&path).map_err(|_| AppError::internal())?;
    db::update(&mut tx, &record).await?;
    store::tickets::add_event(
        &mut tx,
        t.id,
        actor,
        "change_promotion",
        false,
        None,
        json!({"environment": environment.as_str(), "from": before.as_str(), "to": new_state.as_str()}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change.promotion",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"environment": environment.as_str(), "from": before.as_str(), "to": new_state.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- Standard change templates ---------------------------------------------------------

/// Templates (agents).
pub async fn templates(state: &AppState, who: &Identity) -> AppResult<Vec<Template>> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::templates(&mut conn).await?)
}

pub async fn template(state: &AppState, who: &Identity, id: i64) -> AppResult<Template> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::template(&mut conn, id).await?)
}

/// Applies the input to a template, checking every value.
async fn fill_template(conn: &mut Conn, t: &mut Template, input: &TemplateInput) -> AppResult<()> {
    let text = |field: &'static str, value: &Option<String>, current: &str, max: usize| {
        domain::text::required(field, value.as_deref().unwrap_or(current), max)
    };
    t.title_en = text("title_en", &input.title_en, &t.title_en, 200)?;
    t.title_fr = text("title_fr", &input.title_fr, &t.title_fr, 200)?;
    t.description = text("description", &input.description, &t.description, TEXT_MAX)?;
    t.reason = text("reason", &input.reason, &t.reason, TEXT_MAX)?;
    t.product_category = text(
        "product_category",
        &input.product_category,
        &t.product_category,
        200,
    )?;
    t.implementer = text("implementer", &input.implementer, &t.implementer, 200)?;
    t.implementation_plan = text(
        "implementation_plan",
        &input.implementation_plan,
        &t.implementation_plan,
        TEXT_MAX,
    )?;
    t.backout_plan = text(
        "backout_plan",
        &input.backout_plan,
        &t.backout_plan,
        TEXT_MAX,
    )?;
    if let Some(risk) = &input.risk {
        t.risk = parse_choice::<ChangeRisk>(risk, "risk")?
            .as_str()
            .to_owned();
    } else {
        parse_choice::<ChangeRisk>(&t.risk, "risk")?;
    }
    t.impact = domain::ticket::check_level("impact", input.impact.unwrap_or(t.impact))?;
    t.urgency = domain::ticket::check_level("urgency", input.urgency.unwrap_or(t.urgency))?;
    if let Some(service) = &input.service {
        t.service_id = match service.trim() {
            "" => None,
            code => Some(
                services_by_code(conn, &[code.to_owned()])
                    .await
                    .map_err(|_| {
                        AppError::invalid("unknown_service_code", "service").with_arg("value", code)
                    })?[0]
                    .0,
            ),
        };
    }
    check_phi([
        ("description", t.description.as_str()),
        ("reason", t.reason.as_str()),
        ("implementation_plan", t.implementation_plan.as_str()),
        ("backout_plan", t.backout_plan.as_str()),
    ])?;
    Ok(())
}

/// A new standard change template, in draft until CAB approves it (change managers).
pub async fn create_template(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &TemplateInput,
) -> AppResult<i64> {
    require_change_manager(who)?;
    let code =
        domain::text::required("code", input.code.as_deref().unwrap_or(""), 60)?.to_lowercase();
    let mut tx = state.db.begin().await?;
    let mut t = Template {
        id: 0,
        code: code.clone(),
        title_en: String::new(),
        title_fr: String::new(),
        service_id: None,
        service_code: None,
        description: String::new(),
        reason: String::new(),
        risk: String::new(),
        impact: 0,
        urgency: 0,
        product_category: String::new(),
        implementer: String::new(),
        implementation_plan: String::new(),
        backout_plan: String::new(),
        status: "draft".into(),
        approved_at: None,
        approved_by: None,
        approved_cab_date: None,
        created_by: Some(who.person.id),
        created_at: String::new(),
        updated_at: String::new(),
    };
    fill_template(&mut tx, &mut t, input).await?;
    let id = db::insert_template(&mut tx, &t).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change_template.create",
            entity_type: "change_template",
            entity_id: Some(code),
            organization_id: None,
            detail: json!({"id": id, "title_en": t.title_en, "risk": t.risk}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Edits a draft template (change managers); an approved or retired one no longer changes
/// (`template_not_draft`).
pub async fn update_template(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    input: &TemplateInput,
) -> AppResult<()> {
    require_change_manager(who)?;
    if input.code.is_some() {
        return Err(AppError::invalid("code_fixed", "code"));
    }
    let mut tx = state.db.begin().await?;
    let before = db::template(&mut tx, id).await?;
    if before.status != "draft" {
        return Err(AppError::new(StatusCode::CONFLICT, "template_not_draft"));
    }
    let mut after = before.clone();
    fill_template(&mut tx, &mut after, input).await?;
    db::update_template(&mut tx, &after).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change_template.update",
            entity_type: "change_template",
            entity_id: Some(after.code.clone()),
            organization_id: None,
            detail: json!({"changes": crate::service::diff(&json!(before), &json!(after))}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Retires a template (change managers).
pub async fn retire_template(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
) -> AppResult<()> {
    require_change_manager(who)?;
    let mut tx = state.db.begin().await?;
    let t = db::template(&mut tx, id).await?;
    db::retire(&mut tx, id).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change_template.retire",
            entity_type: "change_template",
            entity_id: Some(t.code),
            organization_id: None,
            detail: json!({"id": id}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
