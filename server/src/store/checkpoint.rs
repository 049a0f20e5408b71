//! SQLite's WAL checkpoints, off the group writers' path. By default SQLite checkpoints inside
//! the commit that grows the WAL past 1,000 pages: on the group writers' connection, while
//! they hold the one write slot, so every write waited for it (9 % of the samples of a
//! notification burst were that checkpoint). Their connection turns that off
//! (`PRAGMA wal_autocheckpoint = 0`) and this task checkpoints instead, on a connection of the
//! pool, `PASSIVE`ly: it copies what no reader still needs and never blocks a writer.

use std::time::Duration;

use sqlx::AnyPool;
use tokio_util::task::AbortOnDropHandle;

/// How often the WAL is checkpointed. Every commit is already synced to the WAL
/// (`synchronous = FULL`), so the interval bounds only the WAL's size (a second of writes),
/// not what a power cut could take back. A checkpoint copies each page once however often it
/// changed since the last, so a longer interval copies less: in a notification burst the
/// checkpoints were 19 % of SQLite's threads' samples at 100 ms.
const INTERVAL: Duration = Duration::from_secs(1);

/// Checkpoints `pool`'s database every [`INTERVAL`] until the pool closes or the handle is
/// dropped. Must be called on the server's runtime.
pub(super) fn spawn(pool: AnyPool) -> AbortOnDropHandle<()> {
    AbortOnDropHandle::new(tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
                && !pool.is_closed()
            {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    }))
}
