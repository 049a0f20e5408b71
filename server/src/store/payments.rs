//! Payment attempts: insert before any provider call, guarded status transitions after.

use sqlx::Row;

use super::{Store, Tx};
use crate::domain::ids::{PaymentId, SessionId};
use crate::domain::status::State;
use crate::domain::{Channel, Millis, Payment, PaymentMethod, PaymentStatus};

pub(super) const COLUMNS: &str = "id, session_id, method, channel, status, amount, currency, out_trade_no, provider_transaction_id, \
                       failure_reason, appid, openid, next_action, expires_at, checked_at, created_at, updated_at, environment";

/// The UPDATE of [`Store::mark_payment_pending`], bound.
fn mark_pending(
    id: &PaymentId,
    next_action: String,
    now: Millis,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(MARK_PENDING)
        .bind(next_action)
        .bind(now)
        .bind(id.as_str())
}

impl Store {
    /// Stores a new attempt in `created`: durable before the provider hears of it (committed
    /// when this returns, on SQLite in a group with other writes).
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_payment(&self, p: &Payment) -> Result<(), sqlx::Error> {
        let p = std::sync::Arc::new(p.clone());
        self.write_statement(move |conn| {
            let p = p.clone();
            Box::pin(async move {
                sqlx::query(&format!(
                    "INSERT INTO payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9, $10, NULL, $11, $12, $13, $13, $14)"
                ))
                .bind(p.id.as_str())
                .bind(p.session_id.as_str())
                .bind(p.method.as_str())
                .bind(p.channel.as_str())
                .bind(p.status.as_str())
                .bind(p.amount)
                .bind(&p.currency)
                .bind(&p.out_trade_no)
                .bind(&p.appid)
                .bind(&p.openid)
                .bind(p.expires_at)
                .bind(p.checked_at)
                .bind(p.created_at)
                .bind(p.environment)
                .execute(conn)
                .await
                .map(drop)
            })
        })
        .await
    }

