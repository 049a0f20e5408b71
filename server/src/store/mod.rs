//! The database: SQLite (WAL, under the data dir) by default, Postgres when configured.
//!
//! One code path serves both through sqlx's `Any` driver: queries use `$N` placeholders (which
//! SQLite accepts too), times are integer milliseconds and JSON is text. The two dialects differ
//! only in their migration files and in job claiming (`FOR UPDATE SKIP LOCKED` on Postgres).

pub mod api_keys;
pub mod audit;
pub mod browse;
mod checkpoint;
pub mod deliveries;
pub mod events;
mod group_commit;
pub mod idempotency;
pub mod insights;
pub mod mode;
pub mod operators;
pub mod payment_links;
pub mod payments;
pub mod reconciliations;
pub mod refunds;
pub mod retention;
pub mod sessions;
pub mod unmatched;
pub mod webhooks;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// A connection pool to one of the supported databases.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// The group writers' connection on SQLite (see `connect`); `pool` on Postgres.
    group_pool: AnyPool,
    kind: DbKind,
    keys: std::sync::Arc<api_keys::KeyCache>,
    /// How the group-commit writers of this database group their requests. On SQLite it holds
    /// the one write slot: SQLite admits one writer at a time, and queueing write transactions
    /// there is cheaper than letting them collide in SQLite's busy handler, which sleeps.
    grouping: Grouping,
    /// Units of work of [`Store::write`], written in groups (see [`group_commit`]).
    writer: std::sync::Arc<group_commit::Batched<Work, Box<dyn std::any::Any + Send>>>,
    /// New sessions, written in groups of multi-row INSERTs ([`sessions::writer`]).
    new_sessions: std::sync::Arc<Batched<crate::domain::CheckoutSession, ()>>,
    /// SQLite's WAL checkpoints ([`checkpoint`]), stopped when the last clone is dropped.
    #[expect(dead_code, reason = "held for its drop, which stops the task")]
    checkpointer: Option<std::sync::Arc<tokio_util::task::AbortOnDropHandle<()>>>,
}

/// A unit of work for [`Store::write`], type-erased to share one writer.
type Work = std::sync::Arc<
    dyn for<'t> Fn(
            &'t mut Tx,
        ) -> futures_util::future::BoxFuture<
            't,
            Result<Box<dyn std::any::Any + Send>, sqlx::Error>,
        > + Send
        + Sync,
>;

pub use group_commit::{Batched, Grouping, WriteGroup};

/// Postgres: group-commit writer tasks per kind of write, and how many of them (of every
/// kind) may write at once, each on a pooled connection.
const PG_WRITERS: u32 = 4;

