//! Major incidents: the declaration on a P1/P2 (Sev 1/2) incident, the people engaged, the
//! notices on the pack's cadence (drafted from the `major-incident-interruption`, `-update`
//! and `-restoration` mail templates, edited and sent by the coordinator or sent by
//! themselves when due), and what resolution brings: the restoration notice, the review
//! targets, and a problem when no root cause is known. The cadence rules are
//! `domain::major_incident`'s; each change is one transaction with its timeline entry, audit
//! row and outbox mail.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::mail::{Audience, Draft};
use crate::service::event;
use crate::status::local_time;
use axum::http::StatusCode;
use domain::major_incident::{
    self as mi, CommunicationPlan, DueNotice, NoticeKind, RESOLUTION_KEY,
};
use domain::major_incident_notice::{self as notice_rules, ContactRole, NoticeRecipient};
use domain::policy::{Action, OrgScope};
use domain::policy_pack::SlaFamily;
use domain::text::Locale;
use domain::ticket::{Status, TicketKind};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use std::str::FromStr;
use store::Conn;
use store::audit::{Actor, append};
use store::major_incidents::{self as db, Contact, MajorIncident, Notice};
use store::tickets::Ticket;

const MAX_BRIDGE: usize = 2000;
const MAX_ROOT_CAUSE: usize = 4000;
const MAX_SUBJECT: usize = 300;
const MAX_BODY: usize = 20_000;
/// Resolved major incidents the runner still looks after (review reminders).
const FOLLOW_UP_DAYS: i64 = 30;

// ---------- input ----------

/// Declaring a major incident.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareInput {
    /// The incident coordinator, a person of the operator; default: whoever declares.
    #[serde(default)]
    pub coordinator_id: Option<i64>,
    /// Conference bridge / web-meeting details (number, access code, link).
    pub bridge: String,
    /// Vendor contacts to engage.
    #[serde(default)]
    pub vendor_contacts: Vec<VendorContactInput>,
    /// Drafted notices go out by themselves when due (default true); when false they wait
    /// for the coordinator and show overdue.
    #[serde(default)]
    pub auto_send: Option<bool>,
    /// Send the service-interruption notice now (default true); otherwise it is due
    /// ten minutes after the declaration.
    #[serde(default)]
    pub notify_now: Option<bool>,
    /// Publish a status-page incident in the same step (default false).
    #[serde(default)]
    pub publish_status: Option<bool>,
    /// With `publish_status`: set the login-page banner (default true).
    #[serde(default)]
    pub banner: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorContactInput {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// The vendor's name.
    #[serde(default)]
    pub organization: Option<String>,
    /// en or fr; absent: both languages.
    #[serde(default)]
    pub locale: Option<String>,
}

/// A notice as the coordinator sends it; absent texts are the draft's.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    #[serde(default)]
    pub subject_en: Option<String>,
    #[serde(default)]
    pub body_en: Option<String>,
    #[serde(default)]
    pub subject_fr: Option<String>,
    #[serde(default)]
    pub body_fr: Option<String>,
}

// ---------- output ----------

/// A notice's text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NoticeTexts {
    pub subject_en: String,
    pub body_en: String,
    pub subject_fr: String,
    pub body_fr: String,
}

/// A notice not sent yet: due now (or overdue), or the next one to come, with its draft.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingNotice {
    /// declaration, +1h, +2h, update:3 … resolution.
    pub key: String,
    /// service_interruption, update or service_restoration.
    pub kind: String,
    pub due_at: String,
    /// When the coordinator is reminded.
    pub reminder_at: String,
    /// Past its due time and not sent.
    pub overdue: bool,
    pub draft: NoticeTexts,
}

/// A major incident with who is engaged, the notices sent and those pending, and the
/// ticket's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MajorIncidentDetail {
    pub major_incident: MajorIncident,
    pub contacts: Vec<Contact>,
    /// Sent, oldest first.
    pub notices: Vec<Notice>,
    /// Not sent yet, in order of due time: any whose time has come, then the next.
    pub pending: Vec<PendingNotice>,
    pub problem_number: Option<String>,
    /// The ticket's timeline, internal notes included.
    pub timeline: Vec<store::tickets::Event>,
}

// ---------- reading ----------

/// Agents of the operator (the only ones `WorkTickets` allows).
fn require_operator_agent(who: &Identity) -> AppResult<()> {
    who.require(Action::WorkTickets)
}

pub async fn list(state: &AppState, who: &Identity) -> AppResult<Vec<MajorIncident>> {
    require_operator_agent(who)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::list(&mut conn).await?)
}

async fn ticket_of(conn: &mut Conn, who: &Identity, number: &str) -> AppResult<Ticket> {
    Ok(store::tickets::get_by_number(conn, &who.principal.ticket_scope(), number).await?)
}