    /// Records the provider's answer: `created → pending` with the action to replay, and
    /// `event` (type, object id, object) with it in one transaction when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn mark_payment_pending(
        &self,
        id: &PaymentId,
        next_action: &str,
        now: Millis,
        event: Option<(super::events::EventType, String, serde_json::Value)>,
    ) -> Result<bool, sqlx::Error> {
        let (id, next_action) = (id.clone(), next_action.to_owned());
        let Some(event) = event else {
            return self
                .write_statement(move |conn| {
                    let (id, next_action) = (id.clone(), next_action.clone());
                    Box::pin(async move {
                        let done = mark_pending(&id, next_action, now).execute(conn).await?;
                        Ok(done.rows_affected() == 1)
                    })
                })
                .await;
        };
        self.write(move |tx| {
            let (id, next_action, event) = (id.clone(), next_action.clone(), event.clone());
            Box::pin(async move {
                let done = mark_pending(&id, next_action, now)
                    .execute(&mut **tx)
                    .await?;
                let marked = done.rows_affected() == 1;
                if marked {
                    super::events::emit(tx, event.0, &event.1, event.2).await?;
                }
                Ok(marked)
            })
        })
        .await
    }

    /// One attempt by id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn get_payment(&self, id: &PaymentId) -> Result<Option<Payment>, sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(payment).transpose()
    }

    /// The attempt with this `out_trade_no`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn payment_by_out_trade_no(
        &self,
        out_trade_no: &str,
    ) -> Result<Option<Payment>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE out_trade_no = $1"
        ))
        .bind(out_trade_no)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(payment).transpose()
    }

    /// Attempts, newest first, of `session` only when given, after `starting_after` when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_payments(
        &self,
        session: Option<&SessionId>,
        starting_after: Option<&PaymentId>,
        limit: i64,
    ) -> Result<Vec<Payment>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments p WHERE ($1 IS NULL OR p.session_id = $1) AND ($2 IS NULL OR EXISTS \
             (SELECT 1 FROM payments a WHERE a.id = $2 AND \
             (p.created_at < a.created_at OR (p.created_at = a.created_at AND p.id < a.id)))) \
             ORDER BY p.created_at DESC, p.id DESC LIMIT $3"
        ))
        .bind(session.map(SessionId::as_str))
        .bind(starting_after.map(PaymentId::as_str))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(payment).collect()
    }

    /// A session's attempts, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn payments_of_session(
        &self,
        session: &SessionId,
    ) -> Result<Vec<Payment>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE session_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(session.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(payment).collect()
    }

    /// The latest attempt of each of `sessions`, by session id (absent for a session without
    /// attempts). One query for a whole page of sessions.
    ///
    /// # Errors
    /// On a database error.
    pub async fn latest_payments(
        &self,
        sessions: &[&SessionId],
    ) -> Result<std::collections::HashMap<String, Payment>, sqlx::Error> {
        let mut out = std::collections::HashMap::new();
        if sessions.is_empty() {
            return Ok(out);
        }
        let list: Vec<String> = (1..=sessions.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM payments WHERE session_id IN ({}) \
             ORDER BY session_id, created_at DESC, id DESC",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for s in sessions {
            query = query.bind(s.as_str());
        }
        for row in query.fetch_all(self.pool()).await? {
            let p = payment(&row)?;
            out.entry(p.session_id.to_string()).or_insert(p);
        }
        Ok(out)
    }

    /// The payment each of `sessions` leads to — the attempt that paid it (the first to succeed:
    /// a later one was a second payment, refunded), else its latest —
    /// with the sum of that payment's succeeded refunds; by session id, absent for a session
    /// without attempts. One query for a whole page of sessions.
    ///
    /// # Errors
    /// On a database error.
    pub async fn payment_summaries(
        &self,
        sessions: &[&SessionId],
    ) -> Result<std::collections::HashMap<String, PaymentSummary>, sqlx::Error> {
        let mut out = std::collections::HashMap::new();
        if sessions.is_empty() {
            return Ok(out);
        }
        let list: Vec<String> = (1..=sessions.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT p.session_id, p.id, p.status, CAST(COALESCE((SELECT SUM(r.amount) FROM refunds r \
             WHERE r.payment_id = p.id AND r.status = 'succeeded'), 0) AS BIGINT) AS refunded \
             FROM payments p WHERE p.session_id IN ({}) \
             ORDER BY p.session_id, CASE WHEN p.status = 'succeeded' THEN 0 ELSE 1 END, \
             CASE WHEN p.status = 'succeeded' THEN p.updated_at ELSE -p.created_at END, p.id DESC",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for s in sessions {
            query = query.bind(s.as_str());
        }
        for r in query.fetch_all(self.pool()).await? {
            let session: String = r.try_get("session_id")?;
            if out.contains_key(&session) {
                continue;
            }
            out.insert(
                session,
                PaymentSummary {
                    payment: r.try_get("id")?,
                    status: r.try_get("status")?,
                    amount_refunded: r.try_get("refunded")?,
                },
            );
        }
        Ok(out)
    }

    /// Unfinished attempts last checked before `before`, oldest check first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn unfinished_payments(
        &self,
        before: Millis,
        limit: i64,
    ) -> Result<Vec<Payment>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE status IN ('created', 'pending') AND checked_at < $1 ORDER BY checked_at LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(payment).collect()
    }

    /// Attempts that succeeded (were last updated) within `[from, to)`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn succeeded_between(
        &self,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<Payment>, sqlx::Error> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE status = 'succeeded' AND updated_at >= $1 AND updated_at < $2"))
            .bind(from)
            .bind(to)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(payment).collect()
    }

    /// Notes that the provider was asked about `id` at `now`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn touch_payment(&self, id: &PaymentId, now: Millis) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE payments SET checked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.as_str())
            .execute(self.pool())
            .await
            .map(drop)
    }

    /// Records a single-use token; `false` if it was used before.
    ///
    /// # Errors
    /// On a database error.
    pub async fn use_token_once(&self, token_hash: &str, now: Millis) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("INSERT INTO used_tokens (token_hash, used_at) VALUES ($1, $2) ON CONFLICT (token_hash) DO NOTHING")
            .bind(token_hash)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The payment a checkout session leads to (see [`Store::payment_summaries`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSummary {
    /// `pay_…`
    pub payment: String,
    pub status: String,
    /// Minor units refunded (succeeded refunds).
    pub amount_refunded: i64,
}

const MARK_PENDING: &str = "UPDATE payments SET status = 'pending', next_action = $1, updated_at = $2, checked_at = $2 WHERE id = $3 AND status = 'created'";

/// Ends an unfinished attempt unpaid — `to` is failed or canceled — in `tx`, with why;
/// `None` when it was already finished — a duplicate changes nothing. Successes go through
/// [`succeed_all`].
///
/// # Errors
/// On a database error.
pub async fn finish(
    tx: &mut Tx,
    id: &PaymentId,
    to: PaymentStatus,
    reason: &str,
    now: Millis,
) -> Result<Option<Payment>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "UPDATE payments SET status = $1, failure_reason = $2, updated_at = $3, checked_at = $3 \
         WHERE id = $4 AND status IN ('created', 'pending') RETURNING {COLUMNS}"
    ))
    .bind(to.as_str())
    .bind(reason)
    .bind(now)
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(payment).transpose()
}

