//! The simulated Alipay's trades and refunds, kept in the same database as everything else.
//! Every change is one guarded statement (or one transaction) so concurrent shoppers and calls
//! behave as at Alipay: a trade is paid once, a refund request number refunds once.

use sqlx::Row as _;

use super::super::Sandbox;
use super::super::outbox::{self, Outgoing};
use super::super::scenarios::Scenario;
use super::super::util::{self, now_ms};
use crate::providers::alipay::amount::to_yuan;
use crate::providers::alipay::client::beijing_time;

/// `trade_status` values.
pub const WAIT: &str = "WAIT_BUYER_PAY";
pub const SUCCESS: &str = "TRADE_SUCCESS";
pub const CLOSED: &str = "TRADE_CLOSED";

/// A simulated trade.
#[derive(Debug, Clone)]
pub struct AliTrade {
    pub app_id: String,
    pub out_trade_no: String,
    pub trade_no: String,
    pub token: String,
    pub method: String,
    pub subject: String,
    /// Fen.
    pub total_amount: i64,
    pub notify_url: Option<String>,
    pub return_url: Option<String>,
    pub quit_url: Option<String>,
    pub status: String,
    pub visible: bool,
    /// Fen refunded so far.
    pub refunded: i64,
    /// Unix ms.
    pub time_expire: Option<i64>,
    pub paid_at: Option<i64>,
    pub created_at: i64,
}

impl AliTrade {
    /// The scenario its amount selects.
    #[must_use]
    pub fn scenario(&self) -> Scenario {
        Scenario::for_amount(self.total_amount)
    }

    /// Whether the shopper may still pay it.
    pub fn payable(&self, now: i64) -> Result<(), &'static str> {
        if self.status == SUCCESS {
            return Err("该交易已支付 · already paid");
        }
        if self.status != WAIT {
            return Err("交易已关闭 · the trade is closed");
        }
        if self.time_expire.is_some_and(|t| t <= now) {
            return Err("交易已超时 · the trade has expired");
        }
        Ok(())
    }
}

const COLUMNS: &str = "app_id, out_trade_no, trade_no, token, method, subject, total_amount, \
    notify_url, return_url, quit_url, status, visible, refunded, time_expire, paid_at, created_at";

fn row(r: &sqlx::any::AnyRow) -> Result<AliTrade, sqlx::Error> {
    Ok(AliTrade {
        app_id: r.try_get("app_id")?,
        out_trade_no: r.try_get("out_trade_no")?,
        trade_no: r.try_get("trade_no")?,
        token: r.try_get("token")?,
        method: r.try_get("method")?,
        subject: r.try_get("subject")?,
        total_amount: r.try_get("total_amount")?,
        notify_url: r.try_get("notify_url")?,
        return_url: r.try_get("return_url")?,
        quit_url: r.try_get("quit_url")?,
        status: r.try_get("status")?,
        visible: r.try_get::<i64, _>("visible")? != 0,
        refunded: r.try_get("refunded")?,
        time_expire: r.try_get("time_expire")?,
        paid_at: r.try_get("paid_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The trade `out_trade_no` of `app_id`.
pub async fn find(
    sandbox: &Sandbox,
    app_id: &str,
    out_trade_no: &str,
) -> Result<Option<AliTrade>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_alipay_trades WHERE app_id = $1 AND out_trade_no = $2"
    ))
    .bind(app_id)
    .bind(out_trade_no)
    .fetch_optional(sandbox.store().pool())
    .await?
    .as_ref()
    .map(row)
    .transpose()
}

/// The trade a cashier or QR token opens.
pub async fn by_token(sandbox: &Sandbox, token: &str) -> Result<Option<AliTrade>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_alipay_trades WHERE token = $1"
    ))
    .bind(token)
    .fetch_optional(sandbox.store().pool())
    .await?
    .as_ref()
    .map(row)
    .transpose()
}

