//! The provider trait: the payment service creates, queries, closes and refunds trades and
//! reads notifications through it, in one vocabulary, whichever provider is behind it.
//! Provider-only steps that have no counterpart elsewhere (WeChat's OAuth, JSAPI parameters,
//! bills) stay on the provider's own client.

use std::net::IpAddr;

use futures_util::future::BoxFuture;

pub use crate::domain::TradeState;
use crate::domain::{Channel, PaymentMethod};

/// A new trade to create at the provider.
#[derive(Debug, Clone)]
pub struct OrderRequest<'a> {
    pub channel: Channel,
    pub out_trade_no: &'a str,
    pub description: &'a str,
    /// Minor units.
    pub amount: i64,
    /// Unix seconds after which the trade can no longer be paid.
    pub expires_at: i64,
    /// Where the provider sends notifications.
    pub notify_url: &'a str,
    /// Where a cashier (H5, Alipay page/wap) sends the shopper back.
    pub return_url: &'a str,
    pub appid: &'a str,
    pub openid: Option<&'a str>,
    /// The shopper's real IP.
    pub client_ip: IpAddr,
    /// What is being bought (empty when the session has no line items).
    pub goods: &'a [crate::domain::line_items::LineItem],
}

/// What the provider gave for a new trade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCreated {
    /// A QR code's content, for the shopper to scan.
    Qr { code_url: String },
    /// A cashier page for the shopper's browser.
    Redirect { url: String },
    /// WeChat's prepay id, paid through the JSAPI / mini program bridge.
    Prepay { prepay_id: String },
    /// A signed order string for the provider's SDK in the merchant's app (Alipay's
    /// `alipay.trade.app.pay`): nothing is sent to the provider until the app opens it.
    AppOrder { order_string: String },
}

/// A trade as the provider reports it (a verified notification or a query answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub out_trade_no: String,
    pub transaction_id: Option<String>,
    pub state: TradeState,
    /// The provider's words for the state, for failure reasons and logs.
    pub detail: String,
    /// Minor units.
    pub amount: i64,
    pub currency: Option<String>,
    /// The app the trade was made for.
    pub app_id: String,
    /// The merchant account the trade belongs to, when the provider says.
    pub merchant_id: Option<String>,
}

/// A refund to send.
#[derive(Debug, Clone)]
pub struct RefundOrder<'a> {
    pub out_trade_no: &'a str,
    pub transaction_id: Option<&'a str>,
    /// Stable per refund: resending it cannot refund twice.
    pub out_refund_no: &'a str,
    pub amount: i64,
    /// What was paid.
    pub total: i64,
    pub currency: &'a str,
    pub reason: Option<&'a str>,
    pub notify_url: &'a str,
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    Processing,
    Succeeded,
    Failed,
}

/// A refund's outcome as a notification reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundUpdate {
    pub out_refund_no: String,
    pub merchant_id: Option<String>,
    /// This refund's amount when the provider says.
    pub amount: Option<i64>,
    pub state: RefundState,
}

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Trade(Trade),
    Refund(RefundUpdate),
    /// Authentic but of no interest (its kind, for the log).
    Ignored(String),
}

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider does not know the trade (never created, or a QR not scanned yet).
    #[error("the provider has no such trade")]
    NotFound,
    /// Worth retrying unchanged later.
    #[error("{0}")]
    Transient(String),
    /// Final: retrying the same call will not help. `code` is the provider's own (WeChat's
    /// `code`, Alipay's `sub_code`), recorded first in the attempt's failure reason.
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    /// A notification that is not authentic or not for us.
    #[error("not authentic: {0}")]
    Unauthentic(String),
}

impl ProviderError {
    /// Whether the same call may succeed later.
    #[must_use]
    pub const fn retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// A payment provider (WeChat Pay, Alipay) as the payment service sees it.
pub trait PaymentProvider: Send + Sync + std::fmt::Debug {
    /// The method this provider pays with.
    fn method(&self) -> PaymentMethod;

    /// Our merchant account at the provider, compared with what trades report.
    fn merchant_id(&self) -> &str;

    /// Creates a trade.
    fn create<'a>(
        &'a self,
        order: &'a OrderRequest<'a>,
    ) -> BoxFuture<'a, Result<OrderCreated, ProviderError>>;

    /// Looks a trade up by our number.
    fn query<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<Trade, ProviderError>>;

    /// Closes an unpaid trade so it can no longer be paid.
    fn close<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<(), ProviderError>>;

    /// Sends a refund (idempotent on `out_refund_no`).
    fn refund<'a>(
        &'a self,
        refund: &'a RefundOrder<'a>,
    ) -> BoxFuture<'a, Result<RefundState, ProviderError>>;

    /// Verifies and decodes a notification (headers and raw body as received).
    fn notification<'a>(
        &'a self,
        headers: &'a http::HeaderMap,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Notice, ProviderError>>;
}
