//! What the checkout page reads from `GET /api/checkout/{id}`.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, MinorUnits};

/// Status of a checkout session as the shopper sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStatus {
    Open,
    Complete,
    Expired,
}

/// The page's view model of one checkout session. The success URL is not part of it: the page
/// learns it from the status API once the session is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutView {
    pub id: String,
    pub merchant_name: String,
    pub description: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub status: CheckoutStatus,
    /// The server runs in sandbox mode: the page may load the sandbox's `WeixinJSBridge`
    /// stand-in where the real one is absent, and offers to simulate scanning a QR code.
    #[serde(default)]
    pub sandbox: bool,
    /// The merchant's choice of language (`zh-CN` or `en`); `None` follows the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// What the shopper may pay with, in the merchant's order of preference (`wechat_pay`,
    /// `alipay`), limited to what this server has configured.
    #[serde(default)]
    pub payment_methods: Vec<String>,
    /// Where "Back to the shop" leads when the shopper gives up (the session's `cancel_url`,
    /// validated when the merchant created it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// What is being bought, when the merchant listed it; `amount` is then their sum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItemView>,
    /// The merchant's brand (configured, or overridden by the session).
    #[serde(default)]
    pub branding: BrandingView,
    /// An expired session whose merchant enabled recovery: where a new session with the same
    /// contents is opened (created on first use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_url: Option<String>,
}

/// One line of what is being bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItemView {
    pub name: String,
    pub quantity: i64,
    pub unit_amount: MinorUnits,
    /// `quantity × unit_amount`.
    pub amount: MinorUnits,
    /// An https image (the page's CSP allows https images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

/// How the page wears the merchant's brand; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandingView {
    /// The logo: a path on this server (an uploaded file) or an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// `#rrggbb`, checked on the server to give white button text WCAG AA contrast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_phone: Option<String>,
    /// An https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
}
