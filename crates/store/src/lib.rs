//! Triage's data layer: one code path for SQLite (embedded default) and PostgreSQL,
//! chosen by the database URL.
//!
//! Every read of partner data takes an `OrgScope` from `domain::policy`, and the scope
//! becomes part of the query's WHERE clause: a caller cannot forget organization isolation.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod cab;
pub mod calendar_closures;
pub mod catalogue;
pub mod change_calendar;
pub mod change_outcomes;
pub mod changes;
pub mod cmdb;
pub mod credentials;
pub mod db;
pub mod error;
pub mod files;
pub mod freezes;
pub mod groups;
pub mod inbound;
pub mod jobs;
pub mod leases;
pub mod lists;
pub mod mail_templates;
pub mod major_incident_reports;
pub mod major_incidents;
pub mod orgs;
pub mod outbox;
pub mod passwords;
pub mod people;
pub mod policy_packs;
pub mod problem_trends;
pub mod problems;
pub mod scope;
pub mod settings;
pub mod status_page;
pub mod tickets;
pub mod webhooks;

pub use db::{Backend, Db};
pub use error::{StoreError, StoreResult};
pub use sqlx::AnyConnection as Conn;
pub use sqlx::Error as SqlxError;

/// Random URL-safe secret of `bytes` bytes.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Secrets (session ids, API tokens, reset links) are stored only as their SHA-256.
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(crate) fn now_db() -> String {
    domain::time::to_db(domain::time::now())
}
