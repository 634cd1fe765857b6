//! The monthly problem review with a partner: the agenda generated from that partner's
//! problems, the partner's own list uploaded beside it, minutes and actions. Agents keep
//! reviews; the partner's people read theirs and upload their list.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::tickets::Upload;
use domain::policy::{Action, OrgScope};
use domain::problem::ProblemStatus;
use domain::problem_record::{self as rules, AgendaFacts, AgendaSection};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use store::audit::{Actor, Event, append};
use store::problems::{self as db, Review};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = NewProblemReview)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    pub organization_id: i64,
    /// YYYY-MM.
    pub month: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in the operator's time zone.
    pub scheduled_for: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = ProblemReviewPatch)]
#[serde(deny_unknown_fields)]
pub struct ReviewPatch {
    pub minutes: Option<String>,
    /// Empty clears it.
    pub scheduled_for: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = ProblemReviewActionInput)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub text: Option<String>,
    /// Who will do it.
    pub owner: Option<String>,
    /// YYYY-MM-DD; empty clears it.
    pub due_on: Option<String>,
    pub done: Option<bool>,
}

/// One problem on the agenda.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ProblemAgendaItem)]
pub struct AgendaItem {
    pub number: String,
    pub summary: String,
    pub status: ProblemStatus,
    pub category: String,
    pub priority: i64,
    pub support_group_code: Option<String>,
    pub assignee_name: Option<String>,
    pub known_error: bool,
    pub root_cause_found: bool,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    pub verification_outcome: Option<String>,
    pub closure_acknowledged_at: Option<String>,
    /// The workflow moves since the month began: (instant, from, to).
    pub progress: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ProblemAgendaPart)]
pub struct AgendaPart {
    pub section: AgendaSection,
    pub items: Vec<AgendaItem>,
}

/// A review with its generated agenda, files, actions and minutes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ProblemReviewDetail)]
pub struct ReviewDetail {
    pub review: Review,
    /// The four sections, in order (empty ones included).
    pub agenda: Vec<AgendaPart>,
    pub files: Vec<db::ReviewFile>,
    pub actions: Vec<db::Action>,
}

fn zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The organizations whose reviews the caller may read: all for agents; their own for a
/// partner's help desk, LRA or CPC and for the SPOC of one of its problems.
pub async fn scope(state: &AppState, who: &Identity) -> AppResult<OrgScope> {
    if who.principal.allows(Action::WorkTickets) {
        return Ok(OrgScope::All);
    }
    let own = who.person.organization_id;
    if who.principal.ticket_scope().orgs.includes_org(own) {
        return Ok(OrgScope::Orgs(vec![own]));
    }
    let mut conn = state.db.reader().acquire().await?;
    let spoc = db::list(
        &mut conn,
        &who.principal.ticket_scope(),
        &db::Filter {
            organization_id: Some(own),
            ..Default::default()
        },
    )
    .await?
    .iter()
    .any(|p| p.spoc_person_id == Some(who.person.id));
    Ok(if spoc {
        OrgScope::Orgs(vec![own])
    } else {
        OrgScope::Nothing
    })
}

pub async fn list(state: &AppState, who: &Identity) -> AppResult<Vec<Review>> {
    let orgs = scope(state, who).await?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::reviews(&mut conn, &orgs).await?)
}

fn scheduled(state: &AppState, value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Some(domain::time::to_db(
            domain::ticket::parse_when(v, &zone(state))
                .map_err(|_| AppError::invalid("invalid_datetime", "scheduled_for"))?,
        ))),
        None => Ok(None),
    }
}

