//! A checkout session: what the merchant asked to be paid, and where the shopper goes after.

use paybridge_shared::Currency;

use super::ids::SessionId;
use super::{Amount, Invalid, Metadata, Millis, RedirectUrl, SessionStatus};

/// Shortest and longest allowed `expires_in`, in seconds.
pub const EXPIRES_IN_RANGE: std::ops::RangeInclusive<i64> = 300..=86_400;
/// `expires_in` when the merchant does not say.
pub const DEFAULT_EXPIRES_IN: i64 = 1_800;

pub use paybridge_shared::PaymentMethod;

/// The payment method `text` names, for the field `param`.
///
/// # Errors
/// [`Invalid`] when it names none.
pub fn payment_method(param: &str, text: &str) -> Result<PaymentMethod, Invalid> {
    PaymentMethod::from_name(text).ok_or_else(|| {
        Invalid::value(
            param,
            format!("{text:?} is not a payment method; use \"wechat_pay\" or \"alipay\"."),
        )
    })
}

/// Page language: from the shopper's browser (`auto`) or fixed by the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Auto,
    ZhCn,
    En,
}

impl Locale {
    /// The API name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// Parses an API name.
    ///
    /// # Errors
    /// [`Invalid`] naming `locale`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        match text {
            "auto" => Ok(Self::Auto),
            "zh-CN" | "zh" => Ok(Self::ZhCn),
            "en" => Ok(Self::En),
            other => Err(Invalid::value(
                "locale",
                format!("{other:?} is not one of \"auto\", \"zh-CN\", \"en\"."),
            )),
        }
    }
}

/// Who drives a session's payment: the hosted page, or the merchant's own front end through the
/// direct API (a payment intent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A checkout session shown on the hosted page (`checkout` in the database).
    Hosted,
    /// A payment intent confirmed by the merchant (`intent` in the database).
    Direct,
}

impl Flow {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hosted => "checkout",
            Self::Direct => "intent",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Hosted, Self::Direct]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

/// What a session carries beyond its amount and description: the lines being bought, the brand
/// the page wears, and whether an expired session offers recovery. Stored as one JSON value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extras {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<super::line_items::LineItem>,
    #[serde(default, skip_serializing_if = "super::branding::Branding::is_empty")]
    pub branding: super::branding::Branding,
    /// `after_expiration.recovery.enabled`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovery: bool,
}

/// A validated request to open a checkout session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub amount: Amount,
    pub description: String,
    pub merchant_reference: Option<String>,
    /// `None` for a payment intent without a `return_url`.
    pub success_url: Option<RedirectUrl>,
    pub cancel_url: Option<RedirectUrl>,
    pub expires_in: i64,
    pub metadata: Metadata,
    pub payment_methods: Vec<PaymentMethod>,
    pub locale: Locale,
    pub flow: Flow,
    pub extras: Extras,
    /// The payment link that opened it (`plink_…`).
    pub payment_link: Option<String>,
}

/// Checks a description: 1–127 characters (WeChat Pay's limit), no control characters.
///
/// # Errors
/// [`Invalid`] naming `description`.
pub fn parse_description(text: &str) -> Result<String, Invalid> {
    super::text::parse_shown_text("description", text, 127)
}

/// Checks a merchant reference: 1–64 printable ASCII characters.
///
/// # Errors
/// [`Invalid`] naming `merchant_reference`.
pub fn parse_reference(text: &str) -> Result<String, Invalid> {
    let ok = !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Invalid::value(
            "merchant_reference",
            "must be 1 to 64 printable ASCII characters.",
        ))
    }
}

/// A stored checkout session.
#[derive(Debug, Clone)]
pub struct CheckoutSession {
    pub id: SessionId,
    pub status: SessionStatus,
    pub amount: i64,
    pub currency: Currency,
    pub description: String,
    pub merchant_reference: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    pub metadata: std::collections::BTreeMap<String, String>,
    pub payment_methods: Vec<PaymentMethod>,
    pub locale: Locale,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub completed_at: Option<Millis>,
    pub expired_at: Option<Millis>,
    pub flow: Flow,
    /// Why the merchant canceled it (`None` for a session that expired on its own).
    pub cancellation_reason: Option<String>,
    pub extras: Extras,
    /// The payment link that opened it (`plink_…`).
    pub payment_link: Option<String>,
}
