//! Mail received by the desk: one row per message taken in, with what became of it (a new
//! ticket, a reply on one, held for an unknown sender, quarantined for patient information,
//! ignored as automatic, discarded by an agent).
use crate::error::{StoreError, StoreResult};
use crate::now_db;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct InboundMessage {
    pub id: i64,
    pub received_at: String,
    /// api, cli or imap.
    pub source: String,
    pub message_id: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub body: String,
    /// The ticket number the message named (subject or thread headers), if any.
    pub thread_number: Option<String>,
    #[serde(serialize_with = "crate::tickets::as_json")]
    #[schema(value_type = Vec<KeptAttachment>)]
    pub attachments: String,
    /// ticket, comment, held, quarantined, ignored or discarded.
    pub status: String,
    /// Why it was held, quarantined or ignored (`unknown_sender`, `phi_health_card`,
    /// `auto_reply`, `bounce`, `bulk`, `loop`, …).
    pub reason: Option<String>,
    pub ticket_id: Option<i64>,
    /// The ticket's number, when the message opened or joined one.
    pub ticket_number: Option<String>,
    pub person_id: Option<i64>,
    pub handled_by: Option<i64>,
    pub handled_at: Option<String>,
}

/// An attachment waiting in the file store until its message is handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeptAttachment {
    pub filename: String,
    pub content_type: String,
    pub sha256: String,
    pub size: i64,
}

impl InboundMessage {
    pub fn kept_attachments(&self) -> Vec<KeptAttachment> {
        serde_json::from_str(&self.attachments).unwrap_or_default()
    }
}

const COLUMNS: &str = "m.id, m.received_at, m.source, m.message_id, m.from_address, m.from_name,
    m.subject, m.body, m.thread_number, m.attachments, m.status, m.reason, m.ticket_id,
    t.number AS ticket_number, m.person_id, m.handled_by, m.handled_at";

/// A message as taken in.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub source: &'a str,
    pub message_id: Option<&'a str>,
    pub from_address: &'a str,
    pub from_name: Option<&'a str>,
    pub subject: &'a str,
    pub body: &'a str,
    pub thread_number: Option<&'a str>,
    pub attachments: &'a [KeptAttachment],
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub ticket_id: Option<i64>,
    pub person_id: Option<i64>,
}

/// Records a message. `None` when a message with the same Message-ID was taken before.
pub async fn insert(conn: &mut AnyConnection, new: &NewInbound<'_>) -> StoreResult<Option<i64>> {
    let attachments = serde_json::to_string(new.attachments).expect("attachments serialize");
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO inbound_messages (received_at, source, message_id, from_address, from_name,
            subject, body, thread_number, attachments, status, reason, ticket_id, person_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (message_id) DO NOTHING RETURNING id",
    )
    .bind(now_db())
    .bind(new.source)
    .bind(new.message_id)
    .bind(new.from_address)
    .bind(new.from_name)
    .bind(new.subject)
    .bind(new.body)
    .bind(new.thread_number)
    .bind(attachments)
    .bind(new.status)
    .bind(new.reason)
    .bind(new.ticket_id)
    .bind(new.person_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> StoreResult<InboundMessage> {
    let sql = format!(
        "SELECT {COLUMNS} FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
         WHERE m.id = $1"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn by_message_id(
    conn: &mut AnyConnection,
    message_id: &str,
) -> StoreResult<Option<InboundMessage>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
         WHERE m.message_id = $1"
    );
    Ok(sqlx::query_as(&sql)
        .bind(message_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Newest first; `status` filters (`waiting` means held or quarantined).
pub async fn list(
    conn: &mut AnyConnection,
    status: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<InboundMessage>> {
    let filter = match status {
        Some("waiting") => "WHERE m.status IN ('held', 'quarantined')",
        Some(_) => "WHERE m.status = $2",
        None => "",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
         {filter} ORDER BY m.id DESC LIMIT $1"
    );
    let mut query = sqlx::query_as(&sql).bind(limit);
    if let Some(s) = status.filter(|s| *s != "waiting") {
        query = query.bind(s);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// Messages held or quarantined, waiting for an agent.
pub async fn waiting_count(conn: &mut AnyConnection) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbound_messages WHERE status IN ('held', 'quarantined')",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// How many messages this sender sent since `since` (loop detection).
pub async fn recent_from(
    conn: &mut AnyConnection,
    from_address: &str,
    since: &str,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbound_messages WHERE from_address = $1 AND received_at > $2",
    )
    .bind(from_address)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?)
}

/// An agent's decision on a waiting message: what it became, and the text as released
/// (a quarantined message's redacted text replaces what arrived; a discarded one's text is
/// dropped). False when the message was no longer waiting.
#[allow(clippy::too_many_arguments)]
pub async fn settle(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    subject: &str,
    body: &str,
    ticket_id: Option<i64>,
    person_id: Option<i64>,
    handled_by: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE inbound_messages SET status = $1, subject = $2, body = $3, ticket_id = $4,
            person_id = COALESCE($5, person_id), handled_by = $6, handled_at = $7,
            attachments = CASE WHEN $1 = 'discarded' THEN '[]' ELSE attachments END
         WHERE id = $8 AND status IN ('held', 'quarantined')",
    )
    .bind(status)
    .bind(subject)
    .bind(body)
    .bind(ticket_id)
    .bind(person_id)
    .bind(handled_by)
    .bind(now_db())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What became of a message that was processed as it arrived ('ticket' or 'comment').
pub async fn record_outcome(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    ticket_id: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE inbound_messages SET status = $1, ticket_id = $2 WHERE id = $3")
        .bind(status)
        .bind(ticket_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A message that could not be filed as it arrived waits for an agent, with the reason.
pub async fn hold(conn: &mut AnyConnection, id: i64, reason: &str) -> StoreResult<()> {
    sqlx::query("UPDATE inbound_messages SET status = 'held', reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