/// The most recent trades, for the dashboard.
pub async fn recent(sandbox: &Sandbox, limit: i64) -> Result<Vec<AliTrade>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_alipay_trades ORDER BY created_at DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(sandbox.store().pool())
    .await?
    .iter()
    .map(row)
    .collect()
}

/// What a new trade is made of.
#[derive(Debug, Clone)]
pub struct NewTrade<'a> {
    pub app_id: &'a str,
    pub out_trade_no: &'a str,
    pub method: &'a str,
    pub subject: &'a str,
    pub total_amount: i64,
    pub notify_url: Option<&'a str>,
    pub return_url: Option<&'a str>,
    pub quit_url: Option<&'a str>,
    pub time_expire: Option<i64>,
    /// Precreated trades stay invisible to queries until scanned.
    pub visible: bool,
    /// `goods_detail` as sent (JSON), when given.
    pub goods: Option<String>,
}

/// Records `new`, or returns the trade already recorded under its number when it is the same
/// trade (same amount), as Alipay lets a merchant open the cashier again.
///
/// # Errors
/// `Err(Ok(sub_code))` when the number is taken by a different or finished trade.
pub async fn create(
    sandbox: &Sandbox,
    new: &NewTrade<'_>,
) -> Result<AliTrade, Result<&'static str, sqlx::Error>> {
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO sandbox_alipay_trades (app_id, out_trade_no, trade_no, token, method, \
         subject, total_amount, notify_url, return_url, quit_url, status, visible, refunded, \
         time_expire, paid_at, created_at, updated_at, goods) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12, 0, $13, NULL, $14, $14, $15) ON CONFLICT (app_id, out_trade_no) DO NOTHING",
    )
    .bind(new.app_id)
    .bind(new.out_trade_no)
    .bind(format!("{}22{}", util::compact_time(now), util::digits(14)))
    .bind(util::alnum(32))
    .bind(new.method)
    .bind(new.subject)
    .bind(new.total_amount)
    .bind(new.notify_url)
    .bind(new.return_url)
    .bind(new.quit_url)
    .bind(WAIT)
    .bind(i64::from(new.visible))
    .bind(new.time_expire)
    .bind(now)
    .bind(&new.goods)
    .execute(sandbox.store().pool())
    .await
    .map_err(Err)?
    .rows_affected();
    let trade = find(sandbox, new.app_id, new.out_trade_no)
        .await
        .map_err(Err)?
        .ok_or(Ok("ACQ.SYSTEM_ERROR"))?;
    if inserted == 0 {
        if trade.status == SUCCESS {
            return Err(Ok("ACQ.TRADE_HAS_SUCCESS"));
        }
        if trade.status == CLOSED {
            return Err(Ok("ACQ.TRADE_HAS_CLOSE"));
        }
        if trade.total_amount != new.total_amount {
            return Err(Ok("ACQ.CONTEXT_INCONSISTENT"));
        }
    }
    Ok(trade)
}

/// Makes a precreated trade exist (its QR code was scanned).
pub async fn reveal(sandbox: &Sandbox, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sandbox_alipay_trades SET visible = 1 WHERE token = $1")
        .bind(token)
        .execute(sandbox.store().pool())
        .await
        .map(|_| ())
}

