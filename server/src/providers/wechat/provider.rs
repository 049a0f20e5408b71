//! WeChat Pay behind [`PaymentProvider`]: Native, H5, JSAPI and mini program orders, queries,
//! closes, refunds and notifications in the provider-neutral vocabulary.

use futures_util::future::BoxFuture;

use super::clients::WechatClients;
use super::error::{ApiErrorCode, WechatError};
use super::notification::NotificationEvent;
use super::orders::{
    GoodsDetail, H5Info, H5Order, H5SceneInfo, JsapiOrder, NativeOrder, OrderAmount, OrderCommon,
    OrderDetail, Payer, TradeState as WxState, Transaction, format_time_expire,
};
use super::refunds::{RefundAmountRequest, RefundRequest, RefundStatus};
use crate::domain::{Channel, PaymentMethod};
use crate::providers::{
    Notice, OrderCreated, OrderRequest, PaymentProvider, ProviderError, RefundOrder, RefundState,
    RefundUpdate, Trade, TradeState,
};

fn error(e: &WechatError) -> ProviderError {
    match e.api_code() {
        Some(ApiErrorCode::OrderNotExist | ApiErrorCode::OrderNotExistLegacy) => {
            ProviderError::NotFound
        }
        _ if e.retryable() => ProviderError::Transient(e.to_string()),
        _ => match e {
            WechatError::Api { code, message, .. } => ProviderError::Refused {
                code: code.to_string(),
                message: message.clone(),
            },
            other => ProviderError::Refused {
                code: "INVALID_REQUEST".into(),
                message: other.to_string(),
            },
        },
    }
}

/// A WeChat transaction in the neutral vocabulary.
#[must_use]
pub fn trade(t: &Transaction) -> Trade {
    let state = match t.trade_state {
        WxState::Success => TradeState::Paid,
        WxState::Closed | WxState::Revoked => TradeState::Closed,
        WxState::PayError => TradeState::Failed,
        // REFUND: paid then refunded, which the refund flow records; never a new payment.
        WxState::NotPay
        | WxState::UserPaying
        | WxState::Accept
        | WxState::Refund
        | WxState::Other(_) => TradeState::Pending,
    };
    Trade {
        out_trade_no: t.out_trade_no.clone(),
        transaction_id: t.transaction_id.clone(),
        state,
        detail: if t.trade_state_desc.is_empty() {
            t.trade_state.as_str().to_owned()
        } else {
            t.trade_state_desc.clone()
        },
        amount: t.amount.total,
        currency: t.amount.currency.clone(),
        app_id: t.appid.clone(),
        merchant_id: Some(t.mchid.clone()),
    }
}

const fn refund_state(status: &RefundStatus) -> RefundState {
    match status {
        RefundStatus::Success => RefundState::Succeeded,
        RefundStatus::Closed | RefundStatus::Abnormal => RefundState::Failed,
        RefundStatus::Processing | RefundStatus::Other(_) => RefundState::Processing,
    }
}

impl WechatClients {
    async fn create_order(&self, order: &OrderRequest<'_>) -> Result<OrderCreated, WechatError> {
        let common = OrderCommon {
            appid: order.appid.to_owned(),
            mchid: self.pay.mchid().to_owned(),
            description: order.description.to_owned(),
            out_trade_no: order.out_trade_no.to_owned(),
            time_expire: time::OffsetDateTime::from_unix_timestamp(order.expires_at)
                .ok()
                .map(format_time_expire),
            attach: None,
            notify_url: order.notify_url.to_owned(),
            amount: OrderAmount {
                total: order.amount,
                currency: Some("CNY".into()),
            },
            detail: (!order.goods.is_empty()).then(|| OrderDetail {
                goods_detail: order
                    .goods
                    .iter()
                    .enumerate()
                    .map(|(i, g)| GoodsDetail {
                        merchant_goods_id: g.goods_id(i),
                        goods_name: g.name.clone(),
                        quantity: g.quantity,
                        unit_price: g.unit_amount,
                    })
                    .collect(),
            }),
        };
        match order.channel {
            Channel::Native => self
                .pay
                .create_native_order(&NativeOrder { common })
                .await
                .map(|r| OrderCreated::Qr {
                    code_url: r.code_url,
                }),
            Channel::H5 => {
                let h5 = H5Order {
                    common,
                    scene_info: H5SceneInfo {
                        payer_client_ip: order.client_ip.to_string(),
                        h5_info: H5Info { kind: "Wap".into() },
                    },
                };
                let r = self.pay.create_h5_order(&h5).await?;
                Ok(OrderCreated::Redirect {
                    url: h5_with_return(&r.h5_url, order.return_url),
                })
            }
            Channel::Jsapi | Channel::MiniProgram => {
                let payer = Payer {
                    openid: order.openid.unwrap_or_default().to_owned(),
                };
                self.pay
                    .create_jsapi_order(&JsapiOrder { common, payer })
                    .await
                    .map(|r| OrderCreated::Prepay {
                        prepay_id: r.prepay_id,
                    })
            }
            Channel::AlipayPage | Channel::AlipayWap | Channel::AlipayQr | Channel::AlipayApp => {
                Err(WechatError::InvalidRequest(
                    "not a WeChat Pay channel".into(),
                ))
            }
        }
    }
}

