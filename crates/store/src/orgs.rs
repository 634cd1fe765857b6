//! Organizations and the services they are live on.
use crate::error::{StoreError, StoreResult};
use crate::{now_db, scope};
use domain::org::{IdentityProvider, OrgFields, OrgType};
use domain::policy::OrgScope;
use domain::text::Email;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Organization {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub org_type: String,
    #[serde(serialize_with = "as_bool")]
    #[schema(value_type = bool)]
    pub is_operator: i64,
    #[serde(serialize_with = "as_bool")]
    #[schema(value_type = bool)]
    pub contributes_data: i64,
    pub identity_provider: String,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    /// Never serialised: only whether one is set.
    #[serde(skip)]
    pub oidc_client_secret: Option<String>,
    pub helpdesk_phone: Option<String>,
    pub helpdesk_email: Option<String>,
    pub escalation_title: Option<String>,
    pub escalation_name: Option<String>,
    pub escalation_email: Option<String>,
    pub escalation_mobile: Option<String>,
    pub after_hours_contacts: Option<String>,
    pub spoc_name: Option<String>,
    pub spoc_email: Option<String>,
    pub spoc_phone: Option<String>,
    pub ticket_number_format: Option<String>,
    pub distribution_list: Option<String>,
    #[serde(serialize_with = "as_bool")]
    #[schema(value_type = bool)]
    pub active: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub(crate) fn as_bool<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(*v != 0)
}

impl Organization {
    pub fn is_operator(&self) -> bool {
        self.is_operator != 0
    }
    pub fn contributes_data(&self) -> bool {
        self.contributes_data != 0
    }
    pub fn org_type(&self) -> Option<OrgType> {
        OrgType::parse(&self.org_type)
    }
    pub fn identity_provider(&self) -> Option<IdentityProvider> {
        IdentityProvider::parse(&self.identity_provider)
    }
    pub fn oidc_enabled(&self) -> bool {
        self.oidc_issuer.is_some()
            && self.oidc_client_id.is_some()
            && self.oidc_client_secret.is_some()
    }
    /// The editable fields, as the edit form and the audit diff see them.
    pub fn fields_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code, "name_en": self.name_en, "name_fr": self.name_fr,
            "org_type": self.org_type, "contributes_data": self.contributes_data(),
            "identity_provider": self.identity_provider, "oidc_issuer": self.oidc_issuer,
            "oidc_client_id": self.oidc_client_id, "helpdesk_phone": self.helpdesk_phone,
            "helpdesk_email": self.helpdesk_email, "escalation_title": self.escalation_title,
            "escalation_name": self.escalation_name, "escalation_email": self.escalation_email,
            "escalation_mobile": self.escalation_mobile, "after_hours_contacts": self.after_hours_contacts,
            "spoc_name": self.spoc_name, "spoc_email": self.spoc_email, "spoc_phone": self.spoc_phone,
            "ticket_number_format": self.ticket_number_format, "distribution_list": self.distribution_list,
        })
    }
}

const COLUMNS: &str = "id, code, name_en, name_fr, org_type, is_operator, contributes_data, identity_provider,
    oidc_issuer, oidc_client_id, oidc_client_secret, helpdesk_phone, helpdesk_email, escalation_title,
    escalation_name, escalation_email, escalation_mobile, after_hours_contacts, spoc_name, spoc_email,
    spoc_phone, ticket_number_format, distribution_list, active, created_at, updated_at";

fn email(e: &Option<Email>) -> Option<String> {
    e.as_ref().map(|e| e.as_str().to_owned())
}

pub async fn create(
    conn: &mut AnyConnection,
    fields: &OrgFields,
    is_operator: bool,
) -> StoreResult<i64> {
    let now = now_db();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO organizations (code, name_en, name_fr, org_type, is_operator, contributes_data, identity_provider,
            oidc_issuer, oidc_client_id, helpdesk_phone, helpdesk_email, escalation_title, escalation_name,
            escalation_email, escalation_mobile, after_hours_contacts, spoc_name, spoc_email, spoc_phone,
            ticket_number_format, distribution_list, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 1, $22, $22)
         RETURNING id",
    )
    .bind(&fields.code)
    .bind(&fields.name_en)
    .bind(&fields.name_fr)
    .bind(fields.org_type.as_str())
    .bind(is_operator as i64)
    .bind(fields.contributes_data as i64)
    .bind(fields.identity_provider.as_str())
    .bind(&fields.oidc_issuer)
    .bind(&fields.oidc_client_id)
    .bind(&fields.helpdesk_phone)
    .bind(email(&fields.helpdesk_email))
    .bind(&fields.escalation_title)
    .bind(&fields.escalation_name)
    .bind(email(&fields.escalation_email))
    .bind(&fields.escalation_mobile)
    .bind(&fields.after_hours_contacts)
    .bind(&fields.spoc_name)
    .bind(email(&fields.spoc_email))
    .bind(&fields.spoc_phone)
    .bind(&fields.ticket_number_format)
    .bind(email(&fields.distribution_list))
    .bind(&now)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("code_taken"))?;
    Ok(id)
}