/// The notification parameters Alipay sends for `trade` now (signed at delivery).
fn notification(trade: &AliTrade, seller_id: &str, extra: &[(&str, String)]) -> Outgoing {
    let mut params = serde_json::Map::new();
    let mut put = |k: &str, v: String| {
        params.insert(k.to_owned(), serde_json::Value::String(v));
    };
    put("notify_type", "trade_status_sync".into());
    put("app_id", trade.app_id.clone());
    put("charset", "utf-8".into());
    put("version", "1.0".into());
    put("trade_no", trade.trade_no.clone());
    put("out_trade_no", trade.out_trade_no.clone());
    put("trade_status", trade.status.clone());
    put("total_amount", to_yuan(trade.total_amount));
    put("receipt_amount", to_yuan(trade.total_amount));
    put("seller_id", seller_id.to_owned());
    put("subject", trade.subject.clone());
    put("gmt_create", beijing_time(trade.created_at / 1000));
    if let Some(paid) = trade.paid_at {
        put("gmt_payment", beijing_time(paid / 1000));
    }
    for (k, v) in extra {
        put(k, v.clone());
    }
    Outgoing {
        event_type: super::NOTIFICATION_KIND,
        summary: "",
        original_type: "",
        resource: serde_json::Value::Object(params),
        notify_url: trade.notify_url.clone().unwrap_or_default(),
        out_trade_no: trade.out_trade_no.clone(),
    }
}

/// Pays the trade behind `token` once; queues its notification(s) as the scenario says.
/// `Ok(None)` when it was not payable (paid already, closed or expired).
pub async fn pay(sandbox: &Sandbox, token: &str) -> Result<Option<AliTrade>, sqlx::Error> {
    let now = now_ms();
    let slot = sandbox.store().write_slot().await;
    let mut tx = sandbox.store().begin().await?;
    let paid = sqlx::query(
        "UPDATE sandbox_alipay_trades SET status = $1, paid_at = $2, visible = 1, updated_at = $2 \
         WHERE token = $3 AND status = $4 AND (time_expire IS NULL OR time_expire > $2)",
    )
    .bind(SUCCESS)
    .bind(now)
    .bind(token)
    .bind(WAIT)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if paid == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let trade = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_alipay_trades WHERE token = $1"
    ))
    .bind(token)
    .fetch_one(&mut *tx)
    .await
    .and_then(|r| row(&r))?;
    if trade.notify_url.is_some() {
        let outgoing = notification(&trade, &sandbox.alipay_keys().seller_id, &[]);
        let later = now
            + i64::try_from(
                sandbox
                    .scaled(std::time::Duration::from_secs(
                        outbox::ALIPAY_SCHEDULE_SECS[0],
                    ))
                    .as_millis(),
            )
            .unwrap_or(0);
        match trade.scenario() {
            Scenario::NoNotification => {}
            Scenario::TripleOutOfOrder => {
                outbox::enqueue(&mut tx, &outgoing, &[now, now, later]).await?;
            }
            _ => outbox::enqueue(&mut tx, &outgoing, &[now]).await?,
        }
    }
    tx.commit().await?;
    drop(slot);
    sandbox.wake_notifier();
    Ok(Some(trade))
}

/// Closes an unpaid trade. `Ok(Err(sub_code))` when it cannot be closed.
pub async fn close(
    sandbox: &Sandbox,
    app_id: &str,
    out_trade_no: &str,
) -> Result<Result<AliTrade, &'static str>, sqlx::Error> {
    let Some(trade) = find(sandbox, app_id, out_trade_no)
        .await?
        .filter(|t| t.visible)
    else {
        return Ok(Err(crate::providers::alipay::error::TRADE_NOT_EXIST));
    };
    let closed = sqlx::query(
        "UPDATE sandbox_alipay_trades SET status = $1, updated_at = $2 \
         WHERE app_id = $3 AND out_trade_no = $4 AND status = $5",
    )
    .bind(CLOSED)
    .bind(now_ms())
    .bind(app_id)
    .bind(out_trade_no)
    .bind(WAIT)
    .execute(sandbox.store().pool())
    .await?
    .rows_affected();
    if closed == 0 && trade.status != CLOSED {
        return Ok(Err("ACQ.TRADE_STATUS_ERROR"));
    }
    Ok(Ok(trade))
}

/// A refund's outcome: `fund_change` and the trade's total refunded.
#[derive(Debug, Clone)]
pub struct RefundOutcome {
    pub trade: AliTrade,
    pub fund_change: bool,
    pub refunded: i64,
}

