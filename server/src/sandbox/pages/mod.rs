//! The sandbox's own screens: the `WeixinJSBridge` stand-in script, the H5 cashier at `h5_url`,
//! the scan page for `code_url`s, the OAuth consent page, and a dashboard of simulated orders,
//! refunds and notification deliveries. Plain server-rendered HTML, no inline script or style.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub mod devices;
pub mod intent;

/// The refusal of a form not sent from this server's own pages (its `Origin`): the forms that
/// pay in the simulator take nothing from elsewhere. `None` for one of ours.
#[must_use]
pub fn refused_unless_own_page(
    sandbox: &super::Sandbox,
    headers: &axum::http::HeaderMap,
) -> Option<axum::response::Response> {
    let own = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .and_then(|o| url::Url::parse(o).ok())
        .is_some_and(|o| sandbox.is_own_origin(&o));
    (!own).then(|| {
        message(
            sandbox,
            "Devices",
            "This form can only be sent from the devices page.",
        )
    })
}

use super::Sandbox;
use super::html::{esc, message, page};
use super::orders::{self, ByColumn, H5_LIFETIME_MS, Order, PREPAY_LIFETIME_MS};
use super::scenarios::TABLE;
use super::shopper;
use super::util::{self, now_ms, yuan};
use super::{notify, refunds};

const BRIDGE_JS: &str = include_str!("bridge.js");
const STYLESHEET: &str = include_str!("sandbox.css");
/// `GET /sandbox/bridge.js`.
pub async fn bridge_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        BRIDGE_JS,
    )
        .into_response()
}

/// `GET /sandbox/assets/sandbox.css`.
pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}

fn order_card(sandbox: &Sandbox, order: &Order) -> String {
    format!(
        "<div class=\"card\"><div class=\"muted\">{}</div><div>{}</div>\
         <div class=\"amount\" id=\"amount\">¥{}</div>\
         <div class=\"muted\">场景 scenario: {}</div></div>",
        esc(sandbox.merchant_name()),
        esc(&order.description),
        yuan(order.amount),
        esc(order.scenario().describe())
    )
}

/// Query of the H5 cashier URL.
#[derive(Debug, Deserialize)]
pub struct CashierQuery {
    #[serde(default)]
    prepay_id: String,
    #[serde(default)]
    redirect_url: String,
}

/// `GET /sandbox/wechat/cgi-bin/mmpayweb-bin/checkmweb`: the H5 cashier. Like WeChat, it wants a
/// Referer from the merchant's registered H5 domain (this server's host).
pub async fn cashier(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<CashierQuery>,
) -> Response {
    let referer_ok = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .is_some_and(|r| sandbox.is_own_origin(&r));
    if !referer_ok {
        return message(
            &sandbox,
            "商家参数格式有误",
            "商家参数格式有误，请联系商家解决。（当前页面的 Referer 缺失或不是商家注册的 H5 域名）",
        );
    }
    let order = match orders::find_by(&sandbox, ByColumn::PrepayId, &q.prepay_id).await {
        Ok(Some(order)) if order.trade_type == "MWEB" => order,
        Ok(_) => return message(&sandbox, "支付失败", "订单不存在"),
        Err(e) => {
            tracing::error!(error = %e, "sandbox cashier lookup failed");
            return message(&sandbox, "支付失败", "系统繁忙");
        }
    };
    if let Err(why) = order.payable_at(now_ms(), H5_LIFETIME_MS) {
        return message(&sandbox, "无法支付", why);
    }
    if !q.redirect_url.is_empty() && shopper::allowed_return(&sandbox, &q.redirect_url).is_none() {
        return message(&sandbox, "商家参数格式有误", "redirect_url 不是商家的域名");
    }
    let form = |action: &str, label: &str, class: &str, id: &str| {
        format!(
            "<form method=\"post\" action=\"/sandbox/wechat/h5/pay\">\
             <input type=\"hidden\" name=\"prepay_id\" value=\"{}\">\
             <input type=\"hidden\" name=\"redirect_url\" value=\"{}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">\
             <button class=\"{class}\" id=\"{id}\" type=\"submit\">{label}</button></form>",
            esc(&order.prepay_id),
            esc(&q.redirect_url)
        )
    };
    page(
        "微信支付",
        &format!(
            "{}{}{}",
            order_card(&sandbox, &order),
            form("pay", "确认支付 Pay", "pay", "pay"),
            form("cancel", "取消 Cancel", "cancel", "cancel")
        ),
        false,
    )
}

/// Query of the scan page.
#[derive(Debug, Deserialize)]
pub struct ScanQuery {
    #[serde(default)]
    code_url: String,
}

