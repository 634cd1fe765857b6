//! Change freezes: the operator's change managers declare them, partners announce their own
//! from the portal, both with at least the pack's notice (30 calendar days by default,
//! `freeze_notice_too_short`); an RFC that falls in one asks for an exception, which a
//! change manager approves or refuses. A partner sees the operator's freezes and its own.
use crate::AppState;
use crate::cab::{change_policy, is_change_manager, rfc_ticket};
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use domain::role::Role;
use serde::Deserialize;
use serde_json::json;
use store::audit::{Actor, Event, append};
use store::freezes::{self as db, Exception, Freeze, Visible};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = NewChangeFreeze)]
#[serde(deny_unknown_fields)]
pub struct FreezeInput {
    pub name: String,
    pub reason: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in the change calendar's time zone.
    pub starts_at: String,
    pub ends_at: String,
    /// Service codes; none: every service.
    #[serde(default)]
    pub services: Vec<String>,
    /// Who to ask for an exception and what they need.
    pub exception_procedure: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionInput {
    pub freeze_id: i64,
    pub justification: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = FreezeExceptionDecision)]
#[serde(deny_unknown_fields)]
pub struct ExceptionDecision {
    pub approved: bool,
    #[serde(default)]
    pub note: String,
}

/// The partner people who announce their organization's freezes: its signatory, LRA,
/// local help desk and CPC.
pub fn may_announce(who: &Identity) -> bool {
    !who.principal.is_operator_staff()
        && [Role::Signatory, Role::Lra, Role::LocalHelpDesk, Role::Cpc]
            .iter()
            .any(|role| who.principal.has(*role))
}

/// What the caller sees: every freeze for operator staff, the operator's and their own for
/// a partner's people.
pub fn visible(who: &Identity) -> Visible {
    if who.principal.is_operator_staff() {
        Visible::All
    } else {
        Visible::OperatorAnd(who.person.organization_id)
    }
}

/// Freezes not yet over (and those ended in the last 30 days), cancelled ones included.
pub async fn list(state: &AppState, who: &Identity) -> AppResult<Vec<Freeze>> {
    let since = domain::time::now() - jiff::SignedDuration::from_hours(24 * 30);
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::list(&mut conn, visible(who), &domain::time::to_db(since), true).await?)
}

pub async fn get(state: &AppState, who: &Identity, id: i64) -> AppResult<Freeze> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::get(&mut conn, visible(who), id).await?)
}

