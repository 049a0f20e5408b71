//! The simulated shopper's actions: paying (or declining) from the JSAPI pay sheet, the H5
//! cashier and the scan page. A payment applies the order's scenario and queues its
//! notifications in the same transaction that marks the order paid.

use std::time::Duration;

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Sandbox;
use super::html::{self, esc, page};
use super::oauth;
use super::orders::{self, ByColumn, H5_LIFETIME_MS, Order, PREPAY_LIFETIME_MS};
use super::outbox::{self, Outgoing};
use super::scenarios::Scenario;
use super::util::{self, now_ms, yuan};
use crate::providers::wechat::JsapiPayParams;

/// What the shopper's side reports back, as `get_brand_wcpay_request:<result>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayResult {
    Ok,
    Cancel,
    Fail(String),
}

impl PayResult {
    /// `ok`, `cancel` or `fail`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Cancel => "cancel",
            Self::Fail(_) => "fail",
        }
    }
}

/// The shopper confirms payment of `order` as `payer_openid`.
pub async fn pay(
    sandbox: &Sandbox,
    order: &Order,
    payer_openid: &str,
    link_lifetime_ms: i64,
) -> Result<PayResult, sqlx::Error> {
    let now = now_ms();
    if let Err(why) = order.payable_at(now, link_lifetime_ms) {
        return Ok(PayResult::Fail(why.to_owned()));
    }
    let scenario = order.scenario();
    match scenario {
        Scenario::Declined => return Ok(PayResult::Cancel),
        Scenario::PaymentError => {
            sqlx::query(
                "UPDATE sandbox_orders SET trade_state = 'PAYERROR', \
                 trade_state_desc = '支付失败，请重新下单支付', updated_at = $1 \
                 WHERE mchid = $2 AND out_trade_no = $3 AND trade_state = 'NOTPAY'",
            )
            .bind(now)
            .bind(&order.mchid)
            .bind(&order.out_trade_no)
            .execute(sandbox.store().pool())
            .await?;
            return Ok(PayResult::Fail(
                "银行卡余额不足（沙箱场景：支付失败）".into(),
            ));
        }
        Scenario::Success
        | Scenario::NoNotification
        | Scenario::TripleOutOfOrder
        | Scenario::Slow
        | Scenario::FailFirst
        | Scenario::Refused => {}
    }
    let transaction_id = format!("4200{}{}", util::compact_time(now), util::digits(10));
    let mut tx = sandbox.store().begin().await?;
    let changed = sqlx::query(
        "UPDATE sandbox_orders SET trade_state = 'SUCCESS', trade_state_desc = '支付成功', \
         transaction_id = $1, success_at = $2, payer_openid = $3, updated_at = $2 \
         WHERE mchid = $4 AND out_trade_no = $5 AND trade_state = 'NOTPAY'",
    )
    .bind(&transaction_id)
    .bind(now)
    .bind(payer_openid)
    .bind(&order.mchid)
    .bind(&order.out_trade_no)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        tx.rollback().await?;
        return Ok(PayResult::Fail("该订单已支付或已关闭".into()));
    }
    let mut paid = order.clone();
    paid.trade_state = "SUCCESS".into();
    paid.trade_state_desc = "支付成功".into();
    paid.transaction_id = Some(transaction_id);
    paid.success_at = Some(now);
    paid.payer_openid = Some(payer_openid.to_owned());
    let late = now.saturating_add(
        i64::try_from(
            sandbox
                .scaled(Duration::from_secs(outbox::SCHEDULE_SECS[0]))
                .as_millis(),
        )
        .unwrap_or(i64::MAX),
    );
    let due: Vec<i64> = match scenario {
        Scenario::NoNotification => Vec::new(),
        Scenario::TripleOutOfOrder => vec![now, now, late],
        Scenario::Success
        | Scenario::Declined
        | Scenario::PaymentError
        | Scenario::Slow
        | Scenario::FailFirst
        | Scenario::Refused => vec![now],
    };
    if !due.is_empty() {
        let outgoing = Outgoing {
            event_type: "TRANSACTION.SUCCESS",
            summary: "支付成功",
            original_type: "transaction",
            resource: paid.transaction_json(),
            notify_url: paid.notify_url.clone(),
            out_trade_no: paid.out_trade_no.clone(),
        };
        outbox::enqueue(&mut tx, &outgoing, &due).await?;
    }
    tx.commit().await?;
    sandbox.wake_notifier();
    Ok(PayResult::Ok)
}

/// The JSAPI order behind pay sheet parameters, once their `paySign` and appId check out.
async fn jsapi_order(sandbox: &Sandbox, params: &JsapiPayParams) -> Result<Order, String> {
    params
        .verify(&sandbox.keys().merchant_public)
        .map_err(|_| "支付验证签名失败".to_owned())?;
    let prepay_id = params.prepay_id().ok_or("package 格式错误")?;
    let order = orders::find_by(sandbox, ByColumn::PrepayId, prepay_id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "sandbox pay sheet lookup failed");
            "系统繁忙".to_owned()
        })?
        .ok_or("prepay_id 不存在")?;
    if order.appid != params.app_id {
        return Err("appId 与下单时的 appid 不一致".into());
    }
    if order.trade_type != "JSAPI" {
        return Err("该订单不是 JSAPI 订单".into());
    }
    Ok(order)
}

/// `POST /sandbox/wechat/jsapi/check`: what the pay sheet shows, or why it cannot open.
pub async fn jsapi_check(
    State(sandbox): State<Sandbox>,
    Json(params): Json<JsapiPayParams>,
) -> Response {
    match jsapi_order(&sandbox, &params).await {
        Ok(order) => match order.payable_at(now_ms(), PREPAY_LIFETIME_MS) {
            Ok(()) => Json(serde_json::json!({
                "ok": true,
                "merchant": sandbox.merchant_name(),
                "description": order.description,
                "amount": yuan(order.amount),
                "scenario": order.scenario().describe(),
            }))
            .into_response(),
            Err(why) => Json(serde_json::json!({"ok": false, "message": why})).into_response(),
        },
        Err(why) => Json(serde_json::json!({"ok": false, "message": why})).into_response(),
    }
}

