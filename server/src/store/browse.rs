//! What the dashboard lists and searches: sessions, attempts and refunds filtered by status,
//! method, channel, shopper environment and creation time, found by any id a merchant may hold
//! (ours, `merchant_reference`, the provider's transaction id, `out_trade_no`), and the events
//! and webhook deliveries about a set of objects, for a timeline.

use sqlx::Row;

use super::Store;
use super::audit::AuditEntry;
use super::events::Event;
use super::refunds::Refund;
use crate::domain::{CheckoutSession, Millis, Payment};

/// What to list. Empty strings and the full time range mean "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: String,
    pub method: String,
    pub channel: String,
    pub environment: String,
    /// Created at or after (ms).
    pub from: Millis,
    /// Created before (ms); `i64::MAX` for no bound.
    pub to: Millis,
    /// An id of any kind (see the module doc), matched exactly.
    pub search: String,
    /// `checkout` (hosted sessions) or `intent` (payment intents).
    pub kind: String,
}

/// An attempt as listed: with its session's merchant reference.
#[derive(Debug, Clone)]
pub struct ListedPayment {
    pub payment: Payment,
    pub merchant_reference: Option<String>,
}

/// A webhook delivery, with its endpoint's URL.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub url: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Millis>,
}

/// One try of a delivery.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempted_at: Millis,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// The payment conditions shared by the session and payment lists (`p` is the attempt).
const PAYMENT_MATCHES: &str = "($3 = '' OR p.method = $3) AND ($4 = '' OR p.channel = $4) \
     AND ($5 = '' OR p.environment = $5)";

/// `$1, $2, …` from `start`, for an `IN (…)` of `n` values.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `sql` with the filter's ten parameters bound in the order every list query uses them.
fn bound<'q>(
    sql: &'q str,
    f: &'q Filter,
    limit: i64,
    offset: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&f.status)
        .bind(&f.kind)
        .bind(&f.method)
        .bind(&f.channel)
        .bind(&f.environment)
        .bind(f.from)
        .bind(f.to)
        .bind(&f.search)
        .bind(limit)
        .bind(offset)
}

impl Store {
    /// Sessions matching `f`, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn browse_sessions(
        &self,
        f: &Filter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CheckoutSession>, sqlx::Error> {
        let cols = super::sessions::COLUMNS;
        let rows = bound(&format!(
            "SELECT {cols} FROM checkout_sessions s WHERE ($1 = '' OR s.status = $1) AND ($2 = '' OR s.kind = $2) \
             AND (($3 = '' AND $4 = '' AND $5 = '') OR EXISTS (SELECT 1 FROM payments p WHERE p.session_id = s.id AND {PAYMENT_MATCHES})) \
             AND s.created_at >= $6 AND s.created_at < $7 \
             AND ($8 = '' OR s.id = $8 OR s.merchant_reference = $8 OR EXISTS (SELECT 1 FROM payments q \
                  WHERE q.session_id = s.id AND (q.id = $8 OR q.out_trade_no = $8 OR q.provider_transaction_id = $8))) \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $9 OFFSET $10"
        ), f, limit, offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(super::sessions::session).collect()
    }

    /// Attempts matching `f`, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn browse_payments(
        &self,
        f: &Filter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ListedPayment>, sqlx::Error> {
        let cols = super::payments::COLUMNS
            .split(", ")
            .map(|c| format!("p.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = bound(
            &format!(
                "SELECT {cols}, s.merchant_reference AS merchant_reference \
             FROM payments p JOIN checkout_sessions s ON s.id = p.session_id \
             WHERE ($1 = '' OR p.status = $1) AND ($2 = '' OR s.kind = $2) AND {PAYMENT_MATCHES} \
             AND p.created_at >= $6 AND p.created_at < $7 \
             AND ($8 = '' OR p.id = $8 OR p.out_trade_no = $8 OR p.provider_transaction_id = $8 \
                  OR s.id = $8 OR s.merchant_reference = $8) \
             ORDER BY p.created_at DESC, p.id DESC LIMIT $9 OFFSET $10"
            ),
            f,
            limit,
            offset,
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ListedPayment {
                    payment: super::payments::payment(r)?,
                    merchant_reference: r.try_get("merchant_reference")?,
                })
            })
            .collect()
    }

