//! Distribution lists and the notices sent to them.
//!
//! A list is per service (every organization live on the service is a member without being
//! added), per organization contact role (everyone holding the role), or custom. Any list
//! may also have members added by hand: a person, an organization or an address. An
//! organization receives a notice at its help desk contacts (people holding the local help
//! desk role) and at its list or help desk address.
//!
//! Removal is asked for by the member and confirmed by the desk. Until then the member
//! keeps receiving; once confirmed, the member stays removed, even when membership is
//! automatic (an organization that goes live again, a role granted again).
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use std::collections::{HashMap, HashSet};

pub const KINDS: &[&str] = &["service", "role", "custom"];

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct List {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    /// service, role or custom.
    pub kind: String,
    pub service_id: Option<i64>,
    /// For a role list: the contact role (`local_help_desk`, `cpc`, `privacy_contact`, …).
    pub role: Option<String>,
    pub created_at: String,
}

const LIST_COLUMNS: &str = "id, code, name_en, name_fr, kind, service_id, role, created_at";

/// A member row: added by hand, or an automatic member's removal request or removal.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Member {
    pub id: i64,
    pub list_id: i64,
    pub person_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub email: Option<String>,
    /// active, removal_requested or removed.
    pub status: String,
    pub added_at: String,
    pub removal_requested_at: Option<String>,
    pub removal_reason: Option<String>,
    pub decided_at: Option<String>,
    /// The person's name, the organization's English name or the address.
    pub label: String,
    /// The address the member receives at, when it is one address (a person or an
    /// address; an organization has several).
    pub address: Option<String>,
}

const MEMBER_SELECT: &str =
    "SELECT m.id, m.list_id, m.person_id, m.organization_id, m.email, m.status, m.added_at,
            m.removal_requested_at, m.removal_reason, m.decided_at,
            COALESCE(p.display_name, o.name_en, m.email) AS label,
            COALESCE(p.email, m.email) AS address
     FROM distribution_list_members m
     LEFT JOIN people p ON p.id = m.person_id
     LEFT JOIN organizations o ON o.id = m.organization_id";

pub struct NewList<'a> {
    pub code: &'a str,
    pub name_en: &'a str,
    pub name_fr: &'a str,
    pub kind: &'a str,
    pub service_id: Option<i64>,
    pub role: Option<&'a str>,
    pub created_by: Option<i64>,
}

pub async fn create(conn: &mut AnyConnection, new: &NewList<'_>) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO distribution_lists (code, name_en, name_fr, kind, service_id, role, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.code)
    .bind(new.name_en)
    .bind(new.name_fr)
    .bind(new.kind)
    .bind(new.service_id)
    .bind(new.role)
    .bind(now_db())
    .bind(new.created_by)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::unique_as("list_code_taken"))
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<List> {
    sqlx::query_as(&format!(
        "SELECT {LIST_COLUMNS} FROM distribution_lists WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn list(conn: &mut AnyConnection) -> StoreResult<Vec<List>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LIST_COLUMNS} FROM distribution_lists ORDER BY code"
    ))
    .fetch_all(&mut *conn)
    .await?)
}

