//! The payment service: from a checkout session and where the shopper is, create the right
//! attempt at WeChat Pay and tell the page its next step; complete attempts exactly once from
//! verified notifications or queries. Independent of HTTP so the hosted page, a future
//! payment-intents API and background jobs share it.

pub mod complete;
pub mod oauth_state;

use std::net::IpAddr;

use paybridge_shared::{Environment, JsapiParams, NextAction};

use crate::domain::ids::{PaymentId, SessionId};
use crate::domain::payment::out_trade_no;
use crate::domain::{
    Channel, CheckoutSession, Millis, Payment, PaymentStatus, SessionStatus, now_millis,
};
use crate::error::AppError;
use crate::providers::wechat::orders::format_time_expire;
use crate::providers::wechat::orders::{
    H5Info, H5Order, H5SceneInfo, JsapiOrder, NativeOrder, OrderAmount, OrderCommon, Payer,
};
use crate::providers::wechat::signer::new_nonce;
use crate::providers::wechat::{JsapiPayParams, WechatError};
use crate::sandbox::clients::WechatClients;
use crate::state::AppState;

/// Lifetimes WeChat gives: prepay_id / code_url 2 h, h5_url 5 min.
const PREPAY_LIFETIME_MS: Millis = 2 * 3600 * 1000;
const H5_LIFETIME_MS: Millis = 5 * 60 * 1000;
/// An attempt is reused for the same channel while it has at least this long left.
const REUSE_MARGIN_MS: Millis = 60 * 1000;

/// What the server knows about the shopper's request beyond its body.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub environment: Environment,
    /// Wants a QR code whatever the environment.
    pub prefer_qr: bool,
    /// The shopper's real IP (X-Forwarded-For only from trusted proxies).
    pub ip: IpAddr,
}

/// The channel for an environment (DESIGN §2).
#[must_use]
pub const fn channel_for(environment: Environment, prefer_qr: bool) -> Option<Channel> {
    if prefer_qr {
        return Some(Channel::Native);
    }
    match environment {
        Environment::Wechat => Some(Channel::Jsapi),
        Environment::WechatMiniProgram => None,
        Environment::WeCom { mobile: true } | Environment::Mobile => Some(Channel::H5),
        Environment::WechatDesktop
        | Environment::WeCom { mobile: false }
        | Environment::Alipay
        | Environment::Desktop => Some(Channel::Native),
    }
}

fn clients(state: &AppState) -> Result<&WechatClients, AppError> {
    state.wechat().ok_or_else(|| AppError::Public {
        status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
        kind: paybridge_shared::ErrorType::Provider,
        code: "provider_unavailable",
        message: "WeChat Pay is not configured on this server.".into(),
        param: None,
    })
}

fn provider_error(e: &WechatError) -> AppError {
    tracing::warn!(error = %e, "WeChat Pay call failed");
    AppError::Public {
        status: axum::http::StatusCode::BAD_GATEWAY,
        kind: paybridge_shared::ErrorType::Provider,
        code: "provider_error",
        message: "WeChat Pay did not accept the payment right now. Please try again.".into(),
        param: None,
    }
}

/// Starts (or resumes) paying `session` where `shopper` is.
///
/// # Errors
/// 404 for an unknown session, 502 when WeChat refuses, 500 on a database error.
pub async fn pay(
    state: &AppState,
    id: &SessionId,
    shopper: &Shopper,
) -> Result<NextAction, AppError> {
    let session = crate::checkout::get(state, id)
        .await?
        .ok_or_else(|| AppError::not_found("checkout_not_found", "No such checkout session."))?;
    match session.status {
        SessionStatus::Complete => {
            return Ok(NextAction::AlreadyPaid {
                success_url: session.success_url,
            });
        }
        SessionStatus::Expired => return Ok(NextAction::Expired),
        SessionStatus::Open => {}
    }
    let Some(channel) = channel_for(shopper.environment, shopper.prefer_qr) else {
        // The web-view cannot pay: the mini program's own page does, after wx.login.
        return Ok(NextAction::MiniProgram {
            path: format!("/pages/pay/pay?checkout={}", session.id),
        });
    };
    let wechat = clients(state)?;
    let openid = if channel == Channel::Jsapi {
        match state.store().session_openid(&session.id).await? {
            Some(openid) => Some(openid),
            None => return Ok(oauth_redirect(state, wechat, &session)),
        }
    } else {
        None
    };
    start(
        state,
        wechat,
        &session,
        channel,
        wechat.appid.clone(),
        openid,
        shopper.ip,
    )
    .await
}

fn oauth_redirect(
    state: &AppState,
    wechat: &WechatClients,
    session: &CheckoutSession,
) -> NextAction {
    let secret = state
        .config()
        .secret_key
        .as_ref()
        .map(|s| s.expose().clone())
        .unwrap_or_default();
    let token = oauth_state::issue(&secret, session.id.as_str(), now_millis());
    let callback = state
        .public_url()
        .join("oauth/wechat/callback")
        .map(String::from)
        .unwrap_or_default();
    NextAction::Oauth {
        url: wechat.oauth.authorize_url(&callback, &token),
    }
}

