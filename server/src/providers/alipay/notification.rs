//! Asynchronous notifications: Alipay POSTs a form to `notify_url`; every parameter but `sign`
//! and `sign_type` is signed with Alipay's key. Nothing in one is trusted before the signature
//! and the `app_id` check pass. The answer is the literal `success`, and only once the outcome
//! is durable; anything else makes Alipay retry (4m, 10m, 10m, 1h, 2h, 6h, 15h).

use std::borrow::Cow;

use super::amount;
use super::error::AlipayError;
use super::model::TradeStatus;
use super::sign;
use crate::providers::wechat::crypto::{KeyError, PrivateKey, PublicKey};

/// What the notify endpoint answers once the notification is recorded.
pub const ACK: &str = "success";

/// A verified `trade_status_sync` notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeNotification {
    pub notify_id: String,
    pub notify_time: String,
    pub app_id: String,
    pub trade_no: String,
    pub out_trade_no: String,
    pub trade_status: TradeStatus,
    /// The trade's amount, fen.
    pub total_amount: i64,
    pub seller_id: Option<String>,
    /// Set when the notification reports a refund: that refund's `out_request_no`.
    pub out_biz_no: Option<String>,
    /// Total refunded on the trade so far, fen.
    pub refund_fee: Option<i64>,
}

/// Verifies `body` (the raw form) with `alipay_key`, checks it is for `app_id`, and decodes it.
///
/// # Errors
/// [`AlipayError::Signature`] for a missing or invalid signature or another app's
/// notification; [`AlipayError::InvalidResponse`] for missing or malformed fields.
pub fn parse_notification(
    alipay_key: &PublicKey,
    app_id: &str,
    body: &[u8],
) -> Result<TradeNotification, AlipayError> {
    let params: Vec<(Cow<'_, str>, Cow<'_, str>)> = url::form_urlencoded::parse(body).collect();
    // A name twice is refused: empty values are left out of the signed string, so an extra
    // empty `out_biz_no=` before a signed one would verify and be read first (a refund notice
    // turned into a trade completion). With each name once, what is read is what was signed.
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_ref()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(AlipayError::Signature);
    }
    if params.iter().any(|(k, _)| k == "sign_type") && get(&params, "sign_type") != Some("RSA2") {
        return Err(AlipayError::Signature);
    }
    if !sign::verify_params(
        alipay_key,
        params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
        sign::NOTIFICATION_EXCLUDED,
    ) {
        return Err(AlipayError::Signature);
    }
    let required = |name: &str| {
        get(&params, name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| AlipayError::InvalidResponse(format!("notification without {name}")))
    };
    let notification_app = required("app_id")?;
    if notification_app != app_id {
        return Err(AlipayError::Signature);
    }
    let fen = |name: &str| -> Result<Option<i64>, AlipayError> {
        get(&params, name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                amount::to_fen(v)
                    .ok_or_else(|| AlipayError::InvalidResponse(format!("{name} is not an amount")))
            })
            .transpose()
    };
    Ok(TradeNotification {
        notify_id: required("notify_id")?,
        notify_time: required("notify_time")?,
        app_id: notification_app,
        trade_no: required("trade_no")?,
        out_trade_no: required("out_trade_no")?,
        trade_status: TradeStatus::parse(&required("trade_status")?),
        total_amount: fen("total_amount")?.ok_or_else(|| {
            AlipayError::InvalidResponse("notification without total_amount".into())
        })?,
        seller_id: get(&params, "seller_id")
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        out_biz_no: get(&params, "out_biz_no")
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        refund_fee: fen("refund_fee")?,
    })
}

fn get<'a>(params: &'a [(Cow<'_, str>, Cow<'_, str>)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_ref())
}

/// Signs `params` as Alipay signs a notification and returns the form body (the sandbox's
/// side, and tests').
///
/// # Errors
/// When the key cannot sign.
pub fn build_notification(key: &PrivateKey, params: &[(&str, &str)]) -> Result<String, KeyError> {
    let content = sign::signing_content(params.iter().copied(), sign::NOTIFICATION_EXCLUDED);
    let signature = sign::sign(key, &content)?;
    Ok(url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            params
                .iter()
                .filter(|(k, _)| *k != "sign" && *k != "sign_type"),
        )
        .append_pair("sign_type", "RSA2")
        .append_pair("sign", &signature)
        .finish())
}
