//! What the dashboard's overview counts: money paid and sessions paid per Beijing day, refunds,
//! and the checkout funnel per environment; and the page views that funnel starts from.
//!
//! Aggregates in SQL that both dialects run: integer milliseconds, days as
//! `(t + 8 h) / 24 h` in integer arithmetic (a Beijing day's number since the epoch), and
//! `CAST(… AS BIGINT)` around sums, which Postgres would otherwise answer as NUMERIC.

use sqlx::Row;

use super::Store;
use crate::domain::Millis;

/// The offset of Beijing time from UTC.
pub const BEIJING_OFFSET_MS: Millis = 8 * 3600 * 1000;
/// One day.
pub const DAY_MS: Millis = 24 * 3600 * 1000;

/// Money and sessions paid on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidDay {
    /// The Beijing day's number since 1970-01-01.
    pub day: i64,
    /// Sessions (and payment intents) paid.
    pub count: i64,
    /// Their amounts, in fen.
    pub amount: i64,
}

/// Of the sessions created on one day, those a payment was attempted for and those paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptDay {
    pub day: i64,
    pub attempted: i64,
    pub paid: i64,
}

/// Succeeded refunds: how many and how much.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundTotals {
    pub count: i64,
    pub amount: i64,
}

/// One environment's funnel: sessions whose page was first opened there within the range, of
/// those the ones with an attempt made there, and of those the ones paid there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelRow {
    pub environment: String,
    pub opened: i64,
    pub attempted: i64,
    pub paid: i64,
}

/// The Beijing day of the millisecond time `column`, in SQL both dialects compute alike.
fn day_of(column: &str) -> String {
    format!("(({column} + {BEIJING_OFFSET_MS}) / {DAY_MS})")
}

/// The Beijing day of `ms`, as [`day_of`] computes it in SQL.
#[must_use]
pub const fn day_number(ms: Millis) -> i64 {
    (ms + BEIJING_OFFSET_MS).div_euclid(DAY_MS)
}

/// When Beijing day `day` starts.
#[must_use]
pub const fn day_start(day: i64) -> Millis {
    day * DAY_MS - BEIJING_OFFSET_MS
}

impl Store {
    /// Notes one view of `session`'s page in `environment` (a class name): the first time
    /// with its time, every time counted. One statement.
    ///
    /// # Errors
    /// On a database error.
    pub async fn record_page_view(
        &self,
        session: &str,
        environment: &'static str,
        now: Millis,
    ) -> Result<(), sqlx::Error> {
        let session = session.to_owned();
        self.write_statement(move |conn| {
            let session = session.clone();
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO page_views (session_id, environment, first_at, views) \
                     VALUES ($1, $2, $3, 1) ON CONFLICT (session_id, environment) \
                     DO UPDATE SET views = page_views.views + 1",
                )
                .bind(session)
                .bind(environment)
                .bind(now)
                .execute(conn)
                .await
                .map(drop)
            })
        })
        .await
    }

    /// Sessions and payment intents paid within `[from, to)`, per Beijing day of payment
    /// (days without any are absent).
    ///
    /// # Errors
    /// On a database error.
    pub async fn paid_per_day(
        &self,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<PaidDay>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {} AS day, COUNT(*) AS n, \
             CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount \
             FROM checkout_sessions WHERE status = 'complete' \
             AND completed_at >= $1 AND completed_at < $2 GROUP BY 1 ORDER BY 1",
            day_of("completed_at")
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PaidDay {
                    day: r.try_get("day")?,
                    count: r.try_get("n")?,
                    amount: r.try_get("amount")?,
                })
            })
            .collect()
    }

    /// Sessions created within `[from, to)` that a payment was attempted for, and of those
    /// the ones paid, per Beijing day of creation (days without attempts are absent).
    ///
    /// # Errors
    /// On a database error.
    pub async fn attempts_per_day(
        &self,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<AttemptDay>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {} AS day, COUNT(*) AS attempted, \
             CAST(COALESCE(SUM(CASE WHEN s.status = 'complete' THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid \
             FROM checkout_sessions s WHERE s.created_at >= $1 AND s.created_at < $2 \
             AND EXISTS (SELECT 1 FROM payments p WHERE p.session_id = s.id) \
             GROUP BY 1 ORDER BY 1",
            day_of("s.created_at")
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptDay {
                    day: r.try_get("day")?,
                    attempted: r.try_get("attempted")?,
                    paid: r.try_get("paid")?,
                })
            })
            .collect()
    }

    /// Refunds that succeeded within `[from, to)`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn refunds_between(
        &self,
        from: Millis,
        to: Millis,
    ) -> Result<RefundTotals, sqlx::Error> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount FROM refunds \
             WHERE status = 'succeeded' AND updated_at >= $1 AND updated_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_one(self.pool())
        .await?;
        Ok(RefundTotals {
            count: r.try_get("n")?,
            amount: r.try_get("amount")?,
        })
    }

    /// The funnel of every environment a page was first opened in within `[from, to)`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn funnel(&self, from: Millis, to: Millis) -> Result<Vec<FunnelRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT v.environment, COUNT(*) AS opened, \
             CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM payments p WHERE p.session_id = v.session_id \
             AND p.environment = v.environment) THEN 1 ELSE 0 END), 0) AS BIGINT) AS attempted, \
             CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM payments p WHERE p.session_id = v.session_id \
             AND p.environment = v.environment AND p.status = 'succeeded') THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid \
             FROM page_views v WHERE v.first_at >= $1 AND v.first_at < $2 GROUP BY v.environment",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FunnelRow {
                    environment: r.try_get("environment")?,
                    opened: r.try_get("opened")?,
                    attempted: r.try_get("attempted")?,
                    paid: r.try_get("paid")?,
                })
            })
            .collect()
    }
}
