//! The major incident review and its report: the desk records the review (when, who), the
//! report is drafted from the ticket (status changes, notices sent, SLA figures, linked
//! problems and changes), edited, redacted of IP addresses and host names, and released;
//! people of the affected organizations request a copy and read it once released.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::html::local_time;
use crate::i18n::{t, t_args};
use crate::service::event;
use axum::http::StatusCode;
use domain::major_incident::{SensitiveMatch, find_sensitive, redact_sensitive_in, release_check};
use domain::policy::Action;
use domain::text::Locale;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::Conn;
use store::audit::{Actor, append};
use store::major_incident_reports::{self as db, CopyRequest, Report};
use store::major_incidents::MajorIncident;
use store::tickets::Ticket;

/// The longest report accepted.
pub const BODY_MAX: usize = 100_000;

fn released_already() -> AppError {
    AppError::new(StatusCode::CONFLICT, "report_released")
}

fn no_report() -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "no_report")
}

fn time_zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The ticket and its major-incident row, whoever asks (callers check who may).
async fn load(conn: &mut Conn, number: &str) -> AppResult<(Ticket, MajorIncident)> {
    let ticket = store::tickets::get_by_number(conn, &crate::sla::everything(), number).await?;
    let major = store::major_incidents::get(conn, ticket.id)
        .await?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "not_declared"))?;
    Ok((ticket, major))
}

/// What the desk sees of a report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub number: String,
    pub summary: String,
    pub report: Option<Report>,
    /// IP addresses and host names still in the text: the report is not released while any
    /// remains.
    #[schema(value_type = Vec<Object>)]
    pub sensitive: Vec<SensitiveMatch>,
    pub requests: Vec<CopyRequest>,
}

pub async fn view(state: &AppState, who: &Identity, number: &str) -> AppResult<ReportView> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let (ticket, _) = load(&mut conn, number).await?;
    let report = db::get(&mut conn, ticket.id).await?;
    Ok(ReportView {
        sensitive: report
            .as_ref()
            .map(|r| find_sensitive(&r.body))
            .unwrap_or_default(),
        requests: db::requests(&mut conn, ticket.id).await?,
        number: ticket.number,
        summary: ticket.summary,
        report,
    })
}

fn duration_text(seconds: i64) -> String {
    let minutes = seconds.abs() / 60;
    let sign = if seconds < 0 { "-" } else { "" };
    format!("{sign}{} h {:02} min", minutes / 60, minutes % 60)
}

