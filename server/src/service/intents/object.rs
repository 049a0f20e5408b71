//! `payment_intent`: the direct API's view of a checkout session's record — its status in
//! Stripe's words, the one next action the merchant's front end must perform, and why the last
//! attempt failed.

use std::collections::BTreeMap;

use paybridge_shared::NextAction;
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::ids::IntentKind;
use crate::domain::session::Flow;
use crate::domain::{Channel, CheckoutSession, Payment, PaymentStatus, SessionStatus};
use crate::store::payments::PaymentSummary;

/// `payment_intent`
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentIntentObject {
    /// `pi_…`
    pub id: String,
    #[schema(value_type = String, example = "payment_intent")]
    pub object: &'static str,
    /// `true` for a live-mode object, `false` in the sandbox.
    pub livemode: bool,
    /// `requires_payment_method`, `requires_action`, `processing`, `succeeded` or `canceled`.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub amount: i64,
    pub currency: String,
    pub description: String,
    pub merchant_reference: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// `wechat_pay` and/or `alipay`.
    pub payment_method_types: Vec<String>,
    /// Lets a front end confirm this intent (`POST /api/payment_intents/{id}/confirm`); only
    /// in answers to the merchant, never in events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Where a cashier (WeChat H5, Alipay) sends the shopper back.
    pub return_url: Option<String>,
    pub created: i64,
    /// After this the intent is canceled (`cancellation_reason: "expired"`).
    pub expires_at: i64,
    pub canceled_at: Option<i64>,
    /// `requested_by_merchant` (or the reason given to cancel), or `expired`.
    pub cancellation_reason: Option<String>,
    /// What the merchant's front end must do now, when `status` is `requires_action`: an object
    /// with `type` and a member of that name (see the README's "Direct API").
    #[schema(value_type = Option<Object>)]
    pub next_action: Option<Value>,
    /// Why the last attempt failed, when `status` is `requires_payment_method` after one.
    pub last_payment_error: Option<LastPaymentError>,
    /// The attempt that paid, else the latest one (`pay_…`).
    pub payment: Option<String>,
    /// Minor units refunded so far.
    pub amount_refunded: i64,
    /// The hosted checkout session of this intent (`cs_…`), when the hosted page drives it.
    pub checkout_session: Option<String>,
    /// What is being bought (sent to the provider as goods details).
    pub line_items: Vec<crate::service::objects::LineItemObject>,
}

/// The intent's payload for its events (no client secret, no next action).
#[must_use]
pub fn event_object(
    s: &CheckoutSession,
    summary: Option<&PaymentSummary>,
    livemode: bool,
) -> serde_json::Value {
    PaymentIntentObject::new(s, None, summary, livemode).to_value()
}

/// Why an attempt failed: `code` is paybridge's and stable, `decline_code` the provider's own.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastPaymentError {
    /// `invalid_openid`, `appid_mchid_mismatch`, `payment_method_not_activated`,
    /// `amount_too_large`, `payment_method_provider_decline` or `payment_failed`.
    pub code: &'static str,
    pub message: String,
    /// The provider's code (WeChat's `code`, Alipay's `sub_code`), when it gave one.
    pub decline_code: Option<String>,
    /// The failed attempt (`pay_…`).
    pub payment: String,
}

/// Where an intent stands: the session's status and its latest attempt's.
#[must_use]
pub fn status(s: &CheckoutSession, latest: Option<&Payment>) -> &'static str {
    match s.status {
        SessionStatus::Complete => "succeeded",
        SessionStatus::Expired => "canceled",
        SessionStatus::Open => match latest.map(|p| p.status) {
            Some(PaymentStatus::Pending) => "requires_action",
            // Being created at the provider, or paid and completing.
            Some(PaymentStatus::Created | PaymentStatus::Succeeded) => "processing",
            Some(PaymentStatus::Failed | PaymentStatus::Canceled) | None => {
                "requires_payment_method"
            }
        },
    }
}

impl PaymentIntentObject {
    /// The intent of `s`; `latest` is its newest attempt, `summary` the payment it leads to.
    #[must_use]
    pub fn new(
        s: &CheckoutSession,
        latest: Option<&Payment>,
        summary: Option<&PaymentSummary>,
        livemode: bool,
    ) -> Self {
        let canceled = s.status == SessionStatus::Expired;
        Self {
            id: s.id.same_as::<IntentKind>().to_string(),
            object: "payment_intent",
            livemode,
            status: status(s, latest),
            amount: s.amount,
            currency: s.currency.code().to_ascii_lowercase(),
            description: s.description.clone(),
            merchant_reference: s.merchant_reference.clone(),
            metadata: s.metadata.clone(),
            payment_method_types: s
                .payment_methods
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            client_secret: None,
            return_url: (s.flow == Flow::Direct && !s.success_url.is_empty())
                .then(|| s.success_url.clone()),
            created: s.created_at / 1000,
            expires_at: s.expires_at / 1000,
            canceled_at: if canceled {
                s.expired_at.map(|t| t / 1000)
            } else {
                None
            },
            cancellation_reason: canceled.then(|| {
                s.cancellation_reason
                    .clone()
                    .unwrap_or_else(|| "expired".into())
            }),
            next_action: None,
            last_payment_error: latest
                .filter(|_| s.status == SessionStatus::Open)
                .and_then(last_payment_error),
            payment: summary
                .map(|p| p.payment.clone())
                .or_else(|| latest.map(|p| p.id.to_string())),
            amount_refunded: summary.map_or(0, |p| p.amount_refunded),
            checkout_session: (s.flow == Flow::Hosted).then(|| s.id.to_string()),
            line_items: crate::service::objects::LineItemObject::all(&s.extras.line_items),
        }
    }