/// The list's member rows, pending removal requests first.
pub async fn members(conn: &mut AnyConnection, list_id: i64) -> StoreResult<Vec<Member>> {
    Ok(sqlx::query_as(&format!(
        "{MEMBER_SELECT} WHERE m.list_id = $1
         ORDER BY CASE m.status WHEN 'removal_requested' THEN 0 WHEN 'active' THEN 1 ELSE 2 END, m.id"
    ))
    .bind(list_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn member(conn: &mut AnyConnection, list_id: i64, id: i64) -> StoreResult<Member> {
    sqlx::query_as(&format!(
        "{MEMBER_SELECT} WHERE m.list_id = $1 AND m.id = $2"
    ))
    .bind(list_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Who a new member is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Person(i64),
    Organization(i64),
    Address(String),
}

/// Adds members by hand. One already on the list (in any state) is left as it is, so a
/// confirmed removal is never undone by adding again; returns how many were added.
pub async fn add_members(
    conn: &mut AnyConnection,
    list_id: i64,
    members: &[Who],
    by: Option<i64>,
) -> StoreResult<u64> {
    let at = now_db();
    let mut added = 0;
    for chunk in members.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO distribution_list_members (list_id, person_id, organization_id, email, status, added_at, added_by) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 3;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "($1, ${}, ${}, ${}, 'active', $2, $3)",
                b + 4,
                b + 5,
                b + 6
            ));
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut query = sqlx::query(&sql).bind(list_id).bind(&at).bind(by);
        for who in chunk {
            let (person, org, email) = match who {
                Who::Person(id) => (Some(*id), None, None),
                Who::Organization(id) => (None, Some(*id), None),
                Who::Address(a) => (None, None, Some(a.trim().to_lowercase())),
            };
            query = query.bind(person).bind(org).bind(email);
        }
        added += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(added)
}

/// A member asks to be removed. An automatic member gets a row for the request. Returns
/// the member row's id; a member already removed stays removed.
pub async fn request_removal(
    conn: &mut AnyConnection,
    list_id: i64,
    who: &Who,
    reason: &str,
) -> StoreResult<i64> {
    let at = now_db();
    let (person, org, email) = match who {
        Who::Person(id) => (Some(*id), None, None),
        Who::Organization(id) => (None, Some(*id), None),
        Who::Address(a) => (None, None, Some(a.trim().to_lowercase())),
    };
    sqlx::query(
        "INSERT INTO distribution_list_members (list_id, person_id, organization_id, email, status, added_at)
         VALUES ($1, $2, $3, $4, 'active', $5) ON CONFLICT DO NOTHING",
    )
    .bind(list_id)
    .bind(person)
    .bind(org)
    .bind(email.clone())
    .bind(&at)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "UPDATE distribution_list_members
            SET status = 'removal_requested', removal_requested_at = $1, removal_reason = $2
          WHERE list_id = $3 AND status = 'active'
            AND (person_id = $4 OR organization_id = $5 OR email = $6)
          RETURNING id",
    )
    .bind(&at)
    .bind(reason)
    .bind(list_id)
    .bind(person)
    .bind(org)
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::Conflict("already_removed"))
}

/// The desk confirms (`removed`) or declines (`active` again) a removal request.
pub async fn decide_removal(
    conn: &mut AnyConnection,
    list_id: i64,
    member_id: i64,
    confirm: bool,
    by: Option<i64>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE distribution_list_members SET status = $1, decided_at = $2, decided_by = $3
          WHERE list_id = $4 AND id = $5 AND status = 'removal_requested'",
    )
    .bind(if confirm { "removed" } else { "active" })
    .bind(now_db())
    .bind(by)
    .bind(list_id)
    .bind(member_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("no_removal_request"))
    }
}

/// Pending removal requests, every list.
pub async fn pending_removals(conn: &mut AnyConnection) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM distribution_list_members WHERE status = 'removal_requested'",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// One address a notice goes to. `locale` is `None` when the address is not a person's
/// (an organization's help desk address): such a recipient gets both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Recipient {
    pub email: String,
    pub locale: Option<String>,
    pub person_id: Option<i64>,
    /// Through which organization, when the address comes from one.
    pub organization_id: Option<i64>,
    /// Added automatically (service or role) rather than by hand.
    pub automatic: bool,
}

#[derive(FromRow)]
struct PersonRow {
    id: i64,
    email: String,
    locale: String,
    /// The organization through which the person was found.
    organization_id: i64,
}

#[derive(FromRow)]
struct OrgAddress {
    id: i64,
    address: Option<String>,
}