pub async fn detail(
    state: &AppState,
    who: &Identity,
    number: &str,
) -> AppResult<MajorIncidentDetail> {
    require_operator_agent(who)?;
    let mut conn = state.db.reader().acquire().await?;
    let ticket = ticket_of(&mut conn, who, number).await?;
    let major = db::get(&mut conn, ticket.id)
        .await?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "not_declared"))?;
    detail_of(state, &mut conn, &ticket, major).await
}

async fn detail_of(
    state: &AppState,
    conn: &mut Conn,
    ticket: &Ticket,
    major: MajorIncident,
) -> AppResult<MajorIncidentDetail> {
    let contacts = db::contacts(conn, ticket.id).await?;
    let notices = db::notices(conn, ticket.id).await?;
    let plan = plan_for(state, conn, ticket).await?;
    let now = domain::time::now();
    let composer = state.composer(conn).await?;
    let context = DraftContext::load(state, conn, ticket, &major).await?;
    let pending = due_notices(&plan, &major, &notices, now)
        .into_iter()
        .map(|due| {
            let draft = context.draft(&composer, &plan, &due.key, due.due_at)?;
            Ok(PendingNotice {
                kind: due.kind.as_str().to_owned(),
                due_at: domain::time::to_db(due.due_at),
                reminder_at: domain::time::to_db(due.reminder_at),
                overdue: due.overdue,
                key: due.key,
                draft,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let problem_number = match major.problem_ticket_id {
        Some(id) => Some(
            store::tickets::get(conn, &crate::sla::everything(), id)
                .await?
                .number,
        ),
        None => None,
    };
    let timeline = store::tickets::events(conn, ticket.id, true).await?;
    Ok(MajorIncidentDetail {
        major_incident: major,
        contacts,
        notices,
        pending,
        problem_number,
        timeline,
    })
}

fn due_notices(
    plan: &CommunicationPlan,
    major: &MajorIncident,
    notices: &[Notice],
    now: Timestamp,
) -> Vec<DueNotice> {
    let Some(declared_at) = domain::time::from_db(&major.declared_at) else {
        return Vec::new();
    };
    let resolved_at = major.resolved_at.as_deref().and_then(domain::time::from_db);
    let sent: BTreeSet<String> = notices.iter().map(|n| n.notice_key.clone()).collect();
    plan.notices_due(declared_at, resolved_at, &sent, now)
}

/// The communication plan of the ticket's priority in its policy pack (the selected pack
/// when the ticket has none); hourly updates when the pack names no timed update.
async fn plan_for(
    state: &AppState,
    conn: &mut Conn,
    ticket: &Ticket,
) -> AppResult<CommunicationPlan> {
    let pack_id = match ticket.policy_pack_id {
        Some(id) => Some(id),
        None => state.packs.selected_id(conn).await?,
    };
    let Some(pack_id) = pack_id else {
        return Ok(CommunicationPlan::from_duties(&[]));
    };
    let pack = state.packs.get(conn, pack_id).await?;
    let duties = pack
        .targets_of(SlaFamily::Incident)
        .find(|t| crate::sla::priority_number(&t.code) == Some(ticket.priority))
        .map(|t| t.communications.clone())
        .unwrap_or_default();
    Ok(CommunicationPlan::from_duties(&duties))
}

/// The calendar the review targets count business days on: the pack's `business` calendar
/// (with the administrators' closures), else the shipped one.
async fn review_calendar(
    state: &AppState,
    conn: &mut Conn,
    ticket: &Ticket,
) -> AppResult<Option<domain::calendar::Calendar>> {
    let pack_id = match ticket.policy_pack_id {
        Some(id) => Some(id),
        None => state.packs.selected_id(conn).await?,
    };
    if let Some(id) = pack_id {
        let pack = state.packs.get(conn, id).await?;
        if let Some(calendar) = pack.calendar("business") {
            return Ok(Some(calendar.clone()));
        }
    }
    Ok(domain::calendar::shipped_calendar("business").cloned())
}

// ---------- drafts ----------

/// What a notice's draft is filled from.
struct DraftContext {
    number: String,
    summary: String,
    service_en: String,
    service_fr: String,
    declared_at: Timestamp,
    link: String,
    time_zone: jiff::tz::TimeZone,
}

impl DraftContext {
    async fn load(
        state: &AppState,
        conn: &mut Conn,
        ticket: &Ticket,
        major: &MajorIncident,
    ) -> AppResult<DraftContext> {
        let service = match ticket.service_id {
            Some(id) => store::orgs::services(conn)
                .await?
                .into_iter()
                .find(|s| s.id == id),
            None => None,
        };
        Ok(DraftContext {
            number: ticket.number.clone(),
            summary: ticket.summary.clone(),
            service_en: service
                .as_ref()
                .map(|s| s.name_en.clone())
                .unwrap_or_default(),
            service_fr: service
                .as_ref()
                .map(|s| s.name_fr.clone())
                .unwrap_or_default(),
            declared_at: domain::time::from_db(&major.declared_at)
                .unwrap_or_else(domain::time::now),
            link: major
                .status_event_id
                .map(|id| format!("{}/status/events/{id}", state.settings.public_base_url))
                .unwrap_or_default(),
            time_zone: jiff::tz::TimeZone::get(&state.settings.time_zone)
                .unwrap_or(jiff::tz::TimeZone::UTC),
        })
    }

    /// The notice `key` due at `due_at`, from its kind's mail templates. The
    /// next update it promises is the one after its due time.
    fn draft(
        &self,
        composer: &crate::mail::Composer,
        plan: &CommunicationPlan,
        key: &str,
        due_at: Timestamp,
    ) -> AppResult<NoticeTexts> {
        let kind = notice_rules::kind_of_key(key);
        let next_update = match kind {
            NoticeKind::ServiceRestoration => None,
            _ => plan
                .next_update_after(self.declared_at, due_at.max(self.declared_at))
                .map(domain::time::to_db),
        };
        let update = notice_rules::update_rank(plan, key)
            .map(|rank| rank.to_string())
            .unwrap_or_default();
        let render = |locale: Locale| {
            let args = [
                ("number", self.number.clone()),
                ("summary", self.summary.clone()),
                (
                    "service",
                    locale.pick(&self.service_en, &self.service_fr).to_owned(),
                ),
                ("notice", notice_label(key, kind, locale)),
                ("update", update.clone()),
                (
                    "next_update",
                    next_update
                        .as_deref()
                        .map(|at| local_time(at, &self.time_zone, locale))
                        .unwrap_or_default(),
                ),
                ("link", self.link.clone()),
            ];
            let pairs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let template = match kind {
                NoticeKind::ServiceInterruption => "major-incident-interruption",
                NoticeKind::Update => "major-incident-update",
                NoticeKind::ServiceRestoration => "major-incident-restoration",
            };
            composer.render(template, locale, &pairs)
        };
        let en = render(Locale::En)?;
        let fr = render(Locale::Fr)?;
        Ok(NoticeTexts {
            subject_en: en.subject,
            body_en: en.body,
            subject_fr: fr.subject,
            body_fr: fr.body,
        })
    }
}

/// "Update (+1h)", "Service interruption notice"…
pub fn notice_label(key: &str, kind: NoticeKind, locale: Locale) -> String {
    match kind {
        NoticeKind::Update => format!("{} ({key})", kind.label(locale)),
        _ => kind.label(locale).to_owned(),
    }
}

// ---------- declaring ----------

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
    crate::tickets::check_phi([(field, value)])?;
    Ok(value.to_owned())
}

fn optional_email(value: &Option<String>, field: &'static str) -> AppResult<Option<String>> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => {
            let email = domain::text::Email::parse_field(field, v)?;
            Ok(Some(String::from(email)))
        }
    }
}

struct CheckedVendor {
    name: String,
    email: Option<String>,
    organization: Option<String>,
    locale: Option<String>,
}

fn check_vendors(input: &[VendorContactInput]) -> AppResult<Vec<CheckedVendor>> {
    if input.len() > 50 {
        return Err(AppError::invalid("too_many", "vendor_contacts"));
    }
    input
        .iter()
        .filter(|v| {
            !(v.name.trim().is_empty() && v.email.as_deref().unwrap_or("").trim().is_empty())
        })
        .map(|v| {
            let locale = match v.locale.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                Some(l) => Some(
                    Locale::parse(l)
                        .ok_or(AppError::invalid("invalid_choice", "locale"))?
                        .as_str()
                        .to_owned(),
                ),
                None => None,
            };
            Ok(CheckedVendor {
                name: text(&v.name, "name", 200, true)?,
                email: optional_email(&v.email, "email")?,
                organization: Some(text(
                    v.organization.as_deref().unwrap_or(""),
                    "organization",
                    200,
                    false,
                )?)
                .filter(|o| !o.is_empty()),
                locale,
            })
        })
        .collect()
}

