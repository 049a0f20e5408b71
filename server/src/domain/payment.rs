//! A payment attempt: one order at the provider for one checkout session.

use super::ids::{PaymentId, SessionId};
use super::{Millis, PaymentStatus};

/// How the shopper pays: WeChat Pay's four ways and Alipay's three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `WeixinJSBridge` in the WeChat browser (official-account appid).
    Jsapi,
    /// `wx.requestPayment` in a mini program (mini program appid).
    MiniProgram,
    /// Redirect to WeChat's H5 cashier from a phone browser.
    H5,
    /// A QR code scanned with the phone.
    Native,
    /// Alipay's desktop cashier (`alipay.trade.page.pay`).
    AlipayPage,
    /// Alipay's phone cashier, also inside the Alipay app (`alipay.trade.wap.pay`).
    AlipayWap,
    /// An Alipay QR code drawn in the page (`alipay.trade.precreate`).
    AlipayQr,
    /// An order string for the Alipay SDK in the merchant's own app (`alipay.trade.app.pay`),
    /// from the direct API only.
    AlipayApp,
}

impl Channel {
    /// The API name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Jsapi => "jsapi",
            Self::MiniProgram => "miniprogram",
            Self::H5 => "h5",
            Self::Native => "native",
            Self::AlipayPage => "alipay_page",
            Self::AlipayWap => "alipay_wap",
            Self::AlipayQr => "alipay_qr",
            Self::AlipayApp => "alipay_app",
        }
    }

    /// The method (and so the provider) the channel pays with.
    #[must_use]
    pub const fn method(self) -> super::PaymentMethod {
        match self {
            Self::Jsapi | Self::MiniProgram | Self::H5 | Self::Native => {
                super::PaymentMethod::WechatPay
            }
            Self::AlipayPage | Self::AlipayWap | Self::AlipayQr | Self::AlipayApp => {
                super::PaymentMethod::Alipay
            }
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Jsapi,
            Self::MiniProgram,
            Self::H5,
            Self::Native,
            Self::AlipayPage,
            Self::AlipayWap,
            Self::AlipayApp,
            Self::AlipayQr,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }
}

/// A stored payment attempt.
#[derive(Debug, Clone)]
pub struct Payment {
    pub id: PaymentId,
    pub session_id: SessionId,
    pub method: super::PaymentMethod,
    pub channel: Channel,
    pub status: PaymentStatus,
    pub amount: i64,
    pub currency: String,
    pub out_trade_no: String,
    pub provider_transaction_id: Option<String>,
    pub failure_reason: Option<String>,
    pub appid: String,
    pub openid: Option<String>,
    /// The page's next action for this attempt, as JSON, once the provider answered.
    pub next_action: Option<String>,
    pub expires_at: Millis,
    pub checked_at: Millis,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// The shopper's environment class when the attempt was made (`domain::environment`),
    /// when known: the dashboard's funnel counts attempts by it.
    pub environment: Option<&'static str>,
}

/// `out_trade_no` for a payment id: its 32 hex digits (WeChat allows 6–32 characters, Alipay
/// up to 64).
#[must_use]
pub fn out_trade_no(id: &PaymentId) -> String {
    id.as_str().trim_start_matches("pay_").to_owned()
}
