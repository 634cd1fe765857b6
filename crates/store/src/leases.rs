//! Short leases on a named task, so that of several nodes one does it at a time (polling the
//! IMAP mailbox, say). A lease is a row of the `settings` table, `lease:<name>`, whose value
//! is the instant it ends; a node takes it when it is free or has run out. A node that dies
//! holding a lease only delays the others until it runs out.
use crate::error::StoreResult;
use domain::time::{now, to_db};
use sqlx::AnyConnection;

/// A lease this node holds until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    key: String,
    /// When it ends (the database form); it also tells this holder's lease from a later one.
    until: String,
}

fn key(name: &str) -> String {
    format!("lease:{name}")
}

/// Takes the lease `name` for `duration` when nobody holds it; `None` when another holder's
/// lease is still running.
pub async fn acquire(
    conn: &mut AnyConnection,
    name: &str,
    duration: jiff::SignedDuration,
) -> StoreResult<Option<Lease>> {
    let at = now();
    let lease = Lease {
        key: key(name),
        until: to_db(at + duration),
    };
    // Of two nodes, the second waits for the first's row and then finds it still running.
    let taken = sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE settings.value < $3",
    )
    .bind(&lease.key)
    .bind(&lease.until)
    .bind(to_db(at))
    .execute(&mut *conn)
    .await?;
    Ok((taken.rows_affected() == 1).then_some(lease))
}

/// Extends a lease this node still holds to `duration` from now; false when it ran out and
/// someone else took it meanwhile.
pub async fn renew(
    conn: &mut AnyConnection,
    lease: &mut Lease,
    duration: jiff::SignedDuration,
) -> StoreResult<bool> {
    let until = to_db(now() + duration);
    let renewed = sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
        .bind(&until)
        .bind(&lease.key)
        .bind(&lease.until)
        .execute(&mut *conn)
        .await?;
    if renewed.rows_affected() == 1 {
        lease.until = until;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Gives a lease back before it runs out (nothing happens if someone else holds it now).
pub async fn release(conn: &mut AnyConnection, lease: Lease) -> StoreResult<()> {
    sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
        .bind(to_db(now()))
        .bind(&lease.key)
        .bind(&lease.until)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
