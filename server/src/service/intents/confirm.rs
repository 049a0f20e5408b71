//! Confirming an intent: the payment method and terminal type pick the channel (WeChat's Native,
//! H5, JSAPI or mini program; Alipay's page, wap or QR), the attempt is made by the same code
//! as the hosted page's, and the answer carries its one next action. A refusal by the provider
//! leaves the intent waiting for a payment method with the reason in `last_payment_error`.

use std::net::IpAddr;

use super::object::{PaymentIntentObject, next_action};
use super::{ServiceError, Services, find, managed_here, unexpected_state};
use crate::domain::ids::IntentKind;
use crate::domain::{Channel, CheckoutSession, Invalid, PaymentMethod, PaymentStatus};
use crate::service::error::codes;
use crate::store::events::EventType;

/// `payment_method_data`
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodData {
    /// `wechat_pay` or `alipay`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(wechat_pay|alipay)$")]
    pub kind: String,
}

/// `payment_method_options`: the options of the method being confirmed.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodOptions {
    pub wechat_pay: Option<MethodOptions>,
    pub alipay: Option<MethodOptions>,
}

/// How the shopper pays with the method.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodOptions {
    /// WeChat Pay: `WEB` (a QR code, Native), `WAP` (a phone browser, H5), `official_account`
    /// (JSAPI in the WeChat browser, with `openid`), `mini_program` (with `openid` for the
    /// configured mini program). Alipay: `WEB` (desktop cashier), `WAP` (phone cashier), `QR`
    /// (a code drawn by the merchant), `APP` (an order string for the Alipay SDK in your app).
    /// `QR` is also taken for WeChat Pay's Native.
    pub terminal_type: String,
    /// The shopper's IP address; required for `WAP`. The API caller's address otherwise.
    pub client_ip: Option<String>,
    /// The shopper's openid under the official account's or the mini program's appid.
    pub openid: Option<String>,
}

/// `POST /v1/payment_intents/{id}/confirm` (its OpenAPI schema is in `schema.rs`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    pub payment_method_data: PaymentMethodData,
    pub payment_method_options: Option<PaymentMethodOptions>,
}

/// `POST /api/payment_intents/{id}/confirm`: a front end's confirm, with the client secret.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientConfirm {
    pub client_secret: String,
    pub payment_method_data: PaymentMethodData,
    pub payment_method_options: Option<PaymentMethodOptions>,
}

/// What a confirm will do, checked before anything changes.
#[derive(Debug, Clone)]
pub struct Plan {
    channel: Channel,
    appid: String,
    openid: Option<String>,
    ip: IpAddr,
}

/// Checks a confirm against the server's configuration and the intent's methods.
///
/// # Errors
/// [`Invalid`] naming the field; a conflict when the mini program or the method's provider is
/// not configured.
pub fn plan(
    svc: &Services,
    c: &Confirm,
    caller_ip: IpAddr,
    methods: &[PaymentMethod],
) -> Result<Plan, ServiceError> {
    let method = crate::domain::session::payment_method(
        "payment_method_data.type",
        &c.payment_method_data.kind,
    )?;
    if !methods.contains(&method) {
        // The intent's own methods refuse it (a conflict with the intent, not a bad value).
        return Err(ServiceError::Conflict {
            code: codes::PAYMENT_METHOD_NOT_ACCEPTED,
            message: format!(
                "This payment intent does not accept {}; its payment_method_types are fixed at creation.",
                method.as_str()
            ),
        });
    }
    let (mine, other) = match (method, &c.payment_method_options) {
        (_, None) => (None, None),
        (PaymentMethod::WechatPay, Some(o)) => (o.wechat_pay.as_ref(), o.alipay.as_ref()),
        (PaymentMethod::Alipay, Some(o)) => (o.alipay.as_ref(), o.wechat_pay.as_ref()),
    };
    let param = format!("payment_method_options.{}", method.as_str());
    if other.is_some() {
        return Err(Invalid::value(
            "payment_method_options",
            format!("give only the options of {}.", method.as_str()),
        )
        .into());
    }
    let options = mine.ok_or_else(|| Invalid::missing(format!("{param}.terminal_type")))?;
    let channel = channel(method, &options.terminal_type, &param)?;
    let ip = match options.client_ip.as_deref() {
        Some(raw) => raw.parse::<IpAddr>().map_err(|_| {
            Invalid::value(
                format!("{param}.client_ip"),
                format!("{raw:?} is not an IP address."),
            )
        })?,
        None if matches!(channel, Channel::H5 | Channel::AlipayWap) => {
            return Err(Invalid::missing(format!("{param}.client_ip")).into());
        }
        None => caller_ip,
    };
    let needs_openid = matches!(channel, Channel::Jsapi | Channel::MiniProgram);
    let openid = match (options.openid.as_deref(), needs_openid) {
        (Some(o), true) => Some(openid(o, &param)?),
        (None, true) => return Err(Invalid::missing(format!("{param}.openid")).into()),
        (Some(_), false) => {
            return Err(Invalid::value(
                format!("{param}.openid"),
                "is only taken with terminal_type official_account or mini_program.",
            )
            .into());
        }
        (None, false) => None,
    };
    let provider = crate::service::pay::provider(svc, method)?;
    let appid = match channel {
        Channel::MiniProgram => svc
            .providers()
            .miniprogram_appid()
            .ok_or_else(|| ServiceError::Conflict {
                code: codes::MINIPROGRAM_NOT_CONFIGURED,
                message: "No mini program is configured on this server.".into(),
            })?
            .to_owned(),
        Channel::Jsapi | Channel::H5 | Channel::Native => svc
            .wechat()
            .map(|w| w.appid.clone())
            .ok_or_else(|| ServiceError::ProviderUnavailable {
                message: "WeChat Pay is not configured on this server.".into(),
            })?,
        Channel::AlipayPage | Channel::AlipayWap | Channel::AlipayQr | Channel::AlipayApp => {
            provider.merchant_id().to_owned()
        }
    };
    Ok(Plan {
        channel,
        appid,
        openid,
        ip,
    })
}