    /// As a JSON value (for event payloads).
    #[must_use]
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The failure of `p`, if it failed (a canceled attempt is not an error: it was replaced).
fn last_payment_error(p: &Payment) -> Option<LastPaymentError> {
    if p.status != PaymentStatus::Failed {
        return None;
    }
    let reason = p.failure_reason.clone().unwrap_or_default();
    // A refusal is recorded as `CODE: message` (see `ProviderError::Refused`).
    let (decline_code, message) = match reason.split_once(": ") {
        Some((code, message))
            if !code.is_empty()
                && code.bytes().all(|b| {
                    b.is_ascii_uppercase() || b.is_ascii_digit() || b"_.".contains(&b)
                }) =>
        {
            (Some(code.to_owned()), message.to_owned())
        }
        _ => (None, reason),
    };
    Some(LastPaymentError {
        code: stable_code(decline_code.as_deref(), &message),
        message,
        decline_code,
        payment: p.id.to_string(),
    })
}

/// paybridge's code for a provider's refusal.
fn stable_code(decline_code: Option<&str>, message: &str) -> &'static str {
    match decline_code {
        // WeChat: "appid和openid不匹配"; Alipay has no openid.
        Some("PARAM_ERROR") if message.contains("openid") => "invalid_openid",
        Some("APPID_MCHID_NOT_MATCH" | "MCH_NOT_EXISTS") => "appid_mchid_mismatch",
        Some("NO_AUTH" | "ACQ.ACCESS_FORBIDDEN" | "ACQ.PRODUCT_UNAVAILABLE") => {
            "payment_method_not_activated"
        }
        Some("ACQ.TOTAL_FEE_EXCEED" | "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR") => {
            "amount_too_large"
        }
        Some(_) => "payment_method_provider_decline",
        None => "payment_failed",
    }
}

/// The Stripe-style form of a next action for `channel`: `{"type": name, name: {…}}`.
#[must_use]
pub fn next_action(channel: Channel, action: &NextAction) -> Option<Value> {
    let (name, inner) = match (channel, action) {
        (
            Channel::Native | Channel::AlipayQr,
            NextAction::Qr {
                code_url,
                expires_at,
                ..
            },
        ) => (
            if channel == Channel::Native {
                "wechat_pay_display_qr_code"
            } else {
                "alipay_display_qr_code"
            },
            json!({
                "data": code_url,
                "image_data_url": super::super::qr_png::data_url(code_url),
                "expires_at": expires_at,
            }),
        ),
        (Channel::H5, NextAction::Redirect { url, .. }) => {
            ("wechat_pay_redirect_to_web", json!({ "url": url }))
        }
        (Channel::AlipayPage | Channel::AlipayWap, NextAction::Redirect { url, .. }) => (
            "alipay_handle_redirect",
            json!({ "type": "redirect_to_url", "url": url }),
        ),
        (Channel::AlipayApp, NextAction::AppPay { order_string, .. }) => {
            ("alipay_app_pay", json!({ "order_string": order_string }))
        }
        (Channel::Jsapi, NextAction::Jsapi { params, .. }) => (
            "wechat_pay_official_account_params",
            serde_json::to_value(params).ok()?,
        ),
        (Channel::MiniProgram, NextAction::Jsapi { params, .. }) => (
            "wechat_pay_mini_program_params",
            serde_json::to_value(params).ok()?,
        ),
        _ => return None,
    };
    Some(json!({ "type": name, name: inner }))
}

#[cfg(test)]
mod tests {
    use super::stable_code;

    #[test]
    fn provider_refusals_map_to_stable_codes() {
        assert_eq!(
            stable_code(Some("PARAM_ERROR"), "appid和openid不匹配"),
            "invalid_openid"
        );
        assert_eq!(
            stable_code(Some("APPID_MCHID_NOT_MATCH"), "appid和mch_id不匹配"),
            "appid_mchid_mismatch"
        );
        assert_eq!(
            stable_code(Some("PARAM_ERROR"), "description 过长"),
            "payment_method_provider_decline"
        );
        assert_eq!(stable_code(None, "支付失败"), "payment_failed");
    }
}
