//! Refunds: create (reuse `out_refund_no` when retrying) and query; the refund notification resource.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Idempotency, WechatPayClient};
use super::error::WechatError;
use super::orders::segment;

/// `amount` of a refund request, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmountRequest {
    pub refund: i64,
    pub total: i64,
    pub currency: String,
}

/// `POST /v3/refund/domestic/refunds`: name the order by `transaction_id` or `out_trade_no`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    pub out_refund_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    pub amount: RefundAmountRequest,
}

/// `status` of a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundStatus {
    Success,
    Closed,
    Processing,
    Abnormal,
    /// Kept verbatim.
    Other(String),
}

impl RefundStatus {
    /// WeChat's string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Success => "SUCCESS",
            Self::Closed => "CLOSED",
            Self::Processing => "PROCESSING",
            Self::Abnormal => "ABNORMAL",
            Self::Other(s) => s,
        }
    }
}

impl Serialize for RefundStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RefundStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match String::deserialize(d)?.as_str() {
            "SUCCESS" => Self::Success,
            "CLOSED" => Self::Closed,
            "PROCESSING" => Self::Processing,
            "ABNORMAL" => Self::Abnormal,
            other => Self::Other(other.to_owned()),
        })
    }
}

/// `amount` of a refund answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    pub total: i64,
    pub refund: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_refund: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A refund as created or queried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub out_refund_no: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    pub status: RefundStatus,
    pub amount: RefundAmount,
}

/// The decrypted resource of a `REFUND.*` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub mchid: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    pub refund_id: String,
    pub out_refund_no: String,
    pub refund_status: RefundStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    pub amount: RefundAmount,
}

impl WechatPayClient {
    /// Creates a refund; retrying with the same `out_refund_no` cannot refund twice.
    pub async fn create_refund(&self, request: &RefundRequest) -> Result<Refund, WechatError> {
        if request.transaction_id.is_none() && request.out_trade_no.is_none() {
            return Err(WechatError::InvalidRequest(
                "refund needs transaction_id or out_trade_no".into(),
            ));
        }
        self.call_json(
            Method::POST,
            "/v3/refund/domestic/refunds",
            Some(request),
            Idempotency::Idempotent,
        )
        .await
    }

    /// `GET /v3/refund/domestic/refunds/{out_refund_no}`
    pub async fn query_refund(&self, out_refund_no: &str) -> Result<Refund, WechatError> {
        let path = format!("/v3/refund/domestic/refunds/{}", segment(out_refund_no));
        self.call_json::<(), _>(Method::GET, &path, None, Idempotency::Idempotent)
            .await
    }
}
