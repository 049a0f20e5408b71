//! Simulated refunds: partial and multiple (at most 50 per order), their total never above what
//! was paid, idempotent on `out_refund_no`; `PROCESSING` until settled, then `REFUND.SUCCESS`.

use std::time::Duration;

use axum::http::StatusCode;
use serde::Deserialize;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::Sandbox;
use super::auth::{Verified, parse_body};
use super::orders::{self, ByColumn};
use super::outbox::{self, Outgoing};
use super::util::{self, now_ms};
use super::wire::{ApiError, Reply};

/// How long a refund stays `PROCESSING` at time scale 1.
const PROCESSING_TIME: Duration = Duration::from_secs(5);
/// WeChat's limit of refunds per order.
const MAX_REFUNDS_PER_ORDER: i64 = 50;

/// A stored refund.
#[derive(Debug, Clone)]
pub struct Refund {
    pub out_refund_no: String,
    pub mchid: String,
    pub refund_id: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount: i64,
    pub total: i64,
    pub currency: String,
    pub notify_url: Option<String>,
    pub request_hash: String,
    pub status: String,
    pub success_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "out_refund_no, mchid, refund_id, out_trade_no, transaction_id, amount, \
    total, currency, notify_url, request_hash, status, success_at, created_at";

impl Refund {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            out_refund_no: row.try_get("out_refund_no")?,
            mchid: row.try_get("mchid")?,
            refund_id: row.try_get("refund_id")?,
            out_trade_no: row.try_get("out_trade_no")?,
            transaction_id: row.try_get("transaction_id")?,
            amount: row.try_get("amount")?,
            total: row.try_get("total")?,
            currency: row.try_get("currency")?,
            notify_url: row.try_get("notify_url")?,
            request_hash: row.try_get("request_hash")?,
            status: row.try_get("status")?,
            success_at: row.try_get("success_at")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// The refund object WeChat answers to create and query.
    pub fn json(&self) -> serde_json::Value {
        let mut r = serde_json::json!({
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": util::wechat_time(self.created_at),
            "status": self.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": self.total, "refund": self.amount, "from": [],
                "payer_total": self.total, "payer_refund": self.amount,
                "settlement_refund": self.amount, "settlement_total": self.total,
                "discount_refund": 0, "currency": self.currency, "refund_fee": 0,
            },
            "promotion_detail": [],
        });
        if let Some(at) = self.success_at {
            r["success_time"] = util::wechat_time(at).into();
        }
        r
    }

    /// The decrypted resource of `REFUND.SUCCESS`.
    fn notice_json(&self) -> serde_json::Value {
        serde_json::json!({
            "mchid": self.mchid,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "refund_status": self.status,
            "success_time": self.success_at.map(util::wechat_time),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": self.total, "refund": self.amount,
                "payer_total": self.total, "payer_refund": self.amount,
            },
        })
    }
}

#[derive(Deserialize)]
struct AmountIn {
    refund: i64,
    total: i64,
    currency: String,
}

#[derive(Deserialize)]
struct CreateIn {
    transaction_id: Option<String>,
    out_trade_no: Option<String>,
    out_refund_no: String,
    reason: Option<String>,
    notify_url: Option<String>,
    amount: AmountIn,
}

fn valid_out_refund_no(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*' | b'@'))
}

async fn find(
    sandbox: &Sandbox,
    mchid: &str,
    out_refund_no: &str,
) -> Result<Option<Refund>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_refunds WHERE mchid = $1 AND out_refund_no = $2"
    ))
    .bind(mchid)
    .bind(out_refund_no)
    .fetch_optional(sandbox.store().pool())
    .await?
    .as_ref()
    .map(Refund::from_row)
    .transpose()
}

/// The most recent refunds, for the dashboard.
pub async fn recent(sandbox: &Sandbox, limit: i64) -> Result<Vec<Refund>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_refunds ORDER BY created_at DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(sandbox.store().pool())
    .await?
    .iter()
    .map(Refund::from_row)
    .collect()
}