/// Updates the editable fields; returns the row as it was before, for the audit diff.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &OrgScope,
    id: i64,
    fields: &OrgFields,
) -> StoreResult<Organization> {
    let before = get(conn, scope, id).await?;
    sqlx::query(
        "UPDATE organizations SET code = $1, name_en = $2, name_fr = $3, org_type = $4, contributes_data = $5,
            identity_provider = $6, oidc_issuer = $7, oidc_client_id = $8, helpdesk_phone = $9, helpdesk_email = $10,
            escalation_title = $11, escalation_name = $12, escalation_email = $13, escalation_mobile = $14,
            after_hours_contacts = $15, spoc_name = $16, spoc_email = $17, spoc_phone = $18,
            ticket_number_format = $19, distribution_list = $20, updated_at = $21
         WHERE id = $22",
    )
    .bind(&fields.code)
    .bind(&fields.name_en)
    .bind(&fields.name_fr)
    .bind(fields.org_type.as_str())
    .bind(fields.contributes_data as i64)
    .bind(fields.identity_provider.as_str())
    .bind(&fields.oidc_issuer)
    .bind(&fields.oidc_client_id)
    .bind(&fields.helpdesk_phone)
    .bind(email(&fields.helpdesk_email))
    .bind(&fields.escalation_title)
    .bind(&fields.escalation_name)
    .bind(email(&fields.escalation_email))
    .bind(&fields.escalation_mobile)
    .bind(&fields.after_hours_contacts)
    .bind(&fields.spoc_name)
    .bind(email(&fields.spoc_email))
    .bind(&fields.spoc_phone)
    .bind(&fields.ticket_number_format)
    .bind(email(&fields.distribution_list))
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::unique_as("code_taken"))?;
    Ok(before)
}

pub async fn set_oidc_secret(
    conn: &mut AnyConnection,
    id: i64,
    secret: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE organizations SET oidc_client_secret = $1, updated_at = $2 WHERE id = $3")
        .bind(secret)
        .bind(now_db())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, scope: &OrgScope, id: i64) -> StoreResult<Organization> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organizations WHERE id = $1 AND {}",
        scope::condition(scope, "id", None)
    );
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn list(conn: &mut AnyConnection, scope: &OrgScope) -> StoreResult<Vec<Organization>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organizations WHERE {} ORDER BY is_operator DESC, name_en",
        scope::condition(scope, "id", None)
    );
    Ok(sqlx::query_as(&sql).fetch_all(&mut *conn).await?)
}

/// Organizations anyone may pick from on public forms (request credentials, OIDC sign-in):
/// names only.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct PublicOrg {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    #[serde(skip)]
    pub oidc: i64,
}

pub async fn public_list(conn: &mut AnyConnection) -> StoreResult<Vec<PublicOrg>> {
    Ok(sqlx::query_as(
        "SELECT id, code, name_en, name_fr,
                CASE WHEN oidc_issuer IS NOT NULL AND oidc_client_id IS NOT NULL AND oidc_client_secret IS NOT NULL
                     THEN 1 ELSE 0 END AS oidc
         FROM organizations WHERE active = 1 AND is_operator = 0 ORDER BY name_en",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// For sign-in flows that start before anyone is signed in.
pub async fn get_unscoped(conn: &mut AnyConnection, id: i64) -> StoreResult<Organization> {
    get(conn, &OrgScope::All, id).await
}

pub async fn operator_id(conn: &mut AnyConnection) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar(
            "SELECT id FROM organizations WHERE is_operator = 1 ORDER BY id LIMIT 1",
        )
        .fetch_optional(&mut *conn)
        .await?,
    )
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Service {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
}

pub async fn create_service(
    conn: &mut AnyConnection,
    code: &str,
    name_en: &str,
    name_fr: &str,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO services (code, name_en, name_fr) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(code)
    .bind(name_en)
    .bind(name_fr)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("code_taken"))
}

pub async fn services(conn: &mut AnyConnection) -> StoreResult<Vec<Service>> {
    Ok(
        sqlx::query_as("SELECT id, code, name_en, name_fr FROM services ORDER BY name_en")
            .fetch_all(&mut *conn)
            .await?,
    )
}

pub async fn services_of(conn: &mut AnyConnection, org: i64) -> StoreResult<Vec<Service>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.code, s.name_en, s.name_fr FROM services s
         JOIN organization_services os ON os.service_id = s.id WHERE os.organization_id = $1 ORDER BY s.name_en",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await?)
}

/// Replaces the services an organization is live on. Unknown service ids are refused.
pub async fn set_services(
    conn: &mut AnyConnection,
    org: i64,
    service_ids: &[i64],
) -> StoreResult<()> {
    let known = services(conn).await?;
    if let Some(bad) = service_ids
        .iter()
        .find(|id| !known.iter().any(|s| s.id == **id))
    {
        let _ = bad;
        return Err(StoreError::Invalid(domain::DomainError::field(
            "unknown_service",
            "services",
        )));
    }
    sqlx::query("DELETE FROM organization_services WHERE organization_id = $1")
        .bind(org)
        .execute(&mut *conn)
        .await?;
    for id in service_ids {
        sqlx::query("INSERT INTO organization_services (organization_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(org)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
