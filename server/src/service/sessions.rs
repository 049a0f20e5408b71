//! The checkout service: session lifecycle with its events, independent of HTTP so the hosted
//! page, the merchant API and background jobs share one implementation.

use std::collections::BTreeMap;

use super::contents::{self, AfterExpiration, BrandingInput, LineItemInput};
use super::{Changed, ServiceError, Services};
use crate::domain::ids::SessionId;
use crate::domain::session::{
    DEFAULT_EXPIRES_IN, EXPIRES_IN_RANGE, Extras, Flow, Locale, parse_description, parse_reference,
};
use crate::domain::{
    CheckoutSession, Invalid, Metadata, NewSession, PaymentMethod, RedirectUrl, SessionStatus,
    now_millis,
};
use crate::service::objects::SessionObject;
use crate::store::events::{self, EventType};
use crate::store::sessions;

/// A create-session request as the merchant sent it (the wire form; a payment link stores one
/// and runs it on each visit).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// Minor units (fen), at most `PAYBRIDGE_MAX_AMOUNT` (100000000 by default). Give either
    /// `amount` or `line_items` (then their sum is charged; an `amount` given too must equal it).
    #[schema(minimum = 1, maximum = 100_000_000)]
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub amount: Option<i64>,
    /// What is being bought (1–100 lines): listed on the page and sent to WeChat Pay
    /// (`detail.goods_detail`) and Alipay (`goods_detail`).
    #[schema(min_items = 1, max_items = 100)]
    pub line_items: Option<Vec<LineItemInput>>,
    /// The page's brand for this session, over the server's (`PAYBRIDGE_BRAND_*`).
    pub branding: Option<BrandingInput>,
    /// `{"recovery": {"enabled": true}}`: an expired session offers a `recovery_url`.
    pub after_expiration: Option<AfterExpiration>,
    /// `cny`.
    #[schema(pattern = r"^[cC][nN][yY]$")]
    pub currency: String,
    /// Shown to the shopper and to WeChat: 1–127 characters, not all spaces, no control or
    /// invisible formatting characters (bidi overrides, zero-width).
    #[schema(schema_with = crate::domain::text::description_schema)]
    pub description: String,
    /// 1–64 printable ASCII characters.
    #[schema(pattern = r"^[\x21-\x7e]{1,64}$")]
    pub merchant_reference: Option<String>,
    /// https (http only for localhost), within `PAYBRIDGE_REDIRECT_ORIGINS` when set;
    /// `{CHECKOUT_SESSION_ID}` in it is replaced with the session's id.
    #[schema(schema_with = crate::domain::redirect::success_url_schema)]
    pub success_url: String,
    /// https (http only for localhost), within `PAYBRIDGE_REDIRECT_ORIGINS` when set.
    #[schema(schema_with = crate::domain::redirect::url_schema)]
    pub cancel_url: String,
    /// Seconds until the session expires (300–86400, default 1800).
    #[schema(minimum = 300, maximum = 86_400)]
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub expires_in: Option<i64>,
    /// At most 20 keys of 1–40 characters; values of at most 500 characters.
    #[schema(schema_with = metadata_schema)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// `wechat_pay` and/or `alipay`, in the order the page offers them (default `["wechat_pay"]`).
    #[schema(schema_with = payment_methods_schema)]
    pub payment_methods: Option<Vec<String>>,
    /// `auto`, `zh-CN` or `en`.
    #[schema(pattern = r"^(auto|zh-CN|zh|en)$")]
    pub locale: Option<String>,
}

pub(super) fn metadata_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let text = |min, max| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(min)
            .max_length(Some(max))
    };
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Object,
            Type::Null,
        ]))
        .max_properties(Some(20))
        .property_names(Some(text(Some(1), 40).build()))
        .additional_properties(Some(text(None, 500)))
        .build()
}

pub(super) fn payment_methods_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["wechat_pay", "alipay"])),
        )
        .min_items(Some(1))
        .build()
}

