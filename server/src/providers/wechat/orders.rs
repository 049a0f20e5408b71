//! Orders: create JSAPI / H5 / Native, query by `out_trade_no` or transaction id, close.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::{format_description, offset};

use super::client::{Idempotency, WechatPayClient};
use super::error::WechatError;

/// `amount` of an order request, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAmount {
    pub total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// The payer of a JSAPI order: an openid for the order's appid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    pub openid: String,
}

/// Fields every order request shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCommon {
    pub appid: String,
    pub mchid: String,
    pub description: String,
    /// 6–32 characters of `[A-Za-z0-9_*-|]`; reuse it when retrying.
    pub out_trade_no: String,
    /// RFC 3339 with an offset; see [`format_time_expire`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    pub notify_url: String,
    pub amount: OrderAmount,
    /// What is being bought (risk checks, and the receipt in the shopper's wallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<OrderDetail>,
}

/// `detail` of an order request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetail {
    pub goods_detail: Vec<GoodsDetail>,
}

/// One entry of `detail.goods_detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsDetail {
    /// 1–32 characters.
    pub merchant_goods_id: String,
    pub goods_name: String,
    pub quantity: i64,
    /// Fen.
    pub unit_price: i64,
}

/// `POST /v3/pay/transactions/jsapi` (official account and mini program).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiOrder {
    #[serde(flatten)]
    pub common: OrderCommon,
    pub payer: Payer,
}

/// `POST /v3/pay/transactions/native`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeOrder {
    #[serde(flatten)]
    pub common: OrderCommon,
}

/// `POST /v3/pay/transactions/h5`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5Order {
    #[serde(flatten)]
    pub common: OrderCommon,
    pub scene_info: H5SceneInfo,
}

/// H5 orders need the shopper's real IP and the H5 kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5SceneInfo {
    pub payer_client_ip: String,
    pub h5_info: H5Info,
}

/// `h5_info.type`: `Wap`, `iOS` or `Android`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5Info {
    #[serde(rename = "type")]
    pub kind: String,
}

/// Answer to a JSAPI order: valid 2 h.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiPrepay {
    pub prepay_id: String,
}

/// Answer to a Native order: the QR payload, valid 2 h.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativePrepay {
    pub code_url: String,
}

/// Answer to an H5 order: the cashier URL, valid 5 min.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5Prepay {
    pub h5_url: String,
}

/// `trade_state` of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
    Success,
    Refund,
    NotPay,
    Closed,
    Revoked,
    UserPaying,
    PayError,
    /// Documented for some newer products: accepted, awaiting debit.
    Accept,
    /// A state this library does not know, kept verbatim (never treated as paid).
    Other(String),
}

impl TradeState {
    /// WeChat's string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
            Self::NotPay => "NOTPAY",
            Self::Closed => "CLOSED",
            Self::Revoked => "REVOKED",
            Self::UserPaying => "USERPAYING",
            Self::PayError => "PAYERROR",
            Self::Accept => "ACCEPT",
            Self::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "SUCCESS" => Self::Success,
            "REFUND" => Self::Refund,
            "NOTPAY" => Self::NotPay,
            "CLOSED" => Self::Closed,
            "REVOKED" => Self::Revoked,
            "USERPAYING" => Self::UserPaying,
            "PAYERROR" => Self::PayError,
            "ACCEPT" => Self::Accept,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for TradeState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TradeState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self::parse(&s))
    }
}

/// `amount` of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    pub total: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
}

/// A transaction, as queried or as decrypted from `TRANSACTION.SUCCESS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    /// Absent until paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<String>,
    pub trade_state: TradeState,
    #[serde(default)]
    pub trade_state_desc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    pub amount: TransactionAmount,
}

#[derive(Serialize)]
struct CloseBody<'a> {
    mchid: &'a str,
}

/// Formats an expiry the way WeChat shows times: `2018-06-08T10:34:56+08:00`.
#[must_use]
pub fn format_time_expire(at: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+08:00");
    at.to_offset(offset!(+8)).format(&fmt).unwrap_or_default()
}

/// Percent-encodes per RFC 3986 — everything but the unreserved `A–Z a–z 0–9 - . _ ~` — for a
/// path segment (so the signed path is the one sent) or a query value (`redirect_url`).
pub(crate) fn segment(s: &str) -> String {
    const UNRESERVED_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED_KEPT).to_string()
}

impl WechatPayClient {
    fn check_mchid(&self, mchid: &str) -> Result<(), WechatError> {
        if mchid == self.mchid() {
            Ok(())
        } else {
            Err(WechatError::InvalidRequest(format!(
                "order mchid {mchid} is not this client's"
            )))
        }
    }

    /// Creates a JSAPI order; safe to repeat with the same `out_trade_no` and parameters.
    pub async fn create_jsapi_order(&self, order: &JsapiOrder) -> Result<JsapiPrepay, WechatError> {
        self.check_mchid(&order.common.mchid)?;
        self.call_json(
            Method::POST,
            "/v3/pay/transactions/jsapi",
            Some(order),
            Idempotency::Idempotent,
        )
        .await
    }

    /// Creates a Native (QR) order.
    pub async fn create_native_order(
        &self,
        order: &NativeOrder,
    ) -> Result<NativePrepay, WechatError> {
        self.check_mchid(&order.common.mchid)?;
        self.call_json(
            Method::POST,
            "/v3/pay/transactions/native",
            Some(order),
            Idempotency::Idempotent,
        )
        .await
    }

    /// Creates an H5 order.
    pub async fn create_h5_order(&self, order: &H5Order) -> Result<H5Prepay, WechatError> {
        self.check_mchid(&order.common.mchid)?;
        self.call_json(
            Method::POST,
            "/v3/pay/transactions/h5",
            Some(order),
            Idempotency::Idempotent,
        )
        .await
    }

    /// `GET /v3/pay/transactions/out-trade-no/{n}?mchid=…`
    pub async fn query_order_by_out_trade_no(
        &self,
        out_trade_no: &str,
    ) -> Result<Transaction, WechatError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            segment(out_trade_no),
            segment(self.mchid())
        );
        self.call_json::<(), _>(Method::GET, &path, None, Idempotency::Idempotent)
            .await
    }

    /// `GET /v3/pay/transactions/id/{transaction_id}?mchid=…`
    pub async fn query_order_by_transaction_id(
        &self,
        transaction_id: &str,
    ) -> Result<Transaction, WechatError> {
        let path = format!(
            "/v3/pay/transactions/id/{}?mchid={}",
            segment(transaction_id),
            segment(self.mchid())
        );
        self.call_json::<(), _>(Method::GET, &path, None, Idempotency::Idempotent)
            .await
    }

    /// `POST /v3/pay/transactions/out-trade-no/{n}/close` (204). Closing twice is harmless.
    pub async fn close_order(&self, out_trade_no: &str) -> Result<(), WechatError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            segment(out_trade_no)
        );
        self.call(
            Method::POST,
            &path,
            Some(&CloseBody {
                mchid: self.mchid(),
            }),
            Idempotency::Idempotent,
        )
        .await?;
        Ok(())
    }
}