/// Why this ticket cannot be declared major: not an incident, closed or resolved, or not
/// of rank 1 or 2.
fn check_declarable(ticket: &Ticket) -> AppResult<()> {
    if ticket.kind() != TicketKind::Incident {
        return Err(AppError::invalid("not_an_incident", "kind").with_arg("value", &ticket.kind));
    }
    let status = ticket.status();
    if status.is_final() {
        return Err(AppError::new(StatusCode::CONFLICT, "ticket_closed"));
    }
    if status == Status::Resolved {
        return Err(AppError::new(StatusCode::CONFLICT, "ticket_resolved"));
    }
    mi::may_declare(ticket.priority).map_err(|refusal| {
        AppError::invalid(refusal.code(), "priority").with_arg("rank", ticket.priority.to_string())
    })
}

/// Declares the ticket a major incident: the coordinator, the bridge, the engaged contacts
/// (the coordinator, the affected organizations' escalation contacts, the vendors given),
/// the interruption notice now unless asked otherwise, and optionally the status-page
/// incident with its banner. The declaration is one transaction; publishing follows it
/// (a failure to publish leaves the declaration standing, and the desk publishes from the
/// status page).
pub async fn declare(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &DeclareInput,
) -> AppResult<MajorIncidentDetail> {
    require_operator_agent(who)?;
    let bridge = text(&input.bridge, "bridge", MAX_BRIDGE, true)?;
    let vendors = check_vendors(&input.vendor_contacts)?;
    let now = domain::time::now();
    let now_db = domain::time::to_db(now);
    let mut tx = state.db.begin().await?;
    let ticket = ticket_of(&mut tx, who, number).await?;
    check_declarable(&ticket)?;
    if db::get(&mut tx, ticket.id).await?.is_some() {
        return Err(AppError::new(StatusCode::CONFLICT, "already_declared"));
    }
    let coordinator_id = input.coordinator_id.unwrap_or(who.person.id);
    let coordinator = store::people::get(&mut tx, &OrgScope::All, coordinator_id)
        .await
        .map_err(|_| AppError::invalid("invalid_coordinator", "coordinator_id"))?;
    if !coordinator.is_active() || coordinator.organization_id != who.principal.operator_org_id {
        return Err(AppError::invalid("invalid_coordinator", "coordinator_id"));
    }
    let auto_send = input.auto_send.unwrap_or(true);
    db::insert(
        &mut tx,
        &db::Declaration {
            ticket_id: ticket.id,
            declared_at: &now_db,
            declared_by: who.person.id,
            coordinator_id,
            bridge: &bridge,
            auto_send,
        },
    )
    .await?;
    db::add_contact(
        &mut tx,
        ticket.id,
        &db::NewContact {
            person_id: Some(coordinator.id),
            name: &coordinator.display_name,
            email: Some(&coordinator.email),
            locale: Some(&coordinator.locale),
            organization_id: Some(coordinator.organization_id),
            organization_name: None,
            role: ContactRole::Coordinator.as_str(),
        },
    )
    .await?;
    let mut engaged = 1;
    for org in affected_organizations(&mut tx, &ticket).await? {
        let (Some(name), Some(email)) = (
            org.escalation_name
                .as_deref()
                .filter(|n| !n.trim().is_empty()),
            org.escalation_email.as_deref().filter(|e| e.contains('@')),
        ) else {
            continue;
        };
        db::add_contact(
            &mut tx,
            ticket.id,
            &db::NewContact {
                person_id: None,
                name,
                email: Some(email),
                locale: None,
                organization_id: Some(org.id),
                organization_name: Some(&org.name_en),
                role: ContactRole::EscalationContact.as_str(),
            },
        )
        .await?;
        engaged += 1;
    }
    for vendor in &vendors {
        db::add_contact(
            &mut tx,
            ticket.id,
            &db::NewContact {
                person_id: None,
                name: &vendor.name,
                email: vendor.email.as_deref(),
                locale: vendor.locale.as_deref(),
                organization_id: None,
                organization_name: vendor.organization.as_deref(),
                role: ContactRole::VendorContact.as_str(),
            },
        )
        .await?;
        engaged += 1;
    }
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "major_incident_declared",
        true,
        None,
        json!({"coordinator": coordinator.display_name, "bridge": bridge, "engaged": engaged}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "major_incident.declare",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({"coordinator_id": coordinator_id, "engaged": engaged, "auto_send": auto_send}),
        ),
    )
    .await?;
    if input.notify_now.unwrap_or(true) {
        let major = db::get(&mut tx, ticket.id)
            .await?
            .ok_or_else(AppError::internal)?;
        send_planned(
            state,
            &mut tx,
            actor,
            &ticket,
            &major,
            mi::DECLARATION_KEY,
            None,
        )
        .await?;
    }
    tx.commit().await?;
    if input.publish_status.unwrap_or(false) {
        publish(state, who, actor, &ticket, input.banner.unwrap_or(true)).await?;
    }
    let mut conn = state.db.reader().acquire().await?;
    let major = db::get(&mut conn, ticket.id)
        .await?
        .ok_or_else(AppError::internal)?;
    detail_of(state, &mut conn, &ticket, major).await
}