/// `GET /sandbox/wechat/scan`: paste (or link) a `code_url` and pay it as a simulated phone.
pub async fn scan(State(sandbox): State<Sandbox>, Query(q): Query<ScanQuery>) -> Response {
    if q.code_url.is_empty() {
        return page(
            "扫一扫",
            "<div class=\"card\"><h2>扫一扫 · Scan</h2>\
             <form method=\"get\" action=\"/sandbox/wechat/scan\">\
             <p class=\"muted\">粘贴二维码内容 (code_url)：</p>\
             <input type=\"text\" name=\"code_url\" id=\"code_url\" placeholder=\"weixin://wxpay/bizpayurl?pr=…\">\
             <button class=\"pay\" type=\"submit\" id=\"open\">打开 Open</button></form></div>",
            false,
        );
    }
    let Some(order) = shopper::order_for_code_url(&sandbox, &q.code_url).await else {
        return message(&sandbox, "无法识别", "二维码已失效或不存在");
    };
    if let Err(why) = order.payable_at(now_ms(), PREPAY_LIFETIME_MS) {
        return message(&sandbox, "无法支付", why);
    }
    let form = |action: &str, label: &str, class: &str, id: &str| {
        format!(
            "<form method=\"post\" action=\"/sandbox/wechat/scan/pay\">\
             <input type=\"hidden\" name=\"code_url\" value=\"{}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">\
             <input type=\"hidden\" name=\"user\" value=\"scanner\">\
             <button class=\"{class}\" id=\"{id}\" type=\"submit\">{label}</button></form>",
            esc(&q.code_url)
        )
    };
    page(
        "微信支付",
        &format!(
            "{}{}{}",
            order_card(&sandbox, &order),
            form("pay", "确认支付 Pay", "pay", "pay"),
            form("cancel", "取消 Cancel", "cancel", "cancel")
        ),
        false,
    )
}

/// `GET /sandbox`: simulated orders, refunds and notification deliveries.
pub async fn dashboard(State(sandbox): State<Sandbox>) -> Response {
    let (orders, refunds, deliveries, alipay_trades) = match tokio::try_join!(
        orders::recent(&sandbox, 50),
        refunds::recent(&sandbox, 50),
        notify::recent(&sandbox, 100),
        super::alipay::recent(&sandbox, 50)
    ) {
        Ok(all) => all,
        Err(e) => {
            tracing::error!(error = %e, "sandbox dashboard query failed");
            return message(&sandbox, "Sandbox", "系统繁忙");
        }
    };
    let keys = sandbox.keys();
    let mut html = format!(
        "<h1>paybridge sandbox</h1><div class=\"card\"><p>mchid <code>{}</code> · appid <code>{}</code> · \
         mini program appid <code>{}</code> · WeChat Pay public key id <code>{}</code></p>\
         <p><a href=\"/sandbox/wechat/scan\">扫一扫 scan page</a></p></div>",
        esc(&keys.mchid),
        esc(&keys.appid),
        esc(&keys.miniprogram_appid),
        esc(keys.platform.serial_no())
    );
    html.push_str("<div class=\"card\"><h2>Scenarios (amount in fen)</h2><table><tr><th>amount</th><th>behaviour</th></tr>");
    for (amount, scenario) in TABLE {
        html.push_str(&format!(
            "<tr><td>{amount} (¥{})</td><td>{}</td></tr>",
            yuan(amount),
            esc(scenario.describe())
        ));
    }
    html.push_str("<tr><td>any other</td><td>paid; one notification, retried until acknowledged</td></tr></table></div>");
    html.push_str("<div class=\"card\"><h2>Orders</h2><table id=\"orders\"><tr><th>created</th><th>out_trade_no</th><th>type</th><th>amount</th><th>state</th><th>transaction_id</th></tr>");
    for o in &orders {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>¥{}</td><td>{}</td><td>{}</td></tr>",
            esc(&util::wechat_time(o.created_at)),
            esc(&o.out_trade_no),
            esc(&o.trade_type),
            yuan(o.amount),
            esc(&o.trade_state),
            esc(o.transaction_id.as_deref().unwrap_or(""))
        ));
    }
    html.push_str("</table></div><div class=\"card\"><h2>Refunds</h2><table id=\"refunds\"><tr><th>created</th><th>out_refund_no</th><th>out_trade_no</th><th>amount</th><th>status</th></tr>");
    for r in &refunds {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>¥{}</td><td>{}</td></tr>",
            esc(&util::wechat_time(r.created_at)),
            esc(&r.out_refund_no),
            esc(&r.out_trade_no),
            yuan(r.amount),
            esc(&r.status)
        ));
    }
    let alipay = sandbox.alipay_keys();
    html.push_str(&format!(
        "</table></div><div class=\"card\"><h2>Alipay trades</h2><p>app_id <code>{}</code> · \
         seller_id <code>{}</code></p><table id=\"alipay-trades\"><tr><th>created</th>\
         <th>out_trade_no</th><th>method</th><th>amount</th><th>trade_status</th><th>refunded</th></tr>",
        esc(&alipay.app_id),
        esc(&alipay.seller_id)
    ));
    for t in &alipay_trades {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>¥{}</td><td>{}</td><td>¥{}</td></tr>",
            esc(&util::wechat_time(t.created_at)),
            esc(&t.out_trade_no),
            esc(&t.method),
            yuan(t.total_amount),
            esc(if t.visible {
                &t.status
            } else {
                "(QR not scanned)"
            }),
            yuan(t.refunded)
        ));
    }
    html.push_str("</table></div><div class=\"card\"><h2>Notification deliveries</h2><table id=\"deliveries\"><tr><th>id</th><th>event</th><th>out_trade_no</th><th>notify_url</th><th>attempts</th><th>last answer</th><th>state</th></tr>");
    for d in &deliveries {
        let state = match (d.delivered_at, d.next_at) {
            (Some(at), _) => format!("delivered {}", util::wechat_time(at)),
            (None, Some(at)) => format!("next attempt {}", util::wechat_time(at)),
            (None, None) => "abandoned".to_owned(),
        };
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.notification_id),
            esc(&d.event_type),
            esc(&d.out_trade_no),
            esc(&d.notify_url),
            d.attempts,
            esc(d.last_status.as_deref().unwrap_or("")),
            esc(&state)
        ));
    }
    html.push_str("</table></div>");
    page("paybridge sandbox", &html, true)
}