/// Refunds `amount` of a paid trade under `out_request_no`, once. `Ok(Err(sub_code))` when
/// Alipay would refuse.
pub async fn refund(
    sandbox: &Sandbox,
    app_id: &str,
    out_trade_no: &str,
    out_request_no: &str,
    amount: i64,
) -> Result<Result<RefundOutcome, &'static str>, sqlx::Error> {
    let now = now_ms();
    let slot = sandbox.store().write_slot().await;
    let mut tx = sandbox.store().begin().await?;
    let Some(trade) = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_alipay_trades WHERE app_id = $1 AND out_trade_no = $2"
    ))
    .bind(app_id)
    .bind(out_trade_no)
    .fetch_optional(&mut *tx)
    .await?
    .as_ref()
    .map(row)
    .transpose()?
    .filter(|t| t.visible) else {
        tx.rollback().await?;
        return Ok(Err(crate::providers::alipay::error::TRADE_NOT_EXIST));
    };
    let earlier: Option<i64> = sqlx::query(
        "SELECT amount FROM sandbox_alipay_refunds \
         WHERE app_id = $1 AND out_trade_no = $2 AND out_request_no = $3",
    )
    .bind(app_id)
    .bind(out_trade_no)
    .bind(out_request_no)
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| r.try_get("amount"))
    .transpose()?;
    if let Some(earlier) = earlier {
        tx.rollback().await?;
        if earlier != amount {
            return Ok(Err("ACQ.REQUEST_AMOUNT_EXCEED"));
        }
        let refunded = trade.refunded;
        return Ok(Ok(RefundOutcome {
            trade,
            fund_change: false,
            refunded,
        }));
    }
    if trade.paid_at.is_none() {
        tx.rollback().await?;
        return Ok(Err("ACQ.TRADE_STATUS_ERROR"));
    }
    if amount <= 0 || trade.refunded + amount > trade.total_amount {
        tx.rollback().await?;
        return Ok(Err("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"));
    }
    let refunded = trade.refunded + amount;
    let status = if refunded == trade.total_amount {
        CLOSED
    } else {
        trade.status.as_str()
    };
    sqlx::query(
        "UPDATE sandbox_alipay_trades SET refunded = $1, status = $2, updated_at = $3 \
         WHERE app_id = $4 AND out_trade_no = $5",
    )
    .bind(refunded)
    .bind(status)
    .bind(now)
    .bind(app_id)
    .bind(out_trade_no)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO sandbox_alipay_refunds (app_id, out_trade_no, out_request_no, amount, \
         created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(app_id)
    .bind(out_trade_no)
    .bind(out_request_no)
    .bind(amount)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let after = AliTrade {
        status: status.to_owned(),
        refunded,
        ..trade
    };
    if after.notify_url.is_some() {
        let outgoing = notification(
            &after,
            &sandbox.alipay_keys().seller_id,
            &[
                ("out_biz_no", out_request_no.to_owned()),
                ("refund_fee", to_yuan(refunded)),
                ("gmt_refund", beijing_time(now / 1000)),
            ],
        );
        outbox::enqueue(&mut tx, &outgoing, &[now]).await?;
    }
    tx.commit().await?;
    drop(slot);
    sandbox.wake_notifier();
    Ok(Ok(RefundOutcome {
        trade: after,
        fund_change: true,
        refunded,
    }))
}

/// The amount refunded under `out_request_no`, if that refund exists.
pub async fn refund_amount(
    sandbox: &Sandbox,
    app_id: &str,
    out_trade_no: &str,
    out_request_no: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "SELECT amount FROM sandbox_alipay_refunds \
         WHERE app_id = $1 AND out_trade_no = $2 AND out_request_no = $3",
    )
    .bind(app_id)
    .bind(out_trade_no)
    .bind(out_request_no)
    .fetch_optional(sandbox.store().pool())
    .await?
    .map(|r| r.try_get("amount"))
    .transpose()
}
