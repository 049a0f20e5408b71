//! The gateway transport: every call is the common parameters plus `biz_content`, signed RSA2
//! with the app's key and POSTed form-encoded; every answer is verified with Alipay's public key
//! before it is decoded. Cashier payments (page and wap) are not calls but signed URLs the
//! shopper's browser opens.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::AlipayError;
use super::model::{
    ByOutTradeNo, CashierPay, Precreate, Precreated, RefundQueried, RefundQuery, RefundRequest,
    Refunded, TradeClosed, TradeQueried,
};
use super::notification::{self, TradeNotification};
use super::trust::AlipayTrust;
use super::{response, sign};
use crate::providers::wechat::clock::Clock;
use crate::providers::wechat::crypto::PrivateKey;

/// Beijing time, in which Alipay reads every timestamp.
pub const BEIJING: time::UtcOffset = time::macros::offset!(+8);

/// `yyyy-MM-dd HH:mm:ss` in Beijing time, Alipay's timestamp format.
#[must_use]
pub fn beijing_time(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(BEIJING)
        .format(&format)
        .unwrap_or_default()
}

/// Parses [`beijing_time`]'s format back to Unix seconds.
#[must_use]
pub fn parse_beijing_time(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(text, &format)
        .ok()
        .map(|t| t.assume_offset(BEIJING).unix_timestamp())
}

/// Everything the client needs; all of it comes from configuration.
#[derive(Debug)]
pub struct AlipayConfig {
    pub app_id: String,
    /// `ALIPAY_GATEWAY`: Alipay's `gateway.do` or the sandbox's.
    pub gateway: Url,
    /// The app's private key (signs requests).
    pub app_key: PrivateKey,
    /// What verifies answers and notifications (Alipay's public key or certificates).
    pub trust: AlipayTrust,
    pub timeout: Duration,
}

/// An Alipay gateway client for one app. Cheap to share behind an `Arc`.
pub struct AlipayClient {
    http: reqwest::Client,
    config: AlipayConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AlipayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Transient failures are retried this many more times (every call is idempotent on
/// `out_trade_no` / `out_request_no`).
const RETRIES: u32 = 2;

impl AlipayClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(config: AlipayConfig, clock: Arc<dyn Clock>) -> Result<Self, AlipayError> {
        let builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("paybridge/", env!("CARGO_PKG_VERSION")));
        let http = crate::tls_roots::with_extra_roots(builder)
            .map_err(|e| AlipayError::InvalidRequest(e.to_string()))?
            .build()
            .map_err(|e| AlipayError::Network(crate::providers::transport_error(&e)))?;
        Ok(Self {
            http,
            config,
            clock,
        })
    }