/// The ticket's organization and every active organization live on its service.
async fn affected_organizations(
    conn: &mut Conn,
    ticket: &Ticket,
) -> AppResult<Vec<store::orgs::Organization>> {
    let mut ids = vec![ticket.organization_id];
    if let Some(service) = ticket.service_id {
        for (org, _) in store::status_page::live_organizations_of_service(conn, service).await? {
            if !ids.contains(&org) {
                ids.push(org);
            }
        }
    }
    let mut orgs = Vec::with_capacity(ids.len());
    for id in ids {
        let org = store::orgs::get(conn, &OrgScope::All, id).await?;
        if org.active != 0 && org.is_operator == 0 {
            orgs.push(org);
        }
    }
    Ok(orgs)
}

/// The status-page incident and login banner, through the status page's one-step publish.
async fn publish(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    ticket: &Ticket,
    banner: bool,
) -> AppResult<()> {
    let mut conn = state.db.reader().acquire().await?;
    let plan = plan_for(state, &mut conn, ticket).await?;
    drop(conn);
    let next_update_by = plan
        .next_update_after(domain::time::now(), domain::time::now())
        .map(|at| at.to_string());
    let posted = crate::status::publish_ticket(
        state,
        actor,
        &who.principal.ticket_scope(),
        &ticket.number,
        &crate::status::PublishInput {
            body_en: crate::i18n::t(Locale::En, "mi-status-body"),
            body_fr: crate::i18n::t(Locale::Fr, "mi-status-body"),
            next_update_by,
            banner: Some(banner),
            ..Default::default()
        },
    )
    .await?;
    let mut tx = state.db.begin().await?;
    db::set_status_event(&mut tx, ticket.id, posted.event_id).await?;
    tx.commit().await?;
    Ok(())
}