/// `POST /v3/refund/domestic/refunds`.
pub async fn create(
    sandbox: &Sandbox,
    verified: &Verified,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let input: CreateIn = parse_body(body)?;
    if !valid_out_refund_no(&input.out_refund_no) {
        return Err(ApiError::field("out_refund_no", "格式校验失败"));
    }
    if input
        .notify_url
        .as_deref()
        .is_some_and(|u| !orders::valid_notify_url(u))
    {
        return Err(ApiError::field("notify_url", "格式校验失败"));
    }
    if input.amount.currency != "CNY" {
        return Err(ApiError::field(
            "amount/currency",
            "取值校验失败：仅支持CNY",
        ));
    }
    if input.amount.refund < 1 {
        return Err(ApiError::field(
            "amount/refund",
            "取值校验失败：退款金额至少为1分",
        ));
    }
    let order = match (&input.transaction_id, &input.out_trade_no) {
        (Some(id), _) => orders::find_by(sandbox, ByColumn::TransactionId, id)
            .await?
            .filter(|o| o.mchid == verified.mchid),
        (None, Some(n)) => orders::find(sandbox, &verified.mchid, n).await?,
        (None, None) => {
            return Err(ApiError::param(
                "transaction_id和out_trade_no必须二选一进行传参",
            ));
        }
    }
    .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "订单不存在"))?;
    if order.scenario() == super::Scenario::Slow {
        tokio::time::sleep(super::scenarios::SLOW).await;
    }
    let request_hash = util::canonical_hash("refund", body);
    let now = now_ms();
    let mut tx = sandbox.store().begin().await?;
    // Touching the order row serialises concurrent refunds of one order (a row lock on Postgres,
    // the write lock on SQLite), so the total check below cannot race.
    sqlx::query("UPDATE sandbox_orders SET updated_at = $1 WHERE mchid = $2 AND out_trade_no = $3")
        .bind(now)
        .bind(&order.mchid)
        .bind(&order.out_trade_no)
        .execute(&mut *tx)
        .await?;
    let existing = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_refunds WHERE mchid = $1 AND out_refund_no = $2"
    ))
    .bind(&verified.mchid)
    .bind(&input.out_refund_no)
    .fetch_optional(&mut *tx)
    .await?
    .as_ref()
    .map(Refund::from_row)
    .transpose()?;
    if let Some(existing) = existing {
        tx.commit().await?;
        if existing.request_hash != request_hash {
            return Err(ApiError::invalid("退款单号重复，且与原请求参数不一致"));
        }
        return Reply::json(&existing.json());
    }
    let Some(transaction_id) = order.transaction_id.clone() else {
        return Err(ApiError::invalid("订单未支付，不能退款"));
    };
    if !matches!(order.trade_state.as_str(), "SUCCESS" | "REFUND") {
        return Err(ApiError::invalid("订单状态不正确，不能退款"));
    }
    if input.amount.total != order.amount {
        return Err(ApiError::param("订单金额与原订单金额不一致"));
    }
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS refunded FROM sandbox_refunds \
         WHERE mchid = $1 AND out_trade_no = $2 AND status IN ('PROCESSING', 'SUCCESS')",
    )
    .bind(&order.mchid)
    .bind(&order.out_trade_no)
    .fetch_one(&mut *tx)
    .await?;
    let count: i64 = row.try_get("n")?;
    let refunded: i64 = row.try_get("refunded")?;
    if count >= MAX_REFUNDS_PER_ORDER {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "RULE_LIMIT",
            "单笔订单退款次数已达上限（50次）",
        ));
    }
    if refunded.saturating_add(input.amount.refund) > order.amount {
        return Err(ApiError::invalid("申请退款金额超过订单可退金额"));
    }
    let refund_id = format!("5030{}{}", util::compact_time(now), util::digits(11));
    let settle_at = now.saturating_add(
        i64::try_from(sandbox.scaled(PROCESSING_TIME).as_millis()).unwrap_or(i64::MAX),
    );
    sqlx::query(
        "INSERT INTO sandbox_refunds (out_refund_no, mchid, refund_id, out_trade_no, \
         transaction_id, amount, total, currency, reason, notify_url, request_hash, status, \
         settle_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'CNY', $8, $9, $10, 'PROCESSING', $11, $12)",
    )
    .bind(&input.out_refund_no)
    .bind(&verified.mchid)
    .bind(&refund_id)
    .bind(&order.out_trade_no)
    .bind(&transaction_id)
    .bind(input.amount.refund)
    .bind(order.amount)
    .bind(&input.reason)
    .bind(&input.notify_url)
    .bind(&request_hash)
    .bind(settle_at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE sandbox_orders SET trade_state = 'REFUND', trade_state_desc = '订单发生过退款', \
         updated_at = $1 WHERE mchid = $2 AND out_trade_no = $3",
    )
    .bind(now)
    .bind(&order.mchid)
    .bind(&order.out_trade_no)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sandbox.wake_notifier();
    let refund = find(sandbox, &verified.mchid, &input.out_refund_no)
        .await?
        .ok_or_else(|| ApiError::system(&"refund vanished after insert"))?;
    Reply::json(&refund.json())
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}`.
pub async fn query(
    sandbox: &Sandbox,
    verified: &Verified,
    out_refund_no: &str,
) -> Result<Reply, ApiError> {
    settle_due(sandbox).await?;
    let refund = find(sandbox, &verified.mchid, out_refund_no)
        .await?
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在")
        })?;
    Reply::json(&refund.json())
}

/// When the next processing refund is due to settle, if any.
pub async fn next_settlement(sandbox: &Sandbox) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT MIN(settle_at) AS due FROM sandbox_refunds WHERE status = 'PROCESSING'")
        .fetch_one(sandbox.store().pool())
        .await?
        .try_get("due")
}

/// Settles refunds whose processing time is over and queues their `REFUND.SUCCESS`.
pub async fn settle_due(sandbox: &Sandbox) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let due: Vec<Refund> = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_refunds WHERE status = 'PROCESSING' AND settle_at <= $1"
    ))
    .bind(now)
    .fetch_all(sandbox.store().pool())
    .await?
    .iter()
    .map(Refund::from_row)
    .collect::<Result<_, _>>()?;
    for mut refund in due {
        let mut tx = sandbox.store().begin().await?;
        let changed = sqlx::query(
            "UPDATE sandbox_refunds SET status = 'SUCCESS', success_at = $1 \
             WHERE mchid = $2 AND out_refund_no = $3 AND status = 'PROCESSING'",
        )
        .bind(now)
        .bind(&refund.mchid)
        .bind(&refund.out_refund_no)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 1 {
            refund.status = "SUCCESS".into();
            refund.success_at = Some(now);
            // Without a notify_url of its own, the order's is used (WeChat uses the one
            // configured on the merchant platform, which the sandbox does not have).
            let notify_url = match refund.notify_url.clone() {
                Some(url) => Some(url),
                None => orders::find(sandbox, &refund.mchid, &refund.out_trade_no)
                    .await?
                    .map(|o| o.notify_url),
            };
            if let Some(notify_url) = notify_url {
                let outgoing = Outgoing {
                    event_type: "REFUND.SUCCESS",
                    summary: "退款成功",
                    original_type: "refund",
                    resource: refund.notice_json(),
                    notify_url,
                    out_trade_no: refund.out_trade_no.clone(),
                };
                outbox::enqueue(&mut tx, &outgoing, &[now]).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}