    /// Refunds matching `f` (status, method and channel of their payment, time, and an id
    /// of the refund, its payment or its session), newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn browse_refunds(
        &self,
        f: &Filter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Refund>, sqlx::Error> {
        let cols = super::refunds::COLUMNS
            .split(", ")
            .map(|c| format!("f.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = bound(&format!(
            "SELECT {cols} FROM refunds f JOIN payments p ON p.id = f.payment_id JOIN checkout_sessions s ON s.id = p.session_id \
             WHERE ($1 = '' OR f.status = $1) AND ($2 = '' OR s.kind = $2) AND {PAYMENT_MATCHES} \
             AND f.created_at >= $6 AND f.created_at < $7 \
             AND ($8 = '' OR f.id = $8 OR f.out_refund_no = $8 OR p.id = $8 OR p.out_trade_no = $8 \
                  OR p.provider_transaction_id = $8 OR s.id = $8 OR s.merchant_reference = $8) \
             ORDER BY f.created_at DESC, f.id DESC LIMIT $9 OFFSET $10"
        ), f, limit, offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(super::refunds::refund).collect()
    }

    /// Events about any of `objects`, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn events_about(&self, objects: &[String]) -> Result<Vec<Event>, sqlx::Error> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT seq, id, type, object_id, payload, created_at FROM events WHERE object_id IN ({}) ORDER BY seq",
            placeholders(1, objects.len())
        );
        let mut q = sqlx::query(&sql);
        for o in objects {
            q = q.bind(o);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(super::events::event).collect()
    }

    /// The deliveries of `events`, with their endpoints' URLs.
    ///
    /// # Errors
    /// On a database error.
    pub async fn deliveries_of(&self, events: &[String]) -> Result<Vec<DeliveryRow>, sqlx::Error> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.id, d.event_id, d.endpoint_id, e.url, d.status, d.attempts, d.next_attempt_at, \
             d.last_status, d.last_error, d.delivered_at FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.event_id IN ({}) ORDER BY d.created_at, d.id",
            placeholders(1, events.len())
        );
        let mut q = sqlx::query(&sql);
        for e in events {
            q = q.bind(e);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryRow {
                    id: r.try_get("id")?,
                    event_id: r.try_get("event_id")?,
                    endpoint_id: r.try_get("endpoint_id")?,
                    url: r.try_get("url")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    last_status: r.try_get("last_status")?,
                    last_error: r.try_get("last_error")?,
                    delivered_at: r.try_get("delivered_at")?,
                })
            })
            .collect()
    }

    /// What operators did to any of `objects`, oldest first, at most `limit` entries (the
    /// newest).
    ///
    /// # Errors
    /// On a database error.
    pub async fn audit_about(
        &self,
        objects: &[String],
        limit: i64,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM audit_log WHERE target IN ({}) ORDER BY seq DESC LIMIT ${}",
            super::audit::COLUMNS,
            placeholders(1, objects.len()),
            objects.len() + 1
        );
        let mut q = sqlx::query(&sql);
        for o in objects {
            q = q.bind(o);
        }
        let rows = q.bind(limit).fetch_all(self.pool()).await?;
        let mut entries = rows
            .iter()
            .map(super::audit::entry)
            .collect::<Result<Vec<_>, _>>()?;
        entries.reverse();
        Ok(entries)
    }

    /// Every try of `deliveries`, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn delivery_attempts(
        &self,
        deliveries: &[String],
    ) -> Result<Vec<AttemptRow>, sqlx::Error> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT delivery_id, attempted_at, status_code, error, duration_ms FROM webhook_attempts \
             WHERE delivery_id IN ({}) ORDER BY seq",
            placeholders(1, deliveries.len())
        );
        let mut q = sqlx::query(&sql);
        for d in deliveries {
            q = q.bind(d);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRow {
                    delivery_id: r.try_get("delivery_id")?,
                    attempted_at: r.try_get("attempted_at")?,
                    status_code: r.try_get("status_code")?,
                    error: r.try_get("error")?,
                    duration_ms: r.try_get("duration_ms")?,
                })
            })
            .collect()
    }
}
