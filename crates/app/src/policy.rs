//! Loading policy packs: from a file (`triage policy load`) and the shipped packs on a
//! database that has none. The logic is the web crate's (`web::policy_admin`), shared with
//! the admin page and the API; these are thin wrappers for the command line and start-up.
use domain::policy_pack::PolicyPack;
use store::Db;
use store::audit::Actor;

pub use web::policy_admin::LoadError;

/// Checks a pack file and stores it as a new version; `select` also makes it the pack new
/// tickets are opened under. A file that does not pass the checks changes nothing.
pub async fn load(
    db: &Db,
    text: &str,
    actor: &Actor,
    select: bool,
) -> Result<(i64, PolicyPack), LoadError> {
    web::policy_admin::load(db, text, actor, select).await
}

/// Selects a stored pack version for new tickets.
pub async fn select(db: &Db, actor: &Actor, id: i64) -> Result<PolicyPack, LoadError> {
    web::policy_admin::select(db, actor, id).await
}

/// On a database without policy packs, stores the shipped ones (version 1 of `priority` and
/// `severity`) and selects `priority`.
pub async fn ensure_shipped(db: &Db) -> anyhow::Result<()> {
    Ok(web::policy_admin::ensure_shipped(db).await?)
}
