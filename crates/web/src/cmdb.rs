//! The configuration items (a simple CMDB): catalogue editors keep them, agents read them
//! and see what an outage of one reaches. Every change is audited.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::service::event;
use domain::cmdb::{self, CiKind, CiStatus, CodeProblem, Relation, RelationKind};
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use store::audit::{Actor, append};
use store::cmdb::{self as db, Item, RelationRow};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// 1 to 60 lowercase letters, digits, dots, dashes, underscores.
    pub code: String,
    /// application, interface, network_connection, certificate, environment, site, server.
    pub kind: String,
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub service_id: Option<i64>,
    #[serde(default)]
    pub owner_organization_id: Option<i64>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub site: Option<String>,
    /// active (default) or retired.
    #[serde(default)]
    pub status: Option<String>,
    /// A certificate's expiry, RFC 3339.
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationInput {
    /// The other item: this item needs it.
    pub to_id: i64,
    /// depends_on, runs_on, connects_to or part_of.
    pub kind: String,
}

/// An item with its relations both ways and what an outage of it reaches.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemDetail {
    pub item: Item,
    /// What this item needs.
    pub needs: Vec<RelationRow>,
    /// What needs this item.
    pub needed_by: Vec<RelationRow>,
    /// Every item an outage of this one reaches, nearest first.
    pub impacted: Vec<Impacted>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Impacted {
    pub id: i64,
    pub code: String,
    pub distance: usize,
}

fn line(value: &str, field: &'static str, max: usize, required: bool) -> AppResult<String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(AppError::invalid("required", field));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid("too_long", field));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid("invalid_characters", field));
    }
    Ok(value.to_owned())
}

fn optional(value: &Option<String>, field: &'static str) -> AppResult<Option<String>> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(Some(line(v, field, 100, false)?)),
        _ => Ok(None),
    }
}

struct Checked {
    code: String,
    kind: CiKind,
    name_en: String,
    name_fr: String,
    description: String,
    environment: Option<String>,
    site: Option<String>,
    status: CiStatus,
    expires_at: Option<String>,
}

async fn check(conn: &mut store::Conn, input: &ItemInput) -> AppResult<Checked> {
    let code = cmdb::normalize_code(&input.code).map_err(|p| match p {
        CodeProblem::Empty => AppError::invalid("required", "code"),
        CodeProblem::TooLong => AppError::invalid("too_long", "code"),
        CodeProblem::InvalidCharacters => AppError::invalid("invalid_characters", "code"),
    })?;
    let kind = CiKind::from_str(input.kind.trim())
        .map_err(|_| AppError::invalid("invalid_choice", "kind").with_arg("value", &input.kind))?;
    let status = match &input.status {
        Some(s) if !s.trim().is_empty() => CiStatus::from_str(s.trim())
            .map_err(|_| AppError::invalid("invalid_choice", "status").with_arg("value", s))?,
        _ => CiStatus::Active,
    };
    let expires_at = match &input.expires_at {
        Some(v) if !v.trim().is_empty() => Some(domain::time::to_db(
            v.trim()
                .parse::<jiff::Timestamp>()
                .map_err(|_| AppError::invalid("invalid_datetime", "expires_at"))?,
        )),
        _ => None,
    };
    if let Some(service) = input.service_id
        && !store::orgs::services(conn)
            .await?
            .iter()
            .any(|s| s.id == service)
    {
        return Err(AppError::invalid("unknown_service", "service_id"));
    }
    if let Some(org) = input.owner_organization_id
        && store::orgs::get(conn, &domain::policy::OrgScope::All, org)
            .await
            .is_err()
    {
        return Err(AppError::invalid(
            "unknown_organization",
            "owner_organization_id",
        ));
    }
    Ok(Checked {
        code,
        kind,
        name_en: line(&input.name_en, "name_en", 200, true)?,
        name_fr: line(&input.name_fr, "name_fr", 200, true)?,
        description: line(&input.description, "description", 2000, false)?,
        environment: optional(&input.environment, "environment")?,
        site: optional(&input.site, "site")?,
        status,
        expires_at,
    })
}

fn fields<'a>(c: &'a Checked, input: &ItemInput) -> db::Fields<'a> {
    db::Fields {
        code: &c.code,
        kind: c.kind.as_str(),
        name_en: &c.name_en,
        name_fr: &c.name_fr,
        description: &c.description,
        service_id: input.service_id,
        owner_organization_id: input.owner_organization_id,
        environment: c.environment.as_deref(),
        site: c.site.as_deref(),
        status: c.status.as_str(),
        expires_at: c.expires_at.as_deref(),
    }
}