/// The report drafted from the ticket, in `locale`.
async fn draft_text(
    state: &AppState,
    conn: &mut Conn,
    ticket: &Ticket,
    major: &MajorIncident,
    report: Option<&Report>,
    locale: Locale,
) -> AppResult<String> {
    let tz = time_zone(state);
    let when = |at: &str| local_time(&tz, at, "%Y-%m-%d %H:%M %Z");
    let heading = |key: &str| format!("\n## {}\n", t(locale, key));
    let mut out = String::new();
    out.push_str(&format!(
        "# {} {} — {}\n\n",
        t(locale, "mir-report-of"),
        ticket.number,
        ticket.summary
    ));
    let org = store::orgs::get(conn, &domain::policy::OrgScope::All, ticket.organization_id)
        .await
        .map(|o| locale.pick(&o.name_en, &o.name_fr).to_owned())
        .unwrap_or_default();
    let line = |key: &str, value: &str| format!("- {}: {value}\n", t(locale, key));
    out.push_str(&line("mir-organization", &org));
    out.push_str(&line("mir-priority", &format!("P{}", ticket.priority)));
    out.push_str(&line("mir-declared", &when(&major.declared_at)));
    out.push_str(&line("mir-coordinator", &major.coordinator_name));
    out.push_str(&line("mir-bridge", &major.bridge));
    if let Some(resolved) = &major.resolved_at {
        out.push_str(&line("mir-resolved", &when(resolved)));
    }
    out.push_str(&line(
        "mir-root-cause",
        major
            .root_cause
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or(&t(locale, "mir-root-cause-unknown")),
    ));

    out.push_str(&heading("mir-description"));
    out.push_str(ticket.details.trim());
    out.push('\n');

    out.push_str(&heading("mir-timeline"));
    for (at, status) in store::tickets::status_history(conn, ticket.id).await? {
        out.push_str(&format!(
            "- {} {}\n",
            when(&at),
            t(locale, &format!("tstatus-{status}"))
        ));
    }

    out.push_str(&heading("mir-notices"));
    let notices = store::major_incidents::notices(conn, ticket.id).await?;
    if notices.is_empty() {
        out.push_str("- —\n");
    }
    for notice in &notices {
        out.push_str(&format!(
            "- {} — {} ({})\n",
            when(&notice.sent_at),
            locale.pick(&notice.subject_en, &notice.subject_fr),
            t_args(
                locale,
                "mir-recipients",
                &[("count", notice.recipients.to_string())]
            )
        ));
    }

    out.push_str(&heading("mir-sla"));
    let evaluation = crate::sla::evaluate(&state.packs, conn, ticket, domain::time::now()).await?;
    let clocks = [
        ("mir-sla-response", evaluation.view.response.as_ref()),
        ("mir-sla-resolution", evaluation.view.resolution.as_ref()),
    ];
    let mut any_clock = false;
    for (key, clock) in clocks {
        if let Some(clock) = clock {
            any_clock = true;
            out.push_str(&format!(
                "- {}: {} {}, {} {}, {}\n",
                t(locale, key),
                t(locale, "mir-sla-target"),
                duration_text(clock.target.as_secs() as i64),
                t(locale, "mir-sla-used"),
                duration_text(clock.used.as_secs() as i64),
                t(locale, &format!("mir-sla-state-{}", clock.state.as_str()))
            ));
        }
    }
    if !any_clock {
        out.push_str(&format!("- {}\n", t(locale, "mir-sla-none")));
    }

    out.push_str(&heading("mir-links"));
    let links = store::tickets::links(conn, &crate::sla::everything(), ticket.id).await?;
    let related: Vec<_> = links
        .iter()
        .filter(|l| l.number.starts_with("PRB-") || l.number.starts_with("CHG-"))
        .collect();
    if related.is_empty() {
        out.push_str("- —\n");
    }
    for link in related {
        out.push_str(&format!(
            "- {} {} ({})\n",
            link.number,
            link.summary,
            t(locale, &format!("tstatus-{}", link.status))
        ));
    }

    out.push_str(&review_section(state, report, locale));
    Ok(out)
}

/// The report's last section: when the review was held and who attended.
fn review_section(state: &AppState, report: Option<&Report>, locale: Locale) -> String {
    let tz = time_zone(state);
    let mut out = format!("\n## {}\n", t(locale, "mir-review"));
    match report.and_then(|r| r.review_held_at.as_deref()) {
        Some(held) => {
            let attendees = report.map(|r| r.attendees.trim()).unwrap_or_default();
            out.push_str(&format!(
                "- {}: {}\n- {}: {}\n",
                t(locale, "mir-review-held"),
                local_time(&tz, held, "%Y-%m-%d %H:%M %Z"),
                t(locale, "mir-attendees"),
                attendees.replace('\n', ", ")
            ));
        }
        None => out.push_str(&format!("- {}\n", t(locale, "mir-review-not-held"))),
    }
    out
}

/// `body` with its review section (in either language) replaced by the current one.
fn with_review_section(state: &AppState, body: &str, report: &Report, locale: Locale) -> String {
    let start = [Locale::En, Locale::Fr]
        .iter()
        .filter_map(|lang| body.rfind(&format!("\n## {}\n", t(*lang, "mir-review"))))
        .max();
    let kept = start.map_or(body.trim_end(), |at| &body[..at]);
    format!("{kept}\n{}", review_section(state, Some(report), locale))
}

