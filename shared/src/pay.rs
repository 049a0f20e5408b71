//! The shopper's pay request and the server's answer: the one next step the page must take.

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::view::CheckoutStatus;

/// `POST /api/checkout/{id}/pay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayRequest {
    /// `wechat_pay` or `alipay` (one of the session's `payment_methods`).
    pub method: String,
    /// Where the page runs, as the page detected it with [`crate::detect`]; the server's own
    /// guess from the User-Agent is used when absent.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// `qr` to pay by scanning a QR code whatever the environment.
    #[serde(default)]
    pub prefer: Option<String>,
}

/// Parameters for `WeixinJSBridge.invoke('getBrandWCPayRequest')` / `wx.requestPayment`;
/// names are WeChat's and case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiParams {
    #[serde(rename = "appId")]
    pub app_id: String,
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    pub package: String,
    #[serde(rename = "signType")]
    pub sign_type: String,
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// What the page does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Navigate (top-level) to WeChat's OAuth page; it returns to this checkout.
    Oauth { url: String },
    /// Call `getBrandWCPayRequest` with these parameters.
    Jsapi {
        payment: String,
        params: JsapiParams,
    },
    /// Navigate (top-level) to the provider's cashier.
    Redirect { payment: String, url: String },
    /// Draw `code_url` as a QR code until `expires_at` (Unix seconds).
    Qr {
        payment: String,
        code_url: String,
        expires_at: i64,
    },
    /// This method cannot pay here (Alipay inside WeChat): show how to open `url` in the
    /// phone's own browser.
    OpenInBrowser { url: String },
    /// In a mini program web-view: `wx.miniProgram.navigateTo({url: path})`.
    MiniProgram { path: String },
    /// Already paid: go to the merchant's success page.
    AlreadyPaid { success_url: String },
    /// The session expired; nothing can be paid.
    Expired,
    /// An order string for the provider's SDK in the merchant's own app (the direct API's
    /// Alipay `APP`; the checkout page never asks for one).
    AppPay {
        payment: String,
        order_string: String,
    },
}

/// `GET /api/checkout/{id}/status` and each server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    pub status: CheckoutStatus,
    /// The latest attempt's status (`created`, `pending`, `succeeded`, `failed`, `canceled`).
    #[serde(default)]
    pub payment_status: Option<String>,
    /// Where to send the shopper once complete.
    #[serde(default)]
    pub success_url: Option<String>,
    /// Once expired, when the merchant enabled recovery: where a new session with the same
    /// contents opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_url: Option<String>,
}
