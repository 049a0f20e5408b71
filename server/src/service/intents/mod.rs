//! Payment intents, the direct API: a merchant that already knows its shopper (a mini program
//! with the openid, an app, its own page) creates an intent and confirms it with the terminal
//! type, and gets back the one next action its front end performs. An intent is the same record
//! as a checkout session (`pi_…` and `cs_…` share the random part) and pays through the same
//! code: attempts, completion exactly once, expiry, reconciliation and refunds of a second
//! payment are the sessions' own.

pub mod confirm;
pub mod object;
mod schema;

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use self::object::{PaymentIntentObject, event_object};
use super::error::codes;
use super::{ServiceError, Services};
use crate::domain::ids::{IntentId, IntentKind, SessionId, SessionKind};
use crate::domain::session::{Flow, Locale, parse_description, parse_reference};
use crate::domain::{CheckoutSession, Metadata, NewSession, RedirectUrl, now_millis};

/// A create-intent request as the merchant sent it (its OpenAPI schema is in `schema.rs`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateIntent {
    /// Minor units (fen), at most `PAYBRIDGE_MAX_AMOUNT` (100000000 by default).
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub amount: Option<i64>,
    /// What is being bought (sent to the provider as goods details); see checkout sessions.
    pub line_items: Option<Vec<crate::service::contents::LineItemInput>>,
    /// `cny`.
    pub currency: String,
    /// Shown to the shopper and to the provider: 1–127 characters, no control or invisible
    /// formatting characters.
    pub description: String,
    /// 1–64 printable ASCII characters.
    pub merchant_reference: Option<String>,
    /// At most 20 keys of 1–40 characters; values of at most 500 characters.
    pub metadata: Option<BTreeMap<String, String>>,
    /// `wechat_pay` and/or `alipay` (default `["wechat_pay"]`).
    pub payment_method_types: Option<Vec<String>>,
    /// Seconds until the intent is canceled unpaid (300–86400, default 1800).
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub expires_in: Option<i64>,
    /// Where a cashier (WeChat H5, Alipay page/wap) sends the shopper back: https (http only
    /// for localhost), within `PAYBRIDGE_REDIRECT_ORIGINS` when set.
    pub return_url: Option<String>,
    /// Confirm at once with the fields below.
    pub confirm: Option<bool>,
    /// With `confirm: true`: see `POST /v1/payment_intents/{id}/confirm`.
    pub payment_method_data: Option<confirm::PaymentMethodData>,
    /// With `confirm: true`: see `POST /v1/payment_intents/{id}/confirm`.
    pub payment_method_options: Option<confirm::PaymentMethodOptions>,
}

impl CreateIntent {
    /// Checks every field but the confirm ones.
    fn validate(
        &self,
        max_amount: i64,
        redirect_origins: &[String],
    ) -> Result<NewSession, crate::domain::Invalid> {
        let currency = crate::domain::amount::parse_currency(&self.currency)?;
        let (amount, line_items) = crate::service::contents::amount_and_lines(
            self.amount,
            self.line_items.as_deref(),
            currency,
            max_amount,
        )?;
        let return_url = self
            .return_url
            .as_deref()
            .map(|u| RedirectUrl::parse("return_url", u, redirect_origins))
            .transpose()?;
        Ok(NewSession {
            amount,
            description: parse_description(&self.description)?,
            merchant_reference: self
                .merchant_reference
                .as_deref()
                .map(parse_reference)
                .transpose()?,
            success_url: return_url.clone(),
            cancel_url: return_url,
            expires_in: super::sessions::expires_in(self.expires_in)?,
            metadata: Metadata::new(self.metadata.clone().unwrap_or_default())?,
            payment_methods: super::sessions::payment_methods(
                "payment_method_types",
                self.payment_method_types.clone(),
            )?,
            locale: Locale::Auto,
            flow: Flow::Direct,
            extras: crate::domain::session::Extras {
                line_items,
                ..crate::domain::session::Extras::default()
            },
            payment_link: None,
        })
    }
}