/// The channel of `terminal_type` for `method`.
fn channel(method: PaymentMethod, terminal_type: &str, param: &str) -> Result<Channel, Invalid> {
    let channel = match (method, terminal_type) {
        (PaymentMethod::WechatPay, "WEB" | "QR") => Channel::Native,
        (PaymentMethod::WechatPay, "WAP") => Channel::H5,
        (PaymentMethod::WechatPay, "official_account") => Channel::Jsapi,
        (PaymentMethod::WechatPay, "mini_program") => Channel::MiniProgram,
        (PaymentMethod::Alipay, "WEB") => Channel::AlipayPage,
        (PaymentMethod::Alipay, "WAP") => Channel::AlipayWap,
        (PaymentMethod::Alipay, "QR") => Channel::AlipayQr,
        (PaymentMethod::Alipay, "APP") => Channel::AlipayApp,
        (PaymentMethod::WechatPay, other) => {
            return Err(Invalid::value(
                format!("{param}.terminal_type"),
                format!(
                    "{other:?} is not one of \"WEB\", \"WAP\", \"QR\", \"official_account\", \"mini_program\"."
                ),
            ));
        }
        (PaymentMethod::Alipay, other) => {
            return Err(Invalid::value(
                format!("{param}.terminal_type"),
                format!("{other:?} is not one of \"WEB\", \"WAP\", \"QR\", \"APP\"."),
            ));
        }
    };
    Ok(channel)
}

/// An openid as WeChat issues them: 1–128 characters of letters, digits, `-` and `_`.
fn openid(raw: &str, param: &str) -> Result<String, Invalid> {
    let ok = (1..=128).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Invalid::value(
            format!("{param}.openid"),
            "is not an openid (1–128 letters, digits, - and _).",
        ))
    }
}

/// Confirms the intent `id` from the merchant's backend.
///
/// # Errors
/// Not found; a conflict when it succeeded or was canceled; [`plan`]'s errors; a provider
/// that cannot be reached (the intent is unchanged and may be confirmed again).
pub async fn confirm(
    svc: &Services,
    id: &str,
    c: &Confirm,
    caller_ip: IpAddr,
) -> Result<PaymentIntentObject, ServiceError> {
    let session = confirmable(svc, id).await?;
    let plan = plan(svc, c, caller_ip, &session.payment_methods)?;
    let mut object = run(svc, &session, plan).await?;
    object.client_secret = Some(super::client_secret(svc, &session.id.same_as()));
    Ok(object)
}