/// Everyone the list reaches now, one entry per address (lower case), in a stable order.
/// `rows` are the list's [`members`].
pub async fn recipients(
    conn: &mut AnyConnection,
    list: &List,
    rows: &[Member],
) -> StoreResult<Vec<Recipient>> {
    let gone = rows.iter().filter(|m| m.status == "removed");
    let removed_people: HashSet<i64> = gone.clone().filter_map(|m| m.person_id).collect();
    let removed_orgs: HashSet<i64> = gone.clone().filter_map(|m| m.organization_id).collect();
    let removed_emails: HashSet<String> = gone.filter_map(|m| m.email.clone()).collect();
    let mut people: Vec<(i64, bool)> = Vec::new();
    let mut orgs: Vec<(i64, bool)> = Vec::new();
    let mut addresses: Vec<String> = Vec::new();
    match (list.kind.as_str(), list.service_id, list.role.as_deref()) {
        ("service", Some(service), _) => {
            let live: Vec<i64> = sqlx::query_scalar(
                "SELECT os.organization_id FROM organization_services os
                   JOIN organizations o ON o.id = os.organization_id
                  WHERE os.service_id = $1 AND o.active = 1 ORDER BY os.organization_id",
            )
            .bind(service)
            .fetch_all(&mut *conn)
            .await?;
            orgs.extend(live.into_iter().map(|id| (id, true)));
        }
        ("role", _, Some(role)) => {
            let holders: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT r.person_id FROM role_assignments r JOIN people p ON p.id = r.person_id
                  WHERE r.role = $1 AND r.status = 'active' AND p.active = 1 ORDER BY r.person_id",
            )
            .bind(role)
            .fetch_all(&mut *conn)
            .await?;
            people.extend(holders.into_iter().map(|id| (id, true)));
        }
        _ => {}
    }
    for m in rows.iter().filter(|m| m.status != "removed") {
        if let Some(id) = m.person_id {
            people.push((id, false));
        } else if let Some(id) = m.organization_id {
            orgs.push((id, false));
        } else if let Some(email) = &m.email {
            addresses.push(email.clone());
        }
    }
    orgs.retain(|(id, _)| !removed_orgs.contains(id));
    let org_ids: Vec<i64> = orgs.iter().map(|(id, _)| *id).collect();
    let automatic_orgs: HashSet<i64> = orgs.iter().filter(|o| o.1).map(|o| o.0).collect();

    let mut out: Vec<Recipient> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut push = |r: Recipient, out: &mut Vec<Recipient>| {
        let key = r.email.to_lowercase();
        if removed_emails.contains(&key) || r.person_id.is_some_and(|p| removed_people.contains(&p))
        {
            return;
        }
        if let Some(&i) = seen.get(&key) {
            // A person's own language wins over an organization address's "unknown".
            if out[i].locale.is_none() && r.locale.is_some() {
                out[i] = r;
            }
            return;
        }
        seen.insert(key, out.len());
        out.push(r);
    };

    // People named directly or through a role.
    let person_ids: Vec<i64> = people.iter().map(|p| p.0).collect();
    let automatic_people: HashSet<i64> = people.iter().filter(|p| p.1).map(|p| p.0).collect();
    for chunk in person_ids.chunks(500) {
        let mut found: Vec<PersonRow> = fetch_in(
            conn,
            "SELECT id, email, locale, organization_id FROM people WHERE active = 1 AND id IN ({ids})",
            chunk,
        )
        .await?;
        found.sort_by_key(|p| chunk.iter().position(|id| *id == p.id));
        for p in found {
            push(
                Recipient {
                    email: p.email.to_lowercase(),
                    locale: Some(p.locale),
                    person_id: Some(p.id),
                    organization_id: None,
                    automatic: automatic_people.contains(&p.id),
                },
                &mut out,
            );
        }
    }
    // Organizations: their help desk contacts and their address.
    for chunk in org_ids.chunks(500) {
        let contacts: Vec<PersonRow> = fetch_in(
            conn,
            "SELECT DISTINCT p.id, p.email, p.locale, r.organization_id FROM role_assignments r
               JOIN people p ON p.id = r.person_id
              WHERE r.role = 'local_help_desk' AND r.status = 'active' AND p.active = 1
                AND r.organization_id IN ({ids}) ORDER BY r.organization_id, p.id",
            chunk,
        )
        .await?;
        let addresses_of: Vec<OrgAddress> = fetch_in(
            conn,
            "SELECT id, COALESCE(distribution_list, helpdesk_email) AS address FROM organizations
              WHERE id IN ({ids}) ORDER BY id",
            chunk,
        )
        .await?;
        for org in chunk {
            for p in contacts.iter().filter(|p| p.organization_id == *org) {
                push(
                    Recipient {
                        email: p.email.to_lowercase(),
                        locale: Some(p.locale.clone()),
                        person_id: Some(p.id),
                        organization_id: Some(*org),
                        automatic: automatic_orgs.contains(org),
                    },
                    &mut out,
                );
            }
            if let Some(address) = addresses_of
                .iter()
                .find(|a| a.id == *org)
                .and_then(|a| a.address.as_deref())
                .map(str::trim)
                .filter(|a| a.contains('@'))
            {
                push(
                    Recipient {
                        email: address.to_lowercase(),
                        locale: None,
                        person_id: None,
                        organization_id: Some(*org),
                        automatic: automatic_orgs.contains(org),
                    },
                    &mut out,
                );
            }
        }
    }
    for address in addresses {
        push(
            Recipient {
                email: address,
                locale: None,
                person_id: None,
                organization_id: None,
                automatic: false,
            },
            &mut out,
        );
    }
    Ok(out)
}

fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SELECT … IN (…)` over the ids.
async fn fetch_in<O>(conn: &mut AnyConnection, sql: &str, ids: &[i64]) -> StoreResult<Vec<O>>
where
    O: for<'r> FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let sql = sql.replace("{ids}", &placeholders(ids.len()));
    let mut query = sqlx::query_as::<_, O>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// The lists a person receives (directly, through a role or through their organization),
/// with the person's own member row when there is one (a pending or decided request).
pub async fn of_person(
    conn: &mut AnyConnection,
    person_id: i64,
) -> StoreResult<Vec<(List, Option<Member>)>> {
    let mut out = Vec::new();
    for list in list(conn).await? {
        let rows = members(conn, list.id).await?;
        let reaches = recipients(conn, &list, &rows)
            .await?
            .iter()
            .any(|r| r.person_id == Some(person_id));
        let own = rows.into_iter().find(|m| m.person_id == Some(person_id));
        if reaches || own.as_ref().is_some_and(|m| m.status != "active") {
            out.push((list, own));
        }
    }
    Ok(out)
}

// --- Notices ---

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Notice {
    pub id: i64,
    pub created_at: String,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "crate::tickets::as_json")]
    #[schema(value_type = Vec<i64>)]
    pub list_ids: String,
    pub subject_en: String,
    pub subject_fr: String,
    pub body_en: String,
    pub body_fr: String,
    pub recipients: i64,
}

const NOTICE_COLUMNS: &str =
    "id, created_at, created_by, list_ids, subject_en, subject_fr, body_en, body_fr, recipients";

pub struct NewNotice<'a> {
    pub list_ids: &'a [i64],
    pub subject_en: &'a str,
    pub subject_fr: &'a str,
    pub body_en: &'a str,
    pub body_fr: &'a str,
    pub created_by: Option<i64>,
}

pub async fn create_notice(conn: &mut AnyConnection, new: &NewNotice<'_>) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO notices (created_at, created_by, list_ids, subject_en, subject_fr, body_en, body_fr, recipients)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0) RETURNING id",
    )
    .bind(now_db())
    .bind(new.created_by)
    .bind(serde_json::to_string(new.list_ids).expect("ids serialize"))
    .bind(new.subject_en)
    .bind(new.subject_fr)
    .bind(new.body_en)
    .bind(new.body_fr)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn set_notice_recipients(
    conn: &mut AnyConnection,
    id: i64,
    recipients: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE notices SET recipients = $1 WHERE id = $2")
        .bind(recipients)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn notice(conn: &mut AnyConnection, id: i64) -> StoreResult<Notice> {
    sqlx::query_as(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Notices sent to a list, newest first.
pub async fn notices_of(conn: &mut AnyConnection, list_id: i64) -> StoreResult<Vec<Notice>> {
    let all: Vec<Notice> = sqlx::query_as(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices ORDER BY id DESC LIMIT 500"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(all
        .into_iter()
        .filter(|n| {
            serde_json::from_str::<Vec<i64>>(&n.list_ids)
                .unwrap_or_default()
                .contains(&list_id)
        })
        .collect())
}

/// How a notice's messages stand: (status, count).
pub async fn notice_deliveries(
    conn: &mut AnyConnection,
    id: i64,
) -> StoreResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT status, COUNT(*) FROM outbox WHERE notice_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The people with these addresses (lower case), by address.
pub async fn people_by_email(
    conn: &mut AnyConnection,
    emails: &[String],
) -> StoreResult<HashMap<String, i64>> {
    let mut found = HashMap::new();
    for chunk in emails.chunks(500) {
        let sql = format!(
            "SELECT LOWER(email), id FROM people WHERE LOWER(email) IN ({})",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
        for e in chunk {
            query = query.bind(e.to_lowercase());
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}