pub async fn create(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &NewReview,
) -> AppResult<i64> {
    who.require(Action::WorkTickets)?;
    let month = rules::parse_month(&input.month)?;
    let month = format!("{:04}-{:02}", month.year(), month.month());
    let scheduled_for = scheduled(state, input.scheduled_for.as_deref())?;
    let mut tx = state.db.begin().await?;
    let org = store::orgs::get(&mut tx, &OrgScope::All, input.organization_id)
        .await
        .map_err(|_| AppError::invalid("unknown_organization", "organization_id"))?;
    if org.is_operator != 0 {
        return Err(AppError::invalid("unknown_organization", "organization_id"));
    }
    let id = db::insert_review(
        &mut tx,
        org.id,
        &month,
        scheduled_for.as_deref(),
        Some(who.person.id),
    )
    .await
    .map_err(|e| match e {
        store::StoreError::Conflict(code) => AppError::invalid(code, "month"),
        other => other.into(),
    })?;
    append(
        &mut tx,
        actor,
        Event {
            action: "problem_review.create",
            entity_type: "problem_review",
            entity_id: Some(id.to_string()),
            organization_id: Some(org.id),
            detail: json!({"month": month}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The agenda of a review: every problem of that partner, each in its section.
pub async fn agenda(
    state: &AppState,
    conn: &mut store::Conn,
    review: &Review,
) -> AppResult<Vec<AgendaPart>> {
    let first_day = rules::parse_month(&review.month)?;
    let month_start = first_day
        .to_zoned(zone(state))
        .map_err(|_| AppError::internal())?
        .timestamp();
    let problems = db::of_organization(conn, review.organization_id).await?;
    let moves = db::moves_since(
        conn,
        review.organization_id,
        &domain::time::to_db(month_start),
    )
    .await?;
    let mut parts: Vec<AgendaPart> = AgendaSection::ALL
        .into_iter()
        .map(|section| AgendaPart {
            section,
            items: Vec::new(),
        })
        .collect();
    for p in problems {
        let status = ProblemStatus::from_str(&p.problem_status).unwrap_or(ProblemStatus::Logging);
        let facts = AgendaFacts {
            status,
            known_error: p.known_error != 0,
            closure_acknowledged_at: p
                .closure_acknowledged_at
                .as_deref()
                .and_then(domain::time::from_db),
        };
        let Some(section) = rules::agenda_section(&facts, month_start) else {
            continue;
        };
        let progress = moves
            .iter()
            .filter(|m| m.ticket_id == p.ticket_id)
            .filter_map(|m| {
                let data: serde_json::Value = serde_json::from_str(&m.data).ok()?;
                Some((
                    m.at.clone(),
                    data["from"].as_str()?.to_owned(),
                    data["to"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let item = AgendaItem {
            number: p.number,
            summary: p.summary,
            status,
            category: p.category,
            priority: p.priority,
            support_group_code: p.support_group_code,
            assignee_name: p.assignee_name,
            known_error: p.known_error != 0,
            root_cause_found: p.root_cause.is_some(),
            root_cause: p.root_cause,
            workaround: p.workaround,
            verification_outcome: p.verification_outcome,
            closure_acknowledged_at: p.closure_acknowledged_at,
            progress,
        };
        if let Some(part) = parts.iter_mut().find(|part| part.section == section) {
            part.items.push(item);
        }
    }
    Ok(parts)
}

pub async fn detail(state: &AppState, who: &Identity, id: i64) -> AppResult<ReviewDetail> {
    let orgs = scope(state, who).await?;
    let mut conn = state.db.reader().acquire().await?;
    let review = db::review(&mut conn, &orgs, id).await?;
    let agenda = agenda(state, &mut conn, &review).await?;
    Ok(ReviewDetail {
        files: db::files(&mut conn, id).await?,
        actions: db::actions(&mut conn, id).await?,
        agenda,
        review,
    })
}

pub async fn update(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    patch: &ReviewPatch,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let review = db::review(&mut tx, &OrgScope::All, id).await?;
    let minutes = match &patch.minutes {
        Some(m) => domain::text::clean("minutes", m, 50_000)?,
        None => review.minutes.clone(),
    };
    crate::tickets::check_phi([("minutes", minutes.as_str())])?;
    let scheduled_for = match &patch.scheduled_for {
        Some(v) => scheduled(state, Some(v))?,
        None => review.scheduled_for.clone(),
    };
    db::update_review(&mut tx, id, &minutes, scheduled_for.as_deref()).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "problem_review.update",
            entity_type: "problem_review",
            entity_id: Some(id.to_string()),
            organization_id: Some(review.organization_id),
            detail: json!({"minutes_changed": minutes != review.minutes, "scheduled_for": scheduled_for}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn due_on(value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Some(
            v.parse::<jiff::civil::Date>()
                .map_err(|_| AppError::invalid("invalid_date", "due_on"))?
                .to_string(),
        )),
        None => Ok(None),
    }
}

pub async fn add_action(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    review_id: i64,
    input: &ActionInput,
) -> AppResult<i64> {
    who.require(Action::WorkTickets)?;
    let text = domain::text::required("text", input.text.as_deref().unwrap_or(""), 2000)?;
    let owner = domain::text::required("owner", input.owner.as_deref().unwrap_or(""), 200)?;
    crate::tickets::check_phi([("text", text.as_str())])?;
    let due = due_on(input.due_on.as_deref())?;
    let mut tx = state.db.begin().await?;
    let review = db::review(&mut tx, &OrgScope::All, review_id).await?;
    let id = db::insert_action(&mut tx, review_id, &text, &owner, due.as_deref()).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "problem_review.action",
            entity_type: "problem_review",
            entity_id: Some(review_id.to_string()),
            organization_id: Some(review.organization_id),
            detail: json!({"action": id, "owner": owner, "due_on": due}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_action(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    review_id: i64,
    action_id: i64,
    input: &ActionInput,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let review = db::review(&mut tx, &OrgScope::All, review_id).await?;
    let before = db::action(&mut tx, review_id, action_id).await?;
    let mut after = before.clone();
    if let Some(t) = &input.text {
        after.text = domain::text::required("text", t, 2000)?;
        crate::tickets::check_phi([("text", after.text.as_str())])?;
    }
    if let Some(o) = &input.owner {
        after.owner = domain::text::required("owner", o, 200)?;
    }
    if input.due_on.is_some() {
        after.due_on = due_on(input.due_on.as_deref())?;
    }
    if let Some(done) = input.done {
        after.done = done as i64;
        after.done_at = done.then(|| domain::time::to_db(domain::time::now()));
        if before.done == after.done {
            after.done_at = before.done_at.clone();
        }
    }
    db::update_action(&mut tx, &after).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "problem_review.action_update",
            entity_type: "problem_review",
            entity_id: Some(review_id.to_string()),
            organization_id: Some(review.organization_id),
            detail: json!({"action": action_id, "changes": crate::service::diff(&json!(before), &json!(after))}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Files beside the agenda (the partner's own list), through the attachment checks: type,
/// size, patient information in text, the virus scanner. Agents and the partner's people
/// who may read the review.
pub async fn upload(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    review_id: i64,
    uploads: &[Upload],
) -> AppResult<Vec<i64>> {
    if uploads.is_empty() {
        return Err(AppError::invalid("required", "attachment"));
    }
    let orgs = scope(state, who).await?;
    {
        let mut conn = state.db.reader().acquire().await?;
        db::review(&mut conn, &orgs, review_id).await?;
    }
    let files = crate::tickets::check_uploads(state, uploads).await?;
    let mut stored = Vec::new();
    for (accepted, bytes) in &files {
        let sha = state.files.put(bytes).await.map_err(|e| {
            tracing::error!(error = %e, "storing a review file");
            AppError::internal()
        })?;
        stored.push((accepted, bytes.len() as i64, sha));
    }
    let mut tx = state.db.begin().await?;
    let review = db::review(&mut tx, &orgs, review_id).await?;
    let mut ids = Vec::new();
    for (accepted, size, sha) in &stored {
        ids.push(
            db::insert_file(
                &mut tx,
                review_id,
                &accepted.filename,
                accepted.content_type,
                *size,
                sha,
                who.person.id,
            )
            .await?,
        );
    }
    append(
        &mut tx,
        actor,
        Event {
            action: "problem_review.upload",
            entity_type: "problem_review",
            entity_id: Some(review_id.to_string()),
            organization_id: Some(review.organization_id),
            detail: json!({"files": stored.iter().map(|(a, _, _)| a.filename.clone()).collect::<Vec<_>>()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ids)
}

pub async fn file(
    state: &AppState,
    who: &Identity,
    review_id: i64,
    file_id: i64,
) -> AppResult<(db::ReviewFile, Vec<u8>)> {
    let orgs = scope(state, who).await?;
    let mut conn = state.db.reader().acquire().await?;
    db::review(&mut conn, &orgs, review_id).await?;
    let f = db::file(&mut conn, review_id, file_id).await?;
    let bytes = state.files.read(&f.sha256).await.map_err(|e| {
        tracing::error!(error = %e, "review file missing from the file store");
        AppError::not_found()
    })?;
    Ok((f, bytes))
}
