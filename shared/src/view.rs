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
}
