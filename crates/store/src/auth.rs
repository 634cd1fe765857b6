//! Sessions, API tokens, password-reset links and OpenID Connect login states.
//! Secrets are returned once and stored only as SHA-256 hashes.
use crate::error::{StoreError, StoreResult};
use crate::{now_db, random_token, secret_hash};
use domain::time::{now, to_db};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

pub const SESSION_HOURS: i64 = 12;
pub const RESET_MINUTES: i64 = 60;

fn later(span: jiff::SignedDuration) -> String {
    to_db(now() + span)
}

/// Creates a session; returns the cookie value.
pub async fn create_session(
    conn: &mut AnyConnection,
    person_id: i64,
    user_agent: Option<&str>,
) -> StoreResult<String> {
    let token = random_token(32);
    let now = now_db();
    sqlx::query(
        "INSERT INTO sessions (token_hash, person_id, created_at, last_seen_at, expires_at, user_agent) VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(secret_hash(&token))
    .bind(person_id)
    .bind(&now)
    .bind(later(jiff::SignedDuration::from_hours(SESSION_HOURS)))
    .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// The person behind a live session cookie.
pub async fn session_person(conn: &mut AnyConnection, token: &str) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT person_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(secret_hash(token))
    .bind(now_db())
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn end_session(conn: &mut AnyConnection, token: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(secret_hash(token))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn end_sessions(conn: &mut AnyConnection, person_id: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn purge_expired(conn: &mut AnyConnection) -> StoreResult<u64> {
    let now = now_db();
    let mut n = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(&now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    n += sqlx::query("DELETE FROM oidc_logins WHERE expires_at <= $1")
        .bind(&now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n)
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it by.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

pub const TOKEN_PREFIX: &str = "trg_";

/// Creates an API token; the secret is returned once.
pub async fn create_token(
    conn: &mut AnyConnection,
    person_id: i64,
    name: &str,
) -> StoreResult<(ApiToken, String)> {
    let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
    let token: ApiToken = sqlx::query_as(
        "INSERT INTO api_tokens (person_id, name, prefix, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, prefix, created_at, last_used_at, revoked_at",
    )
    .bind(person_id)
    .bind(name)
    .bind(&secret[..TOKEN_PREFIX.len() + 6])
    .bind(secret_hash(&secret))
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?;
    Ok((token, secret))
}

pub async fn tokens_of(conn: &mut AnyConnection, person_id: i64) -> StoreResult<Vec<ApiToken>> {
    Ok(sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE person_id = $1 ORDER BY id DESC",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Revokes one of the person's own tokens.
pub async fn revoke_token(
    conn: &mut AnyConnection,
    person_id: i64,
    token_id: i64,
) -> StoreResult<ApiToken> {
    sqlx::query_as(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND person_id = $3 AND revoked_at IS NULL
         RETURNING id, name, prefix, created_at, last_used_at, revoked_at",
    )
    .bind(now_db())
    .bind(token_id)
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A live bearer token: its id, its person, and when it was last used.
#[derive(Debug, Clone, FromRow)]
pub struct LiveToken {
    pub id: i64,
    pub person_id: i64,
    pub last_used_at: Option<String>,
}

impl LiveToken {
    /// Last use is recorded at most once a minute, to keep writes off the request path.
    pub fn needs_touch(&self) -> bool {
        let stale = to_db(now() - jiff::SignedDuration::from_mins(1));
        self.last_used_at.as_ref().is_none_or(|t| *t < stale)
    }
}

/// The person behind a bearer token that is not revoked.
pub async fn token_person(
    conn: &mut AnyConnection,
    secret: &str,
) -> StoreResult<Option<LiveToken>> {
    Ok(sqlx::query_as(
        "SELECT id, person_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(secret_hash(secret))
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn touch_token(conn: &mut AnyConnection, token_id: i64) -> StoreResult<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now_db())
        .bind(token_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Creates a one-time reset link secret, valid for an hour. Earlier unused links of the
/// person stop working.
pub async fn create_reset(conn: &mut AnyConnection, person_id: i64) -> StoreResult<String> {
    let now = now_db();
    sqlx::query("UPDATE password_resets SET used_at = $1 WHERE person_id = $2 AND used_at IS NULL")
        .bind(&now)
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    let secret = random_token(32);
    sqlx::query("INSERT INTO password_resets (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(secret_hash(&secret))
        .bind(person_id)
        .bind(&now)
        .bind(later(jiff::SignedDuration::from_mins(RESET_MINUTES)))
        .execute(&mut *conn)
        .await?;
    Ok(secret)
}

/// Why a reset link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetProblem {
    Unknown,
    Expired,
    Used,
}

impl ResetProblem {
    pub fn code(self) -> &'static str {
        match self {
            ResetProblem::Unknown => "reset_link_invalid",
            ResetProblem::Expired => "reset_link_expired",
            ResetProblem::Used => "reset_link_used",
        }
    }
}

/// Checks a reset link; with `consume`, marks it used (in the caller's transaction).
pub async fn check_reset(
    conn: &mut AnyConnection,
    secret: &str,
    consume: bool,
) -> StoreResult<Result<i64, ResetProblem>> {
    let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT person_id, expires_at, used_at FROM password_resets WHERE token_hash = $1",
    )
    .bind(secret_hash(secret))
    .fetch_optional(&mut *conn)
    .await?;
    let Some((person_id, expires_at, used_at)) = row else {
        return Ok(Err(ResetProblem::Unknown));
    };
    if used_at.is_some() {
        return Ok(Err(ResetProblem::Used));
    }
    if expires_at <= now_db() {
        return Ok(Err(ResetProblem::Expired));
    }
    if consume {
        let done = sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now_db())
        .bind(secret_hash(secret))
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(Err(ResetProblem::Used));
        }
    }
    Ok(Ok(person_id))
}

/// Test support and admin tooling: make a reset link expire now.
pub async fn expire_resets_of(conn: &mut AnyConnection, person_id: i64) -> StoreResult<()> {
    sqlx::query("UPDATE password_resets SET expires_at = $1 WHERE person_id = $2")
        .bind(now_db())
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct OidcLogin {
    pub state: String,
    pub organization_id: i64,
    pub pkce_verifier: String,
    pub nonce: String,
}

pub async fn save_oidc_login(conn: &mut AnyConnection, login: &OidcLogin) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO oidc_logins (state, organization_id, pkce_verifier, nonce, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&login.state)
    .bind(login.organization_id)
    .bind(&login.pkce_verifier)
    .bind(&login.nonce)
    .bind(now_db())
    .bind(later(jiff::SignedDuration::from_mins(10)))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes (and deletes) a pending OIDC login: each state works once.
pub async fn take_oidc_login(
    conn: &mut AnyConnection,
    state: &str,
) -> StoreResult<Option<OidcLogin>> {
    Ok(sqlx::query_as(
        "DELETE FROM oidc_logins WHERE state = $1 AND expires_at > $2 RETURNING state, organization_id, pkce_verifier, nonce",
    )
    .bind(state)
    .bind(now_db())
    .fetch_optional(&mut *conn)
    .await?)
}