// ---------- sending ----------

/// Who a notice goes to: the engaged contacts with an address, and the recipients of the
/// ticket's service's distribution lists (its live organizations' help desk contacts and
/// addresses, and the members added by hand), each address once.
async fn recipients(conn: &mut Conn, ticket: &Ticket) -> AppResult<Vec<NoticeRecipient>> {
    let mut candidates: Vec<NoticeRecipient> = db::contacts(conn, ticket.id)
        .await?
        .into_iter()
        .filter_map(|c| {
            Some(NoticeRecipient {
                email: c.email?,
                locale: c.locale,
            })
        })
        .collect();
    if let Some(service) = ticket.service_id {
        for list in store::lists::list(conn).await? {
            if list.kind != "service" || list.service_id != Some(service) {
                continue;
            }
            let members = store::lists::members(conn, list.id).await?;
            for r in store::lists::recipients(conn, &list, &members).await? {
                candidates.push(NoticeRecipient {
                    email: r.email,
                    locale: r.locale,
                });
            }
        }
    }
    Ok(notice_rules::merge_recipients(candidates))
}

/// The due time of a planned notice, for the record.
fn planned_due(plan: &CommunicationPlan, major: &MajorIncident, key: &str) -> Option<Timestamp> {
    let declared = domain::time::from_db(&major.declared_at)?;
    match notice_rules::kind_of_key(key) {
        NoticeKind::ServiceInterruption => declared.checked_add(mi::EVENT_NOTICE_ALLOWANCE).ok(),
        NoticeKind::ServiceRestoration => major
            .resolved_at
            .as_deref()
            .and_then(domain::time::from_db)?
            .checked_add(mi::EVENT_NOTICE_ALLOWANCE)
            .ok(),
        NoticeKind::Update => notice_rules::update_due(plan, declared, key),
    }
}

/// Sends the planned notice `key` with its drafted text (`texts` None) or the
/// coordinator's, once: a second call with the same key sends nothing and returns `None`.
/// `actor` with no person is the automatic sender. Runs in the caller's transaction.
async fn send_planned(
    state: &AppState,
    conn: &mut Conn,
    actor: &Actor,
    ticket: &Ticket,
    major: &MajorIncident,
    key: &str,
    texts: Option<NoticeTexts>,
) -> AppResult<Option<i64>> {
    let plan = plan_for(state, conn, ticket).await?;
    let due_at = planned_due(&plan, major, key);
    let composer = state.composer(conn).await?;
    let texts = match texts {
        Some(t) => t,
        None => DraftContext::load(state, conn, ticket, major)
            .await?
            .draft(
                &composer,
                &plan,
                key,
                due_at.unwrap_or_else(domain::time::now),
            )?,
    };
    let to = recipients(conn, ticket).await?;
    let kind = notice_rules::kind_of_key(key);
    let sent_at = domain::time::to_db(domain::time::now());
    let due_db = due_at.map(domain::time::to_db);
    let Some(notice_id) = db::insert_notice(
        conn,
        ticket.id,
        &db::NewNotice {
            notice_key: key,
            kind: kind.as_str(),
            due_at: due_db.as_deref(),
            sent_at: &sent_at,
            sent_by: actor.person_id,
            recipients: to.len() as i64,
            subject_en: &texts.subject_en,
            body_en: &texts.body_en,
            subject_fr: &texts.subject_fr,
            body_fr: &texts.body_fr,
        },
    )
    .await?
    else {
        return Ok(None);
    };
    let en = [
        ("number", ticket.number.clone()),
        ("subject", texts.subject_en.clone()),
        ("body", texts.body_en.clone()),
    ];
    let fr = [
        ("number", ticket.number.clone()),
        ("subject", texts.subject_fr.clone()),
        ("body", texts.body_fr.clone()),
    ];
    for recipient in &to {
        let mut mail = composer.compose(&Draft {
            to: &recipient.email,
            audience: Audience::of(recipient.locale.as_deref()),
            key: "major-incident-message",
            args: &en,
            fr_args: Some(&fr),
            unsubscribe: None,
        })?;
        mail.idempotency_key = Some(format!(
            "major-incident:{}:{key}:{}",
            ticket.id, recipient.email
        ));
        store::outbox::enqueue(conn, Some(ticket.id), &mail).await?;
    }
    store::tickets::add_event(
        conn,
        ticket.id,
        actor,
        "major_incident_notice",
        true,
        None,
        json!({"key": key, "kind": kind.as_str(), "recipients": to.len(), "automatic": actor.person_id.is_none()}),
    )
    .await?;
    append(
        conn,
        actor,
        event(
            "major_incident.notice",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({"key": key, "recipients": to.len()}),
        ),
    )
    .await?;
    metrics::counter!("triage_major_incident_notices_total").increment(1);
    Ok(Some(notice_id))
}