fn duplicate(e: store::StoreError) -> AppError {
    match e {
        store::StoreError::Conflict(_) => AppError::invalid("duplicate_code", "code"),
        other => other.into(),
    }
}

pub async fn list(state: &AppState, who: &Identity) -> AppResult<Vec<Item>> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::list(&mut conn).await?)
}

pub async fn create(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &ItemInput,
) -> AppResult<i64> {
    who.require(Action::EditCatalogue)?;
    let mut tx = state.db.begin().await?;
    let checked = check(&mut tx, input).await?;
    let id = db::insert(&mut tx, &fields(&checked, input))
        .await
        .map_err(duplicate)?;
    append(
        &mut tx,
        actor,
        event(
            "cmdb.create",
            "configuration_item",
            id,
            None,
            json!({"code": checked.code}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    input: &ItemInput,
) -> AppResult<()> {
    who.require(Action::EditCatalogue)?;
    let mut tx = state.db.begin().await?;
    let before = db::get(&mut tx, id).await?;
    let checked = check(&mut tx, input).await?;
    db::update(&mut tx, id, &fields(&checked, input))
        .await
        .map_err(duplicate)?;
    let after = db::get(&mut tx, id).await?;
    append(
        &mut tx,
        actor,
        event(
            "cmdb.update",
            "configuration_item",
            id,
            None,
            crate::service::diff(&json!(before), &json!(after)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn relation_of(row: &RelationRow) -> Option<Relation> {
    Some(Relation {
        from: row.from_id,
        to: row.to_id,
        kind: RelationKind::from_str(&row.kind).ok()?,
    })
}

pub async fn detail(state: &AppState, who: &Identity, id: i64) -> AppResult<ItemDetail> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let item = db::get(&mut conn, id).await?;
    let all = db::list(&mut conn).await?;
    let rows = db::relations(&mut conn).await?;
    let relations: Vec<Relation> = rows.iter().filter_map(relation_of).collect();
    let code_of = |id: i64| {
        all.iter()
            .find(|i| i.id == id)
            .map(|i| i.code.clone())
            .unwrap_or_default()
    };
    Ok(ItemDetail {
        needs: rows.iter().filter(|r| r.from_id == id).cloned().collect(),
        needed_by: rows.iter().filter(|r| r.to_id == id).cloned().collect(),
        impacted: cmdb::impacted_by(&relations, id)
            .into_iter()
            .map(|(id, distance)| Impacted {
                id,
                code: code_of(id),
                distance,
            })
            .collect(),
        item,
    })
}

pub async fn relate(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    from: i64,
    input: &RelationInput,
) -> AppResult<()> {
    who.require(Action::EditCatalogue)?;
    let kind = RelationKind::from_str(input.kind.trim())
        .map_err(|_| AppError::invalid("invalid_choice", "kind").with_arg("value", &input.kind))?;
    let mut tx = state.db.begin().await?;
    db::get(&mut tx, from).await?;
    db::get(&mut tx, input.to_id)
        .await
        .map_err(|_| AppError::invalid("unknown_configuration_item", "to_id"))?;
    let existing: Vec<Relation> = db::relations(&mut tx)
        .await?
        .iter()
        .filter_map(relation_of)
        .collect();
    cmdb::check_relation(
        &existing,
        Relation {
            from,
            to: input.to_id,
            kind,
        },
    )
    .map_err(|p| AppError::invalid(p.code(), "to_id"))?;
    if db::add_relation(&mut tx, from, input.to_id, kind.as_str()).await? {
        append(
            &mut tx,
            actor,
            event(
                "cmdb.relate",
                "configuration_item",
                from,
                None,
                json!({"to": input.to_id, "kind": kind.as_str()}),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn unrelate(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    from: i64,
    input: &RelationInput,
) -> AppResult<()> {
    who.require(Action::EditCatalogue)?;
    let mut tx = state.db.begin().await?;
    if !db::remove_relation(&mut tx, from, input.to_id, input.kind.trim()).await? {
        return Err(AppError::not_found());
    }
    append(
        &mut tx,
        actor,
        event(
            "cmdb.unrelate",
            "configuration_item",
            from,
            None,
            json!({"to": input.to_id, "kind": input.kind.trim()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
