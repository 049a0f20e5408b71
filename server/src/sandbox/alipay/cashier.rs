//! The simulated Alipay cashier (page and wap pay) and QR scan page: the shopper confirms or
//! cancels; a payment returns to `return_url` with signed return parameters, as Alipay does.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::Sandbox;
use super::super::html::{esc, page};
use super::super::scenarios::Scenario;
use super::super::util::now_ms;
use super::failure::Failure;
use super::trades::{self, AliTrade};
use crate::providers::alipay::amount::to_yuan;
use crate::providers::alipay::client::beijing_time;
use crate::providers::alipay::sign;

fn card(sandbox: &Sandbox, trade: &AliTrade) -> String {
    format!(
        "<div class=\"card\"><h2>支付宝 · Alipay</h2><p class=\"muted\">{}</p>\
         <p>{}</p><p class=\"amount\" id=\"amount\">¥{}</p>\
         <p class=\"muted\">测试场景 · scenario: {}</p></div>",
        esc(sandbox.merchant_name()),
        esc(&trade.subject),
        to_yuan(trade.total_amount),
        esc(trade.scenario().describe()),
    )
}

fn buttons(trade: &AliTrade) -> String {
    let form = |action: &str, label: &str, class: &str| {
        format!(
            "<form method=\"post\" action=\"/sandbox/alipay/cashier/pay\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">\
             <button class=\"{class}\" id=\"{action}\" type=\"submit\">{label}</button></form>",
            esc(&trade.token)
        )
    };
    format!(
        "{}{}",
        form("pay", "确认付款 Pay", "pay"),
        form("cancel", "取消 Cancel", "cancel")
    )
}

/// The cashier for a page or wap trade.
pub fn open(sandbox: &Sandbox, trade: &AliTrade) -> Response {
    page(
        "支付宝收银台",
        &format!("{}{}", card(sandbox, trade), buttons(trade)),
        false,
    )
}

/// What Alipay shows when the cashier request is wrong.
pub fn error_page(f: &Failure) -> Response {
    page(
        "错误",
        &format!(
            "<div class=\"card\"><h2 id=\"error\">支付宝 · 错误</h2><p>错误代码 {}</p><p class=\"muted\">{}</p></div>",
            esc(&f.sub_code),
            esc(&f.sub_msg)
        ),
        false,
    )
}

fn message(title: &str, text: &str, back: Option<&str>) -> Response {
    let link = back.map_or_else(String::new, |u| {
        format!(
            "<p><a id=\"back\" href=\"{}\">返回商户 · Back to the shop</a></p>",
            esc(u)
        )
    });
    page(
        title,
        &format!(
            "<div class=\"card\"><h2 id=\"result\">{}</h2><p>{}</p>{link}</div>",
            esc(title),
            esc(text)
        ),
        false,
    )
}

/// `GET /sandbox/alipay/qr/{token}`: what scanning a precreated QR code opens. Scanning makes
/// the trade exist at Alipay (queries find it from now on).
pub async fn scan(State(sandbox): State<Sandbox>, Path(token): Path<String>) -> Response {
    let trade = match trades::by_token(&sandbox, &token).await {
        Ok(Some(t)) => t,
        Ok(None) => return message("无法识别", "二维码已失效或不存在", None),
        Err(e) => {
            tracing::warn!(error = %e, "sandbox Alipay scan failed");
            return message("系统繁忙", "请稍后重试", None);
        }
    };
    if let Err(why) = trade.payable(now_ms()) {
        return message("无法支付", why, None);
    }
    if let Err(e) = trades::reveal(&sandbox, &token).await {
        tracing::warn!(error = %e, "sandbox Alipay cannot record a scan");
    }
    page(
        "支付宝",
        &format!("{}{}", card(&sandbox, &trade), buttons(&trade)),
        false,
    )
}

/// The cashier's form.
#[derive(Debug, Deserialize)]
pub struct CashierForm {
    token: String,
    action: String,
}

/// The signed parameters Alipay appends to `return_url` after a payment.
fn return_url(sandbox: &Sandbox, trade: &AliTrade, base: &str) -> Option<String> {
    let mut url = url::Url::parse(base).ok()?;
    let keys = sandbox.alipay_keys();
    let method = format!("{}.return", trade.method);
    let total = to_yuan(trade.total_amount);
    let timestamp = beijing_time(now_ms() / 1000);
    let params = [
        ("charset", "utf-8"),
        ("out_trade_no", trade.out_trade_no.as_str()),
        ("method", method.as_str()),
        ("total_amount", total.as_str()),
        ("trade_no", trade.trade_no.as_str()),
        ("auth_app_id", keys.app_id.as_str()),
        ("version", "1.0"),
        ("app_id", keys.app_id.as_str()),
        ("seller_id", keys.seller_id.as_str()),
        ("timestamp", timestamp.as_str()),
    ];
    let content = sign::signing_content(params, sign::NOTIFICATION_EXCLUDED);
    let signature = sign::sign(&keys.alipay, &content).ok()?;
    url.query_pairs_mut()
        .extend_pairs(params)
        .append_pair("sign", &signature)
        .append_pair("sign_type", "RSA2");
    Some(url.into())
}

/// `POST /sandbox/alipay/cashier/pay`: the shopper pays or cancels.
pub async fn pay(State(sandbox): State<Sandbox>, Form(form): Form<CashierForm>) -> Response {
    let trade = match trades::by_token(&sandbox, &form.token).await {
        Ok(Some(t)) => t,
        Ok(None) => return message("无法支付", "交易不存在", None),
        Err(e) => {
            tracing::warn!(error = %e, "sandbox Alipay pay failed");
            return message("系统繁忙", "请稍后重试", None);
        }
    };
    let back = trade.quit_url.as_deref().or(trade.return_url.as_deref());
    if form.action != "pay" || trade.scenario() == Scenario::Declined {
        return message("已取消 · Cancelled", "您取消了付款", back);
    }
    if trade.scenario() == Scenario::PaymentError {
        return message(
            "支付失败 · Payment failed",
            "银行卡扣款失败，请更换付款方式",
            back,
        );
    }
    match trades::pay(&sandbox, &form.token).await {
        Ok(Some(paid)) => {
            tracing::info!(out_trade_no = %paid.out_trade_no, "sandbox Alipay trade paid");
            match paid
                .return_url
                .as_deref()
                .filter(|_| paid.method != "alipay.trade.precreate")
                .and_then(|base| return_url(&sandbox, &paid, base))
            {
                Some(url) => Redirect::to(&url).into_response(),
                None => message("支付成功 · Paid", "付款成功", None),
            }
        }
        Ok(None) => message(
            "无法支付",
            trade.payable(now_ms()).err().unwrap_or("交易状态不允许"),
            back,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "sandbox Alipay pay failed");
            message("系统繁忙", "请稍后重试", None)
        }
    }
}