/// Agents: (re)draft the report from the ticket, replacing the draft's text.
pub async fn draft(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    locale: Locale,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let (ticket, major) = load(&mut tx, number).await?;
    let existing = db::get(&mut tx, ticket.id).await?;
    let body = draft_text(state, &mut tx, &ticket, &major, existing.as_ref(), locale).await?;
    if !db::save_body(&mut tx, ticket.id, &body, who.person.id).await? {
        return Err(released_already());
    }
    append(
        &mut tx,
        actor,
        event(
            "major_incident_report.draft",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyInput {
    pub body: String,
}

/// Agents: replace the draft's text.
pub async fn edit(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &BodyInput,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let body = input.body.replace("\r\n", "\n");
    if body.trim().is_empty() {
        return Err(AppError::invalid("required", "body"));
    }
    if body.chars().count() > BODY_MAX {
        return Err(AppError::invalid("too_long", "body"));
    }
    crate::tickets::check_phi([("body", body.as_str())])?;
    let mut tx = state.db.begin().await?;
    let (ticket, _) = load(&mut tx, number).await?;
    let before = db::get(&mut tx, ticket.id).await?.ok_or_else(no_report)?;
    if !db::save_body(&mut tx, ticket.id, &body, who.person.id).await? {
        return Err(released_already());
    }
    append(
        &mut tx,
        actor,
        event(
            "major_incident_report.edit",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({"length": [before.body.chars().count(), body.chars().count()]}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Agents: the redaction pass; every IP address and host name is replaced by its
/// placeholder in `locale`. Returns what was removed.
pub async fn redact(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    locale: Locale,
) -> AppResult<Vec<SensitiveMatch>> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let (ticket, _) = load(&mut tx, number).await?;
    let report = db::get(&mut tx, ticket.id).await?.ok_or_else(no_report)?;
    let found = find_sensitive(&report.body);
    let body = redact_sensitive_in(&report.body, locale);
    if !db::save_body(&mut tx, ticket.id, &body, who.person.id).await? {
        return Err(released_already());
    }
    // The audit names the kinds and counts, never the removed values.
    let kinds: Vec<&str> = found.iter().map(|m| m.kind.as_str()).collect();
    append(
        &mut tx,
        actor,
        event(
            "major_incident_report.redact",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({"removed": kinds}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(found)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in the operator's time zone.
    pub held_at: String,
    /// Who attended, one per line.
    pub attendees: String,
}

/// Agents: record that the review was held; the report is drafted first if it was not.
pub async fn record_review(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &ReviewInput,
    locale: Locale,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let held_at = parse_instant(state, &input.held_at)?;
    if held_at > domain::time::now() {
        return Err(AppError::invalid("in_future", "held_at"));
    }
    let attendees = input.attendees.replace("\r\n", "\n").trim().to_owned();
    if attendees.is_empty() {
        return Err(AppError::invalid("required", "attendees"));
    }
    if attendees.chars().count() > 5000 {
        return Err(AppError::invalid("too_long", "attendees"));
    }
    crate::tickets::check_phi([("attendees", attendees.as_str())])?;
    let held = domain::time::to_db(held_at);
    let mut tx = state.db.begin().await?;
    let (ticket, major) = load(&mut tx, number).await?;
    if db::get(&mut tx, ticket.id).await?.is_none() {
        let body = draft_text(state, &mut tx, &ticket, &major, None, locale).await?;
        db::save_body(&mut tx, ticket.id, &body, who.person.id).await?;
    }
    db::set_review(&mut tx, ticket.id, &held, &attendees).await?;
    if let Some(report) = db::get(&mut tx, ticket.id).await?
        && report.status == "draft"
    {
        let body = with_review_section(state, &report.body, &report, locale);
        db::save_body(&mut tx, ticket.id, &body, who.person.id).await?;
    }
    // The major incident's own record: its review reminders stop.
    store::major_incidents::set_review_held(&mut tx, ticket.id, &held).await?;
    append(
        &mut tx,
        actor,
        event(
            "major_incident_report.review",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({"held_at": held, "attendees": attendees.lines().count()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn parse_instant(state: &AppState, value: &str) -> AppResult<jiff::Timestamp> {
    let value = value.trim();
    if let Ok(at) = value.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    value
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|local| local.to_zoned(time_zone(state)).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or(AppError::invalid("invalid_datetime", "held_at"))
}

/// Agents: release the report. Refused while it holds an IP address or host name
/// (`unredacted_sensitive_data`, with what remains) or before the review was held.
pub async fn release(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let (ticket, _) = load(&mut tx, number).await?;
    let report = db::get(&mut tx, ticket.id).await?.ok_or_else(no_report)?;
    if report.status == "released" {
        return Err(released_already());
    }
    if let Err(refusal) = release_check(&report.body) {
        return Err(AppError::invalid(refusal.code(), "body")
            .with_arg("count", refusal.matches.len().to_string())
            .with_detail(json!({"matches": refusal.matches})));
    }
    if report.review_held_at.is_none() {
        return Err(AppError::invalid("review_not_held", "held_at"));
    }
    if !db::release(&mut tx, ticket.id, who.person.id).await? {
        return Err(released_already());
    }
    append(
        &mut tx,
        actor,
        event(
            "major_incident_report.release",
            "ticket",
            &ticket.number,
            Some(ticket.organization_id),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `who` is a person of an organization the major incident affected.
async fn is_affected(conn: &mut Conn, who: &Identity, ticket_id: i64) -> AppResult<bool> {
    Ok(db::affected_organizations(conn, ticket_id)
        .await?
        .contains(&who.principal.organization_id))
}

/// Where a partner stands with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CopyStatus {
    /// Not asked yet.
    NotRequested,
    /// Asked; readable once released.
    Requested,
    /// Asked and released: readable.
    Readable,
}

/// People of an affected organization: ask for a copy (asking twice is harmless).
pub async fn request_copy(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
) -> AppResult<CopyStatus> {
    let mut tx = state.db.begin().await?;
    let (ticket, _) = load(&mut tx, number).await?;
    if !is_affected(&mut tx, who, ticket.id).await? {
        return Err(AppError::not_found());
    }
    if db::request_copy(
        &mut tx,
        ticket.id,
        who.person.id,
        who.principal.organization_id,
    )
    .await?
    {
        append(
            &mut tx,
            actor,
            event(
                "major_incident_report.request",
                "ticket",
                &ticket.number,
                Some(who.principal.organization_id),
                json!({}),
            ),
        )
        .await?;
    }
    let released = db::get(&mut tx, ticket.id)
        .await?
        .is_some_and(|r| r.status == "released");
    tx.commit().await?;
    Ok(if released {
        CopyStatus::Readable
    } else {
        CopyStatus::Requested
    })
}

/// The report as it is read and printed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Printable {
    pub number: String,
    pub summary: String,
    /// draft or released (partners only ever read it released).
    pub status: String,
    pub released_at: Option<String>,
    pub body: String,
}

/// What a reader may have: the report (agents always; a partner once released and asked
/// for), or a partner's standing. Everyone else: 404.
pub enum Reading {
    Report(Printable),
    Partner(CopyStatus),
}

pub async fn read(state: &AppState, who: &Identity, number: &str) -> AppResult<Reading> {
    let mut conn = state.db.reader().acquire().await?;
    let (ticket, _) = load(&mut conn, number).await?;
    let report = db::get(&mut conn, ticket.id).await?;
    let printable = |r: Report| Printable {
        number: ticket.number.clone(),
        summary: ticket.summary.clone(),
        status: r.status,
        released_at: r.released_at,
        body: r.body,
    };
    if who.principal.allows(Action::WorkTickets) {
        return report
            .map(printable)
            .map(Reading::Report)
            .ok_or_else(no_report);
    }
    if !is_affected(&mut conn, who, ticket.id).await? {
        return Err(AppError::not_found());
    }
    if !db::has_requested(&mut conn, ticket.id, who.person.id).await? {
        return Ok(Reading::Partner(CopyStatus::NotRequested));
    }
    match report.filter(|r| r.status == "released") {
        Some(r) => Ok(Reading::Report(printable(r))),
        None => Ok(Reading::Partner(CopyStatus::Requested)),
    }
}