impl PaymentProvider for WechatClients {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::WechatPay
    }

    fn merchant_id(&self) -> &str {
        self.pay.mchid()
    }

    fn create<'a>(
        &'a self,
        order: &'a OrderRequest<'a>,
    ) -> BoxFuture<'a, Result<OrderCreated, ProviderError>> {
        Box::pin(async move { self.create_order(order).await.map_err(|e| error(&e)) })
    }

    fn query<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<Trade, ProviderError>> {
        Box::pin(async move {
            self.pay
                .query_order_by_out_trade_no(out_trade_no)
                .await
                .map(|t| trade(&t))
                .map_err(|e| error(&e))
        })
    }

    fn close<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.pay
                .close_order(out_trade_no)
                .await
                .map_err(|e| error(&e))
        })
    }

    fn refund<'a>(
        &'a self,
        refund: &'a RefundOrder<'a>,
    ) -> BoxFuture<'a, Result<RefundState, ProviderError>> {
        Box::pin(async move {
            let request = RefundRequest {
                transaction_id: refund.transaction_id.map(str::to_owned),
                out_trade_no: Some(refund.out_trade_no.to_owned()),
                out_refund_no: refund.out_refund_no.to_owned(),
                reason: refund.reason.map(str::to_owned),
                notify_url: Some(refund.notify_url.to_owned()),
                amount: RefundAmountRequest {
                    refund: refund.amount,
                    total: refund.total,
                    currency: refund.currency.to_owned(),
                },
            };
            self.pay
                .create_refund(&request)
                .await
                .map(|answer| refund_state(&answer.status))
                .map_err(|e| error(&e))
        })
    }

    fn notification<'a>(
        &'a self,
        headers: &'a http::HeaderMap,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Notice, ProviderError>> {
        Box::pin(async move {
            let notification = self
                .pay
                .parse_notification(headers, body)
                .await
                .map_err(|e| ProviderError::Unauthentic(e.to_string()))?;
            Ok(match notification.event {
                NotificationEvent::Transaction(t) => Notice::Trade(trade(&t)),
                NotificationEvent::Refund(r) => Notice::Refund(RefundUpdate {
                    out_refund_no: r.out_refund_no.clone(),
                    merchant_id: Some(r.mchid.clone()),
                    amount: Some(r.amount.refund),
                    state: refund_state(&r.refund_status),
                }),
                NotificationEvent::Unknown { event_type, .. } => Notice::Ignored(event_type),
            })
        })
    }
}

/// WeChat's `h5_url` with `&redirect_url=` the shopper's way back, encoded per RFC 3986 as WeChat
/// documents: reserved characters percent-encoded, unreserved ones (`- . _ ~`) left as they are.
fn h5_with_return(h5_url: &str, return_url: &str) -> String {
    format!(
        "{h5_url}&redirect_url={}",
        super::orders::segment(return_url)
    )
}

#[cfg(test)]
mod h5_tests {
    #[test]
    fn the_return_url_is_encoded_per_rfc_3986() {
        assert_eq!(
            super::h5_with_return(
                "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1",
                "https://pay.example.com/pay/cs_1?return=h5&x=a~b.c-d_e f/é"
            ),
            "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1\
             &redirect_url=https%3A%2F%2Fpay.example.com%2Fpay%2Fcs_1%3Freturn%3Dh5%26x%3Da~b.c-d_e%20f%2F%C3%A9"
        );
    }
}