fn edited(
    value: &Option<String>,
    draft: &str,
    field: &'static str,
    max: usize,
) -> AppResult<String> {
    match value {
        Some(v) => text(v, field, max, true),
        None => Ok(draft.to_owned()),
    }
}

/// The coordinator (or another operator agent) sends a notice now, early or late, with
/// the draft's text or their own. Only a notice the plan lists as due or next can be sent;
/// one already sent is refused (409 `notice_already_sent`).
pub async fn send_notice(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    key: &str,
    input: &NoticeInput,
) -> AppResult<Notice> {
    require_operator_agent(who)?;
    let mut tx = state.db.begin().await?;
    let ticket = ticket_of(&mut tx, who, number).await?;
    let major = db::get(&mut tx, ticket.id)
        .await?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "not_declared"))?;
    let notices = db::notices(&mut tx, ticket.id).await?;
    if notices.iter().any(|n| n.notice_key == key) {
        return Err(AppError::new(StatusCode::CONFLICT, "notice_already_sent"));
    }
    let plan = plan_for(state, &mut tx, &ticket).await?;
    let pending = due_notices(&plan, &major, &notices, domain::time::now());
    let Some(due) = pending.iter().find(|n| n.key == key) else {
        return Err(AppError::invalid("unknown_notice", "key").with_arg("value", key));
    };
    let composer = state.composer(&mut tx).await?;
    let draft = DraftContext::load(state, &mut tx, &ticket, &major)
        .await?
        .draft(&composer, &plan, key, due.due_at)?;
    let texts = NoticeTexts {
        subject_en: edited(
            &input.subject_en,
            &draft.subject_en,
            "subject_en",
            MAX_SUBJECT,
        )?,
        body_en: edited(&input.body_en, &draft.body_en, "body_en", MAX_BODY)?,
        subject_fr: edited(
            &input.subject_fr,
            &draft.subject_fr,
            "subject_fr",
            MAX_SUBJECT,
        )?,
        body_fr: edited(&input.body_fr, &draft.body_fr, "body_fr", MAX_BODY)?,
    };
    let id = send_planned(state, &mut tx, actor, &ticket, &major, key, Some(texts))
        .await?
        .ok_or_else(|| AppError::new(StatusCode::CONFLICT, "notice_already_sent"))?;
    tx.commit().await?;
    let mut conn = state.db.reader().acquire().await?;
    db::notices(&mut conn, ticket.id)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(AppError::internal)
}

