//! Unmatched payments: authentic provider reports of trades that no attempt of ours has. One
//! row per trade (`method`, `out_trade_no`); repeated reports count up on it.

use sqlx::Row;

use super::{Store, Tx};
use crate::domain::ids::UnmatchedId;
use crate::domain::{Millis, PaymentMethod, TradeState};

const COLUMNS: &str = "id, method, out_trade_no, provider_transaction_id, amount, currency, app_id, \
                       merchant_id, status, provider_detail, reports, created_at, updated_at";

/// What the provider reported about a trade we do not know.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub method: PaymentMethod,
    pub out_trade_no: &'a str,
    pub transaction_id: Option<&'a str>,
    /// Minor units.
    pub amount: i64,
    pub currency: Option<&'a str>,
    pub app_id: &'a str,
    pub merchant_id: Option<&'a str>,
    pub status: TradeState,
    /// The provider's own words for it (WeChat's `trade_state_desc`, Alipay's `trade_status`).
    pub provider_detail: &'a str,
}

/// A stored unmatched payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    pub id: String,
    pub method: PaymentMethod,
    pub out_trade_no: String,
    pub provider_transaction_id: Option<String>,
    pub amount: i64,
    pub currency: Option<String>,
    pub app_id: String,
    pub merchant_id: Option<String>,
    pub status: TradeState,
    pub provider_detail: String,
    /// How many authentic reports of it arrived.
    pub reports: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Records `report` in `tx`: a new row, or one more report on the trade's row. Returns the row
/// and whether it is news — the trade is new, or its status changed — which is when it is
/// raised; a repeated report (providers retry) is counted, not raised again.
///
/// # Errors
/// On a database error.
pub async fn record(
    tx: &mut Tx,
    report: &Report<'_>,
    now: Millis,
) -> Result<(Unmatched, bool), sqlx::Error> {
    let id = UnmatchedId::generate();
    let inserted = sqlx::query(&format!(
        "INSERT INTO unmatched_payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) \
         ON CONFLICT (method, out_trade_no) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(id.as_str())
    .bind(report.method.as_str())
    .bind(report.out_trade_no)
    .bind(report.transaction_id)
    .bind(report.amount)
    .bind(report.currency)
    .bind(report.app_id)
    .bind(report.merchant_id)
    .bind(report.status.as_str())
    .bind(report.provider_detail)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = inserted {
        return Ok((unmatched(&row)?, true));
    }
    // Known: a status change is news; the same status again is only counted. The guard makes
    // concurrent duplicates count once each and raise at most once.
    let changed = sqlx::query(&format!(
        "UPDATE unmatched_payments SET status = $1, provider_detail = $2, amount = $3, \
         provider_transaction_id = COALESCE($4, provider_transaction_id), reports = reports + 1, updated_at = $5 \
         WHERE method = $6 AND out_trade_no = $7 AND status <> $1 RETURNING {COLUMNS}"
    ))
    .bind(report.status.as_str())
    .bind(report.provider_detail)
    .bind(report.amount)
    .bind(report.transaction_id)
    .bind(now)
    .bind(report.method.as_str())
    .bind(report.out_trade_no)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = changed {
        return Ok((unmatched(&row)?, true));
    }
    let repeated = sqlx::query(&format!(
        "UPDATE unmatched_payments SET reports = reports + 1, updated_at = $1 \
         WHERE method = $2 AND out_trade_no = $3 RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(report.method.as_str())
    .bind(report.out_trade_no)
    .fetch_one(&mut **tx)
    .await?;
    Ok((unmatched(&repeated)?, false))
}

impl Store {
    /// One unmatched payment by id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn get_unmatched(&self, id: &UnmatchedId) -> Result<Option<Unmatched>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM unmatched_payments WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(unmatched).transpose()
    }

    /// Unmatched payments, newest first, after `starting_after` when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_unmatched(
        &self,
        starting_after: Option<&UnmatchedId>,
        limit: i64,
    ) -> Result<Vec<Unmatched>, sqlx::Error> {
        let rows = match starting_after {
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM unmatched_payments ORDER BY created_at DESC, id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
            Some(after) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM unmatched_payments u WHERE EXISTS \
                     (SELECT 1 FROM unmatched_payments a WHERE a.id = $1 AND \
                     (u.created_at < a.created_at OR (u.created_at = a.created_at AND u.id < a.id))) \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(after.as_str())
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(unmatched).collect()
    }
}

fn unmatched(r: &sqlx::any::AnyRow) -> Result<Unmatched, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    let method: String = r.try_get("method")?;
    let status: String = r.try_get("status")?;
    Ok(Unmatched {
        id: r.try_get("id")?,
        method: PaymentMethod::from_name(&method)
            .ok_or_else(|| decode(format!("bad payment method {method:?}")))?,
        out_trade_no: r.try_get("out_trade_no")?,
        provider_transaction_id: r.try_get("provider_transaction_id")?,
        amount: r.try_get("amount")?,
        currency: r.try_get("currency")?,
        app_id: r.try_get("app_id")?,
        merchant_id: r.try_get("merchant_id")?,
        status: TradeState::parse(&status)
            .ok_or_else(|| decode(format!("bad trade status {status:?}")))?,
        provider_detail: r.try_get("provider_detail")?,
        reports: r.try_get("reports")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
