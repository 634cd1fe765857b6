//! Loading policy packs: from a file (`triage policy load`), from the admin page, and the
//! shipped packs on a database that has none.
use anyhow::Context;
use domain::policy_pack::PolicyPack;
use serde_json::json;
use store::Db;
use store::audit::{Actor, Event, append};

/// Checks a pack file and stores it as a new version; `select` also makes it the pack new
/// tickets are opened under. A file that does not pass the checks changes nothing.
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
    Invalid(domain::policy_pack::PolicyError),
    #[error("{0}")]
    Store(store::StoreError),
}

/// On a database without policy packs, stores the shipped ones (version 1 of `priority` and
/// `severity`) and selects `priority`.
pub async fn ensure_shipped(db: &Db) -> anyhow::Result<()> {
    let mut conn = db.reader().acquire().await?;
    let existing = store::policy_packs::list(&mut conn).await?;
    drop(conn);
    if !existing.is_empty() {
        return Ok(());
    }
    let actor = Actor::system("install");
    for code in domain::policy_pack::SHIPPED_PACKS {
        let text = domain::policy_pack::shipped_pack_text(code)
            .with_context(|| format!("shipped pack {code}"))?;
        match load(db, text, &actor, code == "priority").await {
            Ok(_) => {}
            // Another node starting at the same moment loaded it first.
            Err(LoadError::Store(store::StoreError::Conflict(_))) => {}
            Err(e) => return Err(anyhow::anyhow!("shipped pack {code}: {e}")),
        }
    }
    Ok(())
}
