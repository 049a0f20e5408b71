//! Security headers applied to every response: CSP, nosniff, referrer policy, HSTS.

use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;

/// WeChat's JS-SDK as the page loads it (DESIGN §7).
pub const WECHAT_JS_SDK: &str = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js";

/// The Content-Security-Policy for the page and everything else we serve.
///
/// `'wasm-unsafe-eval'` lets the page compile its wasm without allowing `eval`; inline scripts
/// are allowed only by hash. WeChat's JS-SDK (for `wx.miniProgram` in a mini program web-view)
/// is the one script from elsewhere, allowed by its exact URL. Images may come from any https
/// origin: line items' pictures and a merchant's logo are hosted by the merchant. `frame-ancestors` lists the
/// merchant origins allowed to embed the page, or `'none'`.
#[must_use]
pub fn content_security_policy(config: &Config, script_hashes: &[String]) -> String {
    let mut script_src = vec!["'self'", "'wasm-unsafe-eval'"];
    script_src.extend(script_hashes.iter().map(String::as_str));
    script_src.push(WECHAT_JS_SDK);
    let frame_ancestors = if config.frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        config.frame_ancestors.join(" ")
    };
    format!(
        "default-src 'self'; script-src {}; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}",
        script_src.join(" ")
    )
}

/// Layers that set each security header unless a handler already chose one.
///
/// # Errors
/// When the computed CSP is not a valid header value (it is built from validated origins).
pub fn layers(
    config: &Config,
    csp: &str,
) -> Result<Vec<SetResponseHeaderLayer<HeaderValue>>, header::InvalidHeaderValue> {
    let mut headers: Vec<(HeaderName, HeaderValue)> = vec![
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(csp)?),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // WeChat's H5 cashier checks the Referer's origin against the merchant's H5 domain,
        // so the origin must be sent; `no-referrer` would break H5 payments (DESIGN §7).
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if config.frame_ancestors.is_empty() {
        headers.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    }
    if config
        .public_url
        .as_ref()
        .is_some_and(|u| u.scheme() == "https")
    {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    Ok(headers
        .into_iter()
        .map(|(name, value)| SetResponseHeaderLayer::if_not_present(name, value))
        .collect())
}