/// Turns the automatic sending of due notices on or off.
pub async fn set_auto_send(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    auto_send: bool,
) -> AppResult<()> {
    require_operator_agent(who)?;
    let mut tx = state.db.begin().await?;
    let ticket = ticket_of(&mut tx, who, number).await?;
    if db::get(&mut tx, ticket.id).await?.is_none() {
        return Err(AppError::new(StatusCode::NOT_FOUND, "not_declared"));
    }
    db::set_auto_send(&mut tx, ticket.id, auto_send).await?;
    append(
        &mut tx,
        actor,
        event(
            "major_incident.auto_send",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({"auto_send": auto_send}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------- resolution ----------

/// Called in the transaction that moves a ticket to Resolved. For a declared major
/// incident: records the resolution and its review targets, sends the restoration notice,
/// and opens a problem when no root cause is given. Nothing for other tickets.
pub(crate) async fn on_resolved(
    state: &AppState,
    conn: &mut Conn,
    actor: &Actor,
    ticket: &Ticket,
    root_cause: Option<&str>,
) -> AppResult<()> {
    let Some(major) = db::get(conn, ticket.id).await? else {
        return Ok(());
    };
    if major.resolved_at.is_some() {
        return Ok(());
    }
    let root_cause = match root_cause {
        Some(r) => Some(text(r, "root_cause", MAX_ROOT_CAUSE, false)?).filter(|r| !r.is_empty()),
        None => None,
    };
    let now = domain::time::now();
    let now_db = domain::time::to_db(now);
    let targets = match review_calendar(state, conn, ticket).await? {
        Some(calendar) => mi::review_targets(now, &calendar).ok(),
        None => None,
    };
    let review_due = targets.map(|t| domain::time::to_db(t.review_due));
    let report_due = targets.map(|t| domain::time::to_db(t.report_due));
    db::resolve(
        conn,
        ticket.id,
        &db::Resolution {
            resolved_at: &now_db,
            root_cause_known: root_cause.is_some(),
            root_cause: root_cause.as_deref(),
            review_due_at: review_due.as_deref(),
            report_due_at: report_due.as_deref(),
        },
    )
    .await?;
    let problem = match root_cause {
        Some(_) => None,
        None => {
            let problem =
                open_problem_for_major_incident(state, conn, actor, ticket, &major).await?;
            db::set_problem(conn, ticket.id, problem.0).await?;
            Some(problem.1)
        }
    };
    store::tickets::add_event(
        conn,
        ticket.id,
        actor,
        "major_incident_resolved",
        true,
        None,
        json!({"root_cause_known": problem.is_none(), "problem": problem, "review_due": review_due, "report_due": report_due}),
    )
    .await?;
    append(
        conn,
        actor,
        event(
            "major_incident.resolve",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({"root_cause_known": problem.is_none(), "problem": problem}),
        ),
    )
    .await?;
    let major = db::get(conn, ticket.id)
        .await?
        .ok_or_else(AppError::internal)?;
    send_planned(state, conn, actor, ticket, &major, RESOLUTION_KEY, None).await?;
    Ok(())
}

/// Opens the problem a major incident resolved with no known root cause calls for: kind
/// problem, the incident's organization, service, configuration item, impact, urgency and
/// priority, its summary, its problem record (source: major incident), linked incident →
/// problem (`caused_by`). Returns the problem's id and number. Runs in the caller's
/// transaction.
pub async fn open_problem_for_major_incident(
    state: &AppState,
    conn: &mut Conn,
    actor: &Actor,
    incident: &Ticket,
    major: &MajorIncident,
) -> AppResult<(i64, String)> {
    let backend = state.db.backend();
    let reservation = store::tickets::reserve(conn, backend, &[TicketKind::Problem]).await?;
    let reserved = reservation
        .tickets
        .first()
        .ok_or_else(AppError::internal)?
        .clone();
    let mut chain = reservation.chain;
    let summary: String = crate::i18n::t_args(
        Locale::En,
        "mi-problem-summary",
        &[
            ("number", incident.number.clone()),
            ("summary", incident.summary.clone()),
        ],
    )
    .chars()
    .take(domain::ticket::SUMMARY_MAX)
    .collect();
    let details = crate::i18n::t_args(
        Locale::En,
        "mi-problem-details",
        &[("number", incident.number.clone())],
    );
    let now = domain::time::now();
    let new = store::tickets::NewTicket {
        kind: TicketKind::Problem,
        organization_id: incident.organization_id,
        service_id: incident.service_id,
        subcategory_id: None,
        reporter_id: actor.person_id.unwrap_or(major.coordinator_id),
        on_behalf_of_id: None,
        draft: domain::ticket::Draft {
            summary,
            details,
            impact: incident.impact,
            urgency: incident.urgency,
            configuration_item: incident.configuration_item.clone(),
            first_occurrence: None,
            service_impact: incident.service_impact.clone(),
            user_impact: incident.user_impact.clone(),
            troubleshooting: None,
            workaround: incident.workaround.clone(),
            no_workaround: incident.no_workaround != 0,
            partner_references: Vec::new(),
            custom: Vec::new(),
        },
        priority: incident.priority,
        support_group_id: None,
        channel: domain::ticket::Channel::Api,
        policy_pack_id: None,
        sla: store::tickets::SlaColumns::default(),
        created_at: now,
    };
    let inserted = store::tickets::insert_with_companions(
        conn,
        backend,
        actor,
        &new,
        &reserved,
        &mut chain,
        &store::tickets::Companions {
            audit_action: "ticket.create",
            audit_detail: json!({"kind": "problem", "major_incident": incident.number}),
            mails: &[],
            job_kind: "",
            jobs: &[],
        },
    )
    .await?;
    // The problem's record (source: major incident), the incident → problem link
    // (`caused_by`) and the SPOC's creation notice.
    crate::problems::attach_new_problem(
        state,
        conn,
        actor,
        inserted.id,
        domain::problem_record::ProblemSource::MajorIncident,
        &[incident.id],
        &[],
    )
    .await?;
    Ok((inserted.id, reserved.number))
}

// ---------- the runner ----------

/// One pass: for each major incident still looked after, reminds the coordinator of each
/// notice whose reminder time has come, sends the due notices when automatic sending is
/// on, and reminds of the review targets. Each step is its own transaction and sent once
/// (the notice's row, the reminders' outbox keys), so a pass after a crash or on another
/// node does nothing twice.
pub async fn run_due(state: &AppState) -> AppResult<()> {
    let now = domain::time::now();
    let since = now - jiff::SignedDuration::from_hours(24 * FOLLOW_UP_DAYS);
    let mut conn = state.db.reader().acquire().await?;
    let majors = db::active(&mut conn, &domain::time::to_db(since)).await?;
    drop(conn);
    for major in majors {
        // One incident's failure (a mail that cannot be composed) does not hold up the others.
        if let Err(e) = look_after(state, &major, now).await {
            tracing::warn!(
                code = e.code,
                ticket = major.number,
                "major incident schedule"
            );
        }
    }
    Ok(())
}

/// [`run_due`] for one major incident.
async fn look_after(state: &AppState, major: &MajorIncident, now: Timestamp) -> AppResult<()> {
    let system = Actor::system("major-incidents");
    let mut conn = state.db.reader().acquire().await?;
    let ticket = store::tickets::get(&mut conn, &crate::sla::everything(), major.ticket_id).await?;
    let notices = db::notices(&mut conn, ticket.id).await?;
    let plan = plan_for(state, &mut conn, &ticket).await?;
    drop(conn);
    for due in due_notices(&plan, major, &notices, now) {
        if due.reminder_at <= now {
            let what = |locale| notice_label(&due.key, due.kind, locale);
            remind(
                state,
                &ticket,
                major,
                &format!("notice:{}", due.key),
                due.due_at,
                what,
            )
            .await?;
        }
        if major.auto_send != 0 && due.due_at <= now {
            let mut tx = state.db.begin().await?;
            send_planned(state, &mut tx, &system, &ticket, major, &due.key, None).await?;
            tx.commit().await?;
        }
    }
    if let (Some(resolved), Some(review_due), Some(report_due)) = (
        major.resolved_at.as_deref().and_then(domain::time::from_db),
        major
            .review_due_at
            .as_deref()
            .and_then(domain::time::from_db),
        major
            .report_due_at
            .as_deref()
            .and_then(domain::time::from_db),
    ) {
        let targets = mi::ReviewTargets {
            review_due,
            report_due,
        };
        for reminder in
            notice_rules::target_reminders(targets, resolved, major.review_held_at.is_some())
        {
            if reminder.remind_at <= now && now <= reminder.due {
                if reminder.key == "report" && report_released(state, ticket.id).await? {
                    continue;
                }
                let key = reminder.key;
                let what = |locale: Locale| crate::i18n::t(locale, &format!("mi-target-{key}"));
                remind(state, &ticket, major, key, reminder.due, what).await?;
            }
        }
    }
    Ok(())
}

/// Whether the review report is out: its target needs no more reminding.
async fn report_released(state: &AppState, ticket_id: i64) -> AppResult<bool> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::major_incident_reports::get(&mut conn, ticket_id)
        .await?
        .is_some_and(|report| report.released_at.is_some()))
}

/// Mails the coordinator once about `what` due at `due` (`key` names it among the
/// incident's reminders).
async fn remind(
    state: &AppState,
    ticket: &Ticket,
    major: &MajorIncident,
    key: &str,
    due: Timestamp,
    what: impl Fn(Locale) -> String,
) -> AppResult<()> {
    let idempotency_key = format!("major-incident-reminder:{}:{key}", ticket.id);
    let mut tx = state.db.begin().await?;
    if db::reminder_queued(&mut tx, &idempotency_key).await? {
        return Ok(());
    }
    let coordinator = store::people::get(&mut tx, &OrgScope::All, major.coordinator_id).await?;
    let locale = Locale::parse(&coordinator.locale).unwrap_or_default();
    let tz = jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let args = [
        ("number", ticket.number.clone()),
        ("summary", ticket.summary.clone()),
        ("what", what(locale)),
        ("due", local_time(&domain::time::to_db(due), &tz, locale)),
        (
            "link",
            format!(
                "{}/console/major-incidents/{}",
                state.settings.public_base_url, ticket.number
            ),
        ),
    ];
    let composer = state.composer(&mut tx).await?;
    let mut mail = composer.compose(&Draft {
        to: &coordinator.email,
        audience: Audience::One(locale),
        key: "major-incident-reminder",
        args: &args,
        fr_args: None,
        unsubscribe: None,
    })?;
    mail.idempotency_key = Some(idempotency_key);
    store::outbox::enqueue(&mut tx, Some(ticket.id), &mail).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs [`run_due`] every few seconds. Every node may: each notice and reminder is sent
/// once whichever node gets there first.
pub fn spawn_runner(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_due(&state).await {
                tracing::warn!(code = e.code, "major incidents schedule");
            }
        }
    });
}

/// The role's label for pages.
pub fn role_label(role: &str, locale: Locale) -> String {
    ContactRole::from_str(role)
        .map(|r| r.label(locale).to_owned())
        .unwrap_or_else(|_| role.to_owned())
}
