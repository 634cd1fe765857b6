//! The request catalogue: services → request types → sub-categories, each sub-category with
//! its form, ticket kind, default impact/urgency and support group. Administrators edit it
//! at run time; the demo loads one from JSON in the same format as `import`.
use crate::error::{StoreError, StoreResult};
use domain::DomainError;
use domain::text;
use domain::ticket::{FormField, TicketKind, check_code, check_form, check_level};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct RequestType {
    pub id: i64,
    pub service_id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub position: i64,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub active: i64,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Subcategory {
    pub id: i64,
    pub request_type_id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub kind: String,
    pub impact: i64,
    pub urgency: i64,
    pub support_group_id: i64,
    #[serde(serialize_with = "form_as_json")]
    #[schema(value_type = Vec<FormField>)]
    pub form: String,
    pub position: i64,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub active: i64,
}

fn form_as_json<S: serde::Serializer>(form: &str, s: S) -> Result<S::Ok, S::Error> {
    let fields: Vec<FormField> = serde_json::from_str(form).unwrap_or_default();
    fields.serialize(s)
}

impl Subcategory {
    pub fn fields(&self) -> Vec<FormField> {
        serde_json::from_str(&self.form).unwrap_or_default()
    }
    pub fn kind(&self) -> TicketKind {
        TicketKind::parse(&self.kind).unwrap_or(TicketKind::ServiceRequest)
    }
    pub fn is_active(&self) -> bool {
        self.active != 0
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CatalogueType {
    #[serde(flatten)]
    pub request_type: RequestType,
    pub subcategories: Vec<Subcategory>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CatalogueService {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub request_types: Vec<CatalogueType>,
}

const TYPE_COLUMNS: &str =
    "id, service_id, code, name_en, name_fr, description_en, description_fr, position, active";
const SUB_COLUMNS: &str = "id, request_type_id, code, name_en, name_fr, description_en, description_fr, kind, impact, urgency, support_group_id, form, position, active";

/// The whole catalogue, in display order. `active_only` hides retired entries (the portal).
pub async fn tree(
    conn: &mut AnyConnection,
    active_only: bool,
) -> StoreResult<Vec<CatalogueService>> {
    let services: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT id, code, name_en, name_fr FROM services ORDER BY code")
            .fetch_all(&mut *conn)
            .await?;
    let filter = if active_only { "WHERE active = 1" } else { "" };
    let types: Vec<RequestType> = sqlx::query_as(&format!(
        "SELECT {TYPE_COLUMNS} FROM request_types {filter} ORDER BY position, name_en"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let subs: Vec<Subcategory> = sqlx::query_as(&format!(
        "SELECT {SUB_COLUMNS} FROM request_subcategories {filter} ORDER BY position, name_en"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (id, code, name_en, name_fr) in services {
        let request_types: Vec<CatalogueType> = types
            .iter()
            .filter(|t| t.service_id == id)
            .map(|t| CatalogueType {
                request_type: t.clone(),
                subcategories: subs
                    .iter()
                    .filter(|s| s.request_type_id == t.id)
                    .cloned()
                    .collect(),
            })
            .filter(|t| !active_only || !t.subcategories.is_empty())
            .collect();
        if active_only && request_types.is_empty() {
            continue;
        }
        out.push(CatalogueService {
            id,
            code,
            name_en,
            name_fr,
            request_types,
        });
    }
    Ok(out)
}

pub async fn subcategory(conn: &mut AnyConnection, id: i64) -> StoreResult<Subcategory> {
    sqlx::query_as(&format!(
        "SELECT {SUB_COLUMNS} FROM request_subcategories WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn request_type(conn: &mut AnyConnection, id: i64) -> StoreResult<RequestType> {
    sqlx::query_as(&format!(
        "SELECT {TYPE_COLUMNS} FROM request_types WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Finds a sub-category by its path of codes, e.g. `CHR` / `access` / `cannot-sign-in`.
pub async fn find(
    conn: &mut AnyConnection,
    service: &str,
    request_type: &str,
    subcategory: &str,
) -> StoreResult<Subcategory> {
    sqlx::query_as(&format!(
        "SELECT {} FROM request_subcategories sc
         JOIN request_types rt ON rt.id = sc.request_type_id
         JOIN services s ON s.id = rt.service_id
         WHERE s.code = $1 AND rt.code = $2 AND sc.code = $3",
        SUB_COLUMNS
            .split(", ")
            .map(|c| format!("sc.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(service)
    .bind(request_type)
    .bind(subcategory)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A request type as an administrator edits it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeInput {
    pub service_id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_fr: String,
    #[serde(default)]
    pub position: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

/// A sub-category as an administrator edits it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubcategoryInput {
    pub request_type_id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_fr: String,
    pub kind: String,
    pub impact: i64,
    pub urgency: i64,
    pub support_group_id: i64,
    #[serde(default)]
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub position: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

struct Labels {
    code: String,
    name_en: String,
    name_fr: String,
    description_en: String,
    description_fr: String,
}

fn check_labels(
    code: &str,
    name_en: &str,
    name_fr: &str,
    description_en: &str,
    description_fr: &str,
) -> Result<Labels, DomainError> {
    Ok(Labels {
        code: check_code("code", code)?,
        name_en: text::required("name_en", name_en, 120)?,
        name_fr: text::required("name_fr", name_fr, 120)?,
        description_en: text::clean("description_en", description_en, 1000)?,
        description_fr: text::clean("description_fr", description_fr, 1000)?,
    })
}

/// Creates (`id` = None) or updates a request type. Returns its id.
pub async fn save_type(
    conn: &mut AnyConnection,
    id: Option<i64>,
    input: &TypeInput,
) -> StoreResult<i64> {
    let l = check_labels(
        &input.code,
        &input.name_en,
        &input.name_fr,
        &input.description_en,
        &input.description_fr,
    )?;
    let service: Option<i64> = sqlx::query_scalar("SELECT id FROM services WHERE id = $1")
        .bind(input.service_id)
        .fetch_optional(&mut *conn)
        .await?;
    if service.is_none() {
        return Err(DomainError::field("unknown_service", "service_id").into());
    }
    let query = match id {
        None => "INSERT INTO request_types (service_id, code, name_en, name_fr, description_en, description_fr, position, active)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        Some(_) => "UPDATE request_types SET service_id = $1, code = $2, name_en = $3, name_fr = $4, description_en = $5,
                 description_fr = $6, position = $7, active = $8 WHERE id = $9 RETURNING id",
    };
    let mut q = sqlx::query_scalar(query)
        .bind(input.service_id)
        .bind(&l.code)
        .bind(&l.name_en)
        .bind(&l.name_fr)
        .bind(&l.description_en)
        .bind(&l.description_fr)
        .bind(input.position)
        .bind(input.active as i64);
    if let Some(id) = id {
        q = q.bind(id);
    }
    let saved: Option<i64> = q
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::unique_as("code_taken"))?;
    saved.ok_or(StoreError::NotFound)
}

/// Creates (`id` = None) or updates a sub-category with its form. Returns its id.
pub async fn save_subcategory(
    conn: &mut AnyConnection,
    id: Option<i64>,
    input: &SubcategoryInput,
) -> StoreResult<i64> {
    let l = check_labels(
        &input.code,
        &input.name_en,
        &input.name_fr,
        &input.description_en,
        &input.description_fr,
    )?;
    let kind = TicketKind::parse(&input.kind).ok_or(DomainError::field("unknown_kind", "kind"))?;
    check_level("impact", input.impact)?;
    check_level("urgency", input.urgency)?;
    check_form(&input.fields)?;
    request_type(conn, input.request_type_id)
        .await
        .map_err(|_| {
            StoreError::Invalid(DomainError::field(
                "unknown_request_type",
                "request_type_id",
            ))
        })?;
    let group: Option<i64> = sqlx::query_scalar("SELECT id FROM support_groups WHERE id = $1")
        .bind(input.support_group_id)
        .fetch_optional(&mut *conn)
        .await?;
    if group.is_none() {
        return Err(DomainError::field("unknown_group", "support_group_id").into());
    }
    let form = serde_json::to_string(&input.fields).expect("form serializes");
    let query = match id {
        None => "INSERT INTO request_subcategories (request_type_id, code, name_en, name_fr, description_en, description_fr,
                   kind, impact, urgency, support_group_id, form, position, active)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        Some(_) => "UPDATE request_subcategories SET request_type_id = $1, code = $2, name_en = $3, name_fr = $4,
                   description_en = $5, description_fr = $6, kind = $7, impact = $8, urgency = $9,
                   support_group_id = $10, form = $11, position = $12, active = $13 WHERE id = $14 RETURNING id",
    };
    let mut q = sqlx::query_scalar(query)
        .bind(input.request_type_id)
        .bind(&l.code)
        .bind(&l.name_en)
        .bind(&l.name_fr)
        .bind(&l.description_en)
        .bind(&l.description_fr)
        .bind(kind.as_str())
        .bind(input.impact)
        .bind(input.urgency)
        .bind(input.support_group_id)
        .bind(&form)
        .bind(input.position)
        .bind(input.active as i64);
    if let Some(id) = id {
        q = q.bind(id);
    }
    let saved: Option<i64> = q
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::unique_as("code_taken"))?;
    saved.ok_or(StoreError::NotFound)
}

/// The catalogue file format (what `triage catalogue import` and the demo read).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    pub services: Vec<FileService>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileService {
    pub code: String,
    pub request_types: Vec<FileType>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileType {
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_fr: String,
    pub subcategories: Vec<FileSubcategory>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSubcategory {
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_fr: String,
    pub kind: String,
    pub impact: i64,
    pub urgency: i64,
    /// Support group code.
    pub group: String,
    #[serde(default)]
    pub fields: Vec<FormField>,
}

/// Loads a catalogue file: entries are matched by their codes, so importing twice updates
/// rather than duplicates. Returns (request types, sub-categories) written.
pub async fn import(conn: &mut AnyConnection, file: &CatalogueFile) -> StoreResult<(usize, usize)> {
    let (mut types, mut subs) = (0, 0);
    for service in &file.services {
        let service_id: i64 = sqlx::query_scalar("SELECT id FROM services WHERE code = $1")
            .bind(&service.code)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::Invalid(DomainError::field(
                "unknown_service",
                "service",
            )))?;
        for (ti, t) in service.request_types.iter().enumerate() {
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM request_types WHERE service_id = $1 AND code = $2",
            )
            .bind(service_id)
            .bind(&t.code)
            .fetch_optional(&mut *conn)
            .await?;
            let type_id = save_type(
                conn,
                existing,
                &TypeInput {
                    service_id,
                    code: t.code.clone(),
                    name_en: t.name_en.clone(),
                    name_fr: t.name_fr.clone(),
                    description_en: t.description_en.clone(),
                    description_fr: t.description_fr.clone(),
                    position: ti as i64,
                    active: true,
                },
            )
            .await?;
            types += 1;
            for (si, s) in t.subcategories.iter().enumerate() {
                let group: i64 =
                    sqlx::query_scalar("SELECT id FROM support_groups WHERE code = $1")
                        .bind(&s.group)
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or(StoreError::Invalid(DomainError::field(
                            "unknown_group",
                            "group",
                        )))?;
                let existing: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM request_subcategories WHERE request_type_id = $1 AND code = $2",
                )
                .bind(type_id)
                .bind(&s.code)
                .fetch_optional(&mut *conn)
                .await?;
                save_subcategory(
                    conn,
                    existing,
                    &SubcategoryInput {
                        request_type_id: type_id,
                        code: s.code.clone(),
                        name_en: s.name_en.clone(),
                        name_fr: s.name_fr.clone(),
                        description_en: s.description_en.clone(),
                        description_fr: s.description_fr.clone(),
                        kind: s.kind.clone(),
                        impact: s.impact,
                        urgency: s.urgency,
                        support_group_id: group,
                        fields: s.fields.clone(),
                        position: si as i64,
                        active: true,
                    },
                )
                .await?;
                subs += 1;
            }
        }
    }
    Ok((types, subs))
}

/// A canned response an agent can insert into a reply, in both languages.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow, utoipa::ToSchema)]
pub struct CannedResponse {
    #[serde(default)]
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_fr: String,
    pub body_en: String,
    pub body_fr: String,
}

pub async fn canned_responses(conn: &mut AnyConnection) -> StoreResult<Vec<CannedResponse>> {
    Ok(sqlx::query_as(
        "SELECT id, code, title_en, title_fr, body_en, body_fr FROM canned_responses ORDER BY code",
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn save_canned_response(
    conn: &mut AnyConnection,
    input: &CannedResponse,
) -> StoreResult<i64> {
    let code = check_code("code", &input.code)?;
    let title_en = text::required("title_en", &input.title_en, 120)?;
    let title_fr = text::required("title_fr", &input.title_fr, 120)?;
    let body_en = text::required("body_en", &input.body_en, 4000)?;
    let body_fr = text::required("body_fr", &input.body_fr, 4000)?;
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM canned_responses WHERE code = $1")
            .bind(&code)
            .fetch_optional(&mut *conn)
            .await?;
    let sql = if existing.is_some() {
        "UPDATE canned_responses SET title_en = $2, title_fr = $3, body_en = $4, body_fr = $5 WHERE code = $1 RETURNING id"
    } else {
        "INSERT INTO canned_responses (code, title_en, title_fr, body_en, body_fr) VALUES ($1, $2, $3, $4, $5) RETURNING id"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(&code)
        .bind(&title_en)
        .bind(&title_fr)
        .bind(&body_en)
        .bind(&body_fr)
        .fetch_one(&mut *conn)
        .await?)
}