/// Moves every unfinished attempt of `attempts` (id, the provider's transaction id) to
/// `succeeded` in `tx`, in one statement; returns those it moved, in no particular order.
/// Finished ones are left as they are, as [`finish`] leaves them.
///
/// # Errors
/// On a database error.
pub async fn succeed_all(
    tx: &mut Tx,
    attempts: &[(&PaymentId, Option<&str>)],
    now: Millis,
) -> Result<Vec<Payment>, sqlx::Error> {
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    // $1 is the time; then each attempt's id and transaction id.
    let cases: String = (0..attempts.len())
        .map(|i| format!(" WHEN ${} THEN ${}", 2 * i + 2, 2 * i + 3))
        .collect();
    let ids: Vec<String> = (0..attempts.len())
        .map(|i| format!("${}", 2 * i + 2))
        .collect();
    // The status test is a `CASE` so that the partial index of unfinished attempts cannot
    // serve it, only the ids' own index (see `sessions::complete_all`: with statistics behind
    // a burst of attempts, Postgres read 27,806 entries of it to update 4 attempts).
    let sql = format!(
        "UPDATE payments SET status = 'succeeded', \
         provider_transaction_id = COALESCE(CASE id{cases} END, provider_transaction_id), \
         failure_reason = NULL, updated_at = $1, checked_at = $1 \
         WHERE id IN ({}) AND CASE WHEN status IN ('created', 'pending') THEN 1 END = 1 \
         RETURNING {COLUMNS}",
        ids.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(now);
    for (id, transaction_id) in attempts {
        query = query.bind(id.as_str()).bind(*transaction_id);
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(payment)
        .collect()
}

pub(super) fn payment(r: &sqlx::any::AnyRow) -> Result<Payment, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    let id: String = r.try_get("id")?;
    let session: String = r.try_get("session_id")?;
    let channel: String = r.try_get("channel")?;
    let status: String = r.try_get("status")?;
    let method: String = r.try_get("method")?;
    Ok(Payment {
        id: PaymentId::parse(&id).ok_or_else(|| decode(format!("bad payment id {id:?}")))?,
        session_id: SessionId::parse(&session)
            .ok_or_else(|| decode(format!("bad session id {session:?}")))?,
        method: PaymentMethod::from_name(&method)
            .ok_or_else(|| decode(format!("bad payment method {method:?}")))?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| decode(format!("bad channel {channel:?}")))?,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| decode(format!("bad payment status {status:?}")))?,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        out_trade_no: r.try_get("out_trade_no")?,
        provider_transaction_id: r.try_get("provider_transaction_id")?,
        failure_reason: r.try_get("failure_reason")?,
        appid: r.try_get("appid")?,
        openid: r.try_get("openid")?,
        next_action: r.try_get("next_action")?,
        expires_at: r.try_get("expires_at")?,
        checked_at: r.try_get("checked_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        environment: r
            .try_get::<Option<String>, _>("environment")?
            .as_deref()
            .and_then(crate::domain::environment::class),
    })
}
