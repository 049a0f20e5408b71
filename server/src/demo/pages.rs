//! The demo store's HTML: server-rendered, bilingual (zh-CN first, then en), no script and no
//! inline style, one external stylesheet. Everything interpolated goes through [`esc`].

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use time::OffsetDateTime;
use time::macros::{format_description, offset};

use super::catalog::{PRODUCTS, yuan};
use super::inbox::Received;
use super::merchant::Session;

/// Path of the stylesheet the demo router serves.
pub const STYLESHEET_PATH: &str = "/demo/assets/demo.css";
/// No script at all; forms post only to this server.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub use paybridge_shared::html::escape as esc;

fn layout(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\"></head><body>\
         <div class=\"banner\" role=\"note\">沙箱模式 · 不会产生真实交易 \
         <span lang=\"en\">Sandbox mode · no real money moves</span></div>\
         <main>{body}</main></body></html>",
        esc(title)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page with one message and a link back to the store.
#[must_use]
pub fn message(status: StatusCode, title_zh: &str, title_en: &str, text: &str) -> Response {
    let body = format!(
        "<section class=\"card\"><h1>{} <span lang=\"en\">{}</span></h1>\
         <p id=\"message\">{}</p><p><a href=\"/\">返回商店 <span lang=\"en\">Back to the store</span></a></p></section>",
        esc(title_zh),
        esc(title_en),
        esc(text)
    );
    layout(status, title_en, &body)
}

/// `2024-05-01 12:00:00` in Beijing time.
fn beijing_time(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(offset!(+8)).format(&fmt).ok())
        .unwrap_or_default()
}

/// The store: products with buy forms (each carrying a fresh order number), and the webhooks the
/// demo merchant received. `notice` explains a problem registering the webhook endpoint.
#[must_use]
pub fn store(orders: &[String], received: &[Received], notice: Option<&str>) -> Response {
    let mut body = String::from(
        "<header class=\"intro\"><h1>paybridge 演示商店 <span lang=\"en\">demo store</span></h1>\
         <p>点击“购买”：演示商户在服务器端用沙箱密钥调用 <code>POST /v1/checkout_sessions</code>，\
         然后把你带到托管的收银台页面。</p>\
         <p lang=\"en\">Press “Buy”: the demo merchant calls <code>POST /v1/checkout_sessions</code> \
         server-side with the sandbox key, then sends you to the hosted checkout page.</p></header>",
    );
    if let Some(notice) = notice {
        let _ = write!(
            body,
            "<p class=\"notice\" role=\"status\">Webhook 未注册 <span lang=\"en\">Webhooks are not registered</span>: {}</p>",
            esc(notice)
        );
    }
    body.push_str("<section class=\"products\" aria-label=\"商品 Products\">");
    for (product, order) in PRODUCTS.iter().zip(orders) {
        let _ = write!(
            body,
            "<article class=\"product\" id=\"product-{id}\"><h2>{zh} <span lang=\"en\">{en}</span></h2>\
             <p class=\"note\">{note_zh} · <span lang=\"en\">{note_en}</span></p>\
             <p class=\"price\">{price}</p>\
             <form method=\"post\" action=\"/demo/buy\">\
             <input type=\"hidden\" name=\"product\" value=\"{id}\">\
             <input type=\"hidden\" name=\"order\" value=\"{order}\">\
             <button type=\"submit\">购买 <span lang=\"en\">Buy</span></button></form></article>",
            id = esc(product.id),
            zh = esc(product.name_zh),
            en = esc(product.name_en),
            note_zh = esc(product.note_zh),
            note_en = esc(product.note_en),
            price = esc(&yuan(product.amount)),
            order = esc(order),
        );
    }
    body.push_str("</section>");
    body.push_str(
        "<section class=\"webhooks\" aria-labelledby=\"webhooks-title\">\
         <h2 id=\"webhooks-title\">演示商户收到的 Webhook <span lang=\"en\">Webhooks the demo merchant received</span></h2>\
         <p class=\"note\">只列出签名验证通过的事件，最近 50 条。<span lang=\"en\">Only events whose signature verified; the last 50.</span> \
         <a href=\"/\">刷新 <span lang=\"en\">Refresh</span></a></p>",
    );
    if received.is_empty() {
        body.push_str(
            "<p class=\"empty\">还没有收到 Webhook。<span lang=\"en\">No webhooks yet.</span></p>",
        );
    } else {
        body.push_str("<ul class=\"events\">");
        for e in received {
            let _ = write!(
                body,
                "<li class=\"event\"><code class=\"type\">{kind}</code> \
                 <code class=\"object\">{object}</code> \
                 <time datetime=\"{unix}\">{time}</time> \
                 <span class=\"verified\">✓ 签名已验证 <span lang=\"en\">signature verified</span></span></li>",
                kind = esc(&e.kind),
                object = esc(&e.object_id),
                unix = e.created,
                time = esc(&beijing_time(e.created)),
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");
    layout(StatusCode::OK, "paybridge demo store", &body)
}

fn status_label(status: &str) -> (&'static str, &'static str) {
    match status {
        "complete" => ("已支付", "Paid"),
        "open" => ("等待支付", "Awaiting payment"),
        "expired" => ("已过期", "Expired"),
        _ => ("未知状态", "Unknown status"),
    }
}

/// `GET /demo/thanks`: the order and its session's status as the merchant API reports it.
#[must_use]
pub fn thanks(order: &str, session: &Session) -> Response {
    let (zh, en) = status_label(&session.status);
    let mut body = format!(
        "<section class=\"card\"><h1>谢谢惠顾 <span lang=\"en\">Thank you</span></h1>\
         <dl class=\"order\">\
         <dt>订单号 <span lang=\"en\">Order</span></dt><dd><code>{order}</code></dd>\
         <dt>商品 <span lang=\"en\">Item</span></dt><dd>{description}</dd>\
         <dt>金额 <span lang=\"en\">Amount</span></dt><dd>{amount}</dd>\
         <dt>收银会话 <span lang=\"en\">Checkout session</span></dt><dd><code>{id}</code></dd>\
         <dt>状态 <span lang=\"en\">Status</span></dt>\
         <dd id=\"status\" data-status=\"{status}\">{zh} <span lang=\"en\">{en}</span> (<code>{status}</code>)</dd></dl>\
         <p class=\"note\">状态来自 <code>GET /v1/checkout_sessions/{{id}}</code>；请以 webhook 为准。\
         <span lang=\"en\">The status comes from the merchant API; a real merchant fulfils on the webhook.</span></p>",
        order = esc(order),
        description = esc(&session.description),
        amount = esc(&yuan(session.amount)),
        id = esc(&session.id),
        status = esc(&session.status),
    );
    if session.status == "open" {
        let _ = write!(
            body,
            "<p><a href=\"{}\">继续支付 <span lang=\"en\">Continue to payment</span></a></p>",
            esc(&session.url)
        );
    }
    body.push_str(
        "<p><a href=\"/\">返回商店 <span lang=\"en\">Back to the store</span></a></p></section>",
    );
    layout(StatusCode::OK, "Thank you", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_beijing_time() {
        assert_eq!(beijing_time(0), "1970-01-01 08:00:00");
    }
}
