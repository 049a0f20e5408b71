//! Paying: from a checkout session and where the shopper is, create the right attempt at the
//! provider and tell the page its next step (completing attempts is `complete`).

use std::net::IpAddr;

use paybridge_shared::{Environment, NextAction};

use super::Services;
use super::error::codes;
use super::{ServiceError, complete, oauth_state};
use crate::domain::ids::{PaymentId, SessionId};
use crate::domain::payment::out_trade_no;
use crate::domain::session::Flow;
use crate::domain::{
    Channel, CheckoutSession, Millis, Payment, PaymentMethod, PaymentStatus, SessionStatus,
    now_millis,
};
use crate::providers::wechat::WechatClients;
use crate::providers::{OrderCreated, OrderRequest, PaymentProvider, ProviderError};

/// Lifetimes WeChat gives: prepay_id / code_url 2 h, h5_url 5 min.
const PREPAY_LIFETIME_MS: Millis = 2 * 3600 * 1000;
const H5_LIFETIME_MS: Millis = 5 * 60 * 1000;
/// An attempt is reused for the same channel while it has at least this long left.
const REUSE_MARGIN_MS: Millis = 60 * 1000;

/// What the server knows about the shopper's request beyond its body.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub method: PaymentMethod,
    pub environment: Environment,
    /// Wants a QR code whatever the environment.
    pub prefer_qr: bool,
    /// The shopper's real IP (X-Forwarded-For only from trusted proxies).
    pub ip: IpAddr,
    /// The browser's id: a WeChat sign-in started here must come back here.
    pub browser: String,
    /// The openid this browser's WeChat sign-in gave for this session, if it has signed in.
    pub openid: Option<String>,
}

/// Where a method leads in an environment (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Pay through this channel here.
    Pay(Channel),
    /// The mini program's own page pays (the web-view cannot).
    MiniProgram,
    /// The method cannot pay here: open the page in the phone's browser.
    OpenInBrowser,
}

/// The route for `method` in `environment` (DESIGN §2).
#[must_use]
pub const fn route_for(method: PaymentMethod, environment: Environment, prefer_qr: bool) -> Route {
    match method {
        PaymentMethod::WechatPay => match channel_for(environment, prefer_qr) {
            Some(channel) => Route::Pay(channel),
            None => Route::MiniProgram,
        },
        PaymentMethod::Alipay => match environment {
            // WeChat blocks Alipay's pages; a mini program cannot leave for a browser either.
            Environment::Wechat | Environment::WechatMiniProgram => Route::OpenInBrowser,
            Environment::Alipay => Route::Pay(Channel::AlipayWap),
            Environment::WeCom { mobile: true } | Environment::Mobile if !prefer_qr => {
                Route::Pay(Channel::AlipayWap)
            }
            Environment::Desktop | Environment::WeCom { mobile: false } if !prefer_qr => {
                Route::Pay(Channel::AlipayPage)
            }
            Environment::WeCom { .. }
            | Environment::Mobile
            | Environment::Desktop
            | Environment::WechatDesktop => Route::Pay(Channel::AlipayQr),
        },
    }
}

/// The WeChat Pay channel for an environment (DESIGN §2).
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

fn unavailable(method: PaymentMethod) -> ServiceError {
    ServiceError::ProviderUnavailable {
        message: format!("{} is not configured on this server.", method_name(method)),
    }
}

const fn method_name(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::WechatPay => "WeChat Pay",
        PaymentMethod::Alipay => "Alipay",
    }
}

/// The configured provider for `method`.
///
/// # Errors
/// 503 when it is not configured.
pub fn provider(
    svc: &Services,
    method: PaymentMethod,
) -> Result<&dyn PaymentProvider, ServiceError> {
    svc.provider(method).ok_or_else(|| unavailable(method))
}

fn clients(svc: &Services) -> Result<&WechatClients, ServiceError> {
    svc.wechat()
        .ok_or_else(|| unavailable(PaymentMethod::WechatPay))
}

fn provider_error(method: PaymentMethod, e: &dyn std::fmt::Display) -> ServiceError {
    tracing::warn!(error = %e, method = method.as_str(), "provider call failed");
    ServiceError::ProviderFailed {
        message: format!(
            "{} did not accept the payment right now. Please try again.",
            method_name(method)
        ),
    }
}