/// Body of `POST /sandbox/wechat/jsapi/pay`.
#[derive(Debug, Deserialize)]
pub struct JsapiPay {
    params: JsapiPayParams,
    action: String,
}

/// `POST /sandbox/wechat/jsapi/pay`: the pay sheet's Pay or Cancel.
pub async fn jsapi_pay(State(sandbox): State<Sandbox>, Json(body): Json<JsapiPay>) -> Response {
    let result = match jsapi_order(&sandbox, &body.params).await {
        Err(why) => PayResult::Fail(why),
        Ok(_) if body.action != "pay" => PayResult::Cancel,
        Ok(order) => {
            let openid = order.payer_openid.clone().unwrap_or_default();
            pay(&sandbox, &order, &openid, PREPAY_LIFETIME_MS)
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "sandbox payment failed");
                    PayResult::Fail("系统繁忙".into())
                })
        }
    };
    let message = match &result {
        PayResult::Fail(m) => m.clone(),
        PayResult::Ok | PayResult::Cancel => String::new(),
    };
    Json(serde_json::json!({"result": result.as_str(), "message": message})).into_response()
}

/// Form of the H5 cashier.
#[derive(Debug, Deserialize)]
pub struct H5Pay {
    prepay_id: String,
    #[serde(default)]
    redirect_url: String,
    action: String,
}

/// `redirect_url` must stay on the merchant's (this server's) origin: no open redirect.
pub fn allowed_return(sandbox: &Sandbox, raw: &str) -> Option<url::Url> {
    let url = url::Url::parse(raw).ok()?;
    sandbox.is_own_origin(&url).then_some(url)
}

/// `POST /sandbox/wechat/h5/pay`: pays (or not) and returns the shopper to `redirect_url`.
pub async fn h5_pay(State(sandbox): State<Sandbox>, Form(form): Form<H5Pay>) -> Response {
    let order = match orders::find_by(&sandbox, ByColumn::PrepayId, &form.prepay_id).await {
        Ok(Some(order)) if order.trade_type == "MWEB" => order,
        Ok(_) => return html::message(&sandbox, "支付失败", "订单不存在"),
        Err(e) => {
            tracing::error!(error = %e, "sandbox cashier lookup failed");
            return html::message(&sandbox, "支付失败", "系统繁忙");
        }
    };
    let result = if form.action == "pay" {
        let openid = oauth::openid_for(&sandbox, &order.appid, "h5-shopper").await;
        match openid {
            Ok(openid) => pay(&sandbox, &order, &openid, H5_LIFETIME_MS)
                .await
                .unwrap_or_else(|_| PayResult::Fail("系统繁忙".into())),
            Err(_) => PayResult::Fail("系统繁忙".into()),
        }
    } else {
        PayResult::Cancel
    };
    match allowed_return(&sandbox, &form.redirect_url) {
        Some(url) => Redirect::to(url.as_str()).into_response(),
        None => result_page(&sandbox, &order, &result),
    }
}

/// Form of the scan page.
#[derive(Debug, Deserialize)]
pub struct ScanPay {
    code_url: String,
    #[serde(default)]
    user: String,
    action: String,
}

/// The order a `code_url` (`weixin://wxpay/bizpayurl?pr=…`) stands for.
pub async fn order_for_code_url(sandbox: &Sandbox, code_url: &str) -> Option<Order> {
    let token = code_url.strip_prefix("weixin://wxpay/bizpayurl?pr=")?;
    orders::find_by(sandbox, ByColumn::CodeToken, token)
        .await
        .ok()
        .flatten()
        .filter(|o| o.trade_type == "NATIVE")
}

/// `POST /sandbox/wechat/scan/pay`: the phone that scanned the QR pays (or declines).
pub async fn scan_pay(State(sandbox): State<Sandbox>, Form(form): Form<ScanPay>) -> Response {
    let Some(order) = order_for_code_url(&sandbox, &form.code_url).await else {
        return html::message(&sandbox, "无法识别", "二维码已失效或不存在");
    };
    let user = if form.user.trim().is_empty() {
        "scanner"
    } else {
        form.user.trim()
    };
    let result = if form.action == "pay" {
        match oauth::openid_for(&sandbox, &order.appid, user).await {
            Ok(openid) => pay(&sandbox, &order, &openid, PREPAY_LIFETIME_MS)
                .await
                .unwrap_or_else(|_| PayResult::Fail("系统繁忙".into())),
            Err(_) => PayResult::Fail("系统繁忙".into()),
        }
    } else {
        PayResult::Cancel
    };
    result_page(&sandbox, &order, &result)
}

/// The outcome of a payment on the cashier or scan page.
pub fn result_page(_sandbox: &Sandbox, order: &Order, result: &PayResult) -> Response {
    let (title, text) = match result {
        PayResult::Ok => ("支付成功", "支付成功".to_owned()),
        PayResult::Cancel => ("已取消", "已取消支付".to_owned()),
        PayResult::Fail(why) => ("支付失败", why.clone()),
    };
    page(
        title,
        &format!(
            "<div class=\"card\"><h2 id=\"title\">{}</h2><div class=\"amount\">¥{}</div>\
             <p id=\"message\" data-result=\"{}\">{}</p></div>",
            esc(title),
            yuan(order.amount),
            result.as_str(),
            esc(&text)
        ),
        false,
    )
}