/// A transaction on the store.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// Connects (creating the SQLite file if needed) and applies pending migrations.
    ///
    /// # Errors
    /// When the URL is malformed, the database cannot be reached or a migration fails.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let (kind, url, max) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            (DbKind::Postgres, url.to_owned(), 10 + PG_WRITERS)
        } else {
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = if url.contains("mode=") {
                url.to_owned()
            } else {
                format!("{url}{sep}mode=rwc")
            };
            (DbKind::Sqlite, url, 8)
        };
        let pool = pool_options(kind, max, false).connect(&url).await?;
        let migrator = match kind {
            DbKind::Sqlite => &SQLITE_MIGRATIONS,
            DbKind::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        if kind == DbKind::Sqlite {
            // After the migrations wrote: the WAL file exists by now. The data dir is the
            // owner's alone too (`config::create_private_dir`).
            private_files(&url);
        }
        // SQLite empties a connection's page cache whenever another connection has written,
        // so the group writers get a connection of their own: only they write through it,
        // and its cache stays warm from one group to the next.
        let group_pool = match kind {
            DbKind::Sqlite => pool_options(kind, 1, true).connect(&url).await?,
            DbKind::Postgres => pool.clone(),
        };
        // Units of work run one after the other inside the group's transaction.
        let run_units: WriteGroup<Work, Box<dyn std::any::Any + Send>> =
            std::sync::Arc::new(|tx, units| {
                Box::pin(async move {
                    let mut outputs = Vec::with_capacity(units.len());
                    for unit in units {
                        outputs.push(unit(tx).await?);
                    }
                    Ok(outputs)
                })
            });
        let grouping = match kind {
            DbKind::Sqlite => Grouping::Thread(std::sync::Arc::new(tokio::sync::Semaphore::new(1))),
            DbKind::Postgres => Grouping::Tasks {
                writers: PG_WRITERS as usize,
                gate: std::sync::Arc::new(tokio::sync::Semaphore::new(PG_WRITERS as usize)),
            },
        };
        let writer = group_commit::Batched::new(group_pool.clone(), &grouping, run_units)?;
        let new_sessions = Batched::new(group_pool.clone(), &grouping, sessions::writer())?;
        let checkpointer =
            (kind == DbKind::Sqlite).then(|| std::sync::Arc::new(checkpoint::spawn(pool.clone())));
        Ok(Self {
            pool,
            group_pool,
            kind,
            keys: std::sync::Arc::default(),
            grouping,
            writer: std::sync::Arc::new(writer),
            new_sessions: std::sync::Arc::new(new_sessions),
            checkpointer,
        })
    }

    /// Waits for SQLite's single writer slot (at once on Postgres); hold it across one write.
    pub async fn write_slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match &self.grouping {
            Grouping::Thread(gate) => gate.acquire().await.ok(),
            Grouping::Tasks { .. } => None,
        }
    }

    /// Runs `work` in a write transaction and returns what it produced, grouped with other
    /// queued units in one transaction by the group-commit writers ([`Grouping`]). `work` may
    /// run more than once and must have no effect outside the transaction.
    ///
    /// # Errors
    /// On a database error.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl for<'t> Fn(&'t mut Tx) -> futures_util::future::BoxFuture<'t, Result<T, sqlx::Error>>
        + Send
        + Sync
        + 'static,
    ) -> Result<T, sqlx::Error> {
        let work: Work = std::sync::Arc::new(move |tx| {
            let fut = work(tx);
            Box::pin(async move {
                fut.await
                    .map(|t| Box::new(t) as Box<dyn std::any::Any + Send>)
            })
        });
        self.writer
            .submit(work)
            .await?
            .downcast::<T>()
            .map(|t| *t)
            .map_err(|_| sqlx::Error::Protocol("group commit returned another type".into()))
    }

    /// Runs a write of one statement: on SQLite through the group-commit writer like
    /// [`Store::write`] (many small commits cost more than their statements there), on
    /// Postgres on a pooled connection as it is (a transaction around one statement would
    /// only add two round trips).
    ///
    /// # Errors
    /// On a database error.
    pub async fn write_statement<T: Send + 'static>(
        &self,
        statement: impl for<'c> Fn(
            &'c mut sqlx::AnyConnection,
        )
            -> futures_util::future::BoxFuture<'c, Result<T, sqlx::Error>>
        + Send
        + Sync
        + 'static,
    ) -> Result<T, sqlx::Error> {
        match self.kind {
            DbKind::Sqlite => self.write(move |tx| statement(tx)).await,
            DbKind::Postgres => statement(&mut *self.pool.acquire().await?).await,
        }
    }

    /// A writer for requests of one kind that `write` writes a group of at a time (in a few
    /// multi-row statements, say): grouped by a task of its own on SQLite, taking turns with
    /// every other writer; by a few tasks on Postgres, as many writing at once across all
    /// kinds as [`PG_WRITERS`]. On Postgres it must be called on the server's runtime.
    ///
    /// # Errors
    /// When the writer's thread cannot be started.
    pub fn batched<I: Send + Sync + 'static, O: Send + 'static>(
        &self,
        write: WriteGroup<I, O>,
    ) -> std::io::Result<Batched<I, O>> {
        Batched::new(self.group_pool.clone(), &self.grouping, write)
    }

    /// Which database this is.
    #[must_use]
    pub const fn kind(&self) -> DbKind {
        self.kind
    }

    /// A writer that tells every instance listening on Postgres (`LISTEN paybridge_sessions`)
    /// that sessions may have changed: each group is one transaction of as few `pg_notify`s as
    /// fit the ids, comma-separated, in Postgres's payload limit, rather than a transaction
    /// per session (a transaction that notifies commits under a lock that every such
    /// transaction of the cluster takes).
    ///
    /// # Errors
    /// When the writer cannot be started.
    pub fn session_notifier(&self) -> std::io::Result<Batched<String, ()>> {
        self.batched(std::sync::Arc::new(|tx, ids: &[String]| {
            Box::pin(async move {
                for payload in change_payloads(ids) {
                    sqlx::query("SELECT pg_notify('paybridge_sessions', $1)")
                        .bind(payload)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(vec![(); ids.len()])
            })
        }))
    }

    /// The pool, for the repository modules.
    #[must_use]
    pub const fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction.
    ///
    /// # Errors
    /// When no connection can be had.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.pool.begin().await
    }

    /// A round trip to the database, for `/readyz`.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop)
    }

    /// Closes every connection (on shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
        self.group_pool.close().await;
    }
}

/// Makes an SQLite database's files (the database, its WAL and shared-memory files) readable by
/// their owner only; they hold webhook secrets and openids. Best effort: logged when it fails.
fn private_files(url: &str) {
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|p| !p.is_empty())
    else {
        return;
    };
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let file = format!("{path}{suffix}");
        if std::path::Path::new(&file).exists()
            && let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
        {
            tracing::warn!(file, error = %e, "cannot make a database file private");
        }
    }
}