/// Declares (operator change managers) or announces (a partner's people) a freeze.
pub async fn declare(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &FreezeInput,
) -> AppResult<i64> {
    let organization_id = if is_change_manager(who) {
        None
    } else if may_announce(who) {
        Some(who.person.organization_id)
    } else {
        return Err(AppError::forbidden());
    };
    let name = domain::text::required("name", &input.name, 200)?;
    let reason = domain::text::required("reason", &input.reason, 4000)?;
    let procedure =
        domain::text::required("exception_procedure", &input.exception_procedure, 4000)?;
    crate::tickets::check_phi([
        ("name", name.as_str()),
        ("reason", reason.as_str()),
        ("exception_procedure", procedure.as_str()),
    ])?;
    let mut tx = state.db.begin().await?;
    let policy = change_policy(state, &mut tx).await?;
    let zone = policy.calendar.time_zone().clone();
    let at = |field: &'static str, value: &str| {
        domain::ticket::parse_when(value, &zone)
            .map_err(|_| AppError::invalid("invalid_datetime", field))
    };
    let starts_at = at("starts_at", &input.starts_at)?;
    let ends_at = at("ends_at", &input.ends_at)?;
    let announced_at = domain::time::now();
    policy
        .check_freeze(announced_at, starts_at, ends_at)
        .map_err(|e| AppError::from(e).with_arg("days", policy.freeze_notice_days.to_string()))?;
    let all = store::orgs::services(&mut tx).await?;
    let mut service_ids = Vec::new();
    for code in &input.services {
        let service = all
            .iter()
            .find(|s| s.code.eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| {
                AppError::invalid("unknown_service", "services").with_arg("value", code)
            })?;
        service_ids.push(service.id);
    }
    let id = db::insert(
        &mut tx,
        &db::NewFreeze {
            name: &name,
            reason: &reason,
            starts_at: &domain::time::to_db(starts_at),
            ends_at: &domain::time::to_db(ends_at),
            announced_at: &domain::time::to_db(announced_at),
            organization_id,
            exception_procedure: &procedure,
            declared_by: who.person.id,
            service_ids: &service_ids,
        },
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change_freeze.declare",
            entity_type: "change_freeze",
            entity_id: Some(id.to_string()),
            organization_id,
            detail: json!({"name": name, "starts_at": domain::time::to_db(starts_at),
                "ends_at": domain::time::to_db(ends_at), "services": input.services}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Cancels a freeze: the operator's change managers any; a partner's people their own.
pub async fn cancel(state: &AppState, who: &Identity, actor: &Actor, id: i64) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let freeze = db::get(&mut tx, visible(who), id).await?;
    let allowed = is_change_manager(who)
        || (may_announce(who) && freeze.organization_id == Some(who.person.organization_id));
    if !allowed {
        return Err(AppError::forbidden());
    }
    if !db::cancel(&mut tx, id).await? {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "freeze_cancelled",
        ));
    }
    append(
        &mut tx,
        actor,
        Event {
            action: "change_freeze.cancel",
            entity_type: "change_freeze",
            entity_id: Some(id.to_string()),
            organization_id: freeze.organization_id,
            detail: json!({"name": freeze.name}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Asks for an exception to a freeze the RFC falls in.
pub async fn request_exception(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &ExceptionInput,
) -> AppResult<i64> {
    let justification = domain::text::required("justification", &input.justification, 4000)?;
    crate::tickets::check_phi([("justification", justification.as_str())])?;
    let mut tx = state.db.begin().await?;
    let (ticket, rfc) = rfc_ticket(&mut tx, who, number).await?;
    if <domain::change::ChangeStatus as std::str::FromStr>::from_str(&rfc.status)
        .is_ok_and(|s| s.is_final())
    {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "change_final",
        ));
    }
    // Only the freezes that apply to this RFC: the operator's and its organization's own.
    let freeze = db::get(
        &mut tx,
        Visible::OperatorAnd(ticket.organization_id),
        input.freeze_id,
    )
    .await
    .map_err(|_| AppError::invalid("unknown_freeze", "freeze_id"))?;
    let services = store::cab::rfc_services(&mut tx, ticket.id).await?;
    let overlaps = freeze.cancelled_at.is_none()
        && freeze.starts_at < rfc.requested_end
        && rfc.requested_start < freeze.ends_at
        && (freeze.services.is_empty()
            || services
                .iter()
                .any(|(_, code, _)| freeze.services.contains(code)));
    if !overlaps {
        return Err(AppError::invalid("not_in_freeze", "freeze_id"));
    }
    let id = db::request_exception(&mut tx, freeze.id, ticket.id, &justification, who.person.id)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(code) => AppError::invalid(code, "freeze_id"),
            other => other.into(),
        })?;
    store::tickets::add_event(
        &mut tx,
        ticket.id,
        actor,
        "freeze_exception_requested",
        false,
        None,
        json!({"freeze_id": freeze.id, "freeze": freeze.name, "justification": justification}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change_freeze.exception_request",
            entity_type: "ticket",
            entity_id: Some(ticket.number.clone()),
            organization_id: Some(ticket.organization_id),
            detail: json!({"freeze_id": freeze.id, "exception_id": id}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A change manager approves or refuses a requested exception (a refusal says why).
pub async fn decide_exception(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    input: &ExceptionDecision,
) -> AppResult<Exception> {
    if !is_change_manager(who) {
        return Err(AppError::forbidden());
    }
    let note = domain::text::optional("note", Some(&input.note), 4000)?.unwrap_or_default();
    if !input.approved && note.is_empty() {
        return Err(AppError::invalid("reasons_required", "note"));
    }
    crate::tickets::check_phi([("note", note.as_str())])?;
    let mut tx = state.db.begin().await?;
    let exception = db::exception(&mut tx, id).await?;
    if !db::decide_exception(&mut tx, id, input.approved, &note, who.person.id).await? {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "exception_decided",
        ));
    }
    let decision = if input.approved {
        "approved"
    } else {
        "refused"
    };
    store::tickets::add_event(
        &mut tx,
        exception.ticket_id,
        actor,
        "freeze_exception_decided",
        false,
        None,
        json!({"freeze_id": exception.freeze_id, "freeze": exception.freeze_name,
            "decision": decision, "note": note}),
    )
    .await?;
    let ticket =
        store::tickets::get(&mut tx, &crate::sla::everything(), exception.ticket_id).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "change_freeze.exception_decide",
            entity_type: "ticket",
            entity_id: Some(ticket.number.clone()),
            organization_id: Some(ticket.organization_id),
            detail: json!({"exception_id": id, "decision": decision}),
        },
    )
    .await?;
    let decided = db::exception(&mut tx, id).await?;
    tx.commit().await?;
    Ok(decided)
}

/// Exceptions waiting for a change manager.
pub async fn requested(state: &AppState, who: &Identity) -> AppResult<Vec<Exception>> {
    if !is_change_manager(who) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::requested_exceptions(&mut conn).await?)
}
