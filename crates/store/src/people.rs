//! People, their roles at organizations, and training records.
use crate::error::{StoreError, StoreResult};
use crate::{now_db, scope};
use domain::person::PersonFields;
use domain::policy::{Grant, OrgScope, Principal};
use domain::role::{Role, RoleStatus, TrainingModule, status_for};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Person {
    pub id: i64,
    pub organization_id: i64,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub locale: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub active: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl Person {
    pub fn is_active(&self) -> bool {
        self.active != 0
    }
}

const COLUMNS: &str = "p.id, p.organization_id, p.email, p.display_name, p.phone, p.locale, p.active, p.created_at, p.updated_at";

pub async fn create(
    conn: &mut AnyConnection,
    organization_id: i64,
    fields: &PersonFields,
    password_hash: Option<&str>,
) -> StoreResult<i64> {
    let now = now_db();
    sqlx::query_scalar(
        "INSERT INTO people (organization_id, email, display_name, phone, locale, password_hash, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
    )
    .bind(organization_id)
    .bind(fields.email.as_str())
    .bind(&fields.display_name)
    .bind(&fields.phone)
    .bind(fields.locale.as_str())
    .bind(password_hash)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("email_taken"))
}

/// Updates name, email, phone, language and whether the account is active. Returns the
/// person as they were.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &OrgScope,
    id: i64,
    fields: &PersonFields,
    active: bool,
) -> StoreResult<Person> {
    let before = get(conn, scope, id).await?;
    sqlx::query(
        "UPDATE people SET email = $1, display_name = $2, phone = $3, locale = $4, active = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(fields.email.as_str())
    .bind(&fields.display_name)
    .bind(&fields.phone)
    .bind(fields.locale.as_str())
    .bind(active as i64)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::unique_as("email_taken"))?;
    if !active {
        crate::auth::end_sessions(conn, id).await?;
    }
    Ok(before)
}

pub async fn set_locale(conn: &mut AnyConnection, id: i64, locale: &str) -> StoreResult<()> {
    sqlx::query("UPDATE people SET locale = $1, updated_at = $2 WHERE id = $3")
        .bind(locale)
        .bind(now_db())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, scope: &OrgScope, id: i64) -> StoreResult<Person> {
    let sql = format!(
        "SELECT {COLUMNS} FROM people p WHERE p.id = $1 AND {}",
        scope::condition(scope, "p.organization_id", Some("p.id"))
    );
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub struct PeopleFilter {
    pub organization_id: Option<i64>,
    /// Matches name or email, case-insensitively.
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &OrgScope,
    filter: &PeopleFilter,
) -> StoreResult<Vec<Person>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM people p
         WHERE {}
           AND ($1 IS NULL OR p.organization_id = $1)
           AND ($2 IS NULL OR LOWER(p.display_name) LIKE $2 OR p.email LIKE $2)
         ORDER BY p.display_name, p.id LIMIT $3 OFFSET $4",
        scope::condition(scope, "p.organization_id", Some("p.id"))
    );
    let like = filter
        .q
        .as_ref()
        .map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")));
    Ok(sqlx::query_as(&sql)
        .bind(filter.organization_id)
        .bind(like)
        .bind(filter.limit.clamp(1, 500))
        .bind(filter.offset.max(0))
        .fetch_all(&mut *conn)
        .await?)
}

/// What sign-in needs to know about an account. Not scoped: used before anyone is signed in.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    pub id: i64,
    pub organization_id: i64,
    pub email: String,
    pub locale: String,
    pub password_hash: Option<String>,
    pub active: i64,
    pub failed_sign_ins: i64,
    pub locked_until: Option<String>,
}