/// Confirms the intent `id` from a front end holding its client secret; the shopper's IP is
/// the request's, whatever the body says.
///
/// # Errors
/// As [`confirm`]; a refusal for a wrong client secret.
pub async fn confirm_with_secret(
    svc: &Services,
    id: &str,
    c: ClientConfirm,
    shopper_ip: IpAddr,
) -> Result<PaymentIntentObject, ServiceError> {
    let refused = || ServiceError::Refused {
        code: codes::CLIENT_SECRET_INVALID,
        message: "The client secret does not belong to this payment intent.".into(),
    };
    let intent = crate::domain::ids::IntentId::parse(id).ok_or_else(refused)?;
    if !super::client_secret_matches(svc, &intent, &c.client_secret) {
        return Err(refused());
    }
    let session = confirmable(svc, id).await?;
    let confirm = Confirm {
        payment_method_data: c.payment_method_data,
        payment_method_options: c.payment_method_options,
    };
    let mut plan = plan(svc, &confirm, shopper_ip, &session.payment_methods)?;
    plan.ip = shopper_ip;
    let mut object = run(svc, &session, plan).await?;
    // A front end sees what it needs to pay, not the merchant's own notes.
    object.metadata.clear();
    object.merchant_reference = None;
    Ok(object)
}

async fn confirmable(svc: &Services, id: &str) -> Result<CheckoutSession, ServiceError> {
    let session = find(svc, id).await?;
    managed_here(&session)?;
    match session.status {
        crate::domain::SessionStatus::Open => Ok(session),
        crate::domain::SessionStatus::Complete => Err(unexpected_state("succeeded", "confirmed")),
        crate::domain::SessionStatus::Expired => Err(unexpected_state("canceled", "confirmed")),
    }
}

/// Makes (or reuses) the attempt of `plan`, closing the intent's other open attempts first so
/// that only the latest confirm can be paid.
///
/// # Errors
/// A provider that cannot be reached; a database error.
pub async fn run(
    svc: &Services,
    session: &CheckoutSession,
    plan: Plan,
) -> Result<PaymentIntentObject, ServiceError> {
    let attempts = close_other_attempts(svc, session, &plan).await?;
    let before: Vec<String> = attempts.iter().map(|p| p.id.to_string()).collect();
    let channel = plan.channel;
    let mut object = PaymentIntentObject::new(session, None, None, svc.livemode());
    object.status = "requires_action";
    // `payment_intent.requires_action` is recorded with the new attempt's pending mark; events
    // carry no signed pay parameters (receivers may log them).
    let event = (
        EventType::PaymentIntentRequiresAction,
        session.id.same_as::<IntentKind>().to_string(),
        object.to_value(),
    );
    let extras = crate::service::pay::Extras {
        attempts: Some(attempts),
        on_pending: Some(event),
        // Confirmed by the merchant's backend or their own page: where the shopper is is not
        // known here.
        environment: None,
    };
    match crate::service::pay::start_attempt(
        svc,
        session,
        channel,
        plan.appid,
        plan.openid,
        plan.ip,
        extras,
    )
    .await
    {
        Ok(action) => {
            object.payment = payment_of(&action);
            object.next_action = next_action(channel, &action);
            Ok(object)
        }
        Err(e @ ServiceError::ProviderFailed { .. }) => {
            // A refusal failed the new attempt: the intent answers with why. Anything else
            // (a provider out of reach) left it as it was: the caller may confirm again.
            let refreshed = svc
                .store()
                .get_session(&session.id)
                .await?
                .unwrap_or_else(|| session.clone());
            let object = super::view(svc, &refreshed).await?;
            // Refused: the latest attempt failed, and it is the one this confirm made.
            let refused = object
                .last_payment_error
                .as_ref()
                .is_some_and(|failed| !before.contains(&failed.payment));
            if refused { Ok(object) } else { Err(e) }
        }
        Err(e) => Err(e),
    }
}

fn payment_of(action: &paybridge_shared::NextAction) -> Option<String> {
    use paybridge_shared::NextAction as A;
    match action {
        A::Jsapi { payment, .. }
        | A::Redirect { payment, .. }
        | A::Qr { payment, .. }
        | A::AppPay { payment, .. } => Some(payment.clone()),
        _ => None,
    }
}

/// Closes the session's open attempts that `plan` would not reuse; answers the attempts as
/// they stand after (a closed one as canceled).
async fn close_other_attempts(
    svc: &Services,
    session: &CheckoutSession,
    plan: &Plan,
) -> Result<Vec<crate::domain::Payment>, ServiceError> {
    let mut attempts = svc.store().payments_of_session(&session.id).await?;
    for p in &mut attempts {
        let open = matches!(p.status, PaymentStatus::Created | PaymentStatus::Pending);
        let same = p.channel == plan.channel && p.appid == plan.appid && p.openid == plan.openid;
        if open
            && !same
            && let Some(provider) = svc.provider(p.channel.method())
            && crate::service::complete::close_at_provider(
                svc,
                provider,
                p,
                "replaced by a new confirmation",
            )
            .await?
                == crate::service::complete::Applied::Ended
        {
            p.status = PaymentStatus::Canceled;
        }
    }
    Ok(attempts)
}
