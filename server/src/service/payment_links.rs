//! Payment links: a reusable URL (`/l/plink_…`) each visit of which opens a new checkout
//! session from the link's template — a QR code on a café's table tent, a link in a chat.
//! A link can be deactivated, and can stop after a number of completed payments (`max_uses`;
//! payments, not visits, because WeChat's link previews and chat apps open URLs on their own).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::contents::{AfterExpiration, BrandingInput, LineItemInput};
use super::objects::LineItemObject;
use super::sessions::CreateSession;
use super::{ServiceError, Services};
use crate::domain::ids::{PaymentLinkId, SessionId};
use crate::domain::{Invalid, now_millis};
use crate::store::payment_links::PaymentLink;

/// Largest `max_uses`.
pub const MAX_USES: i64 = 1_000_000;

/// A create-payment-link request: what each session it opens holds, and the link's own rules.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentLink {
    /// Minor units (fen) each session charges; or give `line_items`.
    #[schema(minimum = 1, maximum = 100_000_000)]
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub amount: Option<i64>,
    /// `cny`.
    #[schema(pattern = r"^[cC][nN][yY]$")]
    pub currency: String,
    /// As for checkout sessions.
    #[schema(schema_with = crate::domain::text::description_schema)]
    pub description: String,
    #[schema(min_items = 1, max_items = 100)]
    pub line_items: Option<Vec<LineItemInput>>,
    pub branding: Option<BrandingInput>,
    /// `wechat_pay` and/or `alipay` (default `["wechat_pay"]`).
    #[schema(schema_with = super::sessions::payment_methods_schema)]
    pub payment_methods: Option<Vec<String>>,
    /// As for checkout sessions (`{CHECKOUT_SESSION_ID}` names each session).
    #[schema(schema_with = crate::domain::redirect::success_url_schema)]
    pub success_url: String,
    #[schema(schema_with = crate::domain::redirect::url_schema)]
    pub cancel_url: String,
    /// `auto`, `zh-CN` or `en`.
    #[schema(pattern = r"^(auto|zh-CN|zh|en)$")]
    pub locale: Option<String>,
    /// Copied onto each session.
    #[schema(schema_with = super::sessions::metadata_schema)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Seconds each session stays open (300–86400, default 1800).
    #[schema(minimum = 300, maximum = 86_400)]
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub expires_in: Option<i64>,
    pub after_expiration: Option<AfterExpiration>,
    /// Default `true`.
    pub active: Option<bool>,
    /// Completed payments after which the link stops opening sessions (1–1000000; none: no
    /// limit).
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub max_uses: Option<i64>,
}

/// `POST /v1/payment_links/{id}`: what may change.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePaymentLink {
    /// `false` stops the link opening sessions (its page then says so); `true` reopens it.
    pub active: Option<bool>,
    /// A new limit (1–1000000).
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub max_uses: Option<i64>,
}

/// `payment_link`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentLinkObject {
    pub id: String,
    #[schema(value_type = String, example = "payment_link")]
    pub object: &'static str,
    pub livemode: bool,
    /// The reusable URL: each visit opens a new checkout session.
    pub url: String,
    pub active: bool,
    pub max_uses: Option<i64>,
    /// Sessions opened by the link that have been paid.
    pub completed_sessions: i64,
    pub amount: Option<i64>,
    pub currency: String,
    pub description: String,
    pub line_items: Vec<LineItemObject>,
    pub branding: Option<crate::domain::branding::Branding>,
    pub payment_methods: Vec<String>,
    pub success_url: String,
    pub cancel_url: String,
    pub metadata: BTreeMap<String, String>,
    /// The link's QR code for printing: `svg` and `png`.
    pub qr_code: QrCodeLinks,
    pub created: i64,
}

/// Where a link's QR code can be downloaded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QrCodeLinks {
    pub svg: String,
    pub png: String,
}

impl CreatePaymentLink {
    /// The session request each visit runs.
    fn template(&self) -> CreateSession {
        CreateSession {
            amount: self.amount,
            line_items: self.line_items.clone(),
            branding: self.branding.clone(),
            after_expiration: self.after_expiration.clone(),
            currency: self.currency.clone(),
            description: self.description.clone(),
            merchant_reference: None,
            success_url: self.success_url.clone(),
            cancel_url: self.cancel_url.clone(),
            expires_in: self.expires_in,
            metadata: self.metadata.clone(),
            payment_methods: self.payment_methods.clone(),
            locale: self.locale.clone(),
        }
    }
}

fn parse_id(raw: &str) -> Result<PaymentLinkId, ServiceError> {
    PaymentLinkId::parse(raw).ok_or_else(|| not_found(raw))
}

fn not_found(raw: &str) -> ServiceError {
    ServiceError::NotFound {
        code: paybridge_shared::codes::RESOURCE_MISSING,
        message: format!("No such payment link: {raw:?}."),
    }
}

fn max_uses(given: Option<i64>) -> Result<Option<i64>, Invalid> {
    match given {
        Some(n) if !(1..=MAX_USES).contains(&n) => Err(Invalid::value(
            "max_uses",
            format!("must be between 1 and {MAX_USES}."),
        )),
        other => Ok(other),
    }
}

/// The API form of `link`.
///
/// # Errors
/// On a database error, or a template that no longer parses.
pub async fn object(svc: &Services, link: &PaymentLink) -> Result<PaymentLinkObject, ServiceError> {
    let completed = svc.store().completed_through_link(&link.id).await?;
    object_with(svc, link, completed)
}

