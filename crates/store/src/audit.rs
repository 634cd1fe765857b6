//! Append-only audit log with a hash chain (see `domain::audit`).
use crate::error::StoreResult;
use crate::scope;
use domain::audit::{AuditEntry, ChainFault, GENESIS_HASH, StoredAudit, verify_rows};
use domain::policy::OrgScope;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// Who did something, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub person_id: Option<i64>,
    pub label: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn system(label: &str) -> Self {
        Self {
            person_id: None,
            label: label.to_owned(),
            ip: None,
        }
    }
}

/// What happened: `action` like `person.create`, on `entity_type`/`entity_id`, inside an
/// organization when there is one.
pub struct Event<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<String>,
    pub organization_id: Option<i64>,
    pub detail: serde_json::Value,
}

/// Appends a row inside the caller's transaction. The head row is updated first, which
/// locks it until commit, so concurrent writers chain one after another; the insert's
/// trigger then records the new row's hash as the head's.
pub async fn append(conn: &mut AnyConnection, actor: &Actor, event: Event<'_>) -> StoreResult<i64> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let entry = AuditEntry {
        seq,
        at: crate::now_db(),
        actor_id: actor.person_id,
        actor_label: actor.label.clone(),
        action: event.action.to_owned(),
        entity_type: event.entity_type.to_owned(),
        entity_id: event.entity_id,
        organization_id: event.organization_id,
        detail: event.detail.to_string(),
        ip: actor.ip.clone(),
    };
    let hash = entry.hash(&prev_hash);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor_label, action, entity_type, entity_id, organization_id, detail, ip, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(entry.seq)
    .bind(&entry.at)
    .bind(entry.actor_id)
    .bind(&entry.actor_label)
    .bind(&entry.action)
    .bind(&entry.entity_type)
    .bind(&entry.entity_id)
    .bind(entry.organization_id)
    .bind(&entry.detail)
    .bind(&entry.ip)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    // A trigger (migration 0003) moves the head's hash to this row's.
    Ok(seq)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub organization_id: Option<i64>,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

fn stored(row: &sqlx::any::AnyRow) -> StoreResult<StoredAudit> {
    Ok(StoredAudit {
        entry: AuditEntry {
            seq: row.try_get("seq")?,
            at: row.try_get("at")?,
            actor_id: row.try_get("actor_id")?,
            actor_label: row.try_get("actor_label")?,
            action: row.try_get("action")?,
            entity_type: row.try_get("entity_type")?,
            entity_id: row.try_get("entity_id")?,
            organization_id: row.try_get("organization_id")?,
            detail: row.try_get("detail")?,
            ip: row.try_get("ip")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Newest first, within the reader's scope.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &OrgScope,
    filter: &AuditFilter,
) -> StoreResult<Vec<AuditRow>> {
    let sql = format!(
        "SELECT seq, at, actor_id, actor_label, action, entity_type, entity_id, organization_id, detail, ip, prev_hash, hash
         FROM audit_log
         WHERE {}
           AND ($1 IS NULL OR entity_type = $1)
           AND ($2 IS NULL OR entity_id = $2)
           AND ($3 IS NULL OR action = $3)
           AND ($4 IS NULL OR seq < $4)
         ORDER BY seq DESC LIMIT $5",
        scope::condition(scope, "organization_id", None)
    );
    let rows = sqlx::query(&sql)
        .bind(&filter.entity_type)
        .bind(&filter.entity_id)
        .bind(&filter.action)
        .bind(filter.before_seq)
        .bind(filter.limit.clamp(1, 500))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let s = stored(row)?.entry;
            Ok(AuditRow {
                seq: s.seq,
                at: s.at,
                actor_id: s.actor_id,
                actor_label: s.actor_label,
                action: s.action,
                entity_type: s.entity_type,
                entity_id: s.entity_id,
                organization_id: s.organization_id,
                detail: serde_json::from_str(&s.detail)
                    .unwrap_or(serde_json::Value::String(s.detail)),
                ip: s.ip,
            })
        })
        .collect()
}

#[derive(Debug)]
pub struct VerifyReport {
    pub rows: i64,
    pub fault: Option<ChainFault>,
}

/// Re-computes the whole chain in batches and checks it against the recorded head.
pub async fn verify(conn: &mut AnyConnection) -> StoreResult<VerifyReport> {
    let (mut seq, mut hash) = (0_i64, GENESIS_HASH.to_owned());
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor_id, actor_label, action, entity_type, entity_id, organization_id, detail, ip, prev_hash, hash
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 2000",
        )
        .bind(seq)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        let batch = rows.iter().map(stored).collect::<StoreResult<Vec<_>>>()?;
        match verify_rows(&batch, seq, hash.clone()) {
            Ok((s, h)) => (seq, hash) = (s, h),
            Err(fault) => {
                return Ok(VerifyReport {
                    rows: seq,
                    fault: Some(fault),
                });
            }
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    let fault = if head_seq != seq {
        Some(ChainFault::Truncated {
            last_seq: seq,
            head_seq,
        })
    } else if head_hash != hash {
        Some(ChainFault::BrokenLink { seq })
    } else {
        None
    };
    Ok(VerifyReport { rows: seq, fault })
}