/// Starts (or resumes) paying `session` where `shopper` is.
///
/// # Errors
/// 404 for an unknown session, 422 for a method the session does not offer, 502 when the
/// provider refuses, 500 on a database error.
pub async fn pay(
    svc: &Services,
    id: &SessionId,
    shopper: &Shopper,
) -> Result<NextAction, ServiceError> {
    let session = match payable(svc, id).await? {
        Ok(session) => session,
        Err(over) => return Ok(over),
    };
    if !session.payment_methods.contains(&shopper.method) {
        return Err(crate::domain::Invalid::value(
            "method",
            format!("this checkout does not offer {}.", shopper.method.as_str()),
        )
        .into());
    }
    let channel = match route_for(shopper.method, shopper.environment, shopper.prefer_qr) {
        Route::Pay(channel) => channel,
        // The web-view cannot pay: the mini program's own page does, after wx.login.
        Route::MiniProgram => {
            return Ok(NextAction::MiniProgram {
                path: format!("/pages/pay/pay?checkout={}", session.id),
            });
        }
        Route::OpenInBrowser => {
            let url = svc.urls().checkout_page(session.id.as_str());
            return Ok(NextAction::OpenInBrowser { url });
        }
    };
    let (appid, openid) = match shopper.method {
        PaymentMethod::WechatPay => {
            let wechat = clients(svc)?;
            let openid = if channel == Channel::Jsapi {
                match shopper.openid.clone() {
                    Some(openid) => Some(openid),
                    None => return Ok(oauth_redirect(svc, wechat, &session, &shopper.browser)),
                }
            } else {
                None
            };
            (wechat.appid.clone(), openid)
        }
        PaymentMethod::Alipay => (
            provider(svc, shopper.method)?.merchant_id().to_owned(),
            None,
        ),
    };
    let extras = Extras {
        environment: Some(shopper.environment),
        ..Extras::default()
    };
    start_attempt(svc, &session, channel, appid, openid, shopper.ip, extras).await
}

/// The session `id` while it can be paid, or the page's answer once it cannot (already paid,
/// or expired).
///
/// # Errors
/// Not found for an unknown session; a database error.
async fn payable(
    svc: &Services,
    id: &SessionId,
) -> Result<Result<CheckoutSession, NextAction>, ServiceError> {
    let session = crate::service::sessions::get_hosted(svc, id)
        .await?
        .ok_or_else(ServiceError::checkout_not_found)?;
    Ok(match session.status {
        SessionStatus::Complete => Err(NextAction::AlreadyPaid {
            success_url: crate::domain::redirect::fill_session_id(
                &session.success_url,
                session.id.as_str(),
            ),
        }),
        SessionStatus::Expired => Err(NextAction::Expired),
        SessionStatus::Open => Ok(session),
    })
}

/// Pays `id` from the mini program: its `wx.login` code becomes the shopper's openid for the
/// configured mini program, and the answer is `wx.requestPayment`'s parameters.
///
/// # Errors
/// 404 for an unknown session, a conflict when no mini program is configured, a refusal when
/// WeChat refuses the code, 502 when the order cannot be placed.
pub async fn mini_program(
    svc: &Services,
    id: &SessionId,
    code: &str,
    ip: IpAddr,
) -> Result<NextAction, ServiceError> {
    let session = match payable(svc, id).await? {
        Ok(session) => session,
        Err(over) => return Ok(over),
    };
    let (Some(mp), Some(appid)) = (
        svc.wechat().and_then(|w| w.miniprogram.as_ref()),
        svc.providers().miniprogram_appid(),
    ) else {
        return Err(ServiceError::Conflict {
            code: codes::MINIPROGRAM_NOT_CONFIGURED,
            message: "No mini program is configured on this server.".into(),
        });
    };
    let login = mp.jscode2session(code).await.map_err(|e| {
        tracing::warn!(error = %e, "jscode2session failed");
        ServiceError::Refused {
            code: codes::MINIPROGRAM_LOGIN_FAILED,
            message: "The mini program login code was refused; call wx.login again.".into(),
        }
    })?;
    let extras = Extras {
        environment: Some(Environment::WechatMiniProgram),
        ..Extras::default()
    };
    start_attempt(
        svc,
        &session,
        Channel::MiniProgram,
        appid.to_owned(),
        Some(login.openid),
        ip,
        extras,
    )
    .await
}

