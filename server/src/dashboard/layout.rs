//! The dashboard's page shell: bilingual (English or zh-CN, the operator's choice), no script at
//! all, one stylesheet, a navigation that scrolls sideways on a phone, and helpers every page
//! uses to show money, times and statuses the same way.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use paybridge_shared::{Currency, MinorUnits};
use time::OffsetDateTime;
use time::macros::{format_description, offset};

use crate::store::operators::SignedIn;

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/dashboard/assets/dashboard.css";
/// No script; images only from this server; forms post only here; never framed.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// The language preference's cookie.
pub const LANG_COOKIE: &str = "pb_dash_lang";

/// The dashboard's two languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// The text for this language.
    #[must_use]
    pub const fn t(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Self::En => en,
            Self::Zh => zh,
        }
    }

    /// The `lang` attribute.
    #[must_use]
    pub const fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh-CN",
        }
    }

    /// The cookie's choice, else the browser's first preference between the two.
    #[must_use]
    pub fn of(headers: &HeaderMap) -> Self {
        match crate::api::browser::cookie(headers, LANG_COOKIE) {
            Some("zh") => return Self::Zh,
            Some("en") => return Self::En,
            _ => {}
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let zh = accept.find("zh");
        let en = accept.find("en");
        match (zh, en) {
            (Some(z), Some(e)) if z < e => Self::Zh,
            (Some(_), None) => Self::Zh,
            _ => Self::En,
        }
    }
}

/// Everything a signed-in page needs: who, the forms' CSRF token, the language, the mode.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub signed_in: SignedIn,
    pub lang: Lang,
    pub livemode: bool,
    /// The request's path and query, for the language switch to come back to.
    pub here: String,
}

impl Ctx {
    /// Shorthand for `self.lang.t(en, zh)`.
    #[must_use]
    pub const fn t(&self, en: &'static str, zh: &'static str) -> &'static str {
        self.lang.t(en, zh)
    }

    /// The hidden CSRF field every form carries.
    #[must_use]
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.signed_in.csrf); }
    }
}

/// The dashboard's sections, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Sessions,
    Intents,
    Payments,
    Refunds,
    Webhooks,
    Keys,
    Reconciliation,
    Audit,
}

impl Section {
    const ALL: [Self; 9] = [
        Self::Overview,
        Self::Sessions,
        Self::Intents,
        Self::Payments,
        Self::Refunds,
        Self::Webhooks,
        Self::Keys,
        Self::Reconciliation,
        Self::Audit,
    ];

    const fn path(self) -> &'static str {
        match self {
            Self::Overview => "/dashboard",
            Self::Sessions => "/dashboard/sessions",
            Self::Intents => "/dashboard/intents",
            Self::Payments => "/dashboard/payments",
            Self::Refunds => "/dashboard/refunds",
            Self::Webhooks => "/dashboard/webhooks",
            Self::Keys => "/dashboard/keys",
            Self::Reconciliation => "/dashboard/reconciliation",
            Self::Audit => "/dashboard/audit",
        }
    }

    const fn name(self, lang: Lang) -> &'static str {
        match self {
            Self::Overview => lang.t("Overview", "概览"),
            Self::Sessions => lang.t("Checkout sessions", "收银会话"),
            Self::Intents => lang.t("Payment intents", "支付意图"),
            Self::Payments => lang.t("Payments", "支付"),
            Self::Refunds => lang.t("Refunds", "退款"),
            Self::Webhooks => lang.t("Webhooks", "Webhook"),
            Self::Keys => lang.t("API keys", "API 密钥"),
            Self::Reconciliation => lang.t("Reconciliation", "对账"),
            Self::Audit => lang.t("Audit log", "操作日志"),
        }
    }
}

// Pages pass `html! { … }` straight in; taking it by value keeps every call site short.
#[allow(clippy::needless_pass_by_value)]
fn document(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · paybridge" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body { (body) }
        }
    }
}

/// Sets the dashboard's headers on a rendered page.
#[must_use]
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A signed-in page: header, navigation with `section` current, the title and `body`.
#[must_use]
pub fn page(ctx: &Ctx, section: Section, title: &str, body: Markup) -> Response {
    page_with_status(ctx, StatusCode::OK, section, title, body)
}

