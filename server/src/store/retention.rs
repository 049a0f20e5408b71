//! Forgetting what only guards against repeats once it cannot matter any more: idempotency keys
//! (a client retries within minutes, not weeks), used single-use tokens (refused anyway once
//! their lifetime is over), the record of each webhook delivery attempt, and the funnel's page
//! views once older than the dashboard's longest range.

use super::Store;
use crate::config::Retention;
use crate::domain::Millis;

/// Used tokens are kept this long: longer than any token lives (an OAuth state, 10 minutes).
pub const USED_TOKENS_MS: Millis = 24 * 60 * 60 * 1000;

/// Page views are kept this long: the overview looks back at most 90 days.
pub const PAGE_VIEWS_MS: Millis = 100 * 24 * 60 * 60 * 1000;

/// How many rows each kind lost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub idempotency_keys: u64,
    pub used_tokens: u64,
    pub webhook_attempts: u64,
    pub page_views: u64,
}

fn millis(d: std::time::Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

impl Store {
    /// Deletes what is older than `retention` says, as of `now`.
    ///
    /// # Errors
    /// On a database error (what was deleted before it stays deleted).
    pub async fn prune(&self, retention: &Retention, now: Millis) -> Result<Pruned, sqlx::Error> {
        let delete = |sql: &'static str, before: Millis| async move {
            sqlx::query(sql)
                .bind(before)
                .execute(self.pool())
                .await
                .map(|r| r.rows_affected())
        };
        Ok(Pruned {
            idempotency_keys: delete(
                "DELETE FROM idempotency_keys WHERE created_at < $1",
                now.saturating_sub(millis(retention.idempotency_keys)),
            )
            .await?,
            used_tokens: delete(
                "DELETE FROM used_tokens WHERE used_at < $1",
                now.saturating_sub(USED_TOKENS_MS),
            )
            .await?,
            webhook_attempts: delete(
                "DELETE FROM webhook_attempts WHERE attempted_at < $1",
                now.saturating_sub(millis(retention.webhook_attempts)),
            )
            .await?,
            page_views: delete(
                "DELETE FROM page_views WHERE first_at < $1",
                now.saturating_sub(PAGE_VIEWS_MS),
            )
            .await?,
        })
    }
}
