//! "Request portal credentials": a public form whose requests reach the organization's LRAs.
use crate::error::{StoreError, StoreResult};
use crate::{now_db, scope};
use domain::policy::OrgScope;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct CredentialRequest {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub job_title: Option<String>,
    pub reason: String,
    pub status: String,
    pub created_at: String,
}

pub struct NewCredentialRequest<'a> {
    pub organization_id: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub job_title: Option<&'a str>,
    pub reason: &'a str,
}

pub async fn create(conn: &mut AnyConnection, req: &NewCredentialRequest<'_>) -> StoreResult<i64> {
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM organizations WHERE id = $1 AND active = 1 AND is_operator = 0",
    )
    .bind(req.organization_id)
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_none() {
        return Err(StoreError::Invalid(domain::DomainError::field(
            "unknown_organization",
            "organization_id",
        )));
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO credential_requests (organization_id, name, email, phone, job_title, reason, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'new', $7) RETURNING id",
    )
    .bind(req.organization_id)
    .bind(req.name)
    .bind(req.email)
    .bind(req.phone)
    .bind(req.job_title)
    .bind(req.reason)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &OrgScope,
) -> StoreResult<Vec<CredentialRequest>> {
    let sql = format!(
        "SELECT id, organization_id, name, email, phone, job_title, reason, status, created_at
         FROM credential_requests WHERE {} ORDER BY id DESC LIMIT 200",
        scope::condition(scope, "organization_id", None)
    );
    Ok(sqlx::query_as(&sql).fetch_all(&mut *conn).await?)
}
