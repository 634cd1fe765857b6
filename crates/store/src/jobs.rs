//! Durable scheduled jobs. A job is a row with the instant it should run; a runner claims
//! due jobs for a while (a lease), does the work and marks them done in the same
//! transaction as the work's own writes. A runner that dies leaves its claim to expire, and
//! the job runs again: late after downtime, never lost, and never done twice because the
//! work and the "done" mark commit together.
use crate::error::StoreResult;
use domain::time::{now, to_db};
use sqlx::{AnyConnection, FromRow};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub ticket_id: Option<i64>,
    pub step: String,
    pub run_at: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, kind, ticket_id, step, run_at, state, attempts, last_error";

/// Replaces a ticket's pending jobs of `kind` with `steps` (step name, when). Done jobs
/// stay as history.
pub async fn replace_for_ticket(
    conn: &mut AnyConnection,
    kind: &str,
    ticket_id: i64,
    steps: &[(String, jiff::Timestamp)],
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM scheduled_jobs WHERE kind = $1 AND ticket_id = $2 AND state = 'pending'",
    )
    .bind(kind)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    schedule(conn, kind, ticket_id, steps).await
}

/// Adds a ticket's jobs (one statement).
pub async fn schedule(
    conn: &mut AnyConnection,
    kind: &str,
    ticket_id: i64,
    steps: &[(String, jiff::Timestamp)],
) -> StoreResult<()> {
    if steps.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..steps.len())
        .map(|i| format!("($1, $2, $3, ${}, ${})", 4 + 2 * i, 5 + 2 * i))
        .collect();
    let sql = format!(
        "INSERT INTO scheduled_jobs (kind, ticket_id, created_at, step, run_at) VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql)
        .bind(kind)
        .bind(ticket_id)
        .bind(to_db(now()));
    for (step, at) in steps {
        query = query.bind(step).bind(to_db(*at));
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Claims up to `limit` due jobs for `lease`: each is returned to one runner only until
/// the lease ends.
pub async fn claim_due(
    conn: &mut AnyConnection,
    limit: i64,
    lease: jiff::SignedDuration,
) -> StoreResult<Vec<Job>> {
    let at = now();
    let now_text = to_db(at);
    let candidates: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM scheduled_jobs WHERE state = 'pending' AND run_at <= $1
           AND (claimed_until IS NULL OR claimed_until < $1)
         ORDER BY run_at LIMIT $2",
    )
    .bind(&now_text)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let until = to_db(at + lease);
    let mut claimed = Vec::new();
    for id in candidates {
        // The condition repeats the check: of two runners, one updates the row.
        let sql = format!(
            "UPDATE scheduled_jobs SET claimed_until = $1, attempts = attempts + 1
             WHERE id = $2 AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < $3)
             RETURNING {COLUMNS}"
        );
        if let Some(job) = sqlx::query_as::<_, Job>(&sql)
            .bind(&until)
            .bind(id)
            .bind(&now_text)
            .fetch_optional(&mut *conn)
            .await?
        {
            claimed.push(job);
        }
    }
    Ok(claimed)
}

/// Marks a job done (inside the transaction that did its work). False if it was no longer
/// pending, e.g. replaced meanwhile; the caller then rolls back.
pub async fn complete(conn: &mut AnyConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE scheduled_jobs SET state = 'done', done_at = $1, claimed_until = NULL WHERE id = $2 AND state = 'pending'",
    )
    .bind(to_db(now()))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failure; the job is tried again when its lease ends.
pub async fn record_failure(conn: &mut AnyConnection, id: i64, error: &str) -> StoreResult<()> {
    sqlx::query("UPDATE scheduled_jobs SET last_error = $1 WHERE id = $2")
        .bind(error.chars().take(500).collect::<String>())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that a ticket's clock notification was sent; false if it already was (then it
/// must not be sent again).
pub async fn record_notification(
    conn: &mut AnyConnection,
    ticket_id: i64,
    clock: &str,
    step: &str,
    target_seconds: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO sla_notifications (ticket_id, clock, step, target_seconds, sent_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(ticket_id)
    .bind(clock)
    .bind(step)
    .bind(target_seconds)
    .bind(to_db(now()))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a ticket's clock notification was already sent.
pub async fn notification_sent(
    conn: &mut AnyConnection,
    ticket_id: i64,
    clock: &str,
    step: &str,
    target_seconds: i64,
) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sla_notifications WHERE ticket_id = $1 AND clock = $2 AND step = $3 AND target_seconds = $4",
    )
    .bind(ticket_id)
    .bind(clock)
    .bind(step)
    .bind(target_seconds)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}