/// The most bytes of session ids in one notification (Postgres refuses payloads of 8,000
/// bytes or more).
const CHANGE_PAYLOAD_MAX: usize = 7_000;

/// `ids` joined with commas, as few payloads as fit [`CHANGE_PAYLOAD_MAX`] each.
fn change_payloads(ids: &[String]) -> Vec<String> {
    let mut payloads: Vec<String> = Vec::new();
    for id in ids {
        match payloads.last_mut() {
            Some(last) if last.len() + 1 + id.len() <= CHANGE_PAYLOAD_MAX => {
                last.push(',');
                last.push_str(id);
            }
            _ => payloads.push(id.clone()),
        }
    }
    payloads
}

/// The session ids in a notification's payload ([`change_payloads`]).
pub fn changed_sessions(payload: &str) -> impl Iterator<Item = &str> {
    payload.split(',').filter(|id| !id.is_empty())
}

/// Pool settings for `kind`, at most `max` connections; `writers` for the group writers' own
/// SQLite connection, which leaves WAL checkpoints to [`checkpoint`].
fn pool_options(kind: DbKind, max: u32, writers: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        // `outside_transaction` asks Postgres before each use, which also proves the
        // connection alive; an SQLite file has neither a network nor a server to drop it.
        .test_before_acquire(false)
        .before_acquire(move |conn, _meta| Box::pin(outside_transaction(kind, conn)))
        .after_release(|conn, _meta| {
            let idle = !sqlx::Connection::is_in_transaction(conn);
            if !idle {
                tracing::warn!(
                    "a connection came back to the pool inside a transaction; closing it"
                );
            }
            Box::pin(async move { Ok(idle) })
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if kind == DbKind::Sqlite {
                    // `synchronous = FULL`: each commit syncs the WAL before it returns, so
                    // what is acknowledged survives a power cut too (`NORMAL`, SQLite's WAL
                    // default, syncs only at checkpoints: a crash of the process loses
                    // nothing, a power cut loses what was committed since the last one). The
                    // group writers pay one sync per group, not per payment.
                    // `temp_store = MEMORY`: a multi-row statement inside a transaction keeps
                    // a statement journal, which spilled to a temporary file past 64 KiB — a
                    // write system call per page, 4 % of a burst's samples.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                         PRAGMA temp_store = MEMORY;",
                    )
                    .await?;
                    if writers {
                        conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                    }
                }
                Ok(())
            })
        })
}

/// Whether a pooled connection may be handed out: never one inside a transaction, whose
/// statements would join that transaction and be lost when it rolls back. sqlx counts the
/// transactions it opened, but a `BEGIN` whose future was dropped after it was sent is
/// counted nowhere while the server is inside it, so Postgres is asked too: outside a
/// transaction block each statement is a transaction of its own, which starts when the
/// statement does. A connection that is inside one is closed (the server then rolls back).
async fn outside_transaction(
    kind: DbKind,
    conn: &mut sqlx::AnyConnection,
) -> Result<bool, sqlx::Error> {
    if sqlx::Connection::is_in_transaction(conn) {
        tracing::warn!("a pooled connection was inside a transaction; closing it");
        return Ok(false);
    }
    if kind == DbKind::Sqlite {
        return Ok(true);
    }
    // A simple query (no parameters): one round trip, as the liveness ping it replaces.
    let row = conn
        .fetch_one("SELECT now() = statement_timestamp() AS idle")
        .await?;
    let idle: bool = sqlx::Row::try_get(&row, "idle")?;
    if !idle {
        tracing::warn!("a pooled Postgres connection was inside a transaction; closing it");
    }
    Ok(idle)
}

impl DbKind {
    /// Name for logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CHANGE_PAYLOAD_MAX, change_payloads, changed_sessions};

    #[test]
    fn change_payloads_carry_every_id_once_within_postgres_limit() {
        let ids: Vec<String> = (0..1_000).map(|i| format!("cs_{i:027}")).collect();
        let payloads = change_payloads(&ids);
        assert!(
            payloads.len() > 1,
            "30,000 bytes of ids need several payloads"
        );
        assert!(payloads.iter().all(|p| p.len() <= CHANGE_PAYLOAD_MAX));
        let back: Vec<&str> = payloads.iter().flat_map(|p| changed_sessions(p)).collect();
        assert_eq!(back, ids.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn one_id_is_its_own_payload() {
        assert_eq!(change_payloads(&["cs_1".to_owned()]), vec!["cs_1"]);
        assert_eq!(changed_sessions("cs_1").collect::<Vec<_>>(), vec!["cs_1"]);
        assert_eq!(changed_sessions("").count(), 0);
    }
}
