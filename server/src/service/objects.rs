//! The JSON objects the merchant API returns and webhooks carry. Plain serde values, built from
//! domain records; times are Unix seconds.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::CheckoutSession;
use crate::domain::status::State;
use crate::store::webhooks::Endpoint;

/// `checkout.session`
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionObject {
    pub id: String,
    #[schema(value_type = String, example = "checkout.session")]
    pub object: &'static str,
    /// `true` for a live-mode object, `false` in the sandbox.
    pub livemode: bool,
    /// The hosted checkout page to send the shopper to.
    pub url: String,
    /// `open`, `complete` or `expired`.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub amount: i64,
    pub currency: String,
    pub description: String,
    pub merchant_reference: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    pub metadata: BTreeMap<String, String>,
    pub payment_methods: Vec<String>,
    pub locale: String,
    pub created: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    pub expired_at: Option<i64>,
    /// The payment that completed the session, else its latest attempt (`pay_…`); null before
    /// the first attempt.
    pub payment: Option<String>,
    /// That payment's status: `created`, `pending`, `succeeded`, `failed` or `canceled`.
    pub payment_status: Option<String>,
    /// Minor units refunded of that payment so far (succeeded refunds).
    pub amount_refunded: i64,
    /// The session's payment intent (`pi_…`, the same record read through
    /// `/v1/payment_intents`).
    pub payment_intent: String,
    /// What is being bought (empty when the session was made with an amount alone).
    pub line_items: Vec<LineItemObject>,
    /// The brand the session overrides (null: the server's).
    pub branding: Option<crate::domain::branding::Branding>,
    pub after_expiration: AfterExpirationObject,
    /// Once expired with recovery enabled: opens a new session with the same contents (the
    /// same one however often it is opened).
    pub recovery_url: Option<String>,
    /// The payment link that opened the session (`plink_…`).
    pub payment_link: Option<String>,
}

/// One line of a session.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineItemObject {
    pub name: String,
    pub quantity: i64,
    pub unit_amount: i64,
    /// `quantity × unit_amount`.
    pub amount: i64,
    pub image_url: Option<String>,
    pub sku: Option<String>,
}

impl LineItemObject {
    /// The API form of each line.
    #[must_use]
    pub fn all(lines: &[crate::domain::line_items::LineItem]) -> Vec<Self> {
        lines
            .iter()
            .map(|l| Self {
                name: l.name.clone(),
                quantity: l.quantity,
                unit_amount: l.unit_amount,
                amount: l.amount(),
                image_url: l.image_url.clone(),
                sku: l.sku.clone(),
            })
            .collect()
    }
}

/// `after_expiration` as set at creation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AfterExpirationObject {
    pub recovery: RecoveryObject,
}

/// `after_expiration.recovery`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryObject {
    pub enabled: bool,
}

impl SessionObject {
    /// With the payment the session leads to.
    #[must_use]
    pub fn with_payment(
        mut self,
        summary: Option<&crate::store::payments::PaymentSummary>,
    ) -> Self {
        if let Some(p) = summary {
            self.payment = Some(p.payment.clone());
            self.payment_status = Some(p.status.clone());
            self.amount_refunded = p.amount_refunded;
        }
        self
    }

    /// The API form of `s`, with its URL under `public_url`.
    #[must_use]
    pub fn new(s: &CheckoutSession, urls: &super::Urls, livemode: bool) -> Self {
        let url = urls.checkout_page(s.id.as_str());
        Self {
            id: s.id.to_string(),
            object: "checkout.session",
            livemode,
            url,
            status: s.status.as_str(),
            amount: s.amount,
            currency: s.currency.code().to_ascii_lowercase(),
            description: s.description.clone(),
            merchant_reference: s.merchant_reference.clone(),
            success_url: s.success_url.clone(),
            cancel_url: s.cancel_url.clone(),
            metadata: s.metadata.clone(),
            payment_methods: s
                .payment_methods
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            locale: s.locale.as_str().to_owned(),
            created: s.created_at / 1000,
            expires_at: s.expires_at / 1000,
            completed_at: s.completed_at.map(|t| t / 1000),
            expired_at: s.expired_at.map(|t| t / 1000),
            payment: None,
            payment_status: None,
            amount_refunded: 0,
            payment_intent: s.id.same_as::<crate::domain::ids::IntentKind>().to_string(),
            line_items: LineItemObject::all(&s.extras.line_items),
            branding: (!s.extras.branding.is_empty()).then(|| s.extras.branding.clone()),
            after_expiration: AfterExpirationObject {
                recovery: RecoveryObject {
                    enabled: s.extras.recovery,
                },
            },
            recovery_url: urls.recovery_of(s),
            payment_link: s.payment_link.clone(),
        }
    }

    /// As a JSON value (for event payloads).
    #[must_use]
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// `webhook_endpoint`; `secret` only in the answer to its creation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointObject {
    pub id: String,
    #[schema(value_type = String, example = "webhook_endpoint")]
    pub object: &'static str,
    /// `true` for a live-mode object, `false` in the sandbox.
    pub livemode: bool,
    pub url: String,
    pub enabled_events: Vec<String>,
    pub created: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// After a secret roll: when the previous secret stops signing (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<i64>,
}

impl EndpointObject {
    /// The API form of `e`.
    #[must_use]
    pub fn new(e: &Endpoint, secret: Option<String>, livemode: bool) -> Self {
        Self {
            id: e.id.clone(),
            object: "webhook_endpoint",
            livemode,
            url: e.url.clone(),
            enabled_events: e.enabled_events.clone(),
            created: e.created_at / 1000,
            secret,
            previous_secret_expires_at: None,
        }
    }
}

