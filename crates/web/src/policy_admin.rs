//! Policy administration, shared by the admin page, the API and `triage policy`: loading and
//! selecting policy pack versions (each audited), the shipped packs on a new database, and
//! one-off calendar closures.
//!
//! Closures are calendar data kept outside pack versions: a ticket keeps the pack version it
//! was opened under, but a closure added today also moves the due times of the open tickets
//! whose calendar it closes (the office is closed that day whatever the pack version). After
//! a closure is added or removed, the stored clocks of open tickets are computed again.
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::sla::Packs;
use domain::calendar::{Calendar, FIRST_SUPPORTED_YEAR, LAST_SUPPORTED_YEAR, SHIPPED_CALENDARS};
use domain::policy_pack::{PolicyError, PolicyPack};
use serde::Deserialize;
use serde_json::json;
use store::Db;
use store::audit::{Actor, Event, append};
use store::calendar_closures::CalendarClosure;

/// Checks a pack file and stores it as a new version; `select` also makes it the pack new
/// tickets are opened under. A file that does not pass the checks changes nothing. Callers
/// that keep a [`Packs`] cache call [`Packs::selection_changed`] after selecting.
pub async fn load(
    db: &Db,
    text: &str,
    actor: &Actor,
    select: bool,
) -> Result<(i64, PolicyPack), LoadError> {
    let pack = PolicyPack::parse_toml(text).map_err(LoadError::Invalid)?;
    let mut tx = db.begin().await.map_err(LoadError::Store)?;
    let id = store::policy_packs::insert(
        &mut tx,
        &store::policy_packs::NewPack {
            code: pack.code(),
            version: pack.version() as i64,
            name_en: pack.name_en(),
            name_fr: pack.name_fr(),
            source: text,
            loaded_by: &actor.label,
        },
    )
    .await
    .map_err(LoadError::Store)?;
    append(
        &mut tx,
        actor,
        Event {
            action: "policy.load",
            entity_type: "policy_pack",
            entity_id: Some(format!("{}@{}", pack.code(), pack.version())),
            organization_id: None,
            detail: json!({"id": id}),
        },
    )
    .await
    .map_err(LoadError::Store)?;
    if select {
        select_in(&mut tx, actor, id, &pack).await?;
    }
    tx.commit().await.map_err(|e| LoadError::Store(e.into()))?;
    Ok((id, pack))
}

async fn select_in(
    tx: &mut store::Conn,
    actor: &Actor,
    id: i64,
    pack: &PolicyPack,
) -> Result<(), LoadError> {
    store::policy_packs::select(tx, id)
        .await
        .map_err(LoadError::Store)?;
    append(
        tx,
        actor,
        Event {
            action: "policy.select",
            entity_type: "policy_pack",
            entity_id: Some(format!("{}@{}", pack.code(), pack.version())),
            organization_id: None,
            detail: json!({"id": id}),
        },
    )
    .await
    .map_err(LoadError::Store)?;
    Ok(())
}

/// Selects a stored pack version for new tickets.
pub async fn select(db: &Db, actor: &Actor, id: i64) -> Result<PolicyPack, LoadError> {
    let mut tx = db.begin().await.map_err(LoadError::Store)?;
    let stored = store::policy_packs::get(&mut tx, id)
        .await
        .map_err(LoadError::Store)?;
    let pack = PolicyPack::parse_toml(&stored.source).map_err(LoadError::Invalid)?;
    select_in(&mut tx, actor, id, &pack).await?;
    tx.commit().await.map_err(|e| LoadError::Store(e.into()))?;
    Ok(pack)
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Invalid(PolicyError),
    #[error("{0}")]
    Store(store::StoreError),
}

impl From<LoadError> for AppError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Invalid(e) => policy_error(&e),
            LoadError::Store(e) => e.into(),
        }
    }
}

