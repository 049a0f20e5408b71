//! The business content (`biz_content`) of each gateway method and the fields of its answer,
//! as plain serde types.

use serde::{Deserialize, Serialize};

/// `alipay.trade.page.pay` (desktop cashier) and `alipay.trade.wap.pay` (phone cashier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashierPay {
    pub out_trade_no: String,
    /// Yuan, two decimals.
    pub total_amount: String,
    pub subject: String,
    /// `FAST_INSTANT_TRADE_PAY` (page) or `QUICK_WAP_WAY` (wap).
    pub product_code: String,
    /// `yyyy-MM-dd HH:mm:ss`, Beijing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// Where the phone cashier's "back" goes (wap only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quit_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_detail: Option<Vec<Goods>>,
}

/// One entry of `goods_detail`: what is being bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goods {
    /// At most 64 characters.
    pub goods_id: String,
    /// At most 256 characters.
    pub goods_name: String,
    pub quantity: i64,
    /// Yuan, two decimals, per unit.
    pub price: String,
}

impl Goods {
    /// Alipay's form of `lines`; `None` when there are none.
    #[must_use]
    pub fn of(lines: &[crate::domain::line_items::LineItem]) -> Option<Vec<Self>> {
        (!lines.is_empty()).then(|| {
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| Self {
                    goods_id: l.goods_id(i),
                    goods_name: l.name.clone(),
                    quantity: l.quantity,
                    price: super::amount::to_yuan(l.unit_amount),
                })
                .collect()
        })
    }
}

/// `product_code` of page pay.
pub const PAGE_PRODUCT: &str = "FAST_INSTANT_TRADE_PAY";
/// `product_code` of wap pay.
pub const WAP_PRODUCT: &str = "QUICK_WAP_WAY";
/// `product_code` of app pay.
pub const APP_PRODUCT: &str = "QUICK_MSECURITY_PAY";

/// `alipay.trade.precreate`: a QR code for the shopper to scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precreate {
    pub out_trade_no: String,
    pub total_amount: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_detail: Option<Vec<Goods>>,
}

/// The answer to `alipay.trade.precreate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precreated {
    pub out_trade_no: String,
    pub qr_code: String,
}

/// `alipay.trade.query` / `alipay.trade.close` by our number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByOutTradeNo {
    pub out_trade_no: String,
}

/// Alipay's trade states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TradeStatus {
    /// Created, waiting for the buyer.
    #[serde(rename = "WAIT_BUYER_PAY")]
    WaitBuyerPay,
    /// Closed unpaid, or fully refunded.
    #[serde(rename = "TRADE_CLOSED")]
    Closed,
    /// Paid (refundable).
    #[serde(rename = "TRADE_SUCCESS")]
    Success,
    /// Paid and no longer refundable.
    #[serde(rename = "TRADE_FINISHED")]
    Finished,
    /// A state this library does not know (never treated as paid).
    #[serde(untagged)]
    Other(String),
}

impl TradeStatus {
    /// Alipay's string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::WaitBuyerPay => "WAIT_BUYER_PAY",
            Self::Closed => "TRADE_CLOSED",
            Self::Success => "TRADE_SUCCESS",
            Self::Finished => "TRADE_FINISHED",
            Self::Other(s) => s,
        }
    }

    /// Parses Alipay's string.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text {
            "WAIT_BUYER_PAY" => Self::WaitBuyerPay,
            "TRADE_CLOSED" => Self::Closed,
            "TRADE_SUCCESS" => Self::Success,
            "TRADE_FINISHED" => Self::Finished,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// The answer to `alipay.trade.query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeQueried {
    pub trade_no: String,
    pub out_trade_no: String,
    pub trade_status: TradeStatus,
    pub total_amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_logon_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_pay_date: Option<String>,
}

/// The answer to `alipay.trade.close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeClosed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    pub out_trade_no: String,
}

/// `alipay.trade.refund`: `out_request_no` identifies one refund of the trade; repeating it
/// repeats the same refund instead of refunding twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub out_trade_no: String,
    pub refund_amount: String,
    pub out_request_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
}

/// The answer to `alipay.trade.refund`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refunded {
    pub trade_no: String,
    pub out_trade_no: String,
    /// `"Y"` when money moved on this call; a repeated request answers `"N"`.
    pub fund_change: String,
    /// Total refunded on the trade so far, yuan.
    pub refund_fee: String,
}

/// `alipay.trade.fastpay.refund.query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundQuery {
    pub out_trade_no: String,
    pub out_request_no: String,
}

/// The answer to `alipay.trade.fastpay.refund.query`: an empty `refund_status` means Alipay
/// has no such refund (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundQueried {
    pub out_trade_no: String,
    pub out_request_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_status: Option<String>,
}

/// `refund_status` of a refund that has been paid out.
pub const REFUND_SUCCESS: &str = "REFUND_SUCCESS";
