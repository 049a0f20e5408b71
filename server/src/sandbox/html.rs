//! The sandbox's HTML: one page frame (banner, stylesheet, a strict CSP, `no-store`), a page
//! with one message, and escaping.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::Sandbox;

/// The cashier returns the shopper to the merchant's site after a form post.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'";

/// Escapes text for HTML content and attribute values.
pub use paybridge_shared::html::escape as esc;

/// A sandbox page: the banner, `body`, the stylesheet, a strict CSP and `no-store`.
pub fn page(title: &str, body: &str, wide: bool) -> Response {
    let class = if wide { " class=\"wide\"" } else { "" };
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/sandbox/assets/sandbox.css\"></head>\
         <body><div class=\"banner\">paybridge sandbox · 模拟环境，不会产生真实交易</div>\
         <main{class}>{body}</main></body></html>",
        esc(title)
    );
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page with one message.
pub fn message(_sandbox: &Sandbox, title: &str, text: &str) -> Response {
    page(
        title,
        &format!(
            "<div class=\"card\"><h2 id=\"title\">{}</h2><p id=\"message\">{}</p></div>",
            esc(title),
            esc(text)
        ),
        false,
    )
}