    /// The app id requests are made for.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.config.app_id
    }

    /// What verifies Alipay's answers and notifications.
    #[must_use]
    pub const fn trust(&self) -> &AlipayTrust {
        &self.config.trust
    }

    /// The common parameters plus `extra` and the signature.
    fn signed_params(
        &self,
        method: &str,
        biz_content: &str,
        extra: &[(&str, &str)],
    ) -> Result<Vec<(String, String)>, AlipayError> {
        let timestamp = beijing_time(self.clock.now_unix());
        let mut params: Vec<(String, String)> = [
            ("app_id", self.config.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp.as_str()),
            ("version", "1.0"),
            ("biz_content", biz_content),
        ]
        .iter()
        .chain(&self.config.trust.request_params())
        .chain(extra)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let content = sign::signing_content(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            sign::REQUEST_EXCLUDED,
        );
        params.push(("sign".into(), sign::sign(&self.config.app_key, &content)?));
        Ok(params)
    }

    /// The signed URL that opens Alipay's cashier for `pay`: `alipay.trade.page.pay` on a
    /// desktop, `alipay.trade.wap.pay` on a phone or in the Alipay app.
    ///
    /// # Errors
    /// When the key cannot sign.
    pub fn cashier_url(
        &self,
        method: &str,
        pay: &CashierPay,
        notify_url: &str,
        return_url: &str,
    ) -> Result<Url, AlipayError> {
        let biz =
            serde_json::to_string(pay).map_err(|e| AlipayError::InvalidRequest(e.to_string()))?;
        let params = self.signed_params(
            method,
            &biz,
            &[("notify_url", notify_url), ("return_url", return_url)],
        )?;
        let mut url = self.config.gateway.clone();
        url.query_pairs_mut().extend_pairs(params);
        Ok(url)
    }

    /// The signed order string of `alipay.trade.app.pay` that the Alipay SDK in the merchant's
    /// app opens (`alipay.trade.app.pay` is never called by the server).
    ///
    /// # Errors
    /// When the key cannot sign.
    pub fn app_order_string(
        &self,
        pay: &CashierPay,
        notify_url: &str,
    ) -> Result<String, AlipayError> {
        let biz =
            serde_json::to_string(pay).map_err(|e| AlipayError::InvalidRequest(e.to_string()))?;
        let params =
            self.signed_params("alipay.trade.app.pay", &biz, &[("notify_url", notify_url)])?;
        Ok(url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish())
    }

    async fn call<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        method: &str,
        biz: &B,
        extra: &[(&str, &str)],
    ) -> Result<T, AlipayError> {
        let biz =
            serde_json::to_string(biz).map_err(|e| AlipayError::InvalidRequest(e.to_string()))?;
        let mut tries = 0;
        loop {
            let result = self.call_once(method, &biz, extra).await;
            match result {
                Err(e) if e.retryable() && tries < RETRIES => {
                    tries += 1;
                    tracing::info!(method, error = %e, "retrying an Alipay call");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(tries))).await;
                }
                other => return other,
            }
        }
    }

    async fn call_once<T: DeserializeOwned>(
        &self,
        method: &str,
        biz: &str,
        extra: &[(&str, &str)],
    ) -> Result<T, AlipayError> {
        let params = self.signed_params(method, biz, extra)?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let response = self
            .http
            .post(self.config.gateway.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| AlipayError::from_reqwest(&e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| AlipayError::from_reqwest(&e))?;
        if !status.is_success() {
            return Err(AlipayError::Api {
                code: "20000".into(),
                msg: format!("HTTP {status}"),
                sub_code: String::new(),
                sub_msg: String::new(),
            });
        }
        response::parse(&self.config.trust, method, &body)
    }

    /// `alipay.trade.precreate`: a QR code for the trade.
    ///
    /// # Errors
    /// [`AlipayError`].
    pub async fn precreate(
        &self,
        order: &Precreate,
        notify_url: &str,
    ) -> Result<Precreated, AlipayError> {
        self.call(
            "alipay.trade.precreate",
            order,
            &[("notify_url", notify_url)],
        )
        .await
    }

    /// `alipay.trade.query` by our trade number.
    ///
    /// # Errors
    /// [`AlipayError`]; a trade Alipay does not know is [`AlipayError::is_trade_not_exist`].
    pub async fn query(&self, out_trade_no: &str) -> Result<TradeQueried, AlipayError> {
        let biz = ByOutTradeNo {
            out_trade_no: out_trade_no.to_owned(),
        };
        self.call("alipay.trade.query", &biz, &[]).await
    }

    /// `alipay.trade.close`: an unpaid trade can no longer be paid.
    ///
    /// # Errors
    /// [`AlipayError`].
    pub async fn close(&self, out_trade_no: &str) -> Result<TradeClosed, AlipayError> {
        let biz = ByOutTradeNo {
            out_trade_no: out_trade_no.to_owned(),
        };
        self.call("alipay.trade.close", &biz, &[]).await
    }

    /// `alipay.trade.refund`; repeating an `out_request_no` cannot refund twice.
    ///
    /// # Errors
    /// [`AlipayError`].
    pub async fn refund(&self, request: &RefundRequest) -> Result<Refunded, AlipayError> {
        self.call("alipay.trade.refund", request, &[]).await
    }

    /// `alipay.trade.fastpay.refund.query`.
    ///
    /// # Errors
    /// [`AlipayError`].
    pub async fn refund_query(&self, query: &RefundQuery) -> Result<RefundQueried, AlipayError> {
        self.call("alipay.trade.fastpay.refund.query", query, &[])
            .await
    }

    /// Verifies an asynchronous notification (the form body Alipay POSTed) and decodes it.
    ///
    /// # Errors
    /// [`AlipayError::Signature`] when not signed by Alipay or for another app;
    /// [`AlipayError::InvalidResponse`] when fields are missing.
    pub fn parse_notification(&self, body: &[u8]) -> Result<TradeNotification, AlipayError> {
        // In certificate mode a notification names no certificate: any held may have signed it.
        for key in self.config.trust.notification_keys() {
            match notification::parse_notification(key, &self.config.app_id, body) {
                Err(AlipayError::Signature) => {}
                other => return other,
            }
        }
        Err(AlipayError::Signature)
    }
}