pub async fn credentials_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> StoreResult<Option<Credentials>> {
    Ok(sqlx::query_as(
        "SELECT id, organization_id, email, locale, password_hash, active, failed_sign_ins, locked_until FROM people WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn set_password(conn: &mut AnyConnection, id: i64, hash: &str) -> StoreResult<()> {
    sqlx::query("UPDATE people SET password_hash = $1, failed_sign_ins = 0, locked_until = NULL, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now_db())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Counts a failed sign-in; returns the new count. Locks the account until `lock_until`
/// when the count reaches `threshold`.
pub async fn record_failed_sign_in(
    conn: &mut AnyConnection,
    id: i64,
    threshold: i64,
    lock_until: &str,
) -> StoreResult<i64> {
    let count: i64 = sqlx::query_scalar("UPDATE people SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1 RETURNING failed_sign_ins")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if count >= threshold {
        sqlx::query("UPDATE people SET locked_until = $1, failed_sign_ins = 0 WHERE id = $2")
            .bind(lock_until)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(count)
}

pub async fn record_sign_in(conn: &mut AnyConnection, id: i64) -> StoreResult<()> {
    sqlx::query("UPDATE people SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct RoleAssignment {
    pub id: i64,
    pub person_id: i64,
    pub organization_id: i64,
    pub role: String,
    /// `active`, or `pending_training` until the required training is recorded.
    pub status: String,
    pub granted_by: Option<i64>,
    pub granted_at: String,
}

pub async fn roles_of(
    conn: &mut AnyConnection,
    person_id: i64,
) -> StoreResult<Vec<RoleAssignment>> {
    Ok(sqlx::query_as(
        "SELECT id, person_id, organization_id, role, status, granted_by, granted_at FROM role_assignments WHERE person_id = $1 ORDER BY id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn trainings_of(
    conn: &mut AnyConnection,
    person_id: i64,
) -> StoreResult<Vec<TrainingModule>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT module FROM trainings WHERE person_id = $1")
        .bind(person_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|m| TrainingModule::parse(m))
        .collect())
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct TrainingRecord {
    pub module: String,
    pub completed_on: String,
    pub recorded_by: Option<i64>,
}

pub async fn training_records(
    conn: &mut AnyConnection,
    person_id: i64,
) -> StoreResult<Vec<TrainingRecord>> {
    Ok(sqlx::query_as("SELECT module, completed_on, recorded_by FROM trainings WHERE person_id = $1 ORDER BY module")
        .bind(person_id)
        .fetch_all(&mut *conn)
        .await?)
}

/// Grants a role; it is active at once unless training is still missing.
pub async fn grant_role(
    conn: &mut AnyConnection,
    person_id: i64,
    organization_id: i64,
    role: Role,
    granted_by: Option<i64>,
) -> StoreResult<RoleAssignment> {
    let completed = trainings_of(conn, person_id).await?;
    let status = status_for(role, &completed);
    sqlx::query_as(
        "INSERT INTO role_assignments (person_id, organization_id, role, status, granted_by, granted_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, person_id, organization_id, role, status, granted_by, granted_at",
    )
    .bind(person_id)
    .bind(organization_id)
    .bind(role.as_str())
    .bind(status.as_str())
    .bind(granted_by)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("role_already_granted"))
}

pub async fn revoke_role(
    conn: &mut AnyConnection,
    person_id: i64,
    role: Role,
) -> StoreResult<RoleAssignment> {
    sqlx::query_as(
        "DELETE FROM role_assignments WHERE person_id = $1 AND role = $2
         RETURNING id, person_id, organization_id, role, status, granted_by, granted_at",
    )
    .bind(person_id)
    .bind(role.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Records a completed training and activates the roles it was holding back.
/// Returns the roles that became active.
pub async fn record_training(
    conn: &mut AnyConnection,
    person_id: i64,
    module: TrainingModule,
    completed_on: &str,
    recorded_by: Option<i64>,
) -> StoreResult<Vec<Role>> {
    sqlx::query(
        "INSERT INTO trainings (person_id, module, completed_on, recorded_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (person_id, module) DO UPDATE SET completed_on = $3, recorded_by = $4",
    )
    .bind(person_id)
    .bind(module.as_str())
    .bind(completed_on)
    .bind(recorded_by)
    .execute(&mut *conn)
    .await?;
    let completed = trainings_of(conn, person_id).await?;
    let mut activated = Vec::new();
    for assignment in roles_of(conn, person_id).await? {
        let Some(role) = Role::parse(&assignment.role) else {
            continue;
        };
        if assignment.status == RoleStatus::PendingTraining.as_str()
            && status_for(role, &completed) == RoleStatus::Active
        {
            sqlx::query("UPDATE role_assignments SET status = 'active' WHERE id = $1")
                .bind(assignment.id)
                .execute(&mut *conn)
                .await?;
            activated.push(role);
        }
    }
    Ok(activated)
}

/// Has the organization's privacy contact completed e-learning? LRAs may create accounts
/// only then (actors.md, training prerequisites).
pub async fn privacy_contact_trained(
    conn: &mut AnyConnection,
    organization_id: i64,
) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM role_assignments r JOIN trainings t ON t.person_id = r.person_id AND t.module = 'elearning'
         WHERE r.organization_id = $1 AND r.role = 'privacy_contact'",
    )
    .bind(organization_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// Loads the acting principal: an active person with the roles in force.
pub async fn principal(conn: &mut AnyConnection, person_id: i64) -> StoreResult<Option<Principal>> {
    let person: Option<(i64, i64)> =
        sqlx::query_as("SELECT organization_id, active FROM people WHERE id = $1")
            .bind(person_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((organization_id, 1)) = person else {
        return Ok(None);
    };
    let operator_org_id = crate::orgs::operator_id(conn).await?.unwrap_or(-1);
    let grants = roles_of(conn, person_id)
        .await?
        .into_iter()
        .filter(|a| a.status == RoleStatus::Active.as_str())
        .filter_map(|a| {
            Role::parse(&a.role).map(|role| Grant {
                organization_id: a.organization_id,
                role,
            })
        })
        .collect();
    Ok(Some(Principal {
        person_id,
        organization_id,
        operator_org_id,
        grants,
    }))
}

/// The principal of a person already loaded, given the operator's organization id (which
/// callers cache): one query for the roles in force.
pub async fn principal_of(
    conn: &mut AnyConnection,
    person: &Person,
    operator_org_id: i64,
) -> StoreResult<Option<Principal>> {
    if !person.is_active() {
        return Ok(None);
    }
    let grants = roles_of(conn, person.id)
        .await?
        .into_iter()
        .filter(|a| a.status == RoleStatus::Active.as_str())
        .filter_map(|a| {
            Role::parse(&a.role).map(|role| Grant {
                organization_id: a.organization_id,
                role,
            })
        })
        .collect();
    Ok(Some(Principal {
        person_id: person.id,
        organization_id: person.organization_id,
        operator_org_id,
        grants,
    }))
}

/// People holding `role` at an organization, for routing (e.g. the LRAs who receive
/// credential requests).
pub async fn holders_of(
    conn: &mut AnyConnection,
    organization_id: i64,
    role: Role,
) -> StoreResult<Vec<Person>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM people p JOIN role_assignments r ON r.person_id = p.id
         WHERE r.organization_id = $1 AND r.role = $2 AND r.status = 'active' AND p.active = 1 ORDER BY p.id"
    );
    Ok(sqlx::query_as(&sql)
        .bind(organization_id)
        .bind(role.as_str())
        .fetch_all(&mut *conn)
        .await?)
}

/// How a request proves who it is.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// An API bearer token.
    Token(&'a str),
    /// A session cookie.
    Session(&'a str),
    /// The sender of a mail the desk received (no secret: what the mail may do is what
    /// this person may do in the portal).
    MailSender(&'a str),
}

/// The person behind a credential, with their active grants, read in one statement (this
/// runs on every request).
#[derive(Debug, Clone)]
pub struct Caller {
    pub person: Person,
    /// The token's id and last use, for bearer tokens.
    pub token: Option<crate::auth::LiveToken>,
    /// `None` when the person is deactivated.
    pub principal: Option<Principal>,
}

#[derive(FromRow)]
struct CallerRow {
    credential_id: Option<i64>,
    last_used_at: Option<String>,
    #[sqlx(flatten)]
    person: Person,
    role_organization_id: Option<i64>,
    role: Option<String>,
}

/// Resolves a credential. `Ok(None)` when it is unknown, revoked or expired.
pub async fn caller(
    conn: &mut AnyConnection,
    credential: Credential<'_>,
    operator_org_id: i64,
) -> StoreResult<Option<Caller>> {
    let roles = "LEFT JOIN role_assignments r ON r.person_id = p.id AND r.status = 'active'";
    let rows: Vec<CallerRow> = match credential {
        Credential::Token(secret) => {
            let sql = format!(
                "SELECT k.id AS credential_id, k.last_used_at, {COLUMNS},
                        r.organization_id AS role_organization_id, r.role
                 FROM api_tokens k JOIN people p ON p.id = k.person_id {roles}
                 WHERE k.token_hash = $1 AND k.revoked_at IS NULL ORDER BY r.id"
            );
            sqlx::query_as(&sql)
                .bind(crate::secret_hash(secret))
                .fetch_all(&mut *conn)
                .await?
        }
        Credential::Session(secret) => {
            let sql = format!(
                "SELECT CAST(NULL AS BIGINT) AS credential_id, CAST(NULL AS TEXT) AS last_used_at, {COLUMNS},
                        r.organization_id AS role_organization_id, r.role
                 FROM sessions s JOIN people p ON p.id = s.person_id {roles}
                 WHERE s.token_hash = $1 AND s.expires_at > $2 ORDER BY r.id"
            );
            sqlx::query_as(&sql)
                .bind(crate::secret_hash(secret))
                .bind(now_db())
                .fetch_all(&mut *conn)
                .await?
        }
        Credential::MailSender(address) => {
            let sql = format!(
                "SELECT CAST(NULL AS BIGINT) AS credential_id, CAST(NULL AS TEXT) AS last_used_at, {COLUMNS},
                        r.organization_id AS role_organization_id, r.role
                 FROM people p {roles}
                 WHERE LOWER(p.email) = LOWER($1) ORDER BY r.id"
            );
            sqlx::query_as(&sql)
                .bind(address.trim())
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let person = first.person.clone();
    let token = first.credential_id.map(|id| crate::auth::LiveToken {
        id,
        person_id: person.id,
        last_used_at: first.last_used_at.clone(),
    });
    let principal = person.is_active().then(|| Principal {
        person_id: person.id,
        organization_id: person.organization_id,
        operator_org_id,
        grants: rows
            .iter()
            .filter_map(|row| {
                Some(Grant {
                    organization_id: row.role_organization_id?,
                    role: Role::parse(row.role.as_deref()?)?,
                })
            })
            .collect(),
    });
    Ok(Some(Caller {
        person,
        token,
        principal,
    }))
}