fn oauth_redirect(
    svc: &Services,
    wechat: &WechatClients,
    session: &CheckoutSession,
    browser: &str,
) -> NextAction {
    let token = oauth_state::issue(svc.secret_key(), session.id.as_str(), browser, now_millis());
    let callback = svc.urls().oauth_callback();
    NextAction::Oauth {
        url: wechat.oauth.authorize_url(&callback, &token),
    }
}

/// Creates an attempt for `channel` (or reuses a live one) and asks the provider for the trade.
///
/// # Errors
/// 502 when the provider refuses, 500 on a database error.
pub async fn start(
    svc: &Services,
    session: &CheckoutSession,
    channel: Channel,
    appid: String,
    openid: Option<String>,
    ip: IpAddr,
) -> Result<NextAction, ServiceError> {
    start_attempt(svc, session, channel, appid, openid, ip, Extras::default()).await
}

/// What a caller of [`start_attempt`] may add: the session's attempts when it has just read
/// them (spares reading them again), an event recorded with the new attempt's `pending`
/// mark, in its transaction, and where the shopper is (kept with the attempt for the
/// dashboard's funnel).
#[derive(Debug, Default)]
pub struct Extras {
    pub environment: Option<Environment>,
    pub attempts: Option<Vec<Payment>>,
    /// The event's type, object id, and object with `payment` to be filled in.
    pub on_pending: Option<(crate::store::events::EventType, String, serde_json::Value)>,
}