/// [`object`] with the link's completed sessions counted already.
fn object_with(
    svc: &Services,
    link: &PaymentLink,
    completed_sessions: i64,
) -> Result<PaymentLinkObject, ServiceError> {
    let template: CreateSession = serde_json::from_str(&link.template)
        .map_err(|e| ServiceError::internal(format!("payment link template: {e}")))?;
    // Read back as stored: today's limits and allowed origins are for opening sessions.
    let new = template.clone().validate(i64::MAX, &[])?;
    let url = svc.urls().payment_link(link.id.as_str());
    Ok(PaymentLinkObject {
        id: link.id.to_string(),
        object: "payment_link",
        livemode: svc.livemode(),
        qr_code: QrCodeLinks {
            svg: format!("{url}/qr.svg"),
            png: format!("{url}/qr.png"),
        },
        url,
        active: link.active,
        max_uses: link.max_uses,
        completed_sessions,
        amount: Some(new.amount.minor()),
        currency: new.amount.currency().code().to_ascii_lowercase(),
        description: new.description,
        line_items: LineItemObject::all(&new.extras.line_items),
        branding: (!new.extras.branding.is_empty()).then_some(new.extras.branding),
        payment_methods: new
            .payment_methods
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect(),
        success_url: template.success_url,
        cancel_url: template.cancel_url,
        metadata: new.metadata.as_map().clone(),
        created: link.created_at / 1000,
    })
}

/// Creates a link after checking its template as a session would be checked.
///
/// # Errors
/// [`ServiceError::Invalid`] naming the field; a database error.
pub async fn create(
    svc: &Services,
    req: CreatePaymentLink,
) -> Result<PaymentLinkObject, ServiceError> {
    let rules = svc.rules();
    let template = req.template();
    template
        .clone()
        .validate(rules.max_amount, &rules.redirect_origins)?;
    let link = PaymentLink {
        id: PaymentLinkId::generate(),
        template: serde_json::to_string(&template)
            .map_err(|e| ServiceError::internal(e.to_string()))?,
        active: req.active.unwrap_or(true),
        max_uses: max_uses(req.max_uses)?,
        created_at: now_millis(),
    };
    svc.store().insert_payment_link(&link).await?;
    tracing::info!(link = %link.id, "payment link created");
    object(svc, &link).await
}

/// One link.
///
/// # Errors
/// Not found; a database error.
pub async fn get(svc: &Services, raw_id: &str) -> Result<PaymentLinkObject, ServiceError> {
    object(svc, &find(svc, raw_id).await?).await
}

/// The stored link `raw_id` names.
///
/// # Errors
/// Not found; a database error.
pub async fn find(svc: &Services, raw_id: &str) -> Result<PaymentLink, ServiceError> {
    let id = parse_id(raw_id)?;
    svc.store()
        .payment_link(&id)
        .await?
        .ok_or_else(|| not_found(raw_id))
}

/// Links, newest first.
///
/// # Errors
/// A database error.
pub async fn list(
    svc: &Services,
    starting_after: Option<&PaymentLinkId>,
    limit: i64,
) -> Result<Vec<PaymentLinkObject>, ServiceError> {
    let links = svc.store().payment_links(starting_after, limit).await?;
    let ids: Vec<&PaymentLinkId> = links.iter().map(|l| &l.id).collect();
    let completed = svc.store().completed_through_links(&ids).await?;
    links
        .iter()
        .map(|l| object_with(svc, l, completed.get(l.id.as_str()).copied().unwrap_or(0)))
        .collect()
}

/// Activates or deactivates a link, or changes its limit.
///
/// # Errors
/// Not found; [`ServiceError::Invalid`] for a bad limit; a database error.
pub async fn update(
    svc: &Services,
    raw_id: &str,
    req: UpdatePaymentLink,
) -> Result<PaymentLinkObject, ServiceError> {
    let current = find(svc, raw_id).await?;
    let id = current.id.clone();
    let limit = match req.max_uses {
        Some(n) => max_uses(Some(n))?,
        None => current.max_uses,
    };
    let link = svc
        .store()
        .update_payment_link(&id, req.active.unwrap_or(current.active), limit)
        .await?
        .ok_or_else(|| not_found(raw_id))?;
    tracing::info!(link = %link.id, active = link.active, "payment link updated");
    object(svc, &link).await
}

/// What a visit to a link leads to.
pub enum Visit {
    /// A new session to send the shopper to.
    Session(SessionId),
    /// The link was deactivated, or has been paid `max_uses` times.
    Closed,
    /// No such link.
    Unknown,
}

/// A shopper opens the link: a new session from its template, if it is still open.
///
/// # Errors
/// A database error, or a template the server's rules no longer accept (a changed
/// `PAYBRIDGE_MAX_AMOUNT` or `PAYBRIDGE_REDIRECT_ORIGINS`).
pub async fn visit(svc: &Services, raw_id: &str) -> Result<Visit, ServiceError> {
    let Some(id) = PaymentLinkId::parse(raw_id) else {
        return Ok(Visit::Unknown);
    };
    let Some(link) = svc.store().payment_link(&id).await? else {
        return Ok(Visit::Unknown);
    };
    if !link.active {
        return Ok(Visit::Closed);
    }
    if let Some(limit) = link.max_uses
        && svc.store().completed_through_link(&id).await? >= limit
    {
        return Ok(Visit::Closed);
    }
    let template: CreateSession = serde_json::from_str(&link.template)
        .map_err(|e| ServiceError::internal(format!("payment link template: {e}")))?;
    let rules = svc.rules();
    let mut new = template.validate(rules.max_amount, &rules.redirect_origins)?;
    new.payment_link = Some(id.to_string());
    let session = svc.store().insert_session(&new, now_millis()).await?;
    tracing::info!(link = %id, session = %session.id, "payment link opened a session");
    Ok(Visit::Session(session.id))
}
