use crate::error::StoreResult;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connection pools. SQLite allows one writer at a time, so writes go through a pool of one
/// connection there (no lock-upgrade failures); on PostgreSQL both pools are the same.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
}

impl Db {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        install_default_drivers();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Self {
                read: pool.clone(),
                write: pool,
                backend: Backend::Postgres,
            });
        }
        let url = sqlite_url(url)?;
        // SQLite's default page cache is 2 MiB per connection; with a million tickets every
        // insert then reads index pages back from the OS. Sizes are in KiB (negative).
        // The writer does not checkpoint the WAL itself (`wal_autocheckpoint = 0`): a commit
        // that crossed the threshold would copy the log into the database file before its
        // caller got an answer. A background task checkpoints instead (below).
        let setup = |pool: AnyPoolOptions, cache_kib: i64, autocheckpoint: i64| {
            pool.after_connect(move |conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute(format!("PRAGMA cache_size = -{cache_kib}").as_str())
                        .await?;
                    conn.execute(format!("PRAGMA wal_autocheckpoint = {autocheckpoint}").as_str())
                        .await?;
                    Ok(())
                })
            })
        };
        // Connections are not pinged before each use: a broken one fails its query, which
        // the caller reports; the ping would cost a round trip on every request.
        let write = setup(
            AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .test_before_acquire(false),
            128 * 1024,
            0,
        )
        .connect(&url)
        .await?;
        let read = setup(
            AnyPoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false),
            32 * 1024,
            1000,
        )
        .connect(&url)
        .await?;
        spawn_checkpointer(read.clone());
        Ok(Self {
            read,
            write,
            backend: Backend::Sqlite,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// A write transaction. Everything a change writes (row, audit, outbox) goes in one.
    ///
    /// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction
    /// that read first could not take it later if another process (a second node, a
    /// `triage` command) wrote in between, and would fail instead of waiting its turn.
    pub async fn begin(&self) -> StoreResult<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// A connection from the write pool, for a write that is one statement: it commits on
    /// its own, without the two extra round trips of BEGIN and COMMIT.
    pub async fn writer(&self) -> StoreResult<PoolConnection<Any>> {
        Ok(self.write.acquire().await?)
    }

    /// Applies pending migrations. On PostgreSQL the migrator holds an advisory lock, so
    /// nodes starting together take turns; SQLite's single file lock does the same there.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.write).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.write).await?,
        }
        Ok(())
    }

    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Accepts `sqlite://path`, `sqlite:path` or a bare file path; creates the parent folder and
/// asks SQLite to create the file.
fn sqlite_url(url: &str) -> StoreResult<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            crate::StoreError::Other(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Copies SQLite's write-ahead log into the database file twice a second, off the writer
/// (PASSIVE: it never waits for or blocks a transaction), until the pool is closed.
fn spawn_checkpointer(pool: AnyPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "SQLite checkpoint");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_urls() {
        assert_eq!(
            super::sqlite_url("sqlite::memory:").unwrap(),
            "sqlite://:memory:?mode=rwc"
        );
        assert_eq!(
            super::sqlite_url("sqlite://x.db?mode=ro").unwrap(),
            "sqlite://x.db?mode=ro"
        );
    }
}