/// Creates an intent (and confirms it when asked); `caller_ip` stands in for a `client_ip` the
/// request does not give.
///
/// # Errors
/// [`ServiceError::Invalid`] naming the field; what [`confirm::confirm`] fails with.
pub async fn create(
    svc: &Services,
    req: CreateIntent,
    caller_ip: std::net::IpAddr,
) -> Result<PaymentIntentObject, ServiceError> {
    let rules = svc.rules();
    let mut new = req.validate(rules.max_amount, &rules.redirect_origins)?;
    let confirmation = match (req.confirm, req.payment_method_data) {
        (Some(true), Some(_)) if req.payment_method_types.is_some() => {
            return Err(crate::domain::Invalid::value(
                "payment_method_types",
                "is left out with `confirm: true`: the intent takes the confirmed method.",
            )
            .into());
        }
        (Some(true), Some(data)) => Some(confirm::Confirm {
            payment_method_data: data,
            payment_method_options: req.payment_method_options,
        }),
        (Some(true), None) => {
            return Err(crate::domain::Invalid::missing("payment_method_data").into());
        }
        _ if req.payment_method_options.is_some() => {
            return Err(crate::domain::Invalid::value(
                "payment_method_options",
                "is only taken with `confirm: true`.",
            )
            .into());
        }
        (_, Some(_)) => {
            return Err(crate::domain::Invalid::value(
                "payment_method_data",
                "is only taken with `confirm: true`.",
            )
            .into());
        }
        _ => None,
    };
    if let Some(c) = &confirmation {
        new.payment_methods = vec![crate::domain::session::payment_method(
            "payment_method_data.type",
            &c.payment_method_data.kind,
        )?];
    }
    // Checked before anything is stored: a confirm that cannot be valid creates nothing.
    let plan = confirmation
        .as_ref()
        .map(|c| confirm::plan(svc, c, caller_ip, &new.payment_methods))
        .transpose()?;
    let session = svc.store().insert_session(&new, now_millis()).await?;
    tracing::info!(intent = %session.id.same_as::<IntentKind>(), amount = session.amount, "payment intent created");
    let mut object = match plan {
        Some(plan) => confirm::run(svc, &session, plan).await?,
        None => view(svc, &session).await?,
    };
    object.client_secret = Some(client_secret(svc, &session.id.same_as()));
    Ok(object)
}

/// The intent `id` as the merchant reads it (with its client secret).
///
/// # Errors
/// Not found for an unknown id; a database error.
pub async fn get(svc: &Services, id: &str) -> Result<PaymentIntentObject, ServiceError> {
    let session = find(svc, id).await?;
    let mut object = view(svc, &session).await?;
    object.client_secret = Some(client_secret(svc, &session.id.same_as()));
    Ok(object)
}

/// Intents newest first (hosted sessions' intents too), after `starting_after`.
///
/// # Errors
/// A database error.
pub async fn list(
    svc: &Services,
    starting_after: Option<&IntentId>,
    limit: i64,
) -> Result<Vec<PaymentIntentObject>, ServiceError> {
    let after = starting_after.map(crate::domain::ids::Id::same_as::<SessionKind>);
    let sessions = svc
        .store()
        .list_sessions(None, after.as_ref(), limit)
        .await?;
    // Two queries for the page, not two per intent.
    let ids: Vec<&SessionId> = sessions.iter().map(|s| &s.id).collect();
    let mut latest = svc.store().latest_payments(&ids).await?;
    let mut summaries = svc.store().payment_summaries(&ids).await?;
    sessions
        .iter()
        .map(|s| {
            let key = s.id.as_str();
            view_of(
                svc,
                s,
                latest.remove(key).as_ref(),
                summaries.remove(key).as_ref(),
            )
        })
        .collect()
}