impl CreateSession {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Invalid`] naming the first field that is wrong.
    pub fn validate(
        self,
        max_amount: i64,
        redirect_origins: &[String],
    ) -> Result<NewSession, Invalid> {
        let currency = crate::domain::amount::parse_currency(&self.currency)?;
        let (amount, line_items) = contents::amount_and_lines(
            self.amount,
            self.line_items.as_deref(),
            currency,
            max_amount,
        )?;
        let description = parse_description(&self.description)?;
        let merchant_reference = self
            .merchant_reference
            .as_deref()
            .map(parse_reference)
            .transpose()?;
        let success_url =
            RedirectUrl::parse_success("success_url", &self.success_url, redirect_origins)?;
        let cancel_url = RedirectUrl::parse("cancel_url", &self.cancel_url, redirect_origins)?;
        let expires_in = expires_in(self.expires_in)?;
        let metadata = Metadata::new(self.metadata.unwrap_or_default())?;
        let payment_methods = payment_methods("payment_methods", self.payment_methods)?;
        let locale = Locale::parse(self.locale.as_deref().unwrap_or("auto"))?;
        let extras = Extras {
            line_items,
            branding: contents::branding(self.branding.as_ref())?,
            recovery: contents::recovery(self.after_expiration.as_ref()),
        };
        Ok(NewSession {
            amount,
            description,
            merchant_reference,
            success_url: Some(success_url),
            cancel_url: Some(cancel_url),
            expires_in,
            metadata,
            payment_methods,
            locale,
            flow: Flow::Hosted,
            extras,
            payment_link: None,
        })
    }
}

/// `expires_in` (seconds), [`DEFAULT_EXPIRES_IN`] when not given.
///
/// # Errors
/// [`Invalid`] outside [`EXPIRES_IN_RANGE`].
pub fn expires_in(given: Option<i64>) -> Result<i64, Invalid> {
    let expires_in = given.unwrap_or(DEFAULT_EXPIRES_IN);
    if EXPIRES_IN_RANGE.contains(&expires_in) {
        Ok(expires_in)
    } else {
        Err(Invalid::value(
            "expires_in",
            format!(
                "must be between {} and {} seconds.",
                EXPIRES_IN_RANGE.start(),
                EXPIRES_IN_RANGE.end()
            ),
        ))
    }
}

/// The payment methods of the list `param` (WeChat Pay when not given), duplicates dropped.
///
/// # Errors
/// [`Invalid`] for an empty list or a name that is not a method.
pub fn payment_methods(
    param: &str,
    given: Option<Vec<String>>,
) -> Result<Vec<PaymentMethod>, Invalid> {
    match given {
        None => Ok(vec![PaymentMethod::WechatPay]),
        Some(list) if list.is_empty() => {
            Err(Invalid::value(param, "must name at least one method."))
        }
        Some(list) => {
            let mut out = Vec::new();
            for (i, m) in list.iter().enumerate() {
                let method = crate::domain::session::payment_method(&format!("{param}[{i}]"), m)?;
                if !out.contains(&method) {
                    out.push(method);
                }
            }
            Ok(out)
        }
    }
}

/// How old the last provider check of a pending attempt may be before a status look asks again.
const STALE_MS: i64 = 3_000;

/// The status the checkout page shows — asking the provider first when the latest attempt is
/// pending and was last checked more than a few seconds ago, so a lost notification never
/// leaves a paid shopper waiting (and may complete the session, or refund a second payment).
///
/// # Errors
/// Not found for an unknown session; a database error.
pub async fn status_asking_provider(
    svc: &Services,
    id: &SessionId,
) -> Result<paybridge_shared::StatusView, ServiceError> {
    use paybridge_shared::CheckoutStatus;
    let mut session = get_hosted(svc, id)
        .await?
        .ok_or_else(ServiceError::checkout_not_found)?;
    let mut latest = svc
        .store()
        .payments_of_session(id)
        .await?
        .into_iter()
        .next();
    if session.status == SessionStatus::Open
        && let Some(p) = &latest
        && matches!(p.status, crate::domain::PaymentStatus::Pending)
        && now_millis() - p.checked_at > STALE_MS
        && super::complete::check(svc, p).await? == super::complete::Applied::Succeeded
    {
        session = get_or_expire(svc, id)
            .await?
            .ok_or_else(ServiceError::checkout_not_found)?;
        latest = svc
            .store()
            .payments_of_session(id)
            .await?
            .into_iter()
            .next();
    }
    Ok(paybridge_shared::StatusView {
        status: match session.status {
            SessionStatus::Open => CheckoutStatus::Open,
            SessionStatus::Complete => CheckoutStatus::Complete,
            SessionStatus::Expired => CheckoutStatus::Expired,
        },
        payment_status: latest.map(|p| crate::domain::status::State::as_str(p.status).to_owned()),
        recovery_url: recovery_url(svc, &session),
        success_url: (session.status == SessionStatus::Complete)
            .then(|| crate::domain::redirect::fill_session_id(&session.success_url, id.as_str())),
    })
}

/// An expired session's recovery URL, when its merchant enabled recovery.
#[must_use]
pub fn recovery_url(svc: &Services, s: &CheckoutSession) -> Option<String> {
    svc.urls().recovery_of(s)
}

/// What a session's recovery URL opens: for an expired session with recovery enabled, a new
/// session with the same contents, made on the first visit and the same one on every later
/// visit; otherwise the session itself (its page says whether it is paid or expired).
///
/// # Errors
/// Not found for an unknown (or direct-API) session; a database error.
pub async fn recover(svc: &Services, id: &SessionId) -> Result<SessionId, ServiceError> {
    let s = get_hosted(svc, id)
        .await?
        .ok_or_else(ServiceError::checkout_not_found)?;
    if s.status != SessionStatus::Expired || !s.extras.recovery {
        return Ok(s.id);
    }
    let copy = NewSession {
        amount: crate::domain::Amount::new(s.amount, s.currency, i64::MAX)?,
        description: s.description.clone(),
        merchant_reference: s.merchant_reference.clone(),
        success_url: RedirectUrl::stored(&s.success_url),
        cancel_url: RedirectUrl::stored(&s.cancel_url),
        expires_in: ((s.expires_at - s.created_at) / 1000)
            .clamp(*EXPIRES_IN_RANGE.start(), *EXPIRES_IN_RANGE.end()),
        metadata: Metadata::new(s.metadata.clone())?,
        payment_methods: s.payment_methods.clone(),
        locale: s.locale,
        flow: Flow::Hosted,
        extras: s.extras.clone(),
        payment_link: s.payment_link.clone(),
    };
    let new = svc.store().insert_recovery(id, &copy, now_millis()).await?;
    tracing::info!(expired = %id, session = %new, "expired session recovered");
    Ok(new)
}

/// Creates a session from what the merchant sent, held to the server's rules.
///
/// # Errors
/// [`ServiceError::Invalid`] naming the field; a database error.
pub async fn create(svc: &Services, req: CreateSession) -> Result<SessionObject, ServiceError> {
    let rules = svc.rules();
    let new = req.validate(rules.max_amount, &rules.redirect_origins)?;
    let session = svc.store().insert_session(&new, now_millis()).await?;
    tracing::info!(session = %session.id, amount = session.amount, "checkout session created");
    // A new session has no payment yet.
    Ok(new_object(svc, &session))
}

/// The session's API object.
#[must_use]
pub fn new_object(svc: &Services, s: &CheckoutSession) -> SessionObject {
    SessionObject::new(s, svc.urls(), svc.livemode())
}

/// The API form of `s` with the payment it leads to.
///
/// # Errors
/// On a database error.
pub async fn object(svc: &Services, s: &CheckoutSession) -> Result<SessionObject, sqlx::Error> {
    let mut all = objects(svc, std::slice::from_ref(s)).await?.into_iter();
    Ok(all.next().unwrap_or_else(|| new_object(svc, s)))
}

/// The API forms of `sessions`, in order, each with the payment it leads to (one query).
///
/// # Errors
/// On a database error.
pub async fn objects(
    svc: &Services,
    sessions: &[CheckoutSession],
) -> Result<Vec<SessionObject>, sqlx::Error> {
    let ids: Vec<&SessionId> = sessions.iter().map(|s| &s.id).collect();
    let summaries = svc.store().payment_summaries(&ids).await?;
    Ok(sessions
        .iter()
        .map(|s| new_object(svc, s).with_payment(summaries.get(s.id.as_str())))
        .collect())
}

/// Reads a session, expiring it first if its time has passed (so no reader ever sees an
/// overdue session as open, whether or not the expiry job has run yet). Expiring asks the
/// provider about the session's open attempts once more, and may complete the session instead.
///
/// # Errors
/// On a database error.
pub async fn get_or_expire(
    svc: &Services,
    id: &SessionId,
) -> Result<Option<CheckoutSession>, sqlx::Error> {
    let session = svc.store().get_session(id).await?;
    match session {
        Some(s) if s.status == SessionStatus::Open && s.expires_at <= now_millis() => {
            Ok(Some(expire(svc, id, true).await?.unwrap_or(s)))
        }
        other => Ok(other),
    }
}

/// A hosted checkout session ([`get_or_expire`]); a payment intent of the direct API is not
/// one (it is paid by the merchant's own front end, never on the hosted page).
///
/// # Errors
/// On a database error.
pub async fn get_hosted(
    svc: &Services,
    id: &SessionId,
) -> Result<Option<CheckoutSession>, sqlx::Error> {
    Ok(get_or_expire(svc, id)
        .await?
        .filter(|s| s.flow == Flow::Hosted))
}

/// Before a session expires on its own, its unfinished attempts are asked about once more: a
/// shopper who paid just before the deadline, whose notification has not arrived yet, gets a
/// completed checkout rather than an automatic refund.
async fn paid_at_the_last_look(svc: &Services, id: &SessionId) -> Result<bool, sqlx::Error> {
    use crate::domain::PaymentStatus;
    use crate::service::complete::{self, Applied};
    for p in svc.store().payments_of_session(id).await? {
        if matches!(p.status, PaymentStatus::Created | PaymentStatus::Pending)
            && complete::check(svc, &p).await? == Applied::Succeeded
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Expires an open session and records `checkout.session.expired`, once. Returns the session
/// as it now is, or `None` if it does not exist. With `only_if_due`, only when overdue.
///
/// # Errors
/// On a database error.
pub async fn expire(
    svc: &Services,
    id: &SessionId,
    only_if_due: bool,
) -> Result<Option<CheckoutSession>, sqlx::Error> {
    end(svc, id, only_if_due, None).await
}

/// Ends an open session: expires it ([`expire`]) or, with a `cancellation_reason`, cancels it
/// for the merchant. A hosted session records `checkout.session.expired`, a payment intent
/// `payment_intent.canceled`.
///
/// # Errors
/// On a database error.
pub async fn end(
    svc: &Services,
    id: &SessionId,
    only_if_due: bool,
    cancellation_reason: Option<&str>,
) -> Result<Option<CheckoutSession>, sqlx::Error> {
    if only_if_due && paid_at_the_last_look(svc, id).await? {
        return svc.store().get_session(id).await;
    }
    // Read before the write: holding SQLite's writer slot and a connection while waiting for
    // another connection can starve the pool (webhook workers hold connections waiting for the
    // slot).
    let summary = svc
        .store()
        .payment_summaries(&[id])
        .await?
        .remove(id.as_str());
    let mut write = svc.write().await?;
    let changed = sessions::expire(
        write.tx(),
        id,
        now_millis(),
        only_if_due,
        cancellation_reason,
    )
    .await?;
    if let Some(s) = &changed {
        match s.flow {
            Flow::Hosted => {
                let object = new_object(svc, s).with_payment(summary.as_ref()).to_value();
                events::emit(write.tx(), EventType::SessionExpired, s.id.as_str(), object).await?;
            }
            Flow::Direct => {
                let object = crate::service::intents::object::event_object(
                    s,
                    summary.as_ref(),
                    svc.livemode(),
                );
                let intent = s.id.same_as::<crate::domain::ids::IntentKind>();
                events::emit(
                    write.tx(),
                    EventType::PaymentIntentCanceled,
                    intent.as_str(),
                    object,
                )
                .await?;
            }
        }
    }
    write
        .commit(Changed {
            events: changed.is_some(),
            session: changed.is_some().then_some(id.as_str()),
        })
        .await?;
    if changed.is_some() {
        // Nobody may pay a checkout the merchant (or the clock) has given up on.
        crate::service::complete::close_open_attempts(
            svc,
            id,
            None,
            "the checkout session expired",
        )
        .await;
        return Ok(changed);
    }
    svc.store().get_session(id).await
}