/// Creates an attempt for `channel` (or reuses a live one) and asks WeChat for the order.
///
/// # Errors
/// 502 when WeChat refuses, 500 on a database error.
pub async fn start(
    state: &AppState,
    wechat: &WechatClients,
    session: &CheckoutSession,
    channel: Channel,
    appid: String,
    openid: Option<String>,
    ip: IpAddr,
) -> Result<NextAction, AppError> {
    let now = now_millis();
    for p in state.store().payments_of_session(&session.id).await? {
        let reusable = p.channel == channel
            && p.status == PaymentStatus::Pending
            && p.openid == openid
            && p.appid == appid
            && p.expires_at - REUSE_MARGIN_MS > now;
        if reusable
            && let Some(action) = p
                .next_action
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
        {
            return refresh_jsapi(wechat, action, &appid);
        }
    }
    let lifetime = if channel == Channel::H5 {
        H5_LIFETIME_MS
    } else {
        PREPAY_LIFETIME_MS
    };
    let id = PaymentId::generate();
    let payment = Payment {
        out_trade_no: out_trade_no(&id),
        id,
        session_id: session.id.clone(),
        method: "wechat_pay".into(),
        channel,
        status: PaymentStatus::Created,
        amount: session.amount,
        currency: session.currency.code().to_owned(),
        provider_transaction_id: None,
        failure_reason: None,
        appid,
        openid,
        next_action: None,
        expires_at: (now + lifetime).min(session.expires_at),
        checked_at: now,
        created_at: now,
        updated_at: now,
    };
    // Durable before WeChat hears of it: a crash after this point is found by the reconciler.
    state.store().insert_payment(&payment).await?;
    let common = OrderCommon {
        appid: payment.appid.clone(),
        mchid: wechat.pay.mchid().to_owned(),
        description: session.description.clone(),
        out_trade_no: payment.out_trade_no.clone(),
        time_expire: time::OffsetDateTime::from_unix_timestamp(session.expires_at / 1000)
            .ok()
            .map(format_time_expire),
        attach: None,
        notify_url: state
            .public_url()
            .join("notify/wechat")
            .map(String::from)
            .unwrap_or_default(),
        amount: OrderAmount {
            total: payment.amount,
            currency: Some("CNY".into()),
        },
    };
    let action = match channel {
        Channel::Native => wechat
            .pay
            .create_native_order(&NativeOrder { common })
            .await
            .map(|r| NextAction::Qr {
                payment: payment.id.to_string(),
                code_url: r.code_url,
                expires_at: payment.expires_at / 1000,
            }),
        Channel::H5 => {
            let order = H5Order {
                common,
                scene_info: H5SceneInfo {
                    payer_client_ip: ip.to_string(),
                    h5_info: H5Info { kind: "Wap".into() },
                },
            };
            let redirect = state
                .public_url()
                .join(&format!("pay/{}?return=h5", session.id))
                .map(String::from)
                .unwrap_or_default();
            wechat.pay.create_h5_order(&order).await.map(|r| {
                let encoded = percent_encoding::utf8_percent_encode(
                    &redirect,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                NextAction::Redirect {
                    payment: payment.id.to_string(),
                    url: format!("{}&redirect_url={encoded}", r.h5_url),
                }
            })
        }
        Channel::Jsapi | Channel::MiniProgram => {
            let payer = Payer {
                openid: payment.openid.clone().unwrap_or_default(),
            };
            match wechat
                .pay
                .create_jsapi_order(&JsapiOrder { common, payer })
                .await
            {
                Ok(r) => jsapi_params(wechat, &payment.appid, &r.prepay_id).map(|params| {
                    NextAction::Jsapi {
                        payment: payment.id.to_string(),
                        params,
                    }
                }),
                Err(e) => Err(e),
            }
        }
    };
    match action {
        Ok(action) => {
            let stored = stored_action(&action);
            state
                .store()
                .mark_payment_pending(&payment.id, &stored, now_millis())
                .await?;
            tracing::info!(payment = %payment.id, channel = channel.as_str(), "payment attempt created at WeChat Pay");
            Ok(action)
        }
        Err(e) => {
            if !e.retryable() {
                let mut tx = state.store().begin().await?;
                crate::store::payments::finish(
                    &mut tx,
                    &payment.id,
                    PaymentStatus::Failed,
                    None,
                    Some(&e.to_string()),
                    now_millis(),
                )
                .await?;
                tx.commit().await?;
            }
            Err(provider_error(&e))
        }
    }
}

/// JSAPI parameters are re-signed on every replay (fresh timestamp and nonce); the stored
/// form keeps only the prepay id.
fn stored_action(action: &NextAction) -> String {
    match action {
        NextAction::Jsapi { payment, params } => serde_json::json!({
            "type": "jsapi_prepay", "payment": payment, "prepay_id": params.package.trim_start_matches("prepay_id="),
        })
        .to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Stored {
    Prepay { payment: String, prepay_id: String },
    Action(NextAction),
}

fn refresh_jsapi(
    wechat: &WechatClients,
    stored: Stored,
    appid: &str,
) -> Result<NextAction, AppError> {
    match stored {
        Stored::Prepay { payment, prepay_id } => {
            let params = jsapi_params(wechat, appid, &prepay_id).map_err(|e| provider_error(&e))?;
            Ok(NextAction::Jsapi { payment, params })
        }
        Stored::Action(action) => Ok(action),
    }
}

/// Signs `getBrandWCPayRequest` / `wx.requestPayment` parameters for `prepay_id`.
///
/// # Errors
/// When the merchant key cannot sign.
pub fn jsapi_params(
    wechat: &WechatClients,
    appid: &str,
    prepay_id: &str,
) -> Result<JsapiParams, WechatError> {
    let p = JsapiPayParams::sign(
        wechat.pay.merchant(),
        appid,
        prepay_id,
        wechat.pay.now_unix(),
        &new_nonce(),
    )?;
    Ok(JsapiParams {
        app_id: p.app_id,
        time_stamp: p.time_stamp,
        nonce_str: p.nonce_str,
        package: p.package,
        sign_type: p.sign_type,
        pay_sign: p.pay_sign,
    })
}
