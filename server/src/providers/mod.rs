//! Payment providers, one module each, with no knowledge of checkout sessions, and the one
//! trait ([`PaymentProvider`]) through which the payment service uses them.

pub mod alipay;
mod provider;
mod registry;
pub mod wechat;

pub use provider::*;
pub use registry::{Providers, ProvidersError};

/// A transport error's text without its URL's query: reqwest names the whole URL, and WeChat's
/// code exchanges carry the app secret in theirs (`secret=…`), which must never reach a log line
/// or an error body. The kind, the host and path, and the underlying causes remain.
#[must_use]
pub fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "unreadable answer"
    } else if e.is_redirect() {
        "redirect refused"
    } else {
        "transport error"
    };
    let at = e
        .url()
        .map(|u| format!(" to {}{}", u.host_str().unwrap_or_default(), u.path()))
        .unwrap_or_default();
    let mut text = format!("{kind}{at}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
