//! Alipay behind [`PaymentProvider`]: page pay and wap pay (signed cashier URLs), precreate
//! (QR), queries, closes, refunds and notifications in the provider-neutral vocabulary.

use futures_util::future::BoxFuture;

use super::amount;
use super::client::{AlipayClient, beijing_time};
use super::error::AlipayError;
use super::model::{
    APP_PRODUCT, CashierPay, Goods, PAGE_PRODUCT, Precreate, REFUND_SUCCESS, RefundQuery,
    RefundRequest, TradeStatus, WAP_PRODUCT,
};
use super::notification::TradeNotification;
use crate::domain::{Channel, PaymentMethod};
use crate::providers::{
    Notice, OrderCreated, OrderRequest, PaymentProvider, ProviderError, RefundOrder, RefundState,
    RefundUpdate, Trade, TradeState,
};

/// Alipay as a [`PaymentProvider`].
#[derive(Debug)]
pub struct AlipayProvider {
    pub client: AlipayClient,
    /// The merchant's seller id, when configured: a notification naming another seller is
    /// refused even though signed (one Alipay app can serve several sellers).
    pub seller_id: Option<String>,
}

/// The refusal code of an answer signed under an Alipay certificate that is not configured.
pub const UNKNOWN_CERTIFICATE: &str = "ALIPAY_CERT_SN_UNKNOWN";

fn error(e: &AlipayError) -> ProviderError {
    if e.is_trade_not_exist() {
        ProviderError::NotFound
    } else if e.retryable() {
        ProviderError::Transient(e.to_string())
    } else {
        match e {
            AlipayError::Api {
                code,
                msg,
                sub_code,
                sub_msg,
            } => ProviderError::Refused {
                code: if sub_code.is_empty() { code } else { sub_code }.clone(),
                message: if sub_msg.is_empty() { msg } else { sub_msg }.clone(),
            },
            AlipayError::UnknownCertificate(_) => ProviderError::Refused {
                code: UNKNOWN_CERTIFICATE.into(),
                message: e.to_string(),
            },
            other => ProviderError::Refused {
                code: "INVALID_REQUEST".into(),
                message: other.to_string(),
            },
        }
    }
}

const fn state(status: &TradeStatus) -> TradeState {
    match status {
        TradeStatus::Success | TradeStatus::Finished => TradeState::Paid,
        TradeStatus::Closed => TradeState::Closed,
        TradeStatus::WaitBuyerPay | TradeStatus::Other(_) => TradeState::Pending,
    }
}

/// Subjects are at most 256 characters and may not hold `/ = &`.
fn subject(description: &str) -> String {
    description
        .chars()
        .map(|c| if matches!(c, '/' | '=' | '&') { ' ' } else { c })
        .take(256)
        .collect()
}

impl AlipayProvider {
    async fn create_order(&self, order: &OrderRequest<'_>) -> Result<OrderCreated, AlipayError> {
        let total_amount = amount::to_yuan(order.amount);
        let time_expire = Some(beijing_time(order.expires_at));
        let cashier = |product: &str, quit_url: Option<String>| CashierPay {
            out_trade_no: order.out_trade_no.to_owned(),
            total_amount: total_amount.clone(),
            subject: subject(order.description),
            product_code: product.to_owned(),
            time_expire: time_expire.clone(),
            quit_url,
            goods_detail: Goods::of(order.goods),
        };
        match order.channel {
            Channel::AlipayPage => self
                .client
                .cashier_url(
                    "alipay.trade.page.pay",
                    &cashier(PAGE_PRODUCT, None),
                    order.notify_url,
                    order.return_url,
                )
                .map(|url| OrderCreated::Redirect { url: url.into() }),
            Channel::AlipayWap => self
                .client
                .cashier_url(
                    "alipay.trade.wap.pay",
                    &cashier(WAP_PRODUCT, Some(order.return_url.to_owned())),
                    order.notify_url,
                    order.return_url,
                )
                .map(|url| OrderCreated::Redirect { url: url.into() }),
            Channel::AlipayApp => self
                .client
                .app_order_string(&cashier(APP_PRODUCT, None), order.notify_url)
                .map(|order_string| OrderCreated::AppOrder { order_string }),
            Channel::AlipayQr => {
                let pre = Precreate {
                    out_trade_no: order.out_trade_no.to_owned(),
                    total_amount,
                    subject: subject(order.description),
                    time_expire,
                    goods_detail: Goods::of(order.goods),
                };
                self.client
                    .precreate(&pre, order.notify_url)
                    .await
                    .map(|r| OrderCreated::Qr {
                        code_url: r.qr_code,
                    })
            }
            Channel::Jsapi | Channel::MiniProgram | Channel::H5 | Channel::Native => {
                Err(AlipayError::InvalidRequest("not an Alipay channel".into()))
            }
        }
    }
}

/// A verified notification as a trade, or as a refund when it reports one.
fn notice(n: TradeNotification) -> Notice {
    if let Some(out_request_no) = n.out_biz_no.filter(|_| n.refund_fee.is_some()) {
        return Notice::Refund(RefundUpdate {
            out_refund_no: out_request_no,
            merchant_id: None,
            // refund_fee is the trade's total refunded, not this refund's amount.
            amount: None,
            state: RefundState::Succeeded,
        });
    }
    Notice::Trade(Trade {
        out_trade_no: n.out_trade_no,
        transaction_id: Some(n.trade_no),
        state: state(&n.trade_status),
        detail: n.trade_status.as_str().to_owned(),
        amount: n.total_amount,
        currency: None,
        app_id: n.app_id,
        merchant_id: None,
    })
}