/// [`start`] with what the caller adds ([`Extras`]).
///
/// # Errors
/// As [`start`].
pub async fn start_attempt(
    svc: &Services,
    session: &CheckoutSession,
    channel: Channel,
    appid: String,
    openid: Option<String>,
    ip: IpAddr,
    extras: Extras,
) -> Result<NextAction, ServiceError> {
    let method = channel.method();
    let provider = provider(svc, method)?;
    let now = now_millis();
    let attempts = match extras.attempts {
        Some(attempts) => attempts,
        None => svc.store().payments_of_session(&session.id).await?,
    };
    for p in attempts {
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
            return refresh_jsapi(svc, action, &appid);
        }
    }
    let lifetime = if matches!(channel, Channel::H5) {
        H5_LIFETIME_MS
    } else {
        PREPAY_LIFETIME_MS
    };
    let id = PaymentId::generate();
    let payment = Payment {
        out_trade_no: out_trade_no(&id),
        id,
        session_id: session.id.clone(),
        method,
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
        environment: extras.environment.map(crate::domain::environment::of),
    };
    // Durable before the provider hears of it: a crash after this point is found by the
    // reconciler.
    svc.store().insert_payment(&payment).await?;
    svc.recent_terms()
        .remember(&payment.out_trade_no, super::terms::Terms::of(&payment));
    let notify_url = svc.urls().notify(method);
    // A payment intent's shopper goes back to the merchant's own page; a hosted session's to
    // the checkout page, which then shows the outcome.
    let return_url = match session.flow {
        Flow::Direct if !session.success_url.is_empty() => session.success_url.clone(),
        _ => svc.urls().cashier_return(session.id.as_str(), method),
    };
    let order = OrderRequest {
        channel,
        out_trade_no: &payment.out_trade_no,
        description: &session.description,
        amount: payment.amount,
        expires_at: session.expires_at / 1000,
        notify_url: &notify_url,
        return_url: &return_url,
        appid: &payment.appid,
        openid: payment.openid.as_deref(),
        client_ip: ip,
        goods: &session.extras.line_items,
    };
    let action = match provider.create(&order).await {
        Ok(OrderCreated::Qr { code_url }) => Ok(NextAction::Qr {
            payment: payment.id.to_string(),
            code_url,
            expires_at: payment.expires_at / 1000,
        }),
        Ok(OrderCreated::Redirect { url }) => Ok(NextAction::Redirect {
            payment: payment.id.to_string(),
            url,
        }),
        Ok(OrderCreated::AppOrder { order_string }) => Ok(NextAction::AppPay {
            payment: payment.id.to_string(),
            order_string,
        }),
        Ok(OrderCreated::Prepay { prepay_id }) => {
            let params = clients(svc)?
                .jsapi_params(&payment.appid, &prepay_id)
                .map_err(|e| provider_error(method, &e))?;
            Ok(NextAction::Jsapi {
                payment: payment.id.to_string(),
                params,
            })
        }
        Err(e) => Err(e),
    };
    match action {
        Ok(action) => {
            let stored = stored_action(&action);
            let event = extras.on_pending.map(|(kind, object_id, mut object)| {
                object["payment"] = serde_json::Value::String(payment.id.to_string());
                (kind, object_id, object)
            });
            let with_event = event.is_some();
            let marked = svc
                .store()
                .mark_payment_pending(&payment.id, &stored, now_millis(), event)
                .await?;
            if marked && with_event {
                svc.signals().outbox_changed();
            }
            // Only when the provider took far longer than any call may (see
            // `complete::CREATED_GRACE_MS`): the reconciler has closed the attempt meanwhile,
            // and its action must not be handed out.
            if !marked {
                return Err(provider_error(
                    method,
                    &"the attempt was resolved while its order was being created",
                ));
            }
            tracing::info!(payment = %payment.id, channel = channel.as_str(), "payment attempt created at the provider");
            Ok(action)
        }
        Err(e) => {
            // A refusal (the appid not bound to the mchid, say) fails the attempt with the
            // provider's code and message, and tells the merchant in `payment.failed`.
            if !e.retryable() && !matches!(e, ProviderError::NotFound) {
                complete::end(svc, &payment.id, PaymentStatus::Failed, &e.to_string()).await?;
            }
            Err(provider_error(method, &e))
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

/// The next action of `p`, a pending attempt, as it was handed out (JSAPI parameters signed
/// afresh); `None` for an attempt without one.
///
/// # Errors
/// When JSAPI parameters cannot be signed.
pub fn replay(svc: &Services, p: &Payment) -> Result<Option<NextAction>, ServiceError> {
    p.next_action
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .map(|stored| refresh_jsapi(svc, stored, &p.appid))
        .transpose()
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Stored {
    Prepay { payment: String, prepay_id: String },
    Action(NextAction),
}

fn refresh_jsapi(svc: &Services, stored: Stored, appid: &str) -> Result<NextAction, ServiceError> {
    match stored {
        Stored::Prepay { payment, prepay_id } => {
            let params = clients(svc)?
                .jsapi_params(appid, &prepay_id)
                .map_err(|e| provider_error(PaymentMethod::WechatPay, &e))?;
            Ok(NextAction::Jsapi { payment, params })
        }
        Stored::Action(action) => Ok(action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_environment_routes_as_design_section_2_says() {
        use Environment as E;
        use PaymentMethod::{Alipay, WechatPay};
        let cases = [
            (WechatPay, E::Wechat, false, Route::Pay(Channel::Jsapi)),
            (WechatPay, E::WechatMiniProgram, false, Route::MiniProgram),
            (WechatPay, E::Mobile, false, Route::Pay(Channel::H5)),
            (WechatPay, E::Alipay, false, Route::Pay(Channel::Native)),
            (WechatPay, E::Mobile, true, Route::Pay(Channel::Native)),
            (Alipay, E::Wechat, false, Route::OpenInBrowser),
            (Alipay, E::WechatMiniProgram, false, Route::OpenInBrowser),
            (Alipay, E::Alipay, true, Route::Pay(Channel::AlipayWap)),
            (Alipay, E::Mobile, false, Route::Pay(Channel::AlipayWap)),
            (
                Alipay,
                E::WeCom { mobile: true },
                false,
                Route::Pay(Channel::AlipayWap),
            ),
            (Alipay, E::Mobile, true, Route::Pay(Channel::AlipayQr)),
            (Alipay, E::Desktop, false, Route::Pay(Channel::AlipayPage)),
            (
                Alipay,
                E::WeCom { mobile: false },
                false,
                Route::Pay(Channel::AlipayPage),
            ),
            (Alipay, E::Desktop, true, Route::Pay(Channel::AlipayQr)),
            (
                Alipay,
                E::WechatDesktop,
                false,
                Route::Pay(Channel::AlipayQr),
            ),
        ];
        for (method, environment, prefer_qr, want) in cases {
            assert_eq!(
                route_for(method, environment, prefer_qr),
                want,
                "{method:?} in {environment:?}, QR {prefer_qr}"
            );
            if let Route::Pay(channel) = want {
                assert_eq!(channel.method(), method);
                assert_eq!(Channel::parse(channel.as_str()), Some(channel));
            }
        }
    }
}