/// Cancels an intent that has not succeeded: its open attempts are closed at the provider, so
/// none can be paid any more. Canceling a canceled intent answers it as it is.
///
/// # Errors
/// Not found; a conflict once it succeeded; a database error.
pub async fn cancel(
    svc: &Services,
    id: &str,
    reason: Option<&str>,
) -> Result<PaymentIntentObject, ServiceError> {
    let session = find(svc, id).await?;
    managed_here(&session)?;
    if session.status == crate::domain::SessionStatus::Complete {
        return Err(unexpected_state("succeeded", "canceled"));
    }
    let reason = reason.unwrap_or("requested_by_merchant");
    let session = super::sessions::end(svc, &session.id, false, Some(reason))
        .await?
        .unwrap_or(session);
    if session.status == crate::domain::SessionStatus::Complete {
        // Paid at the last moment: the payment stands.
        return Err(unexpected_state("succeeded", "canceled"));
    }
    get(svc, session.id.same_as::<IntentKind>().as_str()).await
}

/// The intent `s` with its latest attempt's next action or failure.
///
/// # Errors
/// A database error; JSAPI parameters that cannot be signed.
pub async fn view(
    svc: &Services,
    s: &CheckoutSession,
) -> Result<PaymentIntentObject, ServiceError> {
    let attempts = svc.store().payments_of_session(&s.id).await?;
    let summary = svc
        .store()
        .payment_summaries(&[&s.id])
        .await?
        .remove(s.id.as_str());
    view_of(svc, s, attempts.first(), summary.as_ref())
}

/// [`view`] from the session's latest attempt and payment summary, read already.
fn view_of(
    svc: &Services,
    s: &CheckoutSession,
    latest: Option<&crate::domain::Payment>,
    summary: Option<&crate::store::payments::PaymentSummary>,
) -> Result<PaymentIntentObject, ServiceError> {
    let mut object = PaymentIntentObject::new(s, latest, summary, svc.livemode());
    if object.status == "requires_action"
        && let Some(p) = latest
        && let Some(action) = super::pay::replay(svc, p)?
    {
        object.next_action = object::next_action(p.channel, &action);
    }
    Ok(object)
}

/// The session behind the intent `id` (read as [`super::sessions::get_or_expire`] does).
async fn find(svc: &Services, id: &str) -> Result<CheckoutSession, ServiceError> {
    let missing = || ServiceError::NotFound {
        code: codes::PAYMENT_INTENT_NOT_FOUND,
        message: format!("No such payment intent: {id:?}."),
    };
    let intent = IntentId::parse(id).ok_or_else(missing)?;
    super::sessions::get_or_expire(svc, &intent.same_as::<SessionKind>())
        .await?
        .ok_or_else(missing)
}

/// Only the direct API's own intents are confirmed and canceled through it; a hosted session's
/// intent is paid on its page.
fn managed_here(s: &CheckoutSession) -> Result<(), ServiceError> {
    match s.flow {
        Flow::Direct => Ok(()),
        Flow::Hosted => Err(ServiceError::Conflict {
            code: codes::PAYMENT_INTENT_MANAGED_BY_CHECKOUT,
            message: format!(
                "This payment intent belongs to checkout session {}; it is paid on its page.",
                s.id
            ),
        }),
    }
}

fn unexpected_state(status: &str, action: &str) -> ServiceError {
    ServiceError::Conflict {
        code: codes::PAYMENT_INTENT_UNEXPECTED_STATE,
        message: format!("This payment intent has status {status}; it cannot be {action}."),
    }
}

/// `pi_…_secret_…`: a MAC of the intent id under the server's secret key, so it is checked
/// without being stored and means nothing for another intent.
#[must_use]
pub fn client_secret(svc: &Services, id: &IntentId) -> String {
    format!("{id}_secret_{}", mac(svc.secret_key(), id))
}

fn mac(key: &str, id: &IntentId) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(b"paybridge payment intent client secret\0");
    mac.update(id.as_str().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Whether `secret` is the client secret of `id` (compared in constant time).
#[must_use]
pub fn client_secret_matches(svc: &Services, id: &IntentId, secret: &str) -> bool {
    client_secret(svc, id)
        .as_bytes()
        .ct_eq(secret.as_bytes())
        .into()
}

/// The session id an intent id names.
#[must_use]
pub fn session_of(id: &IntentId) -> SessionId {
    id.same_as()
}