/// [`page`] with another status (a refused form is shown again with 422).
#[must_use]
#[allow(clippy::needless_pass_by_value)]
pub fn page_with_status(
    ctx: &Ctx,
    status: StatusCode,
    section: Section,
    title: &str,
    body: Markup,
) -> Response {
    let lang = ctx.lang;
    let other = match lang {
        Lang::En => ("zh", "中文"),
        Lang::Zh => ("en", "English"),
    };
    let back = url_encode(&ctx.here);
    let markup = html! {
        a.skip href="#main" { (lang.t("Skip to content", "跳到正文")) }
        header.top {
            a.brand href="/dashboard" { "paybridge" }
            @if ctx.livemode {
                span.mode.live { (lang.t("Live", "正式")) }
            } @else {
                span.mode.sandbox { (lang.t("Sandbox", "沙箱")) }
            }
            span.who { (ctx.signed_in.operator.username) }
            a.lang href={ "/dashboard/lang/" (other.0) "?back=" (back) } lang=(if other.0 == "zh" { "zh-CN" } else { "en" }) { (other.1) }
            form.signout method="post" action="/dashboard/logout" {
                (ctx.csrf_field())
                button type="submit" { (lang.t("Sign out", "退出")) }
            }
        }
        nav.sections aria-label=(lang.t("Sections", "栏目")) {
            ul {
                @for s in Section::ALL {
                    li {
                        @if s == section {
                            a href=(s.path()) aria-current="page" { (s.name(lang)) }
                        } @else {
                            a href=(s.path()) { (s.name(lang)) }
                        }
                    }
                }
            }
        }
        main #main {
            h1 { (title) }
            (body)
        }
    };
    respond(status, document(lang, title, markup))
}

/// What a confirmation page asks and what its button does.
pub struct Confirm<'a> {
    /// "Revoke the key" (followed by the object, in code).
    pub question: &'static str,
    /// What the object is called on screen (a key's display, an endpoint's URL).
    pub object: &'a str,
    /// What it does, and that it cannot be undone.
    pub warning: &'static str,
    /// Where the form posts.
    pub action: String,
    /// The button's label, also the page's title.
    pub button: &'static str,
    /// Where "Cancel" leads.
    pub back: &'static str,
}

/// A page that asks before an action that cannot be undone: the button posts the form (with
/// the CSRF token), "Cancel" leads back.
#[must_use]
pub fn confirm(ctx: &Ctx, section: Section, c: &Confirm<'_>) -> Response {
    let body = html! {
        div.card {
            p { (c.question) " " code { (c.object) } "?" }
            p { (c.warning) }
            div.actions {
                form method="post" action=(c.action) {
                    (ctx.csrf_field())
                    button.danger type="submit" { (c.button) }
                }
                a.button.secondary href=(c.back) { (ctx.t("Cancel", "取消")) }
            }
        }
    };
    page(ctx, section, c.button, body)
}

/// A page outside the signed-in area (sign-in, errors), with no navigation.
#[must_use]
#[allow(clippy::needless_pass_by_value)]
pub fn bare(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        main #main.bare {
            p.brand { "paybridge" }
            h1 { (title) }
            (body)
        }
    };
    respond(status, document(lang, title, markup))
}

/// `¥12.34` (fen to yuan with exact integer arithmetic, as the rest of paybridge writes it).
#[must_use]
pub fn money(amount: i64, currency: &str) -> String {
    let m = MinorUnits(amount);
    if currency.eq_ignore_ascii_case(Currency::Cny.code()) {
        m.display(Currency::Cny)
    } else {
        // paybridge only takes CNY; a code it does not know is shown as stored.
        format!("{} {currency}", m.decimal(Currency::Cny))
    }
}

/// `2026-12-07 16:04:05` in Beijing time, where the merchant's day is.
#[must_use]
pub fn when(ms: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.to_offset(offset!(+8)).format(fmt).ok())
        .unwrap_or_default()
}

/// A status as a labelled badge; the class gives its colour, the text says it (never colour
/// alone).
#[must_use]
pub fn badge(status: &str) -> Markup {
    let tone = match status {
        "succeeded" | "complete" | "paid" | "delivered" | "ok" | "active" => "good",
        "failed" | "expired" | "canceled" | "closed" | "revoked" | "disabled" | "differences" => {
            "bad"
        }
        _ => "wait",
    };
    html! { span class={ "badge " (tone) } { (status) } }
}

/// A query string value, percent-encoded.
#[must_use]
pub fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Text that is already HTML (an SVG the server drew).
#[must_use]
pub const fn trusted(html: String) -> PreEscaped<String> {
    PreEscaped(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact() {
        assert_eq!(money(1, "CNY"), "¥0.01");
        assert_eq!(money(123_456, "CNY"), "¥1234.56");
        assert_eq!(money(-50, "CNY"), "-¥0.50");
        assert_eq!(money(100, "USD"), "1.00 USD");
    }

    #[test]
    fn language_follows_the_cookie_then_the_browser() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.8"),
        );
        assert_eq!(Lang::of(&h), Lang::Zh);
        h.insert(header::COOKIE, HeaderValue::from_static("pb_dash_lang=en"));
        assert_eq!(Lang::of(&h), Lang::En);
        assert_eq!(Lang::of(&HeaderMap::new()), Lang::En);
    }
}