/// A refused pack file as a 422 `invalid_policy`: the message names the line and field, and
/// `detail` carries them (`line`, `field`, the problem's `code`, and the English `message`).
pub fn policy_error(e: &PolicyError) -> AppError {
    let path = if e.field().is_empty() {
        "none".to_owned()
    } else {
        e.field().to_owned()
    };
    AppError::invalid("invalid_policy", "source")
        .with_arg(
            "line",
            e.line()
                .map_or_else(|| "none".to_owned(), |l| l.to_string()),
        )
        .with_arg("path", path)
        .with_arg("problem", e.problem().to_string())
        .with_detail(json!({
            "line": e.line(),
            "field": e.field(),
            "code": e.code(),
            "message": e.to_string(),
        }))
}

/// On a database without policy packs, stores the shipped ones (version 1 of `priority` and
/// `severity`) and selects `priority`.
pub async fn ensure_shipped(db: &Db) -> Result<(), LoadError> {
    let mut conn = db
        .reader()
        .acquire()
        .await
        .map_err(|e| LoadError::Store(e.into()))?;
    let existing = store::policy_packs::list(&mut conn)
        .await
        .map_err(LoadError::Store)?;
    drop(conn);
    if !existing.is_empty() {
        return Ok(());
    }
    let actor = Actor::system("install");
    for code in domain::policy_pack::SHIPPED_PACKS {
        let Some(text) = domain::policy_pack::shipped_pack_text(code) else {
            continue;
        };
        match load(db, text, &actor, code == "priority").await {
            Ok(_) => {}
            // Another node starting at the same moment loaded it first.
            Err(LoadError::Store(store::StoreError::Conflict(_))) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

// ---------- calendar closures ----------

/// A closure to add: a date, the calendar it closes (empty or `all`: every calendar that
/// follows holiday rules), and its names.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureInput {
    /// `YYYY-MM-DD`, in the calendar's time zone.
    #[schema(example = "2026-12-31")]
    pub date: String,
    /// `business`, `lra-team`, `tier1`… or absent for every calendar that follows holiday
    /// rules (`24x7` has none).
    #[serde(default)]
    pub calendar: Option<String>,
    pub name_en: String,
    pub name_fr: String,
}

/// A closure added or removed, and how many open tickets had their clocks computed again.
pub struct ClosureChange {
    pub closure: CalendarClosure,
    pub recomputed: usize,
}

const MAX_CLOSURE_NAME_CHARS: usize = 200;

/// The calendars a closure may name: those that follow holiday rules, shipped first, then
/// those the stored packs define.
pub async fn closure_calendars(packs: &Packs, conn: &mut store::Conn) -> AppResult<Vec<Calendar>> {
    let mut out: Vec<Calendar> = SHIPPED_CALENDARS
        .iter()
        .filter_map(|name| domain::calendar::shipped_calendar(name))
        .filter(|c| !c.holiday_rules().is_empty())
        .cloned()
        .collect();
    for stored in store::policy_packs::list(conn).await? {
        let pack = packs.stored(conn, stored.id).await?;
        for calendar in pack.extra_calendars() {
            if !calendar.holiday_rules().is_empty()
                && out.iter().all(|c| c.name() != calendar.name())
            {
                out.push(calendar.clone());
            }
        }
    }
    Ok(out)
}

async fn check_closure(
    packs: &Packs,
    conn: &mut store::Conn,
    input: &ClosureInput,
) -> AppResult<(String, Option<String>, String, String)> {
    let date: jiff::civil::Date = input
        .date
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("invalid_date", "date"))?;
    if !(FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(&date.year()) {
        return Err(AppError::invalid("out_of_range", "date"));
    }
    let calendar = match input.calendar.as_deref().map(str::trim) {
        None | Some("") | Some("all") => None,
        Some(name) => {
            let known = closure_calendars(packs, conn).await?;
            if known.iter().all(|c| c.name() != name) {
                return Err(AppError::invalid("unknown_calendar", "calendar"));
            }
            Some(name.to_owned())
        }
    };
    let name = |field: &'static str, value: &str| -> AppResult<String> {
        let value = domain::text::required(field, value, MAX_CLOSURE_NAME_CHARS)?;
        if value.chars().any(char::is_control) {
            return Err(AppError::invalid("invalid_characters", field));
        }
        Ok(value)
    };
    let name_en = name("name_en", &input.name_en)?;
    let name_fr = name("name_fr", &input.name_fr)?;
    let (count, _) = store::calendar_closures::version(conn).await?;
    if count >= domain::calendar::MAX_CLOSURES as i64 {
        return Err(AppError::invalid("too_many", "date"));
    }
    Ok((date.to_string(), calendar, name_en, name_fr))
}

/// Adds a closure (audited), then computes the clocks of open tickets again.
pub async fn add_closure(
    state: &AppState,
    actor: &Actor,
    input: &ClosureInput,
) -> AppResult<ClosureChange> {
    let mut tx = state.db.begin().await?;
    let (date, calendar, name_en, name_fr) = check_closure(&state.packs, &mut tx, input).await?;
    let id = store::calendar_closures::insert(
        &mut tx,
        &store::calendar_closures::NewClosure {
            closed_on: &date,
            calendar: calendar.as_deref(),
            name_en: &name_en,
            name_fr: &name_fr,
            added_by: &actor.label,
        },
    )
    .await?;
    let closure = store::calendar_closures::get(&mut tx, id).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "calendar.closure.add",
            entity_type: "calendar_closure",
            entity_id: Some(id.to_string()),
            organization_id: None,
            detail: json!({"date": date, "calendar": calendar, "name_en": name_en, "name_fr": name_fr}),
        },
    )
    .await?;
    tx.commit().await?;
    state.packs.closures_changed();
    let recomputed = recompute_open_clocks(&state.db, &state.packs).await?;
    Ok(ClosureChange {
        closure,
        recomputed,
    })
}