/// A page of a list: `{"object":"list","data":[…],"has_more":…}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct List<T> {
    #[schema(value_type = String, example = "list")]
    pub object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T> List<T> {
    /// Trims the one extra row fetched to learn whether more exist.
    #[must_use]
    pub fn page(mut data: Vec<T>, limit: usize) -> Self {
        let has_more = data.len() > limit;
        data.truncate(limit);
        Self {
            object: "list",
            data,
            has_more,
        }
    }
}

/// `payment`: one attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentObject {
    pub id: String,
    #[schema(value_type = String, example = "payment")]
    pub object: &'static str,
    /// `true` for a live-mode object, `false` in the sandbox.
    pub livemode: bool,
    pub checkout_session: String,
    /// `wechat_pay` or `alipay`.
    pub method: String,
    /// `jsapi`, `miniprogram`, `h5`, `native` (WeChat Pay), `alipay_page`, `alipay_wap`,
    /// `alipay_qr` or `alipay_app` (Alipay).
    #[schema(value_type = String)]
    pub channel: &'static str,
    /// `created`, `pending`, `succeeded`, `failed` or `canceled`.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub amount: i64,
    pub currency: String,
    pub out_trade_no: String,
    pub provider_transaction_id: Option<String>,
    pub failure_reason: Option<String>,
    pub created: i64,
}

impl PaymentObject {
    /// The API form of `p`.
    #[must_use]
    pub fn new(p: &crate::domain::Payment, livemode: bool) -> Self {
        Self {
            id: p.id.to_string(),
            object: "payment",
            livemode,
            checkout_session: p.session_id.to_string(),
            method: p.method.as_str().to_owned(),
            channel: p.channel.as_str(),
            status: p.status.as_str(),
            amount: p.amount,
            currency: p.currency.to_ascii_lowercase(),
            out_trade_no: p.out_trade_no.clone(),
            provider_transaction_id: p.provider_transaction_id.clone(),
            failure_reason: p.failure_reason.clone(),
            created: p.created_at / 1000,
        }
    }
}

/// A payment as an event payload.
#[must_use]
pub fn payment_value(p: &crate::domain::Payment, livemode: bool) -> serde_json::Value {
    serde_json::to_value(PaymentObject::new(p, livemode)).unwrap_or_default()
}

/// `refund`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefundObject {
    pub id: String,
    #[schema(value_type = String, example = "refund")]
    pub object: &'static str,
    /// `true` for a live-mode object, `false` in the sandbox.
    pub livemode: bool,
    pub payment: String,
    pub amount: i64,
    /// `pending`, `succeeded` or `failed`.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub reason: Option<String>,
    pub created: i64,
}

impl RefundObject {
    /// The API form of `r`.
    #[must_use]
    pub fn new(r: &crate::store::refunds::Refund, livemode: bool) -> Self {
        Self {
            id: r.id.clone(),
            object: "refund",
            livemode,
            payment: r.payment_id.clone(),
            amount: r.amount,
            status: r.status.as_str(),
            reason: r.reason.clone(),
            created: r.created_at / 1000,
        }
    }
}

/// A refund as an event payload.
#[must_use]
pub fn refund_value(r: &crate::store::refunds::Refund, livemode: bool) -> serde_json::Value {
    serde_json::to_value(RefundObject::new(r, livemode)).unwrap_or_default()
}

/// `unmatched_payment`: an authentic provider report of a trade no payment attempt has.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnmatchedPaymentObject {
    pub id: String,
    #[schema(value_type = String, example = "unmatched_payment")]
    pub object: &'static str,
    /// `true` for a live-mode object, `false` in the sandbox.
    pub livemode: bool,
    /// `wechat_pay` or `alipay`.
    pub method: String,
    pub out_trade_no: String,
    pub provider_transaction_id: Option<String>,
    /// Minor units, as the provider reported them.
    pub amount: i64,
    pub currency: Option<String>,
    /// The appid (WeChat) or app_id (Alipay) the trade was made for.
    pub app_id: String,
    pub merchant_id: Option<String>,
    /// `paid`, `pending`, `closed` or `failed`, from the latest report.
    pub status: String,
    /// The provider's own words for it (WeChat's `trade_state_desc`, Alipay's `trade_status`).
    pub provider_detail: String,
    /// Authentic reports received (providers repeat notifications).
    pub reports: i64,
    pub created: i64,
    pub updated: i64,
}

impl UnmatchedPaymentObject {
    /// The API form of `u`.
    #[must_use]
    pub fn new(u: &crate::store::unmatched::Unmatched, livemode: bool) -> Self {
        Self {
            id: u.id.clone(),
            object: "unmatched_payment",
            livemode,
            method: u.method.as_str().to_owned(),
            out_trade_no: u.out_trade_no.clone(),
            provider_transaction_id: u.provider_transaction_id.clone(),
            amount: u.amount,
            currency: u.currency.as_deref().map(str::to_ascii_lowercase),
            app_id: u.app_id.clone(),
            merchant_id: u.merchant_id.clone(),
            status: u.status.as_str().to_owned(),
            provider_detail: u.provider_detail.clone(),
            reports: u.reports,
            created: u.created_at / 1000,
            updated: u.updated_at / 1000,
        }
    }

    /// As an event payload.
    #[must_use]
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}