impl PaymentProvider for AlipayProvider {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::Alipay
    }

    fn merchant_id(&self) -> &str {
        self.client.app_id()
    }

    fn create<'a>(
        &'a self,
        order: &'a OrderRequest<'a>,
    ) -> BoxFuture<'a, Result<OrderCreated, ProviderError>> {
        Box::pin(async move { self.create_order(order).await.map_err(|e| error(&e)) })
    }

    fn query<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<Trade, ProviderError>> {
        Box::pin(async move {
            let t = self
                .client
                .query(out_trade_no)
                .await
                .map_err(|e| error(&e))?;
            let amount = amount::to_fen(&t.total_amount).ok_or_else(|| ProviderError::Refused {
                code: "INVALID_RESPONSE".into(),
                message: format!("total_amount {:?}", t.total_amount),
            })?;
            Ok(Trade {
                state: state(&t.trade_status),
                detail: t.trade_status.as_str().to_owned(),
                out_trade_no: t.out_trade_no,
                transaction_id: Some(t.trade_no),
                amount,
                currency: None,
                // The answer is signed by Alipay to a request signed for our app.
                app_id: self.client.app_id().to_owned(),
                merchant_id: None,
            })
        })
    }

    fn close<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.client
                .close(out_trade_no)
                .await
                .map(|_| ())
                .map_err(|e| error(&e))
        })
    }

    fn refund<'a>(
        &'a self,
        refund: &'a RefundOrder<'a>,
    ) -> BoxFuture<'a, Result<RefundState, ProviderError>> {
        Box::pin(async move {
            let request = RefundRequest {
                out_trade_no: refund.out_trade_no.to_owned(),
                refund_amount: amount::to_yuan(refund.amount),
                out_request_no: refund.out_refund_no.to_owned(),
                refund_reason: refund.reason.map(str::to_owned),
            };
            match self.client.refund(&request).await {
                // fund_change "N" on a repeat: whether this refund is done is the refund query's
                // to say.
                Ok(answer) if answer.fund_change == "Y" => Ok(RefundState::Succeeded),
                Ok(_) => {
                    let query = RefundQuery {
                        out_trade_no: refund.out_trade_no.to_owned(),
                        out_request_no: refund.out_refund_no.to_owned(),
                    };
                    let found = self
                        .client
                        .refund_query(&query)
                        .await
                        .map_err(|e| error(&e))?;
                    Ok(if found.refund_status.as_deref() == Some(REFUND_SUCCESS) {
                        RefundState::Succeeded
                    } else {
                        RefundState::Processing
                    })
                }
                Err(e) => Err(error(&e)),
            }
        })
    }

    fn notification<'a>(
        &'a self,
        _headers: &'a http::HeaderMap,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Notice, ProviderError>> {
        Box::pin(async move {
            let n = self
                .client
                .parse_notification(body)
                .map_err(|e| ProviderError::Unauthentic(e.to_string()))?;
            if let (Some(ours), Some(theirs)) = (&self.seller_id, &n.seller_id)
                && ours != theirs
            {
                return Err(ProviderError::Unauthentic(
                    "the notification names another seller_id".into(),
                ));
            }
            Ok(notice(n))
        })
    }
}

/// Why the Alipay client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AlipaySetupError {
    #[error("cannot read {what}: {source}")]
    Read {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Key {
        what: &'static str,
        source: crate::providers::wechat::KeyError,
    },
    #[error("{0}")]
    Certificate(#[from] super::trust::CertificateProblem),
    #[error("{0}")]
    Client(#[from] AlipayError),
}

impl AlipayProvider {
    /// Reads the key files named by `config` and builds the client for `gateway`.
    ///
    /// # Errors
    /// [`AlipaySetupError`] naming the file that failed.
    pub fn from_config(
        config: &crate::config::AlipayConfig,
        gateway: &url::Url,
    ) -> Result<Self, AlipaySetupError> {
        use super::trust::{AlipayTrust, CertificateFiles};
        use crate::config::AlipayVerification;
        use crate::providers::wechat::RsaBackend;
        let read = |path: &std::path::Path, what: &'static str| {
            std::fs::read_to_string(path).map_err(|source| AlipaySetupError::Read { what, source })
        };
        let app_key = super::keys::private_key(
            RsaBackend::default(),
            &read(&config.private_key_path, "the Alipay app private key")?,
        )
        .map_err(|source| AlipaySetupError::Key {
            what: "ALIPAY_PRIVATE_KEY_PATH",
            source,
        })?;
        let trust = match &config.verification {
            AlipayVerification::PublicKey(path) => AlipayTrust::PublicKey(
                super::keys::public_key(
                    RsaBackend::default(),
                    &read(path, "the Alipay public key")?,
                )
                .map_err(|source| AlipaySetupError::Key {
                    what: "ALIPAY_PUBLIC_KEY_PATH",
                    source,
                })?,
            ),
            AlipayVerification::Certificates {
                app_cert,
                alipay_cert,
                root_cert,
            } => AlipayTrust::certificates(
                RsaBackend::default(),
                &CertificateFiles {
                    app_cert: &read(app_cert, "the app public key certificate")?,
                    alipay_cert: &read(alipay_cert, "Alipay's public key certificate")?,
                    root_cert: &read(root_cert, "Alipay's root certificate")?,
                },
                &app_key,
                crate::domain::now_millis() / 1000,
            )?,
        };
        let client = AlipayClient::new(
            super::AlipayConfig {
                app_id: config.app_id.clone(),
                gateway: gateway.clone(),
                app_key,
                trust,
                timeout: std::time::Duration::from_secs(10),
            },
            std::sync::Arc::new(crate::providers::wechat::SystemClock),
        )?;
        Ok(Self {
            client,
            seller_id: config.seller_id.clone(),
        })
    }
}