/// Removes a closure (audited), then computes the clocks of open tickets again.
pub async fn remove_closure(state: &AppState, actor: &Actor, id: i64) -> AppResult<ClosureChange> {
    let mut tx = state.db.begin().await?;
    let closure = store::calendar_closures::delete(&mut tx, id).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "calendar.closure.remove",
            entity_type: "calendar_closure",
            entity_id: Some(id.to_string()),
            organization_id: None,
            detail: json!({
                "date": closure.closed_on, "calendar": closure.calendar,
                "name_en": closure.name_en, "name_fr": closure.name_fr,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    state.packs.closures_changed();
    let recomputed = recompute_open_clocks(&state.db, &state.packs).await?;
    Ok(ClosureChange {
        closure,
        recomputed,
    })
}

/// Tickets whose clocks are computed again per transaction.
const RECOMPUTE_BATCH: i64 = 100;

/// Computes again the stored clocks (and scheduled warnings) of every open ticket that has a
/// policy pack, in batches of [`RECOMPUTE_BATCH`], one transaction each. A ticket whose clock
/// cannot be computed is logged and skipped. Returns how many were computed.
pub async fn recompute_open_clocks(db: &Db, packs: &Packs) -> AppResult<usize> {
    let mut after = 0;
    let mut done = 0;
    loop {
        let mut tx = db.begin().await?;
        let ids = store::tickets::open_ids_with_policy(&mut tx, after, RECOMPUTE_BATCH).await?;
        let Some(&last) = ids.last() else {
            tx.commit().await?;
            break;
        };
        for id in ids {
            match crate::sla::refresh_with(packs, &mut tx, id).await {
                Ok(()) => done += 1,
                Err(e) => tracing::warn!(ticket = id, code = e.code, "clock not recomputed"),
            }
        }
        tx.commit().await?;
        after = last;
    }
    Ok(done)
}

/// The calendar named `name` among those closures may name.
pub async fn holiday_calendar(
    packs: &Packs,
    conn: &mut store::Conn,
    name: &str,
) -> AppResult<Calendar> {
    closure_calendars(packs, conn)
        .await?
        .into_iter()
        .find(|c| c.name() == name)
        .ok_or_else(|| AppError::invalid("unknown_calendar", "calendar"))
}
