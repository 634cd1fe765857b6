//! The operator's support groups and their named calendars (support hours). The SLA issue
//! adds the calendar arithmetic; here a calendar is its zone and weekly hours.
use crate::error::{StoreError, StoreResult};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Calendar {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    /// Weekly hours as text, one day per line: `mon 07:00-23:00`.
    pub weekly_hours: String,
    pub holiday_rules: String,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct SupportGroup {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub calendar_id: i64,
    pub calendar_name: String,
    pub email: Option<String>,
    /// 1 = service desk / first line, 2 = application support, 3 = vendor.
    pub tier: i64,
}

pub async fn create_calendar(
    conn: &mut AnyConnection,
    name: &str,
    tz: &str,
    weekly_hours: &str,
    holiday_rules: &str,
) -> StoreResult<i64> {
    sqlx::query_scalar("INSERT INTO calendars (name, time_zone, weekly_hours, holiday_rules) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(name)
        .bind(tz)
        .bind(weekly_hours)
        .bind(holiday_rules)
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::unique_as("name_taken"))
}

pub async fn update_calendar(
    conn: &mut AnyConnection,
    id: i64,
    tz: &str,
    weekly_hours: &str,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE calendars SET time_zone = $1, weekly_hours = $2 WHERE id = $3")
        .bind(tz)
        .bind(weekly_hours)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn calendars(conn: &mut AnyConnection) -> StoreResult<Vec<Calendar>> {
    Ok(sqlx::query_as(
        "SELECT id, name, time_zone, weekly_hours, holiday_rules FROM calendars ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn create_group(
    conn: &mut AnyConnection,
    code: &str,
    name_en: &str,
    name_fr: &str,
    calendar_id: i64,
    email: Option<&str>,
) -> StoreResult<i64> {
    sqlx::query_scalar("INSERT INTO support_groups (code, name_en, name_fr, calendar_id, email) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(code)
        .bind(name_en)
        .bind(name_fr)
        .bind(calendar_id)
        .bind(email)
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::unique_as("code_taken"))
}

const GROUP_SELECT: &str = "SELECT g.id, g.code, g.name_en, g.name_fr, g.calendar_id, c.name AS calendar_name, g.email, g.tier
         FROM support_groups g JOIN calendars c ON c.id = g.calendar_id";

pub async fn groups(conn: &mut AnyConnection) -> StoreResult<Vec<SupportGroup>> {
    Ok(
        sqlx::query_as(&format!("{GROUP_SELECT} ORDER BY g.tier, g.name_en"))
            .fetch_all(&mut *conn)
            .await?,
    )
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<SupportGroup> {
    sqlx::query_as(&format!("{GROUP_SELECT} WHERE g.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn set_tier(conn: &mut AnyConnection, id: i64, tier: i64) -> StoreResult<()> {
    sqlx::query("UPDATE support_groups SET tier = $1 WHERE id = $2")
        .bind(tier)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn is_member(
    conn: &mut AnyConnection,
    group_id: i64,
    person_id: i64,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM support_group_members WHERE group_id = $1 AND person_id = $2",
    )
    .bind(group_id)
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Groups a person belongs to.
pub async fn groups_of(conn: &mut AnyConnection, person_id: i64) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT group_id FROM support_group_members WHERE person_id = $1 ORDER BY group_id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn add_member(
    conn: &mut AnyConnection,
    group_id: i64,
    person_id: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO support_group_members (group_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(group_id)
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The group's leads: members named lead of the group, or holding the group-lead role.
/// They hear of breaches and escalations.
pub async fn leads(conn: &mut AnyConnection, group_id: i64) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT m.person_id FROM support_group_members m JOIN people p ON p.id = m.person_id
         WHERE m.group_id = $1 AND p.active = 1
           AND (m.is_lead = 1 OR EXISTS (SELECT 1 FROM role_assignments r
                WHERE r.person_id = m.person_id AND r.role = 'group_lead' AND r.status = 'active'))
         ORDER BY m.person_id",
    )
    .bind(group_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Names or unnames a member as the group's lead.
pub async fn set_lead(
    conn: &mut AnyConnection,
    group_id: i64,
    person_id: i64,
    lead: bool,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE support_group_members SET is_lead = $1 WHERE group_id = $2 AND person_id = $3",
    )
    .bind(lead as i64)
    .bind(group_id)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn members(conn: &mut AnyConnection, group_id: i64) -> StoreResult<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.display_name FROM support_group_members m JOIN people p ON p.id = m.person_id WHERE m.group_id = $1 ORDER BY p.display_name",
    )
    .bind(group_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Checks a weekly-hours text: one line per day, `mon 07:00-23:00`, several ranges allowed
/// (`sat 08:00-12:00 13:00-16:00`), `closed` or `24h`.
pub fn validate_weekly_hours(text: &str) -> Result<(), domain::DomainError> {
    let bad = || domain::DomainError::field("invalid_hours", "weekly_hours");
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.split_whitespace();
        let day = parts.next().ok_or_else(bad)?;
        if !["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"].contains(&day) {
            return Err(bad());
        }
        for range in parts {
            if range == "closed" || range == "24h" {
                continue;
            }
            let (a, b) = range.split_once('-').ok_or_else(bad)?;
            let a: jiff::civil::Time = a.parse().map_err(|_| bad())?;
            let b: jiff::civil::Time = if b == "24:00" {
                jiff::civil::Time::MAX
            } else {
                b.parse().map_err(|_| bad())?
            };
            if a >= b {
                return Err(bad());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn weekly_hours() {
        assert!(
            super::validate_weekly_hours(
                "mon 07:00-23:00\nsat 08:00-12:00 13:00-16:00\nsun closed\nholiday 24h"
            )
            .is_ok()
        );
        assert!(super::validate_weekly_hours("monday 07:00-23:00").is_err());
        assert!(super::validate_weekly_hours("mon 23:00-07:00").is_err());
        assert!(super::validate_weekly_hours("mon 7-9").is_err());
    }
}
