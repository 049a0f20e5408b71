//! Refunds: created `pending` only while the total stays within what was paid, then finished
//! by the provider's answer or notification.

use sqlx::Row;

use super::{Store, Tx};
use crate::domain::ids::{Id, PaymentId, RefundKind};
use crate::domain::status::State;
use crate::domain::{Millis, RefundStatus};

/// A stored refund.
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub amount: i64,
    pub status: RefundStatus,
    pub reason: Option<String>,
    pub out_refund_no: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Why a refund could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("the payment has not succeeded")]
    NotPaid,
    #[error("refunds would total {would} of {paid} paid")]
    TooMuch { would: i64, paid: i64 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub(super) const COLUMNS: &str =
    "id, payment_id, amount, status, reason, out_refund_no, created_at, updated_at";

impl Store {
    /// Records a pending refund of `amount` (the unrefunded rest when `None`) for a succeeded
    /// payment, if all refunds that have not failed stay within the amount paid. Concurrent requests for one payment are
    /// serialised by touching the payment row first.
    ///
    /// # Errors
    /// [`RefundError`].
    pub async fn insert_refund(
        &self,
        payment: &PaymentId,
        amount: Option<i64>,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<Refund, RefundError> {
        let mut tx = self.begin().await?;
        let locked = sqlx::query("UPDATE payments SET updated_at = updated_at WHERE id = $1 AND status = 'succeeded' RETURNING amount")
            .bind(payment.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = locked else {
            return Err(RefundError::NotPaid);
        };
        let paid: i64 = row.try_get("amount")?;
        let refunded: i64 = sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM refunds WHERE payment_id = $1 AND status <> 'failed'")
            .bind(payment.as_str())
            .fetch_one(&mut *tx)
            .await?
            .try_get("total")?;
        let amount = amount.unwrap_or(paid.saturating_sub(refunded));
        // Checked: an amount near i64::MAX must not wrap round into "within what was paid".
        let would = refunded.checked_add(amount);
        if amount < 1 || would.is_none_or(|w| w > paid) {
            return Err(RefundError::TooMuch {
                would: would.unwrap_or(i64::MAX),
                paid,
            });
        }
        let id = Id::<RefundKind>::generate();
        let refund = Refund {
            out_refund_no: id.as_str().trim_start_matches("re_").to_owned(),
            id: id.to_string(),
            payment_id: payment.to_string(),
            amount,
            status: RefundStatus::Pending,
            reason: reason.map(str::to_owned),
            created_at: now,
            updated_at: now,
        };
        sqlx::query(&format!(
            "INSERT INTO refunds ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
        ))
        .bind(&refund.id)
        .bind(&refund.payment_id)
        .bind(refund.amount)
        .bind(refund.status.as_str())
        .bind(&refund.reason)
        .bind(&refund.out_refund_no)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(refund)
    }

    /// Refunds, newest first, of `payment` only when given, after `starting_after` when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_refunds(
        &self,
        payment: Option<&PaymentId>,
        starting_after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Refund>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds f WHERE ($1 IS NULL OR f.payment_id = $1) AND ($2 IS NULL OR EXISTS \
             (SELECT 1 FROM refunds a WHERE a.id = $2 AND \
             (f.created_at < a.created_at OR (f.created_at = a.created_at AND f.id < a.id)))) \
             ORDER BY f.created_at DESC, f.id DESC LIMIT $3"
        ))
        .bind(payment.map(PaymentId::as_str))
        .bind(starting_after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(refund).collect()
    }

    /// One refund by id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn get_refund(&self, id: &str) -> Result<Option<Refund>, sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(refund).transpose()
    }

    /// Pending refunds not updated since `before`, marking them updated now (so a later round,
    /// or another instance, leaves them alone for a while).
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_pending_refunds(
        &self,
        before: Millis,
        now: Millis,
        limit: i64,
    ) -> Result<Vec<Refund>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "UPDATE refunds SET updated_at = $1 WHERE id IN (SELECT id FROM refunds WHERE status = 'pending' AND updated_at < $2 \
             ORDER BY updated_at LIMIT $3) RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(refund).collect()
    }

    /// The refund with this `out_refund_no`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn refund_by_out_refund_no(
        &self,
        out_refund_no: &str,
    ) -> Result<Option<Refund>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE out_refund_no = $1"
        ))
        .bind(out_refund_no)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(refund).transpose()
    }
}

/// `pending → to` in `tx`; `None` when already finished.
///
/// # Errors
/// On a database error.
pub async fn finish(
    tx: &mut Tx,
    id: &str,
    to: RefundStatus,
    now: Millis,
) -> Result<Option<Refund>, sqlx::Error> {
    let row = sqlx::query(&format!("UPDATE refunds SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'pending' RETURNING {COLUMNS}"))
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(refund).transpose()
}

pub(super) fn refund(r: &sqlx::any::AnyRow) -> Result<Refund, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(Refund {
        id: r.try_get("id")?,
        payment_id: r.try_get("payment_id")?,
        amount: r.try_get("amount")?,
        status: RefundStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("bad refund status {status:?}").into()))?,
        reason: r.try_get("reason")?,
        out_refund_no: r.try_get("out_refund_no")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
